// MongoDB's update language: operator updates ({$set: ..., $inc: ...}) and replacement
// documents, applied to one document at a time.
//
//   EDDY_ASSIGN_OR_RETURN(Update u, Update::Parse(spec, array_filters));
//   EDDY_ASSIGN_OR_RETURN(UpdateOutcome out, u.Apply(doc, ctx));
//   if (out.modified) { store out.document; log out.description; }
//
// Mirrors mongod 5.0+ (src/mongo/db/update/):
//   - Operators: $set $unset $inc $mul $min $max $rename $setOnInsert $currentDate $push
//     (with $each $slice $sort $position) $addToSet (with $each) $pop $pull $pullAll $bit.
//   - Paths: dotted, numeric components index arrays (creating "a.5" pads with nulls, at most
//     1500000), positional "$" (needs UpdateContext::positional_index), "$[]" and
//     "$[<identifier>]" with arrayFilters.
//   - Fields are applied in path order: names compare as strings, except that canonical
//     numbers compare numerically ("a.2" before "a.10"); new fields are appended in that
//     order, existing fields keep their place; $rename moves the field to the end.
//   - Conflicting paths across or within operators fail Parse with ConflictingUpdateOperators.
//   - modified is false exactly when mongod reports nModified 0 (e.g. $set to the identical
//     value and type, $inc by 0, $addToSet of a present value, $unset of a missing field).
//   - description is what a change stream reports for the update (mongod's $v:2 oplog delta
//     run through the change-stream parser): nested changes as dotted paths ("a.b", "arr.3"),
//     whole arrays where mongod logs the whole array ($pull, $pop, $addToSet, $push with
//     $sort/$slice/$position, several array elements changed through $[]), appended $push
//     elements as "arr.<i>". truncatedArrays stays empty: operator updates never produce it
//     (only pipeline updates do).
//
// Errors carry mongod's codes and messages; Apply never changes its input (it is pure).
// Thread-safety: an Update is immutable after Parse; Apply may run concurrently.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "bson/value.h"

namespace eddy::query {

class Pipeline;

namespace update_detail {
struct Node;
struct ArrayFilterSet;
}  // namespace update_detail

// What changed, as MongoDB change events report it.
struct UpdateDescription {
  bson::Document updated_fields;  // dotted path -> new value ("a.b": 1, "arr.2": "x")
  std::vector<std::string> removed_fields;
  std::vector<std::pair<std::string, int32_t>> truncated_arrays;  // {field, newSize}

  // {updatedFields: {...}, removedFields: [...], truncatedArrays: [{field, newSize}, ...]}
  bson::Document ToDocument() const;
  bool empty() const {
    return updated_fields.empty() && removed_fields.empty() && truncated_arrays.empty();
  }
};

struct UpdateContext {
  // The array index the query's positional match found (the first array matched), used for
  // "$" in update paths. Unset: any "$" path fails with BadValue.
  std::optional<size_t> positional_index;
  // True when the update builds the document of an upsert; $setOnInsert applies only then.
  bool is_upsert_insert = false;
  // $currentDate's value: a date, or for {$type: "timestamp"} `now_timestamp` if set, else
  // Timestamp(now seconds, 1).
  bson::DateTime now;
  std::optional<bson::Timestamp> now_timestamp;
};

struct UpdateOutcome {
  bson::Document document;  // the document after the update (a copy of the input if no-op)
  bool modified = false;    // false: mongod would report nModified 0 and emit no event
  UpdateDescription description;  // empty for replacements (they are "replace" events)
};

class Update {
 public:
  // `update` is an operator document ({$set: ...}) when its first field name starts with '$',
  // else a replacement document. `array_filters`: the command's arrayFilters (may be null);
  // each is a filter over one identifier ({"x.qty": {$gt: 5}} or {x: {$gte: 3}}).
  // Errors: FailedToParse (unknown modifier, bad arrayFilters, unused filter), BadValue,
  // TypeMismatch, ConflictingUpdateOperators, EmptyFieldName, DollarPrefixedFieldName.
  static Result<Update> Parse(const bson::Document& update, const bson::Array* array_filters);

  // A pipeline-style update (an array as the update): only $addFields/$set, $project/$unset
  // and $replaceRoot/$replaceWith stages (else InvalidOptions, 72); `let` binds user
  // variables ($$name). The result keeps the original _id when the pipeline drops it and
  // fails with ImmutableField (66) when the pipeline changes it. The change description is
  // the difference between the two documents (updated/removed fields, truncated arrays), as
  // mongod's doc_diff computes it for pipeline updates.
  static Result<Update> ParsePipeline(const bson::Array& pipeline, const bson::Document& let);

  Update(Update&&) noexcept;
  Update& operator=(Update&&) noexcept;
  Update(const Update&) = delete;
  Update& operator=(const Update&) = delete;
  ~Update();

  bool is_replacement() const { return is_replacement_; }
  bool is_pipeline() const { return pipeline_ != nullptr; }
  // The replacement document. REQUIRES: is_replacement().
  const bson::Document& replacement() const { return replacement_; }

  // Applies the update to `doc`; `doc` is not changed. The _id field is immutable.
  Result<UpdateOutcome> Apply(const bson::Document& doc, const UpdateContext& ctx) const;

  // For upserts: the document to insert, built from the query's equality predicates (plain
  // values, $eq, and $and of them; conflicting paths fail with NotSingleValueField) plus the
  // update applied as an insert (ctx.is_upsert_insert is forced true). A replacement keeps
  // only the query's _id. _id, when present, is first. No _id is generated: the insert path
  // adds one. Changing an _id fixed by the query fails with ImmutableField.
  Result<bson::Document> BuildUpsertDocument(const bson::Document& query,
                                             const UpdateContext& ctx) const;

 private:
  Update();
  Result<UpdateOutcome> ApplyOperators(const bson::Document& doc, const UpdateContext& ctx,
                                       bool id_immutable) const;

  Result<UpdateOutcome> ApplyPipeline(const bson::Document& doc, const UpdateContext& ctx,
                                      bool id_immutable) const;

  bool is_replacement_ = false;
  bson::Document replacement_;
  std::shared_ptr<const Pipeline> pipeline_;
  std::unique_ptr<update_detail::Node> root_;
  std::shared_ptr<update_detail::ArrayFilterSet> filters_;
};

}  // namespace eddy::query
