// The blocking stages that reorder or aggregate: $sort (with $limit folded in: top-k),
// $group, $sortByCount, $bucket, $bucketAuto.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "bson/compare.h"
#include "query/agg/accumulator.h"
#include "query/agg/stage.h"
#include "query/sort/sort.h"

namespace eddy::query::agg_internal {

using bson::Array;
using bson::Document;
using bson::Value;

namespace {

// ---- $sort

class SortStage : public Stage {
 public:
  explicit SortStage(SortSpec spec) : spec_(std::move(spec)) {}
  bool AbsorbLimit(int64_t k) override {
    limit_ = limit_ ? std::min(*limit_, k) : k;
    return true;
  }

  Result<std::unique_ptr<DocStream>> Open(std::unique_ptr<DocStream> in,
                                          const RunState& rs) const override {
    MemoryTracker mem(rs, "$sort");
    struct Item {
      std::vector<Value> key;
      size_t seq;
      Document doc;
      int64_t size;
    };
    std::vector<Item> items;
    auto less = [this](const Item& a, const Item& b) {
      int c = spec_.CompareKeys(a.key, b.key);
      return c != 0 ? c < 0 : a.seq < b.seq;
    };
    Document d;
    size_t seq = 0;
    while (true) {
      EDDY_ASSIGN_OR_RETURN(bool more, in->Next(&d));
      if (!more) break;
      EDDY_ASSIGN_OR_RETURN(std::vector<Value> key, spec_.ExtractSortKey(d));
      Item it{std::move(key), seq++, std::move(d), 0};
      if (limit_) {
        // Top-k: a max-heap of the k best so far.
        if (static_cast<int64_t>(items.size()) == *limit_) {
          if (!less(it, items.front())) continue;
          std::pop_heap(items.begin(), items.end(), less);
          mem.Release(items.back().size);
          items.pop_back();
        }
        it.size = ApproxSize(it.doc);
        EDDY_RETURN_IF_ERROR(mem.Add(it.size));
        items.push_back(std::move(it));
        std::push_heap(items.begin(), items.end(), less);
      } else {
        it.size = ApproxSize(it.doc);
        EDDY_RETURN_IF_ERROR(mem.Add(it.size));
        items.push_back(std::move(it));
      }
    }
    std::sort(items.begin(), items.end(), less);
    std::vector<Document> out;
    out.reserve(items.size());
    for (Item& it : items) out.push_back(std::move(it.doc));
    return MakeVectorStream(std::move(out));
  }

 private:
  SortSpec spec_;
  std::optional<int64_t> limit_;
};

// ---- $group

struct GroupField {
  std::string name;
  AccumulatorSpecPtr acc;
};

using KeyFn = std::function<Result<Value>(EvalContext&)>;

class GroupStage : public Stage {
 public:
  GroupStage(KeyFn key, std::vector<GroupField> fields, std::string name)
      : key_(std::move(key)), fields_(std::move(fields)), name_(std::move(name)) {}

