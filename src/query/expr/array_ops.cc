// Array, set and object operators: $filter $map $reduce $slice $reverseArray $range
// $indexOfArray $first $last $zip $arrayToObject $objectToArray $setUnion $setIntersection
// $setDifference $setEquals $setIsSubset $anyElementTrue $allElementTrue $sortArray, the
// expression forms of $sum $avg $max $min $stdDevPop $stdDevSamp, $mergeObjects $getField
// $setField $unsetField, $rand.
#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "bson/compare.h"
#include "query/expr/decimal_math.h"
#include "query/expr/expression.h"
#include "query/expr/value_util.h"
#include "query/sort/sort.h"

namespace eddy::query::expr_internal {
namespace {

using bson::Array;
using bson::Document;
using bson::Value;

std::string TN(const MaybeValue& v) { return std::string(TypeNameOf(v)); }
MaybeValue Null() { return MaybeValue(Value()); }

void Register(const std::string& name, int min_args, int max_args, OperatorFn fn) {
  RegisterExpression(name, [name, min_args, max_args, fn](const Value& args,
                                                          const ParseContext& ctx)
                               -> Result<ExpressionPtr> {
    EDDY_ASSIGN_OR_RETURN(auto operands, ParseOperands(name, args, ctx, min_args, max_args));
    return MakeOperator(std::move(operands), fn);
  });
}

Status CheckVarName(const std::string& name) {
  if (name.empty()) return Error(16866, "empty variable names are not allowed");
  unsigned char c0 = name[0];
  if (!((c0 >= 'a' && c0 <= 'z') || c0 >= 0x80)) {
    return Error(16867, "'" + name + "' starts with an invalid character for a user variable name");
  }
  for (unsigned char c : name) {
    if (!(std::isalnum(c) || c == '_' || c >= 0x80)) {
      return Error(16868, "'" + name + "' contains an invalid character for a variable name: '" +
                              std::string(1, static_cast<char>(c)) + "'");
    }
  }
  return Status::OK();
}

// Named arguments {a: .., b: ..} of an operator; unknown names fail with `unknown_code`.
Result<std::vector<const Value*>> NamedArgs(const std::string& op, const Value& args,
                                            const std::vector<std::string>& names,
                                            int not_object_code, int unknown_code) {
  if (!args.is_document()) {
    return Error(not_object_code, op + " only supports an object as its argument");
  }
  std::vector<const Value*> out(names.size(), nullptr);
  for (const bson::Field& f : args.as_document()) {
    auto it = std::find(names.begin(), names.end(), f.name);
    if (it == names.end()) {
      return Error(unknown_code, op + " found an unknown argument: " + f.name);
    }
    out[static_cast<size_t>(it - names.begin())] = &f.value;
  }
  return out;
}

// ---- $filter / $map / $reduce

class FilterExpr : public Expression {
 public:
  FilterExpr(ExpressionPtr input, std::string var, ExpressionPtr cond, ExpressionPtr limit)
      : input_(std::move(input)), var_(std::move(var)), cond_(std::move(cond)),
        limit_(std::move(limit)) {}
  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    EDDY_ASSIGN_OR_RETURN(MaybeValue in, input_->Evaluate(ctx));
    if (IsNullish(in)) return Null();
    if (!in->is_array()) return Error(28651, "input to $filter must be an array not " + TN(in));
    int64_t limit = INT64_MAX;
    if (limit_) {
      EDDY_ASSIGN_OR_RETURN(MaybeValue l, limit_->Evaluate(ctx));
      if (!IsNullish(l)) {
        if (!l->is_number() || l->ToDouble() != std::trunc(l->ToDouble())) {
          return Error(327391, "$filter: limit must be represented as a 32-bit integral value: " +
                                   DescribeForError(l));
        }
        limit = l->ToInt64();
        if (limit < 1) {
          return Error(327392, "$filter: limit must be greater than 0: " + DescribeForError(l));
        }
      }
    }
    Array out;
    for (const Value& e : in->as_array()) {
      if (static_cast<int64_t>(out.size()) >= limit) break;
      ctx.PushVariable(var_, e);
      Result<MaybeValue> c = cond_->Evaluate(ctx);
      ctx.PopVariables(1);
      if (!c.ok()) return c.status();
      if (IsTruthy(*c)) out.push_back(e);
    }
    return MaybeValue(Value(std::move(out)));
  }

 private:
  ExpressionPtr input_;
  std::string var_;
  ExpressionPtr cond_, limit_;
};

Result<ExpressionPtr> ParseFilter(const Value& args, const ParseContext& ctx) {
  EDDY_ASSIGN_OR_RETURN(auto a, NamedArgs("$filter", args, {"input", "as", "cond", "limit"},
                                          28646, 28647));
  if (a[0] == nullptr) return Error(28648, "Missing 'input' parameter to $filter");
  if (a[2] == nullptr) return Error(28650, "Missing 'cond' parameter to $filter");
  std::string var = "this";
  if (a[1] != nullptr) {
    if (!a[1]->is_string()) return Error(28649, "'as' parameter to $filter must be a string");
    var = a[1]->as_string();
    EDDY_RETURN_IF_ERROR(CheckVarName(var));
  }
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr input, ParseExpression(*a[0], ctx));
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr cond, ParseExpression(*a[2], ctx.WithVariables({var})));
  ExpressionPtr limit;
  if (a[3] != nullptr) {
    EDDY_ASSIGN_OR_RETURN(limit, ParseExpression(*a[3], ctx));
  }
  return ExpressionPtr(std::make_shared<FilterExpr>(input, var, cond, limit));
}

