#include "mgap/npy.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "mgap/atomic_file.hpp"
#include "mgap/error.hpp"

namespace mgap {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLength = 6;
// NumPy pads the header so that the data starts on a 64-byte boundary (aligned memory mapping).
constexpr std::size_t kHeaderAlignment = 64;

// Cursor over the Python dict literal of a .npy header. NumPy writes it with repr(), so only
// strings, booleans, integers, tuples and (for structured dtypes) lists occur.
class HeaderParser {
 public:
  HeaderParser(std::string text, std::string source)
      : text_(std::move(text)), source_(std::move(source)) {}

  NpyHeader parse(NpyHeader header) {
    bool has_descr = false;
    bool has_order = false;
    bool has_shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') {
        ++position_;
        break;
      }
      const std::string key = parse_string();
      expect(':');
      if (key == "descr") {
        header.descr = parse_descr();
        has_descr = true;
      } else if (key == "fortran_order") {
        header.fortran_order = parse_bool();
        has_order = true;
      } else if (key == "shape") {
        header.shape = parse_shape();
        has_shape = true;
      } else {
        fail(fmt::format("unexpected key '{}'", key));
      }
      skip_space();
      if (peek() == ',') {
        ++position_;
      }
    }
    if (!has_descr || !has_order || !has_shape) {
      fail("the header lacks one of 'descr', 'fortran_order' and 'shape'");
    }
    return header;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(fmt::format("{}: malformed .npy header ({}) in '{}'; re-save the array with "
                                 "numpy.save",
                                 source_, what, text_));
  }

  char peek() const { return position_ < text_.size() ? text_[position_] : '\0'; }

  void skip_space() {
    while (position_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[position_]))) {
      ++position_;
    }
  }

  void expect(char character) {
    skip_space();
    if (peek() != character) {
      fail(fmt::format("expected '{}' at offset {}", character, position_));
    }
    ++position_;
  }

  std::string parse_string() {
    skip_space();
    const char quote = peek();
    if (quote != '\'' && quote != '"') {
      fail(fmt::format("expected a quoted string at offset {}", position_));
    }
    const std::size_t end = text_.find(quote, position_ + 1);
    if (end == std::string::npos) {
      fail("unterminated string");
    }
    std::string value = text_.substr(position_ + 1, end - position_ - 1);
    position_ = end + 1;
    return value;
  }

  // A plain dtype is a string; a structured one is a list of fields, kept as text for the error.
  std::string parse_descr() {
    skip_space();
    if (peek() != '[') {
      return parse_string();
    }
    const std::size_t start = position_;
    int depth = 0;
    do {
      if (peek() == '\0') {
        fail("unterminated structured dtype");
      }
      depth += peek() == '[' ? 1 : (peek() == ']' ? -1 : 0);
      ++position_;
    } while (depth > 0);
    return text_.substr(start, position_ - start);
  }

  bool parse_bool() {
    skip_space();
    if (text_.compare(position_, 4, "True") == 0) {
      position_ += 4;
      return true;
    }
    if (text_.compare(position_, 5, "False") == 0) {
      position_ += 5;
      return false;
    }
    fail("fortran_order is neither True nor False");
  }

  std::vector<std::int64_t> parse_shape() {
    std::vector<std::int64_t> shape;
    expect('(');
    while (true) {
      skip_space();
      if (peek() == ')') {
        ++position_;
        return shape;
      }
      if (!std::isdigit(static_cast<unsigned char>(peek()))) {
        fail(fmt::format("expected a dimension at offset {}", position_));
      }
      std::int64_t value = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        value = value * 10 + (peek() - '0');
        if (value > (std::int64_t{1} << 48)) {
          fail("a dimension is implausibly large");
        }
        ++position_;
      }
      if (peek() == 'L') {  // Python 2 long literal
        ++position_;
      }
      shape.push_back(value);
      skip_space();
      if (peek() == ',') {
        ++position_;
      }
    }
  }

  std::string text_;
  std::string source_;
  std::size_t position_ = 0;
};

std::string read_binary_file(const std::filesystem::path& path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) {
    throw InputError(fmt::format("cannot open '{}'; check that the file exists and is readable",
                                 path.string()));
  }
  return std::string(std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>());
}

std::string describe_dtype(const std::string& descr) {
  if (descr.empty()) {
    return "an empty dtype";
  }
  if (descr.front() == '[') {
    return "a structured dtype";
  }
  const char kind = descr.size() >= 2 ? descr[1] : '?';
  switch (kind) {
    case 'f':
      return descr.substr(2) == "2" ? "float16" : "an unsupported float width";
    case 'i':
    case 'u':
      return "an integer dtype";
    case 'b':
      return "a boolean dtype";
    case 'O':
      return "an object dtype";
    case 'c':
      return "a complex dtype";
    default:
      return "an unsupported dtype";
  }
}

