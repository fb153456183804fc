#pragma once

// Byte-level .npy fixtures for tests: headers and data written by hand, independent of the
// library's writer, so reader and writer are checked against the format itself.

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace mgap::testing {

// Encodes `values` as float32 or float64 bytes in the given byte order.
inline std::string encode_values(const std::vector<double>& values, int item_size,
                                 bool big_endian) {
  std::string bytes;
  for (const double value : values) {
    std::uint64_t bits = 0;
    if (item_size == 4) {
      const float narrow = static_cast<float>(value);
      std::uint32_t bits32 = 0;
      std::memcpy(&bits32, &narrow, 4);
      bits = bits32;
    } else {
      std::memcpy(&bits, &value, 8);
    }
    for (int k = 0; k < item_size; ++k) {
      const int shift = big_endian ? 8 * (item_size - 1 - k) : 8 * k;
      bytes.push_back(static_cast<char>((bits >> shift) & 0xFF));
    }
  }
  return bytes;
}

// A complete .npy file: magic, version, header length in the version's width, dict, data.
inline std::string make_npy_bytes(int major_version, const std::string& dict,
                                  const std::string& data) {
  std::string header = dict;
  const std::size_t length_bytes = major_version == 1 ? 2 : 4;
  const std::size_t unpadded = 8 + length_bytes + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::string bytes = "\x93NUMPY";
  bytes.push_back(static_cast<char>(major_version));
  bytes.push_back('\0');
  for (std::size_t k = 0; k < length_bytes; ++k) {
    bytes.push_back(static_cast<char>((header.size() >> (8 * k)) & 0xFF));
  }
  return bytes + header + data;
}

inline std::string npy_dict(const std::string& descr, bool fortran_order,
                            const std::string& shape) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran_order ? "True" : "False") +
         ", 'shape': " + shape + ", }";
}

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream stream(path, std::ios::binary | std::ios::trunc);
  stream.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A fresh, empty scratch folder under the build tree.
inline std::filesystem::path scratch_folder(const std::string& name) {
  const std::filesystem::path folder =
      std::filesystem::path(MGAP_BINARY_DIR) / "test_scratch" / name;
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  return folder;
}

}  // namespace mgap::testing
