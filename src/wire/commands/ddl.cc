// Catalog commands: listDatabases, listCollections, listIndexes, create, drop, dropDatabase,
// renameCollection, createIndexes, dropIndexes, collMod.
#include <algorithm>

#include "bson/compare.h"
#include "bson/json.h"
#include "query/collation/collator.h"
#include "query/exec/validation.h"
#include "query/exec/views.h"
#include "query/match/matcher.h"
#include "wire/commands/command.h"

namespace eddy::wire {
namespace {

bool IsGeneric(std::string_view f) {
  return f == "$db" || f == "lsid" || f == "txnNumber" || f == "$clusterTime" ||
         f == "$readPreference" || f == "writeConcern" || f == "comment" || f == "apiVersion" ||
         f == "apiStrict" || f == "apiDeprecationErrors" || f == "maxTimeMS" || f == "readConcern";
}

Result<bson::Document> ListDatabases(CommandContext& ctx, const bson::Document& cmd) {
  EDDY_ASSIGN_OR_RETURN(std::optional<bool> name_only, GetBool(cmd, "nameOnly"));
  EDDY_ASSIGN_OR_RETURN(const bson::Document* filter, GetDoc(cmd, "filter"));
  std::optional<query::Matcher> matcher;
  if (filter) {
    EDDY_ASSIGN_OR_RETURN(query::Matcher m, query::Matcher::Compile(*filter));
    matcher = std::move(m);
  }
  bson::Array dbs;
  int64_t total = 0;
  for (const std::string& name : ctx.db->ListDatabases()) {
    bson::Document d{{"name", name}};
    if (!name_only.value_or(false)) {
      // RocksDB's estimate of the database's documents and indexes (no scan). A database
      // whose collections hold nothing yet still takes a block on disk, as in mongod.
      const int64_t bytes = std::max<int64_t>(4096, static_cast<int64_t>(ctx.db->DatabaseBytes(name)));
      d.Append("sizeOnDisk", bytes);
      d.Append("empty", false);
      if (matcher && !matcher->Matches(d)) continue;
      total += bytes;
    } else if (matcher && !matcher->Matches(d)) {
      continue;
    }
    dbs.push_back(std::move(d));
  }
  bson::Document r{{"databases", std::move(dbs)}};
  if (!name_only.value_or(false)) {
    r.Append("totalSize", total);
    r.Append("totalSizeMb", total >> 20);
  }
  r.Append("ok", 1.0);
  return r;
}

bson::Document IdIndexSpec() {
  return bson::Document{{"v", int32_t{2}}, {"key", bson::Document{{"_id", int32_t{1}}}}, {"name", "_id_"}};
}

Result<bson::Document> ListCollections(CommandContext& ctx, const bson::Document& cmd) {
  EDDY_ASSIGN_OR_RETURN(const bson::Document* filter, GetDoc(cmd, "filter"));
  EDDY_ASSIGN_OR_RETURN(std::optional<bool> name_only, GetBool(cmd, "nameOnly"));
  EDDY_ASSIGN_OR_RETURN(const bson::Document* cursor_opts, GetDoc(cmd, "cursor"));
  int64_t batch = 0;
  if (cursor_opts) {
    EDDY_ASSIGN_OR_RETURN(std::optional<int64_t> b, GetInt(*cursor_opts, "batchSize"));
    batch = b.value_or(0);
  }
  std::optional<query::Matcher> matcher;
  if (filter) {
    EDDY_ASSIGN_OR_RETURN(query::Matcher m, query::Matcher::Compile(*filter));
    matcher = std::move(m);
  }
  std::vector<bson::Document> out;
  for (const storage::CollectionPtr& c : ctx.db->ListCollections(ctx.db_name)) {
    const bool view = query::IsView(*c);
    bson::Document d{{"name", c->name}, {"type", view ? "view" : "collection"}};
    if (!name_only.value_or(false)) {
      d.Append("options", c->options);
      if (view) {
        d.Append("info", bson::Document{{"readOnly", true}});
      } else {
        d.Append("info", bson::Document{{"readOnly", false}, {"uuid", c->uuid}});
        d.Append("idIndex", IdIndexSpec());
      }
    }
    if (matcher && !matcher->Matches(d)) continue;
    out.push_back(std::move(d));
  }
  return MakeCursorReply(ctx, ctx.db_name + ".$cmd.listCollections",
                         std::make_shared<VectorCursor>(std::move(out)), batch);
}

Result<bson::Document> ListIndexes(CommandContext& ctx, const bson::Document& cmd) {
  EDDY_ASSIGN_OR_RETURN(std::string coll, CollectionName(cmd));
  auto catalog = ctx.db->engine().catalog();
  storage::CollectionPtr c = catalog->Find(ctx.db_name, coll);
  if (!c) return Status(ErrorCode::kNamespaceNotFound, "ns does not exist: " + ctx.db_name + "." + coll);
  if (query::IsView(*c)) return query::NotSupportedOnView(ctx.db_name, coll);
  std::vector<bson::Document> specs;
  for (const storage::IndexInfo& i : c->indexes) specs.push_back(i.Spec());
  return MakeCursorReply(ctx, ctx.db_name + "." + coll, std::make_shared<VectorCursor>(std::move(specs)), 0);
}

// create {viewOn, pipeline[, collation]}: a view, stored as a catalog entry whose options are
// its definition.
Result<bson::Document> CreateView(CommandContext& ctx, const std::string& coll, const bson::Document& cmd) {
  const bson::Value* view_on = cmd.Get("viewOn");
  if (view_on == nullptr) {
    return Status(ErrorCode::kInvalidOptions, "'pipeline' requires 'viewOn' to also be specified");
  }
  std::optional<bson::Document> collation;
  for (size_t i = 1; i < cmd.size(); ++i) {
    const bson::Field& f = cmd.at(i);
    if (IsGeneric(f.name) || f.name == "viewOn" || f.name == "pipeline") continue;
    if (f.name == "collation") {
      EDDY_ASSIGN_OR_RETURN(query::CollatorPtr collator, query::ParseCollationField(&f.value, "create"));
      if (collator) collation = f.value.as_document();
      continue;
    }
    return Status(ErrorCode::kInvalidOptions, "option '" + f.name + "' is not supported on a view (create with 'viewOn')");
  }
  // The definition (viewOn, pipeline, cycles, depth) is checked by the database, atomically.
  bson::Document options{{"viewOn", *view_on}};
  if (const bson::Value* p = cmd.Get("pipeline")) options.Append("pipeline", *p);
  if (collation) options.Append("collation", *collation);
  EDDY_RETURN_IF_ERROR(ctx.db->CreateCollection(ctx.db_name, coll, options));
  return bson::Document{{"ok", 1.0}};
}

Result<bson::Document> Create(CommandContext& ctx, const bson::Document& cmd) {
  EDDY_ASSIGN_OR_RETURN(std::string coll, CollectionName(cmd));
  if (cmd.Has("viewOn") || cmd.Has("pipeline")) return CreateView(ctx, coll, cmd);
  bson::Document options;
  for (size_t i = 1; i < cmd.size(); ++i) {
    const bson::Field& f = cmd.at(i);
    if (IsGeneric(f.name)) continue;
    if (f.name == "capped" || f.name == "timeseries" || f.name == "clusteredIndex" || f.name == "encryptedFields") {
      if (f.name == "capped" && !f.value.Truthy()) continue;
      return Status(ErrorCode::kNotImplemented, "create option '" + f.name + "' is not supported by eddy yet");
    }
    if (f.name == "collation") {
      // The spec is checked as mongod does; {locale: "simple"} is the default. A collection
      // default collation would need collation-aware _id and index keys in storage.
      EDDY_ASSIGN_OR_RETURN(query::CollatorPtr collator, query::ParseCollationField(&f.value, "create"));
      if (!collator) continue;
      return Status(ErrorCode::kNotImplemented,
                    "create option 'collation' with a non-simple locale is not supported by eddy yet");
    }
    if (f.name == "changeStreamPreAndPostImages") {
      if (!f.value.is_document() || !f.value.as_document().Has("enabled")) {
        return Status(static_cast<ErrorCode>(40414),
                      "BSON field 'create.changeStreamPreAndPostImages.enabled' is missing but a required field");
      }
    } else if (f.name != "validator" && f.name != "validationLevel" && f.name != "validationAction" &&
               f.name != "storageEngine" && f.name != "indexOptionDefaults" && f.name != "collation" &&
               f.name != "size" && f.name != "max" && f.name != "expireAfterSeconds" && f.name != "idIndex") {
      return Status(static_cast<ErrorCode>(40415), "BSON field 'create." + f.name + "' is an unknown field.");
    }
    options.Append(f.name, f.value);
  }
  EDDY_RETURN_IF_ERROR(ctx.db->CreateCollection(ctx.db_name, coll, options));
  return bson::Document{{"ok", 1.0}};
}

Result<bson::Document> Drop(CommandContext& ctx, const bson::Document& cmd) {
  EDDY_ASSIGN_OR_RETURN(std::string coll, CollectionName(cmd));
  storage::CollectionPtr c = ctx.db->engine().catalog()->Find(ctx.db_name, coll);
  if (!c) return bson::Document{{"ok", 1.0}};  // 7.0: dropping a missing collection succeeds
  Status s = ctx.db->DropCollection(ctx.db_name, coll);
  if (!s.ok() && s.code() != ErrorCode::kNamespaceNotFound) return s;
  if (query::IsView(*c)) return bson::Document{{"ns", ctx.db_name + "." + coll}, {"ok", 1.0}};
  return bson::Document{{"nIndexesWas", static_cast<int32_t>(c->indexes.size())},
                        {"ns", ctx.db_name + "." + coll}, {"ok", 1.0}};
}

Result<bson::Document> DropDatabase(CommandContext& ctx, const bson::Document&) {
  EDDY_RETURN_IF_ERROR(ctx.db->DropDatabase(ctx.db_name));
  return bson::Document{{"dropped", ctx.db_name}, {"ok", 1.0}};
}

Result<bson::Document> RenameCollection(CommandContext& ctx, const bson::Document& cmd) {
  if (ctx.db_name != "admin") {
    return Status(ErrorCode::kUnauthorized, "renameCollection may only be run against the admin database.");
  }
  const bson::Value& from = cmd.at(0).value;
  const bson::Value* to = cmd.Get("to");
  if (!from.is_string() || !to || !to->is_string()) {
    return Status(ErrorCode::kInvalidNamespace, "renameCollection needs string namespaces 'db.coll'");
  }
  auto split = [](const std::string& ns, std::string* db, std::string* coll) {
    size_t dot = ns.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == ns.size()) return false;
    *db = ns.substr(0, dot);
    *coll = ns.substr(dot + 1);
    return true;
  };
  std::string fdb, fcoll, tdb, tcoll;
  if (!split(from.as_string(), &fdb, &fcoll)) return Status(ErrorCode::kInvalidNamespace, "Invalid source namespace: " + from.as_string());
  if (!split(to->as_string(), &tdb, &tcoll)) return Status(ErrorCode::kInvalidNamespace, "Invalid target namespace: " + to->as_string());
  EDDY_ASSIGN_OR_RETURN(std::optional<bool> drop_target, GetBool(cmd, "dropTarget"));
  auto catalog = ctx.db->engine().catalog();
  if (storage::CollectionPtr c = catalog->Find(fdb, fcoll); c && query::IsView(*c)) {
    return Status(query::kCommandNotSupportedOnView, "cannot rename view: " + from.as_string());
  }
  if (storage::CollectionPtr c = catalog->Find(tdb, tcoll); c && query::IsView(*c)) {
    return Status(query::kCommandNotSupportedOnView, "cannot rename to a view: " + to->as_string());
  }
  EDDY_RETURN_IF_ERROR(ctx.db->RenameCollection(fdb, fcoll, tdb, tcoll, drop_target.value_or(false)));
  return bson::Document{{"ok", 1.0}};
}

Result<bson::Document> CreateIndexes(CommandContext& ctx, const bson::Document& cmd) {
  EDDY_ASSIGN_OR_RETURN(std::string coll, CollectionName(cmd));
  EDDY_ASSIGN_OR_RETURN(const bson::Array* indexes, GetArray(cmd, "indexes"));
  if (!indexes) return Status(static_cast<ErrorCode>(40414), "BSON field 'createIndexes.indexes' is missing but a required field");
  if (indexes->empty()) return Status(ErrorCode::kBadValue, "Must specify at least one index to create");
  auto catalog = ctx.db->engine().catalog();
  storage::CollectionPtr before = catalog->Find(ctx.db_name, coll);
  if (before && query::IsView(*before)) return query::NotSupportedOnView(ctx.db_name, coll);
  size_t n_before = before ? before->indexes.size() : 1;
  for (const bson::Value& v : *indexes) {
    if (!v.is_document()) return Status(ErrorCode::kTypeMismatch, "createIndexes: each index spec must be an object");
    const bson::Document& spec = v.as_document();
    EDDY_ASSIGN_OR_RETURN(const bson::Document* key, GetDoc(spec, "key"));
    if (!key) return Status(ErrorCode::kFailedToParse, "The 'key' field is a required property of an index specification");
    query::IndexOptions io;
    if (const bson::Value* name = spec.Get("name")) {
      if (!name->is_string()) return Status(ErrorCode::kTypeMismatch, "The field 'name' must be a string");
      io.name = name->as_string();
    } else {
      return Status(ErrorCode::kFailedToParse, "The 'name' field is a required property of an index specification");
    }
    for (const bson::Field& f : spec) {
      if (f.name == "unique") io.unique = f.value.Truthy();
      else if (f.name == "sparse") io.sparse = f.value.Truthy();
      else if (f.name == "key" || f.name == "name" || f.name == "v" || f.name == "background" || f.name == "ns") continue;
      else if (f.name == "collation") {
        // Checked as mongod does; a simple collation is the default. Index keys are binary, so
        // an index with a locale collation is not supported yet.
        EDDY_ASSIGN_OR_RETURN(query::CollatorPtr collator,
                              query::ParseCollationField(&f.value, "createIndexes.indexes"));
        if (collator) {
          return Status(ErrorCode::kCannotCreateIndex,
                        "index option 'collation' with a non-simple locale is not supported by eddy yet");
        }
      } else if (f.name == "partialFilterExpression" || f.name == "expireAfterSeconds" ||
               f.name == "hidden" || f.name == "wildcardProjection" || f.name == "weights" ||
               f.name == "default_language" || f.name == "2dsphereIndexVersion") {
        return Status(ErrorCode::kCannotCreateIndex, "index option '" + f.name + "' is not supported by eddy yet");
      } else {
        return Status(ErrorCode::kInvalidOptions, "The field '" + f.name + "' is not valid for an index specification. Specification: " + std::string(bson::TypeName(v.type())));
      }
    }
    EDDY_RETURN_IF_ERROR(ctx.db->CreateIndex(ctx.db_name, coll, *key, io).status());
  }
  storage::CollectionPtr after = ctx.db->engine().catalog()->Find(ctx.db_name, coll);
  return bson::Document{{"numIndexesBefore", static_cast<int32_t>(n_before)},
                        {"numIndexesAfter", static_cast<int32_t>(after ? after->indexes.size() : 0)},
                        {"createdCollectionAutomatically", before == nullptr},
                        {"ok", 1.0}};
}

Result<bson::Document> DropIndexes(CommandContext& ctx, const bson::Document& cmd) {
  EDDY_ASSIGN_OR_RETURN(std::string coll, CollectionName(cmd));
  storage::CollectionPtr c = ctx.db->engine().catalog()->Find(ctx.db_name, coll);
  if (!c) return Status(ErrorCode::kNamespaceNotFound, "ns not found " + ctx.db_name + "." + coll);
  if (query::IsView(*c)) return query::NotSupportedOnView(ctx.db_name, coll);
  const bson::Value* index = cmd.Get("index");
  if (!index) return Status(static_cast<ErrorCode>(40414), "BSON field 'dropIndexes.index' is missing but a required field");
  std::vector<std::string> names;
  if (index->is_string() && index->as_string() == "*") {
    for (const auto& i : c->indexes) {
      if (!i.is_id()) names.push_back(i.name);
    }
  } else if (index->is_string()) {
    names.push_back(index->as_string());
  } else if (index->is_document()) {
    const storage::IndexInfo* i = c->FindIndexByKey(index->as_document());
    if (!i) return Status(ErrorCode::kIndexNotFound, "can't find index with key: " + bson::ToJson(index->as_document(), bson::JsonMode::kShell));
    names.push_back(i->name);
  } else if (index->is_array()) {
    for (const bson::Value& v : index->as_array()) {
      if (!v.is_string()) return Status(ErrorCode::kTypeMismatch, "dropIndexes: index names must be strings");
      names.push_back(v.as_string());
    }
  } else {
    return Status(ErrorCode::kTypeMismatch, "dropIndexes: 'index' must be a string, an array of strings or a key pattern");
  }
  for (const std::string& n : names) EDDY_RETURN_IF_ERROR(ctx.db->DropIndex(ctx.db_name, coll, n));
  return bson::Document{{"nIndexesWas", static_cast<int32_t>(c->indexes.size())}, {"ok", 1.0}};
}

// collMod: a collection's changeStreamPreAndPostImages and validator/validationLevel/
// validationAction, or a view's viewOn/pipeline (checked as create checks them).
Result<bson::Document> CollMod(CommandContext& ctx, const bson::Document& cmd) {
  EDDY_ASSIGN_OR_RETURN(std::string coll, CollectionName(cmd));
  storage::CollectionPtr c = ctx.db->engine().catalog()->Find(ctx.db_name, coll);
  if (!c) {
    return Status(ErrorCode::kNamespaceNotFound, "ns does not exist: " + ctx.db_name + "." + coll);
  }
  const bool view = query::IsView(*c);
  bson::Document changes;
  for (size_t i = 1; i < cmd.size(); ++i) {
    const bson::Field& f = cmd.at(i);
    if (IsGeneric(f.name)) continue;
    if (f.name == "viewOn" || f.name == "pipeline") {
      if (!view) {
        return Status(ErrorCode::kInvalidOptions,
                      "option '" + f.name + "' is only supported on a view; " + ctx.db_name + "." +
                          coll + " is a collection");
      }
    } else if (f.name == "changeStreamPreAndPostImages" || f.name == "validator" ||
               f.name == "validationLevel" || f.name == "validationAction") {
      if (view) {
        return Status(ErrorCode::kInvalidOptions, "option '" + f.name + "' is not supported on a view");
      }
    } else {
      return Status(ErrorCode::kInvalidOptions, "collMod option '" + f.name + "' is not supported by eddy");
    }
    changes.Append(f.name, f.value);
  }
  // The validation options, or a view's new definition, are checked by the database.
  EDDY_RETURN_IF_ERROR(ctx.db->ModifyCollection(ctx.db_name, coll, changes));
  return bson::Document{{"ok", 1.0}};
}

}  // namespace

void RegisterDdlCommands(CommandTable& t) {
  t["listDatabases"] = {ListDatabases};
  t["listCollections"] = {ListCollections};
  t["listIndexes"] = {ListIndexes};
  t["create"] = {Create};
  t["drop"] = {Drop};
  t["dropDatabase"] = {DropDatabase};
  t["renameCollection"] = {RenameCollection};
  t["createIndexes"] = {CreateIndexes};
  t["dropIndexes"] = {DropIndexes};
  t["deleteIndexes"] = {DropIndexes};
  t["collMod"] = {CollMod};
}

}  // namespace eddy::wire
