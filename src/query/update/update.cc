#include "query/update/update.h"

#include <set>
#include <utility>

#include "bson/compare.h"
#include "bson/json.h"
#include "query/agg/pipeline.h"
#include "query/update/detail/apply.h"
#include "query/update/detail/parse.h"
#include "query/update/detail/tree.h"

namespace eddy::query {

namespace {

using bson::Document;
using bson::Value;

std::string Shell(const Value& v) { return bson::ToJson(v, bson::JsonMode::kShell); }

Status CheckIdValue(const Value& id) {
  switch (id.type()) {
    case bson::Type::kRegex:
    case bson::Type::kArray:
    case bson::Type::kUndefined:
      return Status(ErrorCode::kInvalidIdField,
                    "The '_id' value cannot be of type " + std::string(bson::TypeName(id.type())));
    default:
      return Status::OK();
  }
}

// A replacement may not hold top-level $-prefixed fields (storage_validation).
Status CheckReplacement(const Document& doc) {
  for (const auto& f : doc) {
    if (!f.name.empty() && f.name[0] == '$') {
      return Status(ErrorCode::kDollarPrefixedFieldName,
                    "The dollar ($) prefixed field '" + f.name + "' in '" + f.name +
                        "' is not allowed in the context of an update's replacement document. "
                        "Consider using an aggregation pipeline with $replaceWith.");
    }
    if (f.name == "_id") EDDY_RETURN_IF_ERROR(CheckIdValue(f.value));
  }
  return Status::OK();
}

Document IdFirst(Document doc) {
  auto& fields = doc.mutable_fields();
  for (size_t i = 1; i < fields.size(); ++i) {
    if (fields[i].name == "_id") {
      bson::Field id = std::move(fields[i]);
      fields.erase(fields.begin() + static_cast<long>(i));
      fields.insert(fields.begin(), std::move(id));
      break;
    }
  }
  return doc;
}

// The query's equality predicates (pathsupport::extractEqualityMatches): {a: v}, {a: {$eq: v}},
// and those under $and (or a one-clause $or).
Status ExtractEqualities(const Document& query, std::vector<std::pair<std::string, Value>>* out) {
  for (const auto& f : query) {
    if (!f.name.empty() && f.name[0] == '$') {
      bool one_clause_or = f.name == "$or" && f.value.is_array() && f.value.as_array().size() == 1;
      if ((f.name == "$and" || one_clause_or) && f.value.is_array()) {
        for (const auto& clause : f.value.as_array()) {
          if (clause.is_document()) EDDY_RETURN_IF_ERROR(ExtractEqualities(clause.as_document(), out));
        }
      }
      continue;
    }
    const Value& v = f.value;
    std::optional<Value> eq;
    if (v.is_document() && !v.as_document().empty() && !v.as_document().at(0).name.empty() &&
        v.as_document().at(0).name[0] == '$') {
      for (const auto& op : v.as_document()) {
        if (op.name == "$eq") eq = op.value;
      }
    } else if (v.type() != bson::Type::kRegex) {
      eq = v;
    }
    if (!eq) continue;
    for (const auto& [path, unused] : *out) {
      if (path == f.name) {
        return Status(ErrorCode::kNotSingleValueField,
                      "cannot infer query fields to set, path '" + path + "' is matched twice");
      }
      const std::string& shorter = path.size() < f.name.size() ? path : f.name;
      const std::string& longer = path.size() < f.name.size() ? f.name : path;
      if (longer.compare(0, shorter.size(), shorter) == 0 && longer[shorter.size()] == '.') {
        return Status(ErrorCode::kNotSingleValueField,
                      "cannot infer query fields to set, both paths '" + path + "' and '" +
                          f.name + "' are matched");
      }
    }
    out->emplace_back(f.name, *eq);
  }
  return Status::OK();
}

Status SetAtPath(Document* doc, const std::vector<std::string>& parts, Value value) {
  Document* cur = doc;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    Value* next = cur->GetMutable(parts[i]);
    if (next == nullptr) {
      cur->Append(parts[i], Document());
      next = cur->GetMutable(parts[i]);
    }
    if (!next->is_document()) {
      return Status(ErrorCode::kPathNotViable,
                    "Cannot create field '" + parts[i + 1] + "' in element {" + parts[i] + ": " +
                        Shell(*next) + "}");
    }
    cur = &next->as_document();
  }
  cur->Set(parts.back(), std::move(value));
  return Status::OK();
}

// The change from `before` to `after` as mongod's doc_diff describes a pipeline update:
// subdocuments present on both sides are compared field by field, arrays element by element
// (a shorter array is truncated), anything else that differs is set whole.
void DiffArrays(const bson::Array& before, const bson::Array& after, const std::string& path,
                UpdateDescription* out);

void DiffDocuments(const Document& before, const Document& after, const std::string& prefix,
                   UpdateDescription* out) {
  for (const bson::Field& f : before) {
    if (!after.Has(f.name)) out->removed_fields.push_back(prefix + f.name);
  }
  for (const bson::Field& f : after) {
    const std::string path = prefix + f.name;
    const Value* old = before.Get(f.name);
    if (old == nullptr) {
      out->updated_fields.Append(path, f.value);
    } else if (old->is_document() && f.value.is_document()) {
      DiffDocuments(old->as_document(), f.value.as_document(), path + ".", out);
    } else if (old->is_array() && f.value.is_array()) {
      DiffArrays(old->as_array(), f.value.as_array(), path, out);
    } else if (old->type() != f.value.type() || bson::Compare(*old, f.value) != 0) {
      out->updated_fields.Append(path, f.value);
    }
  }
}

void DiffArrays(const bson::Array& before, const bson::Array& after, const std::string& path,
                UpdateDescription* out) {
  if (after.size() < before.size()) {
    out->truncated_arrays.emplace_back(path, static_cast<int32_t>(after.size()));
  }
  for (size_t i = 0; i < after.size(); ++i) {
    const std::string elem = path + "." + std::to_string(i);
    if (i >= before.size()) {
      out->updated_fields.Append(elem, after[i]);
    } else if (before[i].is_document() && after[i].is_document()) {
      DiffDocuments(before[i].as_document(), after[i].as_document(), elem + ".", out);
    } else if (before[i].type() != after[i].type() || bson::Compare(before[i], after[i]) != 0) {
      out->updated_fields.Append(elem, after[i]);
    }
  }
}

}  // namespace

