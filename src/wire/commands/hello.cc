// Handshake and diagnostic commands: hello/isMaster, ping, buildInfo, getParameter, ...
// The hello reply makes eddy a single-node replica-set primary, so drivers enable sessions,
// retryable writes and watch(). No topologyVersion: clients poll instead of streaming
// (reference/clients.md §3), which all of them support.
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "changestream/hub.h"
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
  r.Append("logicalSessionTimeoutMinutes", kLogicalSessionTimeoutMinutes);
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
                                  {"writesOnIoThread", static_cast<int64_t>(stats.ran_on_caller)},
                                  {"inlineWritesRefusedBusy", static_cast<int64_t>(stats.refused_busy)},
                                  {"openCursors", static_cast<int64_t>(ctx.cursors->size())},
                                  // Change streams parked on the hub, waiting for events.
                                  {"changeStreamsWaiting",
                                   static_cast<int64_t>(ctx.hub ? ctx.hub->stats().waiting : 0)}});
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

// The session ids of endSessions/killSessions/refreshSessions: an array of {id: UUID}, each
// checked as an lsid (all are checked before any is applied, as mongod parses first).
Result<std::vector<bson::Binary>> SessionIds(const bson::Document& cmd) {
  const bson::Value& list = cmd.at(0).value;
  if (!list.is_array()) {
    return Status(ErrorCode::kTypeMismatch, "BSON field '" + cmd.at(0).name + "' is the wrong type '" +
                                                std::string(bson::TypeName(list.type())) +
                                                "', expected type 'array'");
  }
  std::vector<bson::Binary> ids;
  for (const bson::Value& v : list.as_array()) {
    Result<bson::Binary> id = SessionRegistry::ParseLsid(v);
    if (!id.ok()) return id.status().WithPrefix(cmd.at(0).name + ": ");
    ids.push_back(std::move(id).value());
  }
  return ids;
}

// endSessions / killSessions: [{id}, ...]; unknown sessions are ignored.
Result<bson::Document> EndSessions(CommandContext& ctx, const bson::Document& cmd) {
  EDDY_ASSIGN_OR_RETURN(std::vector<bson::Binary> ids, SessionIds(cmd));
  for (const bson::Binary& id : ids) ctx.sessions->End(id);
  return bson::Document{{"ok", 1.0}};
}

Result<bson::Document> RefreshSessions(CommandContext& ctx, const bson::Document& cmd) {
  EDDY_ASSIGN_OR_RETURN(std::vector<bson::Binary> ids, SessionIds(cmd));
  for (const bson::Binary& id : ids) EDDY_RETURN_IF_ERROR(ctx.sessions->Refresh(id));
  return bson::Document{{"ok", 1.0}};
}

// killAllSessions: [] kills every session; [{user, db}, ...] kills those users' sessions. eddy
// has no users, so only the unauthenticated user's sessions exist, and only [] (or that user,
// {user: "", db: ""}) reaches them.
Result<bson::Document> KillAllSessions(CommandContext& ctx, const bson::Document& cmd) {
  const bson::Value& list = cmd.at(0).value;
  if (!list.is_array()) {
    return Status(ErrorCode::kTypeMismatch, "BSON field 'killAllSessions' is the wrong type '" +
                                                std::string(bson::TypeName(list.type())) +
                                                "', expected type 'array'");
  }
  bool all = list.as_array().empty();
  for (const bson::Value& u : list.as_array()) {
    const bson::Value* user = u.is_document() ? u.as_document().Get("user") : nullptr;
    const bson::Value* db = u.is_document() ? u.as_document().Get("db") : nullptr;
    if (!user || !db || !user->is_string() || !db->is_string()) {
      return Status(ErrorCode::kTypeMismatch,
                    "killAllSessions: each element must be a document {user: <string>, db: <string>}");
    }
    all = all || (user->as_string().empty() && db->as_string().empty());
  }
  if (all) ctx.sessions->EndAll();
  return bson::Document{{"ok", 1.0}};
}

// startSession: a new random (version 4) UUID, registered in the session cache.
Result<bson::Document> StartSession(CommandContext& ctx, const bson::Document&) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string bytes(16, '\0');
  for (size_t i = 0; i < 16; i += 8) {
    uint64_t r = rng();
    std::memcpy(bytes.data() + i, &r, 8);
  }
  bytes[6] = static_cast<char>((bytes[6] & 0x0F) | 0x40);  // version 4
  bytes[8] = static_cast<char>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  bson::Binary id{4, std::move(bytes)};
  EDDY_RETURN_IF_ERROR(ctx.sessions->Touch(id));
  return bson::Document{{"id", bson::Document{{"id", id}}},
                        {"timeoutMinutes", kLogicalSessionTimeoutMinutes},
                        {"ok", 1.0}};
}

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
  t["endSessions"] = {EndSessions};
  t["killSessions"] = {EndSessions};
  t["killAllSessions"] = {KillAllSessions};
  t["refreshSessions"] = {RefreshSessions};
  t["startSession"] = {StartSession};
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
