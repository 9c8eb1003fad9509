#include "changestream/hub.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "bson/codec.h"
#include "bson/json.h"
#include "changestream/change_stream.h"
#include "changestream/resume_token.h"
#include "changestream/tests/test_database.h"

namespace eddy::changestream {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class HubTest : public DatabaseTest {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    hub_ = std::make_unique<Hub>(&db_->engine());
  }
  void TearDown() override {
    hub_.reset();
    DatabaseTest::TearDown();
  }
  std::unique_ptr<ChangeStream> Watch(WatchOptions o) {
    auto cs = ChangeStream::Open(&db_->engine(), std::move(o), hub_.get());
    EXPECT_TRUE(cs.ok()) << cs.status().ToString();
    return std::move(cs).value();
  }
  void Insert(std::string_view coll, std::string_view doc) {
    ASSERT_TRUE(db_->Insert("shop", coll, {J(doc)}).errors.empty());
  }
  // Waits until the hub has tailed everything committed.
  void Settle() {
    auto until = Clock::now() + 10s;
    while (hub_->tail() < db_->engine().committed() && Clock::now() < until) {
      std::this_thread::sleep_for(1ms);
    }
    ASSERT_EQ(hub_->tail(), db_->engine().committed());
  }
  // Replaces the hub with one whose ring keeps only `entries`.
  void UseSmallRing(size_t entries) {
    hub_.reset();
    HubOptions small;
    small.ring_entries = entries;
    hub_ = std::make_unique<Hub>(&db_->engine(), small);
  }
  // Reads every event available now; how many there were.
  static int Drain(ChangeStream& cs) {
    int n = 0;
    for (;;) {
      auto e = cs.TryNext();
      EXPECT_TRUE(e.ok()) << e.status().ToString();
      if (!e.ok() || !e->has_value()) return n;
      n++;
    }
  }
  static std::string Ops(ChangeStream& cs) {
    std::string out;
    for (;;) {
      auto e = cs.TryNext();
      EXPECT_TRUE(e.ok()) << e.status().ToString();
      if (!e.ok() || !e->has_value()) return out;
      out += (**e).Get("operationType")->as_string() + " ";
    }
  }

  std::unique_ptr<Hub> hub_;
};

// A flag a wake callback sets.
struct Woken {
  std::atomic<int> count{0};
  std::function<void()> fn() {
    return [this] { count++; };
  }
  bool WaitFor(int n, std::chrono::milliseconds d = 5s) {
    auto until = Clock::now() + d;
    while (count.load() < n && Clock::now() < until) std::this_thread::sleep_for(1ms);
    return count.load() >= n;
  }
};

// A ring entry names its op, db and coll from its bytes; it is decoded once, on first use,
// and an entry that does not decode (or lacks op/db) is reported, never served half-read.
TEST(TailEntryTest, NamesFromTheBytesDecodedOnceOnDemand) {
  auto doc = bson::ParseJson(R"({op: "insert", db: "shop", coll: "orders", ts: {$timestamp: {t: 1, i: 2}}, doc: {_id: 1}})");
  ASSERT_TRUE(doc.ok());
  std::string raw = bson::Encode(*doc);
  auto e = TailEntry::Make(bson::Timestamp{1, 2}, raw);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ((*e)->op, "insert");
  EXPECT_EQ((*e)->db, "shop");
  EXPECT_EQ((*e)->coll, "orders");
  EXPECT_EQ((*e)->bytes, raw.size());
  const bson::Document* d = (*e)->decoded();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d, (*e)->decoded());  // decoded once, then shared
  EXPECT_EQ(d->Get("doc")->as_document().Get("_id")->ToInt64(), 1);

  auto no_op = bson::ParseJson(R"({db: "shop", coll: "orders"})");
  EXPECT_FALSE(TailEntry::Make(bson::Timestamp{1, 3}, bson::Encode(*no_op)).ok());
  std::string truncated = raw.substr(0, raw.size() - 3);
  EXPECT_FALSE(TailEntry::Make(bson::Timestamp{1, 4}, truncated).ok());
}

