// $group accumulators with mongod's typing: $sum widens int -> long -> double -> decimal and
// ignores non-numbers; $avg returns a double (decimal when any input is decimal) or null;
// $min/$max skip null and missing; $first/$last keep null for missing; $push/$addToSet skip
// missing.
#include "query/agg/accumulator.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "bson/compare.h"
#include "query/agg/stage.h"
#include "query/expr/decimal_math.h"
#include "query/sort/sort.h"

namespace eddy::query::agg_internal {

using bson::Array;
using bson::Document;
using bson::Value;
using expr_internal::DecAdd;
using expr_internal::DecDiv;
using expr_internal::DecFromNumber;

namespace {

// Numeric sum with mongod's result typing.
struct Summer {
  int64_t long_sum = 0;
  bool long_overflow = false;
  long double double_sum = 0;  // doubles, and longs after an overflow
  bson::Decimal128 dec_sum = bson::Decimal128::FromInt64(0);
  bool any_long = false, any_double = false, any_decimal = false;
  int64_t count = 0;

  void Add(const Value& v) {
    ++count;
    if (v.is_decimal()) {
      any_decimal = true;
      dec_sum = DecAdd(dec_sum, v.as_decimal());
    } else if (v.is_double()) {
      any_double = true;
      double_sum += v.as_double_exact();
    } else {
      if (v.is_int64()) any_long = true;
      int64_t x = v.is_int32() ? v.as_int32() : v.as_int64();
      int64_t r;
      if (long_overflow || __builtin_add_overflow(long_sum, x, &r)) {
        long_overflow = true;
        double_sum += static_cast<long double>(x);
      } else {
        long_sum = r;
      }
    }
  }

  Value Total() const {
    if (any_decimal) {
      bson::Decimal128 d = dec_sum;
      d = DecAdd(d, DecFromNumber(Value(long_sum)));
      if (any_double || long_overflow) {
        d = DecAdd(d, expr_internal::DecFromDouble34(static_cast<double>(double_sum)));
      }
      return Value(d);
    }
    if (any_double || long_overflow) {
      return Value(static_cast<double>(double_sum + static_cast<long double>(long_sum)));
    }
    if (!any_long && long_sum >= INT32_MIN && long_sum <= INT32_MAX) {
      return Value(static_cast<int32_t>(long_sum));
    }
    return Value(long_sum);
  }

  Value Average() const {
    if (count == 0) return Value();
    if (any_decimal) {
      return Value(DecDiv(Total().as_decimal(), bson::Decimal128::FromInt64(count)));
    }
    long double total = double_sum + static_cast<long double>(long_sum);
    return Value(static_cast<double>(total / count));
  }
};

// Accumulators over one input expression.
class ExprAccSpec : public AccumulatorSpec {
 public:
  using Factory = std::function<std::unique_ptr<Accumulator>(const ExprAccSpec*)>;
  ExprAccSpec(std::string op, ExpressionPtr e, Factory f) : e_(std::move(e)), f_(std::move(f)) {
    op_ = std::move(op);
  }
  Result<std::unique_ptr<Accumulator>> Create(EvalContext&) const override { return f_(this); }
  Result<MaybeValue> Input(EvalContext& ctx) const { return e_->Evaluate(ctx); }

 private:
  ExpressionPtr e_;
  Factory f_;
};

class SumAcc : public Accumulator {
 public:
  SumAcc(const ExprAccSpec* s, bool avg) : s_(s), avg_(avg) {}
  Status Process(EvalContext& ctx) override {
    EDDY_ASSIGN_OR_RETURN(MaybeValue v, s_->Input(ctx));
    if (v && v->is_number()) sum_.Add(*v);
    return Status::OK();
  }
  Result<MaybeValue> Finalize() const override {
    return MaybeValue(avg_ ? sum_.Average() : sum_.Total());
  }

 private:
  const ExprAccSpec* s_;
  bool avg_;
  Summer sum_;
};

class MinMaxAcc : public Accumulator {
 public:
  MinMaxAcc(const ExprAccSpec* s, bool max) : s_(s), max_(max) {}
  Status Process(EvalContext& ctx) override {
    EDDY_ASSIGN_OR_RETURN(MaybeValue v, s_->Input(ctx));
    if (IsNullish(v)) return Status::OK();
    if (!best_ || (max_ ? CompareValues(v, best_) > 0 : CompareValues(v, best_) < 0)) {
      best_ = std::move(v);
    }
    return Status::OK();
  }
  Result<MaybeValue> Finalize() const override { return best_ ? best_ : MaybeValue(Value()); }

