// CRUD commands: insert, update, delete, find, getMore, killCursors, count, distinct,
// findAndModify. Reply shapes follow mongod (reference/clients.md §4).
#include <chrono>

#include "bson/codec.h"
#include "bson/compare.h"
#include "bson/json.h"
#include "query/collation/collator.h"
#include "query/exec/views.h"
#include "wire/commands/command.h"

namespace eddy::wire {
namespace {

constexpr int64_t kDefaultFirstBatch = 101;

std::string Ns(const CommandContext& ctx, std::string_view coll) {
  return ctx.db_name + "." + std::string(coll);
}

// Field names a command accepts besides its own: generic arguments drivers send.
bool IsGenericArgument(std::string_view f) {
  static const char* kGeneric[] = {"$db", "lsid", "txnNumber", "$clusterTime", "$readPreference",
                                   "apiVersion", "apiStrict", "apiDeprecationErrors", "comment",
                                   "maxTimeMS", "writeConcern", "readConcern", "autocommit",
                                   "startTransaction", "stmtId", "$audit", "$client",
                                   "backpressure", "bypassDocumentValidation", "let", "collation",
                                   "allowDiskUse", "hint", "noCursorTimeout", "maxAwaitTimeMS"};
  for (const char* g : kGeneric) {
    if (f == g) return true;
  }
  return false;
}

// Unknown fields are errors, as mongod's IDL parser makes them (code 40415).
Status CheckFields(const bson::Document& cmd, std::initializer_list<std::string_view> allowed) {
  for (size_t i = 1; i < cmd.size(); ++i) {
    const std::string& f = cmd.at(i).name;
    if (IsGenericArgument(f)) continue;
    bool ok = false;
    for (std::string_view a : allowed) ok = ok || a == f;
    if (!ok) {
      return Status(static_cast<ErrorCode>(40415), "BSON field '" + cmd.at(0).name + "." + f +
                                                       "' is an unknown field.");
    }
  }
  return Status::OK();
}

Result<bson::Document> CursorReply(CommandContext& ctx, std::string ns,
                                   std::shared_ptr<ServerCursor> cursor, int64_t batch_size,
                                   bool single_batch, bool first,
                                   std::chrono::steady_clock::time_point deadline,
                                   std::optional<int64_t> existing_id = std::nullopt) {
  bson::Array batch;
  EDDY_ASSIGN_OR_RETURN(bool more, cursor->NextBatch(batch_size, deadline, &batch));
  int64_t id = 0;
  if (more && !single_batch) {
    id = existing_id ? *existing_id : ctx.cursors->Add(ns, cursor);
  } else if (existing_id) {
    ctx.cursors->Kill(*existing_id);
  }
  bson::Document c;
  c.Append(first ? "firstBatch" : "nextBatch", std::move(batch));
  if (auto token = cursor->post_batch_resume_token()) c.Append("postBatchResumeToken", *token);
  c.Append("id", id);
  c.Append("ns", std::move(ns));
  return bson::Document{{"cursor", std::move(c)}, {"ok", 1.0}};
}

Result<int64_t> BatchSize(const bson::Document& holder, std::string_view field, int64_t dflt) {
  EDDY_ASSIGN_OR_RETURN(std::optional<int64_t> b, GetInt(holder, field));
  if (!b) return dflt;
  if (*b < 0) {
    return Status(ErrorCode::kBadValue, "BSON field 'batchSize' value must be >= 0, actual value '" +
                                            std::to_string(*b) + "'");
  }
  return *b == 0 && field == "batchSize" ? int64_t{0} : *b;
}

// The documents of a write command: kind-1 sequences were merged as arrays by the server.
Result<const bson::Array*> WriteItems(const bson::Document& cmd, std::string_view field) {
  EDDY_ASSIGN_OR_RETURN(const bson::Array* items, GetArray(cmd, field));
  if (!items) {
    return Status(static_cast<ErrorCode>(40414), "BSON field '" + cmd.at(0).name + "." +
                                                     std::string(field) + "' is missing but a required field");
  }
  for (const bson::Value& v : *items) {
    if (!v.is_document()) {
      return Status(ErrorCode::kTypeMismatch, "BSON field '" + cmd.at(0).name + "." + std::string(field) +
                                                  "' items must be objects, found " +
                                                  std::string(bson::TypeName(v.type())));
    }
  }
  return items;
}

// CommandNotSupportedOnView (166) when db.coll is a view: writes go to collections only.
Status RefuseView(CommandContext& ctx, std::string_view coll) {
  storage::CollectionPtr c = ctx.db->engine().catalog()->Find(ctx.db_name, coll);
  if (c && query::IsView(*c)) return query::NotSupportedOnView(ctx.db_name, coll);
  return Status::OK();
}

// The command's `let` ({} when absent); not a document: TypeMismatch naming the field.
Result<bson::Document> CommandLet(const bson::Document& cmd) {
  const bson::Value* v = cmd.Get("let");
  if (v == nullptr) return bson::Document();
  if (!v->is_document()) {
    return Status(ErrorCode::kTypeMismatch, "BSON field '" + cmd.at(0).name +
                                                ".let' is the wrong type '" +
                                                std::string(bson::TypeName(v->type())) +
                                                "', expected type 'object'");
  }
  return v->as_document();
}

// A `collation` field (of the command or of one statement): absent -> nullopt; not a document:
// TypeMismatch naming `where`.collation. The spec itself is checked by the query layer.
Result<std::optional<bson::Document>> CollationField(const bson::Document& holder,
                                                     std::string_view where) {
  const bson::Value* v = holder.Get("collation");
  if (v == nullptr) return std::optional<bson::Document>();
  if (!v->is_document()) {
    return Status(ErrorCode::kTypeMismatch, "BSON field '" + std::string(where) +
                                                ".collation' is the wrong type '" +
                                                std::string(bson::TypeName(v->type())) +
                                                "', expected type 'object'");
  }
  return std::optional<bson::Document>(v->as_document());
}

// The fields of each update/delete statement, checked as mongod's IDL parser does (40415).
Status CheckStatementFields(const bson::Array& items, std::string_view where,
                            std::initializer_list<std::string_view> allowed) {
  for (const bson::Value& item : items) {
    for (const bson::Field& f : item.as_document()) {
      bool ok = false;
      for (std::string_view a : allowed) ok = ok || f.name == a;
      if (!ok) {
        return Status(static_cast<ErrorCode>(40415), "BSON field '" + std::string(where) + "." +
                                                         f.name + "' is an unknown field.");
      }
    }
  }
  return Status::OK();
}


// insert's reply from the engine's result.
Result<bson::Document> InsertReply(const query::InsertResult& r) {
  bson::Document reply{{"n", static_cast<int32_t>(r.inserted)}};
  if (!r.errors.empty()) {
    // A namespace error applies to the whole command, as in mongod.
    if (r.inserted == 0 && r.errors.size() == 1 &&
        (r.errors[0].status.code() == ErrorCode::kInvalidNamespace ||
         r.errors[0].status.code() == query::kCommandNotSupportedOnView)) {
      return r.errors[0].status;
    }
    bson::Array errors;
    for (const query::WriteError& e : r.errors) errors.push_back(WriteErrorEntry(e.index, e.status));
    reply.Append("writeErrors", std::move(errors));
  }
  reply.Append("ok", 1.0);
  return reply;
}

Result<bson::Document> Insert(CommandContext& ctx, const bson::Document& cmd) {
  EDDY_ASSIGN_OR_RETURN(std::string coll, CollectionName(cmd));
  EDDY_RETURN_IF_ERROR(CheckFields(cmd, {"documents", "ordered"}));
  EDDY_RETURN_IF_ERROR(RefuseView(ctx, coll));
  EDDY_ASSIGN_OR_RETURN(const bson::Array* items, WriteItems(cmd, "documents"));
  EDDY_ASSIGN_OR_RETURN(std::optional<bool> ordered, GetBool(cmd, "ordered"));
  std::vector<bson::Document> docs;
  docs.reserve(items->size());
  for (const bson::Value& v : *items) docs.push_back(v.as_document());
  EDDY_ASSIGN_OR_RETURN(storage::WriteOptions write, WriteConcernOptions(cmd));
  EDDY_ASSIGN_OR_RETURN(std::optional<bool> bypass, GetBool(cmd, "bypassDocumentValidation"));
  if (ctx.finish_later && !ctx.write_now_only) {
    // Answered by the engine's committing thread once acknowledged: no thread waits for it.
    ctx.db->InsertAsync(ctx.db_name, coll, std::move(docs), ordered.value_or(true), write,
                        bypass.value_or(false),
                        [finish = ctx.finish_later](query::InsertResult r) { finish(InsertReply(r)); });
    ctx.deferred = true;  // after the call: had it thrown, finish_later would never run
    return bson::Document();
  }
  write.only_if_idle = ctx.write_now_only;
  query::InsertResult r = ctx.db->Insert(ctx.db_name, coll, std::move(docs), ordered.value_or(true),
                                         write, bypass.value_or(false));
  if (ctx.write_now_only && r.inserted == 0 && r.errors.size() == 1 &&
      r.errors[0].status.code() == ErrorCode::kLockBusy) {
    ctx.write_refused = true;  // not run: the service hands the command on
    return r.errors[0].status;
  }
  return InsertReply(r);
}

// One update statement {q, u, multi, upsert, arrayFilters, collation, ...} as the engine's.
Result<query::UpdateStatement> ParseUpdateStatement(const bson::Document& u, const bson::Document& let,
                                                    storage::WriteOptions write, bool bypass) {
  EDDY_ASSIGN_OR_RETURN(const bson::Document* q, GetDoc(u, "q"));
  const bson::Value* uv = u.Get("u");
  if (!q || !uv) {
    return Status(static_cast<ErrorCode>(40414),
                  std::string("BSON field 'update.updates.") + (q ? "u" : "q") +
                      "' is missing but a required field");
  }
  if (!uv->is_document() && !uv->is_array()) {
    return Status(ErrorCode::kFailedToParse, "Update argument must be either an object or an array");
  }
  query::UpdateStatement st;
  st.filter = *q;
  st.let = let;
  if (uv->is_array()) {
    st.pipeline = uv->as_array();
  } else {
    st.update = uv->as_document();
  }
  EDDY_ASSIGN_OR_RETURN(st.collation, CollationField(u, "update.updates"));
  EDDY_ASSIGN_OR_RETURN(std::optional<bool> multi, GetBool(u, "multi"));
  EDDY_ASSIGN_OR_RETURN(std::optional<bool> upsert, GetBool(u, "upsert"));
  st.multi = multi.value_or(false);
  st.upsert = upsert.value_or(false);
  EDDY_ASSIGN_OR_RETURN(const bson::Array* af, GetArray(u, "arrayFilters"));
  if (af) st.array_filters = *af;
  st.write = write;
  st.bypass_document_validation = bypass;
  return st;
}

// update's reply, built statement by statement: n counts matched and upserted documents.
struct UpdateTally {
  int64_t n = 0, modified = 0;
  bson::Array upserted, errors;

