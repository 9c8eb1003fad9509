// The query filter language (find/update/delete "q", $match): compile a filter document once,
// test many documents against it.
//
//   EDDY_ASSIGN_OR_RETURN(Matcher m, Matcher::Compile(filter));
//   if (m.Matches(doc)) ...
//
// Semantics are mongod's (MatchExpression + BSONElementIterator):
//   - dotted paths walk embedded documents and arrays: at each array not at the end of the path
//     every element that is a document is searched for the rest of the path, and a numeric
//     component also selects that array index ({"a.0.b": 1}), while numeric components are
//     still field names for documents inside the array;
//   - a path ending at an array yields each element and then the array itself, so {tags: "x"}
//     matches tags: ["x", "y"] and {a: [1, 2]} matches both a: [1, 2] and a: [[1, 2], 3];
//   - a predicate holds if ANY yielded value satisfies it, and each operator of
//     {a: {$gt: 1, $lt: 5}} is checked on its own (a: [0, 9] matches);
//   - {a: null} matches a missing, null or undefined, and arrays containing null;
//     $ne/$nin/$not are negations of the whole path predicate;
//   - $eq/$gt/... compare only within one canonical type bracket (numbers of any width
//     together, strings and symbols together ...), except MinKey/MaxKey bounds; NaN equals NaN
//     only; regex values compare as exact regexes under $eq, but /re/ and $regex match strings.
// Supported: $eq $ne $gt $gte $lt $lte $in $nin $and $or $nor $not $exists $type $regex
// $options $elemMatch $size $all $mod $expr $comment $alwaysTrue $alwaysFalse $jsonSchema
// (query/match/json_schema.h).
// Unsupported ($where, $text, geo ...) are errors naming the operator.
//
// Thread-safety: a Matcher is immutable after Compile(); copies share the compiled tree and
// Matches() may run concurrently from any number of threads.
#pragma once
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "bson/value.h"
#include "query/collation/collator.h"
#include "query/expr/expression.h"

namespace eddy::query {

// What a successful match found, for the positional $ operator of updates and projections.
struct MatchDetails {
  // Index of the element that matched in the first (outermost) array traversed implicitly,
  // mongod's "elemMatchKey". Unset when no array was traversed. With several predicates the
  // last one that traversed an array wins, as in mongod.
  std::optional<size_t> array_index;
};

namespace match_internal {
class Node;
}

// What a filter is compiled with besides itself.
struct MatchOptions {
  // A command's `let` variables (EvaluateCommandLet): in scope as $$name inside $expr.
  std::shared_ptr<const VariableList> variables;
  // Compares strings in $eq/$ne/$gt/.../$in/$nin/$all (also inside documents and arrays) with
  // the collation; null: binary. Regexes, $type, $exists, $size ignore it, as in mongod.
  CollatorPtr collator;
};

class Matcher {
 public:
  // A matcher for the empty filter: matches every document.
  Matcher();

  // Errors, with mongod's codes and messages:
  //   BadValue (2): "unknown operator: $foo", "unknown top level operator: $foo",
  //     "$in needs an array", "$and/$or/$nor must be a nonempty array",
  //     "$or/$and/$nor entries need to be full objects", "$all needs an array",
  //     "$elemMatch needs an Object", "$not needs a regex or a document", "$size needs a
  //     number", "malformed mod, ...", "divisor cannot be 0", "Unknown type name alias: foo",
  //     "Invalid numerical type code: 42", "cannot nest $ under $in", "$options needs a
  //     $regex", "$where is not supported", "$expr can only be applied to the top-level
  //     document", ...
  //   FailedToParse (9): "$alwaysTrue must be an integer value of 1", "a must match at least
  //     one type" ($type: []); TypeMismatch (14): "type must be represented as a number or a
  //     string";
  //   51091/51108: bad regex or regex options; 51074/51075: options set in both $regex and
  //   $options; $expr's errors come from the expression parser (168, 17276, ...).
  static Result<Matcher> Compile(const bson::Document& filter,
                                 const MatchOptions& options = MatchOptions());

  // Whether `doc` satisfies the filter. Fills *details when non-null and the doc matches.
  // A runtime error inside $expr (e.g. $divide by zero) makes the document not match; use
  // MatchesOrError() to see it.
  bool Matches(const bson::Document& doc, MatchDetails* details = nullptr) const;
  // As Matches(), but reports $expr evaluation errors as a Status, as find would.
  Result<bool> MatchesOrError(const bson::Document& doc, MatchDetails* details = nullptr) const;

  // True when the filter has no predicates ({} or only $comment): every document matches.
  bool MatchesAll() const;
  // True when the filter uses $expr (whose evaluation can fail at runtime).
  bool HasExpr() const { return has_expr_; }
  const bson::Document& filter() const { return *filter_; }
  const CollatorPtr& collator() const { return collator_; }

 private:
  std::shared_ptr<const bson::Document> filter_;
  std::shared_ptr<const match_internal::Node> root_;
  bool has_expr_ = false;
  CollatorPtr collator_;
};

// ---- For the storage planner ----

// One indexable condition on a path, implied by the filter: every matching document has a
// value at `path` (reached with the same array traversal) satisfying it.
//   kEq:    the value equals `eq` (never null, regex, document or array)
//   kIn:    the value equals one of `in` (scalars only; no null, regex, document or array)
//   kRange: lower/upper bounds, each optional. A bound restricts to its own canonical type
//           bracket ({$gt: 5} never matches strings); when both are set they are of the same
//           bracket. REQUIRES (planner): on a multikey index use only one of the two bounds:
//           {a: {$gt: 5, $lt: 10}} matches {a: [1, 20]} because each bound is checked against
//           any element on its own.
// The planner must still run Matcher::Matches() on every candidate: this is a sound superset.
struct PathPredicate {
  enum Kind { kEq, kIn, kRange };
  std::string path;
  Kind kind = kEq;
  bson::Value eq;
  std::vector<bson::Value> in;
  std::optional<bson::Value> lower;
  bool lower_inclusive = false;
  std::optional<bson::Value> upper;
  bool upper_inclusive = false;
};

// Considers only top-level fields and (nested) top-level $and: {a: 5}, {a: {$eq: 5}},
// {a: {$in: [1, 2]}}, {a: {$gte: 1, $lt: 9}}. $or/$nor/$not/$ne/$elemMatch... contribute
// nothing. A filter that does not compile yields whatever was extracted before the problem
// (Compile() reports the error; do not plan an invalid filter).
std::vector<PathPredicate> ExtractIndexablePredicates(const bson::Document& filter);

}  // namespace eddy::query
