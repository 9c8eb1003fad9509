// Parsing of operator updates and arrayFilters into the update tree (tree.h).
#pragma once
#include "query/path.h"
#include <memory>
#include <set>
#include <string>

#include "base/status.h"
#include "bson/value.h"
#include "query/update/detail/tree.h"

namespace eddy::query::update_detail {

// Splits a dotted path; "" yields one empty component.
using query::SplitPath;  // query/path.h
std::string JoinPath(const std::vector<std::string>& parts, size_t begin = 0,
                     size_t end = std::string::npos);
bool IsArrayFilterComponent(std::string_view part);  // "$[]" or "$[id]"

// The command's arrayFilters: each a filter over one identifier.
Result<std::shared_ptr<ArrayFilterSet>> ParseArrayFilters(const bson::Array* array_filters);

// Parses {$set: {...}, $inc: {...}, ...} into a tree; records the array filter identifiers
// the paths use in *used.
Result<std::shared_ptr<const Node>> ParseOperators(const bson::Document& update,
                                                   const ArrayFilterSet& filters,
                                                   std::set<std::string>* used);

// Deep-merges two subtrees that apply to the same location (the positional "$" child and the
// child named by the matched index, or several $[<id>] children matching one element). Two
// leaves at one path conflict.
Result<std::shared_ptr<const Node>> MergeNodes(const std::shared_ptr<const Node>& a,
                                               const std::shared_ptr<const Node>& b,
                                               const std::string& path);

}  // namespace eddy::query::update_detail
