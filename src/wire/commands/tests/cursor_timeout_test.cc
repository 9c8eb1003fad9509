// Idle cursor timeouts: cursorTimeoutMillis (setParameter/getParameter), the background reaper,
// noCursorTimeout, cursors inside a getMore, and 43 CursorNotFound for a reaped cursor.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "query/exec/database.h"
#include "wire/commands/cursors.h"
#include "wire/commands/service.h"

namespace eddy::wire {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<ServerCursor> ThreeDocs() {
  return std::make_shared<VectorCursor>(std::vector<bson::Document>{
      bson::Document{{"a", 1}}, bson::Document{{"a", 2}}, bson::Document{{"a", 3}}});
}

// Waits up to `limit` for cond().
template <typename F>
bool Eventually(F cond, std::chrono::milliseconds limit = 5000ms) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return cond();
}

TEST(CursorManagerTest, ReaperClosesIdleCursorsWithoutAnyRequest) {
  CursorManager m(60ms);
  int64_t id = m.Add("db.c", ThreeDocs());
  EXPECT_EQ(m.size(), 1u);
  EXPECT_TRUE(Eventually([&] { return m.size() == 0; }));
  EXPECT_EQ(m.timed_out(), 1);
  auto r = m.Checkout(id, "db.c");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kCursorNotFound);
}

// A cursor unused for ServerCursor::kIdleRelease is asked to drop what pins storage (a
// catching-up change stream's change-log iterator), long before its idle timeout; one inside
// a getMore is not.
TEST(CursorManagerTest, IdleCursorsReleaseWhatPinsStorage) {
  struct Counting : VectorCursor {
    Counting() : VectorCursor({bson::Document{{"a", 1}}}) {}
    void ReleaseIdleResources() override { releases++; }
    std::atomic<int> releases{0};
  };
  CursorManager m(10min);
  auto idle = std::make_shared<Counting>();
  auto busy = std::make_shared<Counting>();
  m.Add("db.c", idle);
  int64_t busy_id = m.Add("db.c", busy);
  ASSERT_TRUE(m.Checkout(busy_id, "db.c").ok());
  m.ReapIdle();
  EXPECT_EQ(idle->releases, 0);  // just used
  std::this_thread::sleep_for(ServerCursor::kIdleRelease + 100ms);
  m.ReapIdle();
  EXPECT_GE(idle->releases, 1);
  EXPECT_EQ(busy->releases, 0);
  EXPECT_EQ(m.size(), 2u);  // released, not closed
}

TEST(CursorManagerTest, CheckoutAfterTheTimeoutIsNotFoundEvenBeforeTheReaperRuns) {
  CursorManager m(10min);
  int64_t id = m.Add("db.c", ThreeDocs());
  m.set_idle_timeout(1ms);
  std::this_thread::sleep_for(20ms);
  auto r = m.Checkout(id, "db.c");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kCursorNotFound);
  EXPECT_NE(r.status().message().find(std::to_string(id)), std::string::npos);
}

TEST(CursorManagerTest, NoTimeoutCursorsAndBusyCursorsStay) {
  CursorManager m(30ms);
  int64_t keep = m.Add("db.c", ThreeDocs());
  int64_t busy = m.Add("db.c", ThreeDocs());
  int64_t idle = m.Add("db.c", ThreeDocs());
  EXPECT_TRUE(m.SetNoTimeout(keep));
  EXPECT_FALSE(m.SetNoTimeout(12345));
  ASSERT_TRUE(m.Checkout(busy, "db.c").ok());  // inside a (long) getMore
  EXPECT_TRUE(Eventually([&] { return m.size() == 2; }));
  std::this_thread::sleep_for(100ms);  // several reaper passes
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.no_timeout_count(), 1u);
  EXPECT_FALSE(m.Checkout(idle, "db.c").ok());
  // The busy cursor's idle clock starts when its getMore returns.
  m.Return(busy);
  EXPECT_TRUE(m.Checkout(keep, "db.c").ok());
  m.Return(keep);
  EXPECT_TRUE(Eventually([&] { return m.size() == 1; }));
  EXPECT_TRUE(m.Checkout(keep, "db.c").ok());
  EXPECT_EQ(m.timed_out(), 2);
}

TEST(CursorManagerTest, UsedCursorsStayAliveWhileUsedMoreOftenThanTheTimeout) {
  CursorManager m(150ms);
  int64_t id = m.Add("db.c", ThreeDocs());
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(40ms);
    ASSERT_TRUE(m.Checkout(id, "db.c").ok()) << i;
    m.Return(id);
  }
  EXPECT_EQ(m.timed_out(), 0);
}