class MapExpr : public Expression {
 public:
  MapExpr(ExpressionPtr input, std::string var, ExpressionPtr in)
      : input_(std::move(input)), var_(std::move(var)), in_(std::move(in)) {}
  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    EDDY_ASSIGN_OR_RETURN(MaybeValue input, input_->Evaluate(ctx));
    if (IsNullish(input)) return Null();
    if (!input->is_array()) return Error(16883, "input to $map must be an array not " + TN(input));
    Array out;
    out.reserve(input->as_array().size());
    for (const Value& e : input->as_array()) {
      ctx.PushVariable(var_, e);
      Result<MaybeValue> r = in_->Evaluate(ctx);
      ctx.PopVariables(1);
      if (!r.ok()) return r.status();
      out.push_back(r->has_value() ? std::move(**r) : Value());
    }
    return MaybeValue(Value(std::move(out)));
  }

 private:
  ExpressionPtr input_;
  std::string var_;
  ExpressionPtr in_;
};

Result<ExpressionPtr> ParseMap(const Value& args, const ParseContext& ctx) {
  EDDY_ASSIGN_OR_RETURN(auto a, NamedArgs("$map", args, {"input", "as", "in"}, 16878, 16879));
  if (a[0] == nullptr) return Error(16880, "Missing 'input' parameter to $map");
  if (a[2] == nullptr) return Error(16882, "Missing 'in' parameter to $map");
  std::string var = "this";
  if (a[1] != nullptr) {
    if (!a[1]->is_string()) return Error(16881, "'as' parameter to $map must be a string");
    var = a[1]->as_string();
    EDDY_RETURN_IF_ERROR(CheckVarName(var));
  }
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr input, ParseExpression(*a[0], ctx));
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr in, ParseExpression(*a[2], ctx.WithVariables({var})));
  return ExpressionPtr(std::make_shared<MapExpr>(input, var, in));
}

class ReduceExpr : public Expression {
 public:
  ReduceExpr(ExpressionPtr input, ExpressionPtr init, ExpressionPtr in)
      : input_(std::move(input)), init_(std::move(init)), in_(std::move(in)) {}
  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    EDDY_ASSIGN_OR_RETURN(MaybeValue input, input_->Evaluate(ctx));
    if (IsNullish(input)) return Null();
    if (!input->is_array()) {
      return Error(40080, "$reduce requires an array as input, found: " + TN(input));
    }
    EDDY_ASSIGN_OR_RETURN(MaybeValue acc, init_->Evaluate(ctx));
    for (const Value& e : input->as_array()) {
      ctx.PushVariable("value", acc);
      ctx.PushVariable("this", e);
      Result<MaybeValue> r = in_->Evaluate(ctx);
      ctx.PopVariables(2);
      if (!r.ok()) return r.status();
      acc = std::move(*r);
    }
    return acc;
  }

 private:
  ExpressionPtr input_, init_, in_;
};

Result<ExpressionPtr> ParseReduce(const Value& args, const ParseContext& ctx) {
  EDDY_ASSIGN_OR_RETURN(auto a, NamedArgs("$reduce", args, {"input", "initialValue", "in"},
                                          40075, 40076));
  if (a[0] == nullptr) return Error(40077, "$reduce requires 'input' to be specified");
  if (a[1] == nullptr) return Error(40078, "$reduce requires 'initialValue' to be specified");
  if (a[2] == nullptr) return Error(40079, "$reduce requires 'in' to be specified");
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr input, ParseExpression(*a[0], ctx));
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr init, ParseExpression(*a[1], ctx));
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr in,
                        ParseExpression(*a[2], ctx.WithVariables({"value", "this"})));
  return ExpressionPtr(std::make_shared<ReduceExpr>(input, init, in));
}

// ---- simple array operators

// An integral value representable as int32, or an error with `code`.
Result<int32_t> Int32Arg(const MaybeValue& v, int code, const std::string& what) {
  if (!v || !v->is_number()) {
    return Error(code, what + " must be a numeric value, but is of type: " + TN(v));
  }
  double d = v->ToDouble();
  bool integral = v->is_int32() || v->is_int64() || (std::isfinite(d) && d == std::trunc(d));
  int64_t i = v->ToInt64();
  if (!integral || i < INT32_MIN || i > INT32_MAX) {
    return Error(code + 1, what + " must be representable as a 32-bit integer: " +
                               DescribeForError(v));
  }
  return static_cast<int32_t>(i);
}

