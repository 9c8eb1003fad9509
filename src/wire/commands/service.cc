#include "wire/commands/service.h"

#include <condition_variable>
#include <deque>
#include <list>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "bson/codec.h"
#include "bson/json.h"
#include "changestream/change_stream.h"
#include "changestream/hub.h"
#include "query/exec/views.h"
#include "wire/commands/command.h"

namespace eddy::wire {

// ---------------------------------------------------------------------------------------
// Field helpers shared by the commands.

Result<std::string> CollectionName(const bson::Document& cmd) {
  const bson::Value& v = cmd.at(0).value;
  if (!v.is_string()) {
    return Status(ErrorCode::kInvalidNamespace,
                  "collection name has invalid type " + std::string(bson::TypeName(v.type())));
  }
  if (v.as_string().empty()) {
    return Status(ErrorCode::kInvalidNamespace, "Invalid namespace specified: collection name is empty");
  }
  return v.as_string();
}

Result<std::optional<int64_t>> GetInt(const bson::Document& cmd, std::string_view field) {
  const bson::Value* v = cmd.Get(field);
  if (!v || v->is_nullish()) return std::optional<int64_t>();
  if (!v->is_number()) {
    return Status(ErrorCode::kTypeMismatch, "BSON field '" + std::string(field) +
                                                "' is the wrong type '" +
                                                std::string(bson::TypeName(v->type())) +
                                                "', expected types '[long, int, decimal, double]'");
  }
  return std::optional<int64_t>(v->ToInt64());
}

Result<std::optional<bool>> GetBool(const bson::Document& cmd, std::string_view field) {
  const bson::Value* v = cmd.Get(field);
  if (!v || v->is_nullish()) return std::optional<bool>();
  if (!v->is_bool() && !v->is_number()) {
    return Status(ErrorCode::kTypeMismatch, "BSON field '" + std::string(field) +
                                                "' is the wrong type '" +
                                                std::string(bson::TypeName(v->type())) +
                                                "', expected types '[bool, long, int, decimal, double]'");
  }
  return std::optional<bool>(v->Truthy());
}

Result<const bson::Document*> GetDoc(const bson::Document& cmd, std::string_view field) {
  const bson::Value* v = cmd.Get(field);
  if (!v || v->is_nullish()) return static_cast<const bson::Document*>(nullptr);
  if (!v->is_document()) {
    return Status(ErrorCode::kTypeMismatch, "BSON field '" + std::string(field) +
                                                "' is the wrong type '" +
                                                std::string(bson::TypeName(v->type())) +
                                                "', expected type 'object'");
  }
  return &v->as_document();
}

Result<const bson::Array*> GetArray(const bson::Document& cmd, std::string_view field) {
  const bson::Value* v = cmd.Get(field);
  if (!v || v->is_nullish()) return static_cast<const bson::Array*>(nullptr);
  if (!v->is_array()) {
    return Status(ErrorCode::kTypeMismatch, "BSON field '" + std::string(field) +
                                                "' is the wrong type '" +
                                                std::string(bson::TypeName(v->type())) +
                                                "', expected type 'array'");
  }
  return &v->as_array();
}

// The status's extra info (keyPattern/keyValue, errInfo, ...) appended to an error document,
// after its own fields, as mongod's ErrorExtraInfo::serialize does.
void AppendExtraInfo(const Status& s, bson::Document* d) {
  if (!s.has_extra_info()) return;
  Result<bson::Document> extra = bson::Decode(s.extra_info());
  if (!extra.ok()) return;  // made by eddy itself, so never; an error reply must not fail
  for (bson::Field& f : extra->mutable_fields()) {
    if (!d->Has(f.name)) d->Append(std::move(f.name), std::move(f.value));
  }
}

bson::Document ErrorReply(const Status& s) {
  bson::Document d;
  d.Append("ok", 0.0);
  d.Append("errmsg", std::string(s.message()));
  d.Append("code", s.code_number());
  d.Append("codeName", s.code_name());
  AppendExtraInfo(s, &d);
  return d;
}

bson::Document WriteErrorEntry(size_t index, const Status& s) {
  bson::Document d;
  d.Append("index", static_cast<int32_t>(index));
  d.Append("code", s.code_number());
  AppendExtraInfo(s, &d);  // mongod's WriteError::serialize: extra info before errmsg
  d.Append("errmsg", std::string(s.message()));
  return d;
}

// ---------------------------------------------------------------------------------------

struct CommandService::Impl {
  query::Database* db;
  ServiceOptions options;
  // The shared change-stream tailer. Declared before the cursors: their streams unregister
  // from it when they are destroyed.
  std::unique_ptr<changestream::Hub> hub;
  CursorManager cursors;
  SessionRegistry sessions{std::chrono::minutes(kLogicalSessionTimeoutMinutes)};
  CommandTable table;

