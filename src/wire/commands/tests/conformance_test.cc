// MongoDB-conformance details through the command layer: error extra fields (keyPattern/
// keyValue, errInfo) in replies and writeErrors, the logical session cache and
// $listLocalSessions, views, collection validators, and $out/$merge under linearizable reads.
#include <gtest/gtest.h>

#include <filesystem>
#include <cstring>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>
#include <set>
#include <string>

#include "bson/json.h"
#include "query/exec/database.h"
#include "wire/commands/service.h"
#include "wire/commands/sessions.h"

namespace eddy::wire {
namespace {

bson::Document J(std::string_view s) {
  auto r = bson::ParseJson(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().ToString();
  return r.ok() ? *r : bson::Document();
}

std::string Shell(const bson::Value& v) { return bson::ToJson(v, bson::JsonMode::kShell); }

bson::Binary Uuid(char fill) { return bson::Binary{4, std::string(16, fill)}; }

class ConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("eddy-conformance-" + std::to_string(::getpid()) + "-" +
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
  bson::Document Run(std::string_view json) {return Run("test", J(json));}
  static double Ok(const bson::Document& reply) {return reply.Get("ok")->ToDouble();}
  static int64_t Code(const bson::Document& reply) {
    const bson::Value* c = reply.Get("code");
    return c ? c->ToInt64() : 0;
 }
  static bson::Array Batch(const bson::Document& reply) {
    const bson::Value* c = reply.Get("cursor");
    if (!c) return {};
    return c->as_document().Get("firstBatch")->as_array();
 }
  std::string BatchJson(std::string_view cmd) {
    bson::Document r = Run(cmd);
    if (!r.Has("cursor")) return Shell(bson::Value(r));
    return Shell(bson::Value(Batch(r)));
  }
  // A reply field as shell JSON, or the whole reply when it is missing.
  std::string Get(std::string_view cmd, std::string_view field) {
    bson::Document r = Run(cmd);
    const bson::Value* v = r.Get(field);
    return v ? Shell(*v) : "missing " + std::string(field) + " in " + Shell(bson::Value(r));
  }

  std::filesystem::path dir_;
  std::unique_ptr<query::Database> db_;
  std::unique_ptr<CommandService> service_;
};

// ---- 1. error extra fields ----

TEST_F(ConformanceTest, DuplicateKeyInWriteErrorsAndReplies) {
  ASSERT_EQ(Ok(Run("{createIndexes: 'c', indexes: [{key: {x: 1}, name: 'x_1', unique: true}]}")), 1.0);
  ASSERT_EQ(Ok(Run("{insert: 'c', documents: [{_id: 1, x: 'foo'}]}")), 1.0);
  bson::Document r = Run("{insert: 'c', documents: [{_id: 1}, {_id: 2, x: 'foo'}], ordered: false}");
  ASSERT_EQ(Ok(r), 1.0);
  const bson::Array& errors = r.Get("writeErrors")->as_array();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(Shell(errors[0].as_document().Get("keyPattern")->as_document()), "{_id: 1}");
  EXPECT_EQ(Shell(errors[0].as_document().Get("keyValue")->as_document()), "{_id: 1}");
  EXPECT_EQ(Shell(errors[1].as_document().Get("keyPattern")->as_document()), "{x: 1}");
  EXPECT_EQ(Shell(errors[1].as_document().Get("keyValue")->as_document()), "{x: \"foo\"}");
  EXPECT_EQ(errors[1].as_document().at(0).name, "index");
  // mongod's order: index, code, keyPattern, keyValue, errmsg.
  EXPECT_EQ(errors[1].as_document().at(2).name, "keyPattern");
  EXPECT_EQ(errors[1].as_document().at(4).name, "errmsg");

  r = Run("{update: 'c', updates: [{q: {_id: 5}, u: {$set: {x: 'foo'}}, upsert: true}]}");
  ASSERT_TRUE(r.Has("writeErrors"));
  EXPECT_EQ(Shell(r.Get("writeErrors")->as_array()[0].as_document().Get("keyValue")->as_document()),
            "{x: \"foo\"}");

  // findAndModify: the reply itself carries them (the findOneAndUpdate-errorResponse test).
  r = Run("{findAndModify: 'c', query: {_id: 2}, update: {$set: {x: 'foo'}}, upsert: true}");
  EXPECT_EQ(Ok(r), 0.0);
  EXPECT_EQ(Code(r), 11000);
  EXPECT_EQ(r.Get("codeName")->as_string(), "DuplicateKey");
  EXPECT_EQ(Shell(r.Get("keyPattern")->as_document()), "{x: 1}");
  EXPECT_EQ(Shell(r.Get("keyValue")->as_document()), "{x: \"foo\"}");

  // aggregate $merge whenMatched: fail (aggregate-merge-errorResponse).
  r = Run("{aggregate: 1, pipeline: [{$documents: [{_id: 1, x: 1}]}, {$merge: {into: 'c', whenMatched: 'fail'}}], cursor: {}}");
  EXPECT_EQ(Code(r), 11000);
  EXPECT_EQ(Shell(r.Get("keyPattern")->as_document()), "{_id: 1}");
  EXPECT_EQ(Shell(r.Get("keyValue")->as_document()), "{_id: 1}");
  // A $merge insert that hits a unique index.
  r = Run("{aggregate: 1, pipeline: [{$documents: [{_id: 7, x: 'foo'}]}, {$merge: {into: 'c'}}], cursor: {}}");
  EXPECT_EQ(Code(r), 11000);
  EXPECT_EQ(Shell(r.Get("keyValue")->as_document()), "{x: \"foo\"}");

  // createIndexes over duplicates.
  ASSERT_EQ(Ok(Run("{insert: 'd', documents: [{_id: 1, y: 3}, {_id: 2, y: 3}]}")), 1.0);
  r = Run("{createIndexes: 'd', indexes: [{key: {y: 1}, name: 'y_1', unique: true}]}");
  EXPECT_EQ(Code(r), 11000);
  EXPECT_EQ(Shell(r.Get("keyValue")->as_document()), "{y: 3}");
}

// ---- 2. sessions ----

TEST_F(ConformanceTest, SessionsAreRegisteredListedAndEnded) {
  bson::Document started = Run("admin", J("{startSession: 1}"));
  ASSERT_EQ(Ok(started), 1.0);
  EXPECT_EQ(started.Get("timeoutMinutes")->ToInt64(), 30);
  bson::Binary s1 = started.Get("id")->as_document().Get("id")->as_binary();
  EXPECT_EQ(s1.subtype, 4);
  EXPECT_EQ(s1.data[6] & 0xF0, 0x40);  // version 4

  // Any command with an lsid registers its session.
  bson::Document ping = J("{ping: 1}");
  ping.Append("lsid", bson::Document{{"id", Uuid('a')}});
  ASSERT_EQ(Ok(Run("test", ping)), 1.0);

  bson::Document r = Run("admin", J("{aggregate: 1, pipeline: [{$listLocalSessions: {}}, {$sort: {lastUse: 1}}], cursor: {}}"));
  ASSERT_EQ(Ok(r), 1.0) << Shell(r);
  bson::Array sessions = Batch(r);
  ASSERT_EQ(sessions.size(), 2u);
  bool found = false;
  for (const bson::Value& v : sessions) found = found || v.as_document().Get("_id")->as_document().Get("id")->as_binary() == s1;
  EXPECT_TRUE(found) << Shell(bson::Value(sessions));
  const bson::Document& first = sessions[0].as_document();
  // uid: SHA-256 of the empty user name, as mongod without auth.
  EXPECT_EQ(Shell(*first.Get("_id")->as_document().Get("uid")),
            "BinData(0, \"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\")");
  EXPECT_EQ(first.Get("lastUse")->type(), bson::Type::kDateTime);

  // Other databases too; the rest of the pipeline runs over the sessions.
  EXPECT_EQ(BatchJson("{aggregate: 1, pipeline: [{$listLocalSessions: {allUsers: true}}, {$count: 'n'}], cursor: {}}"),
            "[{n: 2}]");
  EXPECT_EQ(BatchJson("{aggregate: 1, pipeline: [{$listLocalSessions: {users: [{user: 'bob', db: 'admin'}]}}], cursor: {}}"),
            "[]");
  EXPECT_EQ(BatchJson("{aggregate: 1, pipeline: [{$listLocalSessions: {}}, {$limit: 1}, {$addFields: {dummy: 'x'}}, {$project: {_id: 0, dummy: 1}}], cursor: {}}"),
            "[{dummy: \"x\"}]");
  // $out after $listLocalSessions (db-aggregate-write-readPreference).
  ASSERT_EQ(Ok(Run("{aggregate: 1, pipeline: [{$listLocalSessions: {}}, {$limit: 1}, {$addFields: {_id: 1}}, {$project: {_id: 1}}, {$out: 'sess'}], cursor: {}}")), 1.0);
  EXPECT_EQ(BatchJson("{find: 'sess'}"), "[{_id: 1}]");

  // endSessions removes; killAllSessions [] removes every one.
  bson::Document end{{"endSessions", bson::Array{bson::Value(bson::Document{{"id", s1}})}}};
  ASSERT_EQ(Ok(Run("admin", end)), 1.0);
  EXPECT_EQ(BatchJson("{aggregate: 1, pipeline: [{$listLocalSessions: {}}, {$count: 'n'}], cursor: {}}"), "[{n: 1}]");
  ASSERT_EQ(Ok(Run("admin", J("{killAllSessions: []}"))), 1.0);
  EXPECT_EQ(BatchJson("{aggregate: 1, pipeline: [{$listLocalSessions: {}}], cursor: {}}"), "[]");
}

TEST_F(ConformanceTest, SessionErrors) {
  struct Bad {
    const char* cmd;
    int code;
 };
  const Bad kBad[] = {
      {"{aggregate: 'c', pipeline: [{$listLocalSessions: {}}], cursor: {}}", 73},
      {"{aggregate: 1, pipeline: [{$match: {}}, {$listLocalSessions: {}}], cursor: {}}", 40602},
      {"{aggregate: 1, pipeline: [{$listLocalSessions: 1}], cursor: {}}", 14},
      {"{aggregate: 1, pipeline: [{$listLocalSessions: {bogus: 1}}], cursor: {}}", 40415},
      {"{aggregate: 1, pipeline: [{$listLocalSessions: {allUsers: 1}}], cursor: {}}", 14},
      {"{aggregate: 1, pipeline: [{$listLocalSessions: {users: [{user: 'a'}]}}], cursor: {}}", 40414},
      {"{endSessions: 1}", 14},
      {"{endSessions: [{id: 1}]}", 14},
      {"{endSessions: [{}]}", 40414},
      {"{killAllSessions: [1]}", 14},
      {"{ping: 1, lsid: 5}", 14},
      {"{ping: 1, lsid: {id: 'x'}}", 14},
      {"{ping: 1, lsid: {id: BinData(0, 'AAAAAAAAAAAAAAAAAAAAAA==')}}", 2},
      {"{ping: 1, lsid: {id: UUID('00000000-0000-4000-8000-000000000000'), x: 1}}", 40415},
 };
  for (const Bad& b : kBad) {
    bson::Document r = Run(b.cmd);
    EXPECT_EQ(Ok(r), 0.0) << b.cmd;
    EXPECT_EQ(Code(r), b.code) << b.cmd << " -> " << Shell(r);
 }
}

TEST(SessionRegistryTest, ExpiresAfterTheTimeoutAndRefreshesOnUse) {
  auto now = std::chrono::steady_clock::now();
  SessionRegistry reg(std::chrono::minutes(30), [&] { return now; }, /*max_sessions=*/3);
  ASSERT_TRUE(reg.Touch(Uuid('a')).ok());
  ASSERT_TRUE(reg.Touch(Uuid('b')).ok());
  now += std::chrono::minutes(20);
  ASSERT_TRUE(reg.Touch(Uuid('a')).ok());  // refreshed
  now += std::chrono::minutes(15);         // b idle 35 min, a 15 min
  EXPECT_TRUE(reg.Contains(Uuid('a')));
  EXPECT_FALSE(reg.Contains(Uuid('b')));
  EXPECT_EQ(reg.size(), 1u);
  ASSERT_TRUE(reg.Touch(Uuid('c')).ok());
  ASSERT_TRUE(reg.Touch(Uuid('d')).ok());
  Status full = reg.Touch(Uuid('e'));
  EXPECT_EQ(full.code_number(), 261);  // TooManyLogicalSessions
  now += std::chrono::minutes(31);     // all expire: room again
  EXPECT_TRUE(reg.Touch(Uuid('e')).ok());
  EXPECT_EQ(reg.List({}).size(), 1u);
  EXPECT_EQ(reg.List({bson::Binary{0, std::string(32, 'z')}}).size(), 0u);
  reg.End(Uuid('e'));
  EXPECT_EQ(reg.size(), 0u);
}

TEST(SessionRegistryTest, RegistrationsSweepExpiredSessions) {
  auto now = std::chrono::steady_clock::now();
  SessionRegistry reg(std::chrono::minutes(30), [&] { return now; });
  auto id = [](int i) {
    std::string bytes(16, '\0');
    std::memcpy(bytes.data(), &i, sizeof(i));
    return bson::Binary{4, bytes};
  };
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(reg.Touch(id(i)).ok());
  now += std::chrono::minutes(31);
  // Only touches from here on: the 1024th registration sweeps the 1000 expired ones.
  for (int i = 1000; i < 1023; ++i) ASSERT_TRUE(reg.Touch(id(i)).ok());
  EXPECT_EQ(reg.stored(), 1023u);  // nothing swept yet
  for (int i = 1023; i < 1100; ++i) ASSERT_TRUE(reg.Touch(id(i)).ok());
  EXPECT_EQ(reg.stored(), 100u);  // the 1024th registration swept the 1000 expired ones
  EXPECT_EQ(reg.size(), 100u);
}

// ---- 3. views ----

TEST_F(ConformanceTest, ViewsReadThroughTheirPipeline) {
  ASSERT_EQ(Ok(Run("{insert: 'c', documents: [{_id: 1, a: 'x', t: [1, 2]}, {_id: 2, a: 'y', t: [2]}, {_id: 3, a: 'Y', t: 3}]}")), 1.0);
  bson::Document r = Run("{create: 'v', viewOn: 'c', pipeline: [{$match: {_id: {$gt: 1}}}]}");
  ASSERT_EQ(Ok(r), 1.0) << Shell(r);
  ASSERT_EQ(Ok(Run("{create: 'vv', viewOn: 'v', pipeline: [{$project: {t: 0}}]}")), 1.0);

  EXPECT_EQ(BatchJson("{listCollections: 1, filter: {name: 'v'}}"),
            "[{name: \"v\", type: \"view\", options: {viewOn: \"c\", pipeline: [{$match: {_id: {$gt: 1}}}]}, info: {readOnly: true}}]");
  EXPECT_EQ(BatchJson("{listCollections: 1, filter: {type: 'view'}, nameOnly: true}"),
            "[{name: \"v\", type: \"view\"}, {name: \"vv\", type: \"view\"}]");

  EXPECT_EQ(BatchJson("{find: 'v'}"), "[{_id: 2, a: \"y\", t: [2]}, {_id: 3, a: \"Y\", t: 3}]");
  EXPECT_EQ(BatchJson("{find: 'vv', filter: {a: 'Y'}}"), "[{_id: 3, a: \"Y\"}]");
  EXPECT_EQ(BatchJson("{find: 'v', sort: {_id: -1}, limit: 1, projection: {a: 1}}"), "[{_id: 3, a: \"Y\"}]");
  bson::Document find = Run("{find: 'v', batchSize: 1}");
  EXPECT_EQ(find.Get("cursor")->as_document().Get("ns")->as_string(), "test.v");
  EXPECT_NE(find.Get("cursor")->as_document().Get("id")->ToInt64(), 0);
  bson::Document more = Run("test", bson::Document{{"getMore", find.Get("cursor")->as_document().Get("id")->ToInt64()}, {"collection", "v"}});
  EXPECT_EQ(more.Get("cursor")->as_document().Get("nextBatch")->as_array().size(), 1u);

  EXPECT_EQ(Get("{count: 'v'}", "n"), "2");  // estimatedDocumentCount on a view
  EXPECT_EQ(Get("{count: 'vv', query: {a: 'y'}}", "n"), "1");
  EXPECT_EQ(Get("{count: 'v', skip: 1}", "n"), "1");
  EXPECT_EQ(Get("{distinct: 'v', key: 't'}", "values"), "[2, 3]");
  EXPECT_EQ(Get("{distinct: 'v', key: 'a'}", "values"), "[\"Y\", \"y\"]");
  // The view has the simple collation: another one can not override it.
  EXPECT_EQ(Get("{distinct: 'v', key: 'a', collation: {locale: 'en', strength: 2}}", "code"), "167");
  EXPECT_EQ(BatchJson("{aggregate: 'vv', pipeline: [{$group: {_id: null, n: {$sum: 1}}}], cursor: {}}"),
            "[{_id: null, n: 2}]");
  // $lookup from a view.
  EXPECT_EQ(BatchJson("{aggregate: 'c', pipeline: [{$match: {_id: 1}}, {$lookup: {from: 'vv', localField: 't', foreignField: '_id', as: 'j'}}, {$project: {j: 1}}], cursor: {}}"),
            "[{_id: 1, j: [{_id: 2, a: \"y\"}]}]");
  // A view on a missing collection is empty.
  ASSERT_EQ(Ok(Run("{create: 'ghost', viewOn: 'nothing'}")), 1.0);
  EXPECT_EQ(BatchJson("{find: 'ghost'}"), "[]");
  EXPECT_EQ(Get("{count: 'ghost'}", "n"), "0");
}

// countDocuments' pipeline over a whole collection is answered from the kept count, with
// the result mongod's $group gives: the same _id, an int32 count, no document when empty;
// any other shape (a filter, a non-constant _id, another accumulator, more stages) still runs
// the pipeline.
TEST_F(ConformanceTest, CountDocumentsPipelineUsesTheKeptCount) {
  ASSERT_EQ(Ok(Run("{insert: 'cd', documents: [{_id: 1, a: 1}, {_id: 2, a: 2}, {_id: 3, a: 2}, {_id: 4}]}")), 1.0);
  ASSERT_EQ(Ok(Run("{delete: 'cd', deletes: [{q: {_id: 4}, limit: 1}]}")), 1.0);
  struct Case {
    const char* collection;
    const char* pipeline;
    const char* batch;
  };
  const Case cases[] = {
      // The count shape.
      {"cd", "[{$match: {}}, {$group: {_id: 1, n: {$sum: 1}}}]", "[{_id: 1, n: 3}]"},
      {"cd", "[{$match: {}}, {$skip: 1}, {$limit: 5}, {$group: {_id: null, c: {$sum: 1}}}]", "[{_id: null, c: 2}]"},
      {"cd", "[{$skip: 5}, {$group: {_id: 1, n: {$sum: 1}}}]", "[]"},
      {"nothing", "[{$match: {}}, {$group: {_id: 1, n: {$sum: 1}}}]", "[]"},
      // Not the count shape: the pipeline runs.
      {"cd", "[{$match: {a: 2}}, {$group: {_id: 1, n: {$sum: 1}}}]", "[{_id: 1, n: 2}]"},
      {"cd", "[{$group: {_id: '$a', n: {$sum: 1}}}, {$sort: {_id: 1}}]", "[{_id: 1, n: 1}, {_id: 2, n: 2}]"},
      {"cd", "[{$group: {_id: 1, n: {$sum: '$a'}}}]", "[{_id: 1, n: 5}]"},
      {"cd", "[{$group: {_id: 1, n: {$sum: 2}}}]", "[{_id: 1, n: 6}]"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(BatchJson(std::string("{aggregate: '") + c.collection + "', pipeline: " + c.pipeline +
                        ", cursor: {}}"),
              c.batch)
        << c.pipeline;
  }
  // A bad pipeline still fails as before.
  EXPECT_EQ(Get("{aggregate: 'cd', pipeline: [{$group: {_id: 1, 'a.b': {$sum: 1}}}], cursor: {}}", "ok"), "0.0");
}

TEST_F(ConformanceTest, ViewsRefuseWritesIndexesAndWatch) {
  ASSERT_EQ(Ok(Run("{create: 'v', viewOn: 'c', pipeline: []}")), 1.0);
  const char* kRefused[] = {
      "{insert: 'v', documents: [{_id: 1}]}",
      "{update: 'v', updates: [{q: {}, u: {$set: {a: 1}}}]}",
      "{delete: 'v', deletes: [{q: {}, limit: 0}]}",
      "{findAndModify: 'v', query: {}, remove: true}",
      "{createIndexes: 'v', indexes: [{key: {a: 1}, name: 'a_1'}]}",
      "{dropIndexes: 'v', index: '*'}",
      "{listIndexes: 'v'}",
      "{aggregate: 'v', pipeline: [{$changeStream: {}}], cursor: {}}",
      "{aggregate: 1, pipeline: [{$documents: [{a: 1}]}, {$out: 'v'}], cursor: {}}",
      "{aggregate: 1, pipeline: [{$documents: [{a: 1}]}, {$merge: {into: 'v'}}], cursor: {}}",
 };
  for (const char* cmd : kRefused) {
    bson::Document r = Run(cmd);
    EXPECT_EQ(Code(r), 166) << cmd << " -> " << Shell(r);
    EXPECT_EQ(r.Get("codeName") ? r.Get("errmsg")->as_string() : "", "Namespace test.v is a view, not a collection") << cmd;
 }
  bson::Document r = Run("admin", J("{renameCollection: 'test.v', to: 'test.w'}"));
  EXPECT_EQ(Code(r), 166);
}

TEST_F(ConformanceTest, ViewDefinitionsAreCheckedAndModifiable) {
  struct Bad {
    const char* cmd;
    int code;
 };
  const Bad kBad[] = {
      {"{create: 'v', pipeline: []}", 72},
      {"{create: 'v', viewOn: 1}", 14},
      {"{create: 'v', viewOn: ''}", 2},
      {"{create: 'v', viewOn: 'c', pipeline: {}}", 14},
      {"{create: 'v', viewOn: 'c', pipeline: [{$out: 'x'}]}", 167},
      {"{create: 'v', viewOn: 'c', pipeline: [{$nope: 1}]}", 40324},
      {"{create: 'v', viewOn: 'c', validator: {a: 1}}", 72},
      {"{create: 'v', viewOn: 'v'}", 5},
 };
  for (const Bad& b : kBad) {
    bson::Document r = Run(b.cmd);
    EXPECT_EQ(Code(r), b.code) << b.cmd << " -> " << Shell(r);
 }
  ASSERT_EQ(Ok(Run("{insert: 'c', documents: [{_id: 1}, {_id: 2}]}")), 1.0);
  ASSERT_EQ(Ok(Run("{create: 'v', viewOn: 'c', pipeline: [{$match: {_id: 1}}], collation: {locale: 'fr'}}")), 1.0);
  EXPECT_EQ(Code(Run("{create: 'v', viewOn: 'c'}")), 48);  // NamespaceExists
  // The view's collation is its default; another one is refused.
  EXPECT_EQ(Code(Run("{find: 'v', collation: {locale: 'en'}}")), 167);
  EXPECT_EQ(Ok(Run("{find: 'v', collation: {locale: 'fr'}}")), 1.0);
  ASSERT_EQ(Ok(Run("{create: 'w', viewOn: 'v'}")), 1.0);
  // collMod changes the definition, checked like create.
  EXPECT_EQ(Code(Run("{collMod: 'v', viewOn: 'w'}")), 5);
  EXPECT_EQ(Code(Run("{collMod: 'v', validator: {a: 1}}")), 72);
  EXPECT_EQ(Code(Run("{collMod: 'c', viewOn: 'x'}")), 72);
  ASSERT_EQ(Ok(Run("{collMod: 'v', pipeline: [{$match: {_id: 2}}]}")), 1.0);
  EXPECT_EQ(BatchJson("{find: 'w'}"), "[{_id: 2}]");
  // drop removes the view only.
  bson::Document drop = Run("{drop: 'w'}");
  EXPECT_EQ(Ok(drop), 1.0);
  EXPECT_FALSE(drop.Has("nIndexesWas"));
  EXPECT_EQ(BatchJson("{listCollections: 1, filter: {name: 'w'}}"), "[]");
  EXPECT_EQ(Get("{count: 'c'}", "n"), "2");
}

// ---- 4. validators ----

TEST_F(ConformanceTest, ValidatorsThroughCreateAndCollMod) {
  ASSERT_EQ(Ok(Run("{insert: 'test', documents: [{_id: 1, x: 'foo'}]}")), 1.0);
  ASSERT_EQ(Ok(Run("{collMod: 'test', validator: {x: {$type: 'string'}}}")), 1.0);
  bson::Document r = Run("{findAndModify: 'test', query: {_id: 1}, update: {$set: {x: 1}}}");
  EXPECT_EQ(Code(r), 121);
  ASSERT_TRUE(r.Has("errInfo")) << Shell(r);
  EXPECT_EQ(Shell(*r.Get("errInfo")),
            "{failingDocumentId: 1, details: {operatorName: \"$type\", specifiedAs: {x: {$type: \"string\"}}, reason: \"type did not match\", consideredValue: 1, consideredType: \"int\"}}");
  r = Run("{insert: 'test', documents: [{_id: 2, x: 2}]}");
  ASSERT_TRUE(r.Has("writeErrors"));
  const bson::Document& e = r.Get("writeErrors")->as_array()[0].as_document();
  EXPECT_EQ(e.Get("code")->ToInt64(), 121);
  EXPECT_EQ(e.Get("errmsg")->as_string(), "Document failed validation");
  EXPECT_EQ(e.Get("errInfo")->as_document().Get("failingDocumentId")->ToInt64(), 2);
  EXPECT_EQ(Ok(Run("{insert: 'test', documents: [{_id: 2, x: 2}], bypassDocumentValidation: true}")), 1.0);
  EXPECT_FALSE(Run("{update: 'test', updates: [{q: {_id: 1}, u: {$set: {x: 3}}}], bypassDocumentValidation: true}").Has("writeErrors"));

  ASSERT_EQ(Ok(Run("{create: 'js', validator: {$jsonSchema: {required: ['a'], properties: {a: {bsonType: 'int', maximum: 5}}}}, validationAction: 'error'}")), 1.0);
  EXPECT_EQ(BatchJson("{listCollections: 1, filter: {name: 'js'}, nameOnly: true}"), "[{name: \"js\", type: \"collection\"}]");
  r = Run("{insert: 'js', documents: [{_id: 1, a: 9}]}");
  ASSERT_TRUE(r.Has("writeErrors"));
  std::string info = Shell(*r.Get("writeErrors")->as_array()[0].as_document().Get("errInfo"));
  EXPECT_NE(info.find("schemaRulesNotSatisfied"), std::string::npos) << info;
  EXPECT_NE(info.find("maximum"), std::string::npos) << info;
  // $jsonSchema in a query.
  ASSERT_EQ(Ok(Run("{insert: 'q', documents: [{_id: 1, a: 1}, {_id: 2, a: 'x'}]}")), 1.0);
  EXPECT_EQ(BatchJson("{find: 'q', filter: {$jsonSchema: {properties: {a: {bsonType: 'string'}}}}}"), "[{_id: 2, a: \"x\"}]");

  EXPECT_EQ(Code(Run("{create: 'bad', validator: {$where: 'true'}}")), 224);
  EXPECT_EQ(Code(Run("{create: 'bad', validator: {a: {$bogus: 1}}}")), 2);
  EXPECT_EQ(Code(Run("{create: 'bad', validationLevel: 'sometimes'}")), 2);
  EXPECT_EQ(Code(Run("{collMod: 'test', validationAction: 'shout'}")), 2);
  EXPECT_EQ(BatchJson("{listCollections: 1, filter: {name: 'bad'}}"), "[]");
}

TEST_F(ConformanceTest, OutAndMergeCheckTheTargetsValidator) {
  ASSERT_EQ(Ok(Run("{create: 'target', validator: {n: {$type: 'int'}}}")), 1.0);
  ASSERT_EQ(Ok(Run("{insert: 'target', documents: [{_id: 1, n: 1}]}")), 1.0);
  bson::Document r = Run("{aggregate: 1, pipeline: [{$documents: [{_id: 2, n: 'x'}]}, {$out: 'target'}], cursor: {}}");
  EXPECT_EQ(Code(r), 121) << Shell(bson::Value(r));
  EXPECT_EQ(BatchJson("{find: 'target'}"), "[{_id: 1, n: 1}]");  // unchanged
  r = Run("{aggregate: 1, pipeline: [{$documents: [{_id: 2, n: 'x'}]}, {$merge: {into: 'target'}}], cursor: {}}");
  EXPECT_EQ(Code(r), 121) << Shell(bson::Value(r));
  EXPECT_TRUE(r.Has("errInfo"));
  r = Run("{aggregate: 1, pipeline: [{$documents: [{_id: 2, n: 'x'}]}, {$out: 'target'}], cursor: {}, bypassDocumentValidation: true}");
  EXPECT_EQ(Ok(r), 1.0) << Shell(bson::Value(r));
  EXPECT_EQ(BatchJson("{find: 'target'}"), "[{_id: 2, n: \"x\"}]");
  // $out keeps the target's options: the validator still applies afterwards.
  r = Run("{insert: 'target', documents: [{_id: 3, n: 'y'}]}");
  ASSERT_TRUE(r.Has("writeErrors")) << Shell(bson::Value(r));
  EXPECT_EQ(BatchJson("{listCollections: 1, filter: {name: 'target'}}").find("validator") != std::string::npos, true);
  EXPECT_EQ(Ok(Run("{aggregate: 1, pipeline: [{$documents: [{_id: 4, n: 'z'}]}, {$merge: {into: 'target'}}], cursor: {}, bypassDocumentValidation: true}")), 1.0);
}

// ---- 5. linearizable ----

TEST_F(ConformanceTest, OutAndMergeRefuseLinearizableReads) {
  ASSERT_EQ(Ok(Run("{insert: 'c', documents: [{_id: 1}]}")), 1.0);
  bson::Document r = Run("{aggregate: 'c', pipeline: [{$match: {}}, {$out: 'o'}], cursor: {}, readConcern: {level: 'linearizable'}}");
  EXPECT_EQ(Code(r), 72);
  EXPECT_EQ(r.Get("errmsg")->as_string(), "$out cannot be used with a 'linearizable' read concern level");
  r = Run("{aggregate: 'c', pipeline: [{$merge: {into: 'o'}}], cursor: {}, readConcern: {level: 'linearizable'}}");
  EXPECT_EQ(Code(r), 72);
  EXPECT_EQ(Ok(Run("{aggregate: 'c', pipeline: [{$match: {}}], cursor: {}, readConcern: {level: 'linearizable'}}")), 1.0);
  EXPECT_EQ(Ok(Run("{aggregate: 'c', pipeline: [{$out: 'o'}], cursor: {}, readConcern: {level: 'majority'}}")), 1.0);
}


// ---- small inserts answered by the engine's committing thread ----

// A durable engine (so writes go through the submitted path) and a service whose
// Dispatch replies are collected; Finish() destroys the service, which waits for them.
class DeferredInsertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("eddy-deferred-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    storage::EngineOptions eo;
    eo.path = dir_.string();
    eo.sync = storage::SyncMode::kOn;
    auto db = query::Database::Open(eo);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    service_ = std::make_unique<CommandService>(db_.get(), ServiceOptions{});
  }
  void TearDown() override {
    service_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Dispatch(const std::string& json) {
    Request r;
    r.command = J(json);
    r.db = "test";
    service_->Dispatch(ConnectionInfo{}, std::move(r), [this](Reply reply) {
      std::lock_guard lock(mu_);
      replies_.push_back(std::move(reply.body));
    });
  }
  // Runs a command on this thread, as a worker does.
  bson::Document RunCommand(const std::string& json) {
    Request r;
    r.command = J(json);
    r.db = "test";
    return service_->Run(ConnectionInfo{}, r).body;
  }
  // Dispatches a command (as an I/O thread does) and waits for its reply; *here: it was
  // answered on this, the dispatching, thread.
  bson::Document DispatchAndWait(const std::string& json, bool* here) {
    Request r;
    r.command = J(json);
    r.db = "test";
    const std::thread::id caller = std::this_thread::get_id();
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    bson::Document body;
    service_->Dispatch(ConnectionInfo{}, std::move(r), [&](Reply reply) {
      std::lock_guard lock(mu);
      *here = std::this_thread::get_id() == caller;
      body = std::move(reply.body);
      done = true;
      cv.notify_all();
    });
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done; });
    return body;
  }
  // Destroys the service: it waits for the answers still on their way.
  const std::vector<bson::Document>& Finish() {
    service_.reset();
    return replies_;
  }

  std::filesystem::path dir_;
  std::unique_ptr<query::Database> db_;
  std::unique_ptr<CommandService> service_;
  std::mutex mu_;
  std::vector<bson::Document> replies_;
};

// Durable small inserts dispatched from an I/O thread are submitted to the engine and
// answered by its committing thread; destroying the service waits for every answer (its
// callbacks use the service), and each reply is the insert's own (n, writeErrors).
TEST_F(DeferredInsertTest, EveryDispatchedInsertIsAnsweredBeforeTheServiceGoes) {
  constexpr int kInserts = 200;
  for (int i = 0; i < kInserts; ++i) {
    // The last one repeats an _id: a write error in the reply, not a failed command.
    Dispatch("{insert: 'c', documents: [{_id: " + std::to_string(i == kInserts - 1 ? 0 : i) + "}]}");
  }
  const std::vector<bson::Document>& replies = Finish();
  ASSERT_EQ(replies.size(), static_cast<size_t>(kInserts));
  int ok = 0, duplicates = 0;
  for (const bson::Document& r : replies) {
    if (r.Get("ok")->ToDouble() != 1.0) continue;
    if (const bson::Value* errors = r.Get("writeErrors")) {
      duplicates += errors->as_array().at(0).as_document().Get("code")->ToInt64() == 11000;
    } else if (r.Get("n")->ToInt64() == 1) {
      ++ok;
    }
  }
  EXPECT_EQ(ok, kInserts - 1);
  EXPECT_EQ(duplicates, 1);
  auto n = db_->Count("test", "c", bson::Document());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, kInserts - 1);
}


// One-statement updates and deletes take the same path: each $inc is applied exactly once, in
// dispatch order, an upsert reports its _id, each delete reports what it removed, and a bad
// update operator or delete limit is answered at once.
TEST_F(DeferredInsertTest, OneStatementUpdatesAndDeletesAreAnsweredByTheCommittingThread) {
  Dispatch("{insert: 'c', documents: [{_id: 1, n: 0}]}");
  for (int i = 0; i < 100; ++i) Dispatch("{update: 'c', updates: [{q: {_id: 1}, u: {$inc: {n: 1}}}]}");
  Dispatch("{update: 'c', updates: [{q: {_id: 2}, u: {$set: {n: 7}}, upsert: true}]}");
  Dispatch("{update: 'c', updates: [{q: {_id: 1}, u: {$bogus: {n: 1}}}]}");
  // Deletes too: 16 documents (a small insert, so it takes the same path: requests of one
  // connection never overlap, these do), ten deleteOne of one each and a deleteMany of the
  // rest; a limit of 2 is answered at once with a write error.
  Dispatch("{insert: 'd', documents: [" + [] {
    std::string docs;
    for (int i = 0; i < 16; ++i) docs += (i ? ", {_id: " : "{_id: ") + std::to_string(i) + "}";
    return docs;
  }() + "]}");
  for (int i = 0; i < 10; ++i) Dispatch("{delete: 'd', deletes: [{q: {_id: " + std::to_string(i) + "}, limit: 1}]}");
  Dispatch("{delete: 'd', deletes: [{q: {}, limit: 0}]}");
  Dispatch("{delete: 'd', deletes: [{q: {}, limit: 2}]}");
  const std::vector<bson::Document>& replies = Finish();
  ASSERT_EQ(replies.size(), 116u);
  {
    // Replies in dispatch order are not guaranteed across threads: count the delete ones.
    int one = 0, rest = 0, bad_limit = 0;
    for (const bson::Document& r : replies) {
      if (const bson::Value* e = r.Get("writeErrors")) {
        const bson::Document& err = e->as_array().at(0).as_document();
        bad_limit += err.Get("errmsg")->as_string().find("limit field") != std::string::npos;
      } else if (!r.Has("nModified") && !r.Has("upserted")) {
        const int64_t n = r.Get("n")->ToInt64();
        one += n == 1;
        rest += n == 6;
      }
    }
    EXPECT_EQ(bad_limit, 1);
    EXPECT_EQ(rest, 1);
    EXPECT_EQ(one, 11);  // ten deleteOne, and the one-document insert
    auto left = db_->Count("test", "d", bson::Document());
    ASSERT_TRUE(left.ok());
    EXPECT_EQ(*left, 0);
  }

  int modified = 0, upserts = 0, refused = 0;
  for (const bson::Document& r : replies) {
    ASSERT_EQ(r.Get("ok")->ToDouble(), 1.0) << Shell(bson::Value(r));
    if (const bson::Value* e = r.Get("writeErrors")) {
      refused += e->as_array().at(0).as_document().Get("code")->ToInt64() != 0;
    } else if (r.Get("upserted")) {
      upserts++;
    } else if (r.Has("nModified")) {
      modified += static_cast<int>(r.Get("nModified")->ToInt64());
    }
  }
  EXPECT_EQ(modified, 100);
  EXPECT_EQ(upserts, 1);
  EXPECT_EQ(refused, 2);  // $bogus and the delete's limit 2
  auto docs = db_->Find("test", "c", {});
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ(Shell(bson::Value((*docs)[0])), "{_id: 1, n: 100}");
}

// A change stream's getMore that is caught up runs on the dispatching (I/O) thread: it
// parks on the hub before Dispatch returns, without a worker thread's wake-up (a watcher
// that waits again after every event would pay one per event), and the commit that
// concerns it answers it.
TEST_F(DeferredInsertTest, CaughtUpChangeStreamGetMoreParksBeforeDispatchReturns) {
  Request first;
  first.command = J("{insert: 'c', documents: [{_id: 0}]}");
  first.db = "test";
  ASSERT_EQ(service_->Run(ConnectionInfo{}, first).body.Get("n")->ToInt64(), 1);
  Request agg;
  agg.command = J("{aggregate: 'c', pipeline: [{$changeStream: {}}], cursor: {}}");
  agg.db = "test";
  Reply opened = service_->Run(ConnectionInfo{}, agg);
  ASSERT_EQ(opened.body.Get("ok")->ToDouble(), 1.0) << Shell(bson::Value(opened.body));
  const int64_t id = opened.body.Get("cursor")->as_document().Get("id")->ToInt64();
  auto waiting = [&] {
    Request status;
    status.command = J("{serverStatus: 1}");
    status.db = "admin";
    Reply r = service_->Run(ConnectionInfo{}, status);
    return r.body.Get("eddy")->as_document().Get("changeStreamsWaiting")->ToInt64();
  };
  ASSERT_EQ(waiting(), 0);
  Dispatch("{getMore: NumberLong(\"" + std::to_string(id) + "\"), collection: 'c', maxAwaitTimeMS: 10000}");
  EXPECT_EQ(waiting(), 1);
  Dispatch("{insert: 'c', documents: [{_id: 1}]}");
  const std::vector<bson::Document>& replies = Finish();
  int events = 0;
  for (const bson::Document& r : replies) {
    const bson::Value* cursor = r.Get("cursor");
    if (!cursor) continue;
    const bson::Array& batch = cursor->as_document().Get("nextBatch")->as_array();
    events += static_cast<int>(batch.size());
    if (!batch.empty()) {
      EXPECT_NE(Shell(batch[0]).find("documentKey: {_id: 1}"), std::string::npos) << Shell(batch[0]);
    }
  }
  EXPECT_EQ(events, 1);
}

// findAndModify takes the same path (a job queue's claim): fifty claims of the oldest new
// job, dispatched back to back, each take a different job exactly once; removes report the
// removed document; an upsert's duplicate key fails the command with MongoDB's code and
// keyValue; a bad update operator is answered at once.
TEST_F(DeferredInsertTest, FindAndModifyIsAnsweredByTheCommittingThread) {
  std::string jobs;
  for (int i = 0; i < 60; ++i) jobs += (i ? ", {_id: " : "{_id: ") + std::to_string(i) + ", state: 'new'}";
  ASSERT_EQ(RunCommand("{insert: 'jobs', documents: [" + jobs + "]}").Get("n")->ToInt64(), 60);
  for (int i = 0; i < 50; ++i) {
    Dispatch("{findAndModify: 'jobs', query: {state: 'new'}, sort: {_id: 1}, "
             "update: {$set: {state: 'taken'}}, new: true}");
  }
  for (int i = 50; i < 55; ++i) {
    Dispatch("{findAndModify: 'jobs', query: {_id: " + std::to_string(i) + "}, remove: true}");
  }
  Dispatch("{findAndModify: 'jobs', query: {_id: 0, state: 'other'}, update: {$set: {x: 1}}, upsert: true}");
  Dispatch("{findAndModify: 'jobs', query: {_id: 59}, update: {$bogus: {x: 1}}}");
  const std::vector<bson::Document>& replies = Finish();
  ASSERT_EQ(replies.size(), 57u);
  std::set<int64_t> taken, removed;
  int duplicate = 0, bad_operator = 0;
  for (const bson::Document& r : replies) {
    if (r.Get("ok")->ToDouble() != 1.0) {
      const int64_t code = r.Get("code")->ToInt64();
      if (code == 11000) {
        duplicate++;
        EXPECT_TRUE(r.Has("keyValue")) << Shell(bson::Value(r));
      } else {
        bad_operator += code == 9;  // FailedToParse: unknown modifier
      }
      continue;
    }
    const bson::Document& value = r.Get("value")->as_document();
    const int64_t id = value.Get("_id")->ToInt64();
    if (value.Get("state")->as_string() == "taken") {
      EXPECT_TRUE(taken.insert(id).second) << "job " << id << " claimed twice";
    } else {
      removed.insert(id);
    }
  }
  EXPECT_EQ(taken.size(), 50u);
  EXPECT_EQ(*taken.rbegin(), 49);
  EXPECT_EQ(removed, (std::set<int64_t>{50, 51, 52, 53, 54}));
  EXPECT_EQ(duplicate, 1);
  EXPECT_EQ(bad_operator, 1);
  auto left = db_->Count("test", "jobs", J("{state: 'new'}"));
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, 5);
}

