// Applying a parsed operator update (tree.h) to one document.
#pragma once
#include "base/status.h"
#include "bson/value.h"
#include "query/update/detail/tree.h"
#include "query/update/update.h"

namespace eddy::query::update_detail {

// Applies `root` to a copy of `doc`. id_immutable: any change to _id fails with ImmutableField
// (false only while building an upsert whose query did not fix _id).
Result<UpdateOutcome> ApplyTree(const Node& root, const ArrayFilterSet& filters,
                                const bson::Document& doc, const UpdateContext& ctx,
                                bool id_immutable);

}  // namespace eddy::query::update_detail
