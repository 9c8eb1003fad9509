// Handshake and diagnostic commands: hello/isMaster, ping, buildInfo, getParameter, ...
// The hello reply makes eddy a single-node replica-set primary, so drivers enable sessions,
// retryable writes and watch(). No topologyVersion: clients poll instead of streaming
// (reference/clients.md §3), which all of them support.
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "wire/commands/command.h"
#include "wire/protocol/compression.h"

namespace eddy::wire {
namespace {

bson::DateTime Now() {
  using namespace std::chrono;
  return bson::DateTime{duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count()};
}

Result<bson::Document> Hello(CommandContext& ctx, const bson::Document& cmd) {
  bson::Document r;
  bool legacy = ctx.command_name != "hello";
  const std::string& me = ctx.options->host_and_port;
  bson::Timestamp t = ctx.db->engine().committed();
  bson::DateTime wall = Now();
  if (!ctx.options->set_name.empty()) {
    r.Append("hosts", bson::Array{bson::Value(me)});
    r.Append("setName", ctx.options->set_name);
    r.Append("setVersion", int32_t{1});
  }
  r.Append(legacy ? "ismaster" : "isWritablePrimary", true);
  r.Append("secondary", false);
  if (!ctx.options->set_name.empty()) {
    r.Append("primary", me);
    r.Append("me", me);
    bson::ObjectId election;
    bson::ObjectId::FromHex("7fffffff0000000000000001", &election);
    r.Append("electionId", election);
    bson::Document optime{{"ts", t}, {"t", int64_t{1}}};
    r.Append("lastWrite", bson::Document{{"opTime", optime},
                                         {"lastWriteDate", wall},
                                         {"majorityOpTime", optime},
                                         {"majorityWriteDate", wall}});
  }
  if (const bson::Value* ok = cmd.Get("helloOk"); ok && ok->Truthy()) r.Append("helloOk", true);
  r.Append("maxBsonObjectSize", int32_t{16 * 1024 * 1024});
  r.Append("maxMessageSizeBytes", int32_t{48000000});
  r.Append("maxWriteBatchSize", int32_t{100000});
  r.Append("localTime", wall);
  r.Append("logicalSessionTimeoutMinutes", int32_t{30});
  r.Append("connectionId", static_cast<int32_t>(ctx.connection ? ctx.connection->id : 0));
  r.Append("minWireVersion", int32_t{0});
  r.Append("maxWireVersion", int32_t{21});
  r.Append("readOnly", false);
  // Compression: the client's preferences that eddy implements, in the client's order.
  if (const bson::Value* offered = cmd.Get("compression"); offered && offered->is_array()) {
    bson::Array agreed;
    for (const bson::Value& c : offered->as_array()) {
      if (c.is_string() && SupportsCompressor(c.as_string())) agreed.push_back(c);
    }
    if (!agreed.empty()) r.Append("compression", std::move(agreed));
  }
  r.Append("ok", 1.0);
  return r;
}

Result<bson::Document> BuildInfo(CommandContext&, const bson::Document&) {
  bson::Document r;
  r.Append("version", "7.0.0");
  r.Append("gitVersion", "eddy");
  r.Append("versionArray", bson::Array{int32_t{7}, int32_t{0}, int32_t{0}, int32_t{0}});
  r.Append("bits", int32_t{64});
  r.Append("debug", false);
  r.Append("maxBsonObjectSize", int32_t{16 * 1024 * 1024});
  r.Append("modules", bson::Array{});
  r.Append("storageEngines", bson::Array{bson::Value("eddy")});
  r.Append("javascriptEngine", "none");
  r.Append("ok", 1.0);
  return r;
}

Result<bson::Document> GetParameter(CommandContext& ctx, const bson::Document& cmd) {
  bson::Document r;
  bool all = cmd.at(0).value.is_string() && cmd.at(0).value.as_string() == "*";
  if (all || cmd.Has("featureCompatibilityVersion")) {
    r.Append("featureCompatibilityVersion", bson::Document{{"version", "7.0"}});
  }
  if (all || cmd.Has("enableTestCommands")) {
    r.Append("enableTestCommands", ctx.options->enable_test_commands);
  }
  if (all || cmd.Has("changeStreamOptions")) {
    r.Append("changeStreamOptions", bson::Document{{"preAndPostImages", bson::Document{{"expireAfterSeconds", "off"}}}});
  }
  if (all || cmd.Has("cursorTimeoutMillis")) {
    r.Append("cursorTimeoutMillis", static_cast<int64_t>(ctx.cursors->idle_timeout().count()));
  }
  if (r.empty()) return Status(ErrorCode::kInvalidOptions, "no option found to get");
  r.Append("ok", 1.0);
  return r;
}

// setParameter: the runtime-settable parameters eddy has (cursorTimeoutMillis). As mongod:
// admin only, {was: <old value>} in the reply, 72 InvalidOptions for unknown parameters.
Result<bson::Document> SetParameter(CommandContext& ctx, const bson::Document& cmd) {
  if (ctx.db_name != "admin") {
    return Status(ErrorCode::kUnauthorized, "setParameter may only be run against the admin database.");
  }
  bson::Document r;
  bool any = false;
  for (size_t i = 1; i < cmd.size(); ++i) {
    const std::string& name = cmd.at(i).name;
    const bson::Value& v = cmd.at(i).value;
    if (!name.empty() && name[0] == '$') continue;  // $db, $readPreference, ...
    if (name == "lsid" || name == "txnNumber" || name == "apiVersion" || name == "apiStrict" ||
        name == "apiDeprecationErrors" || name == "comment") {
      continue;
    }
    if (name != "cursorTimeoutMillis") {
      return Status(ErrorCode::kInvalidOptions,
                    "attempted to set unrecognized parameter [" + name + "], use help:true to see options ");
    }
    if (!v.is_number()) {
      return Status(ErrorCode::kBadValue, "cursorTimeoutMillis must be a number, not " +
                                              std::string(bson::TypeName(v.type())));
    }
    int64_t ms = v.ToInt64();
    if (ms < 0) return Status(ErrorCode::kBadValue, "cursorTimeoutMillis must be >= 0, got " + std::to_string(ms));
    if (!any) r.Append("was", static_cast<int64_t>(ctx.cursors->idle_timeout().count()));
    ctx.cursors->set_idle_timeout(std::chrono::milliseconds(ms));
    any = true;
  }
  if (!any) return Status(ErrorCode::kInvalidOptions, "no option found to set, use help:true to see options ");
  r.Append("ok", 1.0);
  return r;
}

Result<bson::Document> HostInfo(CommandContext&, const bson::Document&) {
  utsname u{};
  ::uname(&u);
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  bson::Document system{{"currentTime", Now()},
                        {"hostname", std::string(host)},
                        {"cpuAddrSize", int32_t{64}},
                        {"numCores", static_cast<int32_t>(std::thread::hardware_concurrency())},
                        {"cpuArch", std::string(u.machine)}};
  bson::Document os{{"type", std::string(u.sysname)}, {"name", std::string(u.sysname)},
                    {"version", std::string(u.release)}};
  return bson::Document{{"system", system}, {"os", os}, {"extra", bson::Document()}, {"ok", 1.0}};
}

Result<bson::Document> ServerStatus(CommandContext& ctx, const bson::Document&) {
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  auto stats = ctx.db->engine().stats();
  bson::Document r;
  r.Append("host", std::string(host));
  r.Append("version", "7.0.0");
  r.Append("process", "eddy");
  r.Append("pid", static_cast<int64_t>(::getpid()));
  r.Append("localTime", Now());
  r.Append("connections", bson::Document{{"current", int32_t{1}}, {"available", int32_t{1000000}}});
  r.Append("eddy", bson::Document{{"groupCommits", static_cast<int64_t>(stats.groups)},
                                  {"writeRequests", static_cast<int64_t>(stats.requests)},
                                  {"changeLogEntries", static_cast<int64_t>(stats.entries)},
                                  {"openCursors", static_cast<int64_t>(ctx.cursors->size())}});
  r.Append("metrics",
           bson::Document{{"cursor",
                           bson::Document{{"timedOut", ctx.cursors->timed_out()},
                                          {"open", bson::Document{
                                                       {"noTimeout", static_cast<int64_t>(ctx.cursors->no_timeout_count())},
                                                       {"total", static_cast<int64_t>(ctx.cursors->size())}}}}}});
  r.Append("ok", 1.0);
  return r;
}

Result<bson::Document> Ok(CommandContext&, const bson::Document&) { return bson::Document{{"ok", 1.0}}; }

}  // namespace

void RegisterHelloCommands(CommandTable& t) {
  t["hello"] = {Hello};
  t["isMaster"] = {Hello};
  t["ismaster"] = {Hello};
  t["ping"] = {Ok};
  t["buildInfo"] = {BuildInfo};
  t["buildinfo"] = {BuildInfo};
  t["getParameter"] = {GetParameter};
  t["setParameter"] = {SetParameter};
  t["hostInfo"] = {HostInfo};
  t["serverStatus"] = {ServerStatus};
  t["endSessions"] = {Ok};
  t["killAllSessions"] = {Ok};
  t["killSessions"] = {Ok};
  t["refreshSessions"] = {Ok};
  t["startSession"] = {[](CommandContext&, const bson::Document&) -> Result<bson::Document> {
    bson::Binary id{4, std::string(16, '\0')};
    bson::ObjectId o = bson::ObjectId::Generate();
    std::memcpy(id.data.data(), o.bytes.data(), 12);
    return bson::Document{{"id", bson::Document{{"id", id}}}, {"timeoutMinutes", int32_t{30}}, {"ok", 1.0}};
  }};
  t["whatsmyuri"] = {[](CommandContext& ctx, const bson::Document&) -> Result<bson::Document> {
    return bson::Document{{"you", ctx.connection ? ctx.connection->remote : std::string()}, {"ok", 1.0}};
  }};
  t["getCmdLineOpts"] = {[](CommandContext&, const bson::Document&) -> Result<bson::Document> {
    return bson::Document{{"argv", bson::Array{bson::Value("eddy"), bson::Value("serve")}},
                          {"parsed", bson::Document()}, {"ok", 1.0}};
  }};
  t["getLog"] = {[](CommandContext&, const bson::Document& cmd) -> Result<bson::Document> {
    if (cmd.at(0).value.is_string() && cmd.at(0).value.as_string() == "*") {
      return bson::Document{{"names", bson::Array{bson::Value("global"), bson::Value("startupWarnings")}}, {"ok", 1.0}};
    }
    return bson::Document{{"totalLinesWritten", int32_t{0}}, {"log", bson::Array{}}, {"ok", 1.0}};
  }};
  t["connectionStatus"] = {[](CommandContext&, const bson::Document&) -> Result<bson::Document> {
    return bson::Document{{"authInfo", bson::Document{{"authenticatedUsers", bson::Array{}},
                                                      {"authenticatedUserRoles", bson::Array{}}}},
                          {"ok", 1.0}};
  }};
  t["logout"] = {Ok};
}

}  // namespace eddy::wire
