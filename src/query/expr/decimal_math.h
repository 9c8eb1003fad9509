// Internal: exact IEEE 754-2008 decimal128 arithmetic for the expression operators, on the
// BID encoding bson::Decimal128 stores. Results are rounded to 34 significant digits with
// round-half-even and keep IEEE's preferred exponents (so 1.5 + 1.50 is 3.00 and 1 / 4 is
// 0.25), matching mongod, which uses Intel's decimal library. Not a front door.
#pragma once
#include <cstdint>

#include "bson/value.h"

namespace eddy::query::expr_internal {

enum class DecRound { kHalfEven, kTowardZero, kCeiling, kFloor };

bson::Decimal128 DecAdd(const bson::Decimal128& a, const bson::Decimal128& b);
bson::Decimal128 DecSub(const bson::Decimal128& a, const bson::Decimal128& b);
bson::Decimal128 DecMul(const bson::Decimal128& a, const bson::Decimal128& b);
bson::Decimal128 DecDiv(const bson::Decimal128& a, const bson::Decimal128& b);
// Remainder with the sign of `a` (fmod); exponent is the smaller of the two.
bson::Decimal128 DecMod(const bson::Decimal128& a, const bson::Decimal128& b);
// IEEE quantize: the value with exponent `exponent`, rounded by `mode`; NaN if the result
// needs more than 34 digits, unless `clamp` is set, in which case the exponent stops where
// the coefficient reaches 34 digits (what mongod's $round/$trunc return for 1.298 at 100
// places: 1.298000000000000000000000000000000).
bson::Decimal128 DecQuantize(const bson::Decimal128& a, int exponent, DecRound mode,
                             bool clamp = false);
// Rounds to an integral value (exponent 0 unless already >= 0).
bson::Decimal128 DecToIntegral(const bson::Decimal128& a, DecRound mode);
bool DecIsZero(const bson::Decimal128& a);
bool DecIsNaN(const bson::Decimal128& a);
bool DecIsInf(const bson::Decimal128& a);
// A double correctly rounded to 34 significant digits (what mongod does before decimal
// arithmetic on a double operand).
bson::Decimal128 DecFromDouble34(double d);
// Converts a numeric value as mongod's Value::coerceToDecimal does: int32/int64 exactly,
// double to 15 significant digits, decimal as is.
bson::Decimal128 DecFromNumber(const bson::Value& v);

}  // namespace eddy::query::expr_internal