// The value at a path is found from the bytes; the first path asked is memoized and every
// other path is still answered (from the bytes each time), from many threads at once.
TEST(TailEntryTest, RawValueAtMemoizesTheFirstPathAndAnswersOthers) {
  auto doc = bson::ParseJson(
      R"({op: "insert", db: "shop", coll: "orders", doc: {_id: 1, region: "r07", n: {x: 5}, arr: [1]}})");
  ASSERT_TRUE(doc.ok());
  auto e = TailEntry::Make(bson::Timestamp{1, 2}, bson::Encode(*doc));
  ASSERT_TRUE(e.ok());
  std::vector<std::thread> readers;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        bson::RawElement v;
        if (!(*e)->RawValueAt("doc.region", &v) || v.string_value() != "r07") wrong++;
        if (!(*e)->RawValueAt("doc.n.x", &v) || v.type != bson::Type::kInt32) wrong++;
        if ((*e)->RawValueAt("doc.missing", &v)) wrong++;
        if ((*e)->RawValueAt("doc.region.deeper", &v)) wrong++;  // through a string
        if ((*e)->RawValueAt("doc.arr.0", &v)) wrong++;          // arrays are left to decoding
      }
    });
  }
  for (auto& t : readers) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(HubTest, StreamsReadTheSharedRingAndSeeEverythingInOrder) {
  auto a = Watch({"shop", "orders"});
  auto b = Watch({"shop", ""});
  Insert("orders", "{_id: 1}");
  Insert("other", "{_id: 1}");
  ASSERT_TRUE(db_->Update("shop", "orders", {J("{_id: 1}"), J("{$set: {s: 1}}")}).ok());
  // Visible right away even before the tailer gets there (the engine serves the rest).
  EXPECT_EQ(Ops(*a), "insert update ");
  Settle();
  EXPECT_EQ(Ops(*b), "insert insert update ");
  EXPECT_EQ(hub_->stats().entries, 5u);  // + the implicit creates of both collections
}

// A waiting stream hears of a commit before its writer is acknowledged: the commit
// listener tails the handed-over entries and runs the wake on the committing thread
// (Hub::WakingInline), with no thread wake-up on the watcher's side.
TEST_F(HubTest, WaiterWakesOnTheCommittingThreadBeforeTheWriterReturns) {
  Insert("orders", "{_id: 0}");
  Settle();
  auto cs = Watch({"shop", "orders"});
  std::atomic<bool> inserted{false};
  std::atomic<int> woken{0};
  std::atomic<bool> inline_wake{false}, before_ack{false};
  ASSERT_TRUE(cs->ArmWake(Clock::now() + 30s, [&] {
    inline_wake = Hub::WakingInline();
    before_ack = !inserted.load();
    woken++;
  }));
  EXPECT_FALSE(Hub::WakingInline());
  Insert("orders", "{_id: 1}");
  inserted = true;
  ASSERT_EQ(woken.load(), 1);  // already: the wake ran before Insert returned
  EXPECT_TRUE(inline_wake.load());
  EXPECT_TRUE(before_ack.load());
  EXPECT_EQ(Ops(*cs), "insert ");
  // Many waiters for one commit: the tailer thread wakes them (not the writer's thread).
  std::vector<std::unique_ptr<ChangeStream>> many;
  std::atomic<int> inline_wakes{0};
  Woken all;
  for (int i = 0; i < 10; ++i) {
    many.push_back(Watch({"shop", "orders"}));
    ASSERT_TRUE(many.back()->ArmWake(Clock::now() + 30s, [&] {
      if (Hub::WakingInline()) inline_wakes++;
      all.count++;
    }));
  }
  Insert("orders", "{_id: 2}");
  ASSERT_TRUE(all.WaitFor(10));
  EXPECT_EQ(inline_wakes.load(), 0);
  for (auto& m : many) EXPECT_EQ(Ops(*m), "insert ");
}

