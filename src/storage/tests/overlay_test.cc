// The group overlay against a model: pending writes over a RocksDB base, point lookups,
// merged iteration in both directions and savepoint rollback must equal a std::map.
#include "storage/detail/overlay.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <map>
#include <optional>
#include <random>

namespace eddy::storage::detail {
namespace {

using Model = std::map<std::string, std::string>;

class OverlayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("eddy_overlay_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    rocksdb::Options o;
    o.create_if_missing = true;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_.string(), &db_).ok());
  }
  void TearDown() override {
    delete db_;
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<rocksdb::Iterator> Base() {
    return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(rocksdb::ReadOptions()));
  }
  std::vector<std::string> Forward(std::vector<Overlay*> layers) {
    std::vector<std::string> out;
    auto it = NewOverlayIterator(layers, kSlotDocs, Base());
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      out.push_back(it->key().ToString() + "=" + it->value().ToString());
    }
    return out;
  }
  std::vector<std::string> Backward(std::vector<Overlay*> layers) {
    std::vector<std::string> out;
    auto it = NewOverlayIterator(layers, kSlotDocs, Base());
    for (it->SeekToLast(); it->Valid(); it->Prev()) {
      out.push_back(it->key().ToString() + "=" + it->value().ToString());
    }
    return out;
  }
  static std::vector<std::string> Render(const Model& m) {
    std::vector<std::string> out;
    for (const auto& [k, v] : m) out.push_back(k + "=" + v);
    return out;
  }

  std::filesystem::path dir_;
  rocksdb::DB* db_ = nullptr;
};

TEST_F(OverlayTest, PendingWritesOverBaseAndSavepoints) {
  ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), "b", "base-b").ok());
  ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), "d", "base-d").ok());
  rocksdb::WriteBatch batch;
  Overlay ov(&batch);
  auto* cf = db_->DefaultColumnFamily();
  std::string_view v;
  EXPECT_EQ(ov.Get(kSlotDocs, "b", &v), Overlay::Hit::kMiss);
  ASSERT_TRUE(ov.Put(cf, kSlotDocs, "a", "1").ok());
  ASSERT_TRUE(ov.Delete(cf, kSlotDocs, "b").ok());
  ASSERT_TRUE(ov.Put(cf, kSlotIndex, "c", "index-only").ok());
  EXPECT_EQ(ov.Get(kSlotDocs, "a", &v), Overlay::Hit::kFound);
  EXPECT_EQ(v, "1");
  EXPECT_EQ(ov.Get(kSlotDocs, "b", &v), Overlay::Hit::kDeleted);
  EXPECT_EQ(ov.Get(kSlotDocs, "c", &v), Overlay::Hit::kMiss);  // other column family
  EXPECT_EQ(Forward({&ov}), (std::vector<std::string>{"a=1", "d=base-d"}));

  ov.SetSavePoint();
  ASSERT_TRUE(ov.Put(cf, kSlotDocs, "a", "2").ok());
  ASSERT_TRUE(ov.Put(cf, kSlotDocs, "b", "again").ok());
  ASSERT_TRUE(ov.Put(cf, kSlotDocs, "e", "new").ok());
  EXPECT_EQ(Forward({&ov}), (std::vector<std::string>{"a=2", "b=again", "d=base-d", "e=new"}));
  ov.RollbackToSavePoint();
  EXPECT_EQ(ov.Get(kSlotDocs, "a", &v), Overlay::Hit::kFound);
  EXPECT_EQ(v, "1");
  EXPECT_EQ(ov.Get(kSlotDocs, "b", &v), Overlay::Hit::kDeleted);
  EXPECT_EQ(ov.Get(kSlotDocs, "e", &v), Overlay::Hit::kMiss);
  EXPECT_EQ(Forward({&ov}), (std::vector<std::string>{"a=1", "d=base-d"}));
  EXPECT_EQ(batch.Count(), 3u);  // the batch rolled back with it

  // A newer layer wins over an older one, which wins over the base.
  rocksdb::WriteBatch batch2;
  Overlay newer(&batch2);
  ASSERT_TRUE(newer.Put(cf, kSlotDocs, "b", "newer-b").ok());
  ASSERT_TRUE(newer.Delete(cf, kSlotDocs, "d").ok());
  EXPECT_EQ(Forward({&newer, &ov}), (std::vector<std::string>{"a=1", "b=newer-b"}));
  EXPECT_EQ(Backward({&newer, &ov}), (std::vector<std::string>{"b=newer-b", "a=1"}));
}

