#include "storage/engine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <thread>

#include "bson/codec.h"
#include "bson/json.h"
#include "storage/index_keys.h"
#include "storage/key_encoding.h"

namespace eddy::storage {
namespace {

bson::Document J(std::string_view s) {
  auto r = bson::ParseJson(s);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : bson::Document();
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("eddy_engine_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    Open();
  }
  void TearDown() override {
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    EngineOptions o;
    o.path = dir_.string();
    o.sync = SyncMode::kOff;
    auto e = Engine::Open(o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
  }
  void Reopen() {
    engine_.reset();
    Open();
  }
  Status Insert(std::string_view coll, std::string_view json) {
    bson::Document doc = J(json);
    return engine_->Write([&](Txn& txn) -> Status {
      EDDY_ASSIGN_OR_RETURN(CollectionPtr c, txn.GetOrCreateCollection("test", coll));
      return txn.Insert(*c, doc);
    });
  }
  // Renders the change log as "op coll dk" lines.
  std::string RenderChangeLog() {
    auto entries = engine_->ReadChangeLog(bson::Timestamp{}, 1000);
    EXPECT_TRUE(entries.ok());
    std::string out;
    for (const ChangeLogEntry& e : *entries) {
      bson::Document d = *e.Decode();
      out += d.Get("op")->as_string();
      if (const bson::Value* c = d.Get("coll")) out += " " + c->as_string();
      if (const bson::Value* dk = d.Get("dk")) out += " " + bson::ToJson(*dk, bson::JsonMode::kShell);
      if (const bson::Value* ud = d.Get("ud")) out += " " + bson::ToJson(*ud, bson::JsonMode::kShell);
      out += "\n";
    }
    return out;
  }
  std::vector<std::string> ScanIds(const CollectionInfo& c) {
    std::vector<std::string> ids;
    auto view = engine_->NewReadView();
    for (auto it = view->ScanCollection(c, false); it->Valid(); it->Next()) {
      ids.push_back(bson::ToJson(*it->Decode()->Get("_id"), bson::JsonMode::kShell));
    }
    return ids;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, InsertFindAndDuplicateId) {
  ASSERT_TRUE(Insert("c", "{_id: 1, a: 'x'}").ok());
  ASSERT_TRUE(Insert("c", "{_id: 2, a: 'y'}").ok());
  Status dup = Insert("c", "{_id: 1, a: 'z'}");
  EXPECT_EQ(dup.code(), ErrorCode::kDuplicateKey);
  EXPECT_NE(dup.message().find("index: _id_ dup key: { _id: 1 }"), std::string_view::npos)
      << dup.message();
  auto view = engine_->NewReadView();
  CollectionPtr c = view->catalog().Find("test", "c");
  ASSERT_TRUE(c);
  auto found = view->FindById(*c, bson::Value(int32_t{1}));
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(bson::ToJson(**found, bson::JsonMode::kShell), "{_id: 1, a: \"x\"}");
  // 1.0 and NumberLong(1) are the same _id as 1.
  EXPECT_TRUE(view->FindById(*c, bson::Value(1.0))->has_value());
  EXPECT_TRUE(view->FindById(*c, bson::Value(int64_t{1}))->has_value());
  EXPECT_FALSE(view->FindById(*c, bson::Value(int32_t{3}))->has_value());
  EXPECT_EQ(RenderChangeLog(), "create c\ninsert c {_id: 1}\ninsert c {_id: 2}\n");
}

TEST_F(EngineTest, ScanIsInIdOrderAcrossTypes) {
  for (const char* d : {"{_id: 'b'}", "{_id: 3}", "{_id: 2.5}", "{_id: -1}", "{_id: 'a'}",
                        "{_id: {x: 1}}", "{_id: null}", "{_id: NumberLong(10)}"}) {
    ASSERT_TRUE(Insert("c", d).ok()) << d;
  }
  auto c = engine_->catalog()->Find("test", "c");
  std::vector<std::string> expect = {"null", "-1", "2.5", "3", "NumberLong(10)", "\"a\"", "\"b\"",
                                     "{x: 1}"};
  EXPECT_EQ(ScanIds(*c), expect);
}

TEST_F(EngineTest, UniqueAndMultikeyIndexes) {
  ASSERT_TRUE(Insert("c", "{_id: 1, sku: 'a', tags: ['x', 'y']}").ok());
  ASSERT_TRUE(Insert("c", "{_id: 2, sku: 'b', tags: ['y', 'z']}").ok());
  IndexInfo sku;
  sku.name = "sku_1";
  sku.key = J("{sku: 1}");
  sku.fields = {{"sku", false}};
  sku.unique = true;
  IndexInfo tags;
  tags.name = "tags_1";
  tags.key = J("{tags: 1}");
  tags.fields = {{"tags", false}};
  ASSERT_TRUE(engine_->Write([&](Txn& txn) { return txn.CreateIndex("test", "c", sku).status(); }).ok());
  ASSERT_TRUE(engine_->Write([&](Txn& txn) { return txn.CreateIndex("test", "c", tags).status(); }).ok());
  Status dup = Insert("c", "{_id: 3, sku: 'a'}");
  EXPECT_EQ(dup.code(), ErrorCode::kDuplicateKey);
  EXPECT_NE(dup.message().find("index: sku_1 dup key: { sku: \"a\" }"), std::string_view::npos)
      << dup.message();

  auto view = engine_->NewReadView();
  auto c = view->catalog().Find("test", "c");
  const IndexInfo* ti = c->FindIndex("tags_1");
  ASSERT_TRUE(ti);
  IndexRange eq;
  eq.lower = KeyString(bson::Value("y"));
  eq.upper = eq.lower;
  std::vector<int> ids;
  for (auto it = view->ScanIndex(*c, *ti, eq); it->Valid(); it->Next()) {
    ids.push_back(it->Decode()->Get("_id")->as_int32());
  }
  EXPECT_EQ(ids, (std::vector<int>{1, 2}));
  // Range (x, z): only "y" entries.
  IndexRange range;
  range.lower = KeyString(bson::Value("x"));
  range.lower_inclusive = false;
  range.upper = KeyString(bson::Value("z"));
  range.upper_inclusive = false;
  ids.clear();
  for (auto it = view->ScanIndex(*c, *ti, range); it->Valid(); it->Next()) {
    ids.push_back(it->Decode()->Get("_id")->as_int32());
  }
  EXPECT_EQ(ids, (std::vector<int>{1, 2}));

  // A unique index cannot be built over duplicates, and nothing changes.
  ASSERT_TRUE(Insert("c", "{_id: 4, tags: 'y', n: 1}").ok());
  // A unique index holds one document without the field (it indexes as null).
  EXPECT_EQ(Insert("c", "{_id: 6, n: 2}").code(), ErrorCode::kDuplicateKey);
  ASSERT_TRUE(Insert("c", "{_id: 5, sku: 'e', n: 1}").ok());
  IndexInfo n;
  n.name = "n_1";
  n.key = J("{n: 1}");
  n.fields = {{"n", false}};
  n.unique = true;
  Status s = engine_->Write([&](Txn& txn) { return txn.CreateIndex("test", "c", n).status(); });
  EXPECT_EQ(s.code(), ErrorCode::kDuplicateKey);
  EXPECT_FALSE(engine_->catalog()->Find("test", "c")->FindIndex("n_1"));
}

TEST_F(EngineTest, ParallelArraysRejected) {
  IndexInfo ab;
  ab.name = "a_1_b_1";
  ab.key = J("{a: 1, b: 1}");
  ab.fields = {{"a", false}, {"b", false}};
  ASSERT_TRUE(engine_->Write([&](Txn& txn) { return txn.CreateIndex("test", "c", ab).status(); }).ok());
  EXPECT_TRUE(Insert("c", "{_id: 1, a: [1, 2], b: 1}").ok());
  Status s = Insert("c", "{_id: 2, a: [1, 2], b: [3]}");
  EXPECT_EQ(s.code(), ErrorCode::kCannotIndexParallelArrays);
  // The failed insert left nothing behind: no document, no event.
  auto c = engine_->catalog()->Find("test", "c");
  EXPECT_EQ(ScanIds(*c), std::vector<std::string>{"1"});
}

TEST_F(EngineTest, UpdateDeleteAndChangeLog) {
  ASSERT_TRUE(Insert("c", "{_id: 1, a: 1}").ok());
  auto c = engine_->catalog()->Find("test", "c");
  bson::Document before = J("{_id: 1, a: 1}");
  bson::Document after = J("{_id: 1, a: 2}");
  bson::Document ud = J("{updatedFields: {a: 2}, removedFields: [], truncatedArrays: []}");
  ASSERT_TRUE(engine_->Write([&](Txn& t) { return t.Update(*c, before, after, WriteOp::kUpdate, &ud); }).ok());
  ASSERT_TRUE(engine_->Write([&](Txn& t) { return t.Delete(*c, after); }).ok());
  EXPECT_EQ(RenderChangeLog(),
            "create c\ninsert c {_id: 1}\n"
            "update c {_id: 1} {updatedFields: {a: 2}, removedFields: [], truncatedArrays: []}\n"
            "delete c {_id: 1}\n");
  EXPECT_TRUE(ScanIds(*c).empty());
}

TEST_F(EngineTest, DropRenameAndRecovery) {
  ASSERT_TRUE(Insert("a", "{_id: 1}").ok());
  ASSERT_TRUE(Insert("b", "{_id: 2}").ok());
  ASSERT_TRUE(engine_->Write([](Txn& t) { return t.RenameCollection("test", "a", "test", "a2", false); }).ok());
  ASSERT_TRUE(engine_->Write([](Txn& t) { return t.DropCollection("test", "b"); }).ok());
  EXPECT_EQ(engine_->Write([](Txn& t) { return t.DropCollection("test", "b"); }).code(),
            ErrorCode::kNamespaceNotFound);
  bson::Timestamp before = engine_->committed();
  Reopen();
  EXPECT_EQ(engine_->committed(), before);
  auto cat = engine_->catalog();
  EXPECT_FALSE(cat->Find("test", "a"));
  EXPECT_FALSE(cat->Find("test", "b"));
  ASSERT_TRUE(cat->Find("test", "a2"));
  EXPECT_EQ(ScanIds(*cat->Find("test", "a2")), std::vector<std::string>{"1"});
  // Re-creating b starts empty.
  ASSERT_TRUE(Insert("b", "{_id: 3}").ok());
  EXPECT_EQ(ScanIds(*engine_->catalog()->Find("test", "b")), std::vector<std::string>{"3"});
  EXPECT_EQ(RenderChangeLog(),
            "create a\ninsert a {_id: 1}\ncreate b\ninsert b {_id: 2}\nrename a\ndrop b\n"
            "create b\ninsert b {_id: 3}\n");
  // Timestamps keep increasing across the restart.
  auto entries = *engine_->ReadChangeLog(bson::Timestamp{}, 100);
  for (size_t i = 1; i < entries.size(); ++i) EXPECT_LT(entries[i - 1].ts, entries[i].ts);
}

TEST_F(EngineTest, ConcurrentWritersGroupCommit) {
  constexpr int kThreads = 8, kPerThread = 200;
  ASSERT_TRUE(Insert("c", "{_id: 'seed'}").ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        bson::Document d;
        d.Append("_id", int32_t{t * 1000 + i});
        Status s = engine_->Write([&](Txn& txn) {
          return txn.Insert(*txn.catalog().Find("test", "c"), d);
        });
        ASSERT_TRUE(s.ok()) << s.ToString();
      }
    });
  }
  for (auto& th : threads) th.join();
  auto c = engine_->catalog()->Find("test", "c");
  EXPECT_EQ(ScanIds(*c).size(), size_t{kThreads * kPerThread + 1});
  auto entries = *engine_->ReadChangeLog(bson::Timestamp{}, 100000);
  EXPECT_EQ(entries.size(), size_t{kThreads * kPerThread + 2});
  EXPECT_LT(engine_->stats().groups, engine_->stats().requests);
}

TEST_F(EngineTest, WaitForCommitWakesAndTimesOut) {
  bson::Timestamp now = engine_->committed();
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(engine_->WaitForCommit(now, start + std::chrono::milliseconds(50)));
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_TRUE(Insert("c", "{_id: 1}").ok());
  });
  EXPECT_TRUE(engine_->WaitForCommit(now, std::chrono::steady_clock::now() + std::chrono::seconds(10)));
  writer.join();
}