Result<MaybeValue> Slice(const std::vector<MaybeValue>& a) {
  for (const MaybeValue& v : a) {
    if (IsNullish(v)) return Null();
  }
  if (!a[0]->is_array()) {
    return Error(28724, "First argument to $slice must be an array, but is of type: " + TN(a[0]));
  }
  const Array& arr = a[0]->as_array();
  int64_t size = static_cast<int64_t>(arr.size());
  int64_t start, count;
  if (a.size() == 2) {
    EDDY_ASSIGN_OR_RETURN(int32_t n, Int32Arg(a[1], 28725, "Second argument to $slice"));
    if (n >= 0) {
      start = 0;
      count = n;
    } else {
      start = std::max<int64_t>(0, size + n);
      count = size;
    }
  } else {
    EDDY_ASSIGN_OR_RETURN(int32_t pos, Int32Arg(a[1], 28725, "Second argument to $slice"));
    if (!a[2]->is_number()) {
      return Error(28727, "Third argument to $slice must be numeric, but is of type: " + TN(a[2]));
    }
    EDDY_ASSIGN_OR_RETURN(int32_t n, Int32Arg(a[2], 28727, "Third argument to $slice"));
    if (n <= 0) {
      return Error(28729, "Third argument to $slice must be positive: " + DescribeForError(a[2]));
    }
    start = pos >= 0 ? pos : std::max<int64_t>(0, size + pos);
    count = n;
  }
  Array out;
  for (int64_t i = start; i < size && i < start + count; ++i) out.push_back(arr[i]);
  return MaybeValue(Value(std::move(out)));
}

Result<MaybeValue> ReverseArray(const std::vector<MaybeValue>& a) {
  if (IsNullish(a[0])) return Null();
  if (!a[0]->is_array()) {
    return Error(34435, "The argument to $reverseArray must be an array, but was of type: " +
                            TN(a[0]));
  }
  Array out(a[0]->as_array().rbegin(), a[0]->as_array().rend());
  return MaybeValue(Value(std::move(out)));
}

Result<int32_t> RangeArg(const MaybeValue& v, int type_code, const std::string& what) {
  if (!v || !v->is_number()) {
    return Error(type_code, "$range requires a numeric " + what + ", found value of type: " +
                                TN(v));
  }
  double d = v->ToDouble();
  bool integral = v->is_int32() || v->is_int64() || (std::isfinite(d) && d == std::trunc(d));
  int64_t i = v->ToInt64();
  if (!integral || i < INT32_MIN || i > INT32_MAX) {
    return Error(type_code + 1, "$range requires a " + what +
                                    " that can be represented as a 32-bit integer, found value: " +
                                    DescribeForError(v));
  }
  return static_cast<int32_t>(i);
}

Result<MaybeValue> Range(const std::vector<MaybeValue>& a) {
  EDDY_ASSIGN_OR_RETURN(int32_t start, RangeArg(a[0], 34443, "starting value"));
  EDDY_ASSIGN_OR_RETURN(int32_t end, RangeArg(a[1], 34445, "ending value"));
  int32_t step = 1;
  if (a.size() == 3) {
    EDDY_ASSIGN_OR_RETURN(step, RangeArg(a[2], 34447, "step value"));
    if (step == 0) return Error(34449, "$range requires a non-zero step value");
  }
  // mongod caps $range at 100 MB (internalQueryMaxRangeBytes), counting each element as an int.
  int64_t count = step > 0 ? (end > start ? (int64_t{end} - start + step - 1) / step : 0)
                           : (start > end ? (int64_t{start} - end + (-step) - 1) / (-step) : 0);
  if (count * static_cast<int64_t>(sizeof(Value)) > 100 * 1024 * 1024) {
    return Error(146, "$range would use too much memory (" +
                          std::to_string(count * static_cast<int64_t>(sizeof(Value))) +
                          " bytes) and cannot spill to disk. Memory limit: 104857600 bytes");
  }
  Array out;
  out.reserve(static_cast<size_t>(count));
  for (int64_t i = start; step > 0 ? i < end : i > end; i += step) {
    out.push_back(Value(static_cast<int32_t>(i)));
  }
  return MaybeValue(Value(std::move(out)));
}

Result<MaybeValue> IndexOfArray(const std::vector<MaybeValue>& a) {
  if (IsNullish(a[0])) return Null();
  if (!a[0]->is_array()) {
    return Error(40090, "$indexOfArray requires an array as a first argument, found: " + TN(a[0]));
  }
  const Array& arr = a[0]->as_array();
  int64_t start = 0, end = static_cast<int64_t>(arr.size());
  for (size_t i = 2; i < a.size(); ++i) {
    const MaybeValue& v = a[i];
    double d = v && v->is_number() ? v->ToDouble() : 0.5;
    if (!v || !v->is_number() || d != std::trunc(d)) {
      return Error(40096, std::string("$indexOfArray requires an integral ") +
                              (i == 2 ? "starting" : "ending") + " index, found a value of type: " +
                              TN(v) + ", with value: " + DescribeForError(v));
    }
    if (d < 0) {
      return Error(40097, std::string("$indexOfArray requires a nonnegative ") +
                              (i == 2 ? "start" : "ending") + " index, found: " +
                              DescribeForError(v));
    }
    if (i == 2) {
      start = v->ToInt64();
    } else {
      end = std::min<int64_t>(end, v->ToInt64());
    }
  }
  for (int64_t i = start; i < end && i < static_cast<int64_t>(arr.size()); ++i) {
    if (CompareValues(arr[static_cast<size_t>(i)], a[1]) == 0) {
      return MaybeValue(Value(static_cast<int32_t>(i)));
    }
  }
  return MaybeValue(Value(-1));
}

