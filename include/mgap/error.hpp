#pragma once

#include <stdexcept>
#include <string>

namespace mgap {

// Invalid input from a caller or a user: a value out of range, a malformed file, an unknown option.
// The message names the offending value and says how to fix it. Programs catch it, print the
// message and exit with status 2. Internal bugs use assert instead, and numerical outcomes such
// as a solver that did not converge are reported in the result, not thrown.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace mgap
