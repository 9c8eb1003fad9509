#include "storage/engine.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
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
  // Reopens the engine with `o` (its path set to this test's directory).
  void ReopenWith(EngineOptions o) {
    engine_.reset();
    o.path = dir_.string();
    auto e = Engine::Open(o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
  }
  // Inserts {_id: id} into test.c (which must exist), acknowledged before its fsync.
  Status InsertUnjournaled(int id) {
    return engine_->Write(
        [id](Txn& txn) { return txn.Insert(*txn.catalog().Find("test", "c"), J("{_id: " + std::to_string(id) + "}")); },
        WriteOptions{.wait_durable = false});
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

  // The bytes of the data directory's files ending in `ext` (RocksDB may delete files while
  // this looks: those count as gone).
  uint64_t FilesBytes(std::string_view ext) {
    uint64_t n = 0;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().extension() != ext) continue;
      std::error_code size_ec;
      uint64_t size = std::filesystem::file_size(it->path(), size_ec);
      if (!size_ec) n += size;
    }
    return n;
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

// Counts kept with the writes equal a scan after inserts, updates, deletes, failed writes,
// savepoint rollbacks, renames, drops and restarts; a data directory without them (from
// before they were kept) gets them on open.
TEST_F(EngineTest, CollectionCountsFollowEveryWrite) {
  auto counts = [&](std::string_view coll) {
    CollectionPtr c = engine_->catalog()->Find("test", coll);
    if (!c) return std::string("missing");
    auto n = engine_->NewReadView()->Counts(*c);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    // Against a scan of the same documents.
    int64_t docs = 0, bytes = 0, keys = 0;
    auto view = engine_->NewReadView();
    for (auto it = view->ScanCollection(*c, false); it->Valid(); it->Next()) {
      docs++;
      bytes += static_cast<int64_t>(it->raw().size());
      keys += 4 + static_cast<int64_t>(it->id_key().size());
    }
    EXPECT_EQ(n->documents, docs) << coll;
    EXPECT_EQ(n->data_bytes, bytes) << coll;
    EXPECT_EQ(n->key_bytes, keys) << coll;
    return std::to_string(n->documents) + "/" + std::to_string(n->data_bytes);
  };
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Insert("c", "{_id: " + std::to_string(i) + ", s: 'x'}").ok());
  EXPECT_EQ(counts("c"), "10/230");  // {_id: int32, s: 'x'}: 23 bytes
  EXPECT_EQ(Insert("c", "{_id: 3}").code(), ErrorCode::kDuplicateKey);
  EXPECT_EQ(counts("c"), "10/230");
  CollectionPtr c = engine_->catalog()->Find("test", "c");
  // An update that grows a document, a delete, and a request that fails half-way (its
  // completed writes stay, as every document write is atomic on its own).
  ASSERT_TRUE(engine_->Write([&](Txn& t) {
                EDDY_RETURN_IF_ERROR(t.Update(*c, J("{_id: 1, s: 'x'}"), J("{_id: 1, s: 'xyz'}"),
                                              WriteOp::kReplace, nullptr));
                return t.Delete(*c, J("{_id: 2, s: 'x'}"));
              }).ok());
  EXPECT_EQ(counts("c"), "9/209");
  EXPECT_EQ(engine_->Write([&](Txn& t) {
              EDDY_RETURN_IF_ERROR(t.Insert(*c, J("{_id: 100}")));
              return t.Insert(*c, J("{_id: 4}"));  // duplicate
            }).code(),
            ErrorCode::kDuplicateKey);
  EXPECT_EQ(counts("c"), "10/223");
  // A rolled-back savepoint takes its writes' counts with it.
  ASSERT_TRUE(engine_->Write([&](Txn& t) {
                EDDY_RETURN_IF_ERROR(t.Insert(*c, J("{_id: 101}")));
                t.SetSavePoint();
                EDDY_RETURN_IF_ERROR(t.Insert(*c, J("{_id: 102}")));
                EDDY_RETURN_IF_ERROR(t.Delete(*c, J("{_id: 5, s: 'x'}")));
                t.RollbackToSavePoint();
                return t.Insert(*c, J("{_id: 103}"));
              }).ok());
  EXPECT_EQ(counts("c"), "12/251");
  // Writes to two collections in one group; a collection written then dropped in one group.
  ASSERT_TRUE(engine_->Write([&](Txn& t) {
                EDDY_ASSIGN_OR_RETURN(CollectionPtr d, t.GetOrCreateCollection("test", "d"));
                EDDY_RETURN_IF_ERROR(t.Insert(*d, J("{_id: 1}")));
                EDDY_RETURN_IF_ERROR(t.Insert(*c, J("{_id: 104}")));
                EDDY_ASSIGN_OR_RETURN(CollectionPtr e, t.GetOrCreateCollection("test", "e"));
                EDDY_RETURN_IF_ERROR(t.Insert(*e, J("{_id: 1}")));
                return t.DropCollection("test", "e");
              }).ok());
  EXPECT_EQ(counts("c"), "13/265");
  EXPECT_EQ(counts("d"), "1/14");
  EXPECT_EQ(counts("e"), "missing");
  ASSERT_TRUE(engine_->Write([](Txn& t) { return t.RenameCollection("test", "c", "test", "c2", false); }).ok());
  EXPECT_EQ(counts("c2"), "13/265");
  Reopen();
  EXPECT_EQ(counts("c2"), "13/265");
  EXPECT_EQ(counts("d"), "1/14");
  ASSERT_TRUE(engine_->Write([](Txn& t) { return t.DropCollection("test", "d"); }).ok());
  ASSERT_TRUE(Insert("d", "{_id: 7}").ok());  // re-created: starts from nothing
  EXPECT_EQ(counts("d"), "1/14");
  // A directory from before counts were kept: they are computed when it is opened.
  {
    engine_.reset();
    rocksdb::DB* db = nullptr;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* n : {"default", "catalog", "docs", "index", "changelog"}) {
      cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir_.string(), cfs, &handles, &db).ok());
    rocksdb::WriteBatch wb;
    wb.DeleteRange(handles[0], "meta:counts", "meta:countt");
    ASSERT_TRUE(db->Write(rocksdb::WriteOptions(), &wb).ok());
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
    Open();
  }
  EXPECT_EQ(counts("c2"), "13/265");
  EXPECT_EQ(counts("d"), "1/14");
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

