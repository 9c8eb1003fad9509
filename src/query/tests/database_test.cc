// The embedded API end to end: CRUD with MongoDB semantics over the engine, the planner's
// index use, and the seed article's order/inventory workflow.
#include "query/exec/database.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>

#include "bson/json.h"

namespace eddy::query {
namespace {

bson::Document J(std::string_view s) {
  auto r = bson::ParseJson(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().ToString();
  return r.ok() ? *r : bson::Document();
}

std::string Render(const std::vector<bson::Document>& docs) {
  std::string out;
  for (const auto& d : docs) out += bson::ToJson(d, bson::JsonMode::kShell) + "\n";
  return out;
}

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("eddy_db_test_" + std::to_string(::getpid()) + "_" +
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
  void InsertAll(std::string_view coll, std::string_view json_lines) {
    auto docs = bson::ParseJsonSequence(json_lines);
    ASSERT_TRUE(docs.ok()) << docs.status().ToString();
    InsertResult r = db_->Insert("shop", coll, *docs);
    ASSERT_TRUE(r.errors.empty()) << r.errors[0].status.ToString();
  }
  std::string FindJson(std::string_view coll, std::string_view filter, std::string_view sort = "{}",
                       std::string_view projection = "{}", int64_t skip = 0, int64_t limit = 0) {
    FindOptions o;
    o.filter = J(filter);
    o.sort = J(sort);
    o.projection = J(projection);
    o.skip = skip;
    o.limit = limit;
    auto r = db_->Find("shop", coll, o);
    if (!r.ok()) return "error " + r.status().ToString();
    return Render(*r);
  }
  std::string PlanOf(std::string_view coll, std::string_view filter, std::string_view sort = "{}") {
    FindOptions o;
    o.filter = J(filter);
    o.sort = J(sort);
    auto c = db_->OpenFind("shop", coll, o);
    EXPECT_TRUE(c.ok());
    return bson::ToJson((*c)->plan().Explain(), bson::JsonMode::kShell);
  }

  std::filesystem::path dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(DatabaseTest, InsertGeneratesIdsAndReportsDuplicates) {
  InsertResult r = db_->Insert("shop", "c", {J("{a: 1}"), J("{_id: 7, a: 2}"), J("{b: 1, _id: 8}")});
  ASSERT_TRUE(r.errors.empty());
  EXPECT_EQ(r.inserted, 3);
  EXPECT_EQ(r.ids[0].type(), bson::Type::kObjectId);
  // _id is moved to the front, as mongod stores it.
  EXPECT_EQ(FindJson("c", "{_id: 8}"), "{_id: 8, b: 1}\n");
  // Ordered: stops at the duplicate; unordered: goes on.
  r = db_->Insert("shop", "c", {J("{_id: 9}"), J("{_id: 7}"), J("{_id: 10}")}, true);
  EXPECT_EQ(r.inserted, 1);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].index, 1u);
  EXPECT_EQ(r.errors[0].status.code(), ErrorCode::kDuplicateKey);
  r = db_->Insert("shop", "c", {J("{_id: 11}"), J("{_id: 7}"), J("{_id: 12}"), J("{_id: [1]}")}, false);
  EXPECT_EQ(r.inserted, 2);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[1].status.code(), ErrorCode::kInvalidIdField);
  EXPECT_EQ(*db_->Count("shop", "c", J("{}")), 6);
}

// mongod's storageValidIdField: an _id document may not hold '$'-prefixed names at any depth
// (DBRef's $ref/$id/$db excepted); dotted names are fine.
TEST_F(DatabaseTest, InsertIdStorageValidation) {
  struct Case {
    const char* doc;
    std::optional<ErrorCode> error;
  };
  const Case cases[] = {
      {"{_id: {$a: 1}}", ErrorCode::kDollarPrefixedFieldName},
      {"{_id: {a: {$b: 1}}}", ErrorCode::kDollarPrefixedFieldName},
      {"{_id: {a: [{$b: 1}]}}", ErrorCode::kDollarPrefixedFieldName},
      {"{_id: {'a.b': 1}}", std::nullopt},
      {"{_id: {a: 'x$'}}", std::nullopt},
      {"{_id: {$ref: 'c', $id: 1, $db: 'd'}}", std::nullopt},
      {"{_id: null}", std::nullopt},
      {"{_id: /re/}", ErrorCode::kInvalidIdField},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.doc);
    InsertResult r = db_->Insert("shop", "ids", {J(c.doc)});
    if (c.error) {
      ASSERT_EQ(r.errors.size(), 1u);
      EXPECT_EQ(r.errors[0].status.code(), *c.error);
      EXPECT_EQ(r.inserted, 0);
    } else {
      EXPECT_TRUE(r.errors.empty()) << r.errors[0].status.ToString();
      EXPECT_EQ(r.inserted, 1);
    }
  }
  EXPECT_EQ(*db_->Count("shop", "ids", J("{}")), 4);
  EXPECT_EQ(*db_->Count("shop", "ids", J("{_id: {$type: 'null'}}")), 1);
}