  // Worker pool: commands block on storage, so they never run on I/O threads.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> queue;
  std::vector<std::thread> workers;
  bool stopping = false;

  // Commands finishing later (CommandContext::finish_later) that have not finished: their
  // callbacks use this service, so the destructor waits for them (the engine outlives it).
  std::mutex deferred_mu;
  std::condition_variable deferred_cv;
  int deferred_open = 0;
  void EndDeferred() {
    std::lock_guard lock(deferred_mu);
    // Notified under the lock: once it is released the destructor may run.
    if (--deferred_open == 0) deferred_cv.notify_all();
  }

  // Retryable writes: (lsid, txnNumber) -> reply, so a retried write is not applied twice.
  std::mutex retry_mu;
  std::list<std::string> retry_order;
  std::unordered_map<std::string, bson::Document> retry_replies;
  static constexpr size_t kMaxRetryRecords = 100000;

  // The failCommand fail point (configureFailPoint, test commands only): drivers' own test
  // suites use it to inject errors, closed connections and delays.
  struct FailPoint {
    bool active = false;
    int64_t times = -1;  // remaining activations; -1: alwaysOn
    int64_t skip = 0;
    std::vector<std::string> commands;
    std::optional<int32_t> error_code;
    bson::Array error_labels;
    bool close_connection = false;
    int64_t block_ms = 0;
    std::string app_name;
  };
  std::mutex fp_mu;
  FailPoint fail_point;

  // configureFailPoint's mode: "off", "alwaysOn", {times: n} or (failCommand) {skip: n}.
  struct FailPointMode {
    bool off = false;
    int64_t times = -1;  // -1: alwaysOn
    int64_t skip = 0;
  };
  static Result<FailPointMode> ParseFailPointMode(const bson::Document& cmd, bool allow_skip) {
    const bson::Value* mode = cmd.Get("mode");
    if (!mode) return Status(ErrorCode::kBadValue, "configureFailPoint needs a 'mode'");
    FailPointMode m;
    if (mode->is_string() && mode->as_string() == "off") {
      m.off = true;
    } else if (mode->is_string() && mode->as_string() == "alwaysOn") {
      m.times = -1;
    } else if (mode->is_document() && mode->as_document().Has("times")) {
      m.times = mode->as_document().Get("times")->ToInt64();
    } else if (allow_skip && mode->is_document() && mode->as_document().Has("skip")) {
      m.skip = mode->as_document().Get("skip")->ToInt64();
    } else {
      return Status(ErrorCode::kBadValue, allow_skip ? "mode must be 'off', 'alwaysOn', {times: n} or {skip: n}"
                                                     : "mode must be 'off', 'alwaysOn' or {times: n}");
    }
    return m;
  }

