// find()'s sort: compiling a sort specification and ordering documents by it, with MongoDB's
// exact semantics (server's SortPattern + SortKeyGenerator):
//
//   - Keys are dotted paths; a missing field (or a path through a scalar) sorts as null.
//   - A document's sort key is computed as an index over the sort pattern would compute its
//     keys: arrays along each path are expanded (one level at the end of the path: [[1], 2]
//     yields the keys [1] and 2), an element of an expanded array that lacks the rest of the
//     path contributes null, an empty array contributes undefined (which sorts before null),
//     numeric components ("a.0") select an array element, and the key used is the smallest
//     key tuple under the pattern's ordering. So {a: 1} sorts an array by its smallest element,
//     {a: -1} by its largest, and {"a.x": 1, "a.y": 1} pairs x and y from the same element.
//   - Two keys that expand arrays which are different ("parallel arrays") make the document
//     unsortable: BadValue "cannot sort with keys that are parallel arrays".
//   - Values compare in the BSON type order (bson::Compare), except that undefined sorts before
//     null, as mongod's canonical type order has it.
//   - Ties keep the input order (Sort() is stable, like mongod's in-memory sort).
//
// Compile errors mirror mongod's: 15974 (a key that is not a number and not {$meta: ...}),
// 15975 (a number other than 1/-1 after truncation, so 1.5 is accepted as 1), 7472500
// (duplicate key), 17312 / FailedToParse / 31138 ($meta forms), FieldPath errors (40352 empty
// path, 15998 empty component, 16410 '$'-prefixed component, 16411 NUL).
//
// {$natural: 1|-1}: find() turns such a sort into a $natural hint, so Compile() returns an
// empty key list with natural_direction() set; the caller scans in that direction. The sort must
// be exactly that one field with a numeric value equal to 1 or -1: anything else ({$natural: 2},
// {$natural: 1, a: 1}) is BadValue "$natural sort cannot be set to a value other than -1 or 1.",
// as in mongod's validateFindCommandRequest.
//
// Thread safety: a compiled SortSpec is immutable; share it freely across threads.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "bson/value.h"
#include "query/collation/collator.h"

namespace eddy::query {

struct SortKey {
  std::string path;   // the field path, or for a $meta key the field name it was given under
  int direction = 1;  // 1 ascending, -1 descending ($meta keys are always -1, as in mongod)
  bool is_meta = false;
  std::string meta;  // for $meta keys: "textScore", "randVal", "geoNearDistance", ...
};

// Supplies $meta values ("textScore", ...) for one document. Returning an error aborts the sort.
using SortMetaProvider = std::function<Result<bson::Value>(std::string_view meta_name)>;

class SortSpec {
 public:
  SortSpec() = default;  // empty: no ordering

  // With a collator, strings (at any depth of a key) sort by the collation: ExtractSortKey()
  // then returns keys whose strings are collation keys (CollationKeyOf).
  static Result<SortSpec> Compile(const bson::Document& sort, CollatorPtr collator = nullptr);
  const CollatorPtr& collator() const { return collator_; }

  // True when there is nothing to order by (an empty spec or a $natural spec).
  bool empty() const { return keys_.empty(); }
  const std::vector<SortKey>& keys() const { return keys_; }
  // Set when the spec was {$natural: 1} / {$natural: -1}.
  std::optional<int> natural_direction() const { return natural_; }
  bool has_meta() const { return has_meta_; }

  // One value per key, in key order: what the document sorts by. Fails with BadValue on
  // parallel arrays, 16746 on an ambiguous numeric field name, and (for $meta keys) with
  // 40218 when no provider is given, or with the provider's error.
  Result<std::vector<bson::Value>> ExtractSortKey(const bson::Document& doc,
                                                  const SortMetaProvider* meta = nullptr) const;

  // Orders two keys from ExtractSortKey: <0, 0, >0.
  int CompareKeys(const std::vector<bson::Value>& a, const std::vector<bson::Value>& b) const;

  // Orders two documents: <0 when a sorts first. Convenience for small inputs: it extracts both
  // keys on every call, and a document whose key cannot be extracted (parallel arrays, or any
  // $meta key) compares as if every key were null. Executors should use Sort() or
  // ExtractSortKey()/CompareKeys(), which report those errors.
  int Compare(const bson::Document& a, const bson::Document& b) const;

  // Sorts `docs` in place, stably. Keys are extracted once per document, so sorting n documents
  // walks each path n times, not O(n log n) times. With `limit`, only the first `limit`
  // documents (in sorted order) are kept: a partial sort, as a top-k SORT stage does.
  // On error `docs` is left unchanged.
  Status Sort(std::vector<bson::Document>* docs, std::optional<size_t> limit = std::nullopt,
              const std::function<const SortMetaProvider*(size_t index)>& meta = nullptr) const;

 private:
  std::vector<SortKey> keys_;
  std::vector<size_t> path_keys_;  // indexes of non-$meta keys, in key order
  std::optional<int> natural_;
  bool has_meta_ = false;
  CollatorPtr collator_;
};

// The value order used for sort keys: bson::Compare, except undefined < null.
int CompareSortValues(const bson::Value& a, const bson::Value& b);

}  // namespace eddy::query