std::string format_shape(const std::vector<std::int64_t>& shape) {
  std::string text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    text += std::to_string(shape[i]) + (shape.size() == 1 || i + 1 < shape.size() ? "," : "");
  }
  return text + ")";
}

// Assembles an unsigned integer of `width` bytes from `bytes` in the given byte order, so the
// result is the same on little- and big-endian hosts.
template <typename UInt>
UInt load_unsigned(const unsigned char* bytes, bool big_endian) {
  UInt value = 0;
  constexpr std::size_t width = sizeof(UInt);
  for (std::size_t k = 0; k < width; ++k) {
    const std::size_t index = big_endian ? k : width - 1 - k;
    value = static_cast<UInt>((value << 8) | bytes[index]);
  }
  return value;
}

double load_value(const unsigned char* bytes, NpyDtype dtype, bool big_endian) {
  if (dtype == NpyDtype::kFloat32) {
    const auto bits = load_unsigned<std::uint32_t>(bytes, big_endian);
    float value = 0.0f;
    std::memcpy(&value, &bits, sizeof(value));
    return static_cast<double>(value);
  }
  const auto bits = load_unsigned<std::uint64_t>(bytes, big_endian);
  double value = 0.0;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

template <typename UInt>
void store_little_endian(std::string& out, UInt value) {
  for (std::size_t k = 0; k < sizeof(UInt); ++k) {
    out.push_back(static_cast<char>((value >> (8 * k)) & 0xFF));
  }
}

std::string make_header(NpyDtype dtype, std::int64_t num_rows, std::int64_t num_cols) {
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}, {}), }}",
                                 dtype == NpyDtype::kFloat32 ? "<f4" : "<f8", num_rows, num_cols);
  const std::size_t preamble = kMagicLength + 2 + 2;  // magic, version, uint16 length
  const std::size_t unpadded = preamble + dict.size() + 1;
  const std::size_t padding = (kHeaderAlignment - unpadded % kHeaderAlignment) % kHeaderAlignment;
  dict.append(padding, ' ');
  dict.push_back('\n');

  std::string header(kMagic, kMagicLength);
  header.push_back(static_cast<char>(1));
  header.push_back(static_cast<char>(0));
  store_little_endian<std::uint16_t>(header, static_cast<std::uint16_t>(dict.size()));
  return header + dict;
}

void check_writable_shape(const std::filesystem::path& path, std::int64_t num_rows,
                          std::int64_t num_cols) {
  if (num_rows < 0 || num_cols < 0) {
    throw InputError(fmt::format("cannot write '{}': negative shape ({}, {})", path.string(),
                                 num_rows, num_cols));
  }
}

}  // namespace

std::string to_string(NpyDtype dtype) {
  return dtype == NpyDtype::kFloat32 ? "float32" : "float64";
}

NpyHeader parse_npy_header(const std::string& bytes, const std::string& source) {
  if (bytes.size() < kMagicLength + 2 || bytes.compare(0, kMagicLength, kMagic) != 0) {
    throw InputError(fmt::format("{}: not a .npy file (the first {} bytes are not \\x93NUMPY); "
                                 "save embeddings with numpy.save",
                                 source, kMagicLength));
  }
  NpyHeader header;
  header.major_version = static_cast<unsigned char>(bytes[kMagicLength]);
  header.minor_version = static_cast<unsigned char>(bytes[kMagicLength + 1]);
  if (header.major_version < 1 || header.major_version > 3) {
    throw InputError(fmt::format("{}: unsupported .npy format version {}.{}; versions 1.0, 2.0 "
                                 "and 3.0 are read",
                                 source, header.major_version, header.minor_version));
  }
  const std::size_t length_bytes = header.major_version == 1 ? 2 : 4;
  const std::size_t preamble = kMagicLength + 2 + length_bytes;
  if (bytes.size() < preamble) {
    throw InputError(fmt::format("{}: truncated .npy file ({} bytes, shorter than its preamble)",
                                 source, bytes.size()));
  }
  const auto* raw = reinterpret_cast<const unsigned char*>(bytes.data()) + kMagicLength + 2;
  const std::size_t header_length =
      length_bytes == 2 ? load_unsigned<std::uint16_t>(raw, false)
                        : load_unsigned<std::uint32_t>(raw, false);
  if (bytes.size() < preamble + header_length) {
    throw InputError(fmt::format("{}: truncated .npy file: the header needs {} bytes, the file "
                                 "has {} after the preamble",
                                 source, header_length, bytes.size() - preamble));
  }
  header.data_offset = preamble + header_length;
  HeaderParser parser(bytes.substr(preamble, header_length), source);
  return parser.parse(header);
}

