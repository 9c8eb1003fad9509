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
};

Result<Translation> Translate(const Statement& statement, const TranslateOptions& options);

// Parse + Translate in one call.
Result<Translation> TranslateSql(std::string_view sql, const TranslateOptions& options);

// The command exactly as an OP_MSG body carries it: `command` with "$db" appended.
bson::Document WireCommand(const Translation& t);

}  // namespace eddy::sql
