// Crash-test helpers (tests/crash/crash_test.sh):
//   eddy crash-writer: writers insert and update durably as fast as they can, printing one
//     line per acknowledged write, until killed (kill -9 is the point);
//   eddy crash-verify: after a restart, checks that every acknowledged write is present, that
//     documents and change-log entries match one to one (no event without its write, no write
//     without its event) and that the log is in strictly increasing cluster-time order.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "bson/json.h"
#include "query/exec/database.h"
#include "subcommands.h"

namespace eddy::tools {
namespace {

constexpr const char* kDb = "crash";

void WriteLine(const std::string& line) {
  // One write(2) per line so lines from different threads never interleave.
  (void)!::write(1, line.data(), line.size());
}

int RunWriter(const std::string& data, int writers, int round) {
  storage::EngineOptions options;
  options.path = data;
  auto db = query::Database::Open(options);
  if (!db.ok()) {
    std::fprintf(stderr, "crash-writer: %s\n", db.status().ToString().c_str());
    return 1;
  }
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      std::string counter = "r" + std::to_string(round) + "w" + std::to_string(w);
      for (int64_t seq = 0;; ++seq) {
        int64_t id = int64_t{round} * 1'000'000'000'000 + int64_t{w} * 1'000'000'000 + seq;
        bson::Document doc{{"_id", id}, {"w", int32_t{w}}, {"seq", seq},
                           {"pad", std::string(100, 'x')}};
        query::InsertResult r = (*db)->Insert(kDb, "docs", {doc});
        if (!r.errors.empty()) {
          std::fprintf(stderr, "crash-writer: %s\n", r.errors[0].status.ToString().c_str());
          std::_Exit(1);
        }
        WriteLine("I " + std::to_string(id) + "\n");
        query::UpdateStatement st{bson::Document{{"_id", counter}},
                                  bson::Document{{"$inc", bson::Document{{"n", int64_t{1}}}}}};
        st.upsert = true;
        auto u = (*db)->Update(kDb, "counters", st);
        if (!u.ok()) {
          std::fprintf(stderr, "crash-writer: %s\n", u.status().ToString().c_str());
          std::_Exit(1);
        }
        WriteLine("U " + counter + " " + std::to_string(seq + 1) + "\n");
      }
    });
  }
  for (auto& t : threads) t.join();
  return 0;
}