// Through the command surface, as a driver sees it.
class CursorTimeoutServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("eddy-cursor-timeout-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    storage::EngineOptions eo;
    eo.path = dir_.string();
    eo.sync = storage::SyncMode::kOff;
    auto db = query::Database::Open(eo);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ServiceOptions so;
    so.worker_threads = 2;
    service_ = std::make_unique<CommandService>(db_.get(), so);
    bson::Array docs;
    for (int i = 0; i < 10; ++i) docs.push_back(bson::Document{{"_id", i}});
    ASSERT_EQ(Ok(Run("shop", bson::Document{{"insert", "c"}, {"documents", docs}})), 1.0);
  }
  void TearDown() override {
    service_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  bson::Document Run(const std::string& db, bson::Document cmd) {
    Request r;
    r.command = std::move(cmd);
    r.db = db;
    return service_->Run(ConnectionInfo{}, r).body;
  }
  static double Ok(const bson::Document& reply) { return reply.Get("ok")->ToDouble(); }
  static int64_t Code(const bson::Document& reply) {
    const bson::Value* c = reply.Get("code");
    return c ? c->ToInt64() : 0;
  }
  int64_t OpenCursor(bool no_timeout) {
    bson::Document find{{"find", "c"}, {"batchSize", 2}};
    if (no_timeout) find.Append("noCursorTimeout", true);
    bson::Document reply = Run("shop", find);
    return reply.Get("cursor")->as_document().Get("id")->ToInt64();
  }
  bson::Document GetMore(int64_t id) {
    return Run("shop", bson::Document{{"getMore", id}, {"collection", "c"}, {"batchSize", 2}});
  }

  std::filesystem::path dir_;
  std::unique_ptr<query::Database> db_;
  std::unique_ptr<CommandService> service_;
};

TEST_F(CursorTimeoutServiceTest, DefaultIsTenMinutes) {
  bson::Document r = Run("admin", bson::Document{{"getParameter", 1}, {"cursorTimeoutMillis", 1}});
  EXPECT_EQ(r.Get("cursorTimeoutMillis")->ToInt64(), 600000);
  r = Run("admin", bson::Document{{"getParameter", "*"}});
  EXPECT_EQ(r.Get("cursorTimeoutMillis")->ToInt64(), 600000);
}

TEST_F(CursorTimeoutServiceTest, ReapedCursorGivesCursorNotFound) {
  int64_t id = OpenCursor(false);
  int64_t keep = OpenCursor(true);
  ASSERT_NE(id, 0);
  ASSERT_NE(keep, 0);
  EXPECT_EQ(Ok(GetMore(id)), 1.0);  // alive before the timeout changes
  bson::Document r = Run("admin", bson::Document{{"setParameter", 1}, {"cursorTimeoutMillis", 50}});
  ASSERT_EQ(Ok(r), 1.0);
  EXPECT_EQ(r.Get("was")->ToInt64(), 600000);
  EXPECT_EQ(Run("admin", bson::Document{{"getParameter", 1}, {"cursorTimeoutMillis", 1}})
                .Get("cursorTimeoutMillis")->ToInt64(),
            50);
  // The reaper closes it without any getMore; serverStatus counts it.
  ASSERT_TRUE(Eventually([&] {
    bson::Document s = Run("admin", bson::Document{{"serverStatus", 1}});
    return s.Get("metrics")->as_document().Get("cursor")->as_document().Get("timedOut")->ToInt64() == 1;
  }));
  bson::Document gm = GetMore(id);
  EXPECT_EQ(Ok(gm), 0.0);
  EXPECT_EQ(Code(gm), 43);
  EXPECT_EQ(gm.Get("codeName")->as_string(), "CursorNotFound");
  // noCursorTimeout: still there, and it serves the rest of the results.
  std::this_thread::sleep_for(120ms);
  int64_t served = 2;
  for (;;) {
    bson::Document more = GetMore(keep);
    ASSERT_EQ(Ok(more), 1.0) << Code(more);
    const bson::Document& c = more.Get("cursor")->as_document();
    served += static_cast<int64_t>(c.Get("nextBatch")->as_array().size());
    if (c.Get("id")->ToInt64() == 0) break;
  }
  EXPECT_EQ(served, 10);
}

TEST_F(CursorTimeoutServiceTest, SetParameterErrors) {
  bson::Document r = Run("shop", bson::Document{{"setParameter", 1}, {"cursorTimeoutMillis", 5}});
  EXPECT_EQ(Code(r), 13);  // admin only
  r = Run("admin", bson::Document{{"setParameter", 1}, {"noSuchParameter", 5}});
  EXPECT_EQ(Code(r), 72);
  EXPECT_NE(r.Get("errmsg")->as_string().find("noSuchParameter"), std::string::npos);
  r = Run("admin", bson::Document{{"setParameter", 1}});
  EXPECT_EQ(Code(r), 72);
  r = Run("admin", bson::Document{{"setParameter", 1}, {"cursorTimeoutMillis", "soon"}});
  EXPECT_EQ(Code(r), 2);
  r = Run("admin", bson::Document{{"setParameter", 1}, {"cursorTimeoutMillis", -1}});
  EXPECT_EQ(Code(r), 2);
  // Nothing changed.
  EXPECT_EQ(Run("admin", bson::Document{{"getParameter", 1}, {"cursorTimeoutMillis", 1}})
                .Get("cursorTimeoutMillis")->ToInt64(),
            600000);
}

}  // namespace
}  // namespace eddy::wire
