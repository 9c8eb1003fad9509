// $setWindowFields: partition (partitionBy), order (sortBy), then compute each output field
// per document over a window of its partition: {documents: [lo, hi]} (positions relative to
// the current document) or {range: [lo, hi]} (values relative to the current sortBy value,
// with an optional time unit), each bound a number, "current" or "unbounded". The default
// window is the whole partition. Windows whose lower bound is "unbounded" are computed
// incrementally; others are recomputed per document.
#include <algorithm>
#include <cmath>

#include "bson/compare.h"
#include "query/agg/accumulator.h"
#include "query/agg/stage.h"
#include "query/sort/sort.h"

namespace eddy::query::agg_internal {

using bson::Array;
using bson::Document;
using bson::Value;

namespace {

struct Bound {
  enum Kind { kUnbounded, kCurrent, kOffset } kind = kUnbounded;
  Value offset;  // for kOffset
};

struct WindowFn {
  enum Kind { kAccumulator, kRank, kDenseRank, kDocumentNumber, kShift, kLocf } kind;
  std::string field;
  AccumulatorSpecPtr acc;
  ExpressionPtr input;        // $shift output / $locf input
  int64_t shift_by = 0;
  MaybeValue shift_default;   // constant
  bool has_window = false;
  bool range = false;
  Bound lower, upper;
  int64_t unit_millis = 0;    // range with a time unit (0: none)
};

int64_t UnitMillis(const std::string& unit) {
  if (unit == "millisecond") return 1;
  if (unit == "second") return 1000;
  if (unit == "minute") return 60 * 1000;
  if (unit == "hour") return 3600 * 1000;
  if (unit == "day") return 86400 * 1000LL;
  if (unit == "week") return 7 * 86400 * 1000LL;
  return 0;
}

struct Row {
  Value partition;
  std::vector<Value> key;
  Document doc;
  size_t seq;
};

class WindowStage : public Stage {
 public:
  ExpressionPtr partition_by;  // may be null
  std::optional<SortSpec> sort_by;
  std::string sort_path;  // the single sortBy path (for range windows)
  int sort_dir = 1;
  std::vector<WindowFn> fns;

  Result<std::unique_ptr<DocStream>> Open(std::unique_ptr<DocStream> in,
                                          const RunState& rs) const override {
    MemoryTracker mem(rs, "$setWindowFields");
    std::vector<Row> rows;
    Document d;
    while (true) {
      EDDY_ASSIGN_OR_RETURN(bool more, in->Next(&d));
      if (!more) break;
      Row r;
      if (partition_by) {
        EvalContext ctx = rs.Context(d);
        EDDY_ASSIGN_OR_RETURN(MaybeValue p, partition_by->Evaluate(ctx));
        if (p && p->is_array()) {
          return Err(5722400, "$setWindowFields partitionBy must not evaluate to an array");
        }
        r.partition = p ? std::move(*p) : Value();
      }
      if (sort_by) {
        EDDY_ASSIGN_OR_RETURN(r.key, sort_by->ExtractSortKey(d));
      }
      EDDY_RETURN_IF_ERROR(mem.Add(ApproxSize(d)));
      r.seq = rows.size();
      r.doc = std::move(d);
      rows.push_back(std::move(r));
    }
    std::stable_sort(rows.begin(), rows.end(), [this](const Row& a, const Row& b) {
      int c = CompareValues(a.partition, b.partition);
      if (c != 0) return c < 0;
      if (sort_by) return sort_by->CompareKeys(a.key, b.key) < 0;
      return false;
    });
    // Outputs are computed against the original documents, then written.
    std::vector<std::vector<MaybeValue>> results(rows.size(),
                                                 std::vector<MaybeValue>(fns.size()));
    size_t start = 0;
    while (start < rows.size()) {
      size_t end = start + 1;
      while (end < rows.size() && CompareValues(rows[end].partition, rows[start].partition) == 0) {
        ++end;
      }
      for (size_t f = 0; f < fns.size(); ++f) {
        EDDY_RETURN_IF_ERROR(Compute(fns[f], rows, start, end, f, &results, rs));
      }
      start = end;
    }
    std::vector<Document> out;
    out.reserve(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      for (size_t f = 0; f < fns.size(); ++f) {
        if (results[i][f]) {
          SetPath(&rows[i].doc, fns[f].field, std::move(*results[i][f]));
        } else {
          RemovePath(&rows[i].doc, fns[f].field);
        }
      }
      out.push_back(std::move(rows[i].doc));
    }
    return MakeVectorStream(std::move(out));
  }