Result<MaybeValue> FirstLast(const std::vector<MaybeValue>& a, bool last) {
  const char* op = last ? "$last" : "$first";
  if (IsNullish(a[0])) return Null();
  if (!a[0]->is_array()) {
    return Error(28689, std::string(op) + "'s argument must be an array, but is " + TN(a[0]));
  }
  const Array& arr = a[0]->as_array();
  if (arr.empty()) return MaybeValue();
  return MaybeValue(last ? arr.back() : arr.front());
}

// ---- $zip

class ZipExpr : public Expression {
 public:
  ZipExpr(std::vector<ExpressionPtr> inputs, bool longest, std::vector<ExpressionPtr> defaults)
      : inputs_(std::move(inputs)), longest_(longest), defaults_(std::move(defaults)) {}
  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    std::vector<Array> arrays;
    size_t min_len = SIZE_MAX, max_len = 0;
    for (const auto& e : inputs_) {
      EDDY_ASSIGN_OR_RETURN(MaybeValue v, e->Evaluate(ctx));
      if (IsNullish(v)) return Null();
      if (!v->is_array()) {
        return Error(34468, "$zip found a non-array expression in input: " + DescribeForError(v));
      }
      min_len = std::min(min_len, v->as_array().size());
      max_len = std::max(max_len, v->as_array().size());
      arrays.push_back(std::move(v->as_array()));
    }
    std::vector<Value> defs(arrays.size(), Value());
    for (size_t i = 0; i < defaults_.size(); ++i) {
      EDDY_ASSIGN_OR_RETURN(MaybeValue v, defaults_[i]->Evaluate(ctx));
      defs[i] = v ? std::move(*v) : Value();
    }
    size_t n = longest_ ? max_len : (arrays.empty() ? 0 : min_len);
    Array out;
    for (size_t i = 0; i < n; ++i) {
      Array row;
      for (size_t k = 0; k < arrays.size(); ++k) {
        row.push_back(i < arrays[k].size() ? arrays[k][i] : defs[k]);
      }
      out.push_back(Value(std::move(row)));
    }
    return MaybeValue(Value(std::move(out)));
  }

 private:
  std::vector<ExpressionPtr> inputs_;
  bool longest_;
  std::vector<ExpressionPtr> defaults_;
};

Result<ExpressionPtr> ParseZip(const Value& args, const ParseContext& ctx) {
  EDDY_ASSIGN_OR_RETURN(auto a, NamedArgs("$zip", args, {"inputs", "useLongestLength",
                                                         "defaults"}, 34460, 34464));
  if (a[0] == nullptr) return Error(34465, "Missing 'inputs' to $zip");
  if (!a[0]->is_array()) {
    return Error(34461, "inputs must be an array of expressions, found " + TN(*a[0]));
  }
  bool longest = false;
  if (a[1] != nullptr) {
    if (!a[1]->is_bool()) {
      return Error(34463, "useLongestLength must be a bool, found " + TN(*a[1]));
    }
    longest = a[1]->as_bool();
  }
  std::vector<ExpressionPtr> inputs, defaults;
  for (const Value& v : a[0]->as_array()) {
    EDDY_ASSIGN_OR_RETURN(ExpressionPtr e, ParseExpression(v, ctx));
    inputs.push_back(std::move(e));
  }
  if (inputs.empty()) return Error(34465, "$zip requires at least one input array");
  if (a[2] != nullptr) {
    if (!a[2]->is_array()) {
      return Error(34462, "defaults must be an array of expressions, found " + TN(*a[2]));
    }
    if (!longest) return Error(34466, "cannot specify defaults unless useLongestLength is true");
    for (const Value& v : a[2]->as_array()) {
      EDDY_ASSIGN_OR_RETURN(ExpressionPtr e, ParseExpression(v, ctx));
      defaults.push_back(std::move(e));
    }
    if (defaults.size() != inputs.size()) {
      return Error(34467, "defaults and inputs must have the same length");
    }
  }
  return ExpressionPtr(std::make_shared<ZipExpr>(std::move(inputs), longest, std::move(defaults)));
}

// ---- objects