TEST_F(HubTest, WaiterWakesOnlyForEntriesItsFilterMatches) {
  WatchOptions o{"shop", "orders"};
  o.filter = J("{operationType: 'insert', 'fullDocument.total': {$gt: 100}}");
  auto cs = Watch(o);
  Woken w;
  ASSERT_TRUE(cs->ArmWake(Clock::now() + 30s, w.fn()));
  Insert("other", "{_id: 1, total: 500}");           // other collection
  Insert("orders", "{_id: 1, total: 5}");            // filter says no
  ASSERT_TRUE(db_->Update("shop", "orders", {J("{_id: 1}"), J("{$set: {total: 900}}")}).ok());
  Settle();
  EXPECT_EQ(w.count.load(), 0);
  Insert("orders", "{_id: 2, total: 101}");
  ASSERT_TRUE(w.WaitFor(1));
  EXPECT_EQ(Ops(*cs), "insert ");
}

TEST_F(HubTest, DeadlineWakeLetsTheStreamSkipWhatTheHubChecked) {
  WatchOptions o{"shop", "orders"};
  o.filter = J("{operationType: 'delete'}");
  auto cs = Watch(o);
  Woken w;
  ASSERT_TRUE(cs->ArmWake(Clock::now() + 300ms, w.fn()));
  for (int i = 0; i < 50; ++i) Insert("orders", "{total: 1}");
  Settle();
  uint64_t checks = hub_->stats().checks;
  ASSERT_TRUE(w.WaitFor(1));
  EXPECT_EQ(hub_->stats().timed_out, 1u);
  EXPECT_EQ(Ops(*cs), "");
  // The stream's position is the hub's tail without reading the 50 entries again.
  auto token = ResumeToken::Parse(bson::Value(cs->resume_token()));
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->cluster_time, db_->engine().committed());
  EXPECT_EQ(token->kind, ResumeToken::kHighWaterMark);
  // Operation-type anchored: the inserts were not even candidates.
  EXPECT_EQ(checks, 0u);
}

TEST_F(HubTest, EqualityAnchorsMakeAnEventCostOnlyTheWatchersItMatches) {
  constexpr int kWatchers = 1000;
  std::vector<std::unique_ptr<ChangeStream>> streams;
  std::vector<Woken> woken(kWatchers);
  for (int i = 0; i < kWatchers; ++i) {
    WatchOptions o{"shop", "orders"};
    o.filter = J("{'fullDocument.customer': " + std::to_string(i) + "}");
    streams.push_back(Watch(o));
    ASSERT_TRUE(streams.back()->ArmWake(Clock::now() + 60s, woken[i].fn()));
  }
  EXPECT_EQ(hub_->stats().waiting, static_cast<uint64_t>(kWatchers));
  Insert("orders", "{_id: 1, customer: 7}");
  Insert("orders", "{_id: 2, customer: 7.0, tags: [1]}");  // numbers compare by value
  Insert("orders", "{_id: 3, customer: [500, 600]}");     // arrays match by element
  Settle();
  ASSERT_TRUE(woken[7].WaitFor(1));
  ASSERT_TRUE(woken[500].WaitFor(1));
  ASSERT_TRUE(woken[600].WaitFor(1));
  HubStats s = hub_->stats();
  EXPECT_EQ(s.woken, 3u);
  EXPECT_LE(s.checks, 4u);  // not 3000
  EXPECT_EQ(s.waiting, static_cast<uint64_t>(kWatchers - 3));
  int total = 0;
  for (Woken& w : woken) total += w.count.load();
  EXPECT_EQ(total, 3);
  EXPECT_EQ(Ops(*streams[7]), "insert insert ");
  // Dropping the collection ends every stream on it, anchored or not. Their $match drops
  // the invalidate event itself (it has no fullDocument), as on mongod; the stream ends.
  ASSERT_TRUE(db_->DropCollection("shop", "orders").ok());
  Settle();
  ASSERT_TRUE(woken[8].WaitFor(1));
  EXPECT_EQ(Ops(*streams[8]), "");
  EXPECT_TRUE(streams[8]->invalidated());
}

