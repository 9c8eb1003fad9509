// The server's logical session cache, as mongod's LogicalSessionCache: every command that
// carries an `lsid` registers (or refreshes) its session, startSession creates one,
// refreshSessions refreshes, endSessions/killSessions/killAllSessions remove, and a session
// unused for logicalSessionTimeoutMinutes expires. $listLocalSessions reads it.
//
// eddy has no authentication, so every session belongs to the unauthenticated user, whose
// uid is SHA-256 of the empty user name (mongod's kNoAuthDigest).
//
// Thread-safety: all methods may be called concurrently.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "bson/value.h"

namespace eddy::wire {

class SessionRegistry {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  // mongod's maxSessions default.
  static constexpr size_t kDefaultMaxSessions = 1000000;

  // `timeout`: logicalSessionTimeoutMinutes. `clock` (tests) defaults to steady_clock::now.
  explicit SessionRegistry(std::chrono::minutes timeout, Clock clock = nullptr,
                           size_t max_sessions = kDefaultMaxSessions);

  // The uid of every session on a server without users: SHA-256("").
  static const bson::Binary& NoAuthUid();

  // Checks a command's `lsid` ({id: UUID} with an optional uid) and returns its id; errors
  // name the bad field as mongod's IDL parser does.
  static Result<bson::Binary> ParseLsid(const bson::Value& lsid);

  // Registers the session or refreshes its lastUse. TooManyLogicalSessions (261) when the
  // cache is full of live sessions.
  Status Touch(const bson::Binary& id);
  // Refreshes an existing session (or registers it, as refreshSessions vivifies).
  Status Refresh(const bson::Binary& id) { return Touch(id); }
  // Removes the session (endSessions, killSessions); unknown ids are ignored, as in mongod.
  void End(const bson::Binary& id);
  // Removes every session (killAllSessions).
  void EndAll();
  bool Contains(const bson::Binary& id);
  // Live sessions (expired ones are dropped first).
  size_t size();
  // Entries held, expired ones included until a sweep removes them.
  size_t stored();

  // Live sessions as $listLocalSessions reports them: {_id: {id, uid}, lastUse}, oldest use
  // first. `uids` empty: all; otherwise only sessions whose uid is listed.
  std::vector<bson::Document> List(const std::vector<bson::Binary>& uids);

 private:
  struct Entry {
    bson::Binary id;
    bson::DateTime last_use;                          // wall clock, reported
    std::chrono::steady_clock::time_point touched;    // for expiry
  };
  void ExpireLocked(std::chrono::steady_clock::time_point now);
  std::chrono::steady_clock::time_point Now() const;

  const std::chrono::minutes timeout_;
  const Clock clock_;
  const size_t max_sessions_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> sessions_;  // by id bytes
  static constexpr uint64_t kSweepEvery = 1024;
  uint64_t registrations_ = 0;  // guarded by mu_
};

// Parses a $listLocalSessions spec ({allUsers: bool, users: [{user, db}]}) and returns the
// uids to list (empty: all users). Errors are mongod's: TypeMismatch for a non-object spec or
// wrongly typed field, 40415 for an unknown field, 40414 for a user without user/db.
Result<std::vector<bson::Binary>> ParseListSessionsSpec(const bson::Value& spec);

}  // namespace eddy::wire
