#include "wire/commands/service.h"

#include <condition_variable>
#include <deque>
#include <list>
#include <thread>
#include <unordered_map>

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
