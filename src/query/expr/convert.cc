// $convert and its shorthands $toString $toInt $toLong $toDouble $toDecimal $toBool $toDate
// $toObjectId. Failures are ConversionFailure (241) unless onError is given; null or missing
// input gives onNull (default null).
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "query/expr/expression.h"
#include "query/expr/value_util.h"

namespace eddy::query::expr_internal {
namespace {

using bson::Type;
using bson::Value;

constexpr int kConversionFailure = 241;
const char* const kNoOnError = " in $convert with no onError value";

Status ConvError(const std::string& what, const std::string& detail = "") {
  return Error(kConversionFailure, what + kNoOnError + (detail.empty() ? "" : ": " + detail));
}

Status Unsupported(const Value& v, Type to) {
  return ConvError("Unsupported conversion from " + std::string(bson::TypeName(v.type())) +
                   " to " + std::string(bson::TypeName(to)));
}

// Strict base-10 integer parse: optional sign, digits only, whole string.
Result<int64_t> ParseInteger(const std::string& s) {
  const char* p = s.c_str();
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) {
    return ConvError("Failed to parse number '" + s + "'", "Did not consume whole string.");
  }
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(p, &end, 10);
  if (end != p + s.size()) {
    return ConvError("Failed to parse number '" + s + "'", "Did not consume whole string.");
  }
  if (errno == ERANGE) {
    return ConvError("Failed to parse number '" + s + "'", "Overflow");
  }
  return static_cast<int64_t>(v);
}

Result<double> ParseDouble(const std::string& s) {
  const char* p = s.c_str();
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) {
    return ConvError("Failed to parse number '" + s + "'", "Did not consume whole string.");
  }
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(p, &end);
  if (end != p + s.size()) {
    return ConvError("Failed to parse number '" + s + "'", "Did not consume whole string.");
  }
  if (errno == ERANGE && std::isinf(v)) {
    return ConvError("Failed to parse number '" + s + "'", "Out of range");
  }
  return v;
}

// A double/decimal to an integer type with mongod's NaN/infinity/overflow errors.
Result<int64_t> FloatToIntegral(const Value& v, long double d, long double lo, long double hi) {
  if (std::isnan(d)) {
    return ConvError("Attempt to convert NaN value to integer type", DescribeForError(v));
  }
  if (std::isinf(d)) {
    return ConvError("Attempt to convert infinity value to integer type", DescribeForError(v));
  }
  long double t = std::trunc(d);
  if (t < lo || t > hi) {
    return ConvError("Conversion would overflow target type", DescribeForError(v));
  }
  return static_cast<int64_t>(t);
}