TEST_F(DatabaseTest, FindFilterSortSkipLimitProjection) {
  InsertAll("orders", R"(
    {_id: 1, status: "pending", total: 120.5, region: "eu", items: [{sku: "a", qty: 2}]}
    {_id: 2, status: "shipped", total: 80, region: "us", items: [{sku: "b", qty: 1}]}
    {_id: 3, status: "pending", total: 1500, region: "us", items: [{sku: "a", qty: 5}, {sku: "c", qty: 1}]}
    {_id: 4, status: "cancelled", region: "eu", items: []}
  )");
  EXPECT_EQ(FindJson("orders", "{status: 'pending'}", "{total: -1}", "{total: 1}"),
            "{_id: 3, total: 1500}\n{_id: 1, total: 120.5}\n");
  EXPECT_EQ(FindJson("orders", "{'items.sku': 'a', total: {$gte: 200}}", "{}", "{_id: 1}"),
            "{_id: 3}\n");
  EXPECT_EQ(FindJson("orders", "{total: {$exists: false}}", "{}", "{region: 1, _id: 0}"),
            "{region: \"eu\"}\n");
  EXPECT_EQ(FindJson("orders", "{}", "{_id: -1}", "{_id: 1}", 1, 2), "{_id: 3}\n{_id: 2}\n");
  EXPECT_EQ(FindJson("orders", "{}", "{region: 1, total: 1}", "{_id: 1}"),
            "{_id: 4}\n{_id: 1}\n{_id: 2}\n{_id: 3}\n");
  EXPECT_EQ(FindJson("orders", "{status: {$bogus: 1}}"),
            "error BadValue (2): unknown operator: $bogus");
  EXPECT_EQ(FindJson("nope", "{}"), "");
  EXPECT_EQ(*db_->Count("shop", "orders", J("{region: 'us'}")), 2);
  auto d = db_->Distinct("shop", "orders", "items.sku", J("{}"));
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 3u);
  EXPECT_EQ((*d)[2].as_string(), "c");
}

TEST_F(DatabaseTest, PlannerUsesIndexesForEqualityRangesAndSort) {
  ASSERT_TRUE(db_->CreateIndex("shop", "orders", J("{status: 1, total: -1}")).ok());
  auto name = db_->CreateIndex("shop", "orders", J("{region: 1}"));
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(*name, "region_1");
  for (int i = 0; i < 200; ++i) {
    bson::Document d;
    d.Append("_id", int32_t{i});
    d.Append("status", i % 2 ? "pending" : "shipped");
    d.Append("total", int32_t{i});
    d.Append("region", "r" + std::to_string(i % 10));
    ASSERT_TRUE(db_->Insert("shop", "orders", {d}).errors.empty());
  }
  EXPECT_NE(PlanOf("orders", "{_id: 5}").find("IDHACK"), std::string::npos);
  EXPECT_NE(PlanOf("orders", "{region: 'r3'}").find("region_1"), std::string::npos);
  std::string p = PlanOf("orders", "{status: 'pending', total: {$gt: 190}}");
  EXPECT_NE(p.find("status_1_total_-1"), std::string::npos) << p;
  EXPECT_EQ(FindJson("orders", "{status: 'pending', total: {$gt: 190}}", "{}", "{_id: 1}"),
            "{_id: 199}\n{_id: 197}\n{_id: 195}\n{_id: 193}\n{_id: 191}\n");
  // Equality prefix + sort on the next field comes straight out of the index.
  p = PlanOf("orders", "{status: 'shipped'}", "{total: 1}");
  EXPECT_NE(p.find("providesSort: true"), std::string::npos) << p;
  EXPECT_EQ(FindJson("orders", "{status: 'shipped'}", "{total: 1}", "{_id: 1}", 0, 3),
            "{_id: 0}\n{_id: 2}\n{_id: 4}\n");
  EXPECT_EQ(FindJson("orders", "{region: {$in: ['r1', 'r2']}, total: {$lt: 30}}", "{_id: 1}", "{_id: 1}"),
            "{_id: 1}\n{_id: 2}\n{_id: 11}\n{_id: 12}\n{_id: 21}\n{_id: 22}\n");
  EXPECT_NE(PlanOf("orders", "{total: 5}").find("COLLSCAN"), std::string::npos);
  // Index option conflicts, as MongoDB reports them.
  IndexOptions unique;
  unique.unique = true;
  EXPECT_EQ(db_->CreateIndex("shop", "orders", J("{region: 1}"), unique).status().code(),
            ErrorCode::kIndexOptionsConflict);
  EXPECT_EQ(db_->CreateIndex("shop", "orders", J("{region: 'text'}")).status().code(),
            ErrorCode::kCannotCreateIndex);
}

