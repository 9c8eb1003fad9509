#include "query/exec/planner.h"

#include <algorithm>
#include <unordered_set>

#include "bson/codec.h"
#include "bson/compare.h"
#include "query/match/matcher.h"
#include "storage/key_encoding.h"

namespace eddy::query {
namespace {

constexpr size_t kMaxRanges = 1000;

// The first byte of a key string is its type bracket; every key of a bracket starts with it.
std::string BracketStart(const bson::Value& v) { return storage::KeyString(v).substr(0, 1); }
std::string BracketEnd(const bson::Value& v) {
  std::string s = BracketStart(v);
  s[0] = static_cast<char>(static_cast<uint8_t>(s[0]) + 1);
  return s;
}

std::string Enc(const bson::Value& v, bool desc) {
  std::string s;
  storage::AppendKeyString(v, desc, &s);
  return s;
}

std::string Complement(std::string s) {
  for (char& c : s) c = static_cast<char>(~c);
  return s;
}

// A byte interval for one index field.
struct Interval {
  std::string lo;
  bool lo_inc = true;
  std::string hi;
  bool hi_inc = true;
};

// The interval of a range predicate in key order for a field of the given direction.
Interval RangeInterval(const PathPredicate& p, bool desc, bool multikey) {
  bool use_upper = p.upper.has_value() && !(multikey && p.lower.has_value());
  const bson::Value& any = p.lower ? *p.lower : *p.upper;
  std::string lo, hi;
  bool lo_inc, hi_inc;
  if (p.lower) {
    lo = storage::KeyString(*p.lower);
    lo_inc = p.lower_inclusive;
  } else {
    lo = BracketStart(any);
    lo_inc = true;
  }
  if (use_upper) {
    hi = storage::KeyString(*p.upper);
    hi_inc = p.upper_inclusive;
  } else {
    hi = BracketEnd(any);
    hi_inc = false;
  }
  if (!desc) return {lo, lo_inc, hi, hi_inc};
  return {Complement(hi), hi_inc, Complement(lo), lo_inc};
}

const PathPredicate* FindPred(const std::vector<PathPredicate>& preds, std::string_view path,
                              bool eq_only) {
  // Prefer equality, then $in, then ranges.
  for (auto kind : {PathPredicate::kEq, PathPredicate::kIn, PathPredicate::kRange}) {
    if (eq_only && kind == PathPredicate::kRange) break;
    for (const PathPredicate& p : preds) {
      if (p.path == path && p.kind == kind) return &p;
    }
  }
  return nullptr;
}

// Whether scanning `index` (after `eq_fields` equality fields) yields `sort` order; sets
// *reverse when it must be scanned backwards.
bool IndexProvidesSort(const storage::IndexInfo& index, size_t eq_fields, const SortSpec& sort,
                       bool* reverse) {
  if (index.multikey) return false;  // array sort keys are min/max elements, not entries
  const auto& keys = sort.keys();
  if (keys.empty() || eq_fields + keys.size() > index.fields.size()) return false;
  int flip = 0;  // 0 unknown, 1 same, -1 reversed
  for (size_t i = 0; i < keys.size(); ++i) {
    const storage::IndexField& f = index.fields[eq_fields + i];
    if (keys[i].is_meta || keys[i].path != f.path) return false;
    int same = (keys[i].direction < 0) == f.descending ? 1 : -1;
    if (flip == 0) flip = same;
    if (flip != same) return false;
  }
  *reverse = flip < 0;
  return true;
}

}  // namespace

bson::Document Plan::Explain() const {
  bson::Document d;
  switch (kind) {
    case Kind::kCollScan:
      d.Append("stage", "COLLSCAN");
      d.Append("direction", reverse ? "backward" : "forward");
      break;
    case Kind::kIdLookup:
      d.Append("stage", "IDHACK");
      d.Append("keys", static_cast<int64_t>(ids.size()));
      break;
    case Kind::kIndexScan:
      d.Append("stage", "IXSCAN");
      d.Append("indexName", index->name);
      d.Append("keyPattern", index->key);
      d.Append("isMultiKey", index->multikey);
      d.Append("ranges", static_cast<int64_t>(ranges.size()));
      d.Append("direction", !ranges.empty() && ranges[0].reverse ? "backward" : "forward");
      break;
  }
  d.Append("providesSort", provides_sort);
  return d;
}

Plan ChoosePlan(const storage::CollectionInfo& coll, const bson::Document& filter,
                const SortSpec* sort, const Collator* collator) {
  Plan plan;
  std::vector<PathPredicate> preds = ExtractIndexablePredicates(filter);
  bool natural = sort && sort->natural_direction().has_value();
  if (collator != nullptr) {
    std::erase_if(preds, [](const PathPredicate& p) {
      for (const bson::Value& v : p.in) {
        if (ContainsString(v)) return true;
      }
      return ContainsString(p.eq) || (p.lower && ContainsString(*p.lower)) ||
             (p.upper && ContainsString(*p.upper));
    });
    // Only a $natural sort can come from the scan order.
    if (sort && !natural) sort = nullptr;
  }

  // 1. _id equality: point lookups.
  if (const PathPredicate* p = FindPred(preds, "_id", true); p && !natural) {
    plan.kind = Plan::Kind::kIdLookup;
    plan.ids = p->kind == PathPredicate::kEq ? std::vector<bson::Value>{p->eq} : p->in;
    std::sort(plan.ids.begin(), plan.ids.end(), bson::ValueLess());
    plan.ids.erase(std::unique(plan.ids.begin(), plan.ids.end(), bson::ValueEq()),
                   plan.ids.end());
    plan.provides_sort = plan.ids.size() <= 1 || (sort && sort->keys().size() == 1 &&
                                                  sort->keys()[0].path == "_id" &&
                                                  sort->keys()[0].direction > 0);
    return plan;
  }

  // 2. The secondary index with the longest equality prefix (+1 for a trailing range).
  const storage::IndexInfo* best = nullptr;
  int best_score = 0;
  size_t best_eq = 0;
  for (const storage::IndexInfo& index : coll.indexes) {
    if (index.is_id() || natural) continue;
    size_t eq = 0;
    while (eq < index.fields.size() && FindPred(preds, index.fields[eq].path, true)) ++eq;
    int score = static_cast<int>(eq) * 2;
    if (eq < index.fields.size() && FindPred(preds, index.fields[eq].path, false)) score += 1;
    if (score > 0 && index.unique && eq == index.fields.size()) score += 1;
    if (score > best_score) {
      best = &index;
      best_score = score;
      best_eq = eq;
    }
  }
  bool sort_reverse = false;
  if (best) {
    // Ranges: the cartesian product of the equality fields' values, then the range field.
    std::vector<std::string> prefixes = {""};
    for (size_t i = 0; i < best_eq; ++i) {
      const PathPredicate* p = FindPred(preds, best->fields[i].path, true);
      bool desc = best->fields[i].descending;
      std::vector<std::string> values;
      if (p->kind == PathPredicate::kEq) {
        values.push_back(Enc(p->eq, desc));
      } else {
        for (const bson::Value& v : p->in) values.push_back(Enc(v, desc));
        std::sort(values.begin(), values.end());
        values.erase(std::unique(values.begin(), values.end()), values.end());
      }
      if (prefixes.size() * values.size() > kMaxRanges) break;
      std::vector<std::string> next;
      for (const std::string& pre : prefixes) {
        for (const std::string& v : values) next.push_back(pre + v);
      }
      prefixes = std::move(next);
    }
    std::sort(prefixes.begin(), prefixes.end());
    const PathPredicate* range = best_eq < best->fields.size()
                                     ? FindPred(preds, best->fields[best_eq].path, false)
                                     : nullptr;
    if (range && range->kind != PathPredicate::kRange) range = nullptr;
    for (const std::string& pre : prefixes) {
      storage::IndexRange r;
      if (range) {
        Interval iv = RangeInterval(*range, best->fields[best_eq].descending, best->multikey);
        r.lower = pre + iv.lo;
        r.lower_inclusive = iv.lo_inc;
        r.upper = pre + iv.hi;
        r.upper_inclusive = iv.hi_inc;
      } else {
        r.lower = pre;
        r.upper = pre;
      }
      plan.ranges.push_back(std::move(r));
    }
    plan.kind = Plan::Kind::kIndexScan;
    plan.index = best;
    plan.may_duplicate = best->multikey;
    if (sort && plan.ranges.size() == 1 && !range &&
        IndexProvidesSort(*best, best_eq, *sort, &sort_reverse)) {
      plan.provides_sort = true;
      plan.ranges[0].reverse = sort_reverse;
    }
    return plan;
  }

  // 3. No usable predicate: an index (or _id order) that yields the sort order.
  if (sort && !sort->keys().empty() && !natural) {
    const auto& keys = sort->keys();
    if (keys.size() == 1 && keys[0].path == "_id" && !keys[0].is_meta) {
      plan.reverse = keys[0].direction < 0;
      plan.provides_sort = true;
      return plan;
    }
    for (const storage::IndexInfo& index : coll.indexes) {
      if (index.is_id() || index.sparse) continue;
      if (IndexProvidesSort(index, 0, *sort, &sort_reverse)) {
        plan.kind = Plan::Kind::kIndexScan;
        plan.index = &index;
        storage::IndexRange all;
        all.reverse = sort_reverse;
        plan.ranges.push_back(all);
        plan.provides_sort = true;
        return plan;
      }
    }
  }
  if (natural) {
    plan.reverse = *sort->natural_direction() < 0;
    plan.provides_sort = true;
  }
  return plan;
}

PlanIterator::PlanIterator(storage::Reader* reader, const storage::CollectionInfo& coll, Plan plan)
    : reader_(reader), coll_(coll), plan_(std::move(plan)) {}

bool PlanIterator::Open(size_t range) {
  it_ = reader_->ScanIndex(coll_, *plan_.index, plan_.ranges[range]);
  return true;
}

bool PlanIterator::Next(std::string_view* raw) {
  switch (plan_.kind) {
    case Plan::Kind::kIdLookup: {
      while (next_range_ < plan_.ids.size()) {
        auto found = reader_->FindById(coll_, plan_.ids[next_range_++]);
        if (!found.ok()) {
          status_ = found.status();
          return false;
        }
        if (found->has_value()) {
          id_doc_ = bson::Encode(**found);
          *raw = id_doc_;
          return true;
        }
      }
      return false;
    }
    case Plan::Kind::kCollScan: {
      if (!started_) {
        it_ = reader_->ScanCollection(coll_, plan_.reverse);
        started_ = true;
      } else if (it_->Valid()) {
        it_->Next();
      }
      if (it_->Valid()) {
        *raw = it_->raw();
        return true;
      }
      status_ = it_->status();
      return false;
    }
    case Plan::Kind::kIndexScan: {
      for (;;) {
        if (!it_) {
          if (next_range_ >= plan_.ranges.size()) return false;
          Open(next_range_++);
        } else if (started_) {
          it_->Next();
        }
        started_ = true;
        while (it_->Valid()) {
          if (plan_.may_duplicate) {
            if (!seen_.insert(std::string(it_->id_key())).second) {
              it_->Next();
              continue;
            }
          }
          *raw = it_->raw();
          return true;
        }
        status_ = it_->status();
        if (!status_.ok()) return false;
        it_.reset();
        started_ = false;
      }
    }
  }
  return false;
}

}  // namespace eddy::query
