#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "mgap/error.hpp"
#include "mgap/npy.hpp"
#include "npy_fixtures.hpp"

namespace {

using mgap::testing::encode_values;
using mgap::testing::make_npy_bytes;
using mgap::testing::npy_dict;
using mgap::testing::scratch_folder;
using mgap::testing::write_bytes;

// Values exactly representable in float32, so float32 and float64 files read back identically.
const std::vector<double> kValues = {1.0, -2.5, 3.25, 0.125, 1.75, -7.0};

// The 3x2 matrix [[1, -2.5], [3.25, 0.125], [1.75, -7]] in row order.
Eigen::MatrixXd expected_matrix() {
  Eigen::MatrixXd matrix(3, 2);
  matrix << kValues[0], kValues[1], kValues[2], kValues[3], kValues[4], kValues[5];
  return matrix;
}

std::string error_of(const std::filesystem::path& path) {
  try {
    mgap::read_npy_matrix(path);
  } catch (const mgap::InputError& error) {
    return error.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("npy reads every version and dtype") {
  const auto folder = scratch_folder("npy_versions");
  for (const int version : {1, 2, 3}) {
    for (const std::string descr : {"<f4", "<f8", ">f4", ">f8"}) {
      CAPTURE(version);
      CAPTURE(descr);
      const int item_size = descr[2] == '4' ? 4 : 8;
      const std::string data = encode_values(kValues, item_size, descr[0] == '>');
      const auto path = folder / ("v" + std::to_string(version) + descr.substr(1) +
                                  (descr[0] == '>' ? "be" : "le") + ".npy");
      write_bytes(path, make_npy_bytes(version, npy_dict(descr, false, "(3, 2)"), data));
      const Eigen::MatrixXd matrix = mgap::read_npy_matrix(path);
      CHECK(matrix.rows() == 3);
      CHECK(matrix.cols() == 2);
      CHECK(matrix == expected_matrix());
    }
  }
}

TEST_CASE("npy fortran order 3x2") {
  const auto folder = scratch_folder("npy_fortran");
  // Column order: first column (1, 3.25, 1.75), then second (-2.5, 0.125, -7).
  const std::vector<double> column_order = {kValues[0], kValues[2], kValues[4],
                                            kValues[1], kValues[3], kValues[5]};
  for (const std::string descr : {"<f8", ">f4"}) {
    CAPTURE(descr);
    const int item_size = descr[2] == '4' ? 4 : 8;
    const auto path = folder / ("fortran" + descr.substr(1) + ".npy");
    write_bytes(path, make_npy_bytes(1, npy_dict(descr, true, "(3, 2)"),
                                     encode_values(column_order, item_size, descr[0] == '>')));
    const Eigen::MatrixXd matrix = mgap::read_npy_matrix(path);
    CHECK(matrix(0, 1) == -2.5);
    CHECK(matrix(1, 0) == 3.25);
    CHECK(matrix(2, 1) == -7.0);
    CHECK(matrix == expected_matrix());
  }
}

TEST_CASE("npy rejects unsupported dtypes") {
  const auto folder = scratch_folder("npy_dtypes");
  struct Case {
    std::string descr;
    std::string kind;
  };
  for (const Case& item : {Case{"<f2", "float16"}, Case{"<i8", "integer"}, Case{"|O", "object"},
                           Case{"|b1", "boolean"}, Case{"<c16", "complex"}}) {
    CAPTURE(item.descr);
    const auto path = folder / "bad.npy";
    write_bytes(path, make_npy_bytes(1, npy_dict(item.descr, false, "(3, 2)"),
                                     std::string(48, '\0')));
    const std::string message = error_of(path);
    CHECK(contains(message, path.string()));
    CHECK(contains(message, item.descr));
    CHECK(contains(message, item.kind));
  }

  const auto structured = folder / "structured.npy";
  write_bytes(structured,
              make_npy_bytes(1,
                             "{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, "
                             "'shape': (3,), }",
                             std::string(24, '\0')));
  CHECK(contains(error_of(structured), "structured dtype"));
}

TEST_CASE("npy rejects truncated files") {
  const auto folder = scratch_folder("npy_truncated");
  const std::string full =
      make_npy_bytes(1, npy_dict("<f8", false, "(3, 2)"), encode_values(kValues, 8, false));

  const auto short_data = folder / "short_data.npy";
  write_bytes(short_data, full.substr(0, full.size() - 5));
  const std::string message = error_of(short_data);
  CHECK(contains(message, short_data.string()));
  CHECK(contains(message, "truncated"));
  CHECK(contains(message, "needs 48 data bytes"));
  CHECK(contains(message, "has 43"));

  const auto short_header = folder / "short_header.npy";
  write_bytes(short_header, full.substr(0, 30));
  CHECK(contains(error_of(short_header), "truncated"));

  const auto extra = folder / "extra.npy";
  write_bytes(extra, full + "xyz");
  CHECK(contains(error_of(extra), "oversized"));
}

TEST_CASE("npy rejects bad preambles and ranks") {
  const auto folder = scratch_folder("npy_preamble");
  const std::string data = encode_values(kValues, 8, false);

  const auto not_npy = folder / "not.npy";
  write_bytes(not_npy, "PK\x03\x04 this is a zip archive");
  CHECK(contains(error_of(not_npy), "not a .npy file"));

  const auto version4 = folder / "v4.npy";
  std::string bytes = make_npy_bytes(1, npy_dict("<f8", false, "(3, 2)"), data);
  bytes[6] = 4;
  write_bytes(version4, bytes);
  CHECK(contains(error_of(version4), "version 4.0"));

  const auto one_dim = folder / "one_dim.npy";
  write_bytes(one_dim, make_npy_bytes(1, npy_dict("<f8", false, "(6,)"), data));
  CHECK(contains(error_of(one_dim), "shape (6,)"));

  const auto missing = folder / "missing.npy";
  CHECK(contains(error_of(missing), "cannot open"));
}

TEST_CASE("npy writer round trip") {
  const auto folder = scratch_folder("npy_writer");
  const Eigen::MatrixXd matrix = expected_matrix();
  mgap::write_npy(folder / "f8.npy", matrix, mgap::NpyDtype::kFloat64);
  mgap::write_npy(folder / "f4.npy", matrix, mgap::NpyDtype::kFloat32);
  const std::vector<float> row_major = {1.0f, -2.5f, 3.25f, 0.125f, 1.75f, -7.0f};
  mgap::write_npy(folder / "raw.npy", row_major.data(), 3, 2);

  CHECK(mgap::read_npy_matrix(folder / "f8.npy") == matrix);
  CHECK(mgap::read_npy_matrix(folder / "f4.npy") == matrix);
  CHECK(mgap::read_npy_matrix(folder / "raw.npy") == matrix);

  // The writer's bytes equal the hand-built fixture: same header layout and padding.
  const std::string expected =
      make_npy_bytes(1, npy_dict("<f8", false, "(3, 2)"), encode_values(kValues, 8, false));
  std::ifstream stream(folder / "f8.npy", std::ios::binary);
  const std::string written((std::istreambuf_iterator<char>(stream)),
                            std::istreambuf_iterator<char>());
  CHECK(written == expected);
  CHECK(written.find('\n') + 1 == 128);  // data starts on a 64-byte boundary
}

TEST_CASE("npy reads files written by numpy") {
  const char* python = "/usr/bin/python3";
  if (!std::filesystem::exists(python) ||
      std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
    MESSAGE("skipped: /usr/bin/python3 with numpy is not installed");
    return;
  }
  const auto folder = scratch_folder("npy_numpy");
  const std::string script =
      "import numpy as np, sys\n"
      "from numpy.lib import format as f\n"
      "a = np.array([[1.0, -2.5], [3.25, 0.125], [1.75, -7.0]])\n"
      "d = sys.argv[1]\n"
      "for v in [(1, 0), (2, 0), (3, 0)]:\n"
      "    for t in ['<f4', '>f4', '<f8', '>f8']:\n"
      "        for order in ['C', 'F']:\n"
      "            with open(f'{d}/{v[0]}_{t[0] == \">\"}_{t[2]}_{order}.npy', 'wb') as h:\n"
      "                f.write_array(h, np.asarray(a, dtype=t, order=order), version=v)\n";
  write_bytes(folder / "write.py", script);
  const std::string command =
      std::string(python) + " " + (folder / "write.py").string() + " " + folder.string();
  REQUIRE(std::system(command.c_str()) == 0);
  int num_files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.path().extension() != ".npy") {
      continue;
    }
    CAPTURE(entry.path().string());
    CHECK(mgap::read_npy_matrix(entry.path()) == expected_matrix());
    ++num_files;
  }
  CHECK(num_files == 24);
}