Result<Value> ConvertTo(const Value& v, Type to) {
  switch (to) {
    case Type::kBool:
      if (v.is_number()) return Value(v.Truthy());
      return Value(v.is_bool() ? v.as_bool() : true);
    case Type::kInt32:
    case Type::kInt64: {
      bool to_int = to == Type::kInt32;
      long double lo = to_int ? INT32_MIN : -9223372036854775808.0L;
      long double hi = to_int ? INT32_MAX : 9223372036854775807.0L;
      int64_t r;
      switch (v.type()) {
        case Type::kBool: r = v.as_bool() ? 1 : 0; break;
        case Type::kInt32: r = v.as_int32(); break;
        case Type::kInt64:
          r = v.as_int64();
          if (to_int && (r < INT32_MIN || r > INT32_MAX)) {
            return ConvError("Conversion would overflow target type", DescribeForError(v));
          }
          break;
        case Type::kDouble: {
          EDDY_ASSIGN_OR_RETURN(r, FloatToIntegral(v, v.as_double_exact(), lo, hi));
          break;
        }
        case Type::kDecimal128: {
          EDDY_ASSIGN_OR_RETURN(r, FloatToIntegral(v, DecimalToLongDouble(v.as_decimal()), lo, hi));
          break;
        }
        case Type::kString: {
          EDDY_ASSIGN_OR_RETURN(r, ParseInteger(v.as_string()));
          if (to_int && (r < INT32_MIN || r > INT32_MAX)) {
            return ConvError("Failed to parse number '" + v.as_string() + "'", "Overflow");
          }
          break;
        }
        case Type::kDateTime:
          if (to_int) return Unsupported(v, to);
          r = v.as_date().millis;
          break;
        default:
          return Unsupported(v, to);
      }
      return to_int ? Value(static_cast<int32_t>(r)) : Value(r);
    }
    case Type::kDouble:
      switch (v.type()) {
        case Type::kBool: return Value(v.as_bool() ? 1.0 : 0.0);
        case Type::kInt32:
        case Type::kInt64:
        case Type::kDouble: return Value(v.ToDouble());
        case Type::kDecimal128: {
          long double d = DecimalToLongDouble(v.as_decimal());
          if (std::isfinite(d) && std::fabs(d) > std::numeric_limits<double>::max()) {
            return ConvError("Conversion would overflow target type", DescribeForError(v));
          }
          return Value(static_cast<double>(d));
        }
        case Type::kString: {
          EDDY_ASSIGN_OR_RETURN(double d, ParseDouble(v.as_string()));
          return Value(d);
        }
        case Type::kDateTime: return Value(static_cast<double>(v.as_date().millis));
        default: return Unsupported(v, to);
      }
    case Type::kDecimal128:
      switch (v.type()) {
        case Type::kBool: return Value(bson::Decimal128::FromInt64(v.as_bool() ? 1 : 0));
        case Type::kInt32:
        case Type::kInt64:
        case Type::kDouble:
        case Type::kDecimal128: return Value(v.ToDecimal());
        case Type::kString: {
          bool ok = false;
          bson::Decimal128 d = bson::Decimal128::FromString(v.as_string(), &ok);
          if (!ok) {
            return ConvError("Failed to parse number '" + v.as_string() + "'",
                             "Failed to parse string to decimal");
          }
          return Value(d);
        }
        case Type::kDateTime: return Value(bson::Decimal128::FromInt64(v.as_date().millis));
        default: return Unsupported(v, to);
      }
    case Type::kString:
      switch (v.type()) {
        case Type::kBool: return Value(v.as_bool() ? "true" : "false");
        case Type::kObjectId: return Value(v.as_object_id().ToHex());
        case Type::kInt32:
        case Type::kInt64:
        case Type::kDouble:
        case Type::kDecimal128:
        case Type::kString:
        case Type::kSymbol:
        case Type::kDateTime: {
          EDDY_ASSIGN_OR_RETURN(std::string s, CoerceToString(v));
          return Value(std::move(s));
        }
        default: return Unsupported(v, to);
      }
    case Type::kObjectId:
      if (v.type() == Type::kObjectId) return v;
      if (v.is_string()) {
        bson::ObjectId oid;
        if (v.as_string().size() != 24) {
          return ConvError("Failed to parse objectId '" + v.as_string() + "'",
                           "Invalid string length for parsing to OID, expected 24 but found " +
                               std::to_string(v.as_string().size()));
        }
        if (!bson::ObjectId::FromHex(v.as_string(), &oid)) {
          return ConvError("Failed to parse objectId '" + v.as_string() + "'",
                           "Invalid character found in hex string");
        }
        return Value(oid);
      }
      return Unsupported(v, to);
    case Type::kDateTime:
      switch (v.type()) {
        case Type::kDateTime: return v;
        case Type::kInt64: return Value(bson::DateTime{v.as_int64()});
        case Type::kDouble:
        case Type::kDecimal128: {
          long double d = ToLongDouble(v);
          if (!std::isfinite(d) || std::trunc(d) < -9223372036854775808.0L ||
              std::trunc(d) > 9223372036854775807.0L) {
            return ConvError("Conversion would overflow target type", DescribeForError(v));
          }
          return Value(bson::DateTime{static_cast<int64_t>(std::trunc(d))});
        }
        case Type::kObjectId:
          return Value(bson::DateTime{int64_t{v.as_object_id().seconds()} * 1000});
        case Type::kTimestamp:
          return Value(bson::DateTime{int64_t{v.as_timestamp().seconds} * 1000});
        case Type::kString: {
          int64_t ms;
          if (!ParseIsoDate(v.as_string(), &ms)) {
            return ConvError("Error parsing date string '" + v.as_string() + "'");
          }
          return Value(bson::DateTime{ms});
        }
        default: return Unsupported(v, to);
      }
    default:
      return ConvError("Unsupported conversion from " + std::string(bson::TypeName(v.type())) +
                       " to " + std::string(bson::TypeName(to)));
  }
}