 private:
  const ExprAccSpec* s_;
  bool max_;
  MaybeValue best_;
};

class FirstLastAcc : public Accumulator {
 public:
  FirstLastAcc(const ExprAccSpec* s, bool last) : s_(s), last_(last) {}
  Status Process(EvalContext& ctx) override {
    if (seen_ && !last_) return Status::OK();
    EDDY_ASSIGN_OR_RETURN(value_, s_->Input(ctx));
    seen_ = true;
    return Status::OK();
  }
  Result<MaybeValue> Finalize() const override {
    return value_ ? value_ : MaybeValue(Value());
  }

 private:
  const ExprAccSpec* s_;
  bool last_;
  bool seen_ = false;
  MaybeValue value_;
};

class PushAcc : public Accumulator {
 public:
  PushAcc(const ExprAccSpec* s, bool set) : s_(s), set_(set) {}
  Status Process(EvalContext& ctx) override {
    EDDY_ASSIGN_OR_RETURN(MaybeValue v, s_->Input(ctx));
    if (!v) return Status::OK();
    if (set_) {
      if (!seen_.insert(*v).second) return Status::OK();
    }
    memory_ += ApproxSize(*v);
    out_.push_back(std::move(*v));
    return Status::OK();
  }
  Result<MaybeValue> Finalize() const override { return MaybeValue(Value(out_)); }

 private:
  const ExprAccSpec* s_;
  bool set_;
  Array out_;
  std::set<Value, bson::ValueLess> seen_;
};

class StdDevAcc : public Accumulator {
 public:
  StdDevAcc(const ExprAccSpec* s, bool samp) : s_(s), samp_(samp) {}
  Status Process(EvalContext& ctx) override {
    EDDY_ASSIGN_OR_RETURN(MaybeValue v, s_->Input(ctx));
    if (!v || !v->is_number()) return Status::OK();
    double x = v->ToDouble();
    ++n_;
    double delta = x - mean_;
    mean_ += delta / static_cast<double>(n_);
    m2_ += delta * (x - mean_);
    return Status::OK();
  }
  Result<MaybeValue> Finalize() const override {
    int64_t denom = samp_ ? n_ - 1 : n_;
    if (n_ == 0 || denom <= 0) return MaybeValue(Value());
    return MaybeValue(Value(std::sqrt(m2_ / static_cast<double>(denom))));
  }

 private:
  const ExprAccSpec* s_;
  bool samp_;
  int64_t n_ = 0;
  double mean_ = 0, m2_ = 0;
};

class MergeObjectsAcc : public Accumulator {
 public:
  explicit MergeObjectsAcc(const ExprAccSpec* s) : s_(s) {}
  Status Process(EvalContext& ctx) override {
    EDDY_ASSIGN_OR_RETURN(MaybeValue v, s_->Input(ctx));
    if (IsNullish(v)) return Status::OK();
    if (!v->is_document()) {
      return Err(40400, "$mergeObjects requires object inputs, but input " +
                            DescribeForError(v) + " is of type " +
                            std::string(query::TypeNameOf(v)));
    }
    for (const bson::Field& f : v->as_document()) out_.Set(f.name, f.value);
    return Status::OK();
  }
  Result<MaybeValue> Finalize() const override { return MaybeValue(Value(out_)); }

 private:
  const ExprAccSpec* s_;
  Document out_;
};

// ---- N-accumulators: $firstN $lastN $maxN $minN $topN $bottomN $top $bottom

Result<int64_t> EvalN(const ExpressionPtr& n, EvalContext& ctx, const std::string& op) {
  EDDY_ASSIGN_OR_RETURN(MaybeValue v, n->Evaluate(ctx));
  if (!v || !v->is_number()) {
    return Err(5787902, "Value for 'n' must be of integral type, but found " +
                            DescribeForError(v));
  }
  double d = v->ToDouble();
  if (d != std::trunc(d)) {
    return Err(5787903, "Value for 'n' must be of integral type, but found " +
                            DescribeForError(v));
  }
  if (d <= 0) return Err(5787908, "'n' must be greater than 0, found " + DescribeForError(v));
  (void)op;
  return v->ToInt64();
}

class NAccSpec : public AccumulatorSpec {
 public:
  enum Kind { kFirstN, kLastN, kMaxN, kMinN, kTopN, kBottomN };
  NAccSpec(std::string op, Kind kind, ExpressionPtr input, ExpressionPtr n, SortSpec sort,
           bool single)
      : kind_(kind), input_(std::move(input)), n_(std::move(n)), sort_(std::move(sort)),
        single_(single) {
    op_ = std::move(op);
  }
  Result<std::unique_ptr<Accumulator>> Create(EvalContext& first) const override;