  Result<std::unique_ptr<DocStream>> Open(std::unique_ptr<DocStream> in,
                                          const RunState& rs) const override {
    MemoryTracker mem(rs, name_);
    struct Group {
      Value key;
      std::vector<std::unique_ptr<Accumulator>> accs;
      int64_t memory = 0;
    };
    std::vector<Group> groups;
    std::unordered_map<Value, size_t, bson::ValueHash, bson::ValueEq> index;
    Document d;
    while (true) {
      EDDY_ASSIGN_OR_RETURN(bool more, in->Next(&d));
      if (!more) break;
      EvalContext ctx = rs.Context(d);
      EDDY_ASSIGN_OR_RETURN(Value key, key_(ctx));
      auto it = index.find(key);
      size_t gi;
      if (it == index.end()) {
        Group g;
        g.key = key;
        for (const GroupField& f : fields_) {
          EDDY_ASSIGN_OR_RETURN(auto acc, f.acc->Create(ctx));
          g.accs.push_back(std::move(acc));
        }
        EDDY_RETURN_IF_ERROR(mem.Add(ApproxSize(key) + 64));
        gi = groups.size();
        index.emplace(std::move(key), gi);
        groups.push_back(std::move(g));
      } else {
        gi = it->second;
      }
      Group& g = groups[gi];
      int64_t before = 0, after = 0;
      for (auto& acc : g.accs) {
        before += acc->memory();
        EDDY_RETURN_IF_ERROR(acc->Process(ctx));
        after += acc->memory();
      }
      if (after != before) EDDY_RETURN_IF_ERROR(mem.Add(after - before));
    }
    std::vector<Document> out;
    out.reserve(groups.size());
    for (Group& g : groups) {
      Document r;
      r.Append("_id", std::move(g.key));
      for (size_t i = 0; i < fields_.size(); ++i) {
        EDDY_ASSIGN_OR_RETURN(MaybeValue v, g.accs[i]->Finalize());
        r.Append(fields_[i].name, v ? std::move(*v) : Value());
      }
      out.push_back(std::move(r));
    }
    return MakeVectorStream(std::move(out));
  }

 private:
  KeyFn key_;
  std::vector<GroupField> fields_;
  std::string name_;
};

Result<std::vector<GroupField>> ParseGroupFields(const Document& spec, const ParseContext& vars,
                                                 bool skip_id, const std::string& stage) {
  std::vector<GroupField> fields;
  for (const bson::Field& f : spec) {
    if (skip_id && f.name == "_id") continue;
    if (f.name.find('.') != std::string::npos) {
      return Err(40235, "The field name '" + f.name + "' cannot contain '.'");
    }
    if (!f.name.empty() && f.name[0] == '$') {
      return Err(40236, "The field name '" + f.name + "' cannot be an operator name");
    }
    if (!f.value.is_document()) {
      return Err(40234, "The field '" + f.name + "' must be an accumulator object");
    }
    const Document& a = f.value.as_document();
    if (a.size() != 1) {
      return Err(40238, "The field '" + f.name + "' must specify one accumulator");
    }
    for (const GroupField& g : fields) {
      if (g.name == f.name) {
        return Err(16406, "duplicate field name specified in " + stage + ": " + f.name);
      }
    }
    EDDY_ASSIGN_OR_RETURN(AccumulatorSpecPtr acc,
                          ParseAccumulator(a.at(0).name, a.at(0).value, vars, f.name));
    fields.push_back({f.name, std::move(acc)});
  }
  return fields;
}

KeyFn ExprKey(ExpressionPtr e) {
  return [e](EvalContext& ctx) -> Result<Value> {
    EDDY_ASSIGN_OR_RETURN(MaybeValue v, e->Evaluate(ctx));
    return v ? std::move(*v) : Value();
  };
}

Result<StagePtr> SortOnId(int dir) {
  Document s;
  s.Append("_id", Value(dir));
  return MakeSortStageFromSpec(s, "$sort");
}

// ---- $bucketAuto

class BucketAutoStage : public Stage {
 public:
  BucketAutoStage(ExpressionPtr group_by, int64_t buckets, std::vector<GroupField> fields)
      : group_by_(std::move(group_by)), buckets_(buckets), fields_(std::move(fields)) {}

