#include <gtest/gtest.h>

#include "sql/parser.h"

namespace eddy::sql {
namespace {

TEST(Lexer, TokensAndPositions) {
  auto toks = Tokenize("SELECT a.b, 'it''s' -- c\n /* x */ \"Q\"\"x\" 1.5e3 <> ::");
  ASSERT_TRUE(toks.ok()) << toks.status().ToString();
  const auto& t = *toks;
  ASSERT_EQ(t.size(), 11u);
  EXPECT_TRUE(t[0].Is("select"));
  EXPECT_TRUE(t[4].IsSymbol(","));
  EXPECT_EQ(t[5].kind, TokenKind::kString);
  EXPECT_EQ(t[5].text, "it's");
  EXPECT_EQ(t[6].kind, TokenKind::kQuotedIdentifier);
  EXPECT_EQ(t[6].text, "Q\"x");
  EXPECT_EQ(t[6].pos.line, 2);
  EXPECT_EQ(t[6].pos.column, 10);
  EXPECT_EQ(t[7].kind, TokenKind::kReal);
  EXPECT_TRUE(t[8].IsSymbol("<>"));
  EXPECT_TRUE(t[9].IsSymbol("::"));
  EXPECT_EQ(t[10].kind, TokenKind::kEnd);
}

struct ErrorCase {
  const char* sql;
  ErrorCode code;
  const char* message;  // substring of the message
};

TEST(Parser, ErrorsNameLineColumnTokenAndExpectation) {
  const ErrorCase cases[] = {
      {"SELEC a FROM t", ErrorCode::kFailedToParse, "1:1 near 'SELEC': expected a statement"},
      {"SELECT a FROM t WHERE", ErrorCode::kFailedToParse, "1:22 near end of input: expected an expression"},
      {"SELECT a\nFROM t\nWHERE a = = 1", ErrorCode::kFailedToParse, "3:11 near '=': expected an expression"},
      {"SELECT a FORM t", ErrorCode::kFailedToParse, "1:15 near 't': expected end of statement"},
      {"SELECT 'abc FROM t", ErrorCode::kFailedToParse, "1:8: unterminated string literal"},
      {"SELECT \"abc FROM t", ErrorCode::kFailedToParse, "1:8: unterminated quoted identifier"},
      {"SELECT a /* x", ErrorCode::kFailedToParse, "1:10: unterminated comment"},
      {"SELECT a # b FROM t", ErrorCode::kFailedToParse, "1:10: unexpected character '#'"},
      {"SELECT 12abc FROM t", ErrorCode::kFailedToParse, "unexpected character 'a' after number"},
      {"INSERT INTO t (a, b) VALUES (1)", ErrorCode::kFailedToParse, "has 1 values for 2 columns"},
      {"INSERT INTO t VALUES (1, 2)", ErrorCode::kFailedToParse, "one document per row"},
      {"SELECT a FROM t LIMIT x", ErrorCode::kFailedToParse, "expected a row count after LIMIT"},
      {"SELECT CASE WHEN a THEN 1 FROM t", ErrorCode::kFailedToParse, "expected WHEN, ELSE or END"},
      {"SELECT {a: 1, a: 2} FROM t", ErrorCode::kFailedToParse, "a key not already used"},
      {"SELECT a FROM (SELECT b FROM t)", ErrorCode::kFailedToParse, "an alias for the subquery"},
      {"SELECT a FROM t; SELECT b FROM t", ErrorCode::kFailedToParse, "1:18 near 'SELECT': expected end of statement"},
      {"", ErrorCode::kFailedToParse, "empty statement"},
      {"SELECT INTERVAL '3 fortnights' FROM t", ErrorCode::kFailedToParse, "an interval like"},
      {"SELECT DATE 'yesterday' FROM t", ErrorCode::kFailedToParse, "an ISO-8601 date"},
      {"SELECT a FROM t WHERE a IN ()", ErrorCode::kFailedToParse, "at least one value in IN"},
      {"SELECT a FROM t WHERE a LIKE 'x' ESCAPE 'ab'", ErrorCode::kFailedToParse, "one-character string after ESCAPE"},
      // Unsupported constructs are named.
      {"SELECT a FROM t RIGHT JOIN u ON a = b", ErrorCode::kNotImplemented, "RIGHT JOIN"},
      {"SELECT a FROM t FULL JOIN u ON a = b", ErrorCode::kNotImplemented, "FULL JOIN"},
      {"SELECT a FROM t, u", ErrorCode::kNotImplemented, "comma joins"},
      {"SELECT a FROM t UNION SELECT b FROM u", ErrorCode::kNotImplemented, "UNION"},
      {"SELECT a FROM t WHERE a IN (SELECT b FROM u)", ErrorCode::kNotImplemented, "IN (subquery)"},
      {"SELECT a FROM t WHERE EXISTS (SELECT 1 FROM u)", ErrorCode::kNotImplemented, "EXISTS (subquery)"},
      {"SELECT (SELECT 1 FROM u) FROM t", ErrorCode::kNotImplemented, "subqueries in expressions"},
      {"WITH x AS (SELECT 1) SELECT * FROM x", ErrorCode::kNotImplemented, "common table expressions"},
      {"SELECT a FROM t ORDER BY a NULLS FIRST", ErrorCode::kNotImplemented, "NULLS FIRST/LAST"},
      {"CREATE TABLE t (a int)", ErrorCode::kNotImplemented, "CREATE TABLE"},
      {"SELECT DISTINCT ON (a) a FROM t", ErrorCode::kNotImplemented, "DISTINCT ON"},
      {"SELECT a FROM t GROUP BY ROLLUP (a)", ErrorCode::kNotImplemented, "GROUP BY ROLLUP"},
      {"UPDATE t SET a = 1 RETURNING a", ErrorCode::kNotImplemented, "RETURNING"},
      {"SELECT a FROM t WHERE a SIMILAR TO 'x'", ErrorCode::kNotImplemented, "SIMILAR"},
      {"SELECT INTERVAL '1 month' FROM t", ErrorCode::kNotImplemented, "month and year intervals"},
      {"SELECT a FROM t LIMIT 1, 2", ErrorCode::kNotImplemented, "LIMIT offset, count"},
      {"EXPLAIN ANALYZE SELECT a FROM t", ErrorCode::kNotImplemented, "EXPLAIN ANALYZE"},
  };
  for (const auto& c : cases) {
    auto r = Parse(c.sql);
    ASSERT_FALSE(r.ok()) << c.sql;
    EXPECT_EQ(r.status().code(), c.code) << c.sql << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.message), std::string_view::npos)
        << c.sql << ": " << r.status().ToString();
  }
}

