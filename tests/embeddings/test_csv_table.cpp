#include <doctest/doctest.h>

#include "mgap/csv_table.hpp"
#include "mgap/error.hpp"

TEST_CASE("csv quoted fields and line ends") {
  const std::string text =
      "\xEF\xBB\xBFtile_id,label\r\n"
      "\"a,1\",\"say \"\"hi\"\"\"\r\n"
      "\n"
      "b,\"two\nlines\"\n"
      "c,plain";
  const mgap::CsvTable table = mgap::parse_csv_table(text, "inline.csv");
  REQUIRE(table.header.size() == 2);
  CHECK(table.header[0] == "tile_id");
  REQUIRE(table.rows.size() == 3);
  CHECK(table.rows[0][0] == "a,1");
  CHECK(table.rows[0][1] == "say \"hi\"");
  CHECK(table.rows[1][1] == "two\nlines");
  CHECK(table.rows[2][1] == "plain");
  CHECK(table.line_numbers[0] == 2);
  CHECK(table.line_numbers[1] == 4);
  CHECK(table.line_numbers[2] == 6);
  CHECK(table.column_index("label") == 1);
  CHECK(table.column_index("group") == -1);
}

TEST_CASE("csv escape round trip") {
  for (const std::string field : {"plain", "a,b", "say \"hi\"", "two\nlines"}) {
    const mgap::CsvTable table = mgap::parse_csv_table("x\n" + mgap::csv_escape(field) + "\n", "t");
    REQUIRE(table.rows.size() == 1);
    CHECK(table.rows[0][0] == field);
  }
  CHECK(mgap::csv_escape("plain") == "plain");
}

TEST_CASE("csv rejects ragged rows") {
  CHECK_THROWS_WITH_AS(mgap::parse_csv_table("a,b\n1,2\n3\n", "ragged.csv"),
                       "ragged.csv:3: row has 1 cells, the header has 2; fix the row",
                       mgap::InputError);
  CHECK_THROWS_AS(mgap::parse_csv_table("a\n\"open\n", "open.csv"), mgap::InputError);
  CHECK_THROWS_AS(mgap::parse_csv_table("", "empty.csv"), mgap::InputError);
}