  Result<bson::Document> ConfigureFailPoint(const bson::Document& cmd) {
    if (!options.enable_test_commands) {
      return Status(ErrorCode::kCommandNotFound, "no such command: 'configureFailPoint' (start eddy with --enable-test-commands)");
    }
    const bson::Value& name = cmd.at(0).value;
    if (name.is_string() && name.as_string() == "failGetMoreAfterCursorCheckout") {
      return ConfigureCheckoutFailPoint(cmd);
    }
    if (!name.is_string() || name.as_string() != "failCommand") {
      return Status(ErrorCode::kBadValue, "unknown fail point; eddy supports 'failCommand' and 'failGetMoreAfterCursorCheckout'");
    }
    FailPoint fp;
    EDDY_ASSIGN_OR_RETURN(FailPointMode mode, ParseFailPointMode(cmd, /*allow_skip=*/true));
    if (mode.off) {
      std::lock_guard lock(fp_mu);
      fail_point = FailPoint();
      return bson::Document{{"count", int32_t{0}}, {"ok", 1.0}};
    }
    fp.times = mode.times;
    fp.skip = mode.skip;
    const bson::Value* data = cmd.Get("data");
    if (!data || !data->is_document()) return Status(ErrorCode::kBadValue, "failCommand needs a 'data' document");
    const bson::Document& d = data->as_document();
    const bson::Value* fc = d.Get("failCommands");
    if (!fc || !fc->is_array()) return Status(ErrorCode::kBadValue, "failCommand needs data.failCommands: [names]");
    for (const bson::Value& v : fc->as_array()) {
      if (v.is_string()) fp.commands.push_back(v.as_string());
    }
    if (const bson::Value* e = d.Get("errorCode")) fp.error_code = static_cast<int32_t>(e->ToInt64());
    if (const bson::Value* l = d.Get("errorLabels"); l && l->is_array()) fp.error_labels = l->as_array();
    if (const bson::Value* c = d.Get("closeConnection")) fp.close_connection = c->Truthy();
    if (const bson::Value* b = d.Get("blockConnection"); b && b->Truthy()) {
      const bson::Value* ms = d.Get("blockTimeMS");
      fp.block_ms = ms ? ms->ToInt64() : 0;
    }
    if (const bson::Value* a = d.Get("appName"); a && a->is_string()) fp.app_name = a->as_string();
    fp.active = true;
    std::lock_guard lock(fp_mu);
    fail_point = std::move(fp);
    return bson::Document{{"count", int32_t{0}}, {"ok", 1.0}};
  }

  // failGetMoreAfterCursorCheckout: getMore fails with errorCode once it holds its cursor, so
  // the error gets the labels a real cursor error gets (drivers' resume tests use it).
  struct CheckoutFailPoint {
    bool active = false;
    int64_t times = -1;
    int32_t error_code = 0;
  };
  CheckoutFailPoint checkout_fp;  // guarded by fp_mu

  Result<bson::Document> ConfigureCheckoutFailPoint(const bson::Document& cmd) {
    CheckoutFailPoint fp;
    EDDY_ASSIGN_OR_RETURN(FailPointMode mode, ParseFailPointMode(cmd, /*allow_skip=*/false));
    if (mode.off) {
      std::lock_guard lock(fp_mu);
      checkout_fp = CheckoutFailPoint();
      return bson::Document{{"count", int32_t{0}}, {"ok", 1.0}};
    }
    fp.times = mode.times;
    const bson::Value* data = cmd.Get("data");
    const bson::Value* code = data && data->is_document() ? data->as_document().Get("errorCode") : nullptr;
    if (!code || !code->is_number()) {
      return Status(ErrorCode::kBadValue, "failGetMoreAfterCursorCheckout needs data.errorCode");
    }
    fp.error_code = static_cast<int32_t>(code->ToInt64());
    fp.active = fp.times != 0;
    std::lock_guard lock(fp_mu);
    checkout_fp = fp;
    return bson::Document{{"count", int32_t{0}}, {"ok", 1.0}};
  }

  Status CheckoutFailPointStatus() {
    std::lock_guard lock(fp_mu);
    if (!checkout_fp.active) return Status::OK();
    if (checkout_fp.times > 0 && --checkout_fp.times == 0) checkout_fp.active = false;
    return Status(static_cast<ErrorCode>(checkout_fp.error_code),
                  "Failing getMore via 'failGetMoreAfterCursorCheckout' failpoint");
  }

  // Whether the fail point fires for this command; fills *reply when it does.
  bool FailPointFires(const std::string& name, Reply* reply) {
    FailPoint fp;
    {
      std::lock_guard lock(fp_mu);
      if (!fail_point.active) return false;
      bool listed = false;
      for (const std::string& c : fail_point.commands) listed = listed || c == name;
      if (!listed) return false;
      if (fail_point.skip > 0) {
        fail_point.skip--;
        return false;
      }
      if (fail_point.times == 0) return false;
      if (fail_point.times > 0 && --fail_point.times == 0) fail_point.active = false;
      fp = fail_point;
    }
    if (fp.block_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(fp.block_ms));
    if (fp.close_connection) {
      reply->close_connection = true;
      return true;
    }
    if (fp.error_code) {
      Status s(static_cast<ErrorCode>(*fp.error_code), "Failing command via 'failCommand' failpoint");
      reply->body = ErrorReply(s);
      if (!fp.error_labels.empty()) reply->body.Append("errorLabels", fp.error_labels);
      return true;
    }
    return false;  // block only
  }

