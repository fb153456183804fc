#pragma once

// Reading and writing NumPy .npy files of floating-point matrices.
//
// Layout (as numpy.lib.format writes it): the magic string "\x93NUMPY", a major and a minor
// version byte, then the header length. The length is a uint16 little-endian in version 1.x and a
// uint32 little-endian in 2.x and 3.x. A Python dict literal with 'descr', 'fortran_order' and
// 'shape' follows, then the raw data. The reader accepts versions 1.0, 2.0 and 3.0, dtypes '<f4',
// '<f8', '>f4' and '>f8' (converted to double on any host), and both C (row-major) and Fortran
// (column-major) order. The writer produces version 1.0, little-endian, C order, with the header
// padded to a multiple of 64 bytes as NumPy does.
// Reading costs O(rows * cols) time and one copy of the data plus the file's bytes in memory.

#include <Eigen/Core>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace mgap {

enum class NpyDtype {
  kFloat32,  // '<f4' or '>f4'
  kFloat64,  // '<f8' or '>f8'
};

std::string to_string(NpyDtype dtype);

// The parsed header of a .npy file.
struct NpyHeader {
  int major_version = 0;
  int minor_version = 0;
  std::string descr;                // as stored, for example '<f4'
  bool fortran_order = false;
  std::vector<std::int64_t> shape;  // empty for a 0-d array
  std::size_t data_offset = 0;      // bytes before the first data byte
};

// Parses the header of the .npy bytes in `bytes`. `source` names the file in error messages.
// Throws InputError for a missing magic string, an unsupported version or a malformed header.
NpyHeader parse_npy_header(const std::string& bytes, const std::string& source);

// Reads a 2-D float32 or float64 array as a [rows, cols] matrix of doubles. Throws InputError
// naming the file for other dtypes (float16, integers, object, structured), other ranks, and a
// data section shorter or longer than the header's shape requires (with both byte counts).
Eigen::MatrixXd read_npy_matrix(const std::filesystem::path& path);

// Writes `matrix` [rows, cols] as a 2-D C-order little-endian array of `dtype`, atomically.
void write_npy(const std::filesystem::path& path, const Eigen::MatrixXd& matrix,
               NpyDtype dtype = NpyDtype::kFloat64);

// Writes `num_rows * num_cols` values stored row by row (C order) as a 2-D array, atomically.
// For callers that hold float32 buffers, such as tensors copied off a device.
void write_npy(const std::filesystem::path& path, const float* row_major_data,
               std::int64_t num_rows, std::int64_t num_cols);

}  // namespace mgap