// Inserts of up to 256 documents are submitted from the dispatching thread, bigger ones go
// to a worker; only small unjournaled ones (16 documents at most) may run on the dispatching
// thread itself. Each reply is the insert's own, an ordered batch stopping at a duplicate.
TEST_F(DeferredInsertTest, BatchesAreSubmittedFromTheDispatchingThreadButNotRunThere) {
  auto docs = [](int from, int n) {
    std::string out;
    for (int i = from; i < from + n; ++i) out += (i > from ? ", {_id: " : "{_id: ") + std::to_string(i) + "}";
    return out;
  };
  bool here = true;
  bson::Document r = DispatchAndWait("{insert: 'c', documents: [" + docs(0, 100) + "]}", &here);
  EXPECT_EQ(r.Get("n")->ToInt64(), 100);
  EXPECT_FALSE(here);  // durable: answered by the committing thread
  r = DispatchAndWait("{insert: 'c', documents: [" + docs(100, 100) + "], writeConcern: {j: false}}", &here);
  EXPECT_EQ(r.Get("n")->ToInt64(), 100);
  EXPECT_FALSE(here);  // too big to run on the dispatching thread
  // Small and unjournaled: run right there once the pipeline is idle (a busy one refuses,
  // and the insert is submitted instead; the last batch's sync may still be running).
  bool ran_here = false;
  for (int i = 200; i < 250 && !ran_here; ++i) {
    r = DispatchAndWait("{insert: 'c', documents: [" + docs(i, 1) + "], writeConcern: {j: false}}", &here);
    EXPECT_EQ(r.Get("n")->ToInt64(), 1);
    ran_here = here;
    if (!here) {
      const uint64_t n = db_->engine().stats().syncs;
      for (int k = 0; k < 200 && db_->engine().stats().syncs == n; ++k) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    } else {
      for (int k = i + 1; k < 250; ++k) {  // the same _ids as the other path would take
        DispatchAndWait("{insert: 'c', documents: [" + docs(k, 1) + "], writeConcern: {j: false}}", &here);
      }
    }
  }
  EXPECT_TRUE(ran_here);
  r = DispatchAndWait("{insert: 'c', documents: [" + docs(300, 500) + "]}", &here);
  EXPECT_EQ(r.Get("n")->ToInt64(), 500);
  EXPECT_FALSE(here);
  // Ordered: stops at the duplicate (_id 150), after 50 inserted.
  r = DispatchAndWait("{insert: 'c', documents: [" + docs(1000, 50) + ", " + docs(150, 50) + "]}", &here);
  EXPECT_EQ(r.Get("n")->ToInt64(), 50);
  ASSERT_TRUE(r.Has("writeErrors")) << Shell(bson::Value(r));
  EXPECT_EQ(r.Get("writeErrors")->as_array().at(0).as_document().Get("index")->ToInt64(), 50);
  auto n = db_->Count("test", "c", bson::Document());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 800);  // 100 + 100 + 50 + 500 + 50
}

