// The SQL parser: text -> typed AST (ast.h). Grammar and semantics: docs/sql.md.
//
// Errors are FailedToParse (9) and read "syntax error at LINE:COLUMN near 'TOKEN': expected
// WHAT"; constructs the dialect recognises but does not support (RIGHT JOIN, UNION, subqueries
// in expressions, ...) are NotImplemented (238) and name the construct.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "sql/ast.h"

namespace eddy::sql {

// Parses exactly one statement; a trailing ';' is allowed. `start` is the position of sql[0]
// in the user's script, so messages point into what the user wrote.
Result<Statement> Parse(std::string_view sql, Position start = {});

// Parses one expression (the text a stored definition keeps), e.g. "fullDocument.total > 5".
Result<ExprPtr> ParseExpression(std::string_view sql, Position start = {});

// '5 minutes', '1 hour 30 min' -> milliseconds. Units: millisecond(s)/ms, second(s)/sec,
// minute(s)/min, hour(s), day(s), week(s); months and years are NotImplemented (variable
// length); anything else is FailedToParse naming `at`.
Result<int64_t> ParseInterval(std::string_view text, Position at = {});

// One statement's text cut out of a script, and where it starts.
struct StatementText {
  std::string text;  // without the terminating ';'
  Position start;
};

// Cuts a script at the ';' that are outside strings, quoted identifiers and comments. Text after
// the last ';' is returned as a final piece unless it is only whitespace and comments. Never
// fails: an unterminated string just runs to the end (the parser reports it).
std::vector<StatementText> SplitStatements(std::string_view script);

// For the REPL: true when `text` holds at least one ';' outside strings/comments, i.e. the
// user finished a statement.
bool EndsStatement(std::string_view text);

}  // namespace eddy::sql
