#include "sql/lexer.h"

#include <cctype>

namespace eddy::sql {

namespace {

bool IdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;  // UTF-8 letters in names
}
bool IdentChar(char c) { return IdentStart(c) || std::isdigit(static_cast<unsigned char>(c)); }

Status LexError(Position pos, const std::string& what) {
  return Status(ErrorCode::kFailedToParse,
                "syntax error at " + std::to_string(pos.line) + ":" + std::to_string(pos.column) +
                    ": " + what);
}

}  // namespace

bool Token::Is(std::string_view keyword) const {
  if (kind != TokenKind::kIdentifier || text.size() != keyword.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(text[i])) !=
        std::toupper(static_cast<unsigned char>(keyword[i]))) {
      return false;
    }
  }
  return true;
}

std::string Token::Describe() const {
  switch (kind) {
    case TokenKind::kEnd:
      return "end of input";
    case TokenKind::kQuotedIdentifier:
      return "\"" + text + "\"";
    case TokenKind::kString:
      return "string '" + text + "'";
    default:
      return "'" + text + "'";
  }
}

Result<std::vector<Token>> Tokenize(std::string_view in, Position start) {
  std::vector<Token> out;
  size_t i = 0;
  Position pos = start;
  auto advance = [&](size_t n) {
    for (size_t k = 0; k < n && i < in.size(); ++k, ++i) {
      if (in[i] == '\n') {
        ++pos.line;
        pos.column = 1;
      } else {
        ++pos.column;
      }
    }
  };
  while (true) {
    // Whitespace and comments.
    while (i < in.size()) {
      char c = in[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        advance(1);
      } else if (c == '-' && i + 1 < in.size() && in[i + 1] == '-') {
        while (i < in.size() && in[i] != '\n') advance(1);
      } else if (c == '/' && i + 1 < in.size() && in[i + 1] == '*') {
        Position start = pos;
        advance(2);
        while (i < in.size() && !(in[i] == '*' && i + 1 < in.size() && in[i + 1] == '/')) {
          advance(1);
        }
        if (i >= in.size()) return LexError(start, "unterminated comment /* ... */");
        advance(2);
      } else {
        break;
      }
    }
    Token t;
    t.pos = pos;
    t.offset = i;
    if (i >= in.size()) {
      t.kind = TokenKind::kEnd;
      t.end = i;
      out.push_back(std::move(t));
      return out;
    }
    char c = in[i];
    if (IdentStart(c)) {
      size_t j = i;
      while (j < in.size() && IdentChar(in[j])) ++j;
      t.kind = TokenKind::kIdentifier;
      t.text = std::string(in.substr(i, j - i));
      advance(j - i);
    } else if (c == '"' || c == '`') {
      char q = c;
      Position start = pos;
      advance(1);
      std::string s;
      while (true) {
        if (i >= in.size()) {
          return LexError(start, std::string("unterminated quoted identifier (missing ") + q +
                                     ")");
        }
        if (in[i] == q) {
          if (i + 1 < in.size() && in[i + 1] == q) {
            s += q;
            advance(2);
            continue;
          }
          advance(1);
          break;
        }
        s += in[i];
        advance(1);
      }
      if (s.empty()) return LexError(start, "empty quoted identifier");
      t.kind = TokenKind::kQuotedIdentifier;
      t.text = std::move(s);
    } else if (c == '\'') {
      Position start = pos;
      advance(1);
      std::string s;
      while (true) {
        if (i >= in.size()) return LexError(start, "unterminated string literal (missing ')");
        if (in[i] == '\'') {
          if (i + 1 < in.size() && in[i + 1] == '\'') {
            s += '\'';
            advance(2);
            continue;
          }
          advance(1);
          break;
        }
        s += in[i];
        advance(1);
      }
      t.kind = TokenKind::kString;
      t.text = std::move(s);
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < in.size() && std::isdigit(static_cast<unsigned char>(in[i + 1])))) {
      size_t j = i;
      bool real = false;
      while (j < in.size() && std::isdigit(static_cast<unsigned char>(in[j]))) ++j;
      if (j < in.size() && in[j] == '.' &&
          !(j + 1 < in.size() && in[j + 1] == '.')) {  // not a range ".."
        real = true;
        ++j;
        while (j < in.size() && std::isdigit(static_cast<unsigned char>(in[j]))) ++j;
      }
      if (j < in.size() && (in[j] == 'e' || in[j] == 'E')) {
        size_t k = j + 1;
        if (k < in.size() && (in[k] == '+' || in[k] == '-')) ++k;
        if (k < in.size() && std::isdigit(static_cast<unsigned char>(in[k]))) {
          real = true;
          j = k;
          while (j < in.size() && std::isdigit(static_cast<unsigned char>(in[j]))) ++j;
        }
      }
      if (j < in.size() && IdentStart(in[j])) {
        Position bad = pos;
        bad.column += static_cast<int>(j - i);
        return LexError(bad, "unexpected character '" + std::string(1, in[j]) +
                                 "' after number '" + std::string(in.substr(i, j - i)) + "'");
      }
      t.kind = real ? TokenKind::kReal : TokenKind::kInteger;
      t.text = std::string(in.substr(i, j - i));
      advance(j - i);
    } else {
      static constexpr std::string_view kTwo[] = {"<>", "!=", "<=", ">=", "||", "::"};
      std::string_view two = in.substr(i, 2);
      bool matched = false;
      for (auto s : kTwo) {
        if (two == s) {
          t.kind = TokenKind::kSymbol;
          t.text = std::string(s);
          advance(2);
          matched = true;
          break;
        }
      }
      if (!matched) {
        static constexpr std::string_view kOne = "()[]{},.;:*+-/%=<>";
        if (kOne.find(c) == std::string_view::npos) {
          return LexError(pos, "unexpected character '" + std::string(1, c) + "'");
        }
        t.kind = TokenKind::kSymbol;
        t.text = std::string(1, c);
        advance(1);
      }
    }
    t.end = i;
    out.push_back(std::move(t));
  }
}

}  // namespace eddy::sql