// An update command with several statements (a bulkWrite's updates) is one engine write:
// one fsync for all of them, the same replies as statement by statement: an ordered batch
// stops at the first failure (after applying the ones before it), an unordered one reports
// each failure and goes on, upserts report their index.
TEST_F(DeferredInsertTest, MultiStatementUpdatesShareOneWriteAndOneFsync) {
  ASSERT_EQ(RunCommand("{insert: 'c', documents: [{_id: 1, n: 0, k: 1}, {_id: 2, n: 0, k: 2}, {_id: 3, n: 0, k: 3}]}")
                .Get("n")->ToInt64(), 3);
  ASSERT_EQ(RunCommand("{createIndexes: 'c', indexes: [{key: {k: 1}, name: 'k_1', unique: true}]}")
                .Get("ok")->ToDouble(), 1.0);
  std::string updates;
  for (int i = 0; i < 50; ++i) updates += (i ? ", " : "") + std::string("{q: {_id: ") + std::to_string(1 + i % 3) + "}, u: {$inc: {n: 1}}}";
  const uint64_t syncs = db_->engine().stats().syncs;
  bson::Document r = RunCommand("{update: 'c', updates: [" + updates + ", {q: {_id: 9}, u: {$set: {k: 9}}, upsert: true}]}");
  EXPECT_EQ(db_->engine().stats().syncs, syncs + 1);
  EXPECT_EQ(r.Get("n")->ToInt64(), 51);
  EXPECT_EQ(r.Get("nModified")->ToInt64(), 50);
  EXPECT_EQ(Shell(*r.Get("upserted")), "[{index: 50, _id: 9}]");
  auto docs = db_->Find("test", "c", {});
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 4u);
  EXPECT_EQ(Shell(bson::Value((*docs)[0])), "{_id: 1, n: 17, k: 1}");

  // Ordered: the duplicate key at index 1 stops it; index 0 is applied, index 2 is not.
  r = RunCommand("{update: 'c', updates: [{q: {_id: 1}, u: {$set: {x: 1}}}, {q: {_id: 2}, u: {$set: {k: 1}}},"
          " {q: {_id: 3}, u: {$set: {x: 1}}}]}");
  EXPECT_EQ(r.Get("n")->ToInt64(), 1);
  ASSERT_TRUE(r.Has("writeErrors")) << Shell(bson::Value(r));
  EXPECT_EQ(r.Get("writeErrors")->as_array().size(), 1u);
  EXPECT_EQ(r.Get("writeErrors")->as_array().at(0).as_document().Get("index")->ToInt64(), 1);
  EXPECT_EQ(r.Get("writeErrors")->as_array().at(0).as_document().Get("code")->ToInt64(), 11000);
  // Unordered: a bad operator (index 0) and the duplicate (index 2) fail alone.
  r = RunCommand("{update: 'c', ordered: false, updates: [{q: {_id: 1}, u: {$bogus: {x: 1}}},"
          " {q: {_id: 2}, u: {$set: {x: 2}}}, {q: {_id: 3}, u: {$set: {k: 1}}}, {q: {_id: 3}, u: {$set: {x: 3}}}]}");
  EXPECT_EQ(r.Get("n")->ToInt64(), 2);
  ASSERT_EQ(r.Get("writeErrors")->as_array().size(), 2u);
  EXPECT_EQ(r.Get("writeErrors")->as_array().at(0).as_document().Get("index")->ToInt64(), 0);
  EXPECT_EQ(r.Get("writeErrors")->as_array().at(1).as_document().Get("index")->ToInt64(), 2);
  // Ordered with a statement that does not parse: the ones before it run.
  r = RunCommand("{update: 'c', updates: [{q: {_id: 1}, u: {$set: {y: 1}}}, {q: {_id: 2}, u: {$bogus: 1}},"
          " {q: {_id: 3}, u: {$set: {y: 3}}}]}");
  EXPECT_EQ(r.Get("n")->ToInt64(), 1);
  EXPECT_EQ(r.Get("writeErrors")->as_array().at(0).as_document().Get("index")->ToInt64(), 1);
  docs = db_->Find("test", "c", {});
  ASSERT_TRUE(docs.ok());
  EXPECT_EQ(Shell(bson::Value((*docs)[0])), "{_id: 1, n: 17, k: 1, x: 1, y: 1}");
  EXPECT_EQ(Shell(bson::Value((*docs)[1])), "{_id: 2, n: 17, k: 2, x: 2}");
  EXPECT_EQ(Shell(bson::Value((*docs)[2])), "{_id: 3, n: 16, k: 3, x: 3}");
}

