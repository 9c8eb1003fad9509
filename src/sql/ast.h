// The typed AST of the SQL dialect (docs/sql.md). Produced by Parse() (parser.h), consumed by
// Translate() (translate.h). Plain data: movable, not copyable (children are unique_ptrs).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bson/value.h"
#include "sql/lexer.h"

namespace eddy::sql {

struct Select;

// One step of a column path: a field name, or an array index written items[0].
struct PathStep {
  std::string name;               // field name; empty for an index step
  std::optional<int64_t> index;   // set for [n]
  bool operator==(const PathStep&) const = default;
};

enum class ExprKind {
  kLiteral,   // literal: null, true/false, numbers, strings, typed literals (DATE '...')
  kColumn,    // path: a.b[0].c (the first step may be a table alias)
  kUnary,     // op: "-", "+", "NOT"; args[0]
  kBinary,    // op: + - * / % || = <> < <= > >= AND OR; args[0], args[1]
  kFunction,  // name (upper case), args; star for COUNT(*); distinct; filter; window
  kCase,      // operand (simple CASE) or null; whens; else_expr
  kIn,        // args[0] IN (args[1..]); negated
  kBetween,   // args[0] BETWEEN args[1] AND args[2]; negated
  kLike,      // args[0] LIKE args[1] [ESCAPE escape]; negated; insensitive (ILIKE)
  kIsNull,    // args[0] IS [NOT] NULL; negated
  kExists,    // args[0] EXISTS / EXISTS(args[0]) / args[0] IS [NOT] MISSING; negated
  kCast,      // CAST(args[0] AS type_name) or args[0]::type_name
  kInterval,  // INTERVAL '5 minutes': literal holds the length in milliseconds (int64)
  kObject,    // {key: value, ...}: keys, args
  kArray,     // [a, b, ...]: args
  kCurrentTime,  // CURRENT_TIMESTAMP / NOW() / CURRENT_DATE: the server's $$NOW
};

struct WindowSpec {
  std::vector<std::unique_ptr<struct Expr>> partition_by;
  std::vector<std::pair<std::unique_ptr<struct Expr>, bool>> order_by;  // (expr, descending)
  // ROWS BETWEEN lower AND upper; nullopt = UNBOUNDED; 0 = CURRENT ROW; negative = PRECEDING.
  bool has_frame = false;
  bool range_frame = false;  // RANGE instead of ROWS
  std::optional<int64_t> lower;
  std::optional<int64_t> upper;
  std::string name;  // OVER name (a named WINDOW), when given instead of a specification
  // RANGE BETWEEN INTERVAL '365 days' PRECEDING ...: lower/upper are milliseconds and the
  // frame is a time range (window.range with unit "millisecond").
  bool interval_bounds = false;
};

struct Expr {
  ExprKind kind = ExprKind::kLiteral;
  Position pos;
  bson::Value literal;
  std::vector<PathStep> path;
  std::string op;     // operator or function name (upper case), cast type (upper case)
  std::vector<std::unique_ptr<Expr>> args;
  std::vector<std::string> keys;  // kObject
  bool negated = false;
  bool star = false;      // COUNT(*)
  bool distinct = false;  // COUNT(DISTINCT x)
  bool insensitive = false;  // ILIKE
  std::optional<char> escape;  // LIKE ... ESCAPE 'c'
  std::unique_ptr<Expr> filter;      // agg(...) FILTER (WHERE filter)
  std::unique_ptr<WindowSpec> over;  // f(...) OVER (...)
  std::unique_ptr<Expr> operand;     // CASE operand WHEN ...
  std::vector<std::pair<std::unique_ptr<Expr>, std::unique_ptr<Expr>>> whens;
  std::unique_ptr<Expr> else_expr;
  std::string text;  // the source text of the expression, for default column names/messages
};
using ExprPtr = std::unique_ptr<Expr>;

struct SelectItem {
  ExprPtr expr;       // null for *
  std::string alias;  // AS alias; empty when none
  bool star = false;
};

struct TableRef {
  std::string database;  // db.coll; empty = the session's database
  std::string name;      // collection; empty for a subquery
  std::string alias;
  std::unique_ptr<Select> subquery;  // FROM (SELECT ...) alias
  bool changes = false;              // FROM CHANGES(name)
  bool all_collections = false;      // CHANGES(*): the whole database
  Position pos;
};

enum class JoinType { kInner, kLeft };

struct Join {
  JoinType type = JoinType::kInner;
  TableRef table;
  ExprPtr on;
};

struct OrderItem {
  ExprPtr expr;
  bool descending = false;
};

struct WithOption {
  std::string name;  // lower case
  ExprPtr value;
  Position pos;
};

struct Select {
  bool distinct = false;
  std::vector<SelectItem> items;
  std::optional<TableRef> from;
  std::vector<Join> joins;
  ExprPtr where;
  std::vector<ExprPtr> group_by;
  ExprPtr having;
  std::vector<std::pair<std::string, std::unique_ptr<WindowSpec>>> windows;  // WINDOW w AS (...)
  std::vector<OrderItem> order_by;
  std::optional<int64_t> limit;
  std::optional<int64_t> offset;
  std::vector<WithOption> with;  // CHANGES(...) ... WITH (name = value, ...)
};

struct Insert {
  TableRef table;
  std::vector<std::vector<PathStep>> columns;  // empty: each row is one object literal
  std::vector<std::vector<ExprPtr>> rows;
  std::unique_ptr<Select> select;  // INSERT ... SELECT
};

struct Assignment {
  std::vector<PathStep> path;
  ExprPtr value;
  Position pos;
};

struct Update {
  TableRef table;
  std::vector<Assignment> sets;
  ExprPtr where;
};

struct Delete {
  TableRef table;
  ExprPtr where;
};

struct CreateCollection {
  TableRef table;
  bool if_not_exists = false;
};

struct DropCollection {
  TableRef table;
  bool if_exists = false;
};

struct CreateIndex {
  std::string name;  // empty: MongoDB's default name (a_1_b_-1)
  bool unique = false;
  bool if_not_exists = false;
  TableRef table;
  std::vector<std::pair<std::vector<PathStep>, bool>> keys;  // (path, descending)
};

struct DropIndex {
  std::string name;
  TableRef table;
  bool if_exists = false;
};

struct ShowCollections {
  std::string database;
};

// ---- change-stream DDL (docs/sql.md "Change-stream DDL") ----
// Definitions are stored as documents in the `eddy` database and executed by the runtime.

enum class DefinitionKind {
  kChangeStream,              // CREATE CHANGE STREAM        -> eddy.streams
  kMaterializedChangeStream,  // CREATE MATERIALIZED CHANGE STREAM -> eddy.streams
  kEventStore,                // CREATE EVENT STORE           -> eddy.event_stores
  kSaga,                      // CREATE DISTRIBUTED SAGA      -> eddy.sagas
  kMonitor,                   // CREATE CHANGE STREAM MONITOR -> eddy.monitors
  kHandler,                   // CREATE HANDLER               -> eddy.handlers
};

// name = value in WITH OPTIONS (...) / WITH SAGA_OPTIONS (...).
struct NamedExpr {
  std::string name;  // lower case for options; as written for mappings/projections
  ExprPtr value;
  Position pos;
};

// An action of WITH <LABEL> (...) routines: CALL proc(args) or CASE x WHEN v THEN action ... END.
struct Action {
  bool is_call = true;
  std::string procedure;           // CALL name
  std::vector<ExprPtr> args;       // CALL arguments
  ExprPtr operand;                 // CASE operand (null: searched CASE WHEN cond)
  std::vector<std::pair<ExprPtr, std::unique_ptr<Action>>> whens;
  std::unique_ptr<Action> else_action;
  Position pos;
  std::string text;
};

// WITH <LABEL> ( SELECT ... ) or WITH <LABEL> ( CASE ... CALL ... END | CALL ... ).
struct ProcessingBlock {
  std::string label;                // upper case: CUSTOMER_SEGMENTATION, EVENT_PROCESSING, ...
  std::unique_ptr<Select> query;    // an analysis query over the stream's events
  std::unique_ptr<Action> routine;  // an event routine
  Position pos;
  std::string text;
};

// CREATE [MATERIALIZED] CHANGE STREAM name ON [db.]coll [WATCH FOR (op, ...)] [WHERE expr]
//   [WITH PIPELINE (stage, ...)] [WITH OPTIONS (k = v, ...)] [WITH <LABEL> (...)]...
//   [WITH AGGREGATION (...) REFRESH EVERY n unit] [PROCESS WITH handler]
struct ChangeStreamDef {
  TableRef source;
  std::vector<std::string> operations;  // operationType values ("insert", ...); empty = all
  Position operations_pos;
  ExprPtr where;
  std::vector<ExprPtr> pipeline;        // WITH PIPELINE: object literals, one per stage
  Position pipeline_pos;
  std::vector<NamedExpr> options;       // WITH OPTIONS
  std::vector<ProcessingBlock> blocks;  // WITH <LABEL> (...)
  std::string handler;                  // PROCESS WITH name; empty when none
  Position handler_pos;
  // Materialized streams: WITH AGGREGATION (GROUP BY (...) SELECT ... [WINDOW (...)]
  // [ADD (...)]) REFRESH EVERY ...
  std::vector<SelectItem> group_by;     // expr AS alias
  std::vector<SelectItem> select;
  std::unique_ptr<WindowSpec> window;
  std::vector<SelectItem> add;
  int64_t refresh_ms = 0;
  Position aggregation_pos;
};

// CREATE EVENT STORE name FROM CHANGE STREAM [db.]coll.* | [db.]coll
//   WITH EVENT_MAPPING (name = expr, ...) [WITH PROJECTIONS (name = {...}, ...)]
struct EventStoreDef {
  TableRef source;
  std::vector<NamedExpr> mapping;
  std::vector<NamedExpr> projections;
};

// CREATE DISTRIBUTED SAGA name TRIGGERED BY [db.]coll.operation [WHERE expr]
//   WITH STEPS ({...}, ...) [WITH SAGA_OPTIONS (k = v, ...)]
struct SagaDef {
  TableRef source;
  std::string operation;  // insert, update, replace, delete
  Position operation_pos;
  ExprPtr where;
  std::vector<ExprPtr> steps;  // object literals
  std::vector<NamedExpr> options;
};

struct AlertDef {
  std::string name;
  ExprPtr condition;
  int64_t for_ms = 0;       // FOR 5 MINUTES: the condition must hold this long; 0 = at once
  std::string during;       // DURING BUSINESS_HOURS (upper case); empty = always
  std::string severity;     // critical, high, medium, low, info
  std::vector<std::string> notification;
  Position pos;
};

// CREATE CHANGE STREAM MONITOR name [ON stream] WITH METRICS (m, ...) [WITH ALERTS (a = {...})]
struct MonitorDef {
  std::string stream;  // ON name: the monitored stream; empty = every stream
  std::vector<std::pair<std::string, Position>> metrics;
  std::vector<AlertDef> alerts;
};

enum class HandlerType { kLog, kWebhook, kNats, kCollection, kCommand };

// CREATE HANDLER name AS LOG | WEBHOOK 'url' [WITH (...)] | NATS SUBJECT 'subject' [WITH (...)]
//   | COLLECTION [db.]coll [WITH (...)] | COMMAND 'argv' [WITH (...)]
struct HandlerDef {
  HandlerType type = HandlerType::kLog;
  std::string target;  // url, subject, command line; empty for LOG
  TableRef collection; // COLLECTION
  std::vector<NamedExpr> options;
};

struct CreateDefinition {
  DefinitionKind kind = DefinitionKind::kChangeStream;
  std::string name;
  Position name_pos;
  bool if_not_exists = false;
  std::unique_ptr<ChangeStreamDef> stream;  // kChangeStream, kMaterializedChangeStream
  std::unique_ptr<EventStoreDef> event_store;
  std::unique_ptr<SagaDef> saga;
  std::unique_ptr<MonitorDef> monitor;
  std::unique_ptr<HandlerDef> handler;
};

// SHOW <kinds> / SHOW DEFINITIONS, DESCRIBE [kind] name, DROP kind [IF EXISTS] name,
// ALTER kind name PAUSE | RESUME.
enum class DefinitionVerb { kShow, kDescribe, kDrop, kPause, kResume };

struct DefinitionCommand {
  DefinitionVerb verb = DefinitionVerb::kShow;
  std::optional<DefinitionKind> kind;  // none: every kind (SHOW DEFINITIONS, DESCRIBE name)
  std::string name;
  Position name_pos;
  bool if_exists = false;
};

struct Statement;

struct Explain {
  std::unique_ptr<Statement> statement;
};

enum class StatementKind {
  kSelect,
  kInsert,
  kUpdate,
  kDelete,
  kCreateCollection,
  kDropCollection,
  kCreateIndex,
  kDropIndex,
  kShowCollections,
  kExplain,
  kCreateDefinition,   // change-stream DDL: CREATE CHANGE STREAM / HANDLER / ...
  kDefinitionCommand,  // SHOW ... / DESCRIBE / DROP <kind> / ALTER <kind> ... PAUSE|RESUME
};

struct Statement {
  StatementKind kind = StatementKind::kSelect;
  Position pos;
  std::string text;  // the statement's source text, without the trailing ';'
  std::unique_ptr<Select> select;
  std::unique_ptr<Insert> insert;
  std::unique_ptr<Update> update;
  std::unique_ptr<Delete> del;
  std::unique_ptr<CreateCollection> create_collection;
  std::unique_ptr<DropCollection> drop_collection;
  std::unique_ptr<CreateIndex> create_index;
  std::unique_ptr<DropIndex> drop_index;
  std::unique_ptr<ShowCollections> show_collections;
  std::unique_ptr<Explain> explain;
  std::unique_ptr<CreateDefinition> create_definition;
  std::unique_ptr<DefinitionCommand> definition_command;
};

// "a.b[0].c" as written (for messages and default names).
std::string PathToString(const std::vector<PathStep>& path);

// "change stream", "materialized change stream", "handler", ... (for messages).
std::string KindName(DefinitionKind kind);

}  // namespace eddy::sql
