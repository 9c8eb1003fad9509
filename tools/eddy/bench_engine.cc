// eddy bench engine: the engine's figures from issue #3, printed as "name: value unit" lines.
//   - durable single-document inserts/s from 1, 8 and 64 concurrent writers (group commit)
//   - insertMany throughput with ~200-byte order documents
//   - indexed find latency (p50/p99) on a collection of --docs documents
//   - change-log read rate over the backlog (raw entries, and assembled change events)
// --scenario picks some of them (comma-separated: insert_one, insert_many, find, changelog;
// default all), so `perf stat` can measure one scenario alone. find and changelog read the
// collection insert_many loads (it is loaded first when insert_many is not selected).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <thread>

#include "bson/json.h"
#include "changestream/change_stream.h"
#include "query/exec/database.h"
#include "subcommands.h"

namespace eddy::tools {
namespace {

using Clock = std::chrono::steady_clock;

bson::Document OrderDoc(int64_t n) {
  // ~200 bytes, the shape of the seed article's orders.
  return bson::Document{
      {"order_no", n},
      {"customer_id", "cust-" + std::to_string(n % 5000)},
      {"status", n % 3 ? "pending" : "shipped"},
      {"region", "r" + std::to_string(n % 100)},
      {"total_amount", 10.0 + static_cast<double>(n % 1000)},
      {"items", bson::Array{bson::Document{{"product_id", "sku-" + std::to_string(n % 997)},
                                           {"quantity", int32_t(1 + n % 5)}}}},
      {"created_at", bson::DateTime{1700000000000 + n}}};
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct Options {
  std::string data;
  int64_t docs = 1'000'000;
  double seconds = 3;
  bool sync = true;
  std::string scenario = "all";
  bool j_false = false;
  int reads = 3;
};

bool Selected(const Options& o, std::string_view name) {
  if (o.scenario == "all") return true;
  std::string_view rest = o.scenario;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    if (rest.substr(0, comma) == name) return true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int Run(const Options& o) {
  std::string dir =
      o.data.empty()
          ? (std::filesystem::temp_directory_path() / ("eddy-bench-" + std::to_string(::getpid())))
                .string()
          : o.data;
  std::filesystem::remove_all(dir);
  storage::EngineOptions eo;
  eo.path = dir;
  eo.sync = o.sync ? storage::SyncMode::kOn : storage::SyncMode::kOff;
  auto opened = query::Database::Open(eo);
  if (!opened.ok()) {
    std::fprintf(stderr, "bench: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  query::Database& db = **opened;
  std::printf("sync: %s\n", o.sync ? "on (fsync per group commit)" : "off");

  // 1. Single-document durable inserts from N writers.
  std::atomic<int64_t> next{0};
  for (int writers : {1, 8, 64}) {
    if (!Selected(o, "insert_one")) break;
    std::atomic<bool> stop{false};
    std::atomic<int64_t> done{0};
    std::vector<std::thread> threads;
    auto start = Clock::now();
    for (int w = 0; w < writers; ++w) {
      threads.emplace_back([&] {
        while (!stop.load(std::memory_order_relaxed)) {
          if (o.j_false) {
            // writeConcern j:false: acknowledged once applied and visible; fsynced right after.
            bson::Document doc{{"_id", bson::ObjectId::Generate()}};
            bson::Document order = OrderDoc(next++);
            for (bson::Field& f : order.mutable_fields()) {
              doc.Append(std::move(f.name), std::move(f.value));
            }
            Status s = db.engine().Write(
                [&](storage::Txn& txn) -> Status {
                  EDDY_ASSIGN_OR_RETURN(storage::CollectionPtr c,
                                        txn.GetOrCreateCollection("bench", "single"));
                  return txn.Insert(*c, doc);
                },
                storage::WriteOptions{.wait_durable = false});
            if (!s.ok()) std::abort();
          } else {
            auto r = db.Insert("bench", "single", {OrderDoc(next++)});
            if (!r.errors.empty()) std::abort();
          }
          done++;
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
    stop = true;
    for (auto& t : threads) t.join();
    double secs = Seconds(Clock::now() - start);
    std::printf("insert_one%s %2d writers: %.0f inserts/s\n", o.j_false ? " (j:false)" : "",
                writers, done / secs);
  }
  if (Selected(o, "insert_one")) {
    auto st = db.engine().stats();
    std::printf("group commits: %llu for %llu requests, %llu WAL syncs\n",
                (unsigned long long)st.groups, (unsigned long long)st.requests,
                (unsigned long long)st.syncs);
  }
  bool load = Selected(o, "insert_many") || Selected(o, "find") || Selected(o, "changelog");
  if (!load) {
    opened->reset();
    if (o.data.empty()) std::filesystem::remove_all(dir);
    return 0;
  }

  // 2. insertMany of 1000-document batches; this also loads the collection for 3 and 4.
  (void)db.CreateIndex("bench", "orders", *bson::ParseJson("{customer_id: 1}"));
  auto start = Clock::now();
  constexpr int64_t kBatch = 1000;
  for (int64_t n = 0; n < o.docs; n += kBatch) {
    std::vector<bson::Document> batch;
    batch.reserve(kBatch);
    for (int64_t i = n; i < std::min(o.docs, n + kBatch); ++i) batch.push_back(OrderDoc(i));
    auto r = db.Insert("bench", "orders", std::move(batch));
    if (!r.errors.empty()) {
      std::fprintf(stderr, "bench: %s\n", r.errors[0].status.ToString().c_str());
      return 1;
    }
  }
  double secs = Seconds(Clock::now() - start);
  std::printf("insert_many (1000/batch, 1 index)%s: %.0f docs/s (%lld docs in %.2f s)\n",
              Selected(o, "insert_many") ? "" : " [load only]", o.docs / secs,
              static_cast<long long>(o.docs), secs);

  // 3. Indexed find latency.
  if (Selected(o, "find")) {
    std::mt19937 rng(42);
    std::vector<double> lat;
    query::FindOptions fo;
    std::string plan;
    auto deadline = Clock::now() + std::chrono::duration<double>(o.seconds);
    while (Clock::now() < deadline) {
      fo.filter = bson::Document{{"customer_id", "cust-" + std::to_string(rng() % 5000)}};
      auto t0 = Clock::now();
      auto cursor = db.OpenFind("bench", "orders", fo);
      bson::Document d;
      size_t n = 0;
      while ((*cursor)->Next(&d)) n++;
      lat.push_back(Seconds(Clock::now() - t0) * 1e6);
      if (plan.empty()) plan = bson::ToJson((*cursor)->plan().Explain(), bson::JsonMode::kShell);
    }
    std::sort(lat.begin(), lat.end());
    std::printf(
        "indexed find (%lld docs, ~%lld matches each): p50 %.0f us, p99 %.0f us over %zu queries; "
        "plan %s\n",
        static_cast<long long>(o.docs), static_cast<long long>(o.docs / 5000), lat[lat.size() / 2],
        lat[lat.size() * 99 / 100], lat.size(), plan.c_str());
    fo.filter = bson::Document{{"order_no", int64_t{o.docs / 2}}};
    auto t0 = Clock::now();
    auto scan = db.Find("bench", "orders", fo);
    std::printf("unindexed find (collection scan of %lld docs): %.0f ms\n",
                static_cast<long long>(o.docs), Seconds(Clock::now() - t0) * 1e3);
  }
  if (!Selected(o, "changelog")) {
    opened->reset();
    if (o.data.empty()) std::filesystem::remove_all(dir);
    return 0;
  }

  // 4. Change-log read rate over the whole backlog, --reads times (the first may be colder).
  std::vector<double> rates;
  for (int r = 0; r < o.reads; ++r) {
    auto t0 = Clock::now();
    bson::Timestamp pos;
    int64_t entries = 0;
    uint64_t bytes = 0;
    for (;;) {
      auto n =
          db.engine().ScanChangeLog(pos, 100000, [&](bson::Timestamp ts, std::string_view raw) {
            pos = ts;
            bytes += raw.size();
            return true;
          });
      if (!n.ok()) {
        std::fprintf(stderr, "bench: %s\n", n.status().ToString().c_str());
        return 1;
      }
      if (*n == 0) break;
      entries += *n;
    }
    double secs = Seconds(Clock::now() - t0);
    rates.push_back(entries / secs);
    std::printf(
        "change log read %d (raw entries): %.0f events/s (%lld events, %.1f MB in %.2f s)\n", r + 1,
        entries / secs, static_cast<long long>(entries), bytes / 1e6, secs);
  }
  std::printf("change log read (raw entries), median of %d: %.0f events/s\n", o.reads,
              Median(rates));
  auto t0 = Clock::now();
  changestream::WatchOptions wo;
  wo.start_at_operation_time =
      bson::Timestamp::FromUint64(db.engine().history_start().AsUint64() + 1);
  wo.batch_entries = 10000;
  auto cs = changestream::ChangeStream::Open(&db.engine(), wo);
  t0 = Clock::now();
  int64_t events = 0;
  for (;;) {
    auto e = (*cs)->TryNext();
    if (!e.ok() || !e->has_value()) break;
    events++;
  }
  secs = Seconds(Clock::now() - t0);
  std::printf(
      "change stream catch-up (decoded, assembled events): %.0f events/s (%lld events in %.2f s)\n",
      events / secs, static_cast<long long>(events), secs);
  opened->reset();
  if (o.data.empty()) std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace

void RegisterBench(CLI::App& app) {
  static Options o;
  auto* bench = app.add_subcommand("bench", "Benchmarks");
  auto* engine =
      bench->add_subcommand("engine", "Engine figures: inserts, finds, change-log reads");
  engine->add_option("--data", o.data, "data directory (default: a temporary one)");
  engine->add_option("--docs", o.docs, "documents for insertMany/find/change-log")
      ->capture_default_str();
  engine->add_option("--seconds", o.seconds, "seconds per timed scenario")->capture_default_str();
  engine->add_flag("!--no-sync", o.sync, "commit without fsync");
  engine
      ->add_option("--scenario", o.scenario,
                   "comma-separated: insert_one, insert_many, find, changelog, or all")
      ->capture_default_str();
  engine->add_flag("--j-false", o.j_false,
                   "insert_one with writeConcern j:false (ack before the fsync)");
  engine->add_option("--reads", o.reads, "change-log read passes (median printed)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  engine->callback([] { std::exit(Run(o)); });
  bench->require_subcommand(1);
}

}  // namespace eddy::tools