TEST_F(EngineTest, RetentionBySizeGivesHistoryLost) {
  engine_.reset();
  EngineOptions o;
  o.path = dir_.string();
  o.sync = SyncMode::kOff;
  o.change_log_max_bytes = 1;  // keep (almost) nothing
  o.retention_interval = std::chrono::hours(1);
  engine_ = std::move(Engine::Open(o)).value();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Insert("c", "{_id: " + std::to_string(i) + "}").ok());
  ASSERT_TRUE(engine_->TrimChangeLog().ok());
  EXPECT_GT(engine_->history_start(), bson::Timestamp{});
  auto lost = engine_->ReadChangeLog(bson::Timestamp{}, 100);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), ErrorCode::kChangeStreamHistoryLost);
  // From the history start on, reading works and the newest entry is kept.
  auto ok = engine_->ReadChangeLog(engine_->history_start(), 100);
  ASSERT_TRUE(ok.ok());
  EXPECT_GE(ok->size(), 1u);
}

TEST(KeyEncodingTest, NumbersOrderExactlyAcrossTypes) {
  std::vector<bson::Value> ordered = {
      bson::Value(bson::MinKey{}), bson::Value(), bson::Value(std::nan("")),
      bson::Value(-1e300), bson::Value(int64_t{-9007199254740993}), bson::Value(-9007199254740992.0),
      bson::Value(int32_t{-1}), bson::Value(0.5), bson::Value(int32_t{1}),
      bson::Value(int64_t{9007199254740992}), bson::Value(int64_t{9007199254740993}),
      bson::Value(9007199254740994.0), bson::Value(int64_t{INT64_MAX}), bson::Value(1e300),
      bson::Value(""), bson::Value(std::string("a\0", 2)), bson::Value("ab"),
      bson::Value(bson::Document{}), bson::Value(bson::Array{}), bson::Value(false),
      bson::Value(bson::MaxKey{})};
  for (size_t i = 1; i < ordered.size(); ++i) {
    EXPECT_LT(KeyString(ordered[i - 1]), KeyString(ordered[i])) << i;
    std::string a, b;
    AppendKeyString(ordered[i - 1], true, &a);
    AppendKeyString(ordered[i], true, &b);
    EXPECT_GT(a, b) << i;
  }
  EXPECT_EQ(KeyString(bson::Value(int32_t{1})), KeyString(bson::Value(1.0)));
  EXPECT_EQ(KeyString(bson::Value(-0.0)), KeyString(bson::Value(int32_t{0})));
}

TEST(IndexKeysTest, MultikeyAndMissing) {
  IndexInfo idx;
  idx.key = *bson::ParseJson("{'a.b': 1}");
  idx.fields = {{"a.b", false}};
  auto keys = *ExtractIndexKeys(idx, *bson::ParseJson("{a: [{b: 1}, {b: [2, 3]}, {c: 1}]}"));
  EXPECT_EQ(keys.size(), 3u);
  auto missing = *ExtractIndexKeys(idx, *bson::ParseJson("{x: 1}"));
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0], KeyString(bson::Value()));
  idx.sparse = true;
  EXPECT_TRUE(ExtractIndexKeys(idx, *bson::ParseJson("{x: 1}"))->empty());
  auto empty = *ExtractIndexKeys(idx, *bson::ParseJson("{a: {b: []}}"));
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(empty[0], KeyString(bson::Value(bson::Undefined{})));
}

}  // namespace
}  // namespace eddy::storage
