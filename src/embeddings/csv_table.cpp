#include "mgap/csv_table.hpp"

#include <fmt/format.h>

#include "mgap/atomic_file.hpp"
#include "mgap/error.hpp"

namespace mgap {

int CsvTable::column_index(const std::string& name) const {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

CsvTable parse_csv_table(const std::string& text, const std::filesystem::path& source) {
  CsvTable table;
  table.source = source;

  std::vector<std::string> record;
  std::string field;
  bool in_quotes = false;
  bool field_was_quoted = false;
  std::size_t line = 1;
  std::size_t record_line = 1;

  auto finish_record = [&]() {
    record.push_back(field);
    field.clear();
    field_was_quoted = false;
    const bool blank = record.size() == 1 && record.front().empty();
    if (!blank) {
      if (table.header.empty()) {
        table.header = std::move(record);
      } else {
        if (record.size() != table.header.size()) {
          throw InputError(fmt::format("{}:{}: row has {} cells, the header has {}; fix the row",
                                       source.string(), record_line, record.size(),
                                       table.header.size()));
        }
        table.rows.push_back(std::move(record));
        table.line_numbers.push_back(record_line);
      }
    }
    record.clear();
  };

  // Spreadsheet programs often start UTF-8 files with a byte order mark; it is not part of the header.
  const std::size_t start = text.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;
  for (std::size_t i = start; i < text.size(); ++i) {
    const char character = text[i];
    if (in_quotes) {
      if (character == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        line += character == '\n' ? 1 : 0;
        field.push_back(character);
      }
      continue;
    }
    if (character == '"' && field.empty() && !field_was_quoted) {
      in_quotes = true;
      field_was_quoted = true;
    } else if (character == ',') {
      record.push_back(field);
      field.clear();
      field_was_quoted = false;
    } else if (character == '\n') {
      finish_record();
      ++line;
      record_line = line;
    } else if (character != '\r') {
      field.push_back(character);
    }
  }
  if (in_quotes) {
    throw InputError(fmt::format("{}:{}: unterminated quoted field; close the quote",
                                 source.string(), record_line));
  }
  if (!field.empty() || !record.empty()) {
    finish_record();
  }
  if (table.header.empty()) {
    throw InputError(fmt::format("{}: empty CSV file; a header line is required",
                                 source.string()));
  }
  return table;
}

CsvTable read_csv_table(const std::filesystem::path& path) {
  return parse_csv_table(read_text_file(path), path);
}

std::string csv_escape(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) {
    return field;
  }
  std::string quoted = "\"";
  for (const char character : field) {
    if (character == '"') {
      quoted.push_back('"');
    }
    quoted.push_back(character);
  }
  quoted.push_back('"');
  return quoted;
}

}  // namespace mgap