// Commit listeners are handed every committed entry once, in order, with contiguous
// (before, after] ranges: the hub tails from them instead of reading the log back.
TEST_F(EngineTest, CommitListenersAreHandedEveryEntryInOrder) {
  std::mutex mu;
  std::vector<ChangeLogEntry> handed;
  bson::Timestamp through = engine_->committed();
  bool contiguous = true;
  uint64_t id = engine_->AddCommitListener([&](const Engine::Committed& c) {
    std::lock_guard lock(mu);
    if (!(c.before == through)) contiguous = false;
    through = c.after;
    for (const auto& v : c.entries) handed.insert(handed.end(), v->begin(), v->end());
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 50; ++i) {
        ASSERT_TRUE(Insert("c", "{_id: " + std::to_string(w * 1000 + i) + "}").ok());
      }
    });
  }
  for (std::thread& t : writers) t.join();
  // A failed write (duplicate _id) logs nothing.
  EXPECT_EQ(Insert("c", "{_id: 0}").code(), ErrorCode::kDuplicateKey);
  ASSERT_TRUE(Insert("c", "{_id: 'last'}").ok());
  engine_->RemoveCommitListener(id);
  auto stored = engine_->ReadChangeLog(bson::Timestamp{}, 1000);
  ASSERT_TRUE(stored.ok());
  std::lock_guard lock(mu);
  EXPECT_TRUE(contiguous);
  EXPECT_TRUE(through == engine_->committed());
  ASSERT_EQ(handed.size(), stored->size());  // create + 200 inserts + 1
  for (size_t i = 0; i < handed.size(); ++i) {
    EXPECT_TRUE(handed[i].ts == (*stored)[i].ts) << i;
    EXPECT_EQ(handed[i].raw, (*stored)[i].raw) << i;
  }
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

