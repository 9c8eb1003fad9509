// Internal helpers shared by the operator families: number widening, decimal arithmetic,
// and the string forms mongod uses for numbers and dates. Not a front door.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"
#include "bson/value.h"
#include "query/expr/expression.h"

namespace eddy::query::expr_internal {

// Decimal arithmetic is carried out in long double (64-bit mantissa, ~19 significant digits)
// and rounded to 18 significant digits on the way back: exact for the everyday decimals
// (money, 0.1 + 0.2), not for full 34-digit precision. Decimal inputs are read through their
// string form so no binary double rounding sneaks in first.
long double DecimalToLongDouble(const bson::Decimal128& d);
bson::Decimal128 DecimalFromLongDouble(long double v);
long double ToLongDouble(const bson::Value& v);  // REQUIRES: v.is_number()

// The widest numeric type of two: int32 < int64 < double < decimal.
enum class NumKind { kInt = 0, kLong = 1, kDouble = 2, kDecimal = 3 };
NumKind KindOf(const bson::Value& v);  // REQUIRES: v.is_number()

// int64 as the narrowest of int32/int64 when `narrow` allows int32.
bson::Value IntegralResult(int64_t v, bool allow_int32);

// mongod's Value::coerceToString forms.
std::string FormatDouble(double d);        // shortest round-trip; "NaN", "Infinity"
std::string FormatDate(bson::DateTime d);  // "2021-03-04T05:06:07.089Z"
// Coerces for $concat-like string contexts ($toUpper, $substrCP): null/missing -> "",
// numbers, dates, timestamps, strings and symbols -> text; others: 16007 error.
Result<std::string> CoerceToString(const MaybeValue& v);

// Parses "YYYY-MM-DD[THH:MM[:SS[.mmm]]][Z|+HH:MM|-HH:MM]"; false if malformed.
bool ParseIsoDate(std::string_view s, int64_t* millis);

Status Error(int code, std::string message);

}  // namespace eddy::query::expr_internal
