#include "mgap/benchmark_names.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>

#include "mgap/csv_table.hpp"
#include "mgap/error.hpp"

namespace mgap {
namespace {

constexpr const char* kBracsPrefix = "BRACS_";

std::optional<long long> parse_integer(const std::string& text) {
  long long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

std::vector<std::string> split_underscores(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find('_', start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) {
      return parts;
    }
    start = end + 1;
  }
}

}  // namespace

const std::vector<std::string>& bracs_subtypes() {
  static const std::vector<std::string> subtypes = {"N", "PB", "UDH", "FEA", "ADH", "DCIS", "IC"};
  return subtypes;
}

std::optional<TcgaTileName> parse_tcga_tile_name(const std::string& stem) {
  const auto last = stem.rfind('_');
  if (last == std::string::npos || last == 0) {
    return std::nullopt;
  }
  const auto middle = stem.rfind('_', last - 1);
  if (middle == std::string::npos || middle == 0) {
    return std::nullopt;
  }
  const auto x = parse_integer(stem.substr(middle + 1, last - middle - 1));
  const auto y = parse_integer(stem.substr(last + 1));
  if (!x || !y) {
    return std::nullopt;
  }
  return TcgaTileName{stem.substr(0, middle), *x, *y};
}

std::optional<BracsTileName> parse_bracs_tile_name(const std::string& stem) {
  const std::vector<std::string> parts = split_underscores(stem);
  if (parts.size() != 4 || parts[0] != "BRACS") {
    return std::nullopt;
  }
  if (std::any_of(parts.begin(), parts.end(), [](const std::string& part) { return part.empty(); })) {
    return std::nullopt;
  }
  BracsTileName name;
  name.wsi_id = parts[1];
  name.subtype = parts[2];
  name.index = parts[3];
  const auto& subtypes = bracs_subtypes();
  const auto found = std::find(subtypes.begin(), subtypes.end(), name.subtype);
  if (found != subtypes.end()) {
    name.label_id = static_cast<int>(found - subtypes.begin());
  }
  return name;
}

std::map<std::string, std::string> read_bracs_patient_table(const std::filesystem::path& path) {
  const CsvTable table = read_csv_table(path);
  const int wsi_column = table.column_index("wsi");
  const int patient_column = table.column_index("patient");
  if (wsi_column < 0 || patient_column < 0) {
    throw InputError(fmt::format(
        "{}: the header lacks the wsi or patient column (found: {}); export the slide-to-patient "
        "sheet with columns wsi,patient",
        path.string(), fmt::join(table.header, ",")));
  }
  const std::string prefix = kBracsPrefix;
  std::map<std::string, std::string> patient_of;
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    std::string wsi = table.rows[r][static_cast<std::size_t>(wsi_column)];
    const std::string& patient = table.rows[r][static_cast<std::size_t>(patient_column)];
    const std::size_t line = table.line_numbers[r];
    if (wsi.rfind(prefix, 0) == 0) {
      wsi = wsi.substr(prefix.size());
    }
    if (wsi.empty() || patient.empty()) {
      throw InputError(fmt::format("{}:{}: the wsi or patient cell is empty; fill in both",
                                   path.string(), line));
    }
    const auto [entry, inserted] = patient_of.emplace(wsi, patient);
    if (!inserted && entry->second != patient) {
      throw InputError(fmt::format("{}:{}: slide '{}' is listed with patients '{}' and '{}'; keep "
                                   "one",
                                   path.string(), line, wsi, entry->second, patient));
    }
  }
  return patient_of;
}

}  // namespace mgap
