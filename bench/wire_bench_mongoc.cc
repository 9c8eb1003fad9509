// Wire-path figures for `eddy serve` through libmongoc (the C driver) over loopback:
//   1. insert_one round trips/s from one client, default write concern (durable) and {w:1, j:false};
//   2. insert_many of ~200-byte order documents, 1000 per call, from 1 and N clients
//      (threads, one mongoc_client_t each), docs/s;
//   3. find_one by _id latency p50/p99 from one client;
//   4. ping round trips (the request path without storage), p50/p99.
// Every figure is the median of --runs runs (default 3); the per-run values are printed too.
//
// Usage: wire_bench_mongoc path/to/eddy [--seconds S] [--runs R] [--threads N] [--sync on|off]
//        wire_bench_mongoc --uri mongodb://host:port/ [...]   (an already running server)
//        --only P runs the phases whose name contains P: insert_one_durable,
//        insert_one_nojournal, insert_many, find_one, ping (--only insert_one: both)
#include <mongoc/mongoc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../tests/libmongoc/eddy_process.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string eddy;
  std::string uri;
  double seconds = 3;
  int runs = 3;
  int threads = 16;
  std::string sync = "on";
  std::string only;  // run only phases whose name contains this
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::string Join(const std::vector<double>& v, const char* fmt) {
  std::string s;
  char buf[64];
  for (double x : v) {
    std::snprintf(buf, sizeof buf, fmt, x);
    s += (s.empty() ? "" : " ") + std::string(buf);
  }
  return s;
}

// An order document of about 200 bytes (BSON), as the seed article's orders.
void AppendOrder(bson_t* doc, int64_t n) {
  char customer[32], region[16], sku[32];
  std::snprintf(customer, sizeof customer, "cust-%06lld", static_cast<long long>(n % 5000));
  std::snprintf(region, sizeof region, "r%02lld", static_cast<long long>(n % 100));
  std::snprintf(sku, sizeof sku, "sku-%05lld", static_cast<long long>(n % 997));
  BSON_APPEND_INT64(doc, "_id", n);
  BSON_APPEND_INT64(doc, "order_no", n);
  BSON_APPEND_UTF8(doc, "customer_id", customer);
  BSON_APPEND_UTF8(doc, "status", "pending");
  BSON_APPEND_UTF8(doc, "region", region);
  BSON_APPEND_DOUBLE(doc, "total_amount", 10.0 + static_cast<double>(n % 1000));
  BSON_APPEND_DATE_TIME(doc, "created_at", 1'700'000'000'000 + n);
  bson_t items, item;
  BSON_APPEND_ARRAY_BEGIN(doc, "items", &items);
  BSON_APPEND_DOCUMENT_BEGIN(&items, "0", &item);
  BSON_APPEND_UTF8(&item, "product_id", sku);
  BSON_APPEND_INT32(&item, "quantity", static_cast<int32_t>(1 + n % 5));
  BSON_APPEND_DOUBLE(&item, "price", 9.99);
  bson_append_document_end(&items, &item);
  bson_append_array_end(doc, &items);
  BSON_APPEND_UTF8(doc, "note", "deliver to the back door, ring twice");
}

mongoc_client_t* NewClient(const std::string& uri) {
  mongoc_client_t* c = mongoc_client_new(uri.c_str());
  if (!c) {
    std::fprintf(stderr, "bad URI %s\n", uri.c_str());
    std::exit(2);
  }
  mongoc_client_set_error_api(c, MONGOC_ERROR_API_VERSION_2);
  return c;
}

[[noreturn]] void Die(const char* what, const bson_error_t& e) {
  std::fprintf(stderr, "%s failed: %d %s\n", what, e.code, e.message);
  std::exit(1);
}

// Each run writes to its own collection, dropped first, so runs do not grow one collection's
// indexes and a rerun against the same --uri starts clean.
std::string CollName(const char* phase, int run) {
  return std::string(phase) + "_" + std::to_string(run);
}

void DropCollection(const std::string& uri, const std::string& name) {
  mongoc_client_t* c = mongoc_client_new(uri.c_str());
  mongoc_collection_t* coll = mongoc_client_get_collection(c, "bench", name.c_str());
  bson_error_t ignored;  // NamespaceNotFound when it does not exist yet
  mongoc_collection_drop(coll, &ignored);
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(c);
}