Eigen::MatrixXd read_npy_matrix(const std::filesystem::path& path) {
  const std::string source = path.string();
  const std::string bytes = read_binary_file(path);
  const NpyHeader header = parse_npy_header(bytes, source);

  const std::string& descr = header.descr;
  const bool supported = descr == "<f4" || descr == ">f4" || descr == "<f8" || descr == ">f8";
  if (!supported) {
    throw InputError(fmt::format("{}: dtype {} ({}) is not supported; convert the array with "
                                 "array.astype(numpy.float32) before saving",
                                 source, descr, describe_dtype(descr)));
  }
  const NpyDtype dtype = descr[2] == '4' ? NpyDtype::kFloat32 : NpyDtype::kFloat64;
  const bool big_endian = descr[0] == '>';
  const std::size_t item_size = dtype == NpyDtype::kFloat32 ? 4 : 8;

  if (header.shape.size() != 2) {
    throw InputError(fmt::format("{}: expected a 2-D array [num_tiles, embedding_dim], got shape "
                                 "{}; reshape it before saving",
                                 source, format_shape(header.shape)));
  }
  const std::int64_t num_rows = header.shape[0];
  const std::int64_t num_cols = header.shape[1];
  const std::size_t actual_bytes = bytes.size() - header.data_offset;
  // Each dimension is below 2^48, so the byte count is formed in double precision first: a shape
  // too large for memory then reads as a mismatch instead of overflowing size_t.
  const double expected_bytes = static_cast<double>(num_rows) * static_cast<double>(num_cols) *
                                static_cast<double>(item_size);
  if (expected_bytes != static_cast<double>(actual_bytes)) {
    throw InputError(fmt::format("{}: {} .npy file: shape {} of {} needs {:.0f} data bytes, the "
                                 "file has {}; re-export it",
                                 source,
                                 static_cast<double>(actual_bytes) < expected_bytes ? "truncated"
                                                                                    : "oversized",
                                 format_shape(header.shape), descr, expected_bytes, actual_bytes));
  }

  Eigen::MatrixXd matrix(num_rows, num_cols);
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data()) + header.data_offset;
  for (std::int64_t row = 0; row < num_rows; ++row) {
    for (std::int64_t col = 0; col < num_cols; ++col) {
      // Fortran order stores column by column, C order row by row.
      const std::int64_t index = header.fortran_order ? col * num_rows + row : row * num_cols + col;
      matrix(row, col) = load_value(data + index * item_size, dtype, big_endian);
    }
  }
  return matrix;
}

void write_npy(const std::filesystem::path& path, const Eigen::MatrixXd& matrix, NpyDtype dtype) {
  check_writable_shape(path, matrix.rows(), matrix.cols());
  std::string out = make_header(dtype, matrix.rows(), matrix.cols());
  const std::size_t item_size = dtype == NpyDtype::kFloat32 ? 4 : 8;
  out.reserve(out.size() + static_cast<std::size_t>(matrix.size()) * item_size);
  for (Eigen::Index row = 0; row < matrix.rows(); ++row) {
    for (Eigen::Index col = 0; col < matrix.cols(); ++col) {
      if (dtype == NpyDtype::kFloat32) {
        const float value = static_cast<float>(matrix(row, col));
        std::uint32_t bits = 0;
        std::memcpy(&bits, &value, sizeof(bits));
        store_little_endian(out, bits);
      } else {
        const double value = matrix(row, col);
        std::uint64_t bits = 0;
        std::memcpy(&bits, &value, sizeof(bits));
        store_little_endian(out, bits);
      }
    }
  }
  write_file_atomically(path, out);
}

void write_npy(const std::filesystem::path& path, const float* row_major_data,
               std::int64_t num_rows, std::int64_t num_cols) {
  check_writable_shape(path, num_rows, num_cols);
  std::string out = make_header(NpyDtype::kFloat32, num_rows, num_cols);
  const std::int64_t count = num_rows * num_cols;
  out.reserve(out.size() + static_cast<std::size_t>(count) * 4);
  for (std::int64_t i = 0; i < count; ++i) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, row_major_data + i, sizeof(bits));
    store_little_endian(out, bits);
  }
  write_file_atomically(path, out);
}

}  // namespace mgap