TEST_F(HubTest, CancelledWaitersAreNeverWoken) {
  auto cs = Watch({"shop", "orders"});
  Woken w;
  ASSERT_TRUE(cs->ArmWake(Clock::now() + 30s, w.fn()));
  cs->CancelWake();
  Insert("orders", "{_id: 1}");
  Settle();
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(w.count.load(), 0);
  EXPECT_EQ(hub_->stats().waiting, 0u);
  // A stream with something to read must not wait.
  EXPECT_FALSE(cs->ArmWake(Clock::now() + 30s, w.fn()));
  EXPECT_EQ(Ops(*cs), "insert ");
  // Destroying a stream withdraws its wait.
  ASSERT_TRUE(cs->ArmWake(Clock::now() + 30s, w.fn()));
  cs.reset();
  EXPECT_EQ(hub_->stats().waiting, 0u);
}

TEST_F(HubTest, LaggingStreamsReadTheEngineWhenTheRingHasMovedOn) {
  UseSmallRing(8);
  auto cs = Watch({"shop", "orders"});
  for (int i = 0; i < 40; ++i) Insert("orders", "{x: 1}");
  Settle();
  EXPECT_EQ(Drain(*cs), 40);
}

// Under MemoryOnlyReads a stream takes only what the ring has: entries committed but not
// tailed yet (the tailer is stopped here) wait for the hub instead of being read from the
// engine on a thread that must not wait for storage. Elsewhere the engine serves them. A
// stream the ring no longer reaches back to still reads the engine.
TEST_F(HubTest, MemoryOnlyReadsTakeOnlyTheRing) {
  auto cs = Watch({"shop", "orders"});
  Insert("orders", "{_id: 1}");
  Settle();
  hub_->Stop();
  Insert("orders", "{_id: 2}");
  {
    MemoryOnlyReads memory_only;
    EXPECT_TRUE(MemoryOnlyReads::active());
    EXPECT_EQ(Ops(*cs), "insert ");  // _id 1, from the ring; _id 2 is not there yet
  }
  EXPECT_FALSE(MemoryOnlyReads::active());
  EXPECT_EQ(Ops(*cs), "insert ");  // _id 2, from the engine

  UseSmallRing(4);
  auto lagging = Watch({"shop", "orders"});
  for (int i = 0; i < 12; ++i) Insert("orders", "{x: 1}");
  Settle();
  MemoryOnlyReads memory_only;
  EXPECT_EQ(Drain(*lagging), 12);
}

TEST_F(HubTest, ResumeAroundInvalidate) {
  auto cs = Watch({"shop", "orders"});
  Insert("orders", "{_id: 1}");
  ASSERT_TRUE(db_->DropCollection("shop", "orders").ok());
  std::vector<bson::Document> events;
  for (;;) {
    auto e = cs->TryNext();
    ASSERT_TRUE(e.ok());
    if (!e->has_value()) break;
    events.push_back(**e);
  }
  ASSERT_EQ(events.size(), 3u);  // insert, drop, invalidate
  const bson::Document drop_token = events[1].Get("_id")->as_document();
  const bson::Document inv_token = events[2].Get("_id")->as_document();
  Insert("orders", "{_id: 2}");  // the collection comes back

  WatchOptions o{"shop", "orders"};
  o.resume_after = inv_token;
  auto bad = ChangeStream::Open(&db_->engine(), o, hub_.get());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(static_cast<int>(bad.status().code()), 260);

  o.start_after = true;
  auto after_inv = Watch(o);
  EXPECT_EQ(Ops(*after_inv), "insert ");

  WatchOptions again{"shop", "orders"};
  again.resume_after = drop_token;
  auto redeliver = Watch(again);
  EXPECT_EQ(Ops(*redeliver), "invalidate ");
  EXPECT_TRUE(redeliver->invalidated());

  // A well-formed token naming no logged event.
  ResumeToken ghost;
  ghost.cluster_time = bson::Timestamp::FromUint64(db_->engine().committed().AsUint64() + 1000);
  ghost.kind = ResumeToken::kEvent;
  WatchOptions g{"shop", "orders"};
  g.resume_after = ghost.ToDocument();
  auto missing = ChangeStream::Open(&db_->engine(), g, hub_.get());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kChangeStreamFatalError);
}

}  // namespace
}  // namespace eddy::changestream