 private:
  // The numeric/date sort value of a row for range windows.
  Result<Value> RangeValue(const Row& r) const {
    const Value& v = r.key.at(0);
    if (!v.is_number() && v.type() != bson::Type::kDateTime) {
      return Err(5429413, "Invalid range: Expected the sortBy field to be a number or a date, "
                          "but it was " + TypeNameOf(v));
    }
    return v;
  }

  static Value AddOffset(const Value& base, const Value& off, int64_t unit) {
    if (base.type() == bson::Type::kDateTime) {
      return Value(bson::DateTime{base.as_date().millis + off.ToInt64() * (unit ? unit : 1)});
    }
    if (base.is_decimal() || off.is_decimal() || base.is_double() || off.is_double()) {
      return Value(base.ToDouble() + off.ToDouble());
    }
    return Value(base.ToInt64() + off.ToInt64());
  }

  // [lo, hi) of the window of row i, within [start, end).
  Result<std::pair<size_t, size_t>> WindowOf(const WindowFn& fn, const std::vector<Row>& rows,
                                             size_t start, size_t end, size_t i) const {
    if (!fn.has_window) return std::make_pair(start, end);
    if (!fn.range) {
      auto pos = [&](const Bound& b, bool upper) -> int64_t {
        if (b.kind == Bound::kUnbounded) {
          return upper ? static_cast<int64_t>(end) : static_cast<int64_t>(start);
        }
        int64_t off = b.kind == Bound::kCurrent ? 0 : b.offset.ToInt64();
        int64_t p = static_cast<int64_t>(i) + off + (upper ? 1 : 0);
        return std::clamp<int64_t>(p, static_cast<int64_t>(start), static_cast<int64_t>(end));
      };
      int64_t lo = pos(fn.lower, false), hi = pos(fn.upper, true);
      if (hi < lo) hi = lo;
      return std::make_pair(static_cast<size_t>(lo), static_cast<size_t>(hi));
    }
    EDDY_ASSIGN_OR_RETURN(Value cur, RangeValue(rows[i]));
    // Bounds in sort order: with a descending sort, "lower" offsets are towards larger values.
    auto in_lower = [&](const Value& v) -> Result<bool> {
      if (fn.lower.kind == Bound::kUnbounded) return true;
      Value b = fn.lower.kind == Bound::kCurrent ? cur : AddOffset(cur, fn.lower.offset,
                                                                    fn.unit_millis);
      return sort_dir > 0 ? bson::Compare(v, b) >= 0 : bson::Compare(v, b) <= 0;
    };
    auto in_upper = [&](const Value& v) -> Result<bool> {
      if (fn.upper.kind == Bound::kUnbounded) return true;
      Value b = fn.upper.kind == Bound::kCurrent ? cur : AddOffset(cur, fn.upper.offset,
                                                                    fn.unit_millis);
      return sort_dir > 0 ? bson::Compare(v, b) <= 0 : bson::Compare(v, b) >= 0;
    };
    size_t lo = start;
    while (lo < end) {
      EDDY_ASSIGN_OR_RETURN(Value v, RangeValue(rows[lo]));
      EDDY_ASSIGN_OR_RETURN(bool ok, in_lower(v));
      if (ok) break;
      ++lo;
    }
    size_t hi = lo;
    while (hi < end) {
      EDDY_ASSIGN_OR_RETURN(Value v, RangeValue(rows[hi]));
      EDDY_ASSIGN_OR_RETURN(bool ok, in_upper(v));
      if (!ok) break;
      ++hi;
    }
    return std::make_pair(lo, hi);
  }