  Kind kind_;
  ExpressionPtr input_;
  ExpressionPtr n_;  // null for $top/$bottom
  SortSpec sort_;
  bool single_;
};

class NAcc : public Accumulator {
 public:
  NAcc(const NAccSpec* s, int64_t n) : s_(s), n_(n) {}
  Status Process(EvalContext& ctx) override {
    EDDY_ASSIGN_OR_RETURN(MaybeValue v, s_->input_->Evaluate(ctx));
    switch (s_->kind_) {
      case NAccSpec::kFirstN:
        if (static_cast<int64_t>(items_.size()) < n_) Push({}, v ? *v : Value());
        return Status::OK();
      case NAccSpec::kLastN:
        Push({}, v ? *v : Value());
        if (static_cast<int64_t>(items_.size()) > n_) {
          memory_ -= ApproxSize(items_.front().second);
          items_.erase(items_.begin());
        }
        return Status::OK();
      case NAccSpec::kMaxN:
      case NAccSpec::kMinN: {
        if (IsNullish(v)) return Status::OK();
        Insert({*v}, *v, s_->kind_ == NAccSpec::kMaxN ? -1 : 1);
        return Status::OK();
      }
      case NAccSpec::kTopN:
      case NAccSpec::kBottomN: {
        EDDY_ASSIGN_OR_RETURN(std::vector<Value> key, s_->sort_.ExtractSortKey(ctx.current()));
        Insert(std::move(key), v ? *v : Value(), s_->kind_ == NAccSpec::kTopN ? 1 : -1);
        return Status::OK();
      }
    }
    return Status::OK();
  }

  Result<MaybeValue> Finalize() const override {
    if (s_->single_) {
      if (items_.empty()) return MaybeValue(Value());
      return MaybeValue(items_.front().second);
    }
    Array out;
    for (const auto& it : items_) out.push_back(it.second);
    // $bottomN keeps the last n in sort order, stored best-first; report them in sort order.
    if (s_->kind_ == NAccSpec::kBottomN) std::reverse(out.begin(), out.end());
    return MaybeValue(Value(std::move(out)));
  }

 private:
  void Push(std::vector<Value> key, Value v) {
    memory_ += ApproxSize(v);
    items_.emplace_back(std::move(key), std::move(v));
  }
  int Cmp(const std::vector<Value>& a, const std::vector<Value>& b) const {
    if (s_->kind_ == NAccSpec::kTopN || s_->kind_ == NAccSpec::kBottomN) {
      return s_->sort_.CompareKeys(a, b);
    }
    return CompareValues(a[0], b[0]);
  }
  // Keeps items ordered by dir * Cmp (ascending), at most n; ties keep arrival order for top,
  // and the later arrival wins for bottom (mongod's $bottom is the last in sort order).
  void Insert(std::vector<Value> key, Value v, int dir) {
    // Position: after all items that sort before-or-equal (stable).
    size_t pos = items_.size();
    while (pos > 0 && dir * Cmp(items_[pos - 1].first, key) > 0) --pos;
    if (dir < 0) {
      while (pos > 0 && Cmp(items_[pos - 1].first, key) == 0) --pos;
    }
    if (static_cast<int64_t>(pos) >= n_) return;
    memory_ += ApproxSize(v);
    items_.insert(items_.begin() + static_cast<std::ptrdiff_t>(pos),
                  {std::move(key), std::move(v)});
    if (static_cast<int64_t>(items_.size()) > n_) {
      memory_ -= ApproxSize(items_.back().second);
      items_.pop_back();
    }
  }

