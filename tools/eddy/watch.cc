// eddy watch: a change stream on the command line. Connects like any driver (libmongoc), so it
// works against eddy or any MongoDB replica set, and prints one Extended JSON object per event
// and line, for shell pipelines:
//   eddy watch shop.orders --filter "{operationType: 'insert'}" | jq .fullDocument
// Targets: "db.coll" watches a collection, "db" a database, "*" the whole deployment.
#include <mongoc/mongoc.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <string>

#include "bson/codec.h"
#include "bson/json.h"
#include "subcommands.h"

namespace eddy::tools {
namespace {

struct WatchCliOptions {
  std::string target;
  std::string uri = "mongodb://127.0.0.1:27017";
  std::string filter;
  std::string pipeline;
  std::string full_document;
  std::string full_document_before_change;
  std::string resume_after;
  std::string start_after;
  std::string start_at_operation_time;
  bool show_expanded_events = false;
  int64_t max_await_ms = 1000;
  int64_t max_events = 0;
  int64_t idle_timeout_ms = 0;
  std::string format = "relaxed";
};

std::atomic<bool> g_interrupted{false};

// Our Document -> a libbson bson_t (owned by the caller).
bson_t* ToBsonT(const bson::Document& d) {
  std::string bytes = bson::Encode(d);
  return bson_new_from_data(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

Result<bson::Document> FromBsonT(const bson_t* b) {
  return bson::Decode(std::string_view(reinterpret_cast<const char*>(bson_get_data(b)), b->len));
}

// A resume token given as the document drivers print ({_data: "..."}) or as its bare hex.
Result<bson::Document> ParseToken(const std::string& text, const char* flag) {
  if (!text.empty() && text.front() != '{') return bson::Document{{"_data", text}};
  Result<bson::Document> d = bson::ParseJson(text);
  if (!d.ok()) {
    return Status(ErrorCode::kBadValue, std::string(flag) + ": not a resume token: " +
                                            std::string(d.status().message()));
  }
  return d;
}

Result<bson::Timestamp> ParseTimestamp(const std::string& text) {
  size_t sep = text.find_first_of(",:");
  try {
    if (sep == std::string::npos) {
      return bson::Timestamp{static_cast<uint32_t>(std::stoul(text)), 0};
    }
    return bson::Timestamp{static_cast<uint32_t>(std::stoul(text.substr(0, sep))),
                           static_cast<uint32_t>(std::stoul(text.substr(sep + 1)))};
  } catch (const std::exception&) {
    return Status(ErrorCode::kBadValue, "--start-at-operation-time: expected SECONDS[,INCREMENT], got '" + text + "'");
  }
}

Result<std::pair<bson::Array, bson::Document>> BuildRequest(const WatchCliOptions& o) {
  bson::Array pipeline;
  if (!o.filter.empty()) {
    Result<bson::Document> f = bson::ParseJson(o.filter);
    if (!f.ok()) return Status(ErrorCode::kBadValue, "--filter: " + std::string(f.status().message()));
    pipeline.push_back(bson::Document{{"$match", std::move(f).value()}});
  }
  if (!o.pipeline.empty()) {
    Result<bson::Document> p = bson::ParseJson("{p: " + o.pipeline + "}");
    if (!p.ok() || !p->Get("p")->is_array()) {
      return Status(ErrorCode::kBadValue, "--pipeline: expected a JSON array of stages" +
                                              (p.ok() ? std::string() : ": " + std::string(p.status().message())));
    }
    for (const bson::Value& s : p->Get("p")->as_array()) pipeline.push_back(s);
  }
  bson::Document opts;
  if (!o.full_document.empty()) opts.Append("fullDocument", o.full_document);
  if (!o.full_document_before_change.empty()) {
    opts.Append("fullDocumentBeforeChange", o.full_document_before_change);
  }
  if (!o.resume_after.empty()) {
    EDDY_ASSIGN_OR_RETURN(bson::Document t, ParseToken(o.resume_after, "--resume-after"));
    opts.Append("resumeAfter", std::move(t));
  }
  if (!o.start_after.empty()) {
    EDDY_ASSIGN_OR_RETURN(bson::Document t, ParseToken(o.start_after, "--start-after"));
    opts.Append("startAfter", std::move(t));
  }
  if (!o.start_at_operation_time.empty()) {
    EDDY_ASSIGN_OR_RETURN(bson::Timestamp ts, ParseTimestamp(o.start_at_operation_time));
    opts.Append("startAtOperationTime", ts);
  }
  if (o.show_expanded_events) opts.Append("showExpandedEvents", true);
  opts.Append("maxAwaitTimeMS", o.max_await_ms);
  return std::make_pair(std::move(pipeline), std::move(opts));
}

int RunWatch(const WatchCliOptions& o) {
  auto request = BuildRequest(o);
  if (!request.ok()) {
    std::cerr << "eddy watch: " << request.status().message() << std::endl;
    return 2;
  }
  bson::JsonMode mode = o.format == "canonical" ? bson::JsonMode::kCanonical : bson::JsonMode::kRelaxed;
  mongoc_init();
  bson_error_t err;
  mongoc_uri_t* uri = mongoc_uri_new_with_error(o.uri.c_str(), &err);
  if (!uri) {
    std::cerr << "eddy watch: bad --uri: " << err.message << std::endl;
    return 2;
  }
  mongoc_client_t* client = mongoc_client_new_from_uri_with_error(uri, &err);
  mongoc_uri_destroy(uri);
  if (!client) {
    std::cerr << "eddy watch: " << err.message << std::endl;
    return 2;
  }
  mongoc_client_set_appname(client, "eddy watch");
  bson_t* pipeline = ToBsonT(bson::Document{{"pipeline", request->first}});
  bson_t* opts = ToBsonT(request->second);
  mongoc_change_stream_t* stream = nullptr;
  mongoc_database_t* database = nullptr;
  mongoc_collection_t* collection = nullptr;
  if (o.target == "*") {
    stream = mongoc_client_watch(client, pipeline, opts);
  } else if (size_t dot = o.target.find('.'); dot == std::string::npos) {
    database = mongoc_client_get_database(client, o.target.c_str());
    stream = mongoc_database_watch(database, pipeline, opts);
  } else {
    collection = mongoc_client_get_collection(client, o.target.substr(0, dot).c_str(),
                                              o.target.substr(dot + 1).c_str());
    stream = mongoc_collection_watch(collection, pipeline, opts);
  }
  int rc = 0;
  int64_t printed = 0;
  auto last_event = std::chrono::steady_clock::now();
  const bson_t* doc = nullptr;
  while (!g_interrupted.load()) {
    if (mongoc_change_stream_next(stream, &doc)) {
      Result<bson::Document> event = FromBsonT(doc);
      if (!event.ok()) {
        std::cerr << "eddy watch: " << event.status().message() << std::endl;
        rc = 1;
        break;
      }
      std::cout << bson::ToJson(*event, mode) << '\n' << std::flush;
      last_event = std::chrono::steady_clock::now();
      if (o.max_events > 0 && ++printed >= o.max_events) break;
      continue;
    }
    const bson_t* reply = nullptr;
    if (mongoc_change_stream_error_document(stream, &err, &reply)) {
      std::cerr << "eddy watch: " << err.message;
      if (reply && !bson_empty(reply)) {
        Result<bson::Document> r = FromBsonT(reply);
        if (r.ok() && r->Get("code")) std::cerr << " (code " << bson::ToJson(*r->Get("code")) << ")";
      }
      std::cerr << std::endl;
      rc = 1;
      break;
    }
    if (o.idle_timeout_ms > 0 &&
        std::chrono::steady_clock::now() - last_event > std::chrono::milliseconds(o.idle_timeout_ms)) {
      break;
    }
  }
  mongoc_change_stream_destroy(stream);
  if (collection) mongoc_collection_destroy(collection);
  if (database) mongoc_database_destroy(database);
  bson_destroy(pipeline);
  bson_destroy(opts);
  mongoc_client_destroy(client);
  mongoc_cleanup();
  return rc;
}

}  // namespace

void RegisterWatch(CLI::App& app) {
  auto o = std::make_shared<WatchCliOptions>();
  CLI::App* sub = app.add_subcommand(
      "watch", "Print a change stream as Extended JSON lines (TARGET: db.coll, db, or '*' for all)");
  sub->add_option("target", o->target, "db.coll, db, or '*' for the whole deployment")->required();
  sub->add_option("--uri", o->uri, "MongoDB connection string")->capture_default_str();
  sub->add_option("--filter", o->filter, "a $match filter on the events, e.g. \"{operationType: 'insert'}\"");
  sub->add_option("--pipeline", o->pipeline, "more stages after the filter, a JSON array");
  sub->add_option("--full-document", o->full_document, "default | updateLookup | whenAvailable | required")
      ->check(CLI::IsMember({"default", "updateLookup", "whenAvailable", "required"}));
  sub->add_option("--full-document-before-change", o->full_document_before_change,
                  "off | whenAvailable | required")
      ->check(CLI::IsMember({"off", "whenAvailable", "required"}));
  sub->add_option("--resume-after", o->resume_after, "resume token ({_data: ...} or its hex)");
  sub->add_option("--start-after", o->start_after, "resume token; may be an invalidate's");
  sub->add_option("--start-at-operation-time", o->start_at_operation_time, "SECONDS[,INCREMENT]");
  sub->add_flag("--show-expanded-events", o->show_expanded_events, "also create/createIndexes/dropIndexes/modify");
  sub->add_option("--max-await-ms", o->max_await_ms, "how long each getMore waits")->capture_default_str();
  sub->add_option("--max-events", o->max_events, "exit after this many events (0: never)");
  sub->add_option("--idle-timeout-ms", o->idle_timeout_ms, "exit after this long without events (0: never)");
  sub->add_option("--format", o->format, "relaxed | canonical Extended JSON")
      ->check(CLI::IsMember({"relaxed", "canonical"}))->capture_default_str();
  sub->callback([o] {
    std::signal(SIGINT, [](int) { g_interrupted.store(true); });
    std::signal(SIGPIPE, SIG_IGN);
    std::exit(RunWatch(*o));
  });
}

}  // namespace eddy::tools