Result<Type> ParseTargetType(const Value& to) {
  static constexpr Type kTargets[] = {Type::kDouble,   Type::kString, Type::kObjectId,
                                      Type::kBool,     Type::kDateTime, Type::kInt32,
                                      Type::kInt64,    Type::kDecimal128};
  if (to.is_string()) {
    for (Type t : kTargets) {
      if (bson::TypeName(t) == to.as_string()) return t;
    }
    static constexpr Type kOthers[] = {Type::kDocument, Type::kArray, Type::kBinary,
                                       Type::kUndefined, Type::kNull, Type::kRegex,
                                       Type::kDBPointer, Type::kJavaScript, Type::kSymbol,
                                       Type::kJavaScriptWithScope, Type::kTimestamp,
                                       Type::kMinKey, Type::kMaxKey};
    for (Type t : kOthers) {
      if (bson::TypeName(t) == to.as_string()) return t;  // unsupported, reported on use
    }
    return Status(ErrorCode::kBadValue, "Unknown type name: " + to.as_string());
  }
  if (to.is_number()) {
    double d = to.ToDouble();
    if (d != std::trunc(d)) {
      return Status(ErrorCode::kFailedToParse,
                    "In $convert, numeric 'to' argument is not an integer");
    }
    int64_t code = to.ToInt64();
    if ((code >= 1 && code <= 19) || code == -1 || code == 127) {
      return code == -1 ? Type::kMinKey : code == 127 ? Type::kMaxKey : static_cast<Type>(code);
    }
    return Status(ErrorCode::kFailedToParse,
                  "In $convert, numeric value for 'to' does not correspond to a BSON type: " +
                      std::to_string(code));
  }
  return Status(ErrorCode::kFailedToParse,
                "$convert's 'to' argument must be a string or number, but is " +
                    std::string(bson::TypeName(to.type())));
}

class ConvertExpr : public Expression {
 public:
  ConvertExpr(ExpressionPtr input, ExpressionPtr to, ExpressionPtr on_error,
              ExpressionPtr on_null)
      : input_(std::move(input)),
        to_(std::move(to)),
        on_error_(std::move(on_error)),
        on_null_(std::move(on_null)) {}

  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    EDDY_ASSIGN_OR_RETURN(MaybeValue to, to_->Evaluate(ctx));
    EDDY_ASSIGN_OR_RETURN(MaybeValue in, input_->Evaluate(ctx));
    if (IsNullish(to)) return MaybeValue(Value());
    EDDY_ASSIGN_OR_RETURN(Type target, ParseTargetType(*to));
    if (IsNullish(in)) {
      if (on_null_) return on_null_->Evaluate(ctx);
      return MaybeValue(Value());
    }
    Result<Value> r = ConvertTo(*in, target);
    if (!r.ok()) {
      if (on_error_ && r.status().code_number() == kConversionFailure) {
        return on_error_->Evaluate(ctx);
      }
      return r.status();
    }
    return MaybeValue(std::move(r).value());
  }

 private:
  ExpressionPtr input_, to_, on_error_, on_null_;
};

Result<ExpressionPtr> ParseConvert(const Value& args, const ParseContext& ctx) {
  if (!args.is_document()) {
    return Error(9,
                 "$convert expects an object of named arguments but found: " +
                     std::string(bson::TypeName(args.type())));
  }
  ExpressionPtr input, to, on_error, on_null;
  for (const bson::Field& f : args.as_document()) {
    ExpressionPtr* slot = f.name == "input"     ? &input
                          : f.name == "to"      ? &to
                          : f.name == "onError" ? &on_error
                          : f.name == "onNull"  ? &on_null
                                                : nullptr;
    if (slot == nullptr) return Error(9, "$convert found an unknown argument: " + f.name);
    EDDY_ASSIGN_OR_RETURN(*slot, ParseExpression(f.value, ctx));
  }
  if (!input) return Error(9, "Missing 'input' parameter to $convert");
  if (!to) return Error(9, "Missing 'to' parameter to $convert");
  return ExpressionPtr(std::make_shared<ConvertExpr>(std::move(input), std::move(to),
                                                     std::move(on_error), std::move(on_null)));
}

void RegisterShorthand(const std::string& name, Type to) {
  RegisterExpression(name, [name, to](const Value& args, const ParseContext& ctx)
                               -> Result<ExpressionPtr> {
    EDDY_ASSIGN_OR_RETURN(auto ops, ParseOperands(name, args, ctx, 1, 1));
    return ExpressionPtr(std::make_shared<ConvertExpr>(
        ops[0], MakeConstant(Value(std::string(bson::TypeName(to)))), nullptr, nullptr));
  });
}

}  // namespace

void RegisterConversion() {
  RegisterExpression("$convert", ParseConvert);
  RegisterShorthand("$toString", Type::kString);
  RegisterShorthand("$toInt", Type::kInt32);
  RegisterShorthand("$toLong", Type::kInt64);
  RegisterShorthand("$toDouble", Type::kDouble);
  RegisterShorthand("$toDecimal", Type::kDecimal128);
  RegisterShorthand("$toBool", Type::kBool);
  RegisterShorthand("$toDate", Type::kDateTime);
  RegisterShorthand("$toObjectId", Type::kObjectId);
}

}  // namespace eddy::query::expr_internal
