#pragma once

// Parsing of comma-separated option values, shared by the library and the programs.

#include <string>
#include <vector>

namespace mgap {

// Splits "a,b,c" into its comma-separated fields, trimming spaces. An empty string gives no fields.
std::vector<std::string> split_list(const std::string& text);

// Parses a comma-separated list of finite doubles; `option` names the flag in the error message.
std::vector<double> parse_double_list(const std::string& text, const std::string& option);

}  // namespace mgap
