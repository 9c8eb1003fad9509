// $add $subtract $multiply $divide $mod $abs $ceil $floor $round $trunc $sqrt $pow $exp $ln
// $log10: mongod's widening (int32 -> int64 -> double, decimal absorbs everything) with
// overflow promotion (int32 overflow gives int64, int64 overflow gives double).
#include <cmath>
#include <limits>

#include "query/expr/decimal_math.h"
#include "query/expr/expression.h"
#include "query/expr/value_util.h"

namespace eddy::query::expr_internal {
namespace {

using bson::Value;

std::string TypeName(const MaybeValue& v) { return std::string(TypeNameOf(v)); }

void Register(const std::string& name, int min_args, int max_args, OperatorFn fn) {
  RegisterExpression(name, [name, min_args, max_args, fn](const Value& args,
                                                          const ParseContext& ctx)
                               -> Result<ExpressionPtr> {
    EDDY_ASSIGN_OR_RETURN(auto operands, ParseOperands(name, args, ctx, min_args, max_args));
    return MakeOperator(std::move(operands), fn);
  });
}

bool IsZero(const Value& v) {
  if (v.is_decimal()) return DecIsZero(v.as_decimal());
  return v.ToDouble() == 0;
}

// Sums or multiplies a list of numbers with mongod's widening.
struct Accumulator {
  NumKind kind = NumKind::kInt;
  bool long_overflow = false;
  int64_t long_total;
  double double_total;
  long double decimal_total;  // only for dates plus decimals
  bson::Decimal128 exact_decimal;
};

Result<MaybeValue> Add(const std::vector<MaybeValue>& args) {
  Accumulator acc{NumKind::kInt, false, 0, 0, 0, bson::Decimal128::FromInt64(0)};
  bool have_date = false;
  for (const MaybeValue& a : args) {
    if (IsNullish(a)) return MaybeValue(Value());
  }
  for (const MaybeValue& a : args) {
    const Value& v = *a;
    if (v.is_number()) {
      NumKind k = KindOf(v);
      if (k > acc.kind) acc.kind = k;
      acc.decimal_total += ToLongDouble(v);
      acc.exact_decimal = DecAdd(acc.exact_decimal, DecFromNumber(v));
      acc.double_total += v.ToDouble();
      if (k == NumKind::kInt || k == NumKind::kLong) {
        if (!acc.long_overflow &&
            __builtin_add_overflow(acc.long_total, v.ToInt64(), &acc.long_total)) {
          acc.long_overflow = true;
        }
      } else {
        acc.long_overflow = true;  // the integral total is no longer the answer
      }
    } else if (v.type() == bson::Type::kDateTime) {
      if (have_date) return Error(16612, "only one date allowed in an $add expression");
      have_date = true;
      int64_t ms = v.as_date().millis;
      acc.decimal_total += ms;
      acc.double_total += static_cast<double>(ms);
      if (!acc.long_overflow && __builtin_add_overflow(acc.long_total, ms, &acc.long_total)) {
        acc.long_overflow = true;
      }
    } else {
      return Error(16554, "$add only supports numeric or date types, not " + TypeName(a));
    }
  }
  if (have_date) {
    if (!acc.long_overflow) return MaybeValue(Value(bson::DateTime{acc.long_total}));
    long double total = acc.kind == NumKind::kDecimal ? acc.decimal_total : acc.double_total;
    if (!std::isfinite(total) || total >= 9.2233720368547758e18L ||
        total < -9.2233720368547758e18L) {
      return Status(ErrorCode::kOverflow, "date overflow in $add");
    }
    return MaybeValue(Value(bson::DateTime{static_cast<int64_t>(std::llroundl(total))}));
  }
  switch (acc.kind) {
    case NumKind::kInt:
    case NumKind::kLong:
      if (acc.long_overflow) return MaybeValue(Value(acc.double_total));
      return MaybeValue(IntegralResult(acc.long_total, acc.kind == NumKind::kInt));
    case NumKind::kDouble: return MaybeValue(Value(acc.double_total));
    case NumKind::kDecimal: return MaybeValue(Value(acc.exact_decimal));
  }
  return MaybeValue();
}

Result<MaybeValue> Multiply(const std::vector<MaybeValue>& args) {
  Accumulator acc{NumKind::kInt, false, 1, 1, 1, bson::Decimal128::FromInt64(1)};
  for (const MaybeValue& a : args) {
    if (IsNullish(a)) return MaybeValue(Value());
  }
  for (const MaybeValue& a : args) {
    const Value& v = *a;
    if (!v.is_number()) {
      return Error(16555, "$multiply only supports numeric types, not " + TypeName(a));
    }
    NumKind k = KindOf(v);
    if (k > acc.kind) acc.kind = k;
    acc.exact_decimal = DecMul(acc.exact_decimal, DecFromNumber(v));
    acc.double_total *= v.ToDouble();
    if (k == NumKind::kInt || k == NumKind::kLong) {
      if (!acc.long_overflow &&
          __builtin_mul_overflow(acc.long_total, v.ToInt64(), &acc.long_total)) {
        acc.long_overflow = true;
      }
    }
  }
  switch (acc.kind) {
    case NumKind::kInt:
    case NumKind::kLong:
      if (acc.long_overflow) return MaybeValue(Value(acc.double_total));
      return MaybeValue(IntegralResult(acc.long_total, acc.kind == NumKind::kInt));
    case NumKind::kDouble: return MaybeValue(Value(acc.double_total));
    case NumKind::kDecimal: return MaybeValue(Value(acc.exact_decimal));
  }
  return MaybeValue();
}

Result<MaybeValue> Subtract(const std::vector<MaybeValue>& args) {
  const MaybeValue& a = args[0];
  const MaybeValue& b = args[1];
  if (IsNullish(a) || IsNullish(b)) return MaybeValue(Value());
  if (a->is_number() && b->is_number()) {
    NumKind k = std::max(KindOf(*a), KindOf(*b));
    if (k == NumKind::kDecimal) {
      return MaybeValue(Value(DecSub(DecFromNumber(*a), DecFromNumber(*b))));
    }
    if (k == NumKind::kDouble) return MaybeValue(Value(a->ToDouble() - b->ToDouble()));
    int64_t r;
    if (__builtin_sub_overflow(a->ToInt64(), b->ToInt64(), &r)) {
      return MaybeValue(Value(a->ToDouble() - b->ToDouble()));
    }
    return MaybeValue(IntegralResult(r, k == NumKind::kInt));
  }
  if (a->type() == bson::Type::kDateTime) {
    int64_t lhs = a->as_date().millis;
    if (b->type() == bson::Type::kDateTime) {
      int64_t r;
      if (__builtin_sub_overflow(lhs, b->as_date().millis, &r)) {
        return Status(ErrorCode::kOverflow, "date overflow in $subtract");
      }
      return MaybeValue(Value(r));
    }
    if (b->is_number()) {
      int64_t rhs;
      if (b->is_int32() || b->is_int64()) {
        rhs = b->ToInt64();
      } else {
        long double d = ToLongDouble(*b);
        if (!std::isfinite(d) || std::fabs(d) >= 9.2233720368547758e18L) {
          return Status(ErrorCode::kOverflow, "date overflow in $subtract");
        }
        rhs = std::llroundl(d);
      }
      int64_t r;
      if (__builtin_sub_overflow(lhs, rhs, &r)) {
        return Status(ErrorCode::kOverflow, "date overflow in $subtract");
      }
      return MaybeValue(Value(bson::DateTime{r}));
    }
    return Error(16613, "can't $subtract " + TypeName(b) + " from a date");
  }
  return Error(16556, "can't $subtract " + TypeName(b) + " from " + TypeName(a));
}

Result<MaybeValue> Divide(const std::vector<MaybeValue>& args) {
  const MaybeValue& a = args[0];
  const MaybeValue& b = args[1];
  if (IsNullish(a) || IsNullish(b)) return MaybeValue(Value());
  if (!a->is_number() || !b->is_number()) {
    return Error(16609, "$divide only supports numeric types, not " + TypeName(a) + " and " +
                            TypeName(b));
  }
  if (IsZero(*b)) return Status(ErrorCode::kBadValue, "can't $divide by zero");
  if (a->is_decimal() || b->is_decimal()) {
    return MaybeValue(Value(DecDiv(DecFromNumber(*a), DecFromNumber(*b))));
  }
  return MaybeValue(Value(a->ToDouble() / b->ToDouble()));
}

Result<MaybeValue> Mod(const std::vector<MaybeValue>& args) {
  const MaybeValue& a = args[0];
  const MaybeValue& b = args[1];
  if (IsNullish(a) || IsNullish(b)) return MaybeValue(Value());
  if (!a->is_number() || !b->is_number()) {
    return Error(16611, "$mod only supports numeric types, not " + TypeName(a) + " and " +
                            TypeName(b));
  }
  if (IsZero(*b)) return Error(16610, "can't $mod by zero");
  NumKind ka = KindOf(*a), kb = KindOf(*b);
  if (ka == NumKind::kDecimal || kb == NumKind::kDecimal) {
    return MaybeValue(Value(DecMod(DecFromNumber(*a), DecFromNumber(*b))));
  }
  // As mongod: an integral double divisor keeps integer arithmetic.
  double bd = b->ToDouble();
  if (ka == NumKind::kDouble || (kb == NumKind::kDouble && bd != std::trunc(bd))) {
    return MaybeValue(Value(std::fmod(a->ToDouble(), bd)));
  }
  int64_t x = a->ToInt64(), y = b->ToInt64();
  int64_t r = y == -1 ? 0 : x % y;
  bool ints = ka == NumKind::kInt && kb != NumKind::kLong;
  return MaybeValue(IntegralResult(r, ints));
}

// The family of one-numeric-argument operators ($abs, $ceil, $exp, ...): null in, null out;
// non-numbers: 28765.
using UnaryFn = std::function<Result<MaybeValue>(const Value&)>;
void RegisterUnary(const std::string& name, UnaryFn fn) {
  Register(name, 1, 1, [name, fn](const std::vector<MaybeValue>& args) -> Result<MaybeValue> {
    if (IsNullish(args[0])) return MaybeValue(Value());
    if (!args[0]->is_number()) {
      return Error(28765, name + " only supports numeric types, not " + TypeName(args[0]));
    }
    return fn(*args[0]);
  });
}

Value Decimal(long double v) { return Value(DecimalFromLongDouble(v)); }

// Rounds x to `place` decimal digits (negative: to tens, hundreds ...) with `mode`, as
// mongod's $round/$trunc: decimals are quantized exactly, doubles go through a 34-digit
// decimal (so 2.5 rounds to 2 and 1.005 to 1.0), integers stay integers.
Result<MaybeValue> RoundLike(const std::string& name, const std::vector<MaybeValue>& args,
                             DecRound mode) {
  const MaybeValue& x = args[0];
  int64_t place = 0;
  if (args.size() == 2) {
    const MaybeValue& p = args[1];
    if (IsNullish(p)) return MaybeValue(Value());
    if (!p->is_number()) {
      return Error(51082, name + " requires \"place\" argument to be a number, found " +
                              TypeName(p));
    }
    long double pd = ToLongDouble(*p);
    if (pd != std::trunc(pd)) {
      return Error(51082, name + " requires \"place\" argument to be an integral value, found " +
                              DescribeForError(p));
    }
    place = static_cast<int64_t>(pd);
    if (place < -20 || place > 100) {
      return Error(51083, "cannot apply " + name + " with precision value " +
                              std::to_string(place) + " value must be in [-20, 100]");
    }
  }
  if (IsNullish(x)) return MaybeValue(Value());
  if (!x->is_number()) {
    return Error(51081, name + " only supports numeric types, not " + TypeName(x));
  }
  NumKind k = KindOf(*x);
  if (k == NumKind::kInt || k == NumKind::kLong) {
    if (place >= 0) return MaybeValue(*x);
    __int128 scale = 1;
    for (int64_t i = 0; i < -place; ++i) scale *= 10;
    __int128 v = x->ToInt64();
    __int128 q = v / scale, r = v % scale;
    if (r != 0) {
      __int128 twice = (r < 0 ? -r : r) * 2;
      bool away = false;
      switch (mode) {
        case DecRound::kHalfEven:
          away = twice > scale || (twice == scale && (q % 2 != 0));
          break;
        case DecRound::kTowardZero: break;
        case DecRound::kCeiling: away = v > 0; break;
        case DecRound::kFloor: away = v < 0; break;
      }
      if (away) q += v < 0 ? -1 : 1;
    }
    __int128 result = q * scale;
    if (result > INT64_MAX || result < INT64_MIN) {
      return Error(51080, "invalid conversion from Decimal128 result in " + name +
                              " resulting from arguments: [" + DescribeForError(x) + ", " +
                              std::to_string(place) + "]");
    }
    return MaybeValue(IntegralResult(static_cast<int64_t>(result), k == NumKind::kInt));
  }
  if (k == NumKind::kDecimal) {
    const bson::Decimal128& d = x->as_decimal();
    if (DecIsNaN(d) || DecIsInf(d)) return MaybeValue(*x);
    return MaybeValue(Value(DecQuantize(d, static_cast<int>(-place), mode, /*clamp=*/true)));
  }
  double v = x->as_double_exact();
  if (!std::isfinite(v)) return MaybeValue(*x);
  bson::Decimal128 r =
      DecQuantize(DecFromDouble34(v), static_cast<int>(-place), mode, /*clamp=*/true);
  double out = r.ToDouble();
  if (out == 0 && std::signbit(v)) out = -0.0;
  return MaybeValue(Value(out));
}

// $round/$trunc report their arity with their own code (28667).
Result<std::vector<ExpressionPtr>> ParseRoundOperands(const std::string& name, const Value& args,
                                                      const ParseContext& ctx) {
  size_t n = args.is_array() ? args.as_array().size() : 1;
  if (n < 1 || n > 2) {
    return Error(28667, "Expression " + name +
                            " takes at least 1 arguments, and at most 2, but " +
                            std::to_string(n) + " were passed in.");
  }
  return ParseOperands(name, args, ctx, 1, 2);
}

Result<MaybeValue> Pow(const std::vector<MaybeValue>& args) {
  const MaybeValue& base = args[0];
  const MaybeValue& exp = args[1];
  if (IsNullish(base) || IsNullish(exp)) return MaybeValue(Value());
  if (!base->is_number()) {
    return Error(28762, "$pow's base must be numeric, not " + TypeName(base));
  }
  if (!exp->is_number()) {
    return Error(28763, "$pow's exponent must be numeric, not " + TypeName(exp));
  }
  long double b = ToLongDouble(*base), e = ToLongDouble(*exp);
  if (b == 0 && e < 0) {
    return Error(28764, "$pow cannot take a base of 0 and a negative exponent");
  }
  NumKind k = std::max(KindOf(*base), KindOf(*exp));
  if (k == NumKind::kDecimal) return MaybeValue(Decimal(std::pow(b, e)));
  if (k == NumKind::kDouble) return MaybeValue(Value(std::pow(base->ToDouble(), exp->ToDouble())));
  // Both integral.
  int64_t bi = base->ToInt64(), ei = exp->ToInt64();
  bool ints = k == NumKind::kInt;
  if (ei < 0) {
    if (bi == 1) return MaybeValue(IntegralResult(1, ints));
    if (bi == -1) return MaybeValue(IntegralResult(ei % 2 == 0 ? 1 : -1, ints));
    return MaybeValue(Value(std::pow(static_cast<double>(bi), static_cast<double>(ei))));
  }
  int64_t result = 1;
  int64_t b2 = bi;
  int64_t e2 = ei;
  bool overflow = false;
  while (e2 > 0 && !overflow) {
    if (e2 & 1) overflow = __builtin_mul_overflow(result, b2, &result);
    e2 >>= 1;
    if (e2 > 0 && !overflow) overflow = __builtin_mul_overflow(b2, b2, &b2);
  }
  if (overflow) {
    return MaybeValue(Value(std::pow(static_cast<double>(bi), static_cast<double>(ei))));
  }
  return MaybeValue(IntegralResult(result, ints));
}

}  // namespace

void RegisterArithmetic() {
  Register("$add", 0, -1, Add);
  Register("$multiply", 0, -1, Multiply);
  Register("$subtract", 2, 2, Subtract);
  Register("$divide", 2, 2, Divide);
  Register("$mod", 2, 2, Mod);
  Register("$pow", 2, 2, Pow);
  RegisterUnary("$abs", [](const Value& v) -> Result<MaybeValue> {
    switch (KindOf(v)) {
      case NumKind::kInt:
        if (v.as_int32() == INT32_MIN) return MaybeValue(Value(int64_t{2147483648LL}));
        return MaybeValue(Value(static_cast<int32_t>(std::abs(v.as_int32()))));
      case NumKind::kLong:
        if (v.as_int64() == INT64_MIN) return Error(28680, "can't take $abs of long long min");
        return MaybeValue(Value(v.as_int64() < 0 ? -v.as_int64() : v.as_int64()));
      case NumKind::kDouble: return MaybeValue(Value(std::fabs(v.as_double_exact())));
      case NumKind::kDecimal: {
        bson::Decimal128 d = v.as_decimal();
        d.high &= ~(uint64_t{1} << 63);
        return MaybeValue(Value(d));
      }
    }
    return MaybeValue();
  });
  auto rounding = [](const std::string& name, long double (*fn)(long double), DecRound mode) {
    RegisterUnary(name, [fn, mode](const Value& v) -> Result<MaybeValue> {
      switch (KindOf(v)) {
        case NumKind::kInt:
        case NumKind::kLong: return MaybeValue(v);
        case NumKind::kDouble:
          return MaybeValue(Value(static_cast<double>(fn(v.as_double_exact()))));
        case NumKind::kDecimal: return MaybeValue(Value(DecToIntegral(v.as_decimal(), mode)));
      }
      return MaybeValue();
    });
  };
  rounding("$ceil", [](long double x) { return std::ceil(x); }, DecRound::kCeiling);
  rounding("$floor", [](long double x) { return std::floor(x); }, DecRound::kFloor);
  RegisterExpression("$round", [](const Value& args, const ParseContext& ctx)
                                   -> Result<ExpressionPtr> {
    EDDY_ASSIGN_OR_RETURN(auto ops, ParseRoundOperands("$round", args, ctx));
    return MakeOperator(std::move(ops), [](const std::vector<MaybeValue>& a) {
      return RoundLike("$round", a, DecRound::kHalfEven);
    });
  });
  RegisterExpression("$trunc", [](const Value& args, const ParseContext& ctx)
                                   -> Result<ExpressionPtr> {
    EDDY_ASSIGN_OR_RETURN(auto ops, ParseRoundOperands("$trunc", args, ctx));
    return MakeOperator(std::move(ops), [](const std::vector<MaybeValue>& a) {
      return RoundLike("$trunc", a, DecRound::kTowardZero);
    });
  });
  RegisterUnary("$sqrt", [](const Value& v) -> Result<MaybeValue> {
    long double x = ToLongDouble(v);
    if (x < 0) return Error(28714, "$sqrt's argument must be greater than or equal to 0");
    if (v.is_decimal()) return MaybeValue(Decimal(std::sqrt(x)));
    return MaybeValue(Value(std::sqrt(v.ToDouble())));
  });
  RegisterUnary("$exp", [](const Value& v) -> Result<MaybeValue> {
    if (v.is_decimal()) return MaybeValue(Decimal(std::exp(ToLongDouble(v))));
    return MaybeValue(Value(std::exp(v.ToDouble())));
  });
  RegisterUnary("$ln", [](const Value& v) -> Result<MaybeValue> {
    long double x = ToLongDouble(v);
    if (!(x > 0) && !std::isnan(x)) {
      return Error(28766, "$ln's argument must be a positive number, but " +
                              DescribeForError(v));
    }
    if (v.is_decimal()) return MaybeValue(Decimal(std::log(x)));
    return MaybeValue(Value(std::log(v.ToDouble())));
  });
  RegisterUnary("$log10", [](const Value& v) -> Result<MaybeValue> {
    long double x = ToLongDouble(v);
    if (!(x > 0) && !std::isnan(x)) {
      return Error(28761, "$log10's argument must be a positive number, but " +
                              DescribeForError(v));
    }
    if (v.is_decimal()) return MaybeValue(Decimal(std::log10(x)));
    return MaybeValue(Value(std::log10(v.ToDouble())));
  });
}

}  // namespace eddy::query::expr_internal