bson::Document UpdateDescription::ToDocument() const {
  bson::Array removed;
  for (const auto& r : removed_fields) removed.emplace_back(r);
  bson::Array truncated;
  for (const auto& [field, size] : truncated_arrays) {
    Document t;
    t.Append("field", field);
    t.Append("newSize", size);
    truncated.emplace_back(std::move(t));
  }
  Document d;
  d.Append("updatedFields", updated_fields);
  d.Append("removedFields", std::move(removed));
  d.Append("truncatedArrays", std::move(truncated));
  return d;
}

Update::Update() = default;
Update::Update(Update&&) noexcept = default;
Update& Update::operator=(Update&&) noexcept = default;
Update::~Update() = default;

Result<Update> Update::Parse(const bson::Document& update, const bson::Array* array_filters) {
  Update u;
  EDDY_ASSIGN_OR_RETURN(u.filters_, update_detail::ParseArrayFilters(array_filters));
  std::set<std::string> used;
  bool is_operator = !update.empty() && !update.at(0).name.empty() && update.at(0).name[0] == '$';
  if (is_operator) {
    std::shared_ptr<const update_detail::Node> root;
    EDDY_ASSIGN_OR_RETURN(root, update_detail::ParseOperators(update, *u.filters_, &used));
    u.root_ = std::make_unique<update_detail::Node>(*root);
  } else {
    u.is_replacement_ = true;
    u.replacement_ = update;
  }
  for (const auto& [id, unused] : u.filters_->filters) {
    if (!used.count(id)) {
      return Status(ErrorCode::kFailedToParse,
                    "The array filter for identifier '" + id + "' was not used in the update " +
                        bson::ToJson(update, bson::JsonMode::kShell));
    }
  }
  return u;
}

Result<UpdateOutcome> Update::ApplyOperators(const bson::Document& doc, const UpdateContext& ctx,
                                             bool id_immutable) const {
  return update_detail::ApplyTree(*root_, *filters_, doc, ctx, id_immutable);
}

Result<Update> Update::ParsePipeline(const bson::Array& pipeline, const bson::Document& let) {
  static const char* kAllowed[] = {"$addFields", "$set", "$project", "$unset", "$replaceRoot",
                                   "$replaceWith"};
  for (const Value& stage : pipeline) {
    if (!stage.is_document() || stage.as_document().size() != 1) {
      return Status(ErrorCode::kFailedToParse,
                    "A pipeline stage specification object must contain exactly one field.");
    }
    const std::string& name = stage.as_document().at(0).name;
    bool ok = false;
    for (const char* a : kAllowed) ok = ok || name == a;
    if (!ok) {
      return Status(ErrorCode::kInvalidOptions,
                    name + " is not allowed to be used within an update");
    }
  }
  AggOptions options;
  options.let = let;
  EDDY_ASSIGN_OR_RETURN(Pipeline p, Pipeline::Parse(pipeline, options));
  Update u;
  u.filters_ = std::make_shared<update_detail::ArrayFilterSet>();
  u.pipeline_ = std::make_shared<const Pipeline>(std::move(p));
  return u;
}

