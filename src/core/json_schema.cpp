#include "mgap/json_schema.hpp"

#include <charconv>

namespace mgap {

namespace {

// Major version of "FAMILY/vMAJOR[.MINOR]" after `prefix`, or -1 when it is not a number.
int major_version(const std::string& schema, const std::string& prefix) {
  const std::string version = schema.substr(prefix.size());
  int major = -1;
  const char* end = version.data() + version.size();
  const auto result = std::from_chars(version.data(), end, major);
  const bool rest_is_minor = result.ptr == end || *result.ptr == '.';
  return result.ec == std::errc() && rest_is_minor ? major : -1;
}

}  // namespace

void check_json_schema(const nlohmann::json& root, const std::string& expected_schema,
                       const std::string& document, const std::string& source) {
  if (!root.is_object() || !root.contains("schema") || !root.at("schema").is_string()) {
    throw InputError(fmt::format("{}: missing string field 'schema'; {} JSON starts with "
                                 "\"schema\": \"{}\"",
                                 source, document, expected_schema));
  }
  const std::string schema = root.at("schema").get<std::string>();
  const std::string prefix = expected_schema.substr(0, expected_schema.rfind("/v") + 2);
  if (schema.rfind(prefix, 0) != 0) {
    throw InputError(fmt::format("{}: schema '{}' is not {} JSON; expected '{}'", source, schema,
                                 document, expected_schema));
  }
  if (major_version(schema, prefix) != major_version(expected_schema, prefix)) {
    throw InputError(fmt::format("{}: unsupported {} schema version '{}'; this mgap reads '{}' "
                                 "only, so upgrade mgap or re-create the file",
                                 source, document, schema, expected_schema));
  }
}

}  // namespace mgap
