#pragma once

// LibTorch headers pull in glog-style CHECK macros that would replace doctest's assertions, so
// LibTorch comes first, its CHECK macros are removed, and doctest defines its own afterwards.
// Include this header instead of <doctest/doctest.h> in tests that use LibTorch.

#include <torch/script.h>
#include <torch/torch.h>

#undef CHECK
#undef CHECK_EQ
#undef CHECK_NE
#undef CHECK_LT
#undef CHECK_LE
#undef CHECK_GT
#undef CHECK_GE

#include <doctest/doctest.h>
