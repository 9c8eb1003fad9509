// $in $size $arrayElemAt $concatArrays $isArray, $concat $toUpper $toLower $strLenCP
// $substrCP, $type.
#include <cmath>

#include "query/expr/expression.h"
#include "query/expr/value_util.h"

namespace eddy::query::expr_internal {
namespace {

using bson::Array;
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

Result<MaybeValue> In(const std::vector<MaybeValue>& a) {
  if (!a[1] || !a[1]->is_array()) {
    return Error(40081, "$in requires an array as a second argument, found: " + TypeName(a[1]));
  }
  for (const Value& e : a[1]->as_array()) {
    if (CompareValues(a[0], e) == 0) return MaybeValue(Value(true));
  }
  return MaybeValue(Value(false));
}

Result<MaybeValue> Size(const std::vector<MaybeValue>& a) {
  if (!a[0] || !a[0]->is_array()) {
    return Error(17124, "The argument to $size must be an array. Type of argument was: " +
                            TypeName(a[0]));
  }
  return MaybeValue(Value(static_cast<int32_t>(a[0]->as_array().size())));
}

Result<MaybeValue> ArrayElemAt(const std::vector<MaybeValue>& a) {
  if (IsNullish(a[0]) || IsNullish(a[1])) return MaybeValue(Value());
  if (!a[0]->is_array()) {
    return Error(28689,
                 "$arrayElemAt's first argument must be an array, but is " + TypeName(a[0]));
  }
  if (!a[1]->is_number()) {
    return Error(28690, "$arrayElemAt's second argument must be a numeric value, but is " +
                            TypeName(a[1]));
  }
  double d = a[1]->ToDouble();
  if (!(a[1]->is_int32() || a[1]->is_int64()) && (d != std::trunc(d) || !std::isfinite(d))) {
    return Error(28691,
                 "$arrayElemAt's second argument must be representable as a 32-bit integer: " +
                     DescribeForError(a[1]));
  }
  int64_t i = a[1]->ToInt64();
  if (i < INT32_MIN || i > INT32_MAX) {
    return Error(28691,
                 "$arrayElemAt's second argument must be representable as a 32-bit integer: " +
                     DescribeForError(a[1]));
  }
  const Array& arr = a[0]->as_array();
  int64_t n = static_cast<int64_t>(arr.size());
  if (i < 0) i += n;
  if (i < 0 || i >= n) return MaybeValue();
  return MaybeValue(arr[static_cast<size_t>(i)]);
}

Result<MaybeValue> ConcatArrays(const std::vector<MaybeValue>& a) {
  Array out;
  for (const MaybeValue& v : a) {
    if (IsNullish(v)) return MaybeValue(Value());
    if (!v->is_array()) {
      return Error(28664, "$concatArrays only supports arrays, not " + TypeName(v));
    }
    const Array& arr = v->as_array();
    out.insert(out.end(), arr.begin(), arr.end());
  }
  return MaybeValue(Value(std::move(out)));
}

Result<MaybeValue> Concat(const std::vector<MaybeValue>& a) {
  std::string out;
  for (const MaybeValue& v : a) {
    if (IsNullish(v)) return MaybeValue(Value());
    if (!v->is_string()) return Error(16702, "$concat only supports strings, not " + TypeName(v));
    out += v->as_string();
  }
  return MaybeValue(Value(std::move(out)));
}

// ASCII-only case mapping, as mongod's $toUpper/$toLower.
Result<MaybeValue> ChangeCase(const MaybeValue& v, bool upper) {
  EDDY_ASSIGN_OR_RETURN(std::string s, CoerceToString(v));
  for (char& c : s) {
    if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return MaybeValue(Value(std::move(s)));
}

bool IsContinuationByte(unsigned char c) { return (c & 0xC0) == 0x80; }

Result<MaybeValue> StrLenCP(const std::vector<MaybeValue>& a) {
  if (!a[0] || !a[0]->is_string()) {
    return Error(34471, "$strLenCP requires a string argument, found: " + TypeName(a[0]));
  }
  int32_t n = 0;
  for (unsigned char c : a[0]->as_string()) n += !IsContinuationByte(c);
  return MaybeValue(Value(n));
}

// Validates a $substrCP index/length argument; `what` names it in messages.
Result<int32_t> SubstrArg(const MaybeValue& v, int not_number_code, int not_int32_code,
                          const std::string& what) {
  if (!v || !v->is_number()) {
    return Error(not_number_code, "$substrCP: " + what + " must be a numeric type (is BSON type " +
                                      TypeName(v) + ")");
  }
  double d = v->ToDouble();
  bool integral = v->is_int32() || v->is_int64() || (std::isfinite(d) && d == std::trunc(d));
  int64_t i = v->ToInt64();
  if (!integral || i < INT32_MIN || i > INT32_MAX) {
    return Error(not_int32_code, "$substrCP: " + what +
                                     " cannot be represented as a 32-bit integral value: " +
                                     DescribeForError(v));
  }
  return static_cast<int32_t>(i);
}

Result<MaybeValue> SubstrCP(const std::vector<MaybeValue>& a) {
  EDDY_ASSIGN_OR_RETURN(int32_t start, SubstrArg(a[1], 34450, 34451, "starting index"));
  EDDY_ASSIGN_OR_RETURN(int32_t length, SubstrArg(a[2], 34452, 34453, "length"));
  if (length < 0) return Error(34454, "$substrCP: length must be a nonnegative integer.");
  if (start < 0) return Error(34455, "$substrCP: the starting index must be nonnegative integer.");
  EDDY_ASSIGN_OR_RETURN(std::string s, CoerceToString(a[0]));
  size_t pos = 0;
  for (int32_t i = 0; i < start && pos < s.size(); ++i) {
    ++pos;
    while (pos < s.size() && IsContinuationByte(s[pos])) ++pos;
  }
  size_t end = pos;
  for (int32_t i = 0; i < length && end < s.size(); ++i) {
    ++end;
    while (end < s.size() && IsContinuationByte(s[end])) ++end;
  }
  return MaybeValue(Value(s.substr(pos, end - pos)));
}

}  // namespace

void RegisterArrayAndString() {
  Register("$in", 2, 2, In);
  Register("$size", 1, 1, Size);
  Register("$arrayElemAt", 2, 2, ArrayElemAt);
  Register("$concatArrays", 0, -1, ConcatArrays);
  Register("$isArray", 1, 1, [](const std::vector<MaybeValue>& a) -> Result<MaybeValue> {
    return MaybeValue(Value(a[0] && a[0]->is_array()));
  });
  Register("$concat", 0, -1, Concat);
  Register("$toUpper", 1, 1, [](const std::vector<MaybeValue>& a) { return ChangeCase(a[0], true); });
  Register("$toLower", 1, 1,
           [](const std::vector<MaybeValue>& a) { return ChangeCase(a[0], false); });
  Register("$strLenCP", 1, 1, StrLenCP);
  Register("$substrCP", 3, 3, SubstrCP);
  Register("$type", 1, 1, [](const std::vector<MaybeValue>& a) -> Result<MaybeValue> {
    return MaybeValue(Value(std::string(TypeNameOf(a[0]))));
  });
}

}  // namespace eddy::query::expr_internal