  Status Compute(const WindowFn& fn, const std::vector<Row>& rows, size_t start, size_t end,
                 size_t f, std::vector<std::vector<MaybeValue>>* results,
                 const RunState& rs) const {
    switch (fn.kind) {
      case WindowFn::kDocumentNumber:
        for (size_t i = start; i < end; ++i) {
          (*results)[i][f] = Value(static_cast<int32_t>(i - start + 1));
        }
        return Status::OK();
      case WindowFn::kRank:
      case WindowFn::kDenseRank: {
        int64_t rank = 0, dense = 0;
        for (size_t i = start; i < end; ++i) {
          if (i == start || sort_by->CompareKeys(rows[i - 1].key, rows[i].key) != 0) {
            rank = static_cast<int64_t>(i - start + 1);
            ++dense;
          }
          int64_t v = fn.kind == WindowFn::kRank ? rank : dense;
          (*results)[i][f] = Value(static_cast<int32_t>(v));
        }
        return Status::OK();
      }
      case WindowFn::kShift:
        for (size_t i = start; i < end; ++i) {
          int64_t j = static_cast<int64_t>(i) + fn.shift_by;
          if (j < static_cast<int64_t>(start) || j >= static_cast<int64_t>(end)) {
            (*results)[i][f] = fn.shift_default ? fn.shift_default : MaybeValue(Value());
            continue;
          }
          EvalContext ctx = rs.Context(rows[static_cast<size_t>(j)].doc);
          EDDY_ASSIGN_OR_RETURN(MaybeValue v, fn.input->Evaluate(ctx));
          (*results)[i][f] = v ? std::move(v) : MaybeValue(Value());
        }
        return Status::OK();
      case WindowFn::kLocf: {
        MaybeValue last;
        for (size_t i = start; i < end; ++i) {
          EvalContext ctx = rs.Context(rows[i].doc);
          EDDY_ASSIGN_OR_RETURN(MaybeValue v, fn.input->Evaluate(ctx));
          if (!IsNullish(v)) last = v;
          (*results)[i][f] = IsNullish(v) ? (last ? last : MaybeValue(Value())) : v;
        }
        return Status::OK();
      }
      case WindowFn::kAccumulator: break;
    }
    bool incremental = !fn.has_window || fn.lower.kind == Bound::kUnbounded;
    std::unique_ptr<Accumulator> acc;
    size_t fed = start;
    std::optional<std::pair<size_t, size_t>> whole;
    MaybeValue whole_value;
    for (size_t i = start; i < end; ++i) {
      EDDY_ASSIGN_OR_RETURN(auto win, WindowOf(fn, rows, start, end, i));
      if (!fn.has_window) {
        if (!whole) {
          whole = win;
          EvalContext first = rs.Context(rows[start].doc);
          EDDY_ASSIGN_OR_RETURN(acc, fn.acc->Create(first));
          for (size_t k = win.first; k < win.second; ++k) {
            EvalContext ctx = rs.Context(rows[k].doc);
            EDDY_RETURN_IF_ERROR(acc->Process(ctx));
          }
          EDDY_ASSIGN_OR_RETURN(whole_value, acc->Finalize());
        }
        (*results)[i][f] = whole_value;
        continue;
      }
      if (incremental) {
        if (!acc) {
          EvalContext first = rs.Context(rows[start].doc);
          EDDY_ASSIGN_OR_RETURN(acc, fn.acc->Create(first));
        }
        for (; fed < win.second; ++fed) {
          EvalContext ctx = rs.Context(rows[fed].doc);
          EDDY_RETURN_IF_ERROR(acc->Process(ctx));
        }
        EDDY_ASSIGN_OR_RETURN((*results)[i][f], acc->Finalize());
        continue;
      }
      EvalContext first = rs.Context(rows[i].doc);
      EDDY_ASSIGN_OR_RETURN(auto a, fn.acc->Create(first));
      for (size_t k = win.first; k < win.second; ++k) {
        EvalContext ctx = rs.Context(rows[k].doc);
        EDDY_RETURN_IF_ERROR(a->Process(ctx));
      }
      EDDY_ASSIGN_OR_RETURN((*results)[i][f], a->Finalize());
    }
    return Status::OK();
  }
};

Result<Bound> ParseBound(const Value& v, bool range) {
  Bound b;
  if (v.is_string()) {
    if (v.as_string() == "unbounded") return b;
    if (v.as_string() == "current") {
      b.kind = Bound::kCurrent;
      return b;
    }
  }
  if (v.is_number()) {
    double d = v.ToDouble();
    if (!range && d != std::trunc(d)) {
      return Err(5339900, "Numeric document-based bounds must be an integer");
    }
    b.kind = Bound::kOffset;
    b.offset = v;
    return b;
  }
  return Err(5339900, std::string("Window bounds must be 'unbounded', 'current', or a ") +
                          (range ? "number" : "integer") + ", got " + Json(v));
}

Status ParseWindow(const Value& w, WindowFn* fn, bool has_single_sort) {
  if (!w.is_document()) return Err(5339901, "'window' field must be an object");
  const Value* docs = nullptr;
  const Value* range = nullptr;
  std::string unit;
  for (const bson::Field& f : w.as_document()) {
    if (f.name == "documents") {
      docs = &f.value;
    } else if (f.name == "range") {
      range = &f.value;
    } else if (f.name == "unit") {
      if (!f.value.is_string()) return Err(5339902, "'unit' must be a string");
      unit = f.value.as_string();
    } else {
      return Err(5339901, "'window' field can only contain 'documents' as the only argument or "
                          "'range' with an optional 'unit' field");
    }
  }
  if ((docs == nullptr) == (range == nullptr)) {
    return Err(5339901, "'window' field can only contain 'documents' as the only argument or "
                        "'range' with an optional 'unit' field");
  }
  const Value* b = docs != nullptr ? docs : range;
  if (!b->is_array() || b->as_array().size() != 2) {
    return Err(5339902, std::string("Window bounds must be a 2-element array: ") + Json(*b));
  }
  fn->has_window = true;
  fn->range = range != nullptr;
  EDDY_ASSIGN_OR_RETURN(fn->lower, ParseBound(b->as_array()[0], fn->range));
  EDDY_ASSIGN_OR_RETURN(fn->upper, ParseBound(b->as_array()[1], fn->range));
  if (fn->lower.kind == Bound::kUnbounded && b->as_array()[0] != Value("unbounded")) {
    // unreachable: ParseBound returns unbounded only for the string
  }
  if (!unit.empty()) {
    if (!fn->range) return Err(5339902, "Document-based bounds cannot have a 'unit'");
    fn->unit_millis = UnitMillis(unit);
    if (fn->unit_millis == 0) {
      return Err(238, "eddy supports range window units up to 'week', not '" + unit + "'");
    }
  }
  if (fn->range && !has_single_sort) {
    return Err(5339902, "Range-based window requires sortBy a single field");
  }
  // Lower must not come after upper.
  auto rank = [](const Bound& x) {
    return x.kind == Bound::kCurrent ? 0.0 : x.offset.ToDouble();
  };
  if (fn->lower.kind != Bound::kUnbounded && fn->upper.kind != Bound::kUnbounded &&
      rank(fn->lower) > rank(fn->upper)) {
    return Err(5339900, "Lower bound must not exceed upper bound: " + Json(*b));
  }
  if (fn->upper.kind == Bound::kUnbounded && b->as_array()[1].is_string() &&
      fn->lower.kind == Bound::kUnbounded) {
    // ["unbounded", "unbounded"]: the whole partition.
  }
  return Status::OK();
}

}  // namespace

Result<StageList> ParseSetWindowFields(const Value& spec, const ParseState& ps) {
  if (!spec.is_document()) {
    return Err(14, "the $setWindowFields stage specification must be an object");
  }
  auto st = std::make_shared<WindowStage>();
  const Value* output = nullptr;
  for (const bson::Field& f : spec.as_document()) {
    if (f.name == "partitionBy") {
      EDDY_ASSIGN_OR_RETURN(st->partition_by, ParseExpression(f.value, ps.vars));
    } else if (f.name == "sortBy") {
      if (!f.value.is_document()) {
        return Err(14, "BSON field '$setWindowFields.sortBy' is the wrong type '" +
                           TypeNameOf(f.value) + "', expected type 'object'");
      }
      EDDY_ASSIGN_OR_RETURN(SortSpec s, SortSpec::Compile(f.value.as_document()));
      if (s.keys().size() == 1) {
        st->sort_path = s.keys()[0].path;
        st->sort_dir = s.keys()[0].direction;
      }
      st->sort_by = std::move(s);
    } else if (f.name == "output") {
      if (!f.value.is_document()) {
        return Err(14, "BSON field '$setWindowFields.output' is the wrong type '" +
                           TypeNameOf(f.value) + "', expected type 'object'");
      }
      output = &f.value;
    } else {
      return Err(40415, "BSON field '$setWindowFields." + f.name + "' is an unknown field.");
    }
  }
  if (output == nullptr) {
    return Err(40414, "BSON field '$setWindowFields.output' is missing but a required field");
  }
  bool single_sort = st->sort_by && st->sort_by->keys().size() == 1;
  for (const bson::Field& f : output->as_document()) {
    EDDY_RETURN_IF_ERROR(ValidateFieldPath(f.name, false, 40352, "output field").status());
    if (!f.value.is_document()) {
      return Err(5371603, "Window function '" + f.name + "' must be an object");
    }
    WindowFn fn;
    fn.field = f.name;
    const Value* window = nullptr;
    const bson::Field* op = nullptr;
    for (const bson::Field& g : f.value.as_document()) {
      if (g.name == "window") {
        window = &g.value;
      } else if (op == nullptr) {
        op = &g;
      } else {
        return Err(5371600, "Window function found an unknown argument: " + g.name);
      }
    }
    if (op == nullptr) return Err(5371603, "Expected a window function in " + f.name);
    const std::string& name = op->name;
    if (name == "$rank" || name == "$denseRank" || name == "$documentNumber") {
      if (!op->value.is_document() || !op->value.as_document().empty() || window != nullptr) {
        return Err(5371601, "Rank style window functions take no other arguments");
      }
      if (!single_sort) {
        return Err(5371602, name + " must be specified with a top level sortBy expression with "
                                   "exactly one element");
      }
      fn.kind = name == "$rank"        ? WindowFn::kRank
                : name == "$denseRank" ? WindowFn::kDenseRank
                                       : WindowFn::kDocumentNumber;
    } else if (name == "$shift") {
      if (window != nullptr) return Err(5644901, "$shift does not accept a 'window' field");
      if (!st->sort_by) return Err(5644902, "$shift requires a sortBy");
      if (!op->value.is_document()) return Err(5644903, "Argument to $shift must be an object");
      const Value* out_e = nullptr;
      const Value* by = nullptr;
      const Value* def = nullptr;
      for (const bson::Field& g : op->value.as_document()) {
        if (g.name == "output") {
          out_e = &g.value;
        } else if (g.name == "by") {
          by = &g.value;
        } else if (g.name == "default") {
          def = &g.value;
        } else {
          return Err(5644904, "Unknown argument in $shift: " + g.name);
        }
      }
      if (out_e == nullptr) return Err(5644905, "$shift requires an 'output' expression.");
      if (by == nullptr || !by->is_number() || by->ToDouble() != std::trunc(by->ToDouble())) {
        return Err(5644906, "$shift requires 'by' as an integer value.");
      }
      fn.kind = WindowFn::kShift;
      EDDY_ASSIGN_OR_RETURN(fn.input, ParseExpression(*out_e, ps.vars));
      fn.shift_by = by->ToInt64();
      if (def != nullptr) {
        EDDY_ASSIGN_OR_RETURN(ExpressionPtr de, ParseExpression(*def, ps.vars));
        if (!de->IsConstant()) return Err(5644907, "'$shift:default' expression must be a constant");
        Document empty;
        EvalContext ctx(empty);
        EDDY_ASSIGN_OR_RETURN(fn.shift_default, de->Evaluate(ctx));
      }
    } else if (name == "$locf") {
      fn.kind = WindowFn::kLocf;
      EDDY_ASSIGN_OR_RETURN(fn.input, ParseExpression(op->value, ps.vars));
    } else if (IsAccumulatorName(name)) {
      fn.kind = WindowFn::kAccumulator;
      EDDY_ASSIGN_OR_RETURN(fn.acc, ParseAccumulator(name, op->value, ps.vars, f.name));
    } else {
      return Err(5397500, "Unrecognized window function, " + name);
    }
    if (window != nullptr) EDDY_RETURN_IF_ERROR(ParseWindow(*window, &fn, single_sort));
    if (fn.has_window && !fn.range && !st->sort_by &&
        !(fn.lower.kind == Bound::kUnbounded && fn.upper.kind == Bound::kUnbounded)) {
      return Err(5339901, "Document-based bounds require a sortBy");
    }
    st->fns.push_back(std::move(fn));
  }
  return StageList{std::move(st)};
}

}  // namespace eddy::query::agg_internal
