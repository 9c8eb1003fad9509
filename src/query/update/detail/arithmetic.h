// Numeric arithmetic with mongod's SafeNum rules, for $inc and $mul.
#pragma once
#include <optional>

#include "bson/value.h"

namespace eddy::query::update_detail {

// The sum/product of two numbers (REQUIRES: both is_number()). Result type: decimal if either
// is decimal, else double if either is double, else int64 if either is int64, else int32 when
// the result fits (an int32 overflow widens to int64). nullopt when an int64 result overflows:
// mongod refuses the update then.
std::optional<bson::Value> Add(const bson::Value& a, const bson::Value& b);
std::optional<bson::Value> Multiply(const bson::Value& a, const bson::Value& b);

// Decimal128 arithmetic, rounded half-even to 34 significant digits.
bson::Decimal128 DecimalAdd(const bson::Decimal128& a, const bson::Decimal128& b);
bson::Decimal128 DecimalMultiply(const bson::Decimal128& a, const bson::Decimal128& b);

}  // namespace eddy::query::update_detail
