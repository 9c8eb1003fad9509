#include "changestream/change_stream.h"

#include "bson/json.h"
#include "changestream/resume_token.h"
#include "storage/key_encoding.h"

namespace eddy::changestream {

namespace {

bool IsExpandedOnly(std::string_view op) {
  return op == "create" || op == "createIndexes" || op == "dropIndexes" || op == "modify";
}

bool IsInternalNamespace(std::string_view db, std::string_view coll) {
  return db == "admin" || db == "config" || db == "local" || coll.starts_with("system.") ||
         coll.find('$') != std::string_view::npos;
}

}  // namespace

Result<std::optional<bson::Document>> BuildEvent(const bson::Document& entry,
                                                 const WatchOptions& options,
                                                 storage::Engine* engine) {
  const std::string& op = entry.Get("op")->as_string();
  const std::string& db = entry.Get("db")->as_string();
  const bson::Value* coll_v = entry.Get("coll");
  std::string coll = coll_v ? coll_v->as_string() : std::string();
  if (!options.show_expanded_events && IsExpandedOnly(op)) return std::optional<bson::Document>();
  if (!options.db.empty() && db != options.db) return std::optional<bson::Document>();
  bool collection_stream = !options.collection.empty();
  if (collection_stream && op != "dropDatabase" && coll != options.collection) {
    return std::optional<bson::Document>();
  }
  if (collection_stream && op == "dropDatabase") return std::optional<bson::Document>();
  if (options.db.empty() && IsInternalNamespace(db, coll)) return std::optional<bson::Document>();

  ResumeToken token;
  token.cluster_time = entry.Get("ts")->as_timestamp();
  const bson::Value* dk = entry.Get("dk");
  if (dk) {
    if (const bson::Value* id = dk->as_document().Get("_id")) {
      token.document_key = storage::KeyString(*id);
    }
  }
  bson::Document e;
  e.Append("_id", token.ToDocument());
  e.Append("operationType", op);
  e.Append("clusterTime", token.cluster_time);
  e.Append("wallTime", *entry.Get("wall"));
  const bson::Value* doc = entry.Get("doc");
  if (op == "insert" || op == "replace") e.Append("fullDocument", *doc);
  bson::Document ns{{"db", db}};
  if (!coll.empty()) ns.Append("coll", coll);
  e.Append("ns", std::move(ns));
  if (dk) e.Append("documentKey", *dk);
  if (op == "update") {
    const bson::Value* ud = entry.Get("ud");
    e.Append("updateDescription", ud ? *ud : bson::Value(bson::Document{
                                                 {"updatedFields", bson::Document()},
                                                 {"removedFields", bson::Array()},
                                                 {"truncatedArrays", bson::Array()}}));
    switch (options.full_document) {
      case FullDocument::kDefault:
        break;
      case FullDocument::kUpdateLookup: {
        // The current version of the document, or null if it is gone (as MongoDB does).
        std::unique_ptr<storage::ReadView> view = engine->NewReadView();
        storage::CollectionPtr c = view->catalog().Find(db, coll);
        bson::Value current;
        if (c) {
          EDDY_ASSIGN_OR_RETURN(std::optional<bson::Document> found,
                                view->FindById(*c, *dk->as_document().Get("_id")));
          if (found) current = std::move(*found);
        }
        e.Append("fullDocument", std::move(current));
        break;
      }
      case FullDocument::kWhenAvailable:
      case FullDocument::kRequired:
        if (doc) {
          e.Append("fullDocument", *doc);
        } else if (options.full_document == FullDocument::kRequired) {
          return Status(static_cast<ErrorCode>(47),
                        "Change stream was configured to require a post-image for all update, "
                        "delete and replace events, but the post-image was not found for event: " +
                            std::string(bson::ToJson(token.ToDocument())));
        } else {
          e.Append("fullDocument", bson::Value());
        }
        break;
    }
  }
  if (op == "update" || op == "replace" || op == "delete") {
    if (options.full_document_before_change != FullDocumentBeforeChange::kOff) {
      if (const bson::Value* pre = entry.Get("pre")) {
        e.Append("fullDocumentBeforeChange", *pre);
      } else if (options.full_document_before_change == FullDocumentBeforeChange::kRequired) {
        return Status(static_cast<ErrorCode>(47),
                      "Change stream was configured to require a pre-image for all update, "
                      "delete and replace events, but no pre-image was found");
      } else {
        e.Append("fullDocumentBeforeChange", bson::Value());
      }
    }
  }
  if (op == "rename") e.Append("to", *entry.Get("to"));
  if (options.show_expanded_events) {
    if (const bson::Value* ui = entry.Get("ui")) e.Append("collectionUUID", *ui);
    if (const bson::Value* o = entry.Get("o")) {
      if (op == "createIndexes" || op == "dropIndexes") {
        e.Append("operationDescription", bson::Document{{"indexes", bson::Array{*o}}});
      } else {
        e.Append("operationDescription", *o);
      }
    }
  }
  return std::optional<bson::Document>(std::move(e));
}

Result<std::unique_ptr<ChangeStream>> ChangeStream::Open(storage::Engine* engine,
                                                         WatchOptions options) {
  EDDY_ASSIGN_OR_RETURN(query::Matcher matcher, query::Matcher::Compile(options.filter));
  std::unique_ptr<ChangeStream> cs(new ChangeStream(engine, std::move(options), std::move(matcher)));
  if (cs->options_.resume_after) {
    EDDY_ASSIGN_OR_RETURN(ResumeToken t, ResumeToken::Parse(bson::Value(*cs->options_.resume_after)));
    cs->position_ = t.cluster_time;
  } else if (cs->options_.start_at_operation_time) {
    uint64_t at = cs->options_.start_at_operation_time->AsUint64();
    cs->position_ = bson::Timestamp::FromUint64(at == 0 ? 0 : at - 1);
  } else {
    cs->position_ = engine->committed();
  }
  if (cs->position_ < engine->history_start()) {
    return Status(ErrorCode::kChangeStreamHistoryLost,
                  "Resume of change stream was not possible, as the resume point may no longer "
                  "be in the oplog.");
  }
  return cs;
}

ChangeStream::ChangeStream(storage::Engine* engine, WatchOptions options, query::Matcher matcher)
    : engine_(engine), options_(std::move(options)), matcher_(std::move(matcher)) {}

Status ChangeStream::Fill() {
  EDDY_ASSIGN_OR_RETURN(std::vector<storage::ChangeLogEntry> entries,
                        engine_->ReadChangeLog(position_, options_.batch_entries));
  for (const storage::ChangeLogEntry& entry : entries) {
    position_ = entry.ts;
    EDDY_ASSIGN_OR_RETURN(bson::Document decoded, entry.Decode());
    EDDY_ASSIGN_OR_RETURN(std::optional<bson::Document> event, BuildEvent(decoded, options_, engine_));
    if (!event) continue;
    if (!matcher_.Matches(*event)) continue;
    const std::string& op = event->Get("operationType")->as_string();
    ready_.push_back(std::move(*event));
    // A collection stream ends with invalidate after its collection is dropped or renamed.
    if (!options_.collection.empty() && (op == "drop" || op == "rename")) {
      ResumeToken t;
      t.cluster_time = entry.ts;
      bson::Document inv;
      inv.Append("_id", t.ToDocument());
      inv.Append("operationType", "invalidate");
      inv.Append("clusterTime", entry.ts);
      inv.Append("wallTime", *decoded.Get("wall"));
      ready_.push_back(std::move(inv));
      break;
    }
  }
  return Status::OK();
}

Result<std::optional<bson::Document>> ChangeStream::TryNext() {
  if (ready_.empty()) EDDY_RETURN_IF_ERROR(Fill());
  if (ready_.empty()) return std::optional<bson::Document>();
  bson::Document e = std::move(ready_.front());
  ready_.pop_front();
  last_token_ = e.Get("_id")->as_document();
  return std::optional<bson::Document>(std::move(e));
}

Result<std::optional<bson::Document>> ChangeStream::Next(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    EDDY_ASSIGN_OR_RETURN(std::optional<bson::Document> e, TryNext());
    if (e) return e;
    if (!engine_->WaitForCommit(position_, deadline)) return std::optional<bson::Document>();
  }
}

bson::Document ChangeStream::resume_token() const {
  if (ready_.empty()) {
    ResumeToken t;
    t.cluster_time = position_;
    return t.ToDocument();
  }
  return last_token_;
}

}  // namespace eddy::changestream
