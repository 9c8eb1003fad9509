// Helpers shared by the libmongoc tests: checks, bson_t ownership, Extended JSON literals,
// dotted-path lookups, cursor draining and change-stream waits.
#pragma once
#include <mongoc/mongoc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace eddy::testing {

inline int g_passed = 0;
inline int g_failed = 0;



inline void Check(const char* name, bool ok, const std::string& detail = "") {
  if (ok) {
    ++g_passed;
  } else {
    ++g_failed;
    std::printf("FAIL %s %s\n", name, detail.c_str());
  }
}

struct BsonDeleter {
  void operator()(bson_t* b) const { bson_destroy(b); }
};
using BsonPtr = std::unique_ptr<bson_t, BsonDeleter>;

// A document from (relaxed/canonical) Extended JSON; aborts on a typo in the test itself.
inline BsonPtr J(const char* json) {
  bson_error_t error;
  bson_t* b = bson_new_from_json(reinterpret_cast<const uint8_t*>(json), -1, &error);
  if (!b) {
    std::fprintf(stderr, "bad JSON in test: %s: %s\n", error.message, json);
    std::abort();
  }
  return BsonPtr(b);
}

inline std::string ToJson(const bson_t* b) {
  if (!b) return "(null)";
  char* s = bson_as_relaxed_extended_json(b, nullptr);
  std::string out = s ? s : "(invalid)";
  bson_free(s);
  return out;
}

inline std::string ErrorString(const bson_error_t& e) {
  return "domain " + std::to_string(e.domain) + " code " + std::to_string(e.code) + ": " +
         e.message;
}

// Dotted-path lookups in a reply. Missing or wrong-typed fields read as -1 / "".
inline int64_t GetInt(const bson_t* doc, const char* path) {
  bson_iter_t it, found;
  if (!bson_iter_init(&it, doc) || !bson_iter_find_descendant(&it, path, &found)) return -1;
  if (!BSON_ITER_HOLDS_NUMBER(&found)) return -1;
  return bson_iter_as_int64(&found);
}

inline double GetDouble(const bson_t* doc, const char* path) {
  bson_iter_t it, found;
  if (!bson_iter_init(&it, doc) || !bson_iter_find_descendant(&it, path, &found)) return -1;
  if (!BSON_ITER_HOLDS_NUMBER(&found)) return -1;
  return bson_iter_as_double(&found);
}

inline std::string GetString(const bson_t* doc, const char* path) {
  bson_iter_t it, found;
  if (!bson_iter_init(&it, doc) || !bson_iter_find_descendant(&it, path, &found)) return "";
  if (!BSON_ITER_HOLDS_UTF8(&found)) return "";
  return bson_iter_utf8(&found, nullptr);
}

inline bool Has(const bson_t* doc, const char* path) {
  bson_iter_t it, found;
  return bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, path, &found);
}

// Drains a cursor into copies of its documents; *error is set if the cursor failed.
inline std::vector<BsonPtr> Drain(mongoc_cursor_t* cursor, std::string* error) {
  std::vector<BsonPtr> out;
  const bson_t* doc;
  while (mongoc_cursor_next(cursor, &doc)) out.emplace_back(bson_copy(doc));
  bson_error_t e;
  if (mongoc_cursor_error(cursor, &e)) *error = ErrorString(e);
  mongoc_cursor_destroy(cursor);
  return out;
}

inline std::string Ids(const std::vector<BsonPtr>& docs) {
  std::string s;
  for (const BsonPtr& d : docs) s += (s.empty() ? "" : ",") + GetString(d.get(), "_id");
  return s;
}

// The next change event (a copy), waiting up to `seconds`; null on timeout or error.
inline BsonPtr NextEvent(mongoc_change_stream_t* stream, double seconds, std::string* error) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  const bson_t* doc;
  while (std::chrono::steady_clock::now() < deadline) {
    if (mongoc_change_stream_next(stream, &doc)) return BsonPtr(bson_copy(doc));
    bson_error_t e;
    const bson_t* reply;
    if (mongoc_change_stream_error_document(stream, &e, &reply)) {
      *error = ErrorString(e) + " " + ToJson(reply);
      return nullptr;
    }
  }
  *error = "timed out";
  return nullptr;
}

}  // namespace eddy::testing
