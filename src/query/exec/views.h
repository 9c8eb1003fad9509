// Views (create {viewOn, pipeline, collation}): a catalog entry whose options hold the
// definition and which has no documents of its own. Reading a view runs its pipeline over its
// source (which may itself be a view); writing to one fails with CommandNotSupportedOnView.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "bson/value.h"
#include "storage/catalog.h"

namespace eddy::query {

// mongod's error codes for views.
inline constexpr ErrorCode kCommandNotSupportedOnView = static_cast<ErrorCode>(166);
inline constexpr ErrorCode kOptionNotSupportedOnView = static_cast<ErrorCode>(167);
inline constexpr ErrorCode kViewDepthLimitExceeded = static_cast<ErrorCode>(165);
// mongod's ViewGraph::kMaxViewDepth.
inline constexpr int kMaxViewDepth = 20;

// Whether a catalog entry is a view (its options have viewOn).
bool IsView(const storage::CollectionInfo& coll);

// A view resolved down to a collection: run `pipeline` over `source` (which may not exist:
// then the view is empty).
struct ResolvedView {
  std::string source;     // a collection name of the same database, never a view
  bson::Array pipeline;   // the views' pipelines, innermost (closest to source) first
  std::optional<bson::Document> collation;  // the outermost view's default collation
};

// nullopt when db.name is not a view (a collection or nothing). GraphContainsCycle (5) for a
// cycle, ViewDepthLimitExceeded (165) past kMaxViewDepth.
Result<std::optional<ResolvedView>> ResolveView(const storage::Catalog& catalog,
                                                std::string_view db, std::string_view name);

// Checks a view definition for create/collMod: viewOn a non-empty collection name, pipeline an
// array of stages that parses and has no $out/$merge, and no cycle or depth overflow through
// the catalog's other views once `name` is defined this way. Returns the options to store:
// {viewOn, pipeline[, collation]}.
Result<bson::Document> CheckViewDefinition(const storage::Catalog& catalog, std::string_view db,
                                           std::string_view name, const bson::Value& view_on,
                                           const bson::Value* pipeline,
                                           const std::optional<bson::Document>& collation);

// "Namespace db.name is a view, not a collection" (166), the error of writes, index commands and
// change streams on a view.
Status NotSupportedOnView(std::string_view db, std::string_view name);

}  // namespace eddy::query
