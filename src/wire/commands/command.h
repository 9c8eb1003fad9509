// Internal to wire/commands: what a command implementation sees, and the registry.
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "changestream/hub.h"
#include "bson/value.h"
#include "query/agg/pipeline.h"
#include "query/exec/database.h"
#include "wire/commands/cursors.h"
#include "wire/commands/dispatcher.h"
#include "wire/commands/service.h"
#include "wire/commands/sessions.h"

namespace eddy::wire {

// hello's logicalSessionTimeoutMinutes: sessions unused this long expire (mongod's default).
inline constexpr int32_t kLogicalSessionTimeoutMinutes = 30;

struct CommandContext {
  query::Database* db = nullptr;
  // The logical session cache (never null in the service).
  SessionRegistry* sessions = nullptr;
  const ServiceOptions* options = nullptr;
  CursorManager* cursors = nullptr;
  const ConnectionInfo* connection = nullptr;
  std::string db_name;          // $db
  std::string command_name;     // first key as sent (isMaster/ismaster/hello/...)
  bson::Document extra_reply;   // fields a command wants merged into the reply (rare)
  // Set by commands that must not get operationTime (none yet) or that close the connection.
  bool close_connection = false;
  // The shared change-stream tailer (never null in the service).
  changestream::Hub* hub = nullptr;
  // The command is an aggregate with $changeStream or a getMore on one: its errors get
  // MongoDB's change-stream error labels.
  bool change_stream = false;
  // Test fail point failGetMoreAfterCursorCheckout: getMore calls it after checking out its
  // cursor and fails with a non-OK result.
  std::function<Status()> after_cursor_checkout;

  // Waiting without a thread. A command that has nothing to return yet and may wait (getMore
  // on a change stream) sets `await` instead of blocking its worker when `can_await`; the
  // service then calls await->arm(wake) and, when wake runs (or at once if arm returns
  // false), runs the command again with `resumed_deadline` = await->deadline. The reply of
  // the run that set `await` is discarded.
  struct Await {
    std::chrono::steady_clock::time_point deadline;
    std::function<bool(std::function<void()> wake)> arm;
    // The re-run only reads memory (ServerCursor::ResumesInMemory): the waking thread runs
    // it itself instead of handing it to a worker (one thread wake-up less per event).
    bool run_on_waker = false;
  };
  bool can_await = false;
  std::optional<std::chrono::steady_clock::time_point> resumed_deadline;
  std::optional<Await> await;

  // Set when the command runs on an I/O thread (a small unjournaled insert, see
  // CommandService::Dispatch): its write must use WriteOptions::only_if_idle. When the engine
  // refuses (nothing was applied), the command sets `write_refused` and the service runs it
  // again on a worker; its reply is discarded.
  bool write_now_only = false;
  bool write_refused = false;
  // Set by the service when the command may finish later without holding a thread (a small
  // insert dispatched from an I/O thread). A command that takes up the offer sets `deferred`,
  // returns any value (discarded), and calls finish_later exactly once, from any thread.
  std::function<void(Result<bson::Document>)> finish_later;
  bool deferred = false;
};

using CommandFn = std::function<Result<bson::Document>(CommandContext&, const bson::Document&)>;

struct CommandInfo {
  CommandFn fn;
  bool is_write = false;       // retryable write: dedupe by (lsid, txnNumber)
  bool requires_collection_name = false;
};

// name -> command; aliases (isMaster/ismaster) are separate entries.
using CommandTable = std::map<std::string, CommandInfo, std::less<>>;

void RegisterHelloCommands(CommandTable& t);
void RegisterCrudCommands(CommandTable& t);
void RegisterDdlCommands(CommandTable& t);
void RegisterAggregateCommands(CommandTable& t);
void RegisterStatsCommands(CommandTable& t);

// The one document a leading {$collStats: spec} stage produces for collection `coll` of
// ctx.db_name (stats.cc).
Result<bson::Document> CollStatsStage(CommandContext& ctx, std::string_view coll, const bson::Value& spec);

// aggregate whose pipeline starts with $changeStream (change_stream_command.cc); `batch` is
// cursor.batchSize. Called by aggregate once the pipeline's stages are known to be documents.
Result<bson::Document> OpenChangeStream(CommandContext& ctx, const bson::Document& cmd,
                                        const bson::Array& pipeline, int64_t batch);

// A pipeline's output stream; writes_output: it ends in $out/$merge (the reply is empty).
struct PipelineRun {
  std::unique_ptr<query::DocStream> stream;
  bool writes_output = false;
};

// Runs `stages` over collection `coll` of ctx.db_name (aggregate.cc), with the leading
// $match/$sort/$skip/$limit answered by an index-assisted find. When `coll` is a view, the
// view's pipeline runs first over its source collection, and its collation is the default
// (a different `collation` fails with 167 OptionNotSupportedOnView). `collation` is the
// command's field (may be null), checked as `command`.collation. $out/$merge check their
// target's validator unless bypass_document_validation.
Result<PipelineRun> OpenPipeline(CommandContext& ctx, std::string_view coll, const bson::Array& stages,
                                 query::AggOptions ao, const bson::Value* collation,
                                 std::string_view command, bool bypass_document_validation = false);
// A stream as a server cursor that streams across getMores.
std::shared_ptr<ServerCursor> MakeStreamCursor(std::unique_ptr<query::DocStream> stream);

// --- helpers for reading command fields with MongoDB's type rules ---

// The command's first value as a collection name. InvalidNamespace when not a string.
Result<std::string> CollectionName(const bson::Document& cmd);
// A numeric field (int32/int64/double accepted). TypeMismatch naming the field otherwise.
Result<std::optional<int64_t>> GetInt(const bson::Document& cmd, std::string_view field);
Result<std::optional<bool>> GetBool(const bson::Document& cmd, std::string_view field);
Result<const bson::Document*> GetDoc(const bson::Document& cmd, std::string_view field);
Result<const bson::Array*> GetArray(const bson::Document& cmd, std::string_view field);
// The command's writeConcern as storage durability (crud.cc): BadValue/TypeMismatch/
// FailedToParse naming the field when malformed.
Result<storage::WriteOptions> WriteConcernOptions(const bson::Document& cmd);
// Status -> {ok: 0, errmsg, code, codeName}.
bson::Document ErrorReply(const Status& s);
// {code, errmsg} for writeErrors entries.
bson::Document WriteErrorEntry(size_t index, const Status& s);

}  // namespace eddy::wire

namespace eddy::wire {
// A first-batch cursor reply {cursor: {firstBatch, [postBatchResumeToken], id, ns}, ok: 1};
// registers the cursor when more remains.
Result<bson::Document> MakeCursorReply(CommandContext& ctx, std::string ns,
                                       std::shared_ptr<ServerCursor> cursor, int64_t batch_size);
}  // namespace eddy::wire