// Delete commands with several statements likewise: one write, one fsync, the same replies.
TEST_F(DeferredInsertTest, MultiStatementDeletesShareOneWriteAndOneFsync) {
  std::string docs;
  for (int i = 0; i < 40; ++i) docs += (i ? ", {_id: " : "{_id: ") + std::to_string(i) + ", g: " + std::to_string(i % 4) + "}";
  ASSERT_EQ(RunCommand("{insert: 'c', documents: [" + docs + "]}").Get("n")->ToInt64(), 40);
  std::string deletes;
  for (int i = 0; i < 20; ++i) deletes += (i ? ", " : "") + std::string("{q: {_id: ") + std::to_string(i) + "}, limit: 1}";
  const uint64_t syncs = db_->engine().stats().syncs;
  bson::Document r = RunCommand("{delete: 'c', deletes: [" + deletes + ", {q: {g: 0}, limit: 0}]}");
  EXPECT_EQ(db_->engine().stats().syncs, syncs + 1);
  EXPECT_EQ(r.Get("n")->ToInt64(), 25);  // 20 by _id, then the 5 left of group 0
  // Ordered: a bad limit at index 1 stops it after index 0.
  r = RunCommand("{delete: 'c', deletes: [{q: {_id: 21}, limit: 1}, {q: {}, limit: 2}, {q: {_id: 22}, limit: 1}]}");
  EXPECT_EQ(r.Get("n")->ToInt64(), 1);
  EXPECT_EQ(r.Get("writeErrors")->as_array().at(0).as_document().Get("index")->ToInt64(), 1);
  // Unordered: it goes on past a bad operator.
  r = RunCommand("{delete: 'c', ordered: false, deletes: [{q: {$bogus: 1}, limit: 0}, {q: {g: 1}, limit: 0}]}");
  EXPECT_EQ(r.Get("n")->ToInt64(), 4);  // 21 was deleted; 25, 29, 33, 37 of group 1 remain
  EXPECT_EQ(r.Get("writeErrors")->as_array().at(0).as_document().Get("index")->ToInt64(), 0);
  auto n = db_->Count("test", "c", bson::Document());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 40 - 25 - 1 - 4);
}