Result<UpdateOutcome> Update::ApplyPipeline(const bson::Document& doc, const UpdateContext& ctx,
                                            bool id_immutable) const {
  (void)ctx;
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<DocStream> stream,
                        pipeline_->Run(MakeVectorStream({doc}), nullptr));
  EDDY_ASSIGN_OR_RETURN(std::vector<Document> docs, DrainStream(*stream));
  if (docs.size() != 1) {
    return Status(ErrorCode::kInternalError, "a pipeline update produced " +
                                                 std::to_string(docs.size()) + " documents");
  }
  UpdateOutcome out;
  Document result = std::move(docs[0]);
  const Value* old_id = doc.Get("_id");
  const Value* new_id = result.Get("_id");
  if (old_id != nullptr && new_id != nullptr && id_immutable &&
      (old_id->type() != new_id->type() || bson::Compare(*old_id, *new_id) != 0)) {
    return Status(ErrorCode::kImmutableField,
                  "After applying the update, the (immutable) field '_id' was found to have been "
                  "altered to _id: " + Shell(*new_id));
  }
  if (old_id != nullptr && new_id == nullptr) {
    result.mutable_fields().insert(result.mutable_fields().begin(), bson::Field{"_id", *old_id});
  }
  out.document = IdFirst(std::move(result));
  // Unlike a replacement, a pipeline may produce $-prefixed and dotted field names (5.0+).
  if (const Value* id = out.document.Get("_id")) EDDY_RETURN_IF_ERROR(CheckIdValue(*id));
  DiffDocuments(doc, out.document, "", &out.description);
  out.modified = !(out.document == doc);
  return out;
}

Result<UpdateOutcome> Update::Apply(const bson::Document& doc, const UpdateContext& ctx) const {
  if (pipeline_) return ApplyPipeline(doc, ctx, /*id_immutable=*/true);
  if (!is_replacement_) return ApplyOperators(doc, ctx, /*id_immutable=*/true);

  EDDY_RETURN_IF_ERROR(CheckReplacement(replacement_));
  UpdateOutcome out;
  const Value* old_id = doc.Get("_id");
  const Value* new_id = replacement_.Get("_id");
  if (old_id != nullptr && new_id != nullptr && bson::Compare(*old_id, *new_id) != 0) {
    return Status(ErrorCode::kImmutableField,
                  "After applying the update, the (immutable) field '_id' was found to have been "
                  "altered to _id: " + Shell(*new_id));
  }
  if (old_id != nullptr && new_id == nullptr) {
    out.document.Append("_id", *old_id);
    for (const auto& f : replacement_) out.document.Append(f.name, f.value);
  } else {
    out.document = replacement_;
  }
  out.modified = !(out.document == doc);
  return out;
}

Result<bson::Document> Update::BuildUpsertDocument(const bson::Document& query,
                                                   const UpdateContext& ctx) const {
  std::vector<std::pair<std::string, Value>> equalities;
  EDDY_RETURN_IF_ERROR(ExtractEqualities(query, &equalities));

  if (is_replacement_) {
    EDDY_RETURN_IF_ERROR(CheckReplacement(replacement_));
    Document out = replacement_;
    for (const auto& [path, value] : equalities) {
      if (path != "_id") continue;
      const Value* new_id = replacement_.Get("_id");
      if (new_id != nullptr && bson::Compare(value, *new_id) != 0) {
        return Status(ErrorCode::kImmutableField,
                      "After applying the update, the (immutable) field '_id' was found to have "
                      "been altered to _id: " + Shell(*new_id));
      }
      if (new_id == nullptr) {
        EDDY_RETURN_IF_ERROR(CheckIdValue(value));
        out.mutable_fields().insert(out.mutable_fields().begin(), bson::Field{"_id", value});
      }
    }
    return IdFirst(std::move(out));
  }

  Document base;
  for (const auto& [path, value] : equalities) {
    std::vector<std::string> parts = update_detail::SplitPath(path);
    bool dynamic = false;
    for (const auto& p : parts) dynamic = dynamic || p.empty() || p[0] == '$';
    if (dynamic) continue;
    EDDY_RETURN_IF_ERROR(SetAtPath(&base, parts, value));
  }
  bool id_from_query = base.Has("_id");
  UpdateContext insert_ctx = ctx;
  insert_ctx.is_upsert_insert = true;
  insert_ctx.positional_index.reset();
  UpdateOutcome out;
  if (pipeline_) {
    EDDY_ASSIGN_OR_RETURN(out, ApplyPipeline(base, insert_ctx, id_from_query));
  } else {
    EDDY_ASSIGN_OR_RETURN(out, ApplyOperators(base, insert_ctx, id_from_query));
  }
  Document doc = IdFirst(std::move(out.document));
  if (const Value* id = doc.Get("_id")) EDDY_RETURN_IF_ERROR(CheckIdValue(*id));
  return doc;
}

}  // namespace eddy::query