double InsertOneRun(const std::string& uri, const Options& o, int run, const bson_t* opts,
                    const char* phase) {
  DropCollection(uri, CollName(phase, run));
  mongoc_client_t* client = NewClient(uri);
  mongoc_collection_t* coll = mongoc_client_get_collection(client, "bench", CollName(phase, run).c_str());
  bson_error_t error;
  int64_t n = 0;
  auto start = Clock::now();
  auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  Clock::time_point now;
  while ((now = Clock::now()) < end) {
    bson_t doc = BSON_INITIALIZER;
    AppendOrder(&doc, n++);
    if (!mongoc_collection_insert_one(coll, &doc, opts, nullptr, &error)) Die("insert_one", error);
    bson_destroy(&doc);
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(client);
  return static_cast<double>(n) / secs;
}

double InsertManyRun(const std::string& uri, const Options& o, int run, int clients) {
  std::atomic<int64_t> docs{0};
  std::atomic<bool> go{false};
  const std::string name = CollName(clients == 1 ? "many1" : "manyN", run);
  DropCollection(uri, name);
  auto end_holder = std::make_shared<Clock::time_point>();
  std::vector<std::thread> threads;
  std::atomic<int> ready{0};
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      mongoc_client_t* client = NewClient(uri);
      mongoc_collection_t* coll = mongoc_client_get_collection(client, "bench", name.c_str());
      // Unordered, as bulk loaders send them.
      bson_t opts = BSON_INITIALIZER;
      BSON_APPEND_BOOL(&opts, "ordered", false);
      std::vector<bson_t> batch(1000);
      std::vector<const bson_t*> ptrs(1000);
      ready++;
      while (!go) std::this_thread::yield();
      int64_t k = 0;
      bson_error_t error;
      while (Clock::now() < *end_holder) {
        int64_t base = (static_cast<int64_t>(t) + 1) * 1'000'000'000 + k * 1000;
        for (int i = 0; i < 1000; ++i) {
          bson_init(&batch[i]);
          AppendOrder(&batch[i], base + i);
          ptrs[i] = &batch[i];
        }
        if (!mongoc_collection_insert_many(coll, ptrs.data(), 1000, &opts, nullptr, &error)) {
          Die("insert_many", error);
        }
        for (bson_t& b : batch) bson_destroy(&b);
        docs += 1000;
        ++k;
      }
      bson_destroy(&opts);
      mongoc_collection_destroy(coll);
      mongoc_client_destroy(client);
    });
  }
  while (ready < clients) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto start = Clock::now();
  *end_holder = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  go = true;
  for (auto& th : threads) th.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  return static_cast<double>(docs.load()) / secs;
}

// find_one by _id over a preloaded collection: returns {p50 µs, p99 µs, ops/s}.
std::vector<double> FindOneRun(const std::string& uri, const Options& o, int64_t preloaded) {
  mongoc_client_t* client = NewClient(uri);
  mongoc_collection_t* coll = mongoc_client_get_collection(client, "bench", "find_target");
  bson_t opts = BSON_INITIALIZER;
  BSON_APPEND_INT64(&opts, "limit", 1);
  BSON_APPEND_BOOL(&opts, "singleBatch", true);
  std::vector<double> lat;
  uint64_t x = 88172645463325252ull;
  auto start = Clock::now();
  auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  while (Clock::now() < end) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    int64_t id = static_cast<int64_t>(x % static_cast<uint64_t>(preloaded));
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_INT64(&filter, "_id", id);
    auto t0 = Clock::now();
    mongoc_cursor_t* c = mongoc_collection_find_with_opts(coll, &filter, &opts, nullptr);
    const bson_t* doc;
    bool found = mongoc_cursor_next(c, &doc);
    bson_error_t error;
    if (mongoc_cursor_error(c, &error)) Die("find_one", error);
    mongoc_cursor_destroy(c);
    lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    bson_destroy(&filter);
    if (!found) {
      std::fprintf(stderr, "find_one: _id %lld not found\n", static_cast<long long>(id));
      std::exit(1);
    }
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  bson_destroy(&opts);
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(client);
  std::sort(lat.begin(), lat.end());
  return {lat[lat.size() / 2], lat[lat.size() * 99 / 100], static_cast<double>(lat.size()) / secs};
}