Result<MaybeValue> ArrayToObject(const std::vector<MaybeValue>& a) {
  if (IsNullish(a[0])) return Null();
  if (!a[0]->is_array()) {
    return Error(40386, "$arrayToObject requires an array input, found: " + TN(a[0]));
  }
  Document out;
  const Array& arr = a[0]->as_array();
  if (arr.empty()) return MaybeValue(Value(std::move(out)));
  bool pairs = arr[0].is_array();
  for (const Value& e : arr) {
    std::string key;
    Value value;
    if (pairs) {
      if (!e.is_array()) {
        return Error(40391, "$arrayToObject requires a consistent input format. Elements must "
                            "all be arrays or all be objects. Array was detected, now found: " +
                                std::string(bson::TypeName(e.type())));
      }
      const Array& p = e.as_array();
      if (p.size() != 2) {
        return Error(40397, "$arrayToObject requires an array of size 2 arrays,found array of "
                            "size: " + std::to_string(p.size()));
      }
      if (!p[0].is_string()) {
        return Error(40395, "$arrayToObject requires an array of key-value pairs, where the key "
                            "must be of type string. Found key type: " +
                                std::string(bson::TypeName(p[0].type())));
      }
      key = p[0].as_string();
      value = p[1];
    } else if (e.is_document()) {
      const Document& d = e.as_document();
      if (d.size() != 2) {
        return Error(40392, "$arrayToObject requires an object keys of 'k' and 'v'. Found "
                            "incorrect number of keys:" + std::to_string(d.size()));
      }
      const Value* k = d.Get("k");
      const Value* v = d.Get("v");
      if (k == nullptr || v == nullptr) {
        return Error(40393, "$arrayToObject requires an object with keys 'k' and 'v'. Missing "
                            "either or both keys from: " + DescribeForError(e));
      }
      if (!k->is_string()) {
        return Error(40394, "$arrayToObject requires an object with keys 'k' and 'v', where the "
                            "value of 'k' must be of type string. Found type: " +
                                std::string(bson::TypeName(k->type())));
      }
      key = k->as_string();
      value = *v;
    } else {
      return Error(40398, "Unrecognised input type format for $arrayToObject: " +
                              std::string(bson::TypeName(e.type())));
    }
    if (key.find('\0') != std::string::npos) {
      return Error(4940400, "Key field cannot contain an embedded null byte");
    }
    out.Set(key, std::move(value));
  }
  return MaybeValue(Value(std::move(out)));
}

Result<MaybeValue> ObjectToArray(const std::vector<MaybeValue>& a) {
  if (IsNullish(a[0])) return Null();
  if (!a[0]->is_document()) {
    return Error(40390, "$objectToArray requires a document input, found: " + TN(a[0]));
  }
  Array out;
  for (const bson::Field& f : a[0]->as_document()) {
    Document kv;
    kv.Append("k", Value(f.name));
    kv.Append("v", f.value);
    out.push_back(Value(std::move(kv)));
  }
  return MaybeValue(Value(std::move(out)));
}

Result<MaybeValue> MergeObjects(const std::vector<MaybeValue>& a) {
  Document out;
  for (const MaybeValue& v : a) {
    if (IsNullish(v)) continue;
    if (!v->is_document()) {
      return Error(40400, "$mergeObjects requires object inputs, but input " +
                              DescribeForError(v) + " is of type " + TN(v));
    }
    for (const bson::Field& f : v->as_document()) out.Set(f.name, f.value);
  }
  return MaybeValue(Value(std::move(out)));
}

// $getField / $setField / $unsetField
class FieldExpr : public Expression {
 public:
  enum Kind { kGet, kSet, kUnset };
  FieldExpr(Kind kind, std::string field, ExpressionPtr input, ExpressionPtr value)
      : kind_(kind), field_(std::move(field)), input_(std::move(input)), value_(std::move(value)) {}
  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    MaybeValue input;
    if (input_) {
      EDDY_ASSIGN_OR_RETURN(input, input_->Evaluate(ctx));
    } else {
      input = Value(ctx.current());
    }
    if (kind_ == kGet) {
      if (IsNullish(input)) return Null();
      if (!input->is_document()) return MaybeValue();
      const Value* v = input->as_document().Get(field_);
      return v ? MaybeValue(*v) : MaybeValue();
    }
    if (IsNullish(input)) return Null();
    if (!input->is_document()) {
      return Error(4161105, std::string(kind_ == kSet ? "$setField" : "$unsetField") +
                                " requires 'input' to evaluate to type Object, but got " +
                                TN(input));
    }
    Document d = std::move(input->as_document());
    MaybeValue v;
    if (kind_ == kSet) {
      EDDY_ASSIGN_OR_RETURN(v, value_->Evaluate(ctx));
    }
    if (v) {
      d.Set(field_, std::move(*v));
    } else {
      d.Remove(field_);
    }
    return MaybeValue(Value(std::move(d)));
  }

 private:
  Kind kind_;
  std::string field_;
  ExpressionPtr input_, value_;
};

Result<std::string> ConstantFieldName(const std::string& op, const Value& v,
                                      const ParseContext& ctx) {
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr e, ParseExpression(v, ctx));
  if (!e->IsConstant()) {
    return Error(op == "$getField" ? 5654601 : 4161106,
                 op + " requires 'field' to evaluate to a constant, but got a non-constant "
                      "argument");
  }
  Document empty;
  EvalContext ec(empty);
  EDDY_ASSIGN_OR_RETURN(MaybeValue f, e->Evaluate(ec));
  if (!f || !f->is_string()) {
    return Error(op == "$getField" ? 5654602 : 4161107,
                 op + " requires 'field' to evaluate to type String, but got " + TN(f));
  }
  return f->as_string();
}

