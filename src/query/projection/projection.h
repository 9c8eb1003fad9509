// find()'s projection: compile a projection document once, apply it to many documents, with
// mongod's semantics (projection_ast parser + inclusion/exclusion executors, 4.4+):
//
// Kinds of field:
//   - inclusion (true or a non-zero number) and exclusion (false or 0); they cannot be mixed
//     except for _id: 31253 "Cannot do inclusion on field x in exclusion projection",
//     31254 "Cannot do exclusion on field x in inclusion projection". _id is included unless
//     {_id: 0}/{_id: false}. {} returns documents unchanged.
//   - dotted paths and nested specs ({a: {b: 1}} == {"a.b": 1}) walk embedded documents and
//     arrays of documents: including "a.b" keeps {b} of every document in array a (nested arrays
//     are walked too) and drops the scalars; a scalar a, or a missing b, yields nothing
//     ({a: 5} -> {}, {a: {c: 1}} -> {a: {}}). Excluding "a.b" removes b from every document in a.
//   - computed fields ({x: "$a.b"}, {x: "literal"}, {x: [..]}, {x: {$literal: 1}},
//     {x: {$add: [...]}}), evaluated with query/expr against the whole input document; they make
//     the projection an inclusion (31310 / 31252 otherwise). A computed field under a dotted path
//     is added to every document of an array along that path, and replaces a scalar there.
//   - {a: {$slice: n}} and {a: {$slice: [skip, limit]}} (n < 0 counts from the end; limit must
//     be > 0: 31259; other shapes are retried as the aggregation $slice expression, as mongod
//     does). $slice alone keeps every other field (it is an exclusion unless {_id: 1} or another
//     inclusion is given); with inclusions only the sliced path is added.
//   - {a: {$elemMatch: {...}}}: the first element of array a that matches (top-level fields
//     only: 31275); a document without such an element loses the field. It is an inclusion.
//   - "a.$" / "a.b.$": the element of the first array along the path whose index the query
//     matched (Apply's positional_index, i.e. the filter's MatchDetails::array_index). 51246 when
//     an array is found but no index was given, 51247 when the index is out of range; a path
//     with no array is left as is.
// Other compile errors: 31250/31249 path collisions ("Path collision at a.b"), 31255/31256
// positional with $elemMatch, 31276 two positionals, 31287/31270 malformed positionals,
// 31271/31308 positional with a sub-object/literal, 31274 $elemMatch argument, 31272/31257/31258
// $slice arguments, 51270 empty sub-projection, 31325 unknown $-expression, FieldPath errors
// (40352, 15998, 16410, 16411). {x: {$meta: ...}} is NotImplemented (eddy has no text search).
//
// Field order: included fields keep the document's order; computed fields (and $elemMatch) are
// appended after them in projection order, and a computed field under an existing document is
// appended inside it; exclusion keeps the document's order. This is mongod's 4.4+ order.
//
// Thread safety: a compiled Projection is immutable; Apply() may run concurrently.
#pragma once
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "bson/value.h"
#include "query/expr/expression.h"

namespace eddy::query {

namespace projection_internal {
struct Node;
struct RootReplacement;
}  // namespace projection_internal

class Projection {
 public:
  Projection() = default;  // the empty projection: Apply returns documents unchanged

  // Compiles without looking at the query: positional projections are accepted as they are.
  static Result<Projection> Compile(const bson::Document& projection);
  // As mongod's find: with a positional projection the filter must exist (51050) and name the
  // positional array's top-level field (31277: "Positional projection 'a.$' does not match the
  // query document.").
  // `variables`: a command's `let` (EvaluateCommandLet), in scope as $$name in computed fields.
  static Result<Projection> Compile(const bson::Document& projection,
                                    const bson::Document* filter,
                                    std::shared_ptr<const VariableList> variables = nullptr);

  // Projects `doc`. `positional_index` is the index the filter matched in the first array it
  // traversed (MatchDetails::array_index); only "a.$" projections use it. Fails with the
  // positional errors above or with a computed field's evaluation error.
  Result<bson::Document> Apply(const bson::Document& doc,
                               std::optional<size_t> positional_index = std::nullopt) const;

  bool is_inclusion() const { return inclusion_; }
  // True when the projection has "a.$": the caller must pass positional_index.
  bool has_positional() const { return has_positional_; }
  // True when Apply returns documents unchanged ({} or no projection at all).
  bool is_identity() const { return identity_; }

 private:
  static Result<Projection> CompileImpl(const bson::Document& projection,
                                        const bson::Document* filter, bool check_query,
                                        std::shared_ptr<const VariableList> variables = nullptr);

  std::shared_ptr<const projection_internal::Node> root_;
  std::shared_ptr<const std::vector<projection_internal::RootReplacement>> replacements_;
  bool inclusion_ = false;
  bool has_positional_ = false;
  bool identity_ = true;
};

}  // namespace eddy::query
