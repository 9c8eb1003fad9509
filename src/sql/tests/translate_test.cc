#include <gtest/gtest.h>

#include "bson/json.h"
#include "sql/parser.h"
#include "sql/translate.h"

namespace eddy::sql {
namespace {

std::string Wire(std::string_view sql) {
  TranslateOptions o;
  o.database = "shop";
  o.now_millis = 0;
  auto t = TranslateSql(sql, o);
  if (!t.ok()) return t.status().ToString();
  return bson::ToJson(WireCommand(*t), bson::JsonMode::kShell);
}

// Every construct: the statement and the exact command it becomes (shell-syntax JSON, so types
// show: NumberLong(..) is int64, 2.5 is double, plain integers are int32).
TEST(Translate, Commands) {
  const std::pair<const char*, const char*> cases[] = {
      {R"SQL(SELECT * FROM orders)SQL",
       R"J({find: "orders", $db: "shop"})J"},
      {R"SQL(SELECT a, b FROM orders WHERE a = 1)SQL",
       R"J({find: "orders", filter: {a: 1}, projection: {_id: 0, a: 1, b: 1}, $db: "shop"})J"},
      {R"SQL(SELECT a AS x, s.region FROM orders WHERE a >= 1 AND a < 10 ORDER BY x DESC LIMIT 3 OFFSET 2)SQL",
       R"J({find: "orders", filter: {a: {$gte: 1, $lt: 10}}, projection: {_id: 0, x: "$a", region: "$s.region"}, sort: {a: -1}, skip: 2, limit: 3, $db: "shop"})J"},
      {R"SQL(SELECT _id, name FROM users WHERE tier IN ('gold', 'platinum'))SQL",
       R"J({find: "users", filter: {tier: {$in: ["gold", "platinum"]}}, projection: {_id: 1, name: 1}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE a NOT IN (1, 2))SQL",
       R"J({find: "t", filter: {a: {$nin: [1, 2, null]}}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE a NOT IN (1, NULL))SQL",
       R"J({find: "t", filter: {$expr: false}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE a = NULL)SQL",
       R"J({find: "t", filter: {$expr: false}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE a <> 'x')SQL",
       R"J({find: "t", filter: {a: {$nin: ["x", null]}}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE NOT (a > 5))SQL",
       R"J({find: "t", filter: {a: {$lte: 5}}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE NOT (a = 1 AND b = 2))SQL",
       R"J({find: "t", filter: {$or: [{a: {$nin: [1, null]}}, {b: {$nin: [2, null]}}]}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE a = 1 OR b = 2)SQL",
       R"J({find: "t", filter: {$or: [{a: 1}, {b: 2}]}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE a > 1 AND a < 5)SQL",
       R"J({find: "t", filter: {a: {$gt: 1, $lt: 5}}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE a BETWEEN 1 AND 5)SQL",
       R"J({find: "t", filter: {a: {$gte: 1, $lte: 5}}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE a NOT BETWEEN 1 AND 5)SQL",
       R"J({find: "t", filter: {$or: [{a: {$lt: 1}}, {a: {$gt: 5}}]}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE name LIKE 'J%n_')SQL",
       R"J({find: "t", filter: {name: {$regex: "^J.*n.$", $options: "s"}}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE name LIKE '100\%')SQL",
       R"J({find: "t", filter: {name: {$regex: "^100%$", $options: "s"}}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE name LIKE 'a.b*c%')SQL",
       R"J({find: "t", filter: {name: {$regex: "^a\\.b\\*c", $options: "s"}}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE name LIKE 'a!%b' ESCAPE '!')SQL",
       R"J({find: "t", filter: {name: {$regex: "^a%b$", $options: "s"}}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE name ILIKE '%smith')SQL",
       R"J({find: "t", filter: {name: {$regex: "^.*smith$", $options: "is"}}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE name NOT LIKE 'x%')SQL",
       R"J({find: "t", filter: {name: {$not: {$regex: "^x", $options: "s"}, $ne: null}}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE a IS NULL AND b IS NOT NULL)SQL",
       R"J({find: "t", filter: {a: null, b: {$ne: null}}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE a EXISTS AND NOT EXISTS(b))SQL",
       R"J({find: "t", filter: {a: {$exists: true}, b: {$exists: false}}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE items[0].qty > 2)SQL",
       R"J({find: "t", filter: {"items.0.qty": {$gt: 2}}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE active)SQL",
       R"J({find: "t", filter: {active: true}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE a > b)SQL",
       R"J({find: "t", filter: {$expr: {$gt: ["$a", "$b"]}}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE a + 1 > 5 AND c = 2)SQL",
       R"J({find: "t", filter: {$expr: {$gt: [{$add: ["$a", 1]}, 5]}, c: 2}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE created > CURRENT_TIMESTAMP - INTERVAL '1 hour')SQL",
       R"J({find: "t", filter: {$expr: {$gt: ["$created", {$subtract: ["$$NOW", NumberLong(3600000)]}]}}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE d >= DATE '2024-01-31')SQL",
       R"J({find: "t", filter: {d: {$gte: ISODate("2024-01-31T00:00:00Z")}}, $db: "shop"})J"},
      {R"SQL(SELECT a + 1 AS b, a * 2.5, a / 2, a % 3, -a, name || '!' FROM t)SQL",
       R"J({aggregate: "t", pipeline: [{$project: {_id: 0, b: {$add: ["$a", 1]}, "?column?": {$multiply: ["$a", 2.5]}, "?column?_1": {$divide: ["$a", 2]}, "?column?_2": {$mod: ["$a", 3]}, "?column?_3": {$subtract: [0, "$a"]}, "?column?_4": {$concat: ["$name", "!"]}}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT UPPER(name), LOWER(name), CONCAT(first, ' ', last), COALESCE(nick, name, 'anon') AS n FROM t)SQL",
       R"J({aggregate: "t", pipeline: [{$project: {_id: 0, upper: {$cond: [{$in: [{$type: "$name"}, ["missing", "null", "undefined"]]}, null, {$toUpper: "$name"}]}, lower: {$cond: [{$in: [{$type: "$name"}, ["missing", "null", "undefined"]]}, null, {$toLower: "$name"}]}, concat: {$concat: [{$ifNull: [{$toString: "$first"}, ""]}, " ", {$ifNull: [{$toString: "$last"}, ""]}]}, n: {$ifNull: ["$nick", {$ifNull: ["$name", "anon"]}]}}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT DATE_TRUNC('minute', ts, 5) AS bucket, EXTRACT(YEAR FROM ts) AS y, EXTRACT(DOW FROM ts) AS dow FROM t)SQL",
       R"J({aggregate: "t", pipeline: [{$project: {_id: 0, bucket: {$dateTrunc: {date: "$ts", unit: "minute", binSize: 5}}, y: {$year: "$ts"}, dow: {$subtract: [{$dayOfWeek: "$ts"}, 1]}}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT CAST(a AS INTEGER), b::float, CAST(c AS TEXT) AS c FROM t)SQL",
       R"J({aggregate: "t", pipeline: [{$project: {_id: 0, a: {$toInt: "$a"}, b: {$toDouble: "$b"}, c: {$toString: "$c"}}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT ARRAY_LENGTH(items) AS n FROM t)SQL",
       R"J({aggregate: "t", pipeline: [{$project: {_id: 0, n: {$cond: [{$isArray: ["$items"]}, {$size: "$items"}, null]}}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT CASE WHEN a > 10 THEN 'big' WHEN a > 5 THEN 'medium' ELSE 'small' END AS size FROM t)SQL",
       R"J({aggregate: "t", pipeline: [{$project: {_id: 0, size: {$switch: {branches: [{case: {$gt: ["$a", 10]}, then: "big"}, {case: {$gt: ["$a", 5]}, then: "medium"}], default: "small"}}}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT CASE status WHEN 'A' THEN 1 ELSE 0 END AS s FROM t)SQL",
       R"J({aggregate: "t", pipeline: [{$project: {_id: 0, s: {$switch: {branches: [{case: {$eq: ["$status", "A"]}, then: 1}], default: 0}}}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT 1 AS one, 'x' AS s, TRUE AS flag, NULL AS n FROM t)SQL",
       R"J({aggregate: "t", pipeline: [{$project: {_id: 0, one: {$literal: 1}, s: {$literal: "x"}, flag: {$literal: true}, n: {$literal: null}}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT DISTINCT a, b FROM t)SQL",
       R"J({aggregate: "t", pipeline: [{$project: {_id: 0, a: "$a", b: "$b"}}, {$group: {_id: "$$ROOT"}}, {$replaceRoot: {newRoot: "$_id"}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT COUNT(*) FROM t)SQL",
       R"J({aggregate: "t", pipeline: [{$group: {_id: null, __agg0: {$sum: 1}}}, {$project: {_id: 0, count: "$__agg0"}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT status, COUNT(*) AS n, SUM(total) AS s, AVG(total) AS avg, MIN(total), MAX(total) FROM orders GROUP BY status)SQL",
       R"J({aggregate: "orders", pipeline: [{$group: {_id: "$status", __agg0: {$sum: 1}, __agg1: {$sum: "$total"}, __agg2: {$avg: "$total"}, __agg3: {$min: "$total"}, __agg4: {$max: "$total"}}}, {$project: {_id: 0, status: "$_id", n: "$__agg0", s: "$__agg1", avg: "$__agg2", min: "$__agg3", max: "$__agg4"}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT region, status, COUNT(x) AS n FROM orders GROUP BY region, status ORDER BY n DESC)SQL",
       R"J({aggregate: "orders", pipeline: [{$group: {_id: {k0: "$region", k1: "$status"}, __agg0: {$sum: {$cond: [{$not: [{$in: [{$type: "$x"}, ["missing", "null", "undefined"]]}]}, 1, 0]}}}}, {$project: {_id: 0, region: "$_id.k0", status: "$_id.k1", n: "$__agg0"}}, {$sort: {n: -1}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT status, COUNT(*) FILTER (WHERE total > 100) AS big FROM orders GROUP BY 1 HAVING SUM(total) > 1000)SQL",
       R"J({aggregate: "orders", pipeline: [{$group: {_id: "$status", __agg0: {$sum: {$cond: [{$gt: ["$total", 100]}, 1, 0]}}, __agg1: {$sum: "$total"}}}, {$match: {$expr: {$gt: ["$__agg1", 1000]}}}, {$project: {_id: 0, status: "$_id", big: "$__agg0"}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT COUNT(DISTINCT user_id) AS u FROM orders)SQL",
       R"J({aggregate: "orders", pipeline: [{$group: {_id: null, __agg0: {$addToSet: "$user_id"}}}, {$project: {_id: 0, u: {$size: {$filter: {input: "$__agg0", cond: {$not: [{$in: [{$type: "$$this"}, ["missing", "null", "undefined"]]}]}}}}}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT o._id, u.name FROM orders o JOIN users u ON o.user_id = u._id)SQL",
       R"J({aggregate: "orders", pipeline: [{$lookup: {from: "users", localField: "user_id", foreignField: "_id", as: "u"}}, {$unwind: {path: "$u"}}, {$project: {_id: "$_id", name: "$u.name"}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT o._id, u.name FROM orders o LEFT JOIN users u ON u._id = o.user_id AND u.active = TRUE)SQL",
       R"J({aggregate: "orders", pipeline: [{$lookup: {from: "users", let: {v0: "$user_id"}, pipeline: [{$match: {$expr: {$and: [{$eq: ["$_id", "$$v0"]}, {$eq: ["$active", true]}]}}}], as: "u"}}, {$unwind: {path: "$u", preserveNullAndEmptyArrays: true}}, {$project: {_id: "$_id", name: "$u.name"}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT o.total, p.name FROM orders o JOIN users u ON o.user_id = u._id JOIN plans p ON u.plan = p.code)SQL",
       R"J({aggregate: "orders", pipeline: [{$lookup: {from: "users", localField: "user_id", foreignField: "_id", as: "u"}}, {$unwind: {path: "$u"}}, {$lookup: {from: "plans", localField: "u.plan", foreignField: "code", as: "p"}}, {$unwind: {path: "$p"}}, {$project: {_id: 0, total: "$total", name: "$p.name"}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT x FROM (SELECT a AS x FROM t) AS s ORDER BY x)SQL",
       R"J({aggregate: "t", pipeline: [{$project: {_id: 0, x: "$a"}}, {$sort: {x: 1}}, {$project: {_id: 0, x: "$x"}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT name, ROW_NUMBER() OVER (ORDER BY score DESC) AS rn, RANK() OVER (PARTITION BY team ORDER BY score DESC) AS r FROM players)SQL",
       R"J({aggregate: "players", pipeline: [{$setWindowFields: {sortBy: {score: -1}, output: {__win0: {$documentNumber: {}}}}}, {$setWindowFields: {partitionBy: "$team", sortBy: {score: -1}, output: {__win1: {$rank: {}}}}}, {$project: {_id: 0, name: "$name", rn: "$__win0", r: "$__win1"}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT name, SUM(score) OVER (PARTITION BY team) AS team_total FROM players)SQL",
       R"J({aggregate: "players", pipeline: [{$setWindowFields: {partitionBy: "$team", output: {__win0: {$sum: "$score"}}}}, {$project: {_id: 0, name: "$name", team_total: "$__win0"}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT name, LAG(score, 1, 0) OVER (ORDER BY day) AS prev FROM players)SQL",
       R"J({aggregate: "players", pipeline: [{$setWindowFields: {sortBy: {day: 1}, output: {__win0: {$shift: {output: "$score", by: -1, default: 0}}}}}, {$project: {_id: 0, name: "$name", prev: "$__win0"}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT team, SUM(score) AS s, RANK() OVER (ORDER BY SUM(score) DESC) AS r FROM players GROUP BY team)SQL",
       R"J({aggregate: "players", pipeline: [{$group: {_id: "$team", __agg0: {$sum: "$score"}}}, {$setWindowFields: {sortBy: {__agg0: -1}, output: {__win0: {$rank: {}}}}}, {$project: {_id: 0, team: "$_id", s: "$__agg0", r: "$__win0"}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT a FROM t ORDER BY b)SQL",
       R"J({find: "t", projection: {_id: 0, a: 1}, sort: {b: 1}, $db: "shop"})J"},
      {R"SQL(SELECT a + 1 AS x FROM t ORDER BY a)SQL",
       R"J({aggregate: "t", pipeline: [{$sort: {a: 1}}, {$project: {_id: 0, x: {$add: ["$a", 1]}}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT a FROM t LIMIT 0)SQL",
       R"J({aggregate: "t", pipeline: [{$project: {_id: 0, a: "$a"}}, {$limit: 1}, {$match: {$expr: false}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT operationType, fullDocument.total AS total FROM CHANGES(orders) WHERE operationType IN ('insert', 'update') LIMIT 5)SQL",
       R"J({aggregate: "orders", pipeline: [{$changeStream: {}}, {$match: {operationType: {$in: ["insert", "update"]}}}, {$project: {operationType: "$operationType", total: "$fullDocument.total"}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM CHANGES(*) WITH (full_document_before_change = 'whenAvailable', batch_size = 10, max_await_time = 200))SQL",
       R"J({aggregate: 1, pipeline: [{$changeStream: {fullDocumentBeforeChange: "whenAvailable"}}], cursor: {batchSize: 10}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM CHANGES(orders) WITH (start_at_operation_time = '1700000000,3'))SQL",
       R"J({aggregate: "orders", pipeline: [{$changeStream: {startAtOperationTime: Timestamp(1700000000, 3)}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(INSERT INTO t VALUES ({a: 1, b: [1, 2, {c: 'x'}]}), ({a: -2.5}))SQL",
       R"J({insert: "t", documents: [{a: 1, b: [1, 2, {c: "x"}]}, {a: -2.5}], ordered: true, $db: "shop"})J"},
      {R"SQL(INSERT INTO t (a, b.c, b.d) VALUES (1, 2, 3))SQL",
       R"J({insert: "t", documents: [{a: 1, b: {c: 2, d: 3}}], ordered: true, $db: "shop"})J"},
      {R"SQL(INSERT INTO t (at) VALUES (CURRENT_TIMESTAMP))SQL",
       R"J({insert: "t", documents: [{at: ISODate("1970-01-01T00:00:00Z")}], ordered: true, $db: "shop"})J"},
      {R"SQL(INSERT INTO t (oid, d) VALUES (OBJECTID('64b7f0c2a1b2c3d4e5f60718'), TIMESTAMP '2024-05-01 10:00:00'))SQL",
       R"J({insert: "t", documents: [{oid: ObjectId("64b7f0c2a1b2c3d4e5f60718"), d: ISODate("2024-05-01T10:00:00Z")}], ordered: true, $db: "shop"})J"},
      {R"SQL(INSERT INTO archive SELECT * FROM orders WHERE status = 'done')SQL",
       R"J({aggregate: "orders", pipeline: [{$match: {status: "done"}}, {$merge: {into: {db: "shop", coll: "archive"}, on: "_id", whenMatched: "fail", whenNotMatched: "insert"}}], cursor: {}, $db: "shop"})J"},
      {R"SQL(UPDATE t SET a = 1, b = NULL WHERE c = 2)SQL",
       R"J({update: "t", updates: [{q: {c: 2}, u: {$set: {a: 1, b: null}}, multi: true}], ordered: true, $db: "shop"})J"},
      {R"SQL(UPDATE t SET n = n + 1, m = m - 2, k = 3 * k)SQL",
       R"J({update: "t", updates: [{q: {}, u: {$inc: {n: 1, m: -2}, $mul: {k: 3}}, multi: true}], ordered: true, $db: "shop"})J"},
      {R"SQL(UPDATE t SET a = b + 1 WHERE c = 2)SQL",
       R"J({update: "t", updates: [{q: {c: 2}, u: [{$set: {a: {$add: ["$b", 1]}}}], multi: true}], ordered: true, $db: "shop"})J"},
      {R"SQL(UPDATE t SET items[0].qty = 5)SQL",
       R"J({update: "t", updates: [{q: {}, u: {$set: {"items.0.qty": 5}}, multi: true}], ordered: true, $db: "shop"})J"},
      {R"SQL(UPDATE t SET full = CONCAT(first, ' ', last), v = 1)SQL",
       R"J({update: "t", updates: [{q: {}, u: [{$set: {full: {$concat: [{$ifNull: [{$toString: "$first"}, ""]}, " ", {$ifNull: [{$toString: "$last"}, ""]}]}, v: {$literal: 1}}}], multi: true}], ordered: true, $db: "shop"})J"},
      {R"SQL(DELETE FROM t WHERE a < 5)SQL",
       R"J({delete: "t", deletes: [{q: {a: {$lt: 5}}, limit: 0}], ordered: true, $db: "shop"})J"},
      {R"SQL(DELETE FROM t)SQL",
       R"J({delete: "t", deletes: [{q: {}, limit: 0}], ordered: true, $db: "shop"})J"},
      {R"SQL(CREATE COLLECTION orders)SQL",
       R"J({create: "orders", $db: "shop"})J"},
      {R"SQL(CREATE COLLECTION IF NOT EXISTS orders)SQL",
       R"J({create: "orders", $db: "shop"})J"},
      {R"SQL(DROP COLLECTION IF EXISTS orders)SQL",
       R"J({drop: "orders", $db: "shop"})J"},
      {R"SQL(CREATE UNIQUE INDEX email_1 ON users (email))SQL",
       R"J({createIndexes: "users", indexes: [{key: {email: 1}, name: "email_1", unique: true}], $db: "shop"})J"},
      {R"SQL(CREATE INDEX ON orders (status, created DESC))SQL",
       R"J({createIndexes: "orders", indexes: [{key: {status: 1, created: -1}, name: "status_1_created_-1"}], $db: "shop"})J"},
      {R"SQL(DROP INDEX email_1 ON users)SQL",
       R"J({dropIndexes: "users", index: "email_1", $db: "shop"})J"},
      {R"SQL(SHOW COLLECTIONS)SQL",
       R"J({listCollections: 1, nameOnly: true, $db: "shop"})J"},
      {R"SQL(SELECT * FROM other.orders)SQL",
       R"J({find: "orders", $db: "other"})J"},
      {R"SQL(EXPLAIN SELECT a FROM t WHERE a > 1)SQL",
       R"J({find: "t", filter: {a: {$gt: 1}}, projection: {_id: 0, a: 1}, $db: "shop"})J"},
      {R"SQL(SELECT * FROM t WHERE a > 1 AND a < 5 AND a <> 3)SQL",
       R"J({find: "t", filter: {a: {$gt: 1, $lt: 5, $nin: [3, null]}}, $db: "shop"})J"},
  };
  for (const auto& [sql, want] : cases) EXPECT_EQ(Wire(sql), want) << sql;
}

TEST(Translate, ShapesColumnsAndOptions) {
  TranslateOptions o;
  auto sel = TranslateSql("SELECT a, b.c AS x, COUNT(*) FROM t GROUP BY a, b.c", o);
  ASSERT_TRUE(sel.ok()) << sel.status().ToString();
  EXPECT_EQ(sel->shape, ResultShape::kRows);
  EXPECT_EQ(sel->columns, (std::vector<std::string>{"a", "x", "count"}));
  EXPECT_EQ(sel->database, "test");
  auto star = TranslateSql("SELECT * FROM t", o);
  EXPECT_TRUE(star->columns.empty());
  auto cs = TranslateSql("SELECT _id, operationType FROM CHANGES(orders) LIMIT 3 WITH (max_await_time = 250)", o);
  ASSERT_TRUE(cs.ok()) << cs.status().ToString();
  EXPECT_EQ(cs->shape, ResultShape::kChangeStream);
  EXPECT_EQ(*cs->max_rows, 3);
  EXPECT_EQ(cs->await_ms, 250);
  EXPECT_EQ(cs->columns, (std::vector<std::string>{"_id", "operationType"}));
  auto ins = TranslateSql("INSERT INTO t (a) VALUES (1)", o);
  EXPECT_EQ(ins->shape, ResultShape::kWrite);
  auto ddl = TranslateSql("DROP COLLECTION IF EXISTS t", o);
  EXPECT_EQ(ddl->shape, ResultShape::kOk);
  EXPECT_EQ(ddl->ignore_codes, std::vector<int32_t>{26});
  auto ex = TranslateSql("EXPLAIN INSERT INTO t (a) VALUES (1)", o);
  EXPECT_EQ(ex->shape, ResultShape::kExplain);
  ASSERT_TRUE(ex->explained);
  EXPECT_EQ(ex->explained->shape, ResultShape::kWrite);
}

TEST(Translate, LikeEscapesEveryRegexMetacharacter) {
  // SQL text: '^$.|?*+()[]{}' then \\ (a literal backslash), \% (a literal %), then % (wildcard).
  EXPECT_EQ(Wire(R"(SELECT * FROM t WHERE s LIKE '^$.|?*+()[]{}\\\%%')"),
            R"J({find: "t", filter: {s: {$regex: "^\\^\\$\\.\\|\\?\\*\\+\\(\\)\\[\\]\\{\\}\\\\%", $options: "s"}}, $db: "shop"})J");
  EXPECT_EQ(Wire(R"(SELECT * FROM t WHERE s LIKE '50\%')"),
            R"J({find: "t", filter: {s: {$regex: "^50%$", $options: "s"}}, $db: "shop"})J");
}

struct ErrorCase {
  const char* sql;
  ErrorCode code;
  const char* message;
};

TEST(Translate, Errors) {
  const ErrorCase cases[] = {
      {"SELECT a, COUNT(*) FROM t", ErrorCode::kBadValue, "column 'a' must appear in GROUP BY"},
      {"SELECT a FROM t GROUP BY b", ErrorCode::kBadValue, "column 'a' must appear in GROUP BY"},
      {"SELECT * FROM t GROUP BY a", ErrorCode::kBadValue, "SELECT * cannot be combined"},
      {"SELECT a FROM t WHERE COUNT(*) > 1", ErrorCode::kBadValue, "not allowed in WHERE (use HAVING)"},
      {"SELECT a FROM t HAVING a > 1", ErrorCode::kBadValue, "HAVING needs GROUP BY"},
      {"SELECT SUM(COUNT(*)) FROM t", ErrorCode::kBadValue, "cannot be nested"},
      {"SELECT FOO(a) FROM t", ErrorCode::kBadValue, "unknown function FOO"},
      {"SELECT UPPER(a, b) FROM t", ErrorCode::kBadValue, "function UPPER takes 1 argument(s), got 2"},
      {"SELECT ROW_NUMBER() FROM t", ErrorCode::kBadValue, "requires OVER"},
      {"SELECT RANK() OVER (PARTITION BY a) FROM t", ErrorCode::kBadValue, "needs ORDER BY"},
      {"SELECT SUM(a) OVER w FROM t", ErrorCode::kBadValue, "window \"w\" is not defined"},
      {"SELECT a AS \"x.y\" FROM t", ErrorCode::kBadValue, "must not contain '.'"},
      {"SELECT a AS x, b AS x FROM t", ErrorCode::kBadValue, "is used twice"},
      {"SELECT a FROM t ORDER BY 3", ErrorCode::kBadValue, "ORDER BY position 3"},
      {"SELECT DISTINCT a FROM t ORDER BY b", ErrorCode::kBadValue, "must appear in the select list"},
      {"SELECT a FROM t WITH (full_document = 'updateLookup')", ErrorCode::kBadValue, "apply only to FROM CHANGES"},
      {"SELECT * FROM CHANGES(o) WITH (full_document = 'sometimes')", ErrorCode::kInvalidOptions, "full_document must be"},
      {"SELECT * FROM CHANGES(o) WITH (colour = 'red')", ErrorCode::kInvalidOptions, "unknown change-stream option colour"},
      {"SELECT * FROM CHANGES(o) WITH (batch_size = -1)", ErrorCode::kInvalidOptions, "batch_size must be"},
      {"SELECT * FROM CHANGES(o) ORDER BY a", ErrorCode::kNotImplemented, "ORDER BY over CHANGES()"},
      {"SELECT status, COUNT(*) FROM CHANGES(o) GROUP BY status", ErrorCode::kNotImplemented, "GROUP BY over CHANGES()"},
      {"SELECT 1", ErrorCode::kNotImplemented, "SELECT without FROM"},
      {"SELECT * FROM t WHERE a LIKE b", ErrorCode::kNotImplemented, "LIKE with a pattern that is not a string constant"},
      {"SELECT * FROM t WHERE a LIKE 'x\\'", ErrorCode::kBadValue, "ends with the escape character"},
      {"SELECT CAST(a AS GEOMETRY) FROM t", ErrorCode::kNotImplemented, "CAST to GEOMETRY"},
      {"SELECT DATE_TRUNC('fortnight', a) FROM t", ErrorCode::kBadValue, "DATE_TRUNC unit must be"},
      {"SELECT a FROM t JOIN t ON a = b", ErrorCode::kBadValue, "specified more than once"},
      {"INSERT INTO t (a) VALUES (b)", ErrorCode::kBadValue, "INSERT values must be constants"},
      {"INSERT INTO t (a, a) VALUES (1, 2)", ErrorCode::kBadValue, "is set twice"},
      {"INSERT INTO t (a, a.b) VALUES (1, 2)", ErrorCode::kBadValue, "conflicts with another column"},
      {"INSERT INTO t (a) SELECT * FROM u", ErrorCode::kBadValue, "without *"},
      {"INSERT INTO t (a) SELECT x, y FROM u", ErrorCode::kBadValue, "has 1 columns but the SELECT returns 2"},
      {"UPDATE t SET _id = 1", ErrorCode::kBadValue, "_id cannot be updated"},
      {"UPDATE t SET a = 1, a = 2", ErrorCode::kBadValue, "assigned twice"},
      {"UPDATE t SET a[0] = b", ErrorCode::kNotImplemented, "array index in the target of a computed SET"},
      {"UPDATE t SET a = SUM(b)", ErrorCode::kBadValue, "not allowed in UPDATE"},
      {"SELECT NTILE(0) OVER (ORDER BY a) FROM t", ErrorCode::kBadValue, "NTILE takes one positive integer"},
  };
  for (const auto& c : cases) {
    auto r = TranslateSql(c.sql, TranslateOptions{});
    ASSERT_FALSE(r.ok()) << c.sql;
    EXPECT_EQ(r.status().code(), c.code) << c.sql << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.message), std::string_view::npos)
        << c.sql << ": " << r.status().ToString();
  }
}

}  // namespace
}  // namespace eddy::sql