  Result<std::unique_ptr<DocStream>> Open(std::unique_ptr<DocStream> in,
                                          const RunState& rs) const override {
    MemoryTracker mem(rs, "$bucketAuto");
    std::vector<std::pair<Value, Document>> items;
    Document d;
    while (true) {
      EDDY_ASSIGN_OR_RETURN(bool more, in->Next(&d));
      if (!more) break;
      EvalContext ctx = rs.Context(d);
      EDDY_ASSIGN_OR_RETURN(MaybeValue v, group_by_->Evaluate(ctx));
      Value key = v ? std::move(*v) : Value();
      EDDY_RETURN_IF_ERROR(mem.Add(ApproxSize(d)));
      items.emplace_back(std::move(key), std::move(d));
    }
    std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
      return CompareValues(a.first, b.first) < 0;
    });
    std::vector<Document> out;
    if (items.empty()) return MakeVectorStream(std::move(out));
    double approx = static_cast<double>(items.size()) / static_cast<double>(buckets_);
    size_t size = std::max<size_t>(1, static_cast<size_t>(std::llround(approx)));
    struct Bucket {
      size_t begin, end;
    };
    std::vector<Bucket> bs;
    size_t i = 0;
    while (i < items.size()) {
      size_t end;
      if (static_cast<int64_t>(bs.size()) + 1 == buckets_) {
        end = items.size();
      } else {
        end = std::min(items.size(), i + size);
        while (end < items.size() && CompareValues(items[end].first, items[end - 1].first) == 0) {
          ++end;
        }
      }
      bs.push_back({i, end});
      i = end;
    }
    for (size_t b = 0; b < bs.size(); ++b) {
      Document id;
      id.Append("min", items[bs[b].begin].first);
      id.Append("max", b + 1 < bs.size() ? items[bs[b + 1].begin].first
                                         : items[bs[b].end - 1].first);
      Document r;
      r.Append("_id", Value(std::move(id)));
      if (fields_.empty()) {
        r.Append("count", Value(static_cast<int32_t>(bs[b].end - bs[b].begin)));
      } else {
        std::vector<std::unique_ptr<Accumulator>> accs;
        for (size_t k = bs[b].begin; k < bs[b].end; ++k) {
          EvalContext ctx = rs.Context(items[k].second);
          if (accs.empty()) {
            for (const GroupField& f : fields_) {
              EDDY_ASSIGN_OR_RETURN(auto acc, f.acc->Create(ctx));
              accs.push_back(std::move(acc));
            }
          }
          for (auto& acc : accs) EDDY_RETURN_IF_ERROR(acc->Process(ctx));
        }
        for (size_t k = 0; k < fields_.size(); ++k) {
          EDDY_ASSIGN_OR_RETURN(MaybeValue v, accs[k]->Finalize());
          r.Append(fields_[k].name, v ? std::move(*v) : Value());
        }
      }
      out.push_back(std::move(r));
    }
    return MakeVectorStream(std::move(out));
  }

 private:
  ExpressionPtr group_by_;
  int64_t buckets_;
  std::vector<GroupField> fields_;
};

}  // namespace

Result<StagePtr> MakeSortStageFromSpec(const Document& spec, std::string_view stage_name,
                                       CollatorPtr collator) {
  if (spec.empty()) {
    return Err(15976, std::string(stage_name) + " stage must have at least one sort key");
  }
  EDDY_ASSIGN_OR_RETURN(SortSpec s, SortSpec::Compile(spec, std::move(collator)));
  if (s.has_meta()) {
    return Err(238, "$meta sort keys are not supported by eddy's aggregation");
  }
  if (s.natural_direction()) {
    return Err(2, "$natural is not a valid sort key in the aggregation " +
                      std::string(stage_name) + " stage");
  }
  return StagePtr(std::make_shared<SortStage>(std::move(s)));
}

Result<StageList> ParseSort(const Value& spec, const ParseState& ps) {
  if (!spec.is_document()) {
    return Err(15973, "the $sort key specification must be an object");
  }
  EDDY_ASSIGN_OR_RETURN(StagePtr s, MakeSortStageFromSpec(spec.as_document(), "$sort",
                                                          ps.options ? ps.options->collator
                                                                     : nullptr));
  return StageList{std::move(s)};
}

Result<StageList> ParseGroup(const Value& spec, const ParseState& ps) {
  if (!spec.is_document()) {
    return Err(15947, "a group's fields must be specified in an object");
  }
  const Document& d = spec.as_document();
  const Value* id = d.Get("_id");
  if (id == nullptr) return Err(15955, "a group specification must include an _id");
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr key, ParseExpression(*id, ps.vars));
  EDDY_ASSIGN_OR_RETURN(auto fields, ParseGroupFields(d, ps.vars, true, "$group"));
  return StageList{std::make_shared<GroupStage>(ExprKey(key), std::move(fields), "$group")};
}