  const NAccSpec* s_;
  int64_t n_;
  std::vector<std::pair<std::vector<Value>, Value>> items_;
};

Result<std::unique_ptr<Accumulator>> NAccSpec::Create(EvalContext& first) const {
  int64_t n = 1;
  if (n_) {
    EDDY_ASSIGN_OR_RETURN(n, EvalN(n_, first, op_));
  }
  return std::unique_ptr<Accumulator>(std::make_unique<NAcc>(this, n));
}

Result<AccumulatorSpecPtr> ParseNAccumulator(const std::string& op, const Value& args,
                                             const ParseContext& vars) {
  bool top_family = op == "$top" || op == "$bottom" || op == "$topN" || op == "$bottomN";
  bool single = op == "$top" || op == "$bottom";
  if (!args.is_document()) {
    return Err(5787900, "specification must be an object; found " + Json(args));
  }
  const Value* input = nullptr;
  const Value* n = nullptr;
  const Value* sort_by = nullptr;
  for (const bson::Field& f : args.as_document()) {
    if (f.name == (top_family ? "output" : "input")) {
      input = &f.value;
    } else if (f.name == "n" && !single) {
      n = &f.value;
    } else if (f.name == "sortBy" && top_family) {
      sort_by = &f.value;
    } else {
      return Err(5787901, "Unknown argument for '" + op + "': " + f.name);
    }
  }
  if (input == nullptr) {
    return Err(5787907, "Missing value for '" + std::string(top_family ? "output" : "input") +
                            "'");
  }
  if (!single && n == nullptr) return Err(5787906, "Missing value for 'n'");
  SortSpec sort;
  if (top_family) {
    if (sort_by == nullptr) return Err(5788005, "Missing value for 'sortBy'");
    if (!sort_by->is_document()) {
      return Err(5788004, "'sortBy' must be an object; found " + Json(*sort_by));
    }
    EDDY_ASSIGN_OR_RETURN(sort, SortSpec::Compile(sort_by->as_document()));
  }
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr ie, ParseExpression(*input, vars));
  ExpressionPtr ne;
  if (n != nullptr) {
    EDDY_ASSIGN_OR_RETURN(ne, ParseExpression(*n, vars));
  }
  NAccSpec::Kind kind = op == "$firstN"  ? NAccSpec::kFirstN
                        : op == "$lastN" ? NAccSpec::kLastN
                        : op == "$maxN"  ? NAccSpec::kMaxN
                        : op == "$minN"  ? NAccSpec::kMinN
                        : (op == "$topN" || op == "$top") ? NAccSpec::kTopN
                                                          : NAccSpec::kBottomN;
  return AccumulatorSpecPtr(
      std::make_shared<NAccSpec>(op, kind, std::move(ie), std::move(ne), std::move(sort), single));
}

const std::set<std::string, std::less<>>& AccumulatorNames() {
  static const auto* names = new std::set<std::string, std::less<>>{
      "$sum",    "$avg",       "$min",        "$max",          "$first", "$last",
      "$push",   "$addToSet",  "$stdDevPop",  "$stdDevSamp",   "$mergeObjects",
      "$count",  "$firstN",    "$lastN",      "$maxN",         "$minN",  "$top",
      "$bottom", "$topN",      "$bottomN"};
  return *names;
}

}  // namespace

bool IsAccumulatorName(std::string_view op) { return AccumulatorNames().count(op) > 0; }

Result<AccumulatorSpecPtr> ParseAccumulator(const std::string& op, const Value& args,
                                            const ParseContext& vars, const std::string& field) {
  if (!IsAccumulatorName(op)) return Err(15952, "unknown group operator '" + op + "'");
  if (op == "$firstN" || op == "$lastN" || op == "$maxN" || op == "$minN" || op == "$top" ||
      op == "$bottom" || op == "$topN" || op == "$bottomN") {
    return ParseNAccumulator(op, args, vars);
  }
  ExpressionPtr e;
  std::string name = op;
  if (op == "$count") {
    if (!args.is_document() || !args.as_document().empty()) {
      return Err(40237, "$count takes no arguments, i.e. $count:{}");
    }
    e = MakeConstant(Value(1));
    name = "$sum";
  } else {
    if (args.is_array()) {
      // Accumulators take one operand; an array literal is only allowed for $push-like uses.
      if (op != "$push" && op != "$addToSet" && op != "$mergeObjects") {
        if (args.as_array().size() != 1) {
          return Err(40237, "The " + op + " accumulator is a unary operator");
        }
        EDDY_ASSIGN_OR_RETURN(e, ParseExpression(args.as_array()[0], vars));
      } else {
        EDDY_ASSIGN_OR_RETURN(e, ParseExpression(args, vars));
      }
    } else {
      EDDY_ASSIGN_OR_RETURN(e, ParseExpression(args, vars));
    }
  }
  (void)field;
  ExprAccSpec::Factory f;
  if (name == "$sum") {
    f = [](const ExprAccSpec* s) { return std::make_unique<SumAcc>(s, false); };
  } else if (name == "$avg") {
    f = [](const ExprAccSpec* s) { return std::make_unique<SumAcc>(s, true); };
  } else if (name == "$min" || name == "$max") {
    bool max = name == "$max";
    f = [max](const ExprAccSpec* s) { return std::make_unique<MinMaxAcc>(s, max); };
  } else if (name == "$first" || name == "$last") {
    bool last = name == "$last";
    f = [last](const ExprAccSpec* s) { return std::make_unique<FirstLastAcc>(s, last); };
  } else if (name == "$push" || name == "$addToSet") {
    bool set = name == "$addToSet";
    f = [set](const ExprAccSpec* s) { return std::make_unique<PushAcc>(s, set); };
  } else if (name == "$stdDevPop" || name == "$stdDevSamp") {
    bool samp = name == "$stdDevSamp";
    f = [samp](const ExprAccSpec* s) { return std::make_unique<StdDevAcc>(s, samp); };
  } else {
    f = [](const ExprAccSpec* s) { return std::make_unique<MergeObjectsAcc>(s); };
  }
  return AccumulatorSpecPtr(std::make_shared<ExprAccSpec>(op, std::move(e), std::move(f)));
}

}  // namespace eddy::query::agg_internal
