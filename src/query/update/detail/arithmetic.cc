#include "query/update/detail/arithmetic.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "query/expr/decimal_math.h"

namespace eddy::query::update_detail {

// Decimal arithmetic is shared with the aggregation expressions (query/expr/decimal_math).
bson::Decimal128 DecimalAdd(const bson::Decimal128& a, const bson::Decimal128& b) {
  return expr_internal::DecAdd(a, b);
}

bson::Decimal128 DecimalMultiply(const bson::Decimal128& a, const bson::Decimal128& b) {
  return expr_internal::DecMul(a, b);
}

namespace {

enum class Rank { kInt32, kInt64, kDouble, kDecimal };

Rank RankOf(const bson::Value& v) {
  if (v.is_decimal()) return Rank::kDecimal;
  if (v.is_double()) return Rank::kDouble;
  if (v.is_int64()) return Rank::kInt64;
  return Rank::kInt32;
}

}  // namespace

std::optional<bson::Value> Add(const bson::Value& a, const bson::Value& b) {
  Rank r = std::max(RankOf(a), RankOf(b));
  switch (r) {
    case Rank::kDecimal:
      return bson::Value(DecimalAdd(a.ToDecimal(), b.ToDecimal()));
    case Rank::kDouble:
      return bson::Value(a.ToDouble() + b.ToDouble());
    case Rank::kInt64: {
      int64_t out;
      if (__builtin_add_overflow(a.ToInt64(), b.ToInt64(), &out)) return std::nullopt;
      return bson::Value(out);
    }
    case Rank::kInt32: {
      int64_t out = int64_t{a.as_int32()} + int64_t{b.as_int32()};
      if (out >= std::numeric_limits<int32_t>::min() &&
          out <= std::numeric_limits<int32_t>::max()) {
        return bson::Value(static_cast<int32_t>(out));
      }
      return bson::Value(out);
    }
  }
  return std::nullopt;
}

std::optional<bson::Value> Multiply(const bson::Value& a, const bson::Value& b) {
  Rank r = std::max(RankOf(a), RankOf(b));
  switch (r) {
    case Rank::kDecimal:
      return bson::Value(DecimalMultiply(a.ToDecimal(), b.ToDecimal()));
    case Rank::kDouble:
      return bson::Value(a.ToDouble() * b.ToDouble());
    case Rank::kInt64: {
      int64_t out;
      if (__builtin_mul_overflow(a.ToInt64(), b.ToInt64(), &out)) return std::nullopt;
      return bson::Value(out);
    }
    case Rank::kInt32: {
      int64_t out = int64_t{a.as_int32()} * int64_t{b.as_int32()};
      if (out >= std::numeric_limits<int32_t>::min() &&
          out <= std::numeric_limits<int32_t>::max()) {
        return bson::Value(static_cast<int32_t>(out));
      }
      return bson::Value(out);
    }
  }
  return std::nullopt;
}

}  // namespace eddy::query::update_detail
