#include "wire/commands/sessions.h"

#include <openssl/evp.h>

#include <algorithm>
#include <chrono>

#include "bson/json.h"

namespace eddy::wire {
namespace {

bson::Binary Sha256(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
  return bson::Binary{0, std::string(reinterpret_cast<const char*>(digest), len)};
}

bson::DateTime WallNow() {
  return bson::DateTime{std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count()};
}

std::string WrongType(std::string_view field, const bson::Value& v, std::string_view expected) {
  return "BSON field '" + std::string(field) + "' is the wrong type '" +
         std::string(bson::TypeName(v.type())) + "', expected type '" + std::string(expected) +
         "'";
}

}  // namespace

SessionRegistry::SessionRegistry(std::chrono::minutes timeout, Clock clock, size_t max_sessions)
    : timeout_(timeout), clock_(std::move(clock)), max_sessions_(max_sessions) {}

const bson::Binary& SessionRegistry::NoAuthUid() {
  static const bson::Binary uid = Sha256("");
  return uid;
}

Result<bson::Binary> SessionRegistry::ParseLsid(const bson::Value& lsid) {
  if (!lsid.is_document()) {
    return Status(ErrorCode::kTypeMismatch, WrongType("OperationSessionInfo.lsid", lsid, "object"));
  }
  const bson::Value* id = nullptr;
  for (const bson::Field& f : lsid.as_document()) {
    if (f.name == "id") {
      id = &f.value;
    } else if (f.name != "uid") {
      return Status(static_cast<ErrorCode>(40415),
                    "BSON field 'OperationSessionInfo.lsid." + f.name + "' is an unknown field.");
    }
  }
  if (id == nullptr) {
    return Status(static_cast<ErrorCode>(40414),
                  "BSON field 'OperationSessionInfo.lsid.id' is missing but a required field");
  }
  if (id->type() != bson::Type::kBinary) {
    return Status(ErrorCode::kTypeMismatch, WrongType("OperationSessionInfo.lsid.id", *id, "binData"));
  }
  if (id->as_binary().subtype != 4 || id->as_binary().data.size() != 16) {
    return Status(ErrorCode::kBadValue,
                  "BSON field 'OperationSessionInfo.lsid.id' must be a UUID (binData subtype 4, "
                  "16 bytes)");
  }
  return id->as_binary();
}

std::chrono::steady_clock::time_point SessionRegistry::Now() const {
  return clock_ ? clock_() : std::chrono::steady_clock::now();
}

void SessionRegistry::ExpireLocked(std::chrono::steady_clock::time_point now) {
  std::erase_if(sessions_, [&](const auto& kv) { return now - kv.second.touched >= timeout_; });
}

Status SessionRegistry::Touch(const bson::Binary& id) {
  auto now = Now();
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id.data);
  if (it != sessions_.end()) {
    it->second.last_use = WallNow();
    it->second.touched = now;
    return Status::OK();
  }
  // New sessions sweep out expired ones now and then (every kSweepEvery registrations), so a
  // client inventing lsids can not grow the cache past what the timeout allows.
  if (++registrations_ % kSweepEvery == 0 || sessions_.size() >= max_sessions_) {
    ExpireLocked(now);
  }
  if (sessions_.size() >= max_sessions_) {
    return Status(static_cast<ErrorCode>(261),
                  "Unable to add session into the cache because the number of active sessions "
                  "is too high");
  }
  sessions_.emplace(id.data, Entry{id, WallNow(), now});
  return Status::OK();
}

void SessionRegistry::End(const bson::Binary& id) {
  std::lock_guard lock(mu_);
  sessions_.erase(id.data);
}

void SessionRegistry::EndAll() {
  std::lock_guard lock(mu_);
  sessions_.clear();
}

bool SessionRegistry::Contains(const bson::Binary& id) {
  auto now = Now();
  std::lock_guard lock(mu_);
  ExpireLocked(now);
  return sessions_.count(id.data) != 0;
}