TEST_F(DatabaseTest, MultikeyIndexDoesNotDuplicateOrMiss) {
  ASSERT_TRUE(db_->CreateIndex("shop", "p", J("{tags: 1}")).ok());
  InsertAll("p", R"(
    {_id: 1, tags: ["a", "b"]}
    {_id: 2, tags: [1, 20]}
    {_id: 3, tags: 15}
  )");
  EXPECT_EQ(FindJson("p", "{tags: {$in: ['a', 'b']}}"), "{_id: 1, tags: [\"a\", \"b\"]}\n");
  // {$gt: 5, $lt: 10} matches [1, 20]: each bound is met by some element.
  EXPECT_EQ(FindJson("p", "{tags: {$gt: 5, $lt: 10}}", "{}", "{_id: 1}"), "{_id: 2}\n");
  EXPECT_EQ(FindJson("p", "{tags: {$gt: 10, $lt: 16}}", "{_id: 1}", "{_id: 1}"), "{_id: 2}\n{_id: 3}\n");
}

TEST_F(DatabaseTest, UpdatesUpsertsAndDeletes) {
  InsertAll("c", "{_id: 1, n: 1, tags: ['x']}\n{_id: 2, n: 5}");
  UpdateStatement st;
  st.filter = J("{n: {$gte: 1}}");
  st.update = J("{$inc: {n: 10}, $push: {log: 'inc'}}");
  st.multi = true;
  auto r = db_->Update("shop", "c", st);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->matched, 2);
  EXPECT_EQ(r->modified, 2);
  EXPECT_EQ(FindJson("c", "{}"),
            "{_id: 1, n: 11, tags: [\"x\"], log: [\"inc\"]}\n{_id: 2, n: 15, log: [\"inc\"]}\n");
  // No-op update: matched but not modified.
  st = UpdateStatement{J("{_id: 1}"), J("{$set: {n: 11}}")};
  EXPECT_EQ(db_->Update("shop", "c", st)->modified, 0);
  // Positional $.
  st = UpdateStatement{J("{tags: 'x'}"), J("{$set: {'tags.$': 'y'}}")};
  ASSERT_TRUE(db_->Update("shop", "c", st).ok());
  EXPECT_EQ(FindJson("c", "{_id: 1}", "{}", "{tags: 1}"), "{_id: 1, tags: [\"y\"]}\n");
  // Upsert builds from the equality fields.
  st = UpdateStatement{J("{sku: 'k1', region: 'eu'}"), J("{$set: {qty: 3}}")};
  st.upsert = true;
  r = db_->Update("shop", "c", st);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->upserted_id.has_value());
  EXPECT_EQ(FindJson("c", "{sku: 'k1'}", "{}", "{_id: 0}"), "{sku: \"k1\", region: \"eu\", qty: 3}\n");
  // Invalid updates fail with MongoDB's codes and change nothing.
  st = UpdateStatement{J("{_id: 2}"), J("{$inc: {log: 1}}")};
  EXPECT_EQ(db_->Update("shop", "c", st).status().code(), ErrorCode::kTypeMismatch);
  st = UpdateStatement{J("{_id: 2}"), J("{$set: {_id: 3}}")};
  EXPECT_EQ(db_->Update("shop", "c", st).status().code(), ErrorCode::kImmutableField);
  st = UpdateStatement{J("{_id: 2}"), J("{$set: {a: 1}, $unset: {a: 1}}")};
  EXPECT_EQ(db_->Update("shop", "c", st).status().code(), ErrorCode::kConflictingUpdateOperators);
  EXPECT_EQ(FindJson("c", "{_id: 2}"), "{_id: 2, n: 15, log: [\"inc\"]}\n");
  // Replacement keeps _id.
  st = UpdateStatement{J("{_id: 2}"), J("{fresh: true}")};
  ASSERT_TRUE(db_->Update("shop", "c", st).ok());
  EXPECT_EQ(FindJson("c", "{_id: 2}"), "{_id: 2, fresh: true}\n");
  EXPECT_EQ(*db_->Delete("shop", "c", J("{}"), 1), 1);
  EXPECT_EQ(*db_->Delete("shop", "c", J("{}"), 0), 2);
  EXPECT_EQ(*db_->Count("shop", "c", J("{}")), 0);
}

