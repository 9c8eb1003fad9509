// The translator: a parsed statement -> the command a MongoDB driver would send, plus how to
// present its reply. Pure: no I/O, so EXPLAIN and tests see exactly what `eddy sql` sends.
//
// SELECT becomes `find` when it is a plain filter/projection/sort/skip/limit over one collection
// (columns only, no computed values), otherwise `aggregate`. INSERT -> `insert`; INSERT ...
// SELECT -> `aggregate` ending in $merge; UPDATE -> `update` with operators ($set, $inc, $mul)
// or, when a value is computed from other fields, a pipeline update; DELETE -> `delete`; DDL ->
// `create`, `drop`, `createIndexes`, `dropIndexes`, `listCollections`; FROM CHANGES(c) -> an
// `aggregate` whose first stage is $changeStream. Semantics and every divergence from SQL:
// docs/sql.md.
//
// Errors: NotImplemented (238) for constructs the dialect parses but cannot translate (named),
// BadValue (2) for semantic errors (a column outside GROUP BY, an unknown function, a bad
// alias), InvalidOptions (72) for unknown or bad WITH (...) options.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "bson/value.h"
#include "sql/ast.h"

namespace eddy::sql {

struct TranslateOptions {
  std::string database = "test";  // used when a statement does not name one (db.coll)
  // Client clock for CURRENT_TIMESTAMP inside INSERT values (documents are built client-side);
  // -1 = read the system clock. Everywhere else CURRENT_TIMESTAMP is the server's $$NOW.
  int64_t now_millis = -1;
};

enum class ResultShape {
  kRows,          // a cursor reply: rows are the documents of cursor.firstBatch + getMores
  kWrite,         // a write reply: n (and nModified for update)
  kOk,            // a command reply whose only content is ok: 1
  kChangeStream,  // a change-stream cursor: iterate with getMore (awaitData) until stopped
  kExplain,       // nothing is sent: print the command (see WireCommand)
};

// A read the shell sends before the statement's command, to validate what only the server
// knows (the collection exists, the handler exists, nothing uses what is dropped). The command
// returns a cursor; the check fails when the first batch is empty (`fail_if_empty`) or when it
// is not (`!fail_if_empty`), and the statement then fails with `failure`, whose message has
// "{}" replaced by the first row's _id (or name).
struct Check {
  std::string database;
  std::string collection;  // for messages/getMore; empty for db-level commands
  bson::Document command;
  bool fail_if_empty = true;
  Status failure;
};

struct Translation {
  std::string database;
  std::string collection;  // the namespace of cursors (getMore); empty for db-level commands
  bson::Document command;
  ResultShape shape = ResultShape::kRows;
  // Output columns in order; empty = each row's own fields in document order (SELECT *).
  std::vector<std::string> columns;
  // Error codes that mean success for this statement (IF [NOT] EXISTS).
  std::vector<int32_t> ignore_codes;
  // Change streams: stop after this many rows (LIMIT n); getMore maxTimeMS.
  std::optional<int64_t> max_rows;
  int64_t await_ms = 1000;
  std::string verb;  // INSERT, UPDATE, ... for the shell's "INSERT 3" summaries
  std::shared_ptr<const Translation> explained;  // kExplain: the statement that would run
  // Change-stream DDL: reads sent first (validation), in order; EXPLAIN prints them too.
  std::vector<Check> checks;
  // Server error codes reported with this message instead of the server's (DuplicateKey ->
  // "change stream 'x' already exists").
  std::vector<std::pair<int32_t, std::string>> error_messages;
  // A write that matches nothing (n == 0), or a query that returns no row, fails with this
  // (DROP / ALTER / DESCRIBE of an unknown name). Ignored when `ignore_codes` has its code.
  std::optional<Status> if_none;
};

Result<Translation> Translate(const Statement& statement, const TranslateOptions& options);

// Change-stream DDL (ddl.cc): CREATE CHANGE STREAM / HANDLER / ..., SHOW, DESCRIBE, DROP, ALTER
// -> insert/find/delete/update on the `eddy` database's definition collections.
Result<Translation> TranslateDefinition(const Statement& statement,
                                        const TranslateOptions& options);

// Building blocks shared with ddl.cc.
// A WHERE clause -> a query filter ($expr where needed).
Result<bson::Document> TranslateFilter(const Expr& e);
// An expression -> an aggregation expression; `strip` lists qualifiers to drop (NEW.x -> $x).
Result<bson::Value> TranslateExpression(const Expr& e, const std::vector<std::string>& strip);
// The value of a constant expression: literals, {...}/[...] of constants, INTERVAL (ms),
// CURRENT_TIMESTAMP (given `now_millis`) and date +/- INTERVAL; nullopt otherwise.
std::optional<bson::Value> ConstantValue(const Expr& e, std::optional<int64_t> now_millis);

// Parse + Translate in one call.
Result<Translation> TranslateSql(std::string_view sql, const TranslateOptions& options);

// The command exactly as an OP_MSG body carries it: `command` with "$db" appended.
bson::Document WireCommand(const Translation& t);

}  // namespace eddy::sql