size_t SessionRegistry::size() {
  auto now = Now();
  std::lock_guard lock(mu_);
  ExpireLocked(now);
  return sessions_.size();
}

size_t SessionRegistry::stored() {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

std::vector<bson::Document> SessionRegistry::List(const std::vector<bson::Binary>& uids) {
  const bson::Binary& uid = NoAuthUid();
  std::vector<Entry> live;
  {
    auto now = Now();
    std::lock_guard lock(mu_);
    ExpireLocked(now);
    bool listed = uids.empty() || std::find(uids.begin(), uids.end(), uid) != uids.end();
    if (!listed) return {};
    live.reserve(sessions_.size());
    for (const auto& [key, e] : sessions_) live.push_back(e);
  }
  std::sort(live.begin(), live.end(), [](const Entry& a, const Entry& b) {
    return a.touched != b.touched ? a.touched < b.touched : a.id.data < b.id.data;
  });
  std::vector<bson::Document> out;
  out.reserve(live.size());
  for (Entry& e : live) {
    out.push_back(bson::Document{{"_id", bson::Document{{"id", std::move(e.id)}, {"uid", uid}}},
                                 {"lastUse", e.last_use}});
  }
  return out;
}

Result<std::vector<bson::Binary>> ParseListSessionsSpec(const bson::Value& spec) {
  if (!spec.is_document()) {
    return Status(ErrorCode::kTypeMismatch,
                  "$listLocalSessions options must be specified in an object, but found: " +
                      std::string(bson::TypeName(spec.type())));
  }
  bool all_users = false;
  std::vector<bson::Binary> uids;
  bool users_given = false;
  for (const bson::Field& f : spec.as_document()) {
    if (f.name == "allUsers") {
      if (!f.value.is_bool()) {
        return Status(ErrorCode::kTypeMismatch, WrongType("$listLocalSessions.allUsers", f.value, "bool"));
      }
      all_users = f.value.as_bool();
    } else if (f.name == "users") {
      if (!f.value.is_array()) {
        return Status(ErrorCode::kTypeMismatch, WrongType("$listLocalSessions.users", f.value, "array"));
      }
      users_given = true;
      for (const bson::Value& u : f.value.as_array()) {
        if (!u.is_document()) {
          return Status(ErrorCode::kTypeMismatch, WrongType("$listLocalSessions.users", u, "object"));
        }
        const bson::Value* user = nullptr;
        const bson::Value* db = nullptr;
        for (const bson::Field& uf : u.as_document()) {
          if (uf.name == "user") {
            user = &uf.value;
          } else if (uf.name == "db") {
            db = &uf.value;
          } else {
            return Status(static_cast<ErrorCode>(40415),
                          "BSON field '$listLocalSessions.users." + uf.name + "' is an unknown field.");
          }
        }
        for (auto [name, v] : {std::pair{"user", user}, std::pair{"db", db}}) {
          if (v == nullptr) {
            return Status(static_cast<ErrorCode>(40414), std::string("BSON field '$listLocalSessions.users.") +
                                                             name + "' is missing but a required field");
          }
          if (!v->is_string()) {
            return Status(ErrorCode::kTypeMismatch,
                          WrongType(std::string("$listLocalSessions.users.") + name, *v, "string"));
          }
        }
        // mongod's uid is SHA-256 of "user@db".
        uids.push_back(Sha256(user->as_string() + "@" + db->as_string()));
      }
    } else if (f.name == "$_internalPredicate") {
      continue;
    } else {
      return Status(static_cast<ErrorCode>(40415),
                    "BSON field '$listLocalSessions." + f.name + "' is an unknown field.");
    }
  }
  if (all_users) return std::vector<bson::Binary>();
  // No users named: the current user's sessions (eddy has no users: the unauthenticated one).
  if (!users_given || uids.empty()) return std::vector<bson::Binary>{SessionRegistry::NoAuthUid()};
  return uids;
}

}  // namespace eddy::wire