Result<StageList> ParseSortByCount(const Value& spec, const ParseState& ps) {
  bool ok = (spec.is_string() && !spec.as_string().empty() && spec.as_string()[0] == '$') ||
            (spec.is_document() && spec.as_document().size() == 1 &&
             !spec.as_document().at(0).name.empty() && spec.as_document().at(0).name[0] == '$');
  if (!ok) {
    return Err(40148, "the sortByCount field must be specified as a $-prefixed path or as an "
                      "expression object");
  }
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr key, ParseExpression(spec, ps.vars));
  std::vector<GroupField> fields;
  EDDY_ASSIGN_OR_RETURN(AccumulatorSpecPtr count,
                        ParseAccumulator("$sum", Value(1), ps.vars, "count"));
  fields.push_back({"count", std::move(count)});
  Document sort;
  sort.Append("count", Value(-1));
  EDDY_ASSIGN_OR_RETURN(StagePtr s, MakeSortStageFromSpec(sort, "$sortByCount"));
  return StageList{std::make_shared<GroupStage>(ExprKey(key), std::move(fields), "$sortByCount"),
                   std::move(s)};
}

Result<StageList> ParseBucket(const Value& spec, const ParseState& ps) {
  if (!spec.is_document()) {
    return Err(40201, "Argument to $bucket stage must be an object, but found type: " +
                          TypeNameOf(spec) + ".");
  }
  const Value* group_by = nullptr;
  const Value* boundaries = nullptr;
  const Value* def = nullptr;
  const Value* output = nullptr;
  for (const bson::Field& f : spec.as_document()) {
    if (f.name == "groupBy") {
      group_by = &f.value;
    } else if (f.name == "boundaries") {
      boundaries = &f.value;
    } else if (f.name == "default") {
      def = &f.value;
    } else if (f.name == "output") {
      output = &f.value;
    } else {
      return Err(40197, "Unrecognized option to $bucket: " + f.name + ".");
    }
  }
  if (group_by == nullptr || boundaries == nullptr) {
    return Err(40198, "$bucket requires 'groupBy' and 'boundaries' to be specified.");
  }
  bool gb_ok = (group_by->is_string() && !group_by->as_string().empty() &&
                group_by->as_string()[0] == '$') ||
               group_by->is_document();
  if (!gb_ok) {
    return Err(40202, "The $bucket 'groupBy' field must be defined as a $-prefixed path or an "
                      "expression, but found: " + Json(*group_by) + ".");
  }
  if (!boundaries->is_array() || boundaries->as_array().size() < 2) {
    return Err(40192, "The $bucket 'boundaries' field must be an array of at least 2 values, "
                      "but found: " + Json(*boundaries));
  }
  const Array& bounds = boundaries->as_array();
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (i > 0) {
      if (bson::CanonicalTypeRank(bounds[i].type()) !=
          bson::CanonicalTypeRank(bounds[i - 1].type())) {
        return Err(40193, "All values in the the 'boundaries' option to $bucket must have the "
                          "same type. Found conflicting types " + TypeNameOf(bounds[i - 1]) +
                          " and " + TypeNameOf(bounds[i]) + ".");
      }
      if (bson::Compare(bounds[i - 1], bounds[i]) >= 0) {
        return Err(40194, "The 'boundaries' option to $bucket must be sorted in ascending order, "
                          "but elements " + std::to_string(i - 1) + " and " + std::to_string(i) +
                          " are not in ascending order (" + Json(bounds[i - 1]) + " is not less "
                          "than " + Json(bounds[i]) + ").");
      }
    }
  }
  std::optional<Value> default_value;
  if (def != nullptr) {
    bool same_type = bson::CanonicalTypeRank(def->type()) ==
                     bson::CanonicalTypeRank(bounds[0].type());
    if (same_type && bson::Compare(*def, bounds.front()) >= 0 &&
        bson::Compare(*def, bounds.back()) < 0) {
      return Err(40199, "The $bucket 'default' field must be less than the lowest boundary or "
                        "greater than or equal to the highest boundary.");
    }
    default_value = *def;
  }
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr gb, ParseExpression(*group_by, ps.vars));
  std::vector<GroupField> fields;
  if (output != nullptr) {
    if (!output->is_document()) {
      return Err(40196, "The $bucket 'output' field must be an object, but found type: " +
                            TypeNameOf(*output) + ".");
    }
    EDDY_ASSIGN_OR_RETURN(fields, ParseGroupFields(output->as_document(), ps.vars, false,
                                                   "$bucket"));
  } else {
    EDDY_ASSIGN_OR_RETURN(AccumulatorSpecPtr count,
                          ParseAccumulator("$sum", Value(1), ps.vars, "count"));
    fields.push_back({"count", std::move(count)});
  }
  KeyFn key = [gb, bounds, default_value](EvalContext& ctx) -> Result<Value> {
    EDDY_ASSIGN_OR_RETURN(MaybeValue v, gb->Evaluate(ctx));
    if (v && !v->is_nullish() &&
        bson::CanonicalTypeRank(v->type()) == bson::CanonicalTypeRank(bounds[0].type()) &&
        bson::Compare(*v, bounds.front()) >= 0 && bson::Compare(*v, bounds.back()) < 0) {
      auto it = std::upper_bound(bounds.begin(), bounds.end(), *v, bson::ValueLess());
      return *(it - 1);
    }
    if (default_value) return *default_value;
    return Err(40066, "$switch could not find a matching branch for an input, and no default "
                      "was specified.");
  };
  EDDY_ASSIGN_OR_RETURN(StagePtr sort, SortOnId(1));
  return StageList{std::make_shared<GroupStage>(std::move(key), std::move(fields), "$bucket"),
                   std::move(sort)};
}