TEST_F(DatabaseTest, UniqueViolationOnUpdateLeavesDocumentUnchanged) {
  ASSERT_TRUE(db_->CreateIndex("shop", "u", J("{email: 1}"), IndexOptions{"", true, false}).ok());
  InsertAll("u", "{_id: 1, email: 'a@x'}\n{_id: 2, email: 'b@x'}");
  UpdateStatement st{J("{_id: 2}"), J("{$set: {email: 'a@x'}}")};
  auto r = db_->Update("shop", "u", st);
  EXPECT_EQ(r.status().code(), ErrorCode::kDuplicateKey);
  EXPECT_EQ(FindJson("u", "{email: 'b@x'}"), "{_id: 2, email: \"b@x\"}\n");
}

// The seed article's inventory reservation: decrement stock only when enough is available,
// and record the reservation, in one atomic update per item.
TEST_F(DatabaseTest, SeedArticleOrderInventoryWorkflow) {
  InsertAll("inventory", R"(
    {_id: "sku-1", product: "Keyboard", available: 10, reserved: 0, reservations: []}
    {_id: "sku-2", product: "Mouse", available: 1, reserved: 0, reservations: []}
  )");
  InsertAll("orders", R"({_id: "o-1", customer_id: "c-1", status: "pending", items: [{product_id: "sku-1", quantity: 3}, {product_id: "sku-2", quantity: 2}], total_amount: 149.5})");
  auto order = *db_->Find("shop", "orders", FindOptions{J("{_id: 'o-1'}")});
  ASSERT_EQ(order.size(), 1u);
  int reserved = 0, failed = 0;
  for (const bson::Value& item : order[0].Get("items")->as_array()) {
    const bson::Document& it = item.as_document();
    bson::Document filter;
    filter.Append("_id", *it.Get("product_id"));
    filter.Append("available", bson::Document{{"$gte", *it.Get("quantity")}});
    bson::Document inc{{"available", int32_t(-it.Get("quantity")->as_int32())},
                       {"reserved", it.Get("quantity")->as_int32()}};
    bson::Document push{{"reservations", bson::Document{{"order_id", "o-1"},
                                                        {"quantity", *it.Get("quantity")}}}};
    auto r = db_->Update("shop", "inventory", UpdateStatement{filter, bson::Document{{"$inc", inc}, {"$push", push}}});
    ASSERT_TRUE(r.ok());
    (r->modified == 1 ? reserved : failed)++;
  }
  EXPECT_EQ(reserved, 1);
  EXPECT_EQ(failed, 1);  // only one mouse available
  EXPECT_EQ(FindJson("inventory", "{}", "{_id: 1}", "{available: 1, reserved: 1, reservations: 1}"),
            "{_id: \"sku-1\", available: 7, reserved: 3, reservations: [{order_id: \"o-1\", quantity: 3}]}\n"
            "{_id: \"sku-2\", available: 1, reserved: 0, reservations: []}\n");
  auto r = db_->Update("shop", "orders", UpdateStatement{J("{_id: 'o-1'}"), J("{$set: {status: 'partially_reserved'}}")});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->modified, 1);
}