  Impl(query::Database* d, ServiceOptions o)
      : db(d), options(std::move(o)), hub(std::make_unique<changestream::Hub>(&d->engine())),
        cursors(options.cursor_timeout) {
    RegisterHelloCommands(table);
    RegisterCrudCommands(table);
    RegisterDdlCommands(table);
    RegisterStatsCommands(table);
    RegisterAggregateCommands(table);
    for (int i = 0; i < options.worker_threads; ++i) {
      workers.emplace_back([this] { WorkerLoop(); });
    }
  }

  ~Impl() {
    {
      std::unique_lock lock(deferred_mu);
      deferred_cv.wait(lock, [&] { return deferred_open == 0; });
    }
    hub->Stop();  // no wake may queue work from here on
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    cv.notify_all();
    for (auto& t : workers) t.join();
  }

  void WorkerLoop() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) return;
        job = std::move(queue.front());
        queue.pop_front();
      }
      job();
    }
  }

  static std::string RetryKey(const bson::Document& cmd) {
    const bson::Value* lsid = cmd.Get("lsid");
    const bson::Value* txn = cmd.Get("txnNumber");
    if (!lsid || !txn || !lsid->is_document() || !txn->is_number()) return {};
    const bson::Value* id = lsid->as_document().Get("id");
    if (!id || id->type() != bson::Type::kBinary) return {};
    return id->as_binary().data + "/" + std::to_string(txn->ToInt64());
  }

  // One command run. A run that asks to wait (ctx.await) returns an empty reply and fills
  // state.await; Execute arms it and runs the command again later.
  struct RunState {
    bool can_await = false;
    bool rerun = false;  // the fail point already had its chance on the first run
    std::optional<std::chrono::steady_clock::time_point> resumed_deadline;
    std::optional<CommandContext::Await> await;
    bool write_now_only = false;  // in: run on an I/O thread (CommandContext::write_now_only)
    bool write_refused = false;   // out: the engine was busy, nothing ran
    // in: the command may finish later through this (CommandContext::finish_later)
    std::function<void(Reply)> finish;
    bool deferred = false;  // out: it will (the returned reply is empty)
  };

  Reply Run(const ConnectionInfo& connection, const Request& request) {
    RunState state;
    return Run(connection, request, state);
  }

  Reply Run(const ConnectionInfo& connection, const Request& request, RunState& state) {
    Reply reply;
    const bson::Document& cmd = request.command;
    if (cmd.empty()) {
      reply.body = ErrorReply(Status(ErrorCode::kFailedToParse, "no command given: the command document is empty"));
      return Decorate(std::move(reply));
    }
    const std::string& name = cmd.at(0).name;
    if (name == "configureFailPoint") {
      Result<bson::Document> r = ConfigureFailPoint(cmd);
      reply.body = r.ok() ? std::move(r).value() : ErrorReply(r.status());
      return Decorate(std::move(reply));
    }
    if (!state.rerun && FailPointFires(name, &reply)) {
      return reply.close_connection ? reply : Decorate(std::move(reply));
    }
    auto it = table.find(name);
    if (it == table.end()) {
      reply.body = ErrorReply(Status(ErrorCode::kCommandNotFound, "no such command: '" + name + "'"));
      return Decorate(std::move(reply));
    }
    // Every command with an lsid registers or refreshes its logical session, as mongod's
    // initializeOperationSessionInfo does; a malformed lsid fails the command.
    if (const bson::Value* lsid = cmd.Get("lsid")) {
      Result<bson::Binary> id = SessionRegistry::ParseLsid(*lsid);
      Status s = id.ok() ? sessions.Touch(*id) : id.status();
      if (!s.ok()) {
        reply.body = ErrorReply(s);
        return Decorate(std::move(reply));
      }
    }
    std::string retry_key = it->second.is_write ? RetryKey(cmd) : std::string();
    if (!retry_key.empty()) {
      std::lock_guard lock(retry_mu);
      auto found = retry_replies.find(retry_key);
      if (found != retry_replies.end()) {
        reply.body = found->second;
        return Decorate(std::move(reply));
      }
    }
    CommandContext ctx;
    ctx.db = db;
    ctx.sessions = &sessions;
    ctx.options = &options;
    ctx.cursors = &cursors;
    ctx.connection = &connection;
    ctx.db_name = request.db.empty() ? "admin" : request.db;
    ctx.command_name = name;
    ctx.hub = hub.get();
    ctx.can_await = state.can_await;
    ctx.resumed_deadline = state.resumed_deadline;
    ctx.write_now_only = state.write_now_only;
    if (options.enable_test_commands) ctx.after_cursor_checkout = [this] { return CheckoutFailPointStatus(); };
    if (state.finish) {
      {
        std::lock_guard lock(deferred_mu);
        deferred_open++;
      }
      ctx.finish_later = [this, name, retry_key, finish = state.finish](Result<bson::Document> r) {
        finish(Finish(name, nullptr, retry_key, std::move(r), false, false));
        EndDeferred();
      };
    }
    Result<bson::Document> result = [&]() -> Result<bson::Document> {
      try {
        return it->second.fn(ctx, cmd);
      } catch (const std::exception& e) {
        // One escaped exception ends one request, never the server.
        return Status(ErrorCode::kInternalError, std::string("internal error in ") + name + ": " + e.what());
      }
    }();
    if (state.finish && !ctx.deferred) EndDeferred();  // the offer was not taken
    if (ctx.write_refused) {
      state.write_refused = true;
      return Reply();
    }
    if (ctx.deferred) {
      state.deferred = true;
      return Reply();
    }
    if (ctx.await && result.ok()) {
      state.await = std::move(ctx.await);
      return Reply();
    }
    return Finish(name, &cmd, retry_key, std::move(result), ctx.change_stream, ctx.close_connection);
  }

  // A command's result as its reply (remembered for retries of a retryable write). `cmd` is
  // needed only for find (null for commands finished later).
  Reply Finish(const std::string& name, const bson::Document* cmd, const std::string& retry_key,
               Result<bson::Document> result, bool change_stream, bool close_connection) {
    Reply reply;
    if (result.ok()) {
      reply.body = std::move(result).value();
      if (!reply.body.Has("ok")) reply.body.Append("ok", 1.0);
      if (name == "find" && cmd) KeepWithoutTimeout(*cmd, reply.body);
      if (!retry_key.empty()) {
        std::lock_guard lock(retry_mu);
        retry_replies[retry_key] = reply.body;
        retry_order.push_back(retry_key);
        if (retry_order.size() > kMaxRetryRecords) {
          retry_replies.erase(retry_order.front());
          retry_order.pop_front();
        }
      }
    } else {
      reply.body = ErrorReply(result.status());
      if (change_stream) AddChangeStreamErrorLabels(result.status().code_number(), &reply.body);
    }
    reply.close_connection = close_connection;
    return Decorate(std::move(reply));
  }

  // Runs a dispatched command to its reply, parking it (no thread held) while it awaits.
  struct Pending {
    ConnectionInfo connection;
    Request request;
    std::function<void(Reply)> done;
    RunState state;
  };
  std::mutex woken_mu;
  std::deque<std::shared_ptr<Pending>> woken;  // RunWokenSoon's, not yet taken
  int woken_runners = 0;                         // workers in RunWoken

  // Woken getMores that only read memory: at most kWokenRunners workers run them one after
  // another. A commit that wakes a hundred streams then costs a wake-up or two, not a hundred
  // (each a context switch, which on this VM costs more CPU than the getMore itself).
  static constexpr int kWokenRunners = 2;
  void RunWokenSoon(const std::shared_ptr<Pending>& p) {
    bool schedule;
    {
      std::lock_guard lock(woken_mu);
      woken.push_back(p);
      schedule = woken_runners < kWokenRunners && woken.size() > static_cast<size_t>(woken_runners) * 4;
      if (schedule) woken_runners++;
    }
    if (schedule) Enqueue([this] { RunWoken(); });
  }
  void RunWoken() {
    for (;;) {
      std::shared_ptr<Pending> p;
      {
        std::lock_guard lock(woken_mu);
        if (woken.empty()) {
          woken_runners--;
          return;
        }
        p = std::move(woken.front());
        woken.pop_front();
      }
      Execute(p);
    }
  }

  void Enqueue(std::function<void()> job) {
    {
      std::lock_guard lock(mu);
      queue.push_back(std::move(job));
    }
    cv.notify_one();
  }

  void Execute(const std::shared_ptr<Pending>& p) {
    for (;;) {
      p->state.can_await = true;
      p->state.await.reset();
      Reply r = Run(p->connection, p->request, p->state);
      if (!p->state.await) {
        p->done(std::move(r));
        return;
      }
      CommandContext::Await await = std::move(*p->state.await);
      p->state.await.reset();
      p->state.rerun = true;
      p->state.resumed_deadline = await.deadline;
      // A re-run that only reads memory, woken on the committing thread before the writers'
      // acknowledgements, runs right there: the event goes out without waiting for a worker to
      // wake up. Not while a fail point is set (it may block).
      bool on_waker = await.run_on_waker;
      if (on_waker) on_waker = NoFailPoint();
      bool armed = await.arm([this, p, on_waker] {
        if (on_waker && changestream::Hub::WakingInline()) {
          // On the committing thread, before the writers' acknowledgements.
          changestream::MemoryOnlyReads memory_only;
          Execute(p);
        } else if (on_waker) {
          RunWokenSoon(p);
        } else {
          Enqueue([this, p] { Execute(p); });
        }
      });
      if (armed) return;
      // Not armed: something may be readable already; run again now.
    }
  }

  // mongod's labels on $changeStream aggregate/getMore errors (error_labels.cpp): drivers
  // resume only on ResumableChangeStreamError. A failCommand's own labels win.
  static void AddChangeStreamErrorLabels(int code, bson::Document* body) {
    if (body->Has("errorLabels")) return;
    static constexpr int kResumable[] = {
        6,     7,     89,    91,    134,   150,   189,   202,   234,   262,  133,
        9001,  10107, 11600, 11602, 13388, 13435, 13436};
    for (int c : kResumable) {
      if (c == code) {
        body->Append("errorLabels", bson::Array{bson::Value("ResumableChangeStreamError")});
        return;
      }
    }
    if (code == 280 || code == 286) {
      body->Append("errorLabels", bson::Array{bson::Value("NonResumableChangeStreamError")});
    }
  }

  // No failCommand fail point is set: work may run on the calling thread (blockConnection
  // sleeps).
  bool NoFailPoint() {
    std::lock_guard lock(fp_mu);
    return !fail_point.active;
  }

  // Commands that touch no storage and never wait run on the calling (I/O) thread: a hop to a
  // worker and back costs two thread wake-ups, far more than the command itself. Not while a
  // fail point is set (blockConnection sleeps).
  bool RunsInline(const Request& request) {
    if (request.command.empty()) return true;  // an error reply
    if (request.command.at(0).name == "getMore") {
      // A change stream whose next batch is in memory, or that is caught up and will only
      // park on the hub: a worker hop would cost more than copying the batch out (or
      // registering the wait), and a watcher that waits again after every event would pay
      // it for each one.
      const bson::Value& id = request.command.at(0).value;
      if (id.type() != bson::Type::kInt64 || !cursors.ReadyInMemory(id.as_int64())) return false;
      return NoFailPoint();
    }
    if (request.command.at(0).name == "find" && PointFind(request)) return NoFailPoint();
    static const std::unordered_set<std::string_view> kInline = {
        "ping", "hello", "isMaster", "ismaster", "buildInfo", "buildinfo", "getParameter",
        "setParameter", "whatsmyuri", "connectionStatus", "hostInfo", "getCmdLineOpts", "getLog",
        "endSessions", "killAllSessions", "killSessions", "refreshSessions", "startSession",
        "logout"};
    if (!kInline.count(request.command.at(0).name)) return false;
    return NoFailPoint();
  }

  // find {_id: <value>} on a collection (not a view, whose pipeline may cost anything): a
  // point read of at most one document, through the _id index, cheaper than the two thread
  // wake-ups of a worker hop. The read may go to disk when the document is not cached: one
  // block read, the same bound as the j:false insert's _id check that runs here too.
  bool PointFind(const Request& request) {
    const bson::Document& cmd = request.command;
    if (!cmd.at(0).value.is_string()) return false;
    const bson::Value* filter = cmd.Get("filter");
    if (!filter || !filter->is_document()) return false;
    const bson::Document& f = filter->as_document();
    if (f.size() != 1 || f.at(0).name != "_id") return false;
    switch (f.at(0).value.type()) {
      case bson::Type::kDocument:  // operators ({$in: ...}) or an embedded _id: the worker's
      case bson::Type::kArray:
      case bson::Type::kRegex:
        return false;
      default:
        break;
    }
    for (const char* option : {"tailable", "awaitData"}) {
      if (const bson::Value* v = cmd.Get(option); v && v->Truthy()) return false;
    }
    // These may steer the plan off the _id index (a hinted or $natural scan reads it all).
    for (const char* option : {"hint", "min", "max", "sort"}) {
      if (cmd.Has(option)) return false;
    }
    storage::CollectionPtr c =
        db->engine().catalog()->Find(request.db.empty() ? "admin" : request.db,
                                     cmd.at(0).value.as_string());
    return c && !query::IsView(*c);
  }

  // A small insert acknowledged before its fsync (writeConcern j:false or w:0, or a server
  // running --sync off) is tried on the calling I/O thread: when the engine's pipeline is idle
  // the write costs its own work only, where a hop to a worker and back costs two thread
  // wake-ups (measured on the 2-core VM, `wire_bench_mongoc --only insert_one`: the hops were
  // a third of a j:false insert's round trip). A busy engine refuses and the insert is
  // submitted instead (see Dispatch). Larger writes are not run there: applying them would
  // hold up the I/O thread's other connections.
  static constexpr size_t kInlineInsertDocs = 16;
  static constexpr size_t kInlineInsertBytes = 64 * 1024;
  // Writes up to these sizes are submitted to the engine from the I/O thread (which copies
  // and checks the documents, about 1 us each) and answered by the committing thread; bigger
  // ones are prepared on a worker, so that many clients' big batches are prepared in
  // parallel. A worker hop costs two thread wake-ups: for 100-document insert_many batches
  // (`peerbench_mongo --scenario throughput --batch 100`), submitting from the I/O thread
  // took the server's CPU per event down by a sixth.
  static constexpr size_t kSubmitInsertDocs = 256;
  static constexpr size_t kSubmitBytes = 256 * 1024;
  // A small write, no fail point set: an insert of at most kSubmitInsertDocs documents, or
  // an update or delete of one statement, or a findAndModify, within kSubmitBytes. It never
  // needs a worker thread (a small enough insert may run on the I/O thread; otherwise the
  // write is submitted from it).
  // *bytes: the size of its documents (statements).
  bool SmallWrite(const Request& request, size_t* bytes) {
    const bson::Document& cmd = request.command;
    *bytes = 0;
    if (cmd.empty()) return false;
    const std::string& name = cmd.at(0).name;
    if (name == "findAndModify" || name == "findandmodify") {
      // One statement by nature; only its update document (or pipeline) can be big.
      for (const char* field : {"query", "update", "sort", "fields"}) {
        if (const bson::Value* v = cmd.Get(field)) *bytes += bson::EncodedValueSize(*v);
      }
      return *bytes <= kSubmitBytes && NoFailPoint();
    }
    const bool insert = name == "insert";
    if (!insert && name != "update" && name != "delete") return false;
    const bson::Value* items = cmd.Get(insert ? "documents" : name == "update" ? "updates" : "deletes");
    if (!items || !items->is_array()) return false;
    if (items->as_array().size() > (insert ? kSubmitInsertDocs : 1)) return false;
    for (const bson::Value& d : items->as_array()) {
      if (!d.is_document()) return false;  // the worker reports the error
      *bytes += bson::EncodedSize(d.as_document());
      if (*bytes > kSubmitBytes) return false;
    }
    return NoFailPoint();
  }

  // REQUIRES: SmallWrite(request, &bytes) and an insert.
  bool WritesInline(const Request& request, size_t bytes) {
    if (request.command.Get("documents")->as_array().size() > kInlineInsertDocs ||
        bytes > kInlineInsertBytes) {
      return false;
    }
    if (db->engine().options().sync == storage::SyncMode::kOff) return true;
    // A malformed writeConcern is not run here: the submitted path reports it.
    Result<storage::WriteOptions> write = WriteConcernOptions(request.command);
    return write.ok() && !write->wait_durable;
  }

  // find {noCursorTimeout: true}: the cursor it opened is never closed for idleness.
  void KeepWithoutTimeout(const bson::Document& cmd, const bson::Document& reply) {
    const bson::Value* no_timeout = cmd.Get("noCursorTimeout");
    if (!no_timeout || !no_timeout->Truthy()) return;
    const bson::Value* cursor = reply.Get("cursor");
    if (!cursor || !cursor->is_document()) return;
    const bson::Value* id = cursor->as_document().Get("id");
    if (id && id->is_number() && id->ToInt64() != 0) cursors.SetNoTimeout(id->ToInt64());
  }

  // Every reply carries the cluster time, as a replica-set member's does.
  Reply Decorate(Reply reply) {
    bson::Timestamp t = db->engine().committed();
    if (t.seconds == 0) t = bson::Timestamp{1, 0};
    bson::Document signature{{"hash", bson::Binary{0, std::string(20, '\0')}}, {"keyId", int64_t{0}}};
    reply.body.Set("$clusterTime", bson::Document{{"clusterTime", t}, {"signature", signature}});
    reply.body.Set("operationTime", t);
    return reply;
  }
};