// A reader that scans on from where it stopped sees exactly what one-shot scans see: every
// entry once, in order, including entries committed between its scans (its iterator's view
// ends at the watermark it was made at), and a stop requested by the visitor keeps the
// visited entry read. History lost is still reported to it.
TEST_F(EngineTest, ChangeLogReaderScansOnAcrossBatchesAndNewCommits) {
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(Insert("c", "{_id: " + std::to_string(i) + "}").ok());
  auto all = engine_->ReadChangeLog(bson::Timestamp{}, 1000);
  ASSERT_TRUE(all.ok());
  std::vector<uint64_t> want;
  for (const ChangeLogEntry& e : *all) want.push_back(e.ts.AsUint64());

  ChangeLogReader reader;
  std::vector<uint64_t> got;
  bson::Timestamp at{};
  int scans = 0;
  auto scan = [&](size_t max, size_t stop_after) {
    size_t seen = 0;
    auto n = engine_->ScanChangeLog(
        at, max,
        [&](bson::Timestamp ts, std::string_view raw) {
          EXPECT_FALSE(raw.empty());
          got.push_back(ts.AsUint64());
          at = ts;
          return ++seen < stop_after;
        },
        &reader);
    ++scans;
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : 0;
  };
  EXPECT_EQ(scan(7, 100), 7u);
  EXPECT_EQ(scan(7, 3), 3u);  // the visitor stops at the 3rd: it counts as read
  // New commits while the reader stands in the middle of its view.
  for (int i = 50; i < 60; ++i) ASSERT_TRUE(Insert("c", "{_id: " + std::to_string(i) + "}").ok());
  auto more = engine_->ReadChangeLog(bson::Timestamp::FromUint64(want.back()), 1000);
  ASSERT_TRUE(more.ok());
  for (const ChangeLogEntry& e : *more) want.push_back(e.ts.AsUint64());
  while (scan(9, 100) > 0) {
  }
  EXPECT_EQ(got, want);
  EXPECT_GT(scans, 8);
  // Caught up: nothing more, and it pins nothing (Release is then harmless too).
  EXPECT_EQ(scan(10, 100), 0u);
  reader.Release();

  // A reader behind the retained history gets 286 like everyone else.
  ReopenWith(EngineOptions{.sync = SyncMode::kOff,
                           .change_log_max_bytes = 1,
                           .retention_interval = std::chrono::hours(1)});
  ChangeLogReader behind;
  auto first = engine_->ScanChangeLog(
      bson::Timestamp{}, 1, [](bson::Timestamp, std::string_view) { return true; }, &behind);
  ASSERT_TRUE(first.ok());
  for (int i = 100; i < 110; ++i) ASSERT_TRUE(Insert("c", "{_id: " + std::to_string(i) + "}").ok());
  ASSERT_TRUE(engine_->TrimChangeLog().ok());
  auto lost = engine_->ScanChangeLog(
      bson::Timestamp{}, 10, [](bson::Timestamp, std::string_view) { return true; }, &behind);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), ErrorCode::kChangeStreamHistoryLost);
}

// Retention frees the disk: whole change-log files below the cutoff are dropped at once, so
// the log's on-disk size (and the size retention measures) falls under the limit instead of
// staying until compaction happens to rewrite old files.
TEST_F(EngineTest, RetentionBySizeDropsOldLogFiles) {
  engine_.reset();
  EngineOptions o;
  o.path = dir_.string();
  o.sync = SyncMode::kOff;
  o.change_log_file_bytes = 64 << 10;  // many small time slices
  o.change_log_max_bytes = 1 << 20;
  o.retention_interval = std::chrono::hours(1);
  engine_ = std::move(Engine::Open(o)).value();
  auto sst_bytes = [&] { return FilesBytes(".sst"); };
  // Random letters: the log's blocks must not compress away.
  uint64_t seed = 42;
  auto pad = [&] {
    std::string p(2000, 'a');
    for (char& c : p) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      c = static_cast<char>('a' + (seed >> 33) % 26);
    }
    return p;
  };
  for (int round = 0; round < 8; ++round) {
    for (int i = 0; i < 400; ++i) {
      ASSERT_TRUE(Insert("c", "{_id: " + std::to_string(round * 1000 + i) + ", pad: '" + pad() + "'}").ok());
    }
    ASSERT_TRUE(engine_->Flush().ok());
    ASSERT_TRUE(engine_->CompactChangeLog().ok());  // out of L0, into time-sliced files
  }
  const uint64_t before = sst_bytes();
  ASSERT_GT(before, uint64_t{4} << 20);  // docs ~6.4 MB plus the log's copy (compressed)
  // The documents stay; most of the log's files go (a file a background compaction is
  // reading is skipped and dropped by a later pass, and RocksDB deletes files shortly after).
  uint64_t after = before;
  for (int pass = 0; pass < 100 && after >= before - (uint64_t{1} << 20); ++pass) {
    ASSERT_TRUE(engine_->TrimChangeLog().ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    after = sst_bytes();
  }
  EXPECT_LT(after, before - (uint64_t{1} << 20)) << before << " -> " << after;
  // What is left still reads from the history start, and older is history lost.
  EXPECT_GT(engine_->history_start(), bson::Timestamp{});
  auto ok = engine_->ReadChangeLog(engine_->history_start(), 100000);
  ASSERT_TRUE(ok.ok());
  EXPECT_GE(ok->size(), 1u);
  EXPECT_EQ(engine_->ReadChangeLog(bson::Timestamp{}, 1).status().code(),
            ErrorCode::kChangeStreamHistoryLost);
}