int RunVerify(const std::string& data, const std::vector<std::string>& acked_files) {
  std::set<int64_t> acked_ids;
  std::map<std::string, int64_t> acked_counters;
  for (const std::string& f : acked_files) {
    std::ifstream in(f);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream lines(content);
    std::string line;
    size_t consumed = 0;
    while (std::getline(lines, line)) {
      consumed += line.size() + 1;
      if (consumed > content.size()) break;  // a torn last line was not acknowledged output
      std::istringstream ls(line);
      std::string kind;
      ls >> kind;
      if (kind == "I") {
        int64_t id;
        ls >> id;
        acked_ids.insert(id);
      } else if (kind == "U") {
        std::string c;
        int64_t n;
        ls >> c >> n;
        acked_counters[c] = std::max(acked_counters[c], n);
      }
    }
  }
  storage::EngineOptions options;
  options.path = data;
  auto db = query::Database::Open(options);
  if (!db.ok()) {
    std::fprintf(stderr, "crash-verify: cannot open: %s\n", db.status().ToString().c_str());
    return 1;
  }
  int failures = 0;
  auto fail = [&](const std::string& what) {
    if (failures++ < 20) std::fprintf(stderr, "crash-verify: FAIL %s\n", what.c_str());
  };
  std::set<int64_t> stored;
  auto docs = (*db)->Find(kDb, "docs", {});
  auto counter_docs = (*db)->Find(kDb, "counters", {});
  if (!docs.ok() || !counter_docs.ok()) {
    std::fprintf(stderr, "crash-verify: cannot read the data back\n");
    return 1;
  }
  for (const bson::Document& d : *docs) stored.insert(d.Get("_id")->ToInt64());
  std::map<std::string, int64_t> counters;
  for (const bson::Document& d : *counter_docs) {
    counters[d.Get("_id")->as_string()] = d.Get("n")->ToInt64();
  }
  for (int64_t id : acked_ids) {
    if (!stored.count(id)) fail("acknowledged insert " + std::to_string(id) + " is missing");
  }
  // The counts kept with the writes (count without a filter) against the documents found.
  using Found = std::pair<const char*, size_t>;
  for (const auto& [coll, found] :
       {Found{"docs", docs->size()}, Found{"counters", counter_docs->size()}}) {
    auto n = (*db)->Count(kDb, coll, bson::Document());
    if (!n.ok() || *n != static_cast<int64_t>(found)) {
      fail(std::string("count of ") + coll + " is " +
           (n.ok() ? std::to_string(*n) : n.status().ToString()) + ", " + std::to_string(found) +
           " documents found");
    }
  }
  for (const auto& [c, n] : acked_counters) {
    if (counters[c] < n) {
      fail("counter " + c + " is " + std::to_string(counters[c]) + " < acknowledged " + std::to_string(n));
    }
  }
  // The change log against the data: one insert event per stored document, and per counter
  // one event per increment; strictly increasing cluster times.
  std::set<int64_t> inserted_events;
  std::map<std::string, int64_t> counter_events;
  bson::Timestamp last;
  bson::Timestamp pos;
  for (;;) {
    auto batch = (*db)->engine().ReadChangeLog(pos, 100000);
    if (!batch.ok()) {
      fail("change log: " + batch.status().ToString());
      break;
    }
    if (batch->empty()) break;
    for (const auto& e : *batch) {
      if (!(last < e.ts)) fail("change log out of order");
      last = pos = e.ts;
      bson::Document d = *e.Decode();
      const std::string& op = d.Get("op")->as_string();
      const bson::Value* coll = d.Get("coll");
      if (!coll || op == "create") continue;
      const bson::Value& key = *d.Get("dk")->as_document().Get("_id");
      if (coll->as_string() == "docs") {
        if (op != "insert") fail("unexpected " + op + " on docs");
        if (!inserted_events.insert(key.ToInt64()).second) fail("duplicate insert event");
      } else {
        counter_events[key.as_string()]++;
      }
    }
  }
  if (inserted_events != stored) {
    fail("documents and insert events differ: " + std::to_string(stored.size()) + " documents, " +
         std::to_string(inserted_events.size()) + " events");
  }
  for (const auto& [c, n] : counters) {
    if (counter_events[c] != n) {
      fail("counter " + c + " is " + std::to_string(n) + " but has " +
           std::to_string(counter_events[c]) + " events");
    }
  }
  std::printf("crash-verify: %zu acknowledged inserts, %zu stored, %zu counters; %s\n",
              acked_ids.size(), stored.size(), counters.size(), failures ? "FAILED" : "ok");
  return failures ? 1 : 0;
}

}  // namespace

void RegisterCrash(CLI::App& app) {
  static std::string data;
  static int writers = 8;
  static int round = 0;
  static std::vector<std::string> acked;
  auto* w = app.add_subcommand("crash-writer", "Write durably until killed (crash tests)");
  w->add_option("--data", data, "data directory")->required();
  w->add_option("--writers", writers, "concurrent writers")->capture_default_str();
  w->add_option("--round", round, "round number (keeps ids distinct)")->capture_default_str();
  w->callback([] { std::exit(RunWriter(data, writers, round)); });
  auto* v = app.add_subcommand("crash-verify", "Check a data directory after a crash");
  v->add_option("--data", data, "data directory")->required();
  v->add_option("--acked", acked, "files of acknowledged writes")->required();
  v->callback([] { std::exit(RunVerify(data, acked)); });
}

}  // namespace eddy::tools
