// The SQL lexer: text -> tokens with line:column positions (1-based, columns in bytes).
//
// Identifiers are unquoted ([A-Za-z_$][A-Za-z0-9_$]*), "double quoted" or `backquoted` (the
// quoted forms keep case and may contain any character; "" inside "..." is one quote).
// Keywords are identifiers; the parser compares them case-insensitively, so any keyword can
// also be used as a name where the grammar is unambiguous. Strings are 'single quoted' with ''
// for a quote (SQL standard; no backslash escapes). Numbers: 12 (integer), 1.5, .5, 1e3 (real).
// Comments: -- to end of line and /* ... */ (not nested).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace eddy::sql {

enum class TokenKind {
  kIdentifier,        // name or keyword
  kQuotedIdentifier,  // "name" or `name`: never a keyword
  kString,
  kInteger,
  kReal,
  kSymbol,  // punctuation/operators: ( ) [ ] { } , . ; : * + - / % = <> != < <= > >= || ::
  kEnd,
};

struct Position {
  int line = 1;
  int column = 1;
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;  // identifier/keyword as written, string contents unescaped, symbol text
  Position pos;
  size_t offset = 0;  // byte offset of the token in the input
  size_t end = 0;     // byte offset one past its last character

  // Case-insensitive keyword test; false for quoted identifiers.
  bool Is(std::string_view keyword) const;
  bool IsSymbol(std::string_view s) const { return kind == TokenKind::kSymbol && text == s; }
  // How an error message quotes it: end of input, 'text', or "name".
  std::string Describe() const;
};

// Tokenizes all of `text`; the last token is kEnd. Errors (FailedToParse) name line:column:
// unterminated string/identifier/comment, or a character that starts no token.
// `start` is the position of text[0] (for statements cut out of a longer script).
Result<std::vector<Token>> Tokenize(std::string_view text, Position start = {});

}  // namespace eddy::sql
