// Internal: Decimal128 (BID) unpacked into sign/coefficient/exponent, and exact comparisons
// used by compare.cc. Not a front door: only bson/*.cc include it.
#pragma once
#include <cstdint>

#include "bson/value.h"

namespace eddy::bson::detail {

struct DecimalParts {
  enum Kind : uint8_t { kFinite, kInfinity, kNaN };
  Kind kind = kFinite;
  bool negative = false;
  unsigned __int128 coefficient = 0;  // < 10^34 for canonical values; non-canonical -> 0
  int exponent = 0;                   // unbiased power of ten
};

DecimalParts Unpack(const Decimal128& d);
Decimal128 Pack(const DecimalParts& p);  // REQUIRES: coefficient < 10^34, exponent in range

// Exact numeric conversions into parts (int64 exactly; double rounded to 34 significant
// digits, which is what MongoDB does before comparing a double with a decimal).
DecimalParts PartsFromInt64(int64_t v);
DecimalParts PartsFromDouble34(double v);

// <0, 0, >0 by numeric value; NaN == NaN and NaN < everything else; -0 == 0.
int CompareParts(const DecimalParts& a, const DecimalParts& b);

// Removes trailing zeros of the coefficient (so equal values in one cohort look alike).
DecimalParts Normalize(DecimalParts p);

}  // namespace eddy::bson::detail