TEST_F(DatabaseTest, DocumentsUpTo16MiBAndNoFurther) {
  // The largest document BSON allows is 16 MiB; one byte more is BSONObjectTooLarge (10334).
  bson::Document big{{"_id", int32_t{1}}, {"blob", std::string(16 * 1024 * 1024 - 31, 'x')}};
  InsertResult r = db_->Insert("shop", "big", {big});
  ASSERT_TRUE(r.errors.empty()) << r.errors[0].status.ToString();
  bson::Document bigger{{"_id", int32_t{2}}, {"blob", std::string(16 * 1024 * 1024, 'x')}};
  r = db_->Insert("shop", "big", {bigger});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].status.code(), ErrorCode::kBSONObjectTooLarge);
  // An update that would grow a document past the limit fails and changes nothing.
  UpdateStatement st{J("{_id: 1}"), J("{$set: {more: 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy'}}")};
  EXPECT_EQ(db_->Update("shop", "big", st).status().code(), ErrorCode::kBSONObjectTooLarge);
  auto found = db_->Find("shop", "big", FindOptions{J("{_id: 1}"), {}, J("{more: 1}")});
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(Render(*found), "{_id: 1}\n");
}

TEST_F(DatabaseTest, InvalidNamesAndSpecsAreClearErrors) {
  InsertResult r = db_->Insert("bad db", "c", {J("{_id: 1}")});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].status.code(), ErrorCode::kInvalidNamespace);
  r = db_->Insert("shop", "a$b", {J("{_id: 1}")});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].status.code(), ErrorCode::kInvalidNamespace);
  EXPECT_EQ(db_->CreateIndex("shop", "c", J("{}")).status().code(), ErrorCode::kCannotCreateIndex);
  EXPECT_EQ(db_->CreateIndex("shop", "c", J("{a: 0}")).status().code(), ErrorCode::kCannotCreateIndex);
  EXPECT_EQ(FindJson("c", "{}", "{a: 2}"), "error Location15975 (15975): $sort key ordering must be 1 (for ascending) or -1 (for descending)");
  EXPECT_NE(FindJson("c", "{}", "{}", "{a: 1, b: 0}").find("error"), std::string::npos);
  UpdateStatement st{J("{}"), J("{$frobnicate: {a: 1}}")};
  EXPECT_EQ(db_->Update("shop", "c", st).status().code(), ErrorCode::kFailedToParse);
  EXPECT_EQ(db_->Delete("shop", "c", J("{$where: 'x'}"), 0).status().code(), ErrorCode::kBadValue);
}