  // Adds statement i's outcome. A namespace error fails the whole command (returned).
  Status Add(size_t i, const Result<query::UpdateResult>& r) {
    if (!r.ok()) {
      if (r.status().code() == ErrorCode::kInvalidNamespace) return r.status();
      errors.push_back(WriteErrorEntry(i, r.status()));
      return Status::OK();
    }
    n += r->matched;
    modified += r->modified;
    if (r->upserted_id) {
      n += 1;
      upserted.push_back(bson::Document{{"index", static_cast<int32_t>(i)}, {"_id", *r->upserted_id}});
    }
    return Status::OK();
  }
  bson::Document Reply() {
    bson::Document reply{{"n", static_cast<int32_t>(n)}};
    if (!upserted.empty()) reply.Append("upserted", std::move(upserted));
    reply.Append("nModified", static_cast<int32_t>(modified));
    if (!errors.empty()) reply.Append("writeErrors", std::move(errors));
    reply.Append("ok", 1.0);
    return reply;
  }
};

Result<bson::Document> SingleUpdateReply(const Result<query::UpdateResult>& r) {
  UpdateTally t;
  EDDY_RETURN_IF_ERROR(t.Add(0, r));
  return t.Reply();
}

Result<bson::Document> Update(CommandContext& ctx, const bson::Document& cmd) {
  EDDY_ASSIGN_OR_RETURN(std::string coll, CollectionName(cmd));
  EDDY_RETURN_IF_ERROR(CheckFields(cmd, {"updates", "ordered"}));
  EDDY_RETURN_IF_ERROR(RefuseView(ctx, coll));
  EDDY_ASSIGN_OR_RETURN(const bson::Array* items, WriteItems(cmd, "updates"));
  EDDY_ASSIGN_OR_RETURN(std::optional<bool> ordered_opt, GetBool(cmd, "ordered"));
  EDDY_ASSIGN_OR_RETURN(bson::Document let, CommandLet(cmd));
  EDDY_ASSIGN_OR_RETURN(storage::WriteOptions write, WriteConcernOptions(cmd));
  EDDY_ASSIGN_OR_RETURN(std::optional<bool> bypass, GetBool(cmd, "bypassDocumentValidation"));
  bool ordered = ordered_opt.value_or(true);
  // mongod parses every statement before running any: an unknown field fails the command.
  // As a 7.0 mongod, `sort` (8.0+) is unknown.
  EDDY_RETURN_IF_ERROR(CheckStatementFields(*items, "update.updates",
                                            {"q", "u", "multi", "upsert", "arrayFilters", "hint",
                                             "collation", "c", "upsertSupplied"}));
  if (ctx.finish_later && items->size() == 1) {
    // One statement (updateOne/updateMany/replaceOne): answered by the engine's committing
    // thread once acknowledged; an error found before the write is answered now.
    Result<query::UpdateStatement> st =
        ParseUpdateStatement((*items)[0].as_document(), let, write, bypass.value_or(false));
    Status s = st.status();
    if (st.ok()) {
      s = ctx.db->UpdateAsync(ctx.db_name, coll, *st, [finish = ctx.finish_later](Result<query::UpdateResult> r) {
        finish(SingleUpdateReply(r));
      });
      if (s.ok()) {
        ctx.deferred = true;
        return bson::Document();
      }
    }
    return SingleUpdateReply(s);
  }
  // Several statements (a bulkWrite's updates): one engine write, one fsync for them all.
  std::vector<Result<query::UpdateStatement>> statements;
  statements.reserve(items->size());
  for (const bson::Value& item : *items) {
    statements.push_back(ParseUpdateStatement(item.as_document(), let, write, bypass.value_or(false)));
  }
  std::vector<Result<query::UpdateResult>> results =
      ctx.db->UpdateBatch(ctx.db_name, coll, statements, ordered, write);
  UpdateTally tally;
  for (size_t i = 0; i < results.size(); ++i) EDDY_RETURN_IF_ERROR(tally.Add(i, results[i]));
  return tally.Reply();
}

// One delete statement {q, limit, collation, hint}.
using query::DeleteStatement;
Result<DeleteStatement> ParseDeleteStatement(const bson::Document& d, const bson::Document& let) {
  EDDY_ASSIGN_OR_RETURN(const bson::Document* q, GetDoc(d, "q"));
  EDDY_ASSIGN_OR_RETURN(std::optional<int64_t> limit, GetInt(d, "limit"));
  if (!q || !limit) {
    return Status(static_cast<ErrorCode>(40414),
                  std::string("BSON field 'delete.deletes.") + (q ? "limit" : "q") +
                      "' is missing but a required field");
  }
  if (*limit != 0 && *limit != 1) {
    return Status(ErrorCode::kFailedToParse, "The limit field in delete objects must be 0 or 1. Got " +
                                                 std::to_string(*limit));
  }
  DeleteStatement st;
  st.filter = *q;
  st.limit = *limit;
  st.lc.let = let;
  EDDY_ASSIGN_OR_RETURN(st.lc.collation, CollationField(d, "delete.deletes"));
  return st;
}

// delete's reply from each statement's outcome, in order.
struct DeleteTally {
  int64_t n = 0;
  bson::Array errors;
  void Add(size_t i, const Result<int64_t>& r) {
    if (r.ok()) {
      n += *r;
    } else {
      errors.push_back(WriteErrorEntry(i, r.status()));
    }
  }
  bson::Document Reply() {
    bson::Document reply{{"n", static_cast<int32_t>(n)}};
    if (!errors.empty()) reply.Append("writeErrors", std::move(errors));
    reply.Append("ok", 1.0);
    return reply;
  }
};

bson::Document SingleDeleteReply(const Result<int64_t>& r) {
  DeleteTally t;
  t.Add(0, r);
  return t.Reply();
}

Result<bson::Document> Delete(CommandContext& ctx, const bson::Document& cmd) {
  EDDY_ASSIGN_OR_RETURN(std::string coll, CollectionName(cmd));
  EDDY_RETURN_IF_ERROR(CheckFields(cmd, {"deletes", "ordered"}));
  EDDY_RETURN_IF_ERROR(RefuseView(ctx, coll));
  EDDY_ASSIGN_OR_RETURN(const bson::Array* items, WriteItems(cmd, "deletes"));
  EDDY_ASSIGN_OR_RETURN(std::optional<bool> ordered_opt, GetBool(cmd, "ordered"));
  bool ordered = ordered_opt.value_or(true);
  EDDY_ASSIGN_OR_RETURN(bson::Document let, CommandLet(cmd));
  EDDY_ASSIGN_OR_RETURN(storage::WriteOptions write, WriteConcernOptions(cmd));
  EDDY_RETURN_IF_ERROR(
      CheckStatementFields(*items, "delete.deletes", {"q", "limit", "collation", "hint"}));
  if (ctx.finish_later && items->size() == 1) {
    // One statement (deleteOne/deleteMany): answered by the engine's committing thread once
    // acknowledged; an error found before the write is answered now.
    Result<DeleteStatement> st = ParseDeleteStatement((*items)[0].as_document(), let);
    Status s = st.status();
    if (st.ok()) {
      s = ctx.db->DeleteAsync(ctx.db_name, coll, st->filter, st->limit, st->lc, write,
                              [finish = ctx.finish_later](Result<int64_t> r) { finish(SingleDeleteReply(r)); });
      if (s.ok()) {
        ctx.deferred = true;
        return bson::Document();
      }
    }
    return SingleDeleteReply(s);
  }
  // Several statements (a bulkWrite's deletes): one engine write, one fsync for them all.
  std::vector<Result<DeleteStatement>> statements;
  statements.reserve(items->size());
  for (const bson::Value& item : *items) statements.push_back(ParseDeleteStatement(item.as_document(), let));
  std::vector<Result<int64_t>> results = ctx.db->DeleteBatch(ctx.db_name, coll, statements, ordered, write);
  DeleteTally tally;
  for (size_t i = 0; i < results.size(); ++i) tally.Add(i, results[i]);
  return tally.Reply();
}

Result<bson::Document> Find(CommandContext& ctx, const bson::Document& cmd) {
  EDDY_ASSIGN_OR_RETURN(std::string coll, CollectionName(cmd));
  EDDY_RETURN_IF_ERROR(CheckFields(cmd, {"filter", "sort", "projection", "skip", "limit",
                                         "batchSize", "singleBatch", "min", "max", "returnKey",
                                         "showRecordId", "tailable", "oplogReplay", "awaitData",
                                         "allowPartialResults", "readOnce", "term"}));
  query::FindOptions o;
  EDDY_ASSIGN_OR_RETURN(const bson::Document* filter, GetDoc(cmd, "filter"));
  EDDY_ASSIGN_OR_RETURN(const bson::Document* sort, GetDoc(cmd, "sort"));
  EDDY_ASSIGN_OR_RETURN(const bson::Document* projection, GetDoc(cmd, "projection"));
  EDDY_ASSIGN_OR_RETURN(std::optional<int64_t> skip, GetInt(cmd, "skip"));
  EDDY_ASSIGN_OR_RETURN(std::optional<int64_t> limit, GetInt(cmd, "limit"));
  EDDY_ASSIGN_OR_RETURN(std::optional<bool> single, GetBool(cmd, "singleBatch"));
  if (filter) o.filter = *filter;
  EDDY_ASSIGN_OR_RETURN(o.let, CommandLet(cmd));
  EDDY_ASSIGN_OR_RETURN(o.collation, CollationField(cmd, "find"));
  if (sort) o.sort = *sort;
  if (projection) o.projection = *projection;
  if (skip && *skip < 0) return Status(static_cast<ErrorCode>(51024), "BSON field 'skip' value must be >= 0, actual value '" + std::to_string(*skip) + "'");
  if (limit && *limit < 0) return Status(static_cast<ErrorCode>(51024), "BSON field 'limit' value must be >= 0, actual value '" + std::to_string(*limit) + "'");
  o.skip = skip.value_or(0);
  o.limit = limit.value_or(0);
  EDDY_ASSIGN_OR_RETURN(int64_t batch, BatchSize(cmd, "batchSize", kDefaultFirstBatch));
  // On a view, OpenFind runs the view's pipeline with the find's stages after it.
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<query::FindCursor> fc, ctx.db->OpenFind(ctx.db_name, coll, o));
  std::shared_ptr<ServerCursor> cursor = std::make_shared<FindServerCursor>(std::move(fc));
  bool single_batch = single.value_or(false) || (o.limit > 0 && batch >= o.limit);
  if (batch == 0) {
    // batchSize 0: open the cursor, return nothing yet.
    int64_t id = ctx.cursors->Add(Ns(ctx, coll), cursor);
    bson::Document c{{"firstBatch", bson::Array{}}, {"id", id}, {"ns", Ns(ctx, coll)}};
    return bson::Document{{"cursor", std::move(c)}, {"ok", 1.0}};
  }
  return CursorReply(ctx, Ns(ctx, coll), cursor, batch, single_batch, true,
                     std::chrono::steady_clock::now());
}

Result<bson::Document> GetMore(CommandContext& ctx, const bson::Document& cmd) {
  const bson::Value& idv = cmd.at(0).value;
  if (!idv.is_int64() && !idv.is_int32()) {
    return Status(ErrorCode::kTypeMismatch, "BSON field 'getMore.getMore' is the wrong type '" +
                                                std::string(bson::TypeName(idv.type())) +
                                                "', expected type 'long'");
  }
  int64_t id = idv.ToInt64();
  const bson::Value* collv = cmd.Get("collection");
  if (!collv || !collv->is_string()) {
    return Status(static_cast<ErrorCode>(40414), "BSON field 'getMore.collection' is missing but a required field");
  }
  EDDY_RETURN_IF_ERROR(CheckFields(cmd, {"collection", "batchSize", "term", "lastKnownCommittedOpTime"}));
  EDDY_ASSIGN_OR_RETURN(int64_t batch, BatchSize(cmd, "batchSize", 0));
  EDDY_ASSIGN_OR_RETURN(std::optional<int64_t> max_time, GetInt(cmd, "maxTimeMS"));
  std::string ns = Ns(ctx, collv->as_string());
  EDDY_ASSIGN_OR_RETURN(std::shared_ptr<ServerCursor> cursor, ctx.cursors->Checkout(id, ns));
  if (cursor->is_change_stream()) ctx.change_stream = true;
  if (ctx.after_cursor_checkout) {
    if (Status s = ctx.after_cursor_checkout(); !s.ok()) {
      ctx.cursors->Return(id);
      return s;
    }
  }
  // Change streams wait for events up to maxTimeMS (drivers' maxAwaitTimeMS), 1 s by default:
  // without a thread when the service can re-run us (ctx.await), else blocking.
  const auto now = std::chrono::steady_clock::now();
  auto deadline = now;
  if (cursor->is_change_stream()) {
    deadline = ctx.resumed_deadline.value_or(now + std::chrono::milliseconds(max_time.value_or(1000)));
  }
  const bool may_await = ctx.can_await && cursor->is_change_stream() && now < deadline;
  Result<bson::Document> reply = CursorReply(ctx, ns, cursor, batch, false, false,
                                             may_await ? now : deadline, id);
  if (may_await && reply.ok()) {
    const bson::Document& c = reply->Get("cursor")->as_document();
    if (c.Get("nextBatch")->as_array().empty() && c.Get("id")->ToInt64() != 0) {
      ctx.await = CommandContext::Await{
          deadline,
          [cursor, deadline](std::function<void()> wake) {
            return cursor->ArmWake(deadline, std::move(wake));
          },
          cursor->ResumesInMemory()};
    }
  }
  ctx.cursors->Return(id);
  if (!reply.ok()) ctx.cursors->Kill(id);
  return reply;
}

Result<bson::Document> KillCursors(CommandContext& ctx, const bson::Document& cmd) {
  EDDY_ASSIGN_OR_RETURN(const bson::Array* ids, GetArray(cmd, "cursors"));
  if (!ids) {
    return Status(static_cast<ErrorCode>(40414), "BSON field 'killCursors.cursors' is missing but a required field");
  }
  bson::Array killed, not_found;
  for (const bson::Value& v : *ids) {
    if (!v.is_number()) return Status(ErrorCode::kTypeMismatch, "killCursors: cursor ids must be longs");
    int64_t id = v.ToInt64();
    (ctx.cursors->Kill(id) ? killed : not_found).push_back(id);
  }
  return bson::Document{{"cursorsKilled", std::move(killed)}, {"cursorsNotFound", std::move(not_found)},
                        {"cursorsAlive", bson::Array{}}, {"cursorsUnknown", bson::Array{}}, {"ok", 1.0}};
}

Result<bson::Document> Count(CommandContext& ctx, const bson::Document& cmd) {
  EDDY_ASSIGN_OR_RETURN(std::string coll, CollectionName(cmd));
  EDDY_RETURN_IF_ERROR(CheckFields(cmd, {"query", "skip", "limit", "fields"}));
  EDDY_ASSIGN_OR_RETURN(const bson::Document* q, GetDoc(cmd, "query"));
  EDDY_ASSIGN_OR_RETURN(std::optional<int64_t> skip, GetInt(cmd, "skip"));
  EDDY_ASSIGN_OR_RETURN(std::optional<int64_t> limit, GetInt(cmd, "limit"));
  if (skip && *skip < 0) return Status(ErrorCode::kBadValue, "skip value is negative in count query");
  query::LetAndCollation lc;
  EDDY_ASSIGN_OR_RETURN(lc.collation, CollationField(cmd, "count"));
  EDDY_ASSIGN_OR_RETURN(int64_t n, ctx.db->Count(ctx.db_name, coll, q ? *q : bson::Document(),
                                                 skip.value_or(0), limit ? std::abs(*limit) : 0,
                                                 lc));
  return bson::Document{{"n", static_cast<int32_t>(n)}, {"ok", 1.0}};
}

Result<bson::Document> Distinct(CommandContext& ctx, const bson::Document& cmd) {
  EDDY_ASSIGN_OR_RETURN(std::string coll, CollectionName(cmd));
  EDDY_RETURN_IF_ERROR(CheckFields(cmd, {"key", "query"}));
  const bson::Value* key = cmd.Get("key");
  if (!key || !key->is_string()) {
    return Status(static_cast<ErrorCode>(40414), "BSON field 'distinct.key' is missing but a required field");
  }
  EDDY_ASSIGN_OR_RETURN(const bson::Document* q, GetDoc(cmd, "query"));
  query::LetAndCollation lc;
  EDDY_ASSIGN_OR_RETURN(lc.collation, CollationField(cmd, "distinct"));
  EDDY_ASSIGN_OR_RETURN(std::vector<bson::Value> values,
                        ctx.db->Distinct(ctx.db_name, coll, key->as_string(),
                                         q ? *q : bson::Document(), lc));
  return bson::Document{{"values", bson::Array(values.begin(), values.end())}, {"ok", 1.0}};
}

Result<bson::Document> FindAndModifyReply(Result<query::FindAndModifyResult> fr, bool remove) {
  // A duplicate key fails the command with keyPattern/keyValue at the top level (ErrorReply).
  if (!fr.ok()) return fr.status();
  query::FindAndModifyResult r = std::move(fr).value();
  bson::Document last{{"n", static_cast<int32_t>(r.n)}};
  if (!remove) last.Append("updatedExisting", r.updated_existing);
  if (r.upserted_id) last.Append("upserted", *r.upserted_id);
  bson::Document reply{{"lastErrorObject", std::move(last)}};
  reply.Append("value", r.value ? bson::Value(std::move(*r.value)) : bson::Value());
  reply.Append("ok", 1.0);
  return reply;
}

Result<bson::Document> FindAndModify(CommandContext& ctx, const bson::Document& cmd) {
  EDDY_ASSIGN_OR_RETURN(std::string coll, CollectionName(cmd));
  EDDY_RETURN_IF_ERROR(CheckFields(cmd, {"query", "sort", "update", "remove", "new", "fields",
                                         "upsert", "arrayFilters"}));
  EDDY_RETURN_IF_ERROR(RefuseView(ctx, coll));
  query::FindAndModifyRequest req;
  EDDY_ASSIGN_OR_RETURN(const bson::Document* q, GetDoc(cmd, "query"));
  EDDY_ASSIGN_OR_RETURN(const bson::Document* sort, GetDoc(cmd, "sort"));
  EDDY_ASSIGN_OR_RETURN(const bson::Document* fields, GetDoc(cmd, "fields"));
  EDDY_ASSIGN_OR_RETURN(std::optional<bool> remove, GetBool(cmd, "remove"));
  EDDY_ASSIGN_OR_RETURN(std::optional<bool> ret_new, GetBool(cmd, "new"));
  EDDY_ASSIGN_OR_RETURN(std::optional<bool> upsert, GetBool(cmd, "upsert"));
  EDDY_ASSIGN_OR_RETURN(const bson::Array* af, GetArray(cmd, "arrayFilters"));
  if (q) req.filter = *q;
  if (sort) req.sort = *sort;
  if (fields) req.fields = *fields;
  if (af) req.array_filters = *af;
  req.remove = remove.value_or(false);
  req.return_new = ret_new.value_or(false);
  req.upsert = upsert.value_or(false);
  EDDY_ASSIGN_OR_RETURN(req.let, CommandLet(cmd));
  EDDY_ASSIGN_OR_RETURN(req.collation, CollationField(cmd, "findAndModify"));
  if (const bson::Value* u = cmd.Get("update")) {
    if (u->is_array()) {
      req.update_pipeline = u->as_array();
    } else if (u->is_document()) {
      req.update = u->as_document();
    } else {
      return Status(ErrorCode::kFailedToParse, "Update argument must be either an object or an array");
    }
  }
  EDDY_ASSIGN_OR_RETURN(req.write, WriteConcernOptions(cmd));
  EDDY_ASSIGN_OR_RETURN(std::optional<bool> bypass, GetBool(cmd, "bypassDocumentValidation"));
  req.bypass_document_validation = bypass.value_or(false);
  if (ctx.finish_later) {
    // Answered by the engine's committing thread once acknowledged (a job queue's claim
    // then costs no worker hop); an error found before the write is answered now.
    Status s = ctx.db->FindAndModifyAsync(
        ctx.db_name, coll, req,
        [finish = ctx.finish_later, remove = req.remove](Result<query::FindAndModifyResult> r) {
          finish(FindAndModifyReply(std::move(r), remove));
        });
    if (!s.ok()) return s;
    ctx.deferred = true;
    return bson::Document();
  }
  return FindAndModifyReply(ctx.db->FindAndModify(ctx.db_name, coll, req), req.remove);
}

}  // namespace