// The WAL file is preallocated with its size (an append overwrites allocated space; see
// WalSizedPreallocation), so after a crash it ends in zeros. A copy of the live directory
// (what a crash leaves) recovers every durable write; a clean close trims the file.
TEST_F(EngineTest, PreallocatedWalTailIsSkippedOnRecovery) {
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(Insert("c", "{_id: " + std::to_string(i) + "}").ok());
  const uint64_t live_wal = FilesBytes(".log");
  EXPECT_GE(live_wal, uint64_t{1} << 20) << "the WAL is preallocated with its size";
  const std::filesystem::path crashed = dir_.string() + "-crashed";
  std::filesystem::remove_all(crashed);
  std::filesystem::copy(dir_, crashed, std::filesystem::copy_options::recursive);
  engine_.reset();
  EXPECT_LT(FilesBytes(".log"), live_wal) << "a clean close trims the preallocation";

  EngineOptions o;
  o.path = crashed.string();
  auto reopened = Engine::Open(o);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  engine_ = std::move(reopened).value();
  auto c = engine_->catalog()->Find("test", "c");
  ASSERT_TRUE(c);
  EXPECT_EQ(ScanIds(*c).size(), 100u);
  engine_.reset();
  std::filesystem::remove_all(crashed);
}

// The WAL stays bounded even though the catalog and metadata column families are written
// rarely (each would otherwise pin every WAL file written since its last flush).
TEST_F(EngineTest, WriteAheadLogStaysBounded) {
  engine_.reset();
  EngineOptions o;
  o.path = dir_.string();
  o.sync = SyncMode::kOff;
  o.max_wal_bytes = 1 << 20;
  engine_ = std::move(Engine::Open(o)).value();
  auto wal_bytes = [&] { return FilesBytes(".log"); };
  const std::string pad(1000, 'w');
  uint64_t most = 0;
  for (int i = 0; i < 16000; ++i) {  // ~16 MB of documents, twice that with the change log
    ASSERT_TRUE(Insert("c", "{_id: " + std::to_string(i) + ", pad: '" + pad + "'}").ok());
    if (i % 500 == 0) most = std::max(most, wal_bytes());
  }
  most = std::max(most, wal_bytes());
  // Unbounded, the WAL keeps everything written (~36 MB here) for as long as the rarely
  // written column families go unflushed. Bounded, writes past the limit flush them, so the
  // WAL comes back near the limit while writes go on. The peak is not the property: flushes
  // run in the background and lag a fast writer, more so on a loaded machine (27 MB was seen
  // under CI's parallel tests).
  uint64_t settled = wal_bytes();
  for (int i = 0; i < 400 && settled >= (uint64_t{4} << 20); ++i) {
    ASSERT_TRUE(Insert("d", "{_id: " + std::to_string(i) + "}").ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    settled = wal_bytes();
  }
  EXPECT_LT(settled, uint64_t{4} << 20) << "peak " << most;
}

// unjournaled_sync_delay: the fsync of writes already acknowledged (j:false) waits for more
// of them, and their events appear only with it; a durable write ends the wait at once and
// one fsync covers everything.
TEST_F(EngineTest, UnjournaledWritesShareOneDelayedSyncADurableWriteEndsTheWait) {
  ReopenWith(EngineOptions{.sync = SyncMode::kOn, .unjournaled_sync_delay = std::chrono::seconds(30)});
  ASSERT_TRUE(Insert("c", "{_id: 0}").ok());  // durable: creates the collection
  const uint64_t syncs = engine_->stats().syncs;
  const bson::Timestamp before = engine_->committed();
  for (int i = 1; i <= 20; ++i) {
    Status s = InsertUnjournaled(i);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  EXPECT_EQ(engine_->stats().syncs, syncs);
  EXPECT_EQ(engine_->committed(), before);  // their events wait for the fsync

  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(Insert("c", "{_id: 21}").ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(engine_->stats().syncs, syncs + 1);
  EXPECT_EQ(engine_->ReadChangeLog(before, 100)->size(), 21u);
}

// While someone waits for the watermark (a parked change stream, or WaitForCommit),
// unjournaled writes are synced at once: their events do not wait out the delay. A waiter
// arriving while the syncer already delays ends that wait too.
TEST_F(EngineTest, AWatermarkWaiterEndsTheUnjournaledSyncDelay) {
  ReopenWith(EngineOptions{.sync = SyncMode::kOn, .unjournaled_sync_delay = std::chrono::seconds(30)});
  ASSERT_TRUE(Insert("c", "{_id: 0}").ok());
  // A waiter arrives while the syncer delays.
  bson::Timestamp before = engine_->committed();
  ASSERT_TRUE(InsertUnjournaled(1).ok());
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(engine_->WaitForCommit(before, start + std::chrono::seconds(20)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(engine_->ReadChangeLog(before, 100)->size(), 1u);

  // A waiter already there (a parked stream): the write is not delayed at all.
  before = engine_->committed();
  engine_->AddWatermarkWaiter();
  ASSERT_TRUE(InsertUnjournaled(2).ok());
  start = std::chrono::steady_clock::now();
  EXPECT_TRUE(engine_->WaitForCommit(before, start + std::chrono::seconds(20)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  engine_->RemoveWatermarkWaiter();

  // Nobody waits: the delay holds again.
  before = engine_->committed();
  ASSERT_TRUE(InsertUnjournaled(3).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(engine_->committed(), before);
}

// A request with many document writes is handed to the committer in pieces (each a whole
// operation); a savepoint is never split, so rolling it back still undoes everything.
TEST_F(EngineTest, LargeRequestsAreCommittedInPiecesButSavepointsStayWhole) {
  ASSERT_TRUE(Insert("c", "{_id: 'seed'}").ok());
  const uint64_t groups_before = engine_->stats().groups;
  Status s = engine_->Write([&](Txn& txn) -> Status {
    CollectionPtr c = txn.catalog().Find("test", "c");
    for (int i = 0; i < 3000; ++i) {
      bson::Document d;
      d.Append("_id", int32_t{i});
      EDDY_RETURN_IF_ERROR(txn.Insert(*c, d));
      // Earlier pieces stay readable inside the request.
      if (i % 500 == 499) {
        auto got = txn.FindById(*c, bson::Value(int32_t{0}));
        if (!got.ok() || !got->has_value()) return Status(ErrorCode::kInternalError, "lost");
      }
    }
    // The duplicate check sees documents of pieces already handed off.
    Status dup = txn.Insert(*c, J("{_id: 1}"));
    return dup.code() == ErrorCode::kDuplicateKey ? Status::OK() : dup;
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_GT(engine_->stats().groups, groups_before + 1);
  auto c = engine_->catalog()->Find("test", "c");
  EXPECT_EQ(ScanIds(*c).size(), 3001u);
  auto entries = *engine_->ReadChangeLog(bson::Timestamp{}, 100000);
  EXPECT_EQ(entries.size(), 3002u);
  for (size_t i = 1; i < entries.size(); ++i) ASSERT_LT(entries[i - 1].ts, entries[i].ts);

  s = engine_->Write([&](Txn& txn) -> Status {
    CollectionPtr c = txn.catalog().Find("test", "c");
    txn.SetSavePoint();
    for (int i = 10000; i < 13000; ++i) {
      bson::Document d;
      d.Append("_id", int32_t{i});
      EDDY_RETURN_IF_ERROR(txn.Insert(*c, d));
    }
    txn.RollbackToSavePoint();
    return Status::OK();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(ScanIds(*c).size(), 3001u);
  EXPECT_EQ(engine_->ReadChangeLog(bson::Timestamp{}, 100000)->size(), 3002u);
  Reopen();
  EXPECT_EQ(ScanIds(*engine_->catalog()->Find("test", "c")).size(), 3001u);
}

// Holds the syncer before its WAL sync while closed (EngineOptions::test_before_sync).
class SyncGate {
 public:
  void Close() {
    std::lock_guard lock(mu_);
    open_ = false;
  }
  void Open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void Pass() {
    std::unique_lock lock(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    --waiting_;
  }
  // True once the syncer is held at the gate.
  bool WaitHeld() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return waiting_ > 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  int waiting_ = 0;
};

class PipelineTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    engine_.reset();
    EngineOptions o;
    o.path = dir_.string();
    o.sync = SyncMode::kOn;
    o.test_before_sync = [this] { gate_.Pass(); };
    auto e = Engine::Open(o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
    ASSERT_TRUE(Insert("c", "{_id: 0}").ok());
  }
  void TearDown() override {
    gate_.Open();
    EngineTest::TearDown();
  }
  bool Visible(std::string_view coll, int id) {
    auto view = engine_->NewReadView();
    CollectionPtr c = view->catalog().Find("test", coll);
    if (!c) return false;
    auto doc = view->FindById(*c, bson::Value(int32_t{id}));
    EXPECT_TRUE(doc.ok());
    return doc.ok() && doc->has_value();
  }
  size_t ChangeLogSize() { return engine_->ReadChangeLog(bson::Timestamp{}, 100000)->size(); }
  // Submits an insert of {_id: id} into test.c; its outcome arrives through the future.
  std::future<Status> SubmitInsert(int id, WriteOptions write = {}) {
    auto done = std::make_shared<std::promise<Status>>();
    std::future<Status> f = done->get_future();
    engine_->SubmitWrite(
        [id](Txn& txn) {
          return txn.Insert(*txn.catalog().Find("test", "c"), J("{_id: " + std::to_string(id) + "}"));
        },
        [done](Status s) { done->set_value(std::move(s)); }, write);
    return f;
  }

  SyncGate gate_;
};

// While group N waits for its fsync, the sequencer applies group N+1 on top of it (N+1 sees
// N's writes), but no reader sees either before it is durable.
TEST_F(PipelineTest, ReadersSeeOnlyDurableGroupsWhileTheNextIsApplied) {
  const bson::Timestamp before = engine_->committed();
  const size_t log_before = ChangeLogSize();
  gate_.Close();
  std::promise<Status> w1;
  engine_->SubmitWrite(
      [](Txn& txn) -> Status {
        EDDY_ASSIGN_OR_RETURN(CollectionPtr d, txn.CreateCollection("test", "d", {}));
        EDDY_RETURN_IF_ERROR(txn.Insert(*d, J("{_id: 1}")));
        return txn.Insert(*txn.catalog().Find("test", "c"), J("{_id: 1}"));
      },
      [&](Status s) { w1.set_value(s); });
  ASSERT_TRUE(gate_.WaitHeld());  // group 1 is in RocksDB, not yet synced

  std::promise<void> applied;
  std::promise<Status> w2;
  bool saw_pending = false;
  Status dup;
  engine_->SubmitWrite(
      [&](Txn& txn) -> Status {
        CollectionPtr d = txn.catalog().Find("test", "d");
        if (!d) return Status(ErrorCode::kInternalError, "pending collection not seen");
        auto doc = txn.FindById(*d, bson::Value(int32_t{1}));
        saw_pending = doc.ok() && doc->has_value();
        dup = txn.Insert(*d, J("{_id: 1}"));
        Status s = txn.Insert(*d, J("{_id: 2}"));
        applied.set_value();
        return s;
      },
      [&](Status s) { w2.set_value(s); });
  applied.get_future().wait();

  EXPECT_TRUE(saw_pending);
  EXPECT_EQ(dup.code(), ErrorCode::kDuplicateKey);
  auto f1 = w1.get_future();
  auto f2 = w2.get_future();
  EXPECT_EQ(f1.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  EXPECT_EQ(f2.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  EXPECT_FALSE(engine_->catalog()->Find("test", "d"));
  EXPECT_FALSE(engine_->NewReadView()->catalog().Find("test", "d"));
  EXPECT_FALSE(Visible("c", 1));
  EXPECT_EQ(engine_->committed(), before);
  EXPECT_EQ(ChangeLogSize(), log_before);

  gate_.Open();
  EXPECT_TRUE(f1.get().ok());
  EXPECT_TRUE(f2.get().ok());
  EXPECT_TRUE(Visible("c", 1));
  EXPECT_TRUE(Visible("d", 1));
  EXPECT_TRUE(Visible("d", 2));
  EXPECT_GT(engine_->committed(), before);
  // create d, insert d 1, insert c 1, insert d 2
  EXPECT_EQ(ChangeLogSize(), log_before + 4);
  EXPECT_GE(engine_->stats().syncs, 2u);
}

// j:false: acknowledged once applied and visible, before the fsync; its change-log entry
// appears only once durable.
TEST_F(PipelineTest, NonDurableWriteIsVisibleBeforeItsSync) {
  const size_t log_before = ChangeLogSize();
  gate_.Close();
  bson::Timestamp ts;
  Status s = engine_->Write(
      [&](Txn& txn) -> Status {
        Status st = txn.Insert(*txn.catalog().Find("test", "c"), J("{_id: 7}"));
        ts = txn.last_timestamp();
        return st;
      },
      WriteOptions{.wait_durable = false});
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(gate_.WaitHeld());  // its fsync has not happened
  EXPECT_TRUE(Visible("c", 7));
  EXPECT_LT(engine_->committed(), ts);
  EXPECT_EQ(ChangeLogSize(), log_before);

  gate_.Open();
  EXPECT_TRUE(engine_->WaitForCommit(bson::Timestamp::FromUint64(ts.AsUint64() - 1),
                                     std::chrono::steady_clock::now() + std::chrono::seconds(10)));
  EXPECT_EQ(engine_->committed(), ts);
  EXPECT_EQ(ChangeLogSize(), log_before + 1);
}

// only_if_idle: an idle pipeline runs the request on the caller's thread and acknowledges
// it without waiting for any other thread (here the syncer is held at its fsync); a busy
// pipeline, or a request that must wait for its fsync, is refused with LockBusy unrun.
TEST_F(PipelineTest, OnlyIfIdleRunsOnTheCallerOrRefuses) {
  const WriteOptions now{.wait_durable = false, .only_if_idle = true};
  gate_.Close();
  std::thread::id ran_on;
  Status s = engine_->Write(
      [&](Txn& txn) {
        ran_on = std::this_thread::get_id();
        return txn.Insert(*txn.catalog().Find("test", "c"), J("{_id: 1}"));
      },
      now);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  EXPECT_TRUE(Visible("c", 1));
  ASSERT_TRUE(gate_.WaitHeld());  // acknowledged while its fsync has not happened

  // The syncer is still held: the next one runs all the same.
  s = engine_->Write([](Txn& txn) { return txn.Insert(*txn.catalog().Find("test", "c"), J("{_id: 2}")); },
                     now);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(Visible("c", 2));

  bool ran = false;
  s = engine_->Write([&](Txn&) { ran = true; return Status::OK(); },
                     WriteOptions{.wait_durable = true, .only_if_idle = true});
  EXPECT_EQ(s.code(), ErrorCode::kLockBusy);
  EXPECT_FALSE(ran);

  // A request being applied makes the pipeline busy.
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<Status> slow;
  engine_->SubmitWrite(
      [&](Txn& txn) {
        entered.set_value();
        released.wait();
        return txn.Insert(*txn.catalog().Find("test", "c"), J("{_id: 3}"));
      },
      [&](Status st) { slow.set_value(st); }, WriteOptions{.wait_durable = false});
  entered.get_future().wait();
  s = engine_->Write([&](Txn&) { ran = true; return Status::OK(); }, now);
  EXPECT_EQ(s.code(), ErrorCode::kLockBusy);
  EXPECT_FALSE(ran);
  release.set_value();
  EXPECT_TRUE(slow.get_future().get().ok());
  gate_.Open();
  EXPECT_TRUE(Visible("c", 3));
}

// A durable write is not acknowledged before its fsync, even when a later j:false write in
// the same pass is.
TEST_F(PipelineTest, DurableWriteWaitsForItsSync) {
  gate_.Close();
  std::future<Status> f = SubmitInsert(1);
  ASSERT_TRUE(gate_.WaitHeld());
  EXPECT_EQ(f.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  EXPECT_FALSE(Visible("c", 1));
  gate_.Open();
  EXPECT_TRUE(f.get().ok());
  EXPECT_TRUE(Visible("c", 1));
}

// The pipeline's threads are a pool: the one that carried a durable write into its fsync
// (held here) holds only the sync role, and the other workers sequence and commit what
// comes meanwhile. A j:false write submitted then is acknowledged before that fsync ends
// (a thread per stage did the same; one thread carrying every stage would not).
TEST_F(PipelineTest, WritesGoOnWhileAnotherWriteIsAtItsFsync) {
  gate_.Close();
  std::future<Status> d = SubmitInsert(1);
  ASSERT_TRUE(gate_.WaitHeld());
  for (int i = 2; i <= 4; ++i) {
    std::future<Status> f = SubmitInsert(i, WriteOptions{.wait_durable = false});
    ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready) << "write " << i;
    EXPECT_TRUE(f.get().ok());
    EXPECT_TRUE(Visible("c", i));
  }
  EXPECT_EQ(d.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  gate_.Open();
  EXPECT_TRUE(d.get().ok());
  EXPECT_TRUE(Visible("c", 1));
}

// Durable and j:false writers at once: every write present, the change log one entry per
// write with strictly increasing cluster times, also after reopening.
TEST_F(PipelineTest, MixedDurabilityWritersKeepOneEntryPerWrite) {
  constexpr int kThreads = 8, kPerThread = 150;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        bson::Document d;
        d.Append("_id", int32_t{1 + t * 1000 + i});
        Status s = engine_->Write(
            [&](Txn& txn) { return txn.Insert(*txn.catalog().Find("test", "c"), d); },
            WriteOptions{.wait_durable = (t + i) % 2 == 0});
        ASSERT_TRUE(s.ok()) << s.ToString();
        // Read-your-write: acknowledged (either way) means visible.
        ASSERT_TRUE(Visible("c", 1 + t * 1000 + i));
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int pass = 0; pass < 2; ++pass) {
    // Everything acknowledged becomes durable; wait for the last j:false writes' sync.
    bson::Timestamp last = engine_->committed();
    ASSERT_TRUE(engine_->Write([&](Txn& txn) {
                         last = txn.last_timestamp();
                         return Status::OK();
                       }).ok());
    auto c = engine_->catalog()->Find("test", "c");
    EXPECT_EQ(ScanIds(*c).size(), size_t{kThreads * kPerThread + 1});
    auto entries = *engine_->ReadChangeLog(bson::Timestamp{}, 100000);
    EXPECT_EQ(entries.size(), size_t{kThreads * kPerThread + 2});  // + create
    for (size_t i = 1; i < entries.size(); ++i) ASSERT_LT(entries[i - 1].ts, entries[i].ts);
    if (pass == 0) {
      engine_.reset();
      EngineOptions o;
      o.path = dir_.string();
      engine_ = std::move(Engine::Open(o)).value();
    }
  }
}

// Point lookups and scans inside a group see the pending writes of earlier requests and of
// groups still being committed, including deletes and rolled-back savepoints.
TEST_F(PipelineTest, ScansMergePendingWritesAcrossGroups) {
  for (int i = 1; i <= 4; ++i) ASSERT_TRUE(Insert("c", "{_id: " + std::to_string(i) + "}").ok());
  gate_.Close();
  std::promise<Status> w1;
  engine_->SubmitWrite(
      [](Txn& txn) -> Status {
        CollectionPtr c = txn.catalog().Find("test", "c");
        EDDY_RETURN_IF_ERROR(txn.Delete(*c, J("{_id: 2}")));
        return txn.Insert(*c, J("{_id: 5}"));
      },
      [&](Status s) { w1.set_value(s); });
  ASSERT_TRUE(gate_.WaitHeld());
  std::vector<std::string> forward, backward;
  std::promise<Status> w2;
  engine_->SubmitWrite(
      [&](Txn& txn) -> Status {
        CollectionPtr c = txn.catalog().Find("test", "c");
        EDDY_RETURN_IF_ERROR(txn.Insert(*c, J("{_id: 6}")));
        txn.SetSavePoint();
        EDDY_RETURN_IF_ERROR(txn.Insert(*c, J("{_id: 9}")));
        txn.RollbackToSavePoint();
        EDDY_RETURN_IF_ERROR(txn.Delete(*c, J("{_id: 3}")));
        for (auto it = txn.ScanCollection(*c, false); it->Valid(); it->Next()) {
          forward.push_back(bson::ToJson(*it->Decode()->Get("_id"), bson::JsonMode::kShell));
        }
        for (auto it = txn.ScanCollection(*c, true); it->Valid(); it->Next()) {
          backward.push_back(bson::ToJson(*it->Decode()->Get("_id"), bson::JsonMode::kShell));
        }
        return Status::OK();
      },
      [&](Status s) { w2.set_value(s); });
  gate_.Open();
  ASSERT_TRUE(w1.get_future().get().ok());
  ASSERT_TRUE(w2.get_future().get().ok());
  EXPECT_EQ(forward, (std::vector<std::string>{"0", "1", "4", "5", "6"}));
  EXPECT_EQ(backward, (std::vector<std::string>{"6", "5", "4", "1", "0"}));
  EXPECT_EQ(ScanIds(*engine_->catalog()->Find("test", "c")),
            (std::vector<std::string>{"0", "1", "4", "5", "6"}));
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
