#include "wire/commands/service.h"

#include <condition_variable>
#include <deque>
#include <list>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "bson/json.h"
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

bson::Document ErrorReply(const Status& s) {
  bson::Document d;
  d.Append("ok", 0.0);
  d.Append("errmsg", std::string(s.message()));
  d.Append("code", s.code_number());
  d.Append("codeName", s.code_name());
  return d;
}

bson::Document WriteErrorEntry(size_t index, const Status& s) {
  bson::Document d;
  d.Append("index", static_cast<int32_t>(index));
  d.Append("code", s.code_number());
  d.Append("errmsg", std::string(s.message()));
  return d;
}

// ---------------------------------------------------------------------------------------

struct CommandService::Impl {
  query::Database* db;
  ServiceOptions options;
  CursorManager cursors;
  CommandTable table;

  // Worker pool: commands block on storage, so they never run on I/O threads.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> queue;
  std::vector<std::thread> workers;
  bool stopping = false;

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

  Result<bson::Document> ConfigureFailPoint(const bson::Document& cmd) {
    if (!options.enable_test_commands) {
      return Status(ErrorCode::kCommandNotFound, "no such command: 'configureFailPoint' (start eddy with --enable-test-commands)");
    }
    const bson::Value& name = cmd.at(0).value;
    if (!name.is_string() || name.as_string() != "failCommand") {
      return Status(ErrorCode::kBadValue, "unknown fail point; eddy supports only 'failCommand'");
    }
    FailPoint fp;
    const bson::Value* mode = cmd.Get("mode");
    if (!mode) return Status(ErrorCode::kBadValue, "configureFailPoint needs a 'mode'");
    if (mode->is_string() && mode->as_string() == "off") {
      std::lock_guard lock(fp_mu);
      fail_point = FailPoint();
      return bson::Document{{"count", int32_t{0}}, {"ok", 1.0}};
    }
    if (mode->is_string() && mode->as_string() == "alwaysOn") {
      fp.times = -1;
    } else if (mode->is_document() && mode->as_document().Has("times")) {
      fp.times = mode->as_document().Get("times")->ToInt64();
    } else if (mode->is_document() && mode->as_document().Has("skip")) {
      fp.skip = mode->as_document().Get("skip")->ToInt64();
      fp.times = -1;
    } else {
      return Status(ErrorCode::kBadValue, "mode must be 'off', 'alwaysOn', {times: n} or {skip: n}");
    }
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
      : db(d), options(std::move(o)), cursors(options.cursor_timeout) {
    RegisterHelloCommands(table);
    RegisterCrudCommands(table);
    RegisterDdlCommands(table);
    RegisterAggregateCommands(table);
    for (int i = 0; i < options.worker_threads; ++i) {
      workers.emplace_back([this] { WorkerLoop(); });
    }
  }

  ~Impl() {
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

  Reply Run(const ConnectionInfo& connection, const Request& request) {
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
    if (FailPointFires(name, &reply)) return reply.close_connection ? reply : Decorate(std::move(reply));
    auto it = table.find(name);
    if (it == table.end()) {
      reply.body = ErrorReply(Status(ErrorCode::kCommandNotFound, "no such command: '" + name + "'"));
      return Decorate(std::move(reply));
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
    ctx.options = &options;
    ctx.cursors = &cursors;
    ctx.connection = &connection;
    ctx.db_name = request.db.empty() ? "admin" : request.db;
    ctx.command_name = name;
    Result<bson::Document> result = [&]() -> Result<bson::Document> {
      try {
        return it->second.fn(ctx, cmd);
      } catch (const std::exception& e) {
        // One escaped exception ends one request, never the server.
        return Status(ErrorCode::kInternalError, std::string("internal error in ") + name + ": " + e.what());
      }
    }();
    if (result.ok()) {
      reply.body = std::move(result).value();
      if (!reply.body.Has("ok")) reply.body.Append("ok", 1.0);
      if (name == "find") KeepWithoutTimeout(cmd, reply.body);
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
    }
    reply.close_connection = ctx.close_connection;
    return Decorate(std::move(reply));
  }

  // Commands that touch no storage and never wait run on the calling (I/O) thread: a hop to a
  // worker and back costs two thread wake-ups, far more than the command itself. Not while a
  // fail point is set (blockConnection sleeps).
  bool RunsInline(const Request& request) {
    if (request.command.empty()) return true;  // an error reply
    static const std::unordered_set<std::string_view> kInline = {
        "ping", "hello", "isMaster", "ismaster", "buildInfo", "buildinfo", "getParameter",
        "setParameter", "whatsmyuri", "connectionStatus", "hostInfo", "getCmdLineOpts", "getLog",
        "endSessions", "killAllSessions", "killSessions", "refreshSessions", "startSession",
        "logout"};
    if (!kInline.count(request.command.at(0).name)) return false;
    std::lock_guard lock(fp_mu);
    return !fail_point.active;
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
  if (impl_->RunsInline(request)) {
    done(impl_->Run(connection, request));
    return;
  }
  auto job = [this, connection, request = std::move(request), done = std::move(done)]() mutable {
    done(impl_->Run(connection, request));
  };
  {
    std::lock_guard lock(impl_->mu);
    impl_->queue.push_back(std::move(job));
  }
  impl_->cv.notify_one();
}

void CommandService::ConnectionClosed(const ConnectionInfo&) {}

void CommandService::SetHostAndPort(std::string host_and_port) {
  impl_->options.host_and_port = std::move(host_and_port);
}

Reply CommandService::Run(const ConnectionInfo& connection, const Request& request) {
  return impl_->Run(connection, request);
}

}  // namespace eddy::wire