TEST(Parser, StatementKindsAndShapes) {
  auto s = Parse("select distinct a as x, b.c[2].d y, count(*) filter (where z > 1) "
                 "from db1.orders o left outer join users u on o.uid = u._id "
                 "where a between 1 and 3 group by a, 2 having count(*) > 0 "
                 "order by x desc, 2 offset 3 limit 4;");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->kind, StatementKind::kSelect);
  const Select& sel = *s->select;
  EXPECT_TRUE(sel.distinct);
  ASSERT_EQ(sel.items.size(), 3u);
  EXPECT_EQ(sel.items[0].alias, "x");
  EXPECT_EQ(sel.items[1].alias, "y");
  EXPECT_EQ(PathToString(sel.items[1].expr->path), "b.c[2].d");
  EXPECT_TRUE(sel.items[2].expr->star);
  ASSERT_TRUE(sel.items[2].expr->filter);
  EXPECT_EQ(sel.from->database, "db1");
  EXPECT_EQ(sel.from->name, "orders");
  EXPECT_EQ(sel.from->alias, "o");
  ASSERT_EQ(sel.joins.size(), 1u);
  EXPECT_EQ(sel.joins[0].type, JoinType::kLeft);
  EXPECT_EQ(sel.group_by.size(), 2u);
  EXPECT_EQ(*sel.limit, 4);
  EXPECT_EQ(*sel.offset, 3);
  EXPECT_TRUE(sel.order_by[0].descending);

  auto w = Parse("SELECT AVG(x) OVER (PARTITION BY a ORDER BY b ROWS BETWEEN 6 PRECEDING AND "
                 "CURRENT ROW) FROM t");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  const auto& over = *w->select->items[0].expr->over;
  EXPECT_TRUE(over.has_frame);
  EXPECT_EQ(*over.lower, -6);
  EXPECT_EQ(*over.upper, 0);

  auto e = Parse("EXPLAIN UPDATE t SET a.b = a.b + 1 WHERE c EXISTS");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->kind, StatementKind::kExplain);
  EXPECT_EQ(e->explain->statement->kind, StatementKind::kUpdate);

  auto iv = Parse("SELECT CURRENT_TIMESTAMP - INTERVAL '1 hour 30 minutes' FROM t");
  ASSERT_TRUE(iv.ok()) << iv.status().ToString();
  EXPECT_EQ(iv->select->items[0].expr->args[1]->literal.as_int64(), 5'400'000);
}

TEST(Parser, SplitStatementsKeepsPositions) {
  auto parts = SplitStatements("SELECT ';' FROM t; -- ; comment\nSELECT\n  b FROM u;\n  \n");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].text, "SELECT ';' FROM t");
  auto bad = Parse("SELECT\n  b FROM u WHERE", parts[1].start);
  EXPECT_TRUE(Parse(parts[1].text, parts[1].start).ok());
  auto err = Parse(parts[1].text + " WHERE", parts[1].start);
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.status().message().find("at 3:"), std::string_view::npos) << err.status().ToString();
  EXPECT_TRUE(EndsStatement("SELECT 1;"));
  EXPECT_FALSE(EndsStatement("SELECT ';'"));
  EXPECT_FALSE(EndsStatement("SELECT 1 -- ;"));
}

}  // namespace
}  // namespace eddy::sql