// Keys are copied into arena blocks that grow from 1 KiB to 32 KiB: keys of every size,
// including ones bigger than any block, stay readable after many more blocks were added.
TEST_F(OverlayTest, KeysSurviveArenaGrowth) {
  rocksdb::WriteBatch batch;
  Overlay ov(&batch);
  auto* cf = db_->DefaultColumnFamily();
  std::vector<std::string> keys;
  for (int i = 0; i < 3000; ++i) {
    size_t len = i % 500 == 7 ? 40'000 : 1 + static_cast<size_t>(i * 37 % 300);
    std::string k(len, static_cast<char>('a' + i % 26));
    k += std::to_string(i);
    keys.push_back(k);
    ASSERT_TRUE(ov.Put(cf, kSlotDocs, k, "v" + std::to_string(i)).ok());
  }
  std::string_view v;
  for (int i = 0; i < 3000; ++i) {
    ASSERT_EQ(ov.Get(kSlotDocs, keys[i], &v), Overlay::Hit::kFound) << i;
    ASSERT_EQ(v, "v" + std::to_string(i));
  }
  EXPECT_EQ(ov.Ordered(kSlotDocs).size(), 3000u);
}

// Random writes, savepoints, rollbacks and iterator moves in two layers over a random base,
// checked against a model after every step.
TEST_F(OverlayTest, MatchesModelUnderRandomOperations) {
  std::mt19937 rng(7);
  auto key = [&] {
    return std::string(1, static_cast<char>('a' + rng() % 20)) + std::to_string(rng() % 3);
  };
  for (int round = 0; round < 40; ++round) {
    // Base contents.
    Model model;
    {
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
      rocksdb::WriteBatch clear;
      for (it->SeekToFirst(); it->Valid(); it->Next()) clear.Delete(it->key());
      ASSERT_TRUE(db_->Write(rocksdb::WriteOptions(), &clear).ok());
    }
    for (int i = 0; i < 15; ++i) {
      std::string k = key(), v = "base" + std::to_string(i);
      ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), k, v).ok());
      model[k] = v;
    }
    rocksdb::WriteBatch b1, b2;
    Overlay older(&b1), newer(&b2);
    auto* cf = db_->DefaultColumnFamily();
    auto write = [&](Overlay& ov, Model& m, int i) {
      std::string k = key();
      if (rng() % 3 == 0) {
        ASSERT_TRUE(ov.Delete(cf, kSlotDocs, k).ok());
        m.erase(k);
      } else {
        std::string v = "v" + std::to_string(round) + "." + std::to_string(i);
        ASSERT_TRUE(ov.Put(cf, kSlotDocs, k, v).ok());
        m[k] = v;
      }
    };
    for (int i = 0; i < 20; ++i) write(older, model, i);
    std::vector<Model> saved;
    for (int step = 0; step < 60; ++step) {
      switch (rng() % 6) {
        case 0:
          newer.SetSavePoint();
          saved.push_back(model);
          break;
        case 1:
          if (!saved.empty()) {
            newer.RollbackToSavePoint();
            model = saved.back();
            saved.pop_back();
          }
          break;
        case 2:
          if (!saved.empty()) {
            newer.PopSavePoint();
            saved.pop_back();
          }
          break;
        default:
          write(newer, model, 100 + step);
      }
      // Point lookups through both layers, then the base.
      for (char c = 'a'; c < 'a' + 20; ++c) {
        for (int d = 0; d < 3; ++d) {
          std::string k = std::string(1, c) + std::to_string(d);
          std::optional<std::string> got;
          std::string_view v;
          Overlay::Hit h = newer.Get(kSlotDocs, k, &v);
          if (h == Overlay::Hit::kMiss) h = older.Get(kSlotDocs, k, &v);
          if (h == Overlay::Hit::kFound) {
            got = std::string(v);
          } else if (h == Overlay::Hit::kMiss) {
            std::string s;
            if (db_->Get(rocksdb::ReadOptions(), k, &s).ok()) got = s;
          }
          auto m = model.find(k);
          ASSERT_EQ(got.has_value(), m != model.end()) << k;
          if (got) {
            ASSERT_EQ(*got, m->second) << k;
          }
        }
      }
      if (step % 5 == 0) {
        std::vector<std::string> want = Render(model);
        ASSERT_EQ(Forward({&newer, &older}), want);
        std::reverse(want.begin(), want.end());
        ASSERT_EQ(Backward({&newer, &older}), want);
        // Seek, then change direction in the middle.
        std::string target = key();
        auto it = NewOverlayIterator({&newer, &older}, kSlotDocs, Base());
        it->Seek(target);
        auto lb = model.lower_bound(target);
        ASSERT_EQ(it->Valid(), lb != model.end());
        if (lb != model.end()) {
          ASSERT_EQ(it->key().ToString(), lb->first);
          it->Prev();
          ASSERT_EQ(it->Valid(), lb != model.begin());
          if (lb != model.begin()) {
            ASSERT_EQ(it->key().ToString(), std::prev(lb)->first);
            it->Next();
            ASSERT_EQ(it->key().ToString(), lb->first);
          }
        }
        it->SeekForPrev(target);
        auto ub = model.upper_bound(target);
        ASSERT_EQ(it->Valid(), ub != model.begin());
        if (ub != model.begin()) {
          ASSERT_EQ(it->key().ToString(), std::prev(ub)->first);
        }
      }
    }
  }
}

}  // namespace
}  // namespace eddy::storage::detail