CommandService::CommandService(query::Database* db, ServiceOptions options)
    : impl_(std::make_unique<Impl>(db, std::move(options))) {}

CommandService::~CommandService() = default;

void CommandService::Dispatch(const ConnectionInfo& connection, Request request,
                              std::function<void(Reply)> done) {
  const bool runs_inline = impl_->RunsInline(request);
  const bool get_more = !request.command.empty() && request.command.at(0).name == "getMore";
  if (runs_inline && !get_more) {
    done(impl_->Run(connection, request));
    return;
  }
  size_t write_bytes = 0;
  if (impl_->SmallWrite(request, &write_bytes)) {
    if (request.command.at(0).name == "insert" && impl_->WritesInline(request, write_bytes)) {
      Impl::RunState state;
      state.write_now_only = true;
      Reply reply = impl_->Run(connection, request, state);
      if (!state.write_refused) {
        done(std::move(reply));
        return;
      }
    }
    // Submitted to the engine from here; its committing thread sends the reply. A worker
    // would only wait for the commit: that is two thread wake-ups more per write.
    auto shared_done = std::make_shared<std::function<void(Reply)>>(std::move(done));
    Impl::RunState state;
    state.finish = [shared_done](Reply r) { (*shared_done)(std::move(r)); };
    Reply reply = impl_->Run(connection, request, state);
    if (!state.deferred) (*shared_done)(std::move(reply));
    return;
  }
  auto p = std::make_shared<Impl::Pending>();
  p->connection = connection;
  p->request = std::move(request);
  p->done = std::move(done);
  if (runs_inline) {
    // A change stream's getMore whose events are in memory: run here through the awaiting
    // path, never blocking (with nothing for it, it parks on the hub like any getMore).
    changestream::MemoryOnlyReads memory_only;
    impl_->Execute(p);
    return;
  }
  impl_->Enqueue([this, p] { impl_->Execute(p); });
}

void CommandService::ConnectionClosed(const ConnectionInfo&) {}

void CommandService::SetHostAndPort(std::string host_and_port) {
  impl_->options.host_and_port = std::move(host_and_port);
}

Reply CommandService::Run(const ConnectionInfo& connection, const Request& request) {
  return impl_->Run(connection, request);
}

}  // namespace eddy::wire
