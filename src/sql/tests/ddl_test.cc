// Change-stream DDL: every statement of the seed article parses into its typed definition and
// becomes exactly the checks and insert a driver would send; SHOW/DESCRIBE/DROP/ALTER; every
// error class.
#include <gtest/gtest.h>

#include "bson/json.h"
#include "sql/parser.h"
#include "sql/tests/seed_article.h"
#include "sql/translate.h"

namespace eddy::sql {
namespace {

TranslateOptions Opts() {
  TranslateOptions o;
  o.database = "shop";
  o.now_millis = 1'700'000'000'000;  // 2023-11-14T22:13:20Z
  return o;
}

std::string Json(const bson::Document& d) { return bson::ToJson(d, bson::JsonMode::kShell); }

// Checks then the command, one line each, as EXPLAIN prints them.
std::string Explain(std::string_view sql) {
  auto t = TranslateSql(sql, Opts());
  if (!t.ok()) return t.status().ToString();
  std::string out;
  for (const auto& c : t->checks) {
    bson::Document d = c.command;
    d.Append("$db", bson::Value(c.database));
    out += Json(d) + "\n";
  }
  return out + Json(WireCommand(*t));
}

Statement MustParse(std::string_view sql) {
  auto st = Parse(sql);
  EXPECT_TRUE(st.ok()) << st.status().ToString();
  return st.ok() ? std::move(*st) : Statement{};
}

// The inserted definition document of a CREATE.
bson::Document Stored(std::string_view sql) {
  auto t = TranslateSql(sql, Opts());
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  if (!t.ok()) return {};
  return t->command.Get("documents")->as_array()[0].as_document();
}

std::string PipelineOf(std::string_view sql) {
  bson::Document d = Stored(sql);
  const bson::Value* p = d.Get("pipeline");
  if (!p) return "(no pipeline)";
  bson::Document w;
  w.Append("pipeline", *p);
  return Json(w);
}

// ---- every statement of the seed article: the typed definition ----

TEST(DdlSeed, OrderProcessingStream) {
  Statement st = MustParse(seed::kOrderProcessingStream);
  ASSERT_EQ(st.kind, StatementKind::kCreateDefinition);
  const CreateDefinition& cd = *st.create_definition;
  EXPECT_EQ(cd.kind, DefinitionKind::kChangeStream);
  EXPECT_EQ(cd.name, "order_processing_stream");
  const ChangeStreamDef& d = *cd.stream;
  EXPECT_EQ(d.source.name, "orders");
  EXPECT_EQ(d.operations, (std::vector<std::string>{"insert", "update", "delete"}));
  ASSERT_TRUE(d.where);
  EXPECT_EQ(d.where->op, "AND");
  ASSERT_EQ(d.options.size(), 5u);
  EXPECT_EQ(d.options[4].name, "start_at_operation_time");
  EXPECT_EQ(d.handler, "order_lifecycle_handler");
  // now - 1 hour on the client clock; document fields are read from fullDocument.
  EXPECT_EQ(PipelineOf(seed::kOrderProcessingStream),
            R"J({pipeline: [{$changeStream: {fullDocument: "updateLookup", fullDocumentBeforeChange: "whenAvailable", startAtOperationTime: Timestamp(1699996400, 1)}}, {$match: {operationType: {$in: ["insert", "update", "delete"]}, "fullDocument.status": {$in: ["pending", "confirmed", "shipped", "delivered", "cancelled"]}, "fullDocument.total_amount": {$gt: 0}}}]})J");
  bson::Document doc = Stored(seed::kOrderProcessingStream);
  EXPECT_EQ(Json(doc.Get("definition")->as_document().Get("options")->as_document()),
            R"J({batch_size: 100, max_await_time_ms: 1000})J");
  EXPECT_EQ(doc.Get("status")->as_string(), "stored, not yet executable");
  EXPECT_EQ(doc.Get("state")->as_string(), "active");
  EXPECT_EQ(doc.Get("sql")->as_string(), std::string(seed::kOrderProcessingStream).substr(0, std::string(seed::kOrderProcessingStream).size() - 1));
}

TEST(DdlSeed, HighValueOrderStream) {
  Statement st = MustParse(seed::kHighValueOrderStream);
  const ChangeStreamDef& d = *st.create_definition->stream;
  EXPECT_EQ(d.operations, (std::vector<std::string>{"insert", "update"}));
  ASSERT_EQ(d.pipeline.size(), 3u);
  EXPECT_EQ(d.handler, "vip_order_processor");
  EXPECT_EQ(PipelineOf(seed::kHighValueOrderStream),
            R"J({pipeline: [{$changeStream: {}}, {$match: {operationType: {$in: ["insert", "update"]}, $or: [{operationType: "insert", "fullDocument.total_amount": {$gte: 1000}}, {operationType: "update", "updateDescription.updatedFields.status": {$exists: true}}]}}, {$match: {$or: [{operationType: "insert", "fullDocument.customer_tier": {$in: ["gold", "platinum"]}}, {operationType: "update", "fullDocument.total_amount": {$gte: 1000}}]}}, {$lookup: {from: "users", localField: "fullDocument.user_id", foreignField: "_id", as: "customer_data", pipeline: [{$project: {email: 1, customer_tier: 1, lifetime_value: 1, preferences: 1}}]}}, {$addFields: {processing_priority: {$switch: {branches: [{case: {$gte: ["$fullDocument.total_amount", 5000]}, then: "critical"}, {case: {$gte: ["$fullDocument.total_amount", 2000]}, then: "high"}, {case: {$gte: ["$fullDocument.total_amount", 1000]}, then: "medium"}], default: "normal"}}}}]})J");
  // $lookup is eddy's extension: the definition says so; and `users` is validated too.
  auto t = TranslateSql(seed::kHighValueOrderStream, Opts());
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->checks.size(), 3u);
  EXPECT_EQ(Json(t->checks[1].command), R"J({listCollections: 1, filter: {name: "users"}, nameOnly: true})J");
  EXPECT_TRUE(Stored(seed::kHighValueOrderStream).Get("definition")->as_document().Has("requires_eddy"));
}

TEST(DdlSeed, RealTimeOrderMetrics) {
  Statement st = MustParse(seed::kRealTimeOrderMetrics);
  EXPECT_EQ(st.create_definition->kind, DefinitionKind::kMaterializedChangeStream);
  const ChangeStreamDef& d = *st.create_definition->stream;
  ASSERT_EQ(d.group_by.size(), 2u);
  EXPECT_EQ(d.group_by[0].alias, "time_bucket");
  EXPECT_EQ(d.select.size(), 10u);
  EXPECT_EQ(d.select[2].alias, "new_orders");
  ASSERT_TRUE(d.select[2].expr->filter);
  ASSERT_TRUE(d.window);
  EXPECT_EQ(d.window->lower, -6);
  EXPECT_EQ(d.window->upper, 0);
  ASSERT_EQ(d.add.size(), 3u);
  EXPECT_EQ(d.add[0].expr->over->name, "window");
  EXPECT_EQ(d.add[2].alias, "order_trend");
  EXPECT_EQ(d.refresh_ms, 5000);
  EXPECT_EQ(d.handler, "analytics_event_handler");
  EXPECT_EQ(PipelineOf(seed::kRealTimeOrderMetrics),
            R"J({pipeline: [{$changeStream: {}}, {$match: {operationType: {$in: ["insert", "update", "delete"]}}}]})J");
  bson::Document agg = Stored(seed::kRealTimeOrderMetrics).Get("definition")->as_document().Get("aggregation")->as_document();
  EXPECT_EQ(Json(agg.Get("group_by")->as_array()[0].as_document()),
            R"J({name: "time_bucket", sql: "DATE_TRUNC('minute', clusterTime, 5)", expr: {$dateTrunc: {date: "$clusterTime", unit: "minute", binSize: 5}}})J");
  EXPECT_EQ(Json(agg.Get("window")->as_document()),
            R"J({order_by: [{sql: "time_bucket", descending: false}], frame: {type: "rows", lower: -6, upper: 0}})J");
}

TEST(DdlSeed, CustomerBehaviorAnalysis) {
  Statement st = MustParse(seed::kCustomerBehaviorAnalysis);
  const ChangeStreamDef& d = *st.create_definition->stream;
  ASSERT_EQ(d.blocks.size(), 1u);
  EXPECT_EQ(d.blocks[0].label, "CUSTOMER_SEGMENTATION");
  ASSERT_TRUE(d.blocks[0].query);
  const Select& q = *d.blocks[0].query;
  EXPECT_FALSE(q.from);
  EXPECT_EQ(q.items.size(), 14u);
  EXPECT_EQ(q.group_by.size(), 1u);
  ASSERT_EQ(q.windows.size(), 1u);
  EXPECT_EQ(q.windows[0].first, "customer_analysis");
  const WindowSpec& w = *q.windows[0].second;
  EXPECT_TRUE(w.range_frame);
  EXPECT_TRUE(w.interval_bounds);
  EXPECT_EQ(w.lower, -365LL * 86'400'000);
  EXPECT_EQ(w.upper, 0);
  EXPECT_EQ(PipelineOf(seed::kCustomerBehaviorAnalysis),
            R"J({pipeline: [{$changeStream: {}}, {$match: {operationType: {$in: ["insert", "update"]}, "fullDocument.status": {$in: ["completed", "delivered"]}}}]})J");
  bson::Document block = Stored(seed::kCustomerBehaviorAnalysis).Get("definition")->as_document().Get("blocks")->as_array()[0].as_document();
  EXPECT_EQ(block.Get("type")->as_string(), "query");
  EXPECT_EQ(block.Get("sql")->as_string().substr(0, 30), "CUSTOMER_SEGMENTATION (\n  -- C");
}

TEST(DdlSeed, InventorySyncStream) {
  Statement st = MustParse(seed::kInventorySyncStream);
  const ChangeStreamDef& d = *st.create_definition->stream;
  ASSERT_EQ(d.blocks.size(), 1u);
  ASSERT_TRUE(d.blocks[0].routine);
  const Action& r = *d.blocks[0].routine;
  EXPECT_FALSE(r.is_call);
  ASSERT_EQ(r.whens.size(), 3u);
  EXPECT_EQ(r.whens[0].second->procedure, "reserve_inventory");
  EXPECT_EQ(r.whens[0].second->args.size(), 2u);
  EXPECT_FALSE(r.whens[1].second->is_call);
  EXPECT_EQ(r.whens[1].second->whens.size(), 3u);
  EXPECT_EQ(r.whens[2].second->procedure, "cleanup_inventory_reservations");
  bson::Document def = Stored(seed::kInventorySyncStream).Get("definition")->as_document();
  EXPECT_EQ(Json(def.Get("options")->as_document()),
            R"J({retry_policy: {max_attempts: 3, backoff_strategy: "exponential", base_delay_ms: 1000}, dead_letter_queue: "inventory_sync_dlq", processing_timeout_ms: 30000})J");
  EXPECT_EQ(Json(def.Get("blocks")->as_array()[0].as_document().Get("routine")->as_document().Get("whens")->as_array()[2].as_document()),
            R"J({when: "'delete'", when_expr: "delete", then: {call: "cleanup_inventory_reservations", args: [{sql: "documentKey._id", expr: "$documentKey._id"}]}})J");
}

TEST(DdlSeed, OrderFulfillmentSaga) {
  Statement st = MustParse(seed::kOrderFulfillmentSaga);
  const SagaDef& d = *st.create_definition->saga;
  EXPECT_EQ(d.source.name, "orders");
  EXPECT_EQ(d.operation, "insert");
  EXPECT_EQ(d.steps.size(), 4u);
  EXPECT_EQ(d.options.size(), 3u);
  EXPECT_EQ(PipelineOf(seed::kOrderFulfillmentSaga),
            R"J({pipeline: [{$changeStream: {}}, {$match: {operationType: "insert", "fullDocument.status": "pending", "fullDocument.total_amount": {$gt: 0}}}]})J");
  bson::Document def = Stored(seed::kOrderFulfillmentSaga).Get("definition")->as_document();
  bson::Document step1 = def.Get("steps")->as_array()[0].as_document();
  step1.Set("sql", bson::Value(""));
  EXPECT_EQ(Json(step1),
            R"J({service: "payment-service", action: "process_payment", input: {order_id: "$documentKey._id", amount: "$fullDocument.total_amount", payment_method: "$fullDocument.payment_method"}, compensation: {service: "payment-service", action: "refund_payment", input: {$literal: {payment_id: "${payment_result.payment_id}"}}}, timeout_ms: 30000, sql: ""})J");
  EXPECT_EQ(Json(def.Get("options")->as_document()),
            R"J({max_retry_attempts: 3, compensation_timeout_ms: 60000, saga_timeout_ms: 300000})J");
}

TEST(DdlSeed, OrderEvents) {
  Statement st = MustParse(seed::kOrderEvents);
  const EventStoreDef& d = *st.create_definition->event_store;
  EXPECT_EQ(d.source.name, "orders");
  EXPECT_TRUE(d.source.database.empty());
  ASSERT_EQ(d.mapping.size(), 5u);
  EXPECT_EQ(d.mapping[0].name, "event_type");
  ASSERT_EQ(d.projections.size(), 2u);
  EXPECT_EQ(d.projections[1].name, "customer_orders");
  std::string p = PipelineOf(seed::kOrderEvents);
  // Pre- and post-images are requested because the mapping reads them.
  EXPECT_EQ(p.substr(0, 114), R"J({pipeline: [{$changeStream: {fullDocument: "updateLookup", fullDocumentBeforeChange: "whenAvailable"}}, {$project:)J");
  EXPECT_NE(p.find(R"J(event_data: {before: "$fullDocumentBeforeChange", after: "$fullDocument", changes: "$updateDescription"})J"), std::string::npos);
  EXPECT_NE(p.find(R"J(causation_id: "$fullDocument.correlation_id")J"), std::string::npos) << p;
}

TEST(DdlSeed, ComprehensiveMonitoring) {
  Statement st = MustParse(seed::kComprehensiveMonitoring);
  EXPECT_EQ(st.create_definition->kind, DefinitionKind::kMonitor);
  const MonitorDef& d = *st.create_definition->monitor;
  EXPECT_EQ(d.metrics.size(), 11u);
  ASSERT_EQ(d.alerts.size(), 4u);
  EXPECT_EQ(d.alerts[0].for_ms, 0);
  EXPECT_EQ(d.alerts[1].for_ms, 5 * 60'000);
  EXPECT_EQ(d.alerts[3].during, "BUSINESS_HOURS");
  EXPECT_EQ(d.alerts[3].notification, (std::vector<std::string>{"email:business-ops@company.com"}));
  bson::Document def = Stored(seed::kComprehensiveMonitoring).Get("definition")->as_document();
  EXPECT_EQ(Json(def.Get("alerts")->as_array()[1].as_document()),
            R"J({name: "high_error_rate", condition: "error_rate > 0.05", condition_expr: {$gt: ["$error_rate", 0.05]}, for_ms: 300000, severity: "high", notification: [{channel: "email", target: "ops-team@company.com"}, {channel: "slack", target: "#database-alerts"}]})J");
}

// Every seed statement: checks (collections, handlers) then one insert into eddy.<kind>.
TEST(DdlSeed, ChecksAndInsert) {
  const std::pair<const char*, const char*> cases[] = {
      {seed::kOrderProcessingStream, "streams"}, {seed::kHighValueOrderStream, "streams"},
      {seed::kRealTimeOrderMetrics, "streams"},  {seed::kCustomerBehaviorAnalysis, "streams"},
      {seed::kInventorySyncStream, "streams"},   {seed::kOrderFulfillmentSaga, "sagas"},
      {seed::kOrderEvents, "event_stores"},      {seed::kComprehensiveMonitoring, "monitors"}};
  for (const auto& [sql, coll] : cases) {
    auto t = TranslateSql(sql, Opts());
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ(t->database, "eddy");
    EXPECT_EQ(t->command.at(0).name, "insert");
    EXPECT_EQ(t->command.at(0).value.as_string(), coll);
    EXPECT_EQ(t->error_messages.size(), 1u);
    bson::Document doc = t->command.Get("documents")->as_array()[0].as_document();
    EXPECT_EQ(doc.Get("created")->as_date().millis, 1'700'000'000'000);
    for (const auto& c : t->checks) {
      EXPECT_TRUE(c.command.at(0).name == "listCollections" || c.command.at(0).name == "find");
      EXPECT_FALSE(c.failure.ok());
    }
    // EXPLAIN of the same statement: the same translation, nothing else.
    auto e = TranslateSql(std::string("EXPLAIN ") + sql, Opts());
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->shape, ResultShape::kExplain);
    EXPECT_EQ(Json(WireCommand(*e->explained)), Json(WireCommand(*t)));
  }
}

// Stored expression texts re-parse (the runtime compiles them from the stored SQL).
TEST(DdlSeed, StoredExpressionsReparse) {
  Statement st = MustParse(seed::kRealTimeOrderMetrics);
  for (const auto& items : {&st.create_definition->stream->select, &st.create_definition->stream->add}) {
    for (const auto& it : *items) {
      auto e = ParseExpression(it.expr->text);
      EXPECT_TRUE(e.ok()) << it.expr->text << ": " << e.status().ToString();
    }
  }
}

// ---- handlers ----

TEST(Ddl, Handlers) {
  const std::pair<const char*, const char*> cases[] = {
      {"CREATE HANDLER h AS LOG", R"J({type: "log", target: "", definition: {}})J"},
      {"CREATE HANDLER h AS LOG WITH (level = 'warn', format = 'json')",
       R"J({type: "log", target: "", definition: {options: {level: "warn", format: "json"}}})J"},
      {"CREATE HANDLER h AS WEBHOOK 'https://x.example/hook' WITH (headers = {'X-Key': 'k'}, timeout = INTERVAL '2 seconds')",
       R"J({type: "webhook", target: "https://x.example/hook", definition: {url: "https://x.example/hook", options: {headers: {"X-Key": "k"}, timeout_ms: 2000}}})J"},
      {"CREATE HANDLER h AS NATS SUBJECT 'orders.created' WITH (stream = 'ORDERS')",
       R"J({type: "nats", target: "orders.created", definition: {subject: "orders.created", options: {stream: "ORDERS"}}})J"},
      {"CREATE HANDLER h AS COLLECTION audit.log_events WITH (mode = 'upsert')",
       R"J({type: "collection", target: "audit.log_events", definition: {collection: {db: "audit", collection: "log_events"}, options: {mode: "upsert"}}})J"},
      {"CREATE HANDLER h AS COMMAND 'jq -c .' WITH (timeout = 1500)",
       R"J({type: "command", target: "jq -c .", definition: {command: "jq -c .", options: {timeout_ms: 1500}}})J"},
  };
  for (const auto& [sql, want] : cases) {
    bson::Document doc = Stored(sql);
    bson::Document got;
    for (const char* k : {"type", "target", "definition"}) {
      if (const bson::Value* v = doc.Get(k)) got.Append(k, *v);
    }
    EXPECT_EQ(Json(got), want) << sql;
    EXPECT_FALSE(doc.Has("state")) << "handlers have no pause state";
  }
}

// ---- SHOW / DESCRIBE / DROP / ALTER: the exact commands ----

TEST(Ddl, ManagementCommands) {
  const std::pair<const char*, const char*> cases[] = {
      {"SHOW CHANGE STREAMS",
       R"J({find: "streams", sort: {_id: 1}, projection: {_id: 0, name: 1, kind: 1, source: 1, handler: 1, state: 1, status: 1, created: 1}, $db: "eddy"})J"},
      {"SHOW MATERIALIZED CHANGE STREAMS",
       R"J({find: "streams", filter: {kind: "materialized_change_stream"}, sort: {_id: 1}, projection: {_id: 0, name: 1, kind: 1, source: 1, handler: 1, state: 1, status: 1, created: 1}, $db: "eddy"})J"},
      {"SHOW HANDLERS",
       R"J({find: "handlers", sort: {_id: 1}, projection: {_id: 0, name: 1, type: 1, target: 1, status: 1, created: 1}, $db: "eddy"})J"},
      {"SHOW EVENT STORES",
       R"J({find: "event_stores", sort: {_id: 1}, projection: {_id: 0, name: 1, kind: 1, source: 1, handler: 1, state: 1, status: 1, created: 1}, $db: "eddy"})J"},
      {"SHOW SAGAS",
       R"J({find: "sagas", sort: {_id: 1}, projection: {_id: 0, name: 1, kind: 1, source: 1, handler: 1, state: 1, status: 1, created: 1}, $db: "eddy"})J"},
      {"SHOW CHANGE STREAM MONITORS",
       R"J({find: "monitors", sort: {_id: 1}, projection: {_id: 0, name: 1, kind: 1, state: 1, status: 1, created: 1}, $db: "eddy"})J"},
      {"DESCRIBE CHANGE STREAM s",
       R"J({find: "streams", filter: {_id: "s", kind: "change_stream"}, sort: {_id: 1}, projection: {_id: 0, name: 1, kind: 1, state: 1, status: 1, created: 1, sql: 1, definition: 1, pipeline: 1}, $db: "eddy"})J"},
      {"DESCRIBE s",
       R"J({aggregate: "streams", pipeline: [{$match: {_id: "s"}}, {$unionWith: {coll: "event_stores", pipeline: [{$match: {_id: "s"}}]}}, {$unionWith: {coll: "sagas", pipeline: [{$match: {_id: "s"}}]}}, {$unionWith: {coll: "monitors", pipeline: [{$match: {_id: "s"}}]}}, {$unionWith: {coll: "handlers", pipeline: [{$match: {_id: "s"}}]}}, {$sort: {kind: 1, _id: 1}}, {$project: {_id: 0, name: 1, kind: 1, state: 1, status: 1, created: 1, sql: 1, definition: 1, pipeline: 1}}], cursor: {}, $db: "eddy"})J"},
      {"DROP MATERIALIZED CHANGE STREAM m",
       R"J({delete: "streams", deletes: [{q: {_id: "m", kind: "materialized_change_stream"}, limit: 1}], ordered: true, $db: "eddy"})J"},
      {"DROP EVENT STORE IF EXISTS e",
       R"J({delete: "event_stores", deletes: [{q: {_id: "e"}, limit: 1}], ordered: true, $db: "eddy"})J"},
      {"ALTER DISTRIBUTED SAGA g RESUME",
       R"J({update: "sagas", updates: [{q: {_id: "g"}, u: {$set: {state: "active"}, $currentDate: {updated: true}}}], ordered: true, $db: "eddy"})J"},
      {"ALTER CHANGE STREAM MONITOR mon PAUSE",
       R"J({update: "monitors", updates: [{q: {_id: "mon"}, u: {$set: {state: "paused"}, $currentDate: {updated: true}}}], ordered: true, $db: "eddy"})J"},
  };
  for (const auto& [sql, want] : cases) {
    auto t = TranslateSql(sql, Opts());
    ASSERT_TRUE(t.ok()) << sql << ": " << t.status().ToString();
    EXPECT_EQ(Json(WireCommand(*t)), want) << sql;
  }
  // Unknown names fail at execution (n == 0 / no row) with NoSuchKey, unless IF EXISTS.
  auto drop = TranslateSql("DROP CHANGE STREAM s", Opts());
  ASSERT_TRUE(drop.ok() && drop->if_none);
  EXPECT_EQ(drop->if_none->code(), ErrorCode::kNoSuchKey);
  EXPECT_EQ(drop->if_none->message(), "at 1:20: no change stream named 's'");
  auto drop_if = TranslateSql("DROP CHANGE STREAM IF EXISTS s", Opts());
  EXPECT_FALSE(drop_if->if_none);
  // DROP HANDLER refuses while a stream uses it.
  auto dh = TranslateSql("DROP HANDLER h", Opts());
  ASSERT_EQ(dh->checks.size(), 1u);
  EXPECT_FALSE(dh->checks[0].fail_if_empty);
  EXPECT_EQ(Json(dh->checks[0].command), R"J({find: "streams", filter: {handler: "h"}, projection: {_id: 1}, limit: 1})J");
  // Duplicates: the server's DuplicateKey, reworded; IF NOT EXISTS ignores it.
  auto dup = TranslateSql("CREATE HANDLER IF NOT EXISTS h AS LOG", Opts());
  EXPECT_EQ(dup->ignore_codes, std::vector<int32_t>{11000});
  EXPECT_EQ(dup->error_messages[0].second, "handler 'h' already exists in eddy.handlers");
}

// ---- every error class ----

struct ErrorCase {
  const char* sql;
  ErrorCode code;
  const char* message;
};

TEST(Ddl, Errors) {
  const ErrorCase cases[] = {
      // syntax: line:column, the token, what was expected
      {"CREATE CHANGE STREAM s", ErrorCode::kFailedToParse, "1:23 near end of input: expected ON"},
      {"CREATE CHANGE STREAM s ON orders WATCH FOR (INSERT, UPSERT)", ErrorCode::kFailedToParse, "1:53 near 'UPSERT': expected an operation"},
      {"CREATE CHANGE STREAM s ON orders WATCH FOR (INSERT, INSERT)", ErrorCode::kFailedToParse, "1:53 near 'INSERT': expected an operation not already listed"},
      {"CREATE CHANGE STREAM s ON orders\nWITH PIPELINE ($match)", ErrorCode::kFailedToParse, "2:16 near '$match': expected a pipeline stage ({...})"},
      {"CREATE CHANGE STREAM s ON orders WITH OPTIONS (a = 1, a = 2)", ErrorCode::kFailedToParse, "expected an option not already given"},
      {"CREATE CHANGE STREAM s ON orders WITH BOGUS (42)", ErrorCode::kFailedToParse, "expected SELECT (an analysis query) or CASE/CALL (an event routine) in WITH BOGUS"},
      {"CREATE CHANGE STREAM s ON orders WITH AGGREGATION (GROUP BY (a) SELECT COUNT(*) AS n)", ErrorCode::kFailedToParse, "WITH AGGREGATION needs CREATE MATERIALIZED CHANGE STREAM"},
      {"CREATE MATERIALIZED CHANGE STREAM m ON orders WATCH FOR (INSERT)", ErrorCode::kFailedToParse, "expected WITH AGGREGATION (...) in a materialized change stream"},
      {"CREATE MATERIALIZED CHANGE STREAM m ON orders WITH AGGREGATION (GROUP BY (a) SELECT COUNT(*) AS n)", ErrorCode::kFailedToParse, "expected REFRESH"},
      {"CREATE MATERIALIZED CHANGE STREAM m ON orders WITH AGGREGATION (GROUP BY (a) SELECT COUNT(*) AS n) REFRESH EVERY 5 FORTNIGHTS", ErrorCode::kFailedToParse, "1:116 near 'FORTNIGHTS': expected an interval like '5 minutes'"},
      {"CREATE MATERIALIZED CHANGE STREAM m ON orders WITH AGGREGATION (GROUP BY (a) SELECT COUNT(*) AS n) REFRESH EVERY '3 months'", ErrorCode::kNotImplemented, "month and year intervals"},
      {"CREATE MATERIALIZED CHANGE STREAM m ON orders WITH AGGREGATION (GROUP BY (a) SELECT COUNT(*) AS n) REFRESH EVERY '0 seconds'", ErrorCode::kFailedToParse, "expected a positive refresh period"},
      {"CREATE DISTRIBUTED SAGA g TRIGGERED BY orders WITH STEPS ({service: 'a', action: 'b'})", ErrorCode::kFailedToParse, "expected TRIGGERED BY collection.operation"},
      {"CREATE DISTRIBUTED SAGA g TRIGGERED BY orders.insert", ErrorCode::kFailedToParse, "expected WITH STEPS (...)"},
      {"CREATE EVENT STORE e FROM CHANGE STREAM orders.*", ErrorCode::kFailedToParse, "expected WITH EVENT_MAPPING (...)"},
      {"CREATE CHANGE STREAM MONITOR m WITH ALERTS (a = {condition: x > 1, colour: 'red'})", ErrorCode::kFailedToParse, "unknown alert key 'colour'"},
      {"CREATE CHANGE STREAM MONITOR m WITH METRICS (x) WITH ALERTS (a = {condition: x > 1 FOR 0 MINUTES})", ErrorCode::kFailedToParse, "expected a positive duration after FOR"},
      {"CREATE HANDLER h AS FAX '555'", ErrorCode::kFailedToParse, "1:21 near 'FAX': expected LOG, WEBHOOK, NATS SUBJECT, COLLECTION or COMMAND"},
      {"CREATE HANDLER h AS WEBHOOK ''", ErrorCode::kFailedToParse, "expected a URL string after WEBHOOK (not empty)"},
      {"ALTER CHANGE STREAM s STOP", ErrorCode::kFailedToParse, "1:23 near 'STOP': expected PAUSE or RESUME"},
      {"SHOW CHANGE STREAM", ErrorCode::kFailedToParse, "expected STREAMS"},
      {"SHOW WIDGETS", ErrorCode::kFailedToParse, "expected COLLECTIONS, DEFINITIONS, CHANGE STREAMS"},
      {"DROP CHANGE STREAM", ErrorCode::kFailedToParse, "expected a change stream name"},
      {"ALTER HANDLER h PAUSE", ErrorCode::kNotImplemented, "ALTER HANDLER"},
      // bad or unknown options: InvalidOptions naming the option
      {"CREATE CHANGE STREAM s ON orders WITH OPTIONS (full_document = 'sometimes')", ErrorCode::kInvalidOptions, "option full_document must be 'default', 'updateLookup', 'whenAvailable', 'required', got 'sometimes'"},
      {"CREATE CHANGE STREAM s ON orders WITH OPTIONS (batch_sise = 5)", ErrorCode::kInvalidOptions, "unknown change-stream option batch_sise"},
      {"CREATE CHANGE STREAM s ON orders WITH OPTIONS (batch_size = -1)", ErrorCode::kInvalidOptions, "batch_size must be an integer >= 0, got -1"},
      {"CREATE CHANGE STREAM s ON orders WITH OPTIONS (processing_timeout = '5 fortnights')", ErrorCode::kInvalidOptions, "processing_timeout must be a duration like '30 seconds'"},
      {"CREATE CHANGE STREAM s ON orders WITH OPTIONS (processing_timeout = '0 seconds')", ErrorCode::kInvalidOptions, "processing_timeout must be positive"},
      {"CREATE CHANGE STREAM s ON orders WITH OPTIONS (start_at_operation_time = 'yesterday')", ErrorCode::kInvalidOptions, "start_at_operation_time must be a time"},
      {"CREATE CHANGE STREAM s ON orders WITH OPTIONS (retry_policy = {max_attempts: 0})", ErrorCode::kInvalidOptions, "retry_policy.max_attempts must be an integer >= 1"},
      {"CREATE CHANGE STREAM s ON orders WITH OPTIONS (retry_policy = {backoff_strategy: 'random'})", ErrorCode::kInvalidOptions, "backoff_strategy must be 'exponential', 'linear', 'fixed'"},
      {"CREATE CHANGE STREAM s ON orders WITH OPTIONS (retry_policy = {jitter: true})", ErrorCode::kInvalidOptions, "unknown key 'jitter' in retry_policy"},
      {"CREATE CHANGE STREAM s ON orders WITH OPTIONS (dead_letter_queue = 'a$b')", ErrorCode::kInvalidOptions, "dead_letter_queue must be a collection name"},
      {"CREATE DISTRIBUTED SAGA g TRIGGERED BY orders.insert WITH STEPS ({service: 'a'})", ErrorCode::kInvalidOptions, "step 1 needs action"},
      {"CREATE DISTRIBUTED SAGA g TRIGGERED BY orders.insert WITH STEPS ({service: 'a', action: 'b', timeout: 'soon'})", ErrorCode::kInvalidOptions, "step 1.timeout must be a duration"},
      {"CREATE DISTRIBUTED SAGA g TRIGGERED BY orders.insert WITH STEPS ({service: 'a', action: 'b'}) WITH SAGA_OPTIONS (retries = 1)", ErrorCode::kInvalidOptions, "unknown saga option retries"},
      {"CREATE HANDLER h AS WEBHOOK 'ftp://x'", ErrorCode::kInvalidOptions, "webhook URL must be http://host/... or https://host/..."},
      {"CREATE HANDLER h AS NATS SUBJECT 'orders.*'", ErrorCode::kInvalidOptions, "NATS subject 'orders.*' must be dot-separated tokens"},
      {"CREATE HANDLER h AS LOG WITH (timeout = 5)", ErrorCode::kInvalidOptions, "unknown handler option timeout for a log handler (known: format, level)"},
      {"CREATE HANDLER h AS WEBHOOK 'https://x/y' WITH (method = 'GET')", ErrorCode::kInvalidOptions, "handler option method must be 'POST', 'PUT'"},
      {"CREATE CHANGE STREAM MONITOR m WITH METRICS (x) WITH ALERTS (a = {condition: x > 1, severity: 'dire', notification: 'pager'})", ErrorCode::kInvalidOptions, "severity must be 'critical', 'high', 'medium', 'low' or 'info', got 'dire'"},
      {"CREATE CHANGE STREAM MONITOR m WITH METRICS (x) WITH ALERTS (a = {condition: x > 1, severity: 'high', notification: ['carrier-pigeon']})", ErrorCode::kInvalidOptions, "notification target 'carrier-pigeon'"},
      // semantic errors: BadValue naming the problem
      {"CREATE MATERIALIZED CHANGE STREAM m ON orders WITH AGGREGATION (GROUP BY (fullDocument.region AS region) SELECT region, total AS t) REFRESH EVERY 5 SECONDS", ErrorCode::kBadValue, "1:121: column total must be inside an aggregate or name an output column (region)"},
      {"CREATE MATERIALIZED CHANGE STREAM m ON orders WITH AGGREGATION (GROUP BY (fullDocument.region AS r) SELECT COUNT(*) AS r) REFRESH EVERY 5 SECONDS", ErrorCode::kBadValue, "output column r is defined twice"},
      {"CREATE MATERIALIZED CHANGE STREAM m ON orders WITH AGGREGATION (GROUP BY (fullDocument.region AS r) SELECT COUNT(*) AS n ADD (AVG(n) OVER window AS a)) REFRESH EVERY 5 SECONDS", ErrorCode::kBadValue, "uses OVER window but there is no WINDOW (...) clause"},
      {"CREATE MATERIALIZED CHANGE STREAM m ON orders WITH AGGREGATION (GROUP BY (fullDocument.region AS r) SELECT COUNT(*) AS n WINDOW (ORDER BY r) ADD (AVG(zz) OVER window AS a)) REFRESH EVERY 5 SECONDS", ErrorCode::kBadValue, "column zz"},
      {"CREATE DISTRIBUTED SAGA g TRIGGERED BY orders.drop WITH STEPS ({service: 'a', action: 'b'})", ErrorCode::kBadValue, "a saga is triggered by insert, update, replace or delete, not 'drop'"},
      {"CREATE EVENT STORE e FROM CHANGE STREAM orders.* WITH EVENT_MAPPING (t = operationType) WITH PROJECTIONS (p = {x: y})", ErrorCode::kBadValue, "projection p reads y, which is not an event field of the EVENT_MAPPING (t)"},
      {"CREATE CHANGE STREAM MONITOR m WITH METRICS (x) WITH ALERTS (a = {condition: y > 1, severity: 'high', notification: 'pager'})", ErrorCode::kBadValue, "alert a reads y, which is not in WITH METRICS (...)"},
      {"CREATE CHANGE STREAM s ON orders WITH Q (SELECT a FROM t)", ErrorCode::kBadValue, "reads the stream's events: drop its FROM"},
      {"CREATE CHANGE STREAM s ON orders WHERE NO_SUCH_FN(a) > 1", ErrorCode::kBadValue, "NO_SUCH_FN"},
      // pipeline stages: MongoDB's codes
      {"CREATE CHANGE STREAM s ON orders WITH PIPELINE ({$group: {_id: 1}})", ErrorCode::kIllegalOperation, "stage $group is not allowed in a change stream pipeline"},
      {"CREATE CHANGE STREAM s ON orders WITH PIPELINE ({$out: 'x'})", ErrorCode::kIllegalOperation, "stage $out is not allowed"},
      {"CREATE CHANGE STREAM s ON orders WITH PIPELINE ({$frob: 1})", static_cast<ErrorCode>(40324), "Unrecognized pipeline stage name: '$frob'"},
      {"CREATE CHANGE STREAM s ON orders WITH PIPELINE ({$match: {a: 1}, $project: {a: 1}})", ErrorCode::kFailedToParse, "exactly one field"},
  };
  for (const auto& c : cases) {
    auto t = TranslateSql(c.sql, Opts());
    ASSERT_FALSE(t.ok()) << c.sql;
    EXPECT_EQ(t.status().code(), c.code) << c.sql << ": " << t.status().ToString();
    EXPECT_NE(t.status().message().find(c.message), std::string::npos)
        << c.sql << "\n  got: " << t.status().message() << "\n  want: " << c.message;
  }
}

// Checks against the server: unknown collections (NamespaceNotFound) and handlers (NoSuchKey)
// are reported at execution, by the checks the shell sends first.
TEST(Ddl, ServerChecks) {
  auto t = TranslateSql("CREATE CHANGE STREAM s ON sales.orders PROCESS WITH h", Opts());
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->checks.size(), 2u);
  EXPECT_EQ(t->checks[0].database, "sales");
  EXPECT_TRUE(t->checks[0].fail_if_empty);
  EXPECT_EQ(t->checks[0].failure.code(), ErrorCode::kNamespaceNotFound);
  EXPECT_EQ(t->checks[0].failure.message(), "at 1:27: collection sales.orders does not exist (change stream s watches it)");
  EXPECT_EQ(t->checks[1].database, "eddy");
  EXPECT_EQ(t->checks[1].failure.code(), ErrorCode::kNoSuchKey);
  EXPECT_EQ(t->checks[1].failure.message(), "at 1:53: unknown handler 'h' (CREATE HANDLER h AS ... first; SHOW HANDLERS lists them)");
  auto m = TranslateSql("CREATE CHANGE STREAM MONITOR mon ON s WITH METRICS (error_rate)", Opts());
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->checks.size(), 1u);
  EXPECT_EQ(Json(m->checks[0].command), R"J({find: "streams", filter: {_id: "s"}, projection: {_id: 1}, limit: 1})J");
}

// INTERVAL frame bounds also work in plain SELECT windows (window.range with a unit).
TEST(Ddl, IntervalFrameInSelect) {
  auto t = TranslateSql("SELECT SUM(x) OVER (ORDER BY d RANGE BETWEEN INTERVAL '1 day' PRECEDING AND CURRENT ROW) AS s FROM t", Opts());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_NE(Json(t->command).find(R"J(window: {range: [-86400000, "current"], unit: "millisecond"})J"), std::string::npos) << Json(t->command);
  auto r = TranslateSql("SELECT SUM(x) OVER (ORDER BY d ROWS BETWEEN INTERVAL '1 day' PRECEDING AND CURRENT ROW) AS s FROM t", Opts());
  EXPECT_EQ(r.status().code(), ErrorCode::kFailedToParse);
  auto tc = TranslateSql("SELECT TITLE_CASE(s) AS t FROM t", Opts());
  ASSERT_TRUE(tc.ok()) << tc.status().ToString();
}

}  // namespace
}  // namespace eddy::sql