Result<ExpressionPtr> ParseFieldOp(FieldExpr::Kind kind, const Value& args,
                                   const ParseContext& ctx) {
  std::string op = kind == FieldExpr::kGet ? "$getField" : kind == FieldExpr::kSet ? "$setField"
                                                                                   : "$unsetField";
  if (kind == FieldExpr::kGet && !args.is_document()) {
    EDDY_ASSIGN_OR_RETURN(std::string f, ConstantFieldName(op, args, ctx));
    return ExpressionPtr(std::make_shared<FieldExpr>(kind, f, nullptr, nullptr));
  }
  if (kind == FieldExpr::kGet && args.is_document() && !args.as_document().empty() &&
      args.as_document().at(0).name[0] == '$') {
    EDDY_ASSIGN_OR_RETURN(std::string f, ConstantFieldName(op, args, ctx));
    return ExpressionPtr(std::make_shared<FieldExpr>(kind, f, nullptr, nullptr));
  }
  std::vector<std::string> names = {"field", "input"};
  if (kind == FieldExpr::kSet) names.push_back("value");
  EDDY_ASSIGN_OR_RETURN(auto a, NamedArgs(op, args, names, 4161100, 4161101));
  if (a[0] == nullptr) return Error(4161102, op + " requires 'field' to be specified");
  if (kind != FieldExpr::kGet && a[1] == nullptr) {
    return Error(4161103, op + " requires 'input' to be specified");
  }
  if (kind == FieldExpr::kSet && a[2] == nullptr) {
    return Error(4161104, op + " requires 'value' to be specified");
  }
  EDDY_ASSIGN_OR_RETURN(std::string f, ConstantFieldName(op, *a[0], ctx));
  ExpressionPtr input, value;
  if (a[1] != nullptr) {
    EDDY_ASSIGN_OR_RETURN(input, ParseExpression(*a[1], ctx));
  }
  if (kind == FieldExpr::kSet) {
    EDDY_ASSIGN_OR_RETURN(value, ParseExpression(*a[2], ctx));
  }
  return ExpressionPtr(std::make_shared<FieldExpr>(kind, f, input, value));
}

// ---- sets

using ValueSet = std::set<Value, bson::ValueLess>;

Result<MaybeValue> SetUnionOrIntersection(const std::vector<MaybeValue>& a, bool is_union) {
  const char* op = is_union ? "$setUnion" : "$setIntersection";
  ValueSet acc;
  bool first = true;
  bool null_result = false;
  for (const MaybeValue& v : a) {
    if (IsNullish(v)) {
      null_result = true;
      continue;
    }
    if (!v->is_array()) {
      return Error(is_union ? 17043 : 17047, std::string("All operands of ") + op +
                                                 " must be arrays. One argument is of type: " +
                                                 TN(v));
    }
    ValueSet cur(v->as_array().begin(), v->as_array().end());
    if (is_union) {
      acc.insert(cur.begin(), cur.end());
    } else if (first) {
      acc = std::move(cur);
    } else {
      ValueSet keep;
      for (const Value& x : acc) {
        if (cur.count(x)) keep.insert(x);
      }
      acc = std::move(keep);
    }
    first = false;
  }
  if (null_result) return Null();
  return MaybeValue(Value(Array(acc.begin(), acc.end())));
}

Result<MaybeValue> SetDifference(const std::vector<MaybeValue>& a) {
  if (IsNullish(a[0]) || IsNullish(a[1])) return Null();
  if (!a[0]->is_array()) {
    return Error(17048, "both operands of $setDifference must be arrays. First argument is of "
                        "type: " + TN(a[0]));
  }
  if (!a[1]->is_array()) {
    return Error(17049, "both operands of $setDifference must be arrays. Second argument is of "
                        "type: " + TN(a[1]));
  }
  ValueSet right(a[1]->as_array().begin(), a[1]->as_array().end());
  ValueSet seen;
  Array out;
  for (const Value& v : a[0]->as_array()) {
    if (right.count(v) || !seen.insert(v).second) continue;
    out.push_back(v);
  }
  return MaybeValue(Value(std::move(out)));
}

Result<MaybeValue> SetEquals(const std::vector<MaybeValue>& a) {
  std::optional<ValueSet> first;
  bool eq = true;
  for (const MaybeValue& v : a) {
    if (!v || !v->is_array()) {
      return Error(17044, "All operands of $setEquals must be arrays. One argument is of type: " +
                              TN(v));
    }
    ValueSet cur(v->as_array().begin(), v->as_array().end());
    if (!first) {
      first = std::move(cur);
    } else if (cur.size() != first->size() ||
               !std::equal(cur.begin(), cur.end(), first->begin(),
                           [](const Value& x, const Value& y) { return bson::Equal(x, y); })) {
      eq = false;
    }
  }
  return MaybeValue(Value(eq));
}

Result<MaybeValue> SetIsSubset(const std::vector<MaybeValue>& a) {
  if (!a[0] || !a[0]->is_array()) {
    return Error(17046, "both operands of $setIsSubset must be arrays. First argument is of "
                        "type: " + TN(a[0]));
  }
  if (!a[1] || !a[1]->is_array()) {
    return Error(17042, "both operands of $setIsSubset must be arrays. Second argument is of "
                        "type: " + TN(a[1]));
  }
  ValueSet right(a[1]->as_array().begin(), a[1]->as_array().end());
  for (const Value& v : a[0]->as_array()) {
    if (!right.count(v)) return MaybeValue(Value(false));
  }
  return MaybeValue(Value(true));
}

Result<MaybeValue> AnyAll(const std::vector<MaybeValue>& a, bool any) {
  if (!a[0] || !a[0]->is_array()) {
    return Error(any ? 17041 : 17040, std::string(any ? "$anyElementTrue" : "$allElementTrue") +
                                          "'s argument must be an array, but is " + TN(a[0]));
  }
  for (const Value& v : a[0]->as_array()) {
    if (any && v.Truthy()) return MaybeValue(Value(true));
    if (!any && !v.Truthy()) return MaybeValue(Value(false));
  }
  return MaybeValue(Value(!any));
}