// The command's writeConcern as storage durability. eddy is one node, so any `w` (a number,
// "majority" or a tag) is satisfied by the primary itself. j:false, and w:0 without j,
// acknowledge once the write is applied and visible, before its fsync (mongod's w:1 without
// journaling); otherwise the write waits for its fsync, so eddy is durable by default.
Result<storage::WriteOptions> WriteConcernOptions(const bson::Document& cmd) {
  storage::WriteOptions out;
  const bson::Value* wc = cmd.Get("writeConcern");
  if (!wc || wc->is_nullish()) return out;
  if (!wc->is_document()) {
    return Status(ErrorCode::kTypeMismatch, "BSON field 'writeConcern' is the wrong type '" +
                                                std::string(bson::TypeName(wc->type())) +
                                                "', expected type 'object'");
  }
  std::optional<bool> j;
  bool unacknowledged = false;
  for (const bson::Field& f : wc->as_document()) {
    if (f.name == "j" || f.name == "fsync") {
      if (!f.value.is_bool() && !f.value.is_number()) {
        return Status(ErrorCode::kTypeMismatch, "writeConcern." + f.name + " must be a boolean, found " +
                                                    std::string(bson::TypeName(f.value.type())));
      }
      j = j.value_or(false) || f.value.Truthy();
    } else if (f.name == "w") {
      if (f.value.is_number()) {
        if (f.value.ToDouble() < 0) {
          return Status(ErrorCode::kFailedToParse, "w has to be a non-negative number and not greater than 50; found: " +
                                                       bson::ToJson(f.value));
        }
        unacknowledged = f.value.ToDouble() == 0;
      } else if (!f.value.is_string()) {
        return Status(ErrorCode::kFailedToParse, "w has to be a number or a string; found: " +
                                                     std::string(bson::TypeName(f.value.type())));
      }
    }
  }
  out.wait_durable = j.value_or(!unacknowledged);
  return out;
}

void RegisterCrudCommands(CommandTable& t) {
  t["insert"] = {Insert, true};
  t["update"] = {Update, true};
  t["delete"] = {Delete, true};
  t["findAndModify"] = {FindAndModify, true};
  t["findandmodify"] = {FindAndModify, true};
  t["find"] = {Find};
  t["getMore"] = {GetMore};
  t["killCursors"] = {KillCursors};
  t["count"] = {Count};
  t["distinct"] = {Distinct};
}

// Exposed for aggregate.cc and ddl.cc.
Result<bson::Document> MakeCursorReply(CommandContext& ctx, std::string ns,
                                       std::shared_ptr<ServerCursor> cursor, int64_t batch_size) {
  return CursorReply(ctx, std::move(ns), std::move(cursor), batch_size, false, true,
                     std::chrono::steady_clock::now());
}

}  // namespace eddy::wire