TEST_F(DatabaseTest, CollationAppliesToEveryOperation) {
  ASSERT_TRUE(db_->CreateIndex("shop", "tags", J("{x: 1}")).ok());
  InsertAll("tags", "{_id: 1, x: 'ping'} {_id: 2, x: 'PING'} {_id: 3, x: 'pong'} {_id: 4, x: 7}");
  const bson::Document ci = J("{locale: 'en_US', strength: 2}");
  FindOptions o;
  o.filter = J("{x: 'Ping'}");
  o.sort = J("{_id: 1}");
  o.collation = ci;
  auto found = db_->Find("shop", "tags", o);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(Render(*found), "{_id: 1, x: \"ping\"}\n{_id: 2, x: \"PING\"}\n");
  // The binary index cannot answer a collated string predicate: a collection scan is used.
  auto cur = db_->OpenFind("shop", "tags", o);
  ASSERT_TRUE(cur.ok());
  EXPECT_NE(bson::ToJson((*cur)->plan().Explain(), bson::JsonMode::kShell).find("COLLSCAN"),
            std::string::npos);
  // Numbers still use the index.
  o.filter = J("{x: 7}");
  auto num = db_->OpenFind("shop", "tags", o);
  ASSERT_TRUE(num.ok());
  EXPECT_NE(bson::ToJson((*num)->plan().Explain(), bson::JsonMode::kShell).find("IXSCAN"),
            std::string::npos);
  // Sorting under the collation: strength 2 makes ping == PING, so _id breaks the tie.
  o.filter = J("{x: {$type: 'string'}}");
  o.sort = J("{x: -1, _id: 1}");
  auto sorted = db_->Find("shop", "tags", o);
  ASSERT_TRUE(sorted.ok());
  EXPECT_EQ(Render(*sorted),
            "{_id: 3, x: \"pong\"}\n{_id: 1, x: \"ping\"}\n{_id: 2, x: \"PING\"}\n");

  LetAndCollation lc;
  lc.collation = ci;
  auto n = db_->Count("shop", "tags", J("{x: 'PING'}"), 0, 0, lc);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  auto distinct = db_->Distinct("shop", "tags", "x", J("{}"), lc);
  ASSERT_TRUE(distinct.ok());
  ASSERT_EQ(distinct->size(), 3u);  // 7, "ping" (first of ping/PING), "pong"
  EXPECT_EQ((*distinct)[1].as_string(), "ping");

  UpdateStatement st;
  st.filter = J("{x: 'PONG'}");
  st.update = J("{$set: {y: 1}}");
  st.collation = ci;
  auto u = db_->Update("shop", "tags", st);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->matched, 1);

  FindAndModifyRequest fam;
  fam.filter = J("{x: 'PING'}");
  fam.sort = J("{_id: -1}");
  fam.remove = true;
  fam.collation = ci;
  auto fr = db_->FindAndModify("shop", "tags", fam);
  ASSERT_TRUE(fr.ok()) << fr.status().ToString();
  ASSERT_TRUE(fr->value.has_value());
  EXPECT_EQ(fr->value->Get("_id")->ToInt64(), 2);

  auto d = db_->Delete("shop", "tags", J("{x: 'PiNg'}"), 0, lc);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, 1);

  // A bad spec fails the operation with mongod's error.
  LetAndCollation bad;
  bad.collation = J("{locale: 'en', strength: 7}");
  auto e = db_->Count("shop", "tags", J("{}"), 0, 0, bad);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code_number(), 9);
}

TEST_F(DatabaseTest, LetAppliesToFiltersAndPipelineUpdates) {
  InsertAll("people", "{_id: 1, name: 'ann'} {_id: 2, name: 'bob'} {_id: 3, name: 'ann'}");
  FindOptions o;
  o.filter = J("{$expr: {$eq: ['$name', '$$who']}}");
  o.let = J("{who: 'ann'}");
  auto found = db_->Find("shop", "people", o);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->size(), 2u);
  // The projection sees the variables too.
  o.projection = J("{_id: 1, who: '$$who', up: {$toUpper: '$$who'}}");
  o.sort = J("{_id: 1}");
  auto projected = db_->Find("shop", "people", o);
  ASSERT_TRUE(projected.ok()) << projected.status().ToString();
  EXPECT_EQ(Render(*projected),
            "{_id: 1, who: \"ann\", up: \"ANN\"}\n{_id: 3, who: \"ann\", up: \"ANN\"}\n");
  o.projection = bson::Document();
  o.sort = bson::Document();

  UpdateStatement st;
  st.filter = J("{$expr: {$eq: ['$_id', '$$id']}}");
  st.pipeline = J("{p: [{$set: {tag: '$$tag'}}]}").Get("p")->as_array();
  st.let = J("{id: 2, tag: {$toUpper: 'x'}}");
  auto u = db_->Update("shop", "people", st);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->modified, 1);
  EXPECT_EQ(FindJson("people", "{_id: 2}"), "{_id: 2, name: \"bob\", tag: \"X\"}\n");

  LetAndCollation lc;
  lc.let = J("{n: 'ann'}");
  auto d = db_->Delete("shop", "people", J("{$expr: {$eq: ['$name', '$$n']}}"), 0, lc);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, 2);

  o.let = J("{Who: 1}");
  auto bad = db_->Find("shop", "people", o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code_number(), 16867);
  // Without let the variable is undefined.
  o.let = bson::Document();
  auto undefined = db_->Find("shop", "people", o);
  ASSERT_FALSE(undefined.ok());
  EXPECT_EQ(undefined.status().code_number(), 17276);
}

}  // namespace
}  // namespace eddy::query
