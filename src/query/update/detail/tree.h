// The parsed form of an operator update: a tree of path components whose leaves are
// modifiers, as mongod's UpdateObjectNode / UpdateArrayNode / ModifierNode. Immutable after
// parsing; subtrees are shared (shared_ptr) so merging the positional child is cheap.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bson/value.h"
#include "query/match/matcher.h"

namespace eddy::query::update_detail {

enum class OpKind {
  kSet,
  kUnset,
  kInc,
  kMul,
  kMin,
  kMax,
  kRenameSource,  // placeholder at the $rename source: reserves the path, does nothing
  kRenameDest,    // the $rename itself, applied at the destination
  kSetOnInsert,
  kCurrentDate,
  kPush,
  kAddToSet,
  kPop,
  kPull,
  kPullAll,
  kBit,
};

// $push's $sort: by whole element (fields empty) or by fields of document elements.
struct SortSpec {
  int whole_direction = 1;
  std::vector<std::pair<std::string, int>> fields;  // dotted field -> 1 / -1
};

enum class BitOp { kAnd, kOr, kXor };

struct Leaf {
  OpKind kind = OpKind::kSet;
  std::string op_name;  // "$set", for messages
  std::string path;     // the path as written, for messages
  bson::Value value;    // $set/$min/$max/$setOnInsert value, $inc/$mul amount, $pullAll array

  // $push / $addToSet
  std::vector<bson::Value> each;
  std::optional<int64_t> slice;
  std::optional<SortSpec> sort;
  std::optional<int64_t> position;

  // $pull: kEquality compares whole elements; kObject runs the matcher on document elements;
  // kWrapped runs it on {"x": element} (conditions like {$gte: 6} or a regex).
  enum class PullMode { kEquality, kObject, kWrapped } pull_mode = PullMode::kEquality;
  std::shared_ptr<const Matcher> pull_matcher;

  int pop = 1;                                           // $pop: 1 last, -1 first
  std::vector<std::pair<BitOp, bson::Value>> bit_ops;   // $bit
  bool timestamp = false;                                // $currentDate {$type: "timestamp"}
  std::vector<std::string> rename_from;                  // $rename: source path components
  std::string rename_to;                                 // $rename: destination as written
};

// Orders sibling field names as mongod (pathsupport::cmpPathsAndArrayIndexes): plain string
// order, except that two canonical non-negative integers compare numerically.
struct PathLess {
  bool operator()(const std::string& a, const std::string& b) const;
};

struct Node {
  enum class Kind { kObject, kArray, kLeaf };
  Kind kind = Kind::kObject;
  // kObject: field name -> child. kArray: array filter identifier ("" for $[]) -> child.
  std::map<std::string, std::shared_ptr<const Node>, PathLess> children;
  std::shared_ptr<const Node> positional;  // kObject: the "$" child
  std::shared_ptr<const Leaf> leaf;        // kLeaf
};

// arrayFilters, by identifier. An element e matches identifier x's filter when the filter
// matches the document {x: e}.
struct ArrayFilterSet {
  std::map<std::string, Matcher> filters;
};

}  // namespace eddy::query::update_detail