Result<StageList> ParseBucketAuto(const Value& spec, const ParseState& ps) {
  if (!spec.is_document()) {
    return Err(40240, "The argument to $bucketAuto must be an object, but found type: " +
                          TypeNameOf(spec) + ".");
  }
  const Value* group_by = nullptr;
  const Value* buckets = nullptr;
  const Value* output = nullptr;
  for (const bson::Field& f : spec.as_document()) {
    if (f.name == "groupBy") {
      group_by = &f.value;
    } else if (f.name == "buckets") {
      buckets = &f.value;
    } else if (f.name == "output") {
      output = &f.value;
    } else if (f.name == "granularity") {
      return Err(238, "$bucketAuto's granularity is not supported by eddy");
    } else {
      return Err(40245, "Unrecognized option to $bucketAuto: " + f.name + ".");
    }
  }
  if (group_by == nullptr || buckets == nullptr) {
    return Err(40246, "$bucketAuto requires 'groupBy' and 'buckets' to be specified");
  }
  if (!buckets->is_number() || buckets->ToDouble() != std::trunc(buckets->ToDouble()) ||
      buckets->ToDouble() > INT32_MAX) {
    return Err(40241, "The $bucketAuto 'buckets' field must be a numeric value, but found "
                      "type: " + TypeNameOf(*buckets));
  }
  if (buckets->ToInt64() <= 0) {
    return Err(40243, "The $bucketAuto 'buckets' field must be greater than 0, but found: " +
                          Json(*buckets));
  }
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr gb, ParseExpression(*group_by, ps.vars));
  std::vector<GroupField> fields;
  if (output != nullptr) {
    if (!output->is_document()) {
      return Err(40244, "The $bucketAuto 'output' field must be an object, but found type: " +
                            TypeNameOf(*output));
    }
    EDDY_ASSIGN_OR_RETURN(fields, ParseGroupFields(output->as_document(), ps.vars, false,
                                                   "$bucketAuto"));
  }
  return StageList{std::make_shared<BucketAutoStage>(gb, buckets->ToInt64(), std::move(fields))};
}

}  // namespace eddy::query::agg_internal
