#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mgap {

// 64-bit FNV-1a hash of a byte string, as 16 lowercase hexadecimal digits.
//
// Used to record which input (a density, a discrepancy file) produced an output, in provenance
// fields and checkpoints. It detects accidental changes; it is not a cryptographic hash.
std::string fnv1a_hex(std::string_view bytes);

std::uint64_t fnv1a(std::string_view bytes);

}  // namespace mgap
