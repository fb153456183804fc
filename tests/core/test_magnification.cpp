#include <doctest/doctest.h>

#include "mgap/error.hpp"
#include "mgap/magnification.hpp"

using mgap::Coordinate;

TEST_CASE("log2 coordinate of standard mpps") {
  CHECK(mgap::mpp_to_log2(0.25) == -2.0);
  CHECK(mgap::mpp_to_log2(1.0) == 0.0);
  CHECK(mgap::mpp_to_log2(2.0) == 1.0);
  CHECK(mgap::log2_to_mpp(-1.0) == 0.5);
}

TEST_CASE("domain length per coordinate") {
  const mgap::MppDomain domain{0.25, 2.0};
  CHECK(domain.length(Coordinate::kLog2Mpp) == 3.0);
  CHECK(domain.length(Coordinate::kMpp) == 1.75);
}

TEST_CASE("domain validation rejects bad bounds") {
  CHECK_THROWS_AS((mgap::MppDomain{2.0, 0.25}.validate()), mgap::InputError);
  CHECK_THROWS_AS((mgap::MppDomain{0.5, 0.5}.validate()), mgap::InputError);
  CHECK_THROWS_AS((mgap::MppDomain{0.0, 1.0}.validate()), mgap::InputError);
  CHECK_NOTHROW((mgap::MppDomain{0.25, 2.0}.validate()));
}

TEST_CASE("coordinate names round trip") {
  CHECK(mgap::coordinate_from_string("log2_mpp") == Coordinate::kLog2Mpp);
  CHECK(mgap::coordinate_from_string(mgap::to_string(Coordinate::kMpp)) == Coordinate::kMpp);
  CHECK_THROWS_AS(mgap::coordinate_from_string("linear"), mgap::InputError);
}

TEST_CASE("mpp sets and formatting") {
  CHECK(mgap::test_mpps().size() == 7);
  CHECK(mgap::is_standard_mpp(0.5));
  CHECK_FALSE(mgap::is_standard_mpp(0.375));
  CHECK(mgap::format_mpp(1.0) == "1.0");
  CHECK(mgap::format_mpp(0.375) == "0.375");
  CHECK(mgap::format_mpp(2) == "2.0");
}
