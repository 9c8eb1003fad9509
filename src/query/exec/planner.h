// Index selection for find, count, distinct, update and delete.
//
// The planner turns a filter (and an optional sort) into a scan: an _id lookup, index ranges
// or a collection scan. Plans are candidate generators only: the executor re-checks every
// document with the Matcher, so a plan may return a superset but never miss a document.
#pragma once
#include <string>
#include <unordered_set>
#include <vector>

#include "bson/value.h"
#include "query/sort/sort.h"
#include "storage/catalog.h"
#include "storage/engine.h"

namespace eddy::query {

struct Plan {
  enum class Kind { kCollScan, kIdLookup, kIndexScan };
  Kind kind = Kind::kCollScan;
  std::vector<bson::Value> ids;               // kIdLookup, in ascending order, distinct
  const storage::IndexInfo* index = nullptr;  // kIndexScan; points into the caller's catalog
  std::vector<storage::IndexRange> ranges;    // kIndexScan: disjoint, in scan order
  bool reverse = false;        // kCollScan: descending _id order
  bool provides_sort = false;  // documents come out in the requested sort order
  bool may_duplicate = false;  // a document may come more than once (multikey index)
  // {stage: "IXSCAN", indexName: ..., ...} as explain would show.
  bson::Document Explain() const;
};

// REQUIRES: filter compiles (Matcher::Compile succeeded). sort may be null.
// With a (non-simple) collation, index keys (binary) cannot answer string comparisons: bounds
// holding a string are not used, and an index never provides a sort (strings would come out in
// binary order).
Plan ChoosePlan(const storage::CollectionInfo& coll, const bson::Document& filter,
                const SortSpec* sort, const Collator* collator = nullptr);

// Iterates the documents of a plan, de-duplicating when the plan may repeat documents.
class PlanIterator {
 public:
  PlanIterator(storage::Reader* reader, const storage::CollectionInfo& coll, Plan plan);
  // The next candidate's raw BSON, or false at the end / on error (see status()).
  bool Next(std::string_view* raw);
  Status status() const { return status_; }
  const Plan& plan() const { return plan_; }

 private:
  bool Open(size_t range);
  storage::Reader* reader_;
  const storage::CollectionInfo& coll_;
  Plan plan_;
  size_t next_range_ = 0;
  std::unique_ptr<storage::DocIterator> it_;
  bool started_ = false;
  std::unordered_set<std::string> seen_;
  std::string id_doc_;  // raw of the current _id lookup
  Status status_;
};

}  // namespace eddy::query