// ping round trips from one client: the request path alone, without storage. {p50 µs, p99 µs, ops/s}
std::vector<double> PingRun(const std::string& uri, const Options& o) {
  mongoc_client_t* client = NewClient(uri);
  bson_t* ping = BCON_NEW("ping", BCON_INT32(1));
  bson_error_t error;
  std::vector<double> lat;
  auto start = Clock::now();
  auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  while (Clock::now() < end) {
    auto t0 = Clock::now();
    bson_t reply;
    if (!mongoc_client_command_simple(client, "admin", ping, nullptr, &reply, &error)) Die("ping", error);
    bson_destroy(&reply);
    lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  bson_destroy(ping);
  mongoc_client_destroy(client);
  std::sort(lat.begin(), lat.end());
  return {lat[lat.size() / 2], lat[lat.size() * 99 / 100], static_cast<double>(lat.size()) / secs};
}

void Preload(const std::string& uri, int64_t n) {
  DropCollection(uri, "find_target");
  mongoc_client_t* client = NewClient(uri);
  mongoc_collection_t* coll = mongoc_client_get_collection(client, "bench", "find_target");
  bson_error_t error;
  for (int64_t base = 0; base < n; base += 1000) {
    std::vector<bson_t> batch(1000);
    std::vector<const bson_t*> ptrs;
    for (int64_t i = 0; i < 1000 && base + i < n; ++i) {
      bson_init(&batch[i]);
      AppendOrder(&batch[i], base + i);
      ptrs.push_back(&batch[i]);
    }
    if (!mongoc_collection_insert_many(coll, ptrs.data(), ptrs.size(), nullptr, nullptr, &error)) {
      Die("preload", error);
    }
    for (size_t i = 0; i < ptrs.size(); ++i) bson_destroy(&batch[i]);
  }
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(client);
}

bool Wanted(const Options& o, const char* phase) {
  return o.only.empty() || std::strstr(phase, o.only.c_str()) != nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seconds") o.seconds = std::stod(next());
    else if (a == "--runs") o.runs = std::stoi(next());
    else if (a == "--threads") o.threads = std::stoi(next());
    else if (a == "--sync") o.sync = next();
    else if (a == "--uri") o.uri = next();
    else if (a == "--only") o.only = next();
    else if (!a.empty() && a[0] != '-') o.eddy = a;
    else {
      std::fprintf(stderr, "usage: %s path/to/eddy | --uri URI [--seconds S] [--runs R] "
                   "[--threads N] [--sync on|off] [--only PHASE]\n", argv[0]);
      return 2;
    }
  }
  std::unique_ptr<eddy::testing::EddyProcess> server;
  if (o.uri.empty()) {
    if (o.eddy.empty()) {
      std::fprintf(stderr, "give the eddy binary or --uri\n");
      return 2;
    }
    server = std::make_unique<eddy::testing::EddyProcess>(
        o.eddy, std::vector<std::string>{"--sync", o.sync});
    if (server->port() == 0) {
      std::fprintf(stderr, "%s\n", server->error().c_str());
      return 1;
    }
    o.uri = server->uri();
    std::printf("eddy serve on port %d (sync %s), %d runs of %.1f s each\n", server->port(),
                o.sync.c_str(), o.runs, o.seconds);
  }
  mongoc_init();

  if (Wanted(o, "ping")) {
    std::vector<double> p50, p99, ops;
    for (int r = 0; r < o.runs; ++r) {
      std::vector<double> f = PingRun(o.uri, o);
      p50.push_back(f[0]);
      p99.push_back(f[1]);
      ops.push_back(f[2]);
    }
    std::printf("ping, 1 client:                              median p50 %.0f us, p99 %.0f us, "
                "%.0f ops/s  [p50 %s]\n",
                Median(p50), Median(p99), Median(ops), Join(p50, "%.0f").c_str());
    std::fflush(stdout);
  }
  if (Wanted(o, "insert_one_durable")) {
    std::vector<double> v;
    for (int r = 0; r < o.runs; ++r) v.push_back(InsertOneRun(o.uri, o, r, nullptr, "one"));
    std::printf("insert_one, 1 client, default write concern: median %.0f ops/s  [%s]\n",
                Median(v), Join(v, "%.0f").c_str());
    std::fflush(stdout);
  }
  if (Wanted(o, "insert_one_nojournal")) {
    std::vector<double> v;
    bson_t* opts = BCON_NEW("writeConcern", "{", "w", BCON_INT32(1), "j", BCON_BOOL(false), "}");
    v.clear();
    for (int r = 0; r < o.runs; ++r) v.push_back(InsertOneRun(o.uri, o, r, opts, "one_nj"));
    std::printf("insert_one, 1 client, {w:1, j:false}:        median %.0f ops/s  [%s]\n",
                Median(v), Join(v, "%.0f").c_str());
    bson_destroy(opts);
    std::fflush(stdout);
  }
  if (Wanted(o, "insert_many")) {
    for (int clients : {1, o.threads}) {
      std::vector<double> v;
      for (int r = 0; r < o.runs; ++r) v.push_back(InsertManyRun(o.uri, o, r, clients));
      std::printf("insert_many (1000 x ~200 B), %2d client%s:     median %.0f docs/s  [%s]\n",
                  clients, clients == 1 ? " " : "s", Median(v), Join(v, "%.0f").c_str());
      std::fflush(stdout);
    }
  }
  if (Wanted(o, "find_one")) {
    const int64_t kDocs = 100'000;
    Preload(o.uri, kDocs);
    std::vector<double> p50, p99, ops;
    for (int r = 0; r < o.runs; ++r) {
      std::vector<double> f = FindOneRun(o.uri, o, kDocs);
      p50.push_back(f[0]);
      p99.push_back(f[1]);
      ops.push_back(f[2]);
    }
    std::printf("find_one by _id (of %lld docs), 1 client:    median p50 %.0f us, p99 %.0f us, "
                "%.0f ops/s  [p50 %s] [p99 %s]\n",
                static_cast<long long>(kDocs), Median(p50), Median(p99), Median(ops),
                Join(p50, "%.0f").c_str(), Join(p99, "%.0f").c_str());
  }
  mongoc_cleanup();
  if (server) {
    bool alive = server->alive();
    server->Stop();
    if (!alive) {
      std::fprintf(stderr, "eddy serve died during the benchmark\n");
      return 1;
    }
  }
  return 0;
}
