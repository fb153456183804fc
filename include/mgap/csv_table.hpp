#pragma once

// Small CSV reading and writing (RFC 4180: comma separator, double-quote quoting with "" for a
// quote inside a quoted field, CRLF or LF line ends, UTF-8 passed through). Hand-written because
// no CSV library is packaged for C++ in Debian 12 among mgap's dependencies; the tables mgap reads
// are small (one row per tile).

#include <filesystem>
#include <string>
#include <vector>

namespace mgap {

struct CsvTable {
  std::vector<std::string> header;             // column names of the first line
  std::vector<std::vector<std::string>> rows;  // [num_rows][num_columns] cells, in file order
  std::vector<std::size_t> line_numbers;       // 1-based line of each row, for error messages
  std::filesystem::path source;

  // Index of column `name`, or -1 when the header lacks it.
  int column_index(const std::string& name) const;
};

// Reads a CSV file with a header line. Blank lines are skipped. Throws InputError naming the file
// and line for an unterminated quote or a row whose cell count differs from the header's.
CsvTable read_csv_table(const std::filesystem::path& path);
CsvTable parse_csv_table(const std::string& text, const std::filesystem::path& source);

// Quotes `field` when it contains a comma, a quote or a line break, doubling inner quotes.
std::string csv_escape(const std::string& field);

}  // namespace mgap
