// Collection validators through the embedded API (levels, actions, bypass, errInfo), writes
// refused on views, view resolution, and keyPattern/keyValue on duplicate keys.
#include "query/exec/validation.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "bson/codec.h"
#include "bson/json.h"
#include "query/exec/database.h"
#include "query/exec/duplicate_key.h"
#include "query/exec/views.h"

namespace eddy::query {
namespace {

bson::Document J(std::string_view s) {
  auto r = bson::ParseJson(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().ToString();
  return r.ok() ? *r : bson::Document();
}

std::string Shell(const bson::Document& d) { return bson::ToJson(d, bson::JsonMode::kShell); }

// The status's extra info as shell JSON ("" when none).
std::string Extra(const Status& s) {
  if (!s.has_extra_info()) return "";
  auto d = bson::Decode(s.extra_info());
  return d.ok() ? Shell(*d) : "undecodable";
}

class ValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("eddy_validation_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    storage::EngineOptions o;
    o.path = dir_.string();
    o.sync = storage::SyncMode::kOff;
    db_ = std::move(Database::Open(o)).value();
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  Status InsertOne(std::string_view coll, std::string_view doc, bool bypass = false) {
    InsertResult r = db_->Insert("db", coll, {J(doc)}, true, {}, bypass);
    return r.errors.empty() ? Status::OK() : r.errors[0].status;
  }
  Status UpdateOne(std::string_view coll, std::string_view filter, std::string_view update,
                   bool upsert = false, bool bypass = false) {
    UpdateStatement st;
    st.filter = J(filter);
    st.update = J(update);
    st.upsert = upsert;
    st.bypass_document_validation = bypass;
    return db_->Update("db", coll, st).status();
  }
  std::filesystem::path dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(ValidationTest, QueryValidatorRejectsInsertsWithErrInfo) {
  ASSERT_TRUE(db_->CreateCollection("db", "c", J("{validator: {x: {$type: 'string'}}}")).ok());
  EXPECT_TRUE(InsertOne("c", "{_id: 1, x: 'a'}").ok());
  Status s = InsertOne("c", "{_id: 2, x: 1}");
  ASSERT_EQ(s.code_number(), 121) << s.ToString();
  EXPECT_EQ(s.message(), "Document failed validation");
  EXPECT_EQ(Extra(s), Shell(J("{errInfo: {failingDocumentId: 2, details: {operatorName: '$type',"
                              " specifiedAs: {x: {$type: 'string'}}, reason: 'type did not match',"
                              " consideredValue: 1, consideredType: 'int'}}}")));
  s = InsertOne("c", "{_id: 3}");
  EXPECT_NE(Extra(s).find("field was missing"), std::string::npos) << Extra(s);
  EXPECT_TRUE(InsertOne("c", "{_id: 4, x: 1}", /*bypass=*/true).ok());
  EXPECT_EQ(db_->Count("db", "c", {}).value(), 2);
}

TEST_F(ValidationTest, SeveralClausesReportTheFailingOnes) {
  ASSERT_TRUE(db_->CreateCollection("db", "c", J("{validator: {a: {$gte: 0}, b: {$exists: true}}}")).ok());
  Status s = InsertOne("c", "{_id: 1, a: -1, b: 1}");
  ASSERT_EQ(s.code_number(), 121);
  EXPECT_EQ(Extra(s), Shell(J("{errInfo: {failingDocumentId: 1, details: {operatorName: '$and',"
                              " clausesNotSatisfied: [{index: 0, details: {operatorName: '$gte',"
                              " specifiedAs: {a: {$gte: 0}}, reason: 'comparison failed',"
                              " consideredValue: -1}}]}}}")));
}

TEST_F(ValidationTest, JsonSchemaValidator) {
  ASSERT_TRUE(db_->CreateCollection(
                     "db", "c",
                     J("{validator: {$jsonSchema: {bsonType: 'object', required: ['sku'],"
                       " properties: {sku: {bsonType: 'string', pattern: '^[A-Z]{3}-\\\\d+$'},"
                       " qty: {bsonType: 'int', minimum: 0}}}}}"))
                  .ok());
  EXPECT_TRUE(InsertOne("c", "{_id: 1, sku: 'ABC-1', qty: 3}").ok());
  Status s = InsertOne("c", "{_id: 2, sku: 'abc', qty: -1}");
  ASSERT_EQ(s.code_number(), 121);
  std::string info = Extra(s);
  EXPECT_NE(info.find("operatorName: \"$jsonSchema\""), std::string::npos) << info;
  EXPECT_NE(info.find("regular expression did not match"), std::string::npos) << info;
  EXPECT_NE(info.find("propertyName: \"qty\""), std::string::npos) << info;
}

TEST_F(ValidationTest, UpdatesUpsertsAndFindAndModifyAreChecked) {
  ASSERT_TRUE(db_->CreateCollection("db", "c", J("{validator: {n: {$lte: 10}}}")).ok());
  ASSERT_TRUE(InsertOne("c", "{_id: 1, n: 5}").ok());
  EXPECT_TRUE(UpdateOne("c", "{_id: 1}", "{$inc: {n: 5}}").ok());
  Status s = UpdateOne("c", "{_id: 1}", "{$inc: {n: 1}}");
  EXPECT_EQ(s.code_number(), 121);
  EXPECT_NE(Extra(s).find("failingDocumentId: 1"), std::string::npos) << Extra(s);
  EXPECT_TRUE(UpdateOne("c", "{_id: 1}", "{$inc: {n: 1}}", false, /*bypass=*/true).ok());
  s = UpdateOne("c", "{_id: 9}", "{$set: {n: 50}}", /*upsert=*/true);
  EXPECT_EQ(s.code_number(), 121);
  EXPECT_EQ(db_->Count("db", "c", J("{_id: 9}")).value(), 0);

  FindAndModifyRequest req;
  req.filter = J("{_id: 1}");
  req.update = J("{$set: {n: 100}}");
  Result<FindAndModifyResult> r = db_->FindAndModify("db", "c", req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code_number(), 121);
  EXPECT_NE(Extra(r.status()).find("errInfo"), std::string::npos);
  req.bypass_document_validation = true;
  EXPECT_TRUE(db_->FindAndModify("db", "c", req).ok());
  // Deletes are never validated.
  EXPECT_EQ(db_->Delete("db", "c", J("{_id: 1}"), 1).value(), 1);
}

TEST_F(ValidationTest, LevelsAndActions) {
  ASSERT_TRUE(InsertOne("c", "{_id: 1, n: 50}").ok());  // before the validator
  ASSERT_TRUE(db_->ModifyCollection("db", "c", J("{validator: {n: {$lte: 10}}, validationLevel: 'moderate'}")).ok());
  // moderate: a document that already fails may be updated; one that passes must keep passing.
  EXPECT_TRUE(UpdateOne("c", "{_id: 1}", "{$set: {n: 60}}").ok());
  ASSERT_TRUE(InsertOne("c", "{_id: 2, n: 1}").ok());
  EXPECT_EQ(UpdateOne("c", "{_id: 2}", "{$set: {n: 60}}").code_number(), 121);
  EXPECT_EQ(InsertOne("c", "{_id: 3, n: 60}").code_number(), 121);  // inserts always checked
  // strict: every update.
  ASSERT_TRUE(db_->ModifyCollection("db", "c", J("{validationLevel: 'strict'}")).ok());
  EXPECT_EQ(UpdateOne("c", "{_id: 1}", "{$set: {n: 70}}").code_number(), 121);
  // warn: failures are allowed.
  ASSERT_TRUE(db_->ModifyCollection("db", "c", J("{validationAction: 'warn'}")).ok());
  EXPECT_TRUE(InsertOne("c", "{_id: 4, n: 99}").ok());
  // off: nothing is checked.
  ASSERT_TRUE(db_->ModifyCollection("db", "c", J("{validationAction: 'error', validationLevel: 'off'}")).ok());
  EXPECT_TRUE(InsertOne("c", "{_id: 5, n: 99}").ok());
  ASSERT_TRUE(db_->ModifyCollection("db", "c", J("{validationLevel: 'strict'}")).ok());
  EXPECT_EQ(InsertOne("c", "{_id: 6, n: 99}").code_number(), 121);
  // An empty validator removes validation.
  ASSERT_TRUE(db_->ModifyCollection("db", "c", J("{validator: {}}")).ok());
  EXPECT_TRUE(InsertOne("c", "{_id: 6, n: 99}").ok());
}

TEST_F(ValidationTest, OptionsAreChecked) {
  struct Bad {
    const char* options;
    int code;
  };
  const Bad kBad[] = {
      {"{validator: 1}", 14},
      {"{validator: {$foo: 1}}", 2},
      {"{validator: {$where: 'true'}}", 224},
      {"{validator: {a: {$jsonSchema: {}}}}", 2},
      {"{validator: {$jsonSchema: {bsonType: 'nope'}}}", 9},
      {"{validationLevel: 'loose'}", 2},
      {"{validationLevel: 1}", 14},
      {"{validationAction: 'ignore'}", 2},
  };
  for (const Bad& b : kBad) {
    Status s = CheckValidationOptions(J(b.options));
    EXPECT_EQ(s.code_number(), b.code) << b.options << ": " << s.ToString();
  }
  EXPECT_TRUE(CheckValidationOptions(J("{validator: {a: 1}, validationLevel: 'moderate', validationAction: 'warn'}")).ok());
}

TEST_F(ValidationTest, DuplicateKeysCarryKeyPatternAndKeyValue) {
  auto made = db_->CreateIndex("db", "c", J("{a: 1, 'b.c': -1}"), IndexOptions{"ab", true});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  ASSERT_TRUE(InsertOne("c", "{_id: 1, a: 'x', b: {c: 2}}").ok());
  Status s = InsertOne("c", "{_id: 1}");
  EXPECT_EQ(s.code(), ErrorCode::kDuplicateKey);
  EXPECT_EQ(Extra(s), Shell(J("{keyPattern: {_id: 1}, keyValue: {_id: 1}}")));
  s = InsertOne("c", "{_id: 2, a: 'x', b: {c: 2}}");
  EXPECT_EQ(Extra(s), Shell(J("{keyPattern: {a: 1, 'b.c': -1}, keyValue: {a: 'x', 'b.c': 2}}")));
  ASSERT_TRUE(InsertOne("c", "{_id: 3, a: 'y'}").ok());
  s = UpdateOne("c", "{_id: 3}", "{$set: {a: 'x', b: {c: 2}}}");
  EXPECT_EQ(Extra(s), Shell(J("{keyPattern: {a: 1, 'b.c': -1}, keyValue: {a: 'x', 'b.c': 2}}")));
  FindAndModifyRequest req;
  req.filter = J("{_id: 4}");
  req.update = J("{$set: {a: 'x', b: {c: 2}}}");
  req.upsert = true;
  EXPECT_EQ(Extra(db_->FindAndModify("db", "c", req).status()),
            Shell(J("{keyPattern: {a: 1, 'b.c': -1}, keyValue: {a: 'x', 'b.c': 2}}")));
  // A unique index build over duplicates names the index being built.
  ASSERT_TRUE(InsertOne("c", "{_id: 5, a: 'y', b: {c: 9}}").ok());
  Status build = db_->CreateIndex("db", "c", J("{a: 1}"), IndexOptions{"a_1", true}).status();
  EXPECT_EQ(build.code(), ErrorCode::kDuplicateKey);
  EXPECT_EQ(Extra(build), Shell(J("{keyPattern: {a: 1}, keyValue: {a: 'y'}}")));
  // Other errors carry nothing.
  EXPECT_EQ(Extra(UpdateOne("c", "{_id: 1}", "{$inc: {a: 1}}")), "");
}

TEST_F(ValidationTest, WritesToViewsAreRefused) {
  ASSERT_TRUE(db_->CreateCollection("db", "v", J("{viewOn: 'c', pipeline: []}")).ok());
  Status s = InsertOne("v", "{_id: 1}");
  EXPECT_EQ(s.code_number(), 166);
  EXPECT_EQ(s.message(), "Namespace db.v is a view, not a collection");
  EXPECT_EQ(UpdateOne("v", "{}", "{$set: {a: 1}}").code_number(), 166);
  EXPECT_EQ(db_->Delete("db", "v", {}, 0).status().code_number(), 166);
  FindAndModifyRequest req;
  req.remove = true;
  EXPECT_EQ(db_->FindAndModify("db", "v", req).status().code_number(), 166);
}

TEST_F(ValidationTest, ConcurrentViewCreatesNeverCloseACycle) {
  // a -> b and b -> a created at the same time: the definition is checked in the write
  // sequencer, so at most one of them succeeds.
  for (int i = 0; i < 20; ++i) {
    std::string a = "a" + std::to_string(i), b = "b" + std::to_string(i);
    Status sa, sb;
    std::thread t1([&] { sa = db_->CreateCollection("db", a, bson::Document{{"viewOn", b}}); });
    std::thread t2([&] { sb = db_->CreateCollection("db", b, bson::Document{{"viewOn", a}}); });
    t1.join();
    t2.join();
    EXPECT_FALSE(sa.ok() && sb.ok()) << i;
    EXPECT_TRUE(sa.ok() || sb.ok()) << sa.ToString() << " / " << sb.ToString();
    EXPECT_TRUE(ResolveView(*db_->engine().catalog(), "db", a).ok());
  }
}

TEST_F(ValidationTest, EmbeddedDefinitionChecks) {
  EXPECT_EQ(db_->CreateCollection("db", "v", J("{pipeline: []}")).code_number(), 72);
  EXPECT_EQ(db_->CreateCollection("db", "v", J("{viewOn: 'c', validator: {a: 1}}")).code_number(), 72);
  EXPECT_EQ(db_->CreateCollection("db", "v", J("{viewOn: 'c', collation: 1}")).code_number(), 14);
  EXPECT_EQ(db_->CreateCollection("db", "c", J("{validator: {$bogus: 1}}")).code_number(), 2);
  ASSERT_TRUE(db_->CreateCollection("db", "v", J("{viewOn: 'c'}")).ok());
  EXPECT_EQ(db_->CreateIndex("db", "v", J("{a: 1}")).status().code_number(), 166);
  EXPECT_EQ(db_->ModifyCollection("db", "v", J("{viewOn: 'v'}")).code(), ErrorCode::kGraphContainsCycle);
  EXPECT_EQ(db_->ModifyCollection("db", "v", J("{pipeline: [{$out: 'x'}]}")).code_number(), 167);
  ASSERT_TRUE(db_->ModifyCollection("db", "v", J("{pipeline: [{$match: {a: 1}}]}")).ok());
  storage::CollectionPtr v = db_->engine().catalog()->Find("db", "v");
  ASSERT_TRUE(v);
  EXPECT_EQ(Shell(v->options), Shell(J("{viewOn: 'c', pipeline: [{$match: {a: 1}}]}")));
}

TEST_F(ValidationTest, EmbeddedReadsOfViewsRunTheirPipeline) {
  ASSERT_TRUE(InsertOne("c", "{_id: 1, a: 'x', n: 1}").ok());
  ASSERT_TRUE(InsertOne("c", "{_id: 2, a: 'y', n: 2}").ok());
  ASSERT_TRUE(InsertOne("c", "{_id: 3, a: 'Y', n: 3}").ok());
  ASSERT_TRUE(InsertOne("other", "{_id: 'k', n: 2}").ok());
  ASSERT_TRUE(db_->CreateCollection("db", "v", J("{viewOn: 'c', pipeline: [{$match: {n: {$gte: 2}}}, "
                                                 "{$lookup: {from: 'other', localField: 'n', foreignField: 'n', as: 'o'}}]}")).ok());
  ASSERT_TRUE(db_->CreateCollection("db", "ci", J("{viewOn: 'c', pipeline: [], collation: {locale: 'en', strength: 2}}")).ok());
  FindOptions o;
  o.sort = J("{_id: -1}");
  o.projection = J("{o: 1}");
  auto r = db_->Find("db", "v", o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ(Shell((*r)[0]), Shell(J("{_id: 3, o: []}")));
  EXPECT_EQ(Shell((*r)[1]), Shell(J("{_id: 2, o: [{_id: 'k', n: 2}]}")));
  EXPECT_EQ(db_->Count("db", "v", J("{a: 'y'}")).value(), 1);
  EXPECT_EQ(db_->Count("db", "v", {}, /*skip=*/1).value(), 1);
  // The view's collation applies by default; another one is refused.
  EXPECT_EQ(db_->Count("db", "ci", J("{a: 'y'}")).value(), 2);
  LetAndCollation other;
  other.collation = J("{locale: 'fr'}");
  EXPECT_EQ(db_->Count("db", "ci", J("{a: 'y'}"), 0, 0, other).status().code_number(), 167);
  auto values = db_->Distinct("db", "v", "n", {});
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(values->size(), 2u);
}

TEST_F(ValidationTest, ViewsResolveThroughChainsAndRefuseCycles) {
  auto catalog = [&] { return db_->engine().catalog(); };
  ASSERT_TRUE(db_->CreateCollection("db", "v1", J("{viewOn: 'c', pipeline: [{$match: {a: 1}}]}")).ok());
  ASSERT_TRUE(db_->CreateCollection("db", "v2", J("{viewOn: 'v1', pipeline: [{$project: {a: 1}}], collation: {locale: 'fr'}}")).ok());
  auto r = ResolveView(*catalog(), "db", "v2");
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->source, "c");
  EXPECT_EQ(bson::ToJson(bson::Value((*r)->pipeline), bson::JsonMode::kShell),
            "[{$match: {a: 1}}, {$project: {a: 1}}]");
  ASSERT_TRUE((*r)->collation.has_value());
  EXPECT_FALSE(ResolveView(*catalog(), "db", "c")->has_value());
  EXPECT_FALSE(ResolveView(*catalog(), "db", "missing")->has_value());

  // Redefining v1 on v2 would close a cycle.
  Result<bson::Document> def =
      CheckViewDefinition(*catalog(), "db", "v1", bson::Value("v2"), nullptr, std::nullopt);
  ASSERT_FALSE(def.ok());
  EXPECT_EQ(def.status().code(), ErrorCode::kGraphContainsCycle);
  EXPECT_EQ(def.status().message(), "View cycle detected: [db.v1 -> db.v2 -> db.v1]");
  def = CheckViewDefinition(*catalog(), "db", "v3", bson::Value("v3"), nullptr, std::nullopt);
  EXPECT_EQ(def.status().code(), ErrorCode::kGraphContainsCycle);

  struct Bad {
    bson::Value view_on;
    const char* pipeline;
    int code;
  };
  const Bad kBad[] = {
      {bson::Value(1), "[]", 14},
      {bson::Value(""), "[]", 2},
      {bson::Value("c"), "[{$out: 'x'}]", 167},
      {bson::Value("c"), "[{$merge: 'x'}]", 167},
      {bson::Value("c"), "[{$bogus: 1}]", 40324},
      {bson::Value("c"), "[1]", 14},
  };
  for (const Bad& b : kBad) {
    bson::Document p = J(std::string("{p: ") + b.pipeline + "}");
    def = CheckViewDefinition(*catalog(), "db", "w", b.view_on, p.Get("p"), std::nullopt);
    EXPECT_EQ(def.status().code_number(), b.code) << b.pipeline << ": " << def.status().ToString();
  }
  bson::Value not_array(int32_t{1});
  EXPECT_EQ(CheckViewDefinition(*catalog(), "db", "w", bson::Value("c"), &not_array, std::nullopt)
                .status()
                .code(),
            ErrorCode::kTypeMismatch);
  // Depth: a chain of kMaxViewDepth views is fine, one more is not.
  std::string prev = "base";
  for (int i = 0; i < kMaxViewDepth; ++i) {
    std::string name = "d" + std::to_string(i);
    ASSERT_TRUE(db_->CreateCollection("db", name, bson::Document{{"viewOn", prev}, {"pipeline", bson::Array{}}}).ok());
    prev = name;
  }
  EXPECT_TRUE(ResolveView(*catalog(), "db", prev).ok());
  def = CheckViewDefinition(*catalog(), "db", "deeper", bson::Value(prev), nullptr, std::nullopt);
  EXPECT_EQ(def.status().code_number(), 165) << def.status().ToString();
}

}  // namespace
}  // namespace eddy::query