// find {_id: value} on a collection is a point read: it is answered on the dispatching
// (I/O) thread, before Dispatch returns, with the same reply a worker gives. Finds that may
// read much (other filters, operators, hints, sorts, views) still go to a worker thread.
TEST_F(DeferredInsertTest, PointFindsByIdAreAnsweredOnTheDispatchingThread) {
  ASSERT_EQ(RunCommand("{insert: 'c', documents: [{_id: 1, a: 'x'}, {_id: 2, a: 'y'}]}").Get("n")->ToInt64(), 2);
  ASSERT_EQ(RunCommand("{create: 'v', viewOn: 'c', pipeline: [{$match: {a: 'x'}}]}").Get("ok")->ToDouble(), 1.0);

  auto answered_here = [&](const std::string& json, std::string* batch) {
    bool here = false;
    bson::Document body = DispatchAndWait(json, &here);
    const bson::Value* cursor = body.Get("cursor");
    *batch = cursor ? Shell(*cursor->as_document().Get("firstBatch")) : Shell(bson::Value(body));
    return here;
  };
  std::string batch;
  EXPECT_TRUE(answered_here("{find: 'c', filter: {_id: 2}, projection: {a: 1}}", &batch));
  EXPECT_EQ(batch, "[{_id: 2, a: \"y\"}]");
  EXPECT_TRUE(answered_here("{find: 'c', filter: {_id: 3}}", &batch));
  EXPECT_EQ(batch, "[]");
  EXPECT_TRUE(answered_here("{find: 'nope', filter: {_id: 1}}", &batch) == false);
  EXPECT_EQ(batch, "[]");
  for (const char* worker : {"{find: 'c', filter: {_id: {$lte: 1}}}", "{find: 'c', filter: {a: 'x'}}",
                             "{find: 'c', filter: {_id: 1}, hint: {$natural: 1}}",
                             "{find: 'c', filter: {_id: 1}, sort: {$natural: -1}}",
                             "{find: 'v', filter: {_id: 1}}"}) {
    EXPECT_FALSE(answered_here(worker, &batch)) << worker;
    EXPECT_EQ(batch, "[{_id: 1, a: \"x\"}]") << worker;
  }
}

}  // namespace
}  // namespace eddy::wire
