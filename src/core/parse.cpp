#include "mgap/parse.hpp"

#include <cmath>
#include <exception>

#include "mgap/error.hpp"

namespace mgap {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> fields;
  std::string current;
  auto flush = [&fields, &current]() {
    const auto first = current.find_first_not_of(" \t");
    const auto last = current.find_last_not_of(" \t");
    fields.push_back(first == std::string::npos ? std::string()
                                                : current.substr(first, last - first + 1));
    current.clear();
  };
  if (text.empty()) {
    return fields;
  }
  for (const char character : text) {
    if (character == ',') {
      flush();
    } else {
      current.push_back(character);
    }
  }
  flush();
  return fields;
}

std::vector<double> parse_double_list(const std::string& text, const std::string& option) {
  std::vector<double> values;
  for (const std::string& field : split_list(text)) {
    std::size_t consumed = 0;
    double value = 0.0;
    try {
      value = std::stod(field, &consumed);
    } catch (const std::exception&) {
      consumed = 0;
    }
    if (field.empty() || consumed != field.size() || !std::isfinite(value)) {
      throw InputError("invalid number '" + field + "' in " + option + " '" + text +
                       "'; give finite numbers separated by commas");
    }
    values.push_back(value);
  }
  return values;
}

}  // namespace mgap
