#pragma once

// Field access and schema-version checks shared by mgap's versioned JSON readers (density,
// discrepancy, embeddings manifest). Errors are InputError and name the input and the field.

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>

#include "mgap/error.hpp"

namespace mgap {

// Reads `key` of `object` as T. `source` names the input (a file) and `document` its kind, e.g.
// "density", in the error raised for a missing field or a value of the wrong type.
template <typename T>
T required_json_field(const nlohmann::json& object, const std::string& key,
                      const std::string& source, const std::string& document) {
  if (!object.is_object() || !object.contains(key)) {
    throw InputError(fmt::format("{}: missing field '{}' in the {} JSON", source, key, document));
  }
  try {
    return object.at(key).get<T>();
  } catch (const nlohmann::json::exception& error) {
    throw InputError(
        fmt::format("{}: field '{}' has the wrong type ({})", source, key, error.what()));
  }
}

// Checks that root["schema"] names the same family and major version as `expected_schema`, which
// has the form "mgap.NAME/vMAJOR" (a reader of v1 accepts "v1" and "v1.3", not "v2").
void check_json_schema(const nlohmann::json& root, const std::string& expected_schema,
                       const std::string& document, const std::string& source);

}  // namespace mgap