// ---- $sortArray

class SortArrayExpr : public Expression {
 public:
  SortArrayExpr(ExpressionPtr input, int dir, std::optional<SortSpec> spec)
      : input_(std::move(input)), dir_(dir), spec_(std::move(spec)) {}
  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    EDDY_ASSIGN_OR_RETURN(MaybeValue in, input_->Evaluate(ctx));
    if (IsNullish(in)) return Null();
    if (!in->is_array()) {
      return Error(2942504, "The input argument to $sortArray must be an array, but was of "
                            "type: " + TN(in));
    }
    Array arr = std::move(in->as_array());
    if (!spec_) {
      std::stable_sort(arr.begin(), arr.end(), [this](const Value& a, const Value& b) {
        return dir_ * CompareValues(a, b) < 0;
      });
      return MaybeValue(Value(std::move(arr)));
    }
    // Documents sort by the spec; non-documents sort as documents without the fields would.
    std::vector<std::pair<std::vector<Value>, size_t>> keys;
    Document empty;
    for (size_t i = 0; i < arr.size(); ++i) {
      const Document& d = arr[i].is_document() ? arr[i].as_document() : empty;
      EDDY_ASSIGN_OR_RETURN(std::vector<Value> k, spec_->ExtractSortKey(d));
      keys.emplace_back(std::move(k), i);
    }
    std::stable_sort(keys.begin(), keys.end(), [this](const auto& a, const auto& b) {
      return spec_->CompareKeys(a.first, b.first) < 0;
    });
    Array out;
    for (const auto& k : keys) out.push_back(std::move(arr[k.second]));
    return MaybeValue(Value(std::move(out)));
  }

 private:
  ExpressionPtr input_;
  int dir_;
  std::optional<SortSpec> spec_;
};

Result<ExpressionPtr> ParseSortArray(const Value& args, const ParseContext& ctx) {
  EDDY_ASSIGN_OR_RETURN(auto a, NamedArgs("$sortArray", args, {"input", "sortBy"}, 2942500,
                                          2942501));
  if (a[0] == nullptr) return Error(2942502, "$sortArray requires 'input' to be specified");
  if (a[1] == nullptr) return Error(2942503, "$sortArray requires 'sortBy' to be specified");
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr input, ParseExpression(*a[0], ctx));
  const Value& s = *a[1];
  if (s.is_number()) {
    double d = s.ToDouble();
    if (d != 1 && d != -1) {
      return Error(2942505, "$sortArray sortBy must be 1, -1, or a sort specification, found " +
                                DescribeForError(s));
    }
    return ExpressionPtr(std::make_shared<SortArrayExpr>(input, d > 0 ? 1 : -1, std::nullopt));
  }
  if (!s.is_document()) {
    return Error(2942505, "$sortArray sortBy must be 1, -1, or a sort specification, found " +
                              DescribeForError(s));
  }
  EDDY_ASSIGN_OR_RETURN(SortSpec spec, SortSpec::Compile(s.as_document()));
  return ExpressionPtr(std::make_shared<SortArrayExpr>(input, 1, std::move(spec)));
}

// ---- $sum $avg $max $min $stdDevPop $stdDevSamp as expressions

// With one operand that is an array, the operator runs over its elements; otherwise over the
// operands.
std::vector<Value> Operands(const std::vector<MaybeValue>& a) {
  std::vector<Value> out;
  if (a.size() == 1) {
    if (a[0] && a[0]->is_array()) return a[0]->as_array();
    if (a[0]) out.push_back(*a[0]);
    return out;
  }
  for (const MaybeValue& v : a) {
    if (v) out.push_back(*v);
  }
  return out;
}

Value SumOf(const std::vector<Value>& vals, int64_t* count) {
  int64_t lsum = 0;
  bool overflow = false, any_long = false, any_double = false, any_dec = false;
  long double dsum = 0;
  bson::Decimal128 dec = bson::Decimal128::FromInt64(0);
  *count = 0;
  for (const Value& v : vals) {
    if (!v.is_number()) continue;
    ++*count;
    if (v.is_decimal()) {
      any_dec = true;
      dec = DecAdd(dec, v.as_decimal());
    } else if (v.is_double()) {
      any_double = true;
      dsum += v.as_double_exact();
    } else {
      if (v.is_int64()) any_long = true;
      int64_t x = v.is_int32() ? v.as_int32() : v.as_int64();
      int64_t r;
      if (overflow || __builtin_add_overflow(lsum, x, &r)) {
        overflow = true;
        dsum += static_cast<long double>(x);
      } else {
        lsum = r;
      }
    }
  }
  if (any_dec) {
    dec = DecAdd(dec, DecFromNumber(Value(lsum)));
    if (any_double || overflow) dec = DecAdd(dec, DecFromDouble34(static_cast<double>(dsum)));
    return Value(dec);
  }
  if (any_double || overflow) return Value(static_cast<double>(dsum + lsum));
  if (!any_long && lsum >= INT32_MIN && lsum <= INT32_MAX) {
    return Value(static_cast<int32_t>(lsum));
  }
  return Value(lsum);
}

