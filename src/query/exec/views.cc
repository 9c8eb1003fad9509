#include "query/exec/views.h"

#include <vector>

#include "query/agg/pipeline.h"
#include "query/collation/collator.h"

namespace eddy::query {
namespace {

const bson::Array& ViewPipeline(const storage::CollectionInfo& c) {
  static const bson::Array kEmpty;
  const bson::Value* p = c.options.Get("pipeline");
  return p && p->is_array() ? p->as_array() : kEmpty;
}

std::string ViewOn(const storage::CollectionInfo& c) {
  const bson::Value* v = c.options.Get("viewOn");
  return v && v->is_string() ? v->as_string() : std::string();
}

std::string CyclePath(std::string_view db, const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += " -> ";
    out += std::string(db) + "." + names[i];
  }
  return out + "]";
}

}  // namespace

bool IsView(const storage::CollectionInfo& coll) { return coll.options.Has("viewOn"); }

Status NotSupportedOnView(std::string_view db, std::string_view name) {
  return Status(kCommandNotSupportedOnView,
                "Namespace " + std::string(db) + "." + std::string(name) + " is a view, not a collection");
}

Result<std::optional<ResolvedView>> ResolveView(const storage::Catalog& catalog,
                                                std::string_view db, std::string_view name) {
  storage::CollectionPtr c = catalog.Find(db, name);
  if (!c || !IsView(*c)) return std::optional<ResolvedView>();
  ResolvedView out;
  if (const bson::Value* coll = c->options.Get("collation"); coll && coll->is_document()) {
    out.collation = coll->as_document();
  }
  std::vector<std::string> path{std::string(name)};
  std::vector<const bson::Array*> pipelines;  // outermost first
  std::vector<storage::CollectionPtr> keep;    // keeps the pipelines alive
  while (c && IsView(*c)) {
    pipelines.push_back(&ViewPipeline(*c));
    keep.push_back(c);
    std::string next = ViewOn(*c);
    for (const std::string& seen : path) {
      if (seen == next) {
        path.push_back(next);
        return Status(ErrorCode::kGraphContainsCycle, "View cycle detected: " + CyclePath(db, path));
      }
    }
    path.push_back(next);
    if (static_cast<int>(pipelines.size()) > kMaxViewDepth) {
      return Status(kViewDepthLimitExceeded, "View depth too deep or view cycle detected. Maximum depth is " +
                                                 std::to_string(kMaxViewDepth));
    }
    out.source = next;
    c = catalog.Find(db, next);
  }
  for (auto it = pipelines.rbegin(); it != pipelines.rend(); ++it) {
    out.pipeline.insert(out.pipeline.end(), (*it)->begin(), (*it)->end());
  }
  return std::optional<ResolvedView>(std::move(out));
}

Result<bson::Document> CheckViewDefinition(const storage::Catalog& catalog, std::string_view db,
                                           std::string_view name, const bson::Value& view_on,
                                           const bson::Value* pipeline,
                                           const std::optional<bson::Document>& collation) {
  if (!view_on.is_string()) {
    return Status(ErrorCode::kTypeMismatch, "BSON field 'viewOn' is the wrong type '" +
                                                std::string(bson::TypeName(view_on.type())) +
                                                "', expected type 'string'");
  }
  const std::string& source = view_on.as_string();
  if (source.empty()) return Status(ErrorCode::kBadValue, "'viewOn' cannot be empty");
  std::string why;
  if (!storage::IsValidCollectionName(source, &why)) {
    return Status(ErrorCode::kInvalidNamespace, "invalid 'viewOn' namespace: " + why);
  }
  bson::Array stages;
  if (pipeline != nullptr) {
    if (!pipeline->is_array()) {
      return Status(ErrorCode::kTypeMismatch, "BSON field 'pipeline' is the wrong type '" +
                                                  std::string(bson::TypeName(pipeline->type())) +
                                                  "', expected type 'array'");
    }
    stages = pipeline->as_array();
  }
  for (const bson::Value& s : stages) {
    if (!s.is_document()) {
      return Status(ErrorCode::kTypeMismatch, "Each element of the 'pipeline' array must be an object");
    }
    if (s.as_document().size() != 1) {
      return Status(static_cast<ErrorCode>(40323),
                    "A pipeline stage specification object must contain exactly one field.");
    }
    const std::string& stage = s.as_document().at(0).name;
    if (stage == "$out" || stage == "$merge" || stage == "$changeStream" ||
        stage == "$listLocalSessions" || stage == "$documents") {
      return Status(kOptionNotSupportedOnView,
                    stage + " cannot be used in a view definition");
    }
  }
  AggOptions ao;
  ao.db = std::string(db);
  if (collation) {
    EDDY_ASSIGN_OR_RETURN(ao.collator, ParseCollation(*collation));
  }
  EDDY_RETURN_IF_ERROR(Pipeline::Parse(stages, ao).status().WithPrefix("invalid view pipeline: "));
  // The graph with `name` -> source: follow it from the source looking for `name`.
  std::vector<std::string> path{std::string(name), source};
  std::string next = source;
  for (int depth = 1;; ++depth) {
    if (next == name) {
      return Status(ErrorCode::kGraphContainsCycle, "View cycle detected: " + CyclePath(db, path));
    }
    if (depth > kMaxViewDepth) {
      return Status(kViewDepthLimitExceeded, "View depth too deep or view cycle detected. Maximum depth is " +
                                                 std::to_string(kMaxViewDepth));
    }
    storage::CollectionPtr c = catalog.Find(db, next);
    if (!c || !IsView(*c)) break;
    next = ViewOn(*c);
    path.push_back(next);
  }
  bson::Document options{{"viewOn", source}, {"pipeline", std::move(stages)}};
  if (collation) {
    EDDY_ASSIGN_OR_RETURN(CollatorPtr collator, ParseCollation(*collation));
    if (collator) options.Append("collation", *collation);
  }
  return options;
}

}  // namespace eddy::query