Result<MaybeValue> SumExpr(const std::vector<MaybeValue>& a) {
  int64_t n;
  return MaybeValue(SumOf(Operands(a), &n));
}

Result<MaybeValue> AvgExpr(const std::vector<MaybeValue>& a) {
  int64_t n;
  Value s = SumOf(Operands(a), &n);
  if (n == 0) return Null();
  if (s.is_decimal()) return MaybeValue(Value(DecDiv(s.as_decimal(), bson::Decimal128::FromInt64(n))));
  return MaybeValue(Value(s.ToDouble() / static_cast<double>(n)));
}

Result<MaybeValue> MinMaxExpr(const std::vector<MaybeValue>& a, bool max) {
  MaybeValue best;
  for (const Value& v : Operands(a)) {
    if (v.is_nullish()) continue;
    if (!best || (max ? CompareValues(v, best) > 0 : CompareValues(v, best) < 0)) best = v;
  }
  return best ? best : Null();
}

Result<MaybeValue> StdDevExpr(const std::vector<MaybeValue>& a, bool samp) {
  int64_t n = 0;
  double mean = 0, m2 = 0;
  for (const Value& v : Operands(a)) {
    if (!v.is_number()) continue;
    double x = v.ToDouble();
    ++n;
    double delta = x - mean;
    mean += delta / static_cast<double>(n);
    m2 += delta * (x - mean);
  }
  int64_t denom = samp ? n - 1 : n;
  if (n == 0 || denom <= 0) return Null();
  return MaybeValue(Value(std::sqrt(m2 / static_cast<double>(denom))));
}

class RandExpr : public Expression {
 public:
  Result<MaybeValue> Evaluate(EvalContext&) const override {
    thread_local std::mt19937_64 rng(std::random_device{}());
    std::uniform_real_distribution<double> dist(0.0, 1.0);
    return MaybeValue(Value(dist(rng)));
  }
};

}  // namespace

void RegisterArrayOps() {
  RegisterExpression("$filter", ParseFilter);
  RegisterExpression("$map", ParseMap);
  RegisterExpression("$reduce", ParseReduce);
  Register("$slice", 2, 3, Slice);
  Register("$reverseArray", 1, 1, ReverseArray);
  Register("$range", 2, 3, Range);
  Register("$indexOfArray", 2, 4, IndexOfArray);
  Register("$first", 1, 1, [](const std::vector<MaybeValue>& a) { return FirstLast(a, false); });
  Register("$last", 1, 1, [](const std::vector<MaybeValue>& a) { return FirstLast(a, true); });
  RegisterExpression("$zip", ParseZip);
  Register("$arrayToObject", 1, 1, ArrayToObject);
  Register("$objectToArray", 1, 1, ObjectToArray);
  Register("$mergeObjects", 0, -1, MergeObjects);
  RegisterExpression("$getField", [](const Value& a, const ParseContext& c) {
    return ParseFieldOp(FieldExpr::kGet, a, c);
  });
  RegisterExpression("$setField", [](const Value& a, const ParseContext& c) {
    return ParseFieldOp(FieldExpr::kSet, a, c);
  });
  RegisterExpression("$unsetField", [](const Value& a, const ParseContext& c) {
    return ParseFieldOp(FieldExpr::kUnset, a, c);
  });
  Register("$setUnion", 0, -1,
           [](const std::vector<MaybeValue>& a) { return SetUnionOrIntersection(a, true); });
  Register("$setIntersection", 0, -1,
           [](const std::vector<MaybeValue>& a) { return SetUnionOrIntersection(a, false); });
  Register("$setDifference", 2, 2, SetDifference);
  Register("$setEquals", 2, -1, SetEquals);
  Register("$setIsSubset", 2, 2, SetIsSubset);
  Register("$anyElementTrue", 1, 1,
           [](const std::vector<MaybeValue>& a) { return AnyAll(a, true); });
  Register("$allElementTrue", 1, 1,
           [](const std::vector<MaybeValue>& a) { return AnyAll(a, false); });
  RegisterExpression("$sortArray", ParseSortArray);
  Register("$sum", 1, -1, SumExpr);
  Register("$avg", 1, -1, AvgExpr);
  Register("$max", 1, -1, [](const std::vector<MaybeValue>& a) { return MinMaxExpr(a, true); });
  Register("$min", 1, -1, [](const std::vector<MaybeValue>& a) { return MinMaxExpr(a, false); });
  Register("$stdDevPop", 1, -1,
           [](const std::vector<MaybeValue>& a) { return StdDevExpr(a, false); });
  Register("$stdDevSamp", 1, -1,
           [](const std::vector<MaybeValue>& a) { return StdDevExpr(a, true); });
  RegisterExpression("$rand", [](const Value& args, const ParseContext&) -> Result<ExpressionPtr> {
    if (!(args.is_document() && args.as_document().empty()) &&
        !(args.is_array() && args.as_array().empty())) {
      return Error(3040501, "$rand does not currently accept arguments");
    }
    return ExpressionPtr(std::make_shared<RandExpr>());
  });
}

}  // namespace eddy::query::expr_internal
