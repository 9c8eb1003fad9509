#include "sql/parser.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

#include "bson/json.h"

namespace eddy::sql {

std::string KindName(DefinitionKind kind) {
  switch (kind) {
    case DefinitionKind::kChangeStream: return "change stream";
    case DefinitionKind::kMaterializedChangeStream: return "materialized change stream";
    case DefinitionKind::kEventStore: return "event store";
    case DefinitionKind::kSaga: return "distributed saga";
    case DefinitionKind::kMonitor: return "change stream monitor";
    case DefinitionKind::kHandler: return "handler";
  }
  return "definition";
}

std::string PathToString(const std::vector<PathStep>& path) {
  std::string s;
  for (const auto& step : path) {
    if (step.index) {
      s += "[" + std::to_string(*step.index) + "]";
    } else {
      if (!s.empty()) s += ".";
      s += step.name;
    }
  }
  return s;
}

namespace {

std::string Upper(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return r;
}

// Words that end an expression or a clause, so they are never taken as a column or an alias
// without quotes.
const std::set<std::string>& Reserved() {
  static const std::set<std::string> kWords = {
      "ALL",      "AND",    "AS",      "ASC",     "BETWEEN",   "BY",      "CASE",   "CROSS",
      "DELETE",   "DESC",   "DISTINCT", "ELSE",   "END",       "ESCAPE",  "EXCEPT", "EXISTS",
      "FALSE",    "FETCH",  "FILTER",  "FROM",    "FULL",      "GROUP",   "HAVING", "ILIKE",
      "IN",       "INNER",  "INSERT",  "INTERSECT", "INTO",    "IS",      "JOIN",   "LEFT",
      "LIKE",     "LIMIT",  "NOT",     "NULL",    "OFFSET",    "ON",      "OR",     "ORDER",
      "OUTER",    "OVER",   "RIGHT",   "SELECT",  "SET",       "THEN",    "TRUE",   "UNION",
      "UPDATE",   "USING",  "VALUES",  "WHEN",    "WHERE",     "WINDOW",  "WITH",   "NATURAL",
  };
  return kWords;
}

bool IsReserved(const Token& t) {
  return t.kind == TokenKind::kIdentifier && Reserved().count(Upper(t.text)) > 0;
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, std::string_view source)
      : toks_(std::move(tokens)), src_(source) {}

  Result<Statement> ParseStatementEnd() {
    Statement st;
    EDDY_RETURN_IF_ERROR(ParseStatement(&st));
    if (Peek().IsSymbol(";")) Next();
    if (Peek().kind != TokenKind::kEnd) {
      return Expected(Peek().IsSymbol(";") ? "one statement per call"
                                           : "end of statement (';')");
    }
    return st;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    size_t i = std::min(pos_ + ahead, toks_.size() - 1);
    return toks_[i];
  }
  const Token& Next() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  bool Accept(std::string_view keyword) {
    if (Peek().Is(keyword)) {
      Next();
      return true;
    }
    return false;
  }
  bool AcceptSymbol(std::string_view s) {
    if (Peek().IsSymbol(s)) {
      Next();
      return true;
    }
    return false;
  }
  Status Expected(std::string_view what) const { return ErrorAt(Peek(), what); }
  static Status ErrorAt(const Token& t, std::string_view what) {
    return Status(ErrorCode::kFailedToParse,
                  "syntax error at " + std::to_string(t.pos.line) + ":" +
                      std::to_string(t.pos.column) + " near " + t.Describe() + ": expected " +
                      std::string(what));
  }
  static Status Unsupported(const Token& t, std::string_view construct) {
    return Status(ErrorCode::kNotImplemented,
                  "unsupported at " + std::to_string(t.pos.line) + ":" +
                      std::to_string(t.pos.column) + ": " + std::string(construct) +
                      " is not supported by eddy sql (see docs/sql.md)");
  }
  Status Expect(std::string_view keyword) {
    if (!Accept(keyword)) return Expected(Upper(keyword));
    return Status::OK();
  }
  Status ExpectSymbol(std::string_view s) {
    if (!AcceptSymbol(s)) return Expected("'" + std::string(s) + "'");
    return Status::OK();
  }

  // A name: unquoted non-reserved identifier or quoted identifier.
  Result<std::string> Name(std::string_view what) {
    const Token& t = Peek();
    if (t.kind == TokenKind::kQuotedIdentifier ||
        (t.kind == TokenKind::kIdentifier && !IsReserved(t))) {
      return Next().text;
    }
    return Expected(what);
  }
  // After '.', any identifier (keywords included) is a field name.
  Result<std::string> FieldName() {
    const Token& t = Peek();
    if (t.kind == TokenKind::kQuotedIdentifier || t.kind == TokenKind::kIdentifier) {
      return Next().text;
    }
    return Expected("a field name");
  }
  bool AtName() const {
    const Token& t = Peek();
    return t.kind == TokenKind::kQuotedIdentifier ||
           (t.kind == TokenKind::kIdentifier && !IsReserved(t));
  }

  Result<int64_t> Integer(std::string_view what) {
    const Token& t = Peek();
    if (t.kind != TokenKind::kInteger) return Expected(what);
    int64_t v = 0;
    auto [p, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
    if (ec != std::errc() || p != t.text.data() + t.text.size()) {
      return ErrorAt(t, std::string(what) + " (integer out of range)");
    }
    Next();
    return v;
  }

  // ---- statements ----

  Status ParseStatement(Statement* st) {
    const Token& first = Peek();
    st->pos = first.pos;
    size_t start_offset = first.offset;
    Status s = ParseStatementBody(st);
    if (!s.ok()) return s;
    size_t end = toks_[pos_ > 0 ? pos_ - 1 : 0].end;
    if (end > start_offset) st->text = std::string(src_.substr(start_offset, end - start_offset));
    return Status::OK();
  }

  Status ParseStatementBody(Statement* st) {
    const Token& t = Peek();
    if (t.Is("SELECT")) {
      st->kind = StatementKind::kSelect;
      EDDY_ASSIGN_OR_RETURN(st->select, ParseSelect());
      return Status::OK();
    }
    if (t.IsSymbol("(")) return Unsupported(t, "a parenthesised statement");
    if (t.Is("INSERT")) return ParseInsert(st);
    if (t.Is("UPDATE")) return ParseUpdate(st);
    if (t.Is("DELETE")) return ParseDelete(st);
    if (t.Is("CREATE")) return ParseCreate(st);
    if (t.Is("DROP")) return ParseDrop(st);
    if (t.Is("SHOW")) {
      Next();
      if (!Peek().Is("COLLECTIONS") && !Peek().Is("TABLES")) return ParseShowDefinitions(st);
      Next();
      st->kind = StatementKind::kShowCollections;
      st->show_collections = std::make_unique<ShowCollections>();
      if (Accept("FROM") || Accept("IN")) {
        EDDY_ASSIGN_OR_RETURN(st->show_collections->database, Name("a database name"));
      }
      return Status::OK();
    }
    if (t.Is("EXPLAIN")) {
      Next();
      if (Peek().Is("ANALYZE")) return Unsupported(Peek(), "EXPLAIN ANALYZE");
      st->kind = StatementKind::kExplain;
      st->explain = std::make_unique<Explain>();
      st->explain->statement = std::make_unique<Statement>();
      if (Peek().Is("EXPLAIN")) return Expected("a statement to explain (not EXPLAIN)");
      return ParseStatement(st->explain->statement.get());
    }
    if (t.Is("WITH")) return Unsupported(t, "WITH (common table expressions)");
    if (t.Is("DESCRIBE") || (t.Is("DESC") && !Peek(1).IsSymbol("("))) return ParseDescribe(st);
    if (t.Is("ALTER") && KindAhead(1)) return ParseAlter(st);
    if (t.Is("ALTER") || t.Is("TRUNCATE") || t.Is("MERGE") || t.Is("BEGIN") ||
        t.Is("COMMIT") || t.Is("ROLLBACK") || t.Is("GRANT")) {
      return Unsupported(t, Upper(t.text));
    }
    return Expected(
        "a statement (SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, SHOW, DESCRIBE, "
        "EXPLAIN)");
  }

  // name | db.name, with its position.
  Status ParseTableName(TableRef* ref) {
    ref->pos = Peek().pos;
    EDDY_ASSIGN_OR_RETURN(std::string first, Name("a collection name"));
    if (AcceptSymbol(".")) {
      ref->database = std::move(first);
      EDDY_ASSIGN_OR_RETURN(ref->name, FieldName());
    } else {
      ref->name = std::move(first);
    }
    return Status::OK();
  }

  Result<std::vector<PathStep>> ParsePath() {
    std::vector<PathStep> path;
    // Only ever a column here (SET target, INSERT/index column), so keywords are names too.
    EDDY_ASSIGN_OR_RETURN(std::string first, FieldName());
    path.push_back({std::move(first), std::nullopt});
    EDDY_RETURN_IF_ERROR(ParsePathSuffix(&path));
    return path;
  }

  Status ParsePathSuffix(std::vector<PathStep>* path) {
    while (true) {
      if (Peek().IsSymbol(".")) {
        Next();
        EDDY_ASSIGN_OR_RETURN(std::string f, FieldName());
        path->push_back({std::move(f), std::nullopt});
      } else if (Peek().IsSymbol("[")) {
        Next();
        bool neg = AcceptSymbol("-");
        EDDY_ASSIGN_OR_RETURN(int64_t i, Integer("an array index"));
        if (neg) return ErrorAt(Peek(), "a non-negative array index");
        EDDY_RETURN_IF_ERROR(ExpectSymbol("]"));
        path->push_back({"", i});
      } else {
        return Status::OK();
      }
    }
  }

  Status ParseInsert(Statement* st) {
    Next();  // INSERT
    EDDY_RETURN_IF_ERROR(Expect("INTO"));
    st->kind = StatementKind::kInsert;
    auto ins = std::make_unique<Insert>();
    EDDY_RETURN_IF_ERROR(ParseTableName(&ins->table));
    if (AcceptSymbol("(")) {
      if (Peek().Is("SELECT")) return Expected("a column list");
      do {
        EDDY_ASSIGN_OR_RETURN(auto path, ParsePath());
        ins->columns.push_back(std::move(path));
      } while (AcceptSymbol(","));
      EDDY_RETURN_IF_ERROR(ExpectSymbol(")"));
    }
    if (Accept("VALUES")) {
      do {
        Token open = Peek();
        EDDY_RETURN_IF_ERROR(ExpectSymbol("("));
        std::vector<ExprPtr> row;
        do {
          EDDY_ASSIGN_OR_RETURN(auto e, ParseExpr());
          row.push_back(std::move(e));
        } while (AcceptSymbol(","));
        EDDY_RETURN_IF_ERROR(ExpectSymbol(")"));
        if (!ins->columns.empty() && row.size() != ins->columns.size()) {
          return Status(ErrorCode::kFailedToParse,
                        "INSERT at " + std::to_string(open.pos.line) + ":" +
                            std::to_string(open.pos.column) + " has " +
                            std::to_string(row.size()) + " values for " +
                            std::to_string(ins->columns.size()) + " columns");
        }
        if (ins->columns.empty() && row.size() != 1) {
          return Status(ErrorCode::kFailedToParse,
                        "INSERT at " + std::to_string(open.pos.line) + ":" +
                            std::to_string(open.pos.column) +
                            " without a column list takes one document per row, e.g. VALUES "
                            "({a: 1}), ({a: 2})");
        }
        ins->rows.push_back(std::move(row));
      } while (AcceptSymbol(","));
    } else if (Peek().Is("SELECT")) {
      EDDY_ASSIGN_OR_RETURN(ins->select, ParseSelect());
    } else if (Peek().Is("DEFAULT")) {
      return Unsupported(Peek(), "INSERT ... DEFAULT VALUES");
    } else {
      return Expected("VALUES or SELECT");
    }
    if (Peek().Is("ON")) return Unsupported(Peek(), "INSERT ... ON CONFLICT");
    if (Peek().Is("RETURNING")) return Unsupported(Peek(), "RETURNING");
    st->insert = std::move(ins);
    return Status::OK();
  }

  Status ParseUpdate(Statement* st) {
    Next();  // UPDATE
    st->kind = StatementKind::kUpdate;
    auto up = std::make_unique<Update>();
    EDDY_RETURN_IF_ERROR(ParseTableName(&up->table));
    EDDY_RETURN_IF_ERROR(Expect("SET"));
    do {
      Assignment a;
      a.pos = Peek().pos;
      EDDY_ASSIGN_OR_RETURN(a.path, ParsePath());
      EDDY_RETURN_IF_ERROR(ExpectSymbol("="));
      EDDY_ASSIGN_OR_RETURN(a.value, ParseExpr());
      up->sets.push_back(std::move(a));
    } while (AcceptSymbol(","));
    if (Peek().Is("FROM")) return Unsupported(Peek(), "UPDATE ... FROM");
    if (Accept("WHERE")) {
      EDDY_ASSIGN_OR_RETURN(up->where, ParseExpr());
    }
    if (Peek().Is("RETURNING")) return Unsupported(Peek(), "RETURNING");
    st->update = std::move(up);
    return Status::OK();
  }

  Status ParseDelete(Statement* st) {
    Next();  // DELETE
    EDDY_RETURN_IF_ERROR(Expect("FROM"));
    st->kind = StatementKind::kDelete;
    auto del = std::make_unique<Delete>();
    EDDY_RETURN_IF_ERROR(ParseTableName(&del->table));
    if (Peek().Is("USING")) return Unsupported(Peek(), "DELETE ... USING");
    if (Accept("WHERE")) {
      EDDY_ASSIGN_OR_RETURN(del->where, ParseExpr());
    }
    if (Peek().Is("RETURNING")) return Unsupported(Peek(), "RETURNING");
    st->del = std::move(del);
    return Status::OK();
  }

  Status ParseCreate(Statement* st) {
    Next();  // CREATE
    if (Accept("COLLECTION")) {
      st->kind = StatementKind::kCreateCollection;
      auto cc = std::make_unique<CreateCollection>();
      if (Accept("IF")) {
        EDDY_RETURN_IF_ERROR(Expect("NOT"));
        EDDY_RETURN_IF_ERROR(Expect("EXISTS"));
        cc->if_not_exists = true;
      }
      EDDY_RETURN_IF_ERROR(ParseTableName(&cc->table));
      st->create_collection = std::move(cc);
      return Status::OK();
    }
    bool unique = Accept("UNIQUE");
    if (Accept("INDEX")) {
      st->kind = StatementKind::kCreateIndex;
      auto ci = std::make_unique<CreateIndex>();
      ci->unique = unique;
      if (Accept("IF")) {
        EDDY_RETURN_IF_ERROR(Expect("NOT"));
        EDDY_RETURN_IF_ERROR(Expect("EXISTS"));
        ci->if_not_exists = true;
      }
      if (!Peek().Is("ON")) {
        EDDY_ASSIGN_OR_RETURN(ci->name, Name("an index name or ON"));
      }
      EDDY_RETURN_IF_ERROR(Expect("ON"));
      EDDY_RETURN_IF_ERROR(ParseTableName(&ci->table));
      if (Peek().Is("USING")) return Unsupported(Peek(), "CREATE INDEX ... USING");
      EDDY_RETURN_IF_ERROR(ExpectSymbol("("));
      do {
        EDDY_ASSIGN_OR_RETURN(auto path, ParsePath());
        bool desc = false;
        if (Accept("DESC")) {
          desc = true;
        } else {
          Accept("ASC");
        }
        ci->keys.emplace_back(std::move(path), desc);
      } while (AcceptSymbol(","));
      EDDY_RETURN_IF_ERROR(ExpectSymbol(")"));
      if (Peek().Is("WHERE")) return Unsupported(Peek(), "partial indexes (CREATE INDEX ... WHERE)");
      st->create_index = std::move(ci);
      return Status::OK();
    }
    if (unique) return Expected("INDEX");
    const Token& t = Peek();
    if (t.Is("TABLE")) return Unsupported(t, "CREATE TABLE (collections are schemaless: use CREATE COLLECTION)");
    if (t.Is("VIEW")) return Unsupported(t, "CREATE VIEW");
    if (KindAhead(0)) return ParseCreateDefinition(st);
    return Expected(
        "COLLECTION, INDEX, UNIQUE INDEX, CHANGE STREAM, MATERIALIZED CHANGE STREAM, EVENT "
        "STORE, DISTRIBUTED SAGA, CHANGE STREAM MONITOR or HANDLER");
  }

  Status ParseDrop(Statement* st) {
    Next();  // DROP
    if (Accept("COLLECTION")) {
      st->kind = StatementKind::kDropCollection;
      auto dc = std::make_unique<DropCollection>();
      if (Accept("IF")) {
        EDDY_RETURN_IF_ERROR(Expect("EXISTS"));
        dc->if_exists = true;
      }
      EDDY_RETURN_IF_ERROR(ParseTableName(&dc->table));
      st->drop_collection = std::move(dc);
      return Status::OK();
    }
    if (Accept("INDEX")) {
      st->kind = StatementKind::kDropIndex;
      auto di = std::make_unique<DropIndex>();
      if (Accept("IF")) {
        EDDY_RETURN_IF_ERROR(Expect("EXISTS"));
        di->if_exists = true;
      }
      EDDY_ASSIGN_OR_RETURN(di->name, Name("an index name"));
      EDDY_RETURN_IF_ERROR(Expect("ON"));
      EDDY_RETURN_IF_ERROR(ParseTableName(&di->table));
      st->drop_index = std::move(di);
      return Status::OK();
    }
    if (Peek().Is("TABLE")) return Unsupported(Peek(), "DROP TABLE (use DROP COLLECTION)");
    if (KindAhead(0)) {
      st->kind = StatementKind::kDefinitionCommand;
      auto dc = std::make_unique<DefinitionCommand>();
      dc->verb = DefinitionVerb::kDrop;
      EDDY_ASSIGN_OR_RETURN(auto kind, ParseKind(false));
      dc->kind = kind;
      if (Accept("IF")) {
        EDDY_RETURN_IF_ERROR(Expect("EXISTS"));
        dc->if_exists = true;
      }
      dc->name_pos = Peek().pos;
      EDDY_ASSIGN_OR_RETURN(dc->name, Name("a " + KindName(kind) + " name"));
      st->definition_command = std::move(dc);
      return Status::OK();
    }
    return Expected(
        "COLLECTION, INDEX, CHANGE STREAM, MATERIALIZED CHANGE STREAM, EVENT STORE, "
        "DISTRIBUTED SAGA, CHANGE STREAM MONITOR or HANDLER");
  }

  // ---- SELECT ----

  Result<std::unique_ptr<Select>> ParseSelect() {
    EDDY_RETURN_IF_ERROR(Expect("SELECT"));
    auto sel = std::make_unique<Select>();
    if (Accept("DISTINCT")) {
      if (Peek().Is("ON")) return Unsupported(Peek(), "DISTINCT ON");
      sel->distinct = true;
    } else {
      Accept("ALL");
    }
    do {
      SelectItem item;
      if (AcceptSymbol("*")) {
        item.star = true;
      } else {
        EDDY_ASSIGN_OR_RETURN(item.expr, ParseExpr());
        if (Accept("AS")) {
          EDDY_ASSIGN_OR_RETURN(item.alias, Name("an alias"));
        } else if (AtName()) {
          item.alias = Next().text;
        }
      }
      sel->items.push_back(std::move(item));
    } while (AcceptSymbol(","));
    if (Accept("FROM")) {
      TableRef ref;
      EDDY_RETURN_IF_ERROR(ParseTableRef(&ref));
      sel->from = std::move(ref);
      while (true) {
        const Token& t = Peek();
        if (t.IsSymbol(",")) return Unsupported(t, "comma joins (FROM a, b): use JOIN ... ON");
        if (t.Is("RIGHT") || t.Is("FULL") || t.Is("CROSS") || t.Is("NATURAL")) {
          return Unsupported(t, Upper(t.text) + " JOIN");
        }
        Join join;
        if (Accept("JOIN")) {
          join.type = JoinType::kInner;
        } else if (Accept("INNER")) {
          EDDY_RETURN_IF_ERROR(Expect("JOIN"));
        } else if (Accept("LEFT")) {
          Accept("OUTER");
          EDDY_RETURN_IF_ERROR(Expect("JOIN"));
          join.type = JoinType::kLeft;
        } else {
          break;
        }
        EDDY_RETURN_IF_ERROR(ParseTableRef(&join.table));
        if (join.table.changes) return Unsupported(t, "JOIN with CHANGES()");
        if (Peek().Is("USING")) return Unsupported(Peek(), "JOIN ... USING");
        EDDY_RETURN_IF_ERROR(Expect("ON"));
        EDDY_ASSIGN_OR_RETURN(join.on, ParseExpr());
        sel->joins.push_back(std::move(join));
      }
    }
    if (Accept("WHERE")) {
      EDDY_ASSIGN_OR_RETURN(sel->where, ParseExpr());
    }
    if (Accept("GROUP")) {
      EDDY_RETURN_IF_ERROR(Expect("BY"));
      if (Peek().Is("ROLLUP") || Peek().Is("CUBE") || Peek().Is("GROUPING")) {
        return Unsupported(Peek(), "GROUP BY " + Upper(Peek().text));
      }
      do {
        EDDY_ASSIGN_OR_RETURN(auto e, ParseExpr());
        sel->group_by.push_back(std::move(e));
      } while (AcceptSymbol(","));
    }
    if (Accept("HAVING")) {
      EDDY_ASSIGN_OR_RETURN(sel->having, ParseExpr());
    }
    if (Accept("WINDOW")) {
      do {
        EDDY_ASSIGN_OR_RETURN(std::string name, Name("a window name"));
        EDDY_RETURN_IF_ERROR(Expect("AS"));
        EDDY_RETURN_IF_ERROR(ExpectSymbol("("));
        EDDY_ASSIGN_OR_RETURN(auto spec, ParseWindowSpec());
        sel->windows.emplace_back(std::move(name), std::move(spec));
      } while (AcceptSymbol(","));
    }
    if (Peek().Is("UNION") || Peek().Is("INTERSECT") || Peek().Is("EXCEPT")) {
      return Unsupported(Peek(), Upper(Peek().text));
    }
    if (Accept("ORDER")) {
      EDDY_RETURN_IF_ERROR(Expect("BY"));
      do {
        OrderItem item;
        EDDY_ASSIGN_OR_RETURN(item.expr, ParseExpr());
        if (Accept("DESC")) {
          item.descending = true;
        } else {
          Accept("ASC");
        }
        if (Peek().Is("NULLS")) return Unsupported(Peek(), "NULLS FIRST/LAST");
        sel->order_by.push_back(std::move(item));
      } while (AcceptSymbol(","));
    }
    for (int round = 0; round < 2; ++round) {
      if (!sel->limit && Accept("LIMIT")) {
        if (Accept("ALL")) continue;
        EDDY_ASSIGN_OR_RETURN(sel->limit, Integer("a row count after LIMIT"));
        if (Peek().IsSymbol(",")) return Unsupported(Peek(), "LIMIT offset, count (use OFFSET)");
      } else if (!sel->offset && Accept("OFFSET")) {
        EDDY_ASSIGN_OR_RETURN(sel->offset, Integer("a row count after OFFSET"));
        if (!Accept("ROWS")) Accept("ROW");
      }
    }
    if (Peek().Is("FETCH")) return Unsupported(Peek(), "FETCH FIRST (use LIMIT)");
    if (Peek().Is("FOR")) return Unsupported(Peek(), "SELECT ... FOR UPDATE");
    if (Peek().Is("WITH") && Peek(1).IsSymbol("(")) {
      Next();
      Next();
      do {
        WithOption opt;
        opt.pos = Peek().pos;
        EDDY_ASSIGN_OR_RETURN(std::string name, Name("an option name"));
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        opt.name = std::move(name);
        EDDY_RETURN_IF_ERROR(ExpectSymbol("="));
        EDDY_ASSIGN_OR_RETURN(opt.value, ParseExpr());
        sel->with.push_back(std::move(opt));
      } while (AcceptSymbol(","));
      EDDY_RETURN_IF_ERROR(ExpectSymbol(")"));
    }
    return sel;
  }

  Status ParseTableRef(TableRef* ref) {
    ref->pos = Peek().pos;
    if (Peek().IsSymbol("(")) {
      Next();
      if (!Peek().Is("SELECT")) return Expected("SELECT (a subquery)");
      EDDY_ASSIGN_OR_RETURN(ref->subquery, ParseSelect());
      EDDY_RETURN_IF_ERROR(ExpectSymbol(")"));
    } else if (Peek().Is("CHANGES") && Peek(1).IsSymbol("(")) {
      Next();
      Next();
      ref->changes = true;
      if (AcceptSymbol("*")) {
        ref->all_collections = true;
      } else {
        EDDY_ASSIGN_OR_RETURN(std::string first, Name("a collection name or * in CHANGES()"));
        if (AcceptSymbol(".")) {
          ref->database = std::move(first);
          if (AcceptSymbol("*")) {
            ref->all_collections = true;
          } else {
            EDDY_ASSIGN_OR_RETURN(ref->name, FieldName());
          }
        } else {
          ref->name = std::move(first);
        }
      }
      EDDY_RETURN_IF_ERROR(ExpectSymbol(")"));
    } else {
      EDDY_RETURN_IF_ERROR(ParseTableName(ref));
    }
    if (Accept("AS")) {
      EDDY_ASSIGN_OR_RETURN(ref->alias, Name("an alias"));
    } else if (AtName()) {
      ref->alias = Next().text;
    }
    if (ref->subquery && ref->alias.empty()) {
      return Expected("an alias for the subquery in FROM");
    }
    return Status::OK();
  }

  // After "OVER (" or "AS (": [PARTITION BY ...] [ORDER BY ...] [ROWS|RANGE frame] ")".
  Result<std::unique_ptr<WindowSpec>> ParseWindowSpec() {
    auto w = std::make_unique<WindowSpec>();
    if (Accept("PARTITION")) {
      EDDY_RETURN_IF_ERROR(Expect("BY"));
      do {
        EDDY_ASSIGN_OR_RETURN(auto e, ParseExpr());
        w->partition_by.push_back(std::move(e));
      } while (AcceptSymbol(","));
    }
    if (Accept("ORDER")) {
      EDDY_RETURN_IF_ERROR(Expect("BY"));
      do {
        EDDY_ASSIGN_OR_RETURN(auto e, ParseExpr());
        bool desc = false;
        if (Accept("DESC")) {
          desc = true;
        } else {
          Accept("ASC");
        }
        w->order_by.emplace_back(std::move(e), desc);
      } while (AcceptSymbol(","));
    }
    if (Peek().Is("ROWS") || Peek().Is("RANGE")) {
      if (Peek().Is("RANGE")) w->range_frame = true;
      Next();
      w->has_frame = true;
      if (Accept("BETWEEN")) {
        EDDY_ASSIGN_OR_RETURN(w->lower, FrameBound(w.get()));
        EDDY_RETURN_IF_ERROR(Expect("AND"));
        EDDY_ASSIGN_OR_RETURN(w->upper, FrameBound(w.get()));
      } else {
        EDDY_ASSIGN_OR_RETURN(w->lower, FrameBound(w.get()));
        w->upper = 0;
      }
    } else if (Peek().Is("GROUPS")) {
      return Unsupported(Peek(), "GROUPS frames");
    }
    EDDY_RETURN_IF_ERROR(ExpectSymbol(")"));
    return w;
  }

  // UNBOUNDED PRECEDING|FOLLOWING -> nullopt, CURRENT ROW -> 0, n PRECEDING -> -n, n FOLLOWING.
  Result<std::optional<int64_t>> FrameBound(WindowSpec* w) {
    if (Accept("UNBOUNDED")) {
      if (!Accept("PRECEDING") && !Accept("FOLLOWING")) return Expected("PRECEDING or FOLLOWING");
      return std::optional<int64_t>();
    }
    if (Accept("CURRENT")) {
      EDDY_RETURN_IF_ERROR(Expect("ROW"));
      return std::optional<int64_t>(0);
    }
    if (Peek().Is("INTERVAL")) {  // RANGE BETWEEN INTERVAL '365 days' PRECEDING: a time range
      const Token& at = Peek();
      if (!w->range_frame) return ErrorAt(at, "a row count (INTERVAL bounds need RANGE)");
      EDDY_ASSIGN_OR_RETURN(ExprPtr iv, ParsePrimary());
      if (iv->kind != ExprKind::kInterval) return ErrorAt(at, "an INTERVAL");
      w->interval_bounds = true;
      int64_t n = iv->literal.as_int64();
      if (Accept("PRECEDING")) return std::optional<int64_t>(-n);
      if (Accept("FOLLOWING")) return std::optional<int64_t>(n);
      return Expected("PRECEDING or FOLLOWING");
    }
    EDDY_ASSIGN_OR_RETURN(int64_t n, Integer("a frame bound (n PRECEDING, CURRENT ROW, UNBOUNDED)"));
    if (Accept("PRECEDING")) return std::optional<int64_t>(-n);
    if (Accept("FOLLOWING")) return std::optional<int64_t>(n);
    return Expected("PRECEDING or FOLLOWING");
  }

  // ---- expressions ----

  ExprPtr Make(ExprKind kind, const Token& at) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->pos = at.pos;
    return e;
  }

  // Records the source text from token index `first` to the last consumed token.
  void SetText(Expr* e, size_t first) {
    size_t b = toks_[first].offset;
    size_t last = pos_ > first ? pos_ - 1 : first;
    size_t end = toks_[last].end;
    if (end > b) e->text = std::string(src_.substr(b, end - b));
  }

  Result<ExprPtr> ParseExpr() {
    if (++depth_ > 200) return Expected("a less deeply nested expression");
    auto r = ParseOr();
    --depth_;
    return r;
  }

  Result<ExprPtr> ParseOr() {
    size_t first = pos_;
    EDDY_ASSIGN_OR_RETURN(ExprPtr lhs, ParseAnd());
    while (Peek().Is("OR")) {
      const Token& op = Next();
      EDDY_ASSIGN_OR_RETURN(ExprPtr rhs, ParseAnd());
      lhs = Binary(op, "OR", std::move(lhs), std::move(rhs), first);
    }
    return lhs;
  }

  Result<ExprPtr> ParseAnd() {
    size_t first = pos_;
    EDDY_ASSIGN_OR_RETURN(ExprPtr lhs, ParseNot());
    while (Peek().Is("AND")) {
      const Token& op = Next();
      EDDY_ASSIGN_OR_RETURN(ExprPtr rhs, ParseNot());
      lhs = Binary(op, "AND", std::move(lhs), std::move(rhs), first);
    }
    return lhs;
  }

  Result<ExprPtr> ParseNot() {
    if (Peek().Is("NOT") && !Peek(1).Is("EXISTS")) {
      size_t first = pos_;
      const Token& op = Next();
      if (++depth_ > 200) return Expected("a less deeply nested expression");
      EDDY_ASSIGN_OR_RETURN(ExprPtr arg, ParseNot());
      --depth_;
      auto e = Make(ExprKind::kUnary, op);
      e->op = "NOT";
      e->args.push_back(std::move(arg));
      SetText(e.get(), first);
      return e;
    }
    return ParseComparison();
  }

  ExprPtr Binary(const Token& op, std::string name, ExprPtr a, ExprPtr b, size_t first) {
    auto e = Make(ExprKind::kBinary, op);
    e->pos = a->pos;
    e->op = std::move(name);
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    SetText(e.get(), first);
    return e;
  }

  Result<ExprPtr> ParseComparison() {
    size_t first = pos_;
    EDDY_ASSIGN_OR_RETURN(ExprPtr lhs, ParseConcat());
    while (true) {
      const Token& t = Peek();
      static constexpr std::string_view kOps[] = {"=", "<>", "!=", "<", "<=", ">", ">="};
      bool cmp = false;
      for (auto op : kOps) cmp = cmp || t.IsSymbol(op);
      if (cmp) {
        const Token& op = Next();
        std::string name = op.text == "!=" ? "<>" : op.text;
        if (Peek().Is("ANY") || Peek().Is("ALL") || Peek().Is("SOME")) {
          return Unsupported(Peek(), Upper(Peek().text) + " (subquery comparison)");
        }
        EDDY_ASSIGN_OR_RETURN(ExprPtr rhs, ParseConcat());
        lhs = Binary(op, name, std::move(lhs), std::move(rhs), first);
        continue;
      }
      if (t.Is("IS")) {
        const Token& is = Next();
        bool neg = Accept("NOT");
        if (Accept("NULL")) {
          auto e = Make(ExprKind::kIsNull, is);
          e->pos = lhs->pos;
          e->negated = neg;
          e->args.push_back(std::move(lhs));
          SetText(e.get(), first);
          lhs = std::move(e);
          continue;
        }
        if (Accept("MISSING")) {
          auto e = Make(ExprKind::kExists, is);
          e->pos = lhs->pos;
          e->negated = !neg;
          e->args.push_back(std::move(lhs));
          SetText(e.get(), first);
          lhs = std::move(e);
          continue;
        }
        if (Peek().Is("TRUE") || Peek().Is("FALSE") || Peek().Is("DISTINCT") ||
            Peek().Is("UNKNOWN")) {
          return Unsupported(Peek(), "IS [NOT] " + Upper(Peek().text));
        }
        return Expected("NULL, NOT NULL or MISSING after IS");
      }
      bool neg = false;
      if (t.Is("NOT") && (Peek(1).Is("IN") || Peek(1).Is("BETWEEN") || Peek(1).Is("LIKE") ||
                          Peek(1).Is("ILIKE") || Peek(1).Is("EXISTS"))) {
        Next();
        neg = true;
      }
      const Token& k = Peek();
      if (k.Is("IN")) {
        Next();
        auto e = Make(ExprKind::kIn, k);
        e->pos = lhs->pos;
        e->negated = neg;
        e->args.push_back(std::move(lhs));
        EDDY_RETURN_IF_ERROR(ExpectSymbol("("));
        if (Peek().Is("SELECT")) return Unsupported(Peek(), "IN (subquery)");
        if (Peek().IsSymbol(")")) return Expected("at least one value in IN (...)");
        do {
          EDDY_ASSIGN_OR_RETURN(auto v, ParseExpr());
          e->args.push_back(std::move(v));
        } while (AcceptSymbol(","));
        EDDY_RETURN_IF_ERROR(ExpectSymbol(")"));
        SetText(e.get(), first);
        lhs = std::move(e);
        continue;
      }
      if (k.Is("BETWEEN")) {
        Next();
        if (Peek().Is("SYMMETRIC")) return Unsupported(Peek(), "BETWEEN SYMMETRIC");
        auto e = Make(ExprKind::kBetween, k);
        e->pos = lhs->pos;
        e->negated = neg;
        e->args.push_back(std::move(lhs));
        EDDY_ASSIGN_OR_RETURN(auto lo, ParseConcat());
        EDDY_RETURN_IF_ERROR(Expect("AND"));
        EDDY_ASSIGN_OR_RETURN(auto hi, ParseConcat());
        e->args.push_back(std::move(lo));
        e->args.push_back(std::move(hi));
        SetText(e.get(), first);
        lhs = std::move(e);
        continue;
      }
      if (k.Is("LIKE") || k.Is("ILIKE")) {
        Next();
        auto e = Make(ExprKind::kLike, k);
        e->pos = lhs->pos;
        e->negated = neg;
        e->insensitive = k.Is("ILIKE");
        e->args.push_back(std::move(lhs));
        EDDY_ASSIGN_OR_RETURN(auto pat, ParseConcat());
        e->args.push_back(std::move(pat));
        if (Accept("ESCAPE")) {
          const Token& esc = Peek();
          if (esc.kind != TokenKind::kString || esc.text.size() > 1) {
            return Expected("a one-character string after ESCAPE (or '' for none)");
          }
          e->escape = esc.text.empty() ? '\0' : esc.text[0];
          Next();
        }
        SetText(e.get(), first);
        lhs = std::move(e);
        continue;
      }
      if (k.Is("EXISTS")) {  // postfix field-presence test: a.b EXISTS
        Next();
        auto e = Make(ExprKind::kExists, k);
        e->pos = lhs->pos;
        e->negated = neg;
        e->args.push_back(std::move(lhs));
        SetText(e.get(), first);
        lhs = std::move(e);
        continue;
      }
      if (k.Is("SIMILAR") || k.Is("REGEXP") || k.Is("RLIKE")) {
        return Unsupported(k, Upper(k.text));
      }
      if (neg) return Expected("IN, BETWEEN, LIKE or EXISTS after NOT");
      return lhs;
    }
  }

  Result<ExprPtr> ParseConcat() {
    size_t first = pos_;
    EDDY_ASSIGN_OR_RETURN(ExprPtr lhs, ParseAdditive());
    while (Peek().IsSymbol("||")) {
      const Token& op = Next();
      EDDY_ASSIGN_OR_RETURN(ExprPtr rhs, ParseAdditive());
      lhs = Binary(op, "||", std::move(lhs), std::move(rhs), first);
    }
    return lhs;
  }

  Result<ExprPtr> ParseAdditive() {
    size_t first = pos_;
    EDDY_ASSIGN_OR_RETURN(ExprPtr lhs, ParseMultiplicative());
    while (Peek().IsSymbol("+") || Peek().IsSymbol("-")) {
      const Token& op = Next();
      EDDY_ASSIGN_OR_RETURN(ExprPtr rhs, ParseMultiplicative());
      lhs = Binary(op, op.text, std::move(lhs), std::move(rhs), first);
    }
    return lhs;
  }

  Result<ExprPtr> ParseMultiplicative() {
    size_t first = pos_;
    EDDY_ASSIGN_OR_RETURN(ExprPtr lhs, ParseUnary());
    while (Peek().IsSymbol("*") || Peek().IsSymbol("/") || Peek().IsSymbol("%")) {
      const Token& op = Next();
      EDDY_ASSIGN_OR_RETURN(ExprPtr rhs, ParseUnary());
      lhs = Binary(op, op.text, std::move(lhs), std::move(rhs), first);
    }
    return lhs;
  }

  Result<ExprPtr> ParseUnary() {
    if (Peek().IsSymbol("-") || Peek().IsSymbol("+")) {
      size_t first = pos_;
      const Token& op = Next();
      if (++depth_ > 200) return Expected("a less deeply nested expression");
      EDDY_ASSIGN_OR_RETURN(ExprPtr arg, ParseUnary());
      --depth_;
      // Fold signs into numeric literals so -5 is the literal -5 (filters stay simple).
      if (arg->kind == ExprKind::kLiteral && arg->literal.is_number()) {
        if (op.text == "-") {
          const auto& v = arg->literal;
          if (v.is_int32()) {
            int32_t i = v.as_int32();
            arg->literal = i == INT32_MIN ? bson::Value(-static_cast<int64_t>(i)) : bson::Value(-i);
          } else if (v.is_int64()) {
            int64_t i = v.as_int64();
            arg->literal = i == INT64_MIN ? bson::Value(-static_cast<double>(i)) : bson::Value(-i);
          } else {
            arg->literal = bson::Value(-v.as_double_exact());
          }
        }
        arg->pos = op.pos;
        SetText(arg.get(), first);
        return arg;
      }
      if (arg->kind == ExprKind::kInterval && op.text == "-") {
        arg->literal = bson::Value(-arg->literal.as_int64());
        return arg;
      }
      auto e = Make(ExprKind::kUnary, op);
      e->op = op.text;
      e->args.push_back(std::move(arg));
      SetText(e.get(), first);
      return e;
    }
    return ParsePostfixCast();
  }

  Result<ExprPtr> ParsePostfixCast() {
    size_t first = pos_;
    EDDY_ASSIGN_OR_RETURN(ExprPtr e, ParsePrimary());
    while (Peek().IsSymbol("::")) {
      const Token& op = Next();
      EDDY_ASSIGN_OR_RETURN(std::string type, TypeName());
      auto c = Make(ExprKind::kCast, op);
      c->pos = e->pos;
      c->op = std::move(type);
      c->args.push_back(std::move(e));
      SetText(c.get(), first);
      e = std::move(c);
    }
    return e;
  }

  Result<std::string> TypeName() {
    const Token& t = Peek();
    if (t.kind != TokenKind::kIdentifier) return Expected("a type name");
    std::string name = Upper(Next().text);
    if (name == "DOUBLE" && Peek().Is("PRECISION")) Next();
    if (name == "CHARACTER" && Peek().Is("VARYING")) {
      Next();
      name = "VARCHAR";
    }
    if (AcceptSymbol("(")) {  // VARCHAR(20), NUMERIC(10, 2): lengths are accepted and ignored
      do {
        EDDY_ASSIGN_OR_RETURN(int64_t ignored, Integer("a type length"));
        (void)ignored;
      } while (AcceptSymbol(","));
      EDDY_RETURN_IF_ERROR(ExpectSymbol(")"));
    }
    return name;
  }

  // INTERVAL '5' MINUTE: the words that may follow the string as its unit.
  static bool IsUnitWord(std::string_view w) {
    std::string u = Upper(w);
    if (u.size() > 1 && u.back() == 'S') u.pop_back();
    static const std::set<std::string> kUnits = {"MILLISECOND", "MS", "SECOND", "SEC", "MINUTE",
                                                 "MIN", "HOUR", "DAY", "WEEK", "MONTH", "YEAR"};
    return kUnits.count(u) > 0;
  }

  static Result<int64_t> IntervalMillis(const Token& at, std::string_view text,
                                        std::string unit_word) {
    // "5 minutes", "1 hour", "2 days 3 hours", or a number with the unit as a separate word.
    int64_t total = 0;
    size_t i = 0;
    bool any = false;
    auto bad = [&]() {
      return ErrorAt(at, "an interval like '5 minutes' (units: millisecond, second, minute, "
                         "hour, day, week)");
    };
    while (true) {
      while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
      if (i >= text.size()) break;
      size_t j = i;
      if (text[j] == '-' || text[j] == '+') ++j;
      while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
      if (j == i) return bad();
      int64_t n = 0;
      auto [p, ec] = std::from_chars(text.data() + (text[i] == '+' ? i + 1 : i), text.data() + j, n);
      if (ec != std::errc()) return bad();
      while (j < text.size() && std::isspace(static_cast<unsigned char>(text[j]))) ++j;
      size_t k = j;
      while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k]))) ++k;
      std::string unit = Upper(text.substr(j, k - j));
      if (unit.empty()) unit = unit_word;
      unit_word.clear();
      if (unit.size() > 1 && unit.back() == 'S') unit.pop_back();
      int64_t mult = 0;
      if (unit == "MILLISECOND" || unit == "MS") mult = 1;
      if (unit == "SECOND" || unit == "SEC") mult = 1000;
      if (unit == "MINUTE" || unit == "MIN") mult = 60'000;
      if (unit == "HOUR") mult = 3'600'000;
      if (unit == "DAY") mult = 86'400'000;
      if (unit == "WEEK") mult = 7 * 86'400'000LL;
      if (unit == "MONTH" || unit == "YEAR") {
        return Status(ErrorCode::kNotImplemented,
                      "unsupported at " + std::to_string(at.pos.line) + ":" +
                          std::to_string(at.pos.column) +
                          ": month and year intervals (variable length) are not supported by "
                          "eddy sql; use days");
      }
      if (mult == 0) return bad();
      total += n * mult;
      any = true;
      i = k;
    }
    if (!any) return bad();
    return total;
  }

  Result<ExprPtr> ParsePrimary() {
    size_t first = pos_;
    const Token& t = Peek();
    switch (t.kind) {
      case TokenKind::kInteger: {
        Next();
        auto e = Make(ExprKind::kLiteral, t);
        int64_t v = 0;
        auto [p, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
        if (ec == std::errc() && p == t.text.data() + t.text.size()) {
          if (v >= INT32_MIN && v <= INT32_MAX) {
            e->literal = bson::Value(static_cast<int32_t>(v));
          } else {
            e->literal = bson::Value(v);
          }
        } else {
          e->literal = bson::Value(std::strtod(t.text.c_str(), nullptr));  // beyond int64
        }
        e->text = t.text;
        return e;
      }
      case TokenKind::kReal: {
        Next();
        auto e = Make(ExprKind::kLiteral, t);
        e->literal = bson::Value(std::strtod(t.text.c_str(), nullptr));
        e->text = t.text;
        return e;
      }
      case TokenKind::kString: {
        Next();
        auto e = Make(ExprKind::kLiteral, t);
        e->literal = bson::Value(t.text);
        e->text = "'" + t.text + "'";
        return e;
      }
      case TokenKind::kQuotedIdentifier:
        return ParseColumn();
      case TokenKind::kSymbol:
        if (t.IsSymbol("(")) {
          Next();
          if (Peek().Is("SELECT")) return Unsupported(Peek(), "subqueries in expressions");
          EDDY_ASSIGN_OR_RETURN(ExprPtr e, ParseExpr());
          EDDY_RETURN_IF_ERROR(ExpectSymbol(")"));
          SetText(e.get(), first);
          return e;
        }
        if (t.IsSymbol("{")) return ParseObject();
        if (t.IsSymbol("[")) return ParseArray();
        return Expected("an expression");
      case TokenKind::kEnd:
        return Expected("an expression");
      case TokenKind::kIdentifier:
        break;
    }
    // Identifiers: keywords with a meaning in expressions, function calls, columns.
    if (t.Is("NULL") || t.Is("TRUE") || t.Is("FALSE")) {
      Next();
      auto e = Make(ExprKind::kLiteral, t);
      if (t.Is("TRUE")) e->literal = bson::Value(true);
      if (t.Is("FALSE")) e->literal = bson::Value(false);
      e->text = Upper(t.text);
      return e;
    }
    if ((t.Is("DATE") || t.Is("TIMESTAMP")) && Peek(1).kind == TokenKind::kString) {
      Next();
      const Token& s = Next();
      auto parsed = bson::ParseJsonValue("{\"$date\": \"" + DateLiteral(s.text) + "\"}");
      if (!parsed.ok() || parsed->type() != bson::Type::kDateTime) {
        return ErrorAt(s, "an ISO-8601 date like '2024-01-31' or '2024-01-31T12:00:00Z'");
      }
      auto e = Make(ExprKind::kLiteral, t);
      e->literal = *parsed;
      SetText(e.get(), first);
      return e;
    }
    if (t.Is("OBJECTID") && Peek(1).IsSymbol("(")) {
      Next();
      Next();
      const Token& s = Peek();
      bson::ObjectId oid;
      if (s.kind != TokenKind::kString || !bson::ObjectId::FromHex(s.text, &oid)) {
        return Expected("a 24-hex-digit string in OBJECTID('...')");
      }
      Next();
      EDDY_RETURN_IF_ERROR(ExpectSymbol(")"));
      auto e = Make(ExprKind::kLiteral, t);
      e->literal = bson::Value(oid);
      SetText(e.get(), first);
      return e;
    }
    if (t.Is("INTERVAL")) {
      Next();
      const Token& s = Peek();
      if (s.kind != TokenKind::kString) return Expected("a string after INTERVAL, e.g. '1 hour'");
      Next();
      std::string unit;
      if (Peek().kind == TokenKind::kIdentifier && !IsReserved(Peek()) && IsUnitWord(Peek().text)) {
        unit = Upper(Next().text);
      }
      EDDY_ASSIGN_OR_RETURN(int64_t ms, IntervalMillis(s, s.text, unit));
      auto e = Make(ExprKind::kInterval, t);
      e->literal = bson::Value(ms);
      SetText(e.get(), first);
      return e;
    }
    if (t.Is("CURRENT_TIMESTAMP") || t.Is("CURRENT_DATE") || t.Is("LOCALTIMESTAMP")) {
      Next();
      auto e = Make(ExprKind::kCurrentTime, t);
      e->op = Upper(t.text);
      e->text = Upper(t.text);
      return e;
    }
    if (t.Is("CASE")) return ParseCase();
    if (t.Is("CAST") && Peek(1).IsSymbol("(")) {
      Next();
      Next();
      auto e = Make(ExprKind::kCast, t);
      EDDY_ASSIGN_OR_RETURN(auto arg, ParseExpr());
      e->args.push_back(std::move(arg));
      EDDY_RETURN_IF_ERROR(Expect("AS"));
      EDDY_ASSIGN_OR_RETURN(e->op, TypeName());
      EDDY_RETURN_IF_ERROR(ExpectSymbol(")"));
      SetText(e.get(), first);
      return e;
    }
    if (t.Is("EXISTS")) {
      Next();
      auto e = Make(ExprKind::kExists, t);
      EDDY_RETURN_IF_ERROR(ExpectSymbol("("));
      if (Peek().Is("SELECT")) return Unsupported(Peek(), "EXISTS (subquery)");
      EDDY_ASSIGN_OR_RETURN(auto arg, ParseExpr());
      if (arg->kind != ExprKind::kColumn) {
        return ErrorAt(toks_[first + 2], "a field path in EXISTS(...)");
      }
      e->args.push_back(std::move(arg));
      EDDY_RETURN_IF_ERROR(ExpectSymbol(")"));
      SetText(e.get(), first);
      return e;
    }
    if (t.Is("NOT") && Peek(1).Is("EXISTS")) {
      Next();
      EDDY_ASSIGN_OR_RETURN(ExprPtr e, ParsePrimary());
      e->negated = !e->negated;
      SetText(e.get(), first);
      return e;
    }
    if (IsReserved(t)) return Expected("an expression");
    if (Peek(1).IsSymbol("(")) return ParseFunction();
    return ParseColumn();
  }

  // '2024-01-31' -> '2024-01-31T00:00:00Z'; '2024-01-31 12:00:00' -> 'T'; no zone -> 'Z'.
  static std::string DateLiteral(std::string s) {
    if (s.size() == 10) return s + "T00:00:00Z";
    if (s.size() > 10 && s[10] == ' ') s[10] = 'T';
    bool zone = s.back() == 'Z' || (s.size() > 19 && (s.find('+', 19) != std::string::npos ||
                                                      s.find('-', 19) != std::string::npos));
    if (!zone) s += "Z";
    return s;
  }

  Result<ExprPtr> ParseColumn() {
    size_t first = pos_;
    auto e = Make(ExprKind::kColumn, Peek());
    EDDY_ASSIGN_OR_RETURN(e->path, ParsePath());
    SetText(e.get(), first);
    return e;
  }

  Result<ExprPtr> ParseFunction() {
    size_t first = pos_;
    const Token& name = Next();
    Next();  // (
    auto e = Make(ExprKind::kFunction, name);
    e->op = Upper(name.text);
    if (AcceptSymbol("*")) {
      e->star = true;
    } else if (!Peek().IsSymbol(")")) {
      if (Accept("DISTINCT")) e->distinct = true;
      // EXTRACT(field FROM source), DATE_PART('field', source) both work.
      if (e->op == "EXTRACT") {
        const Token& f = Peek();
        if (f.kind != TokenKind::kIdentifier && f.kind != TokenKind::kString) {
          return Expected("a date part (YEAR, MONTH, DAY, HOUR, DOW, ...) in EXTRACT");
        }
        Next();
        auto part = Make(ExprKind::kLiteral, f);
        part->literal = bson::Value(Upper(f.text));
        e->args.push_back(std::move(part));
        EDDY_RETURN_IF_ERROR(Expect("FROM"));
        EDDY_ASSIGN_OR_RETURN(auto src, ParseExpr());
        e->args.push_back(std::move(src));
      } else {
        do {
          EDDY_ASSIGN_OR_RETURN(auto a, ParseExpr());
          e->args.push_back(std::move(a));
        } while (AcceptSymbol(","));
      }
    }
    if (Peek().Is("ORDER")) return Unsupported(Peek(), "ORDER BY inside an aggregate call");
    EDDY_RETURN_IF_ERROR(ExpectSymbol(")"));
    if (Peek().Is("WITHIN")) return Unsupported(Peek(), "WITHIN GROUP");
    if (Accept("FILTER")) {
      EDDY_RETURN_IF_ERROR(ExpectSymbol("("));
      EDDY_RETURN_IF_ERROR(Expect("WHERE"));
      EDDY_ASSIGN_OR_RETURN(e->filter, ParseExpr());
      EDDY_RETURN_IF_ERROR(ExpectSymbol(")"));
    }
    if (Accept("OVER")) {
      if (AcceptSymbol("(")) {
        EDDY_ASSIGN_OR_RETURN(e->over, ParseWindowSpec());
      } else {
        e->over = std::make_unique<WindowSpec>();
        if (Peek().Is("WINDOW")) {  // OVER window: the WINDOW (...) of a materialized stream
          e->over->name = "window";
          Next();
        } else {
          EDDY_ASSIGN_OR_RETURN(e->over->name, Name("a window name or ( after OVER"));
        }
      }
    }
    SetText(e.get(), first);
    return e;
  }

  Result<ExprPtr> ParseCase() {
    size_t first = pos_;
    const Token& t = Next();  // CASE
    auto e = Make(ExprKind::kCase, t);
    if (!Peek().Is("WHEN")) {
      EDDY_ASSIGN_OR_RETURN(e->operand, ParseExpr());
    }
    if (!Peek().Is("WHEN")) return Expected("WHEN");
    while (Accept("WHEN")) {
      EDDY_ASSIGN_OR_RETURN(auto cond, ParseExpr());
      EDDY_RETURN_IF_ERROR(Expect("THEN"));
      EDDY_ASSIGN_OR_RETURN(auto val, ParseExpr());
      e->whens.emplace_back(std::move(cond), std::move(val));
    }
    if (Accept("ELSE")) {
      EDDY_ASSIGN_OR_RETURN(e->else_expr, ParseExpr());
    }
    if (!Accept("END")) return Expected(e->else_expr ? "END" : "WHEN, ELSE or END");
    SetText(e.get(), first);
    return e;
  }

  Result<ExprPtr> ParseObject() {
    size_t first = pos_;
    const Token& open = Next();  // {
    auto e = Make(ExprKind::kObject, open);
    if (!AcceptSymbol("}")) {
      do {
        if (Peek().IsSymbol("}")) break;  // trailing comma
        const Token& k = Peek();
        if (k.kind != TokenKind::kIdentifier && k.kind != TokenKind::kQuotedIdentifier &&
            k.kind != TokenKind::kString) {
          return Expected("a key (name or string) in an object literal");
        }
        Next();
        for (const auto& existing : e->keys) {
          if (existing == k.text) return ErrorAt(k, "a key not already used in this object");
        }
        e->keys.push_back(k.text);
        EDDY_RETURN_IF_ERROR(ExpectSymbol(":"));
        EDDY_ASSIGN_OR_RETURN(auto v, ParseExpr());
        e->args.push_back(std::move(v));
      } while (AcceptSymbol(","));
      EDDY_RETURN_IF_ERROR(ExpectSymbol("}"));
    }
    SetText(e.get(), first);
    return e;
  }

  Result<ExprPtr> ParseArray() {
    size_t first = pos_;
    const Token& open = Next();  // [
    auto e = Make(ExprKind::kArray, open);
    if (!AcceptSymbol("]")) {
      do {
        if (Peek().IsSymbol("]")) break;  // trailing comma
        EDDY_ASSIGN_OR_RETURN(auto v, ParseExpr());
        e->args.push_back(std::move(v));
      } while (AcceptSymbol(","));
      EDDY_RETURN_IF_ERROR(ExpectSymbol("]"));
    }
    SetText(e.get(), first);
    return e;
  }

  // ---- change-stream DDL ----

  // True when the tokens at `ahead` start a definition kind (CHANGE STREAM, HANDLER, ...).
  bool KindAhead(size_t ahead) const {
    const Token& t = Peek(ahead);
    if (t.Is("CHANGE")) return Peek(ahead + 1).Is("STREAM") || Peek(ahead + 1).Is("STREAMS");
    if (t.Is("MATERIALIZED")) return Peek(ahead + 1).Is("CHANGE");
    if (t.Is("EVENT")) return Peek(ahead + 1).Is("STORE") || Peek(ahead + 1).Is("STORES");
    return t.Is("DISTRIBUTED") || t.Is("SAGA") || t.Is("SAGAS") || t.Is("HANDLER") ||
           t.Is("HANDLERS") || t.Is("MONITOR") || t.Is("MONITORS");
  }

  // A kind in singular (CREATE/DROP/ALTER/DESCRIBE) or plural (SHOW) form.
  Result<DefinitionKind> ParseKind(bool plural) {
    auto word = [&](std::string_view singular) -> Status {
      std::string w(singular);
      if (plural ? Accept(w + "S") : Accept(w)) return Status::OK();
      return Expected(Upper(plural ? w + "S" : w));
    };
    if (Accept("CHANGE")) {
      if (plural && Peek().Is("STREAM") && Peek(1).Is("MONITORS")) {
        Next();
        Next();
        return DefinitionKind::kMonitor;
      }
      if (!plural && Peek().Is("STREAM") && Peek(1).Is("MONITOR")) {
        Next();
        Next();
        return DefinitionKind::kMonitor;
      }
      EDDY_RETURN_IF_ERROR(word("STREAM"));
      return DefinitionKind::kChangeStream;
    }
    if (Accept("MATERIALIZED")) {
      EDDY_RETURN_IF_ERROR(Expect("CHANGE"));
      EDDY_RETURN_IF_ERROR(word("STREAM"));
      return DefinitionKind::kMaterializedChangeStream;
    }
    if (Accept("EVENT")) {
      EDDY_RETURN_IF_ERROR(word("STORE"));
      return DefinitionKind::kEventStore;
    }
    if (Accept("DISTRIBUTED")) {
      EDDY_RETURN_IF_ERROR(word("SAGA"));
      return DefinitionKind::kSaga;
    }
    if (Peek().Is("SAGA") || Peek().Is("SAGAS")) {
      EDDY_RETURN_IF_ERROR(word("SAGA"));
      return DefinitionKind::kSaga;
    }
    if (Peek().Is("MONITOR") || Peek().Is("MONITORS")) {
      EDDY_RETURN_IF_ERROR(word("MONITOR"));
      return DefinitionKind::kMonitor;
    }
    if (Peek().Is("HANDLER") || Peek().Is("HANDLERS")) {
      EDDY_RETURN_IF_ERROR(word("HANDLER"));
      return DefinitionKind::kHandler;
    }
    return Expected(plural ? "COLLECTIONS, DEFINITIONS, CHANGE STREAMS, MATERIALIZED CHANGE "
                             "STREAMS, EVENT STORES, SAGAS, CHANGE STREAM MONITORS or HANDLERS"
                           : "CHANGE STREAM, MATERIALIZED CHANGE STREAM, EVENT STORE, "
                             "DISTRIBUTED SAGA, CHANGE STREAM MONITOR or HANDLER");
  }

  Status ParseShowDefinitions(Statement* st) {
    st->kind = StatementKind::kDefinitionCommand;
    auto dc = std::make_unique<DefinitionCommand>();
    dc->verb = DefinitionVerb::kShow;
    if (!Accept("DEFINITIONS")) {
      EDDY_ASSIGN_OR_RETURN(auto kind, ParseKind(true));
      dc->kind = kind;
    }
    st->definition_command = std::move(dc);
    return Status::OK();
  }

  Status ParseDescribe(Statement* st) {
    Next();  // DESCRIBE
    st->kind = StatementKind::kDefinitionCommand;
    auto dc = std::make_unique<DefinitionCommand>();
    dc->verb = DefinitionVerb::kDescribe;
    if (KindAhead(0)) {
      EDDY_ASSIGN_OR_RETURN(auto kind, ParseKind(false));
      dc->kind = kind;
    }
    dc->name_pos = Peek().pos;
    EDDY_ASSIGN_OR_RETURN(dc->name, Name("a definition name"));
    st->definition_command = std::move(dc);
    return Status::OK();
  }

  Status ParseAlter(Statement* st) {
    Next();  // ALTER
    st->kind = StatementKind::kDefinitionCommand;
    auto dc = std::make_unique<DefinitionCommand>();
    const Token& kt = Peek();
    EDDY_ASSIGN_OR_RETURN(auto kind, ParseKind(false));
    if (kind == DefinitionKind::kHandler) {
      return Unsupported(kt, "ALTER HANDLER (drop and create it again)");
    }
    dc->kind = kind;
    dc->name_pos = Peek().pos;
    EDDY_ASSIGN_OR_RETURN(dc->name, Name("a " + KindName(kind) + " name"));
    if (Accept("PAUSE")) {
      dc->verb = DefinitionVerb::kPause;
    } else if (Accept("RESUME")) {
      dc->verb = DefinitionVerb::kResume;
    } else {
      return Expected("PAUSE or RESUME");
    }
    st->definition_command = std::move(dc);
    return Status::OK();
  }

  Status ParseCreateDefinition(Statement* st) {
    st->kind = StatementKind::kCreateDefinition;
    auto cd = std::make_unique<CreateDefinition>();
    EDDY_ASSIGN_OR_RETURN(cd->kind, ParseKind(false));
    if (Accept("IF")) {
      EDDY_RETURN_IF_ERROR(Expect("NOT"));
      EDDY_RETURN_IF_ERROR(Expect("EXISTS"));
      cd->if_not_exists = true;
    }
    cd->name_pos = Peek().pos;
    EDDY_ASSIGN_OR_RETURN(cd->name, Name("a " + KindName(cd->kind) + " name"));
    switch (cd->kind) {
      case DefinitionKind::kChangeStream:
      case DefinitionKind::kMaterializedChangeStream:
        cd->stream = std::make_unique<ChangeStreamDef>();
        EDDY_RETURN_IF_ERROR(
            ParseStreamBody(cd->stream.get(), cd->kind == DefinitionKind::kMaterializedChangeStream));
        break;
      case DefinitionKind::kEventStore:
        cd->event_store = std::make_unique<EventStoreDef>();
        EDDY_RETURN_IF_ERROR(ParseEventStoreBody(cd->event_store.get()));
        break;
      case DefinitionKind::kSaga:
        cd->saga = std::make_unique<SagaDef>();
        EDDY_RETURN_IF_ERROR(ParseSagaBody(cd->saga.get()));
        break;
      case DefinitionKind::kMonitor:
        cd->monitor = std::make_unique<MonitorDef>();
        EDDY_RETURN_IF_ERROR(ParseMonitorBody(cd->monitor.get()));
        break;
      case DefinitionKind::kHandler:
        cd->handler = std::make_unique<HandlerDef>();
        EDDY_RETURN_IF_ERROR(ParseHandlerBody(cd->handler.get()));
        break;
    }
    st->create_definition = std::move(cd);
    return Status::OK();
  }

  // ( name = expr, ... ); names lower-cased when `lower`.
  Status ParseAssignments(std::vector<NamedExpr>* out, bool lower, std::string_view what) {
    EDDY_RETURN_IF_ERROR(ExpectSymbol("("));
    do {
      if (Peek().IsSymbol(")")) break;
      NamedExpr ne;
      ne.pos = Peek().pos;
      const Token& n = Peek();
      if (n.kind != TokenKind::kIdentifier && n.kind != TokenKind::kQuotedIdentifier) {
        return Expected(std::string(what) + " name");
      }
      ne.name = Next().text;
      if (lower) {
        for (char& c : ne.name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      for (const auto& prev : *out) {
        if (prev.name == ne.name) return ErrorAt(n, std::string(what) + " not already given");
      }
      EDDY_RETURN_IF_ERROR(ExpectSymbol("="));
      EDDY_ASSIGN_OR_RETURN(ne.value, ParseExpr());
      out->push_back(std::move(ne));
    } while (AcceptSymbol(","));
    return ExpectSymbol(")");
  }

  // ( {...}, {...} ): object literals (pipeline stages, saga steps).
  Status ParseObjectList(std::vector<ExprPtr>* out, std::string_view what) {
    EDDY_RETURN_IF_ERROR(ExpectSymbol("("));
    do {
      if (Peek().IsSymbol(")") && !out->empty()) break;
      if (!Peek().IsSymbol("{")) return Expected(std::string(what) + " ({...})");
      EDDY_ASSIGN_OR_RETURN(auto obj, ParseObject());
      out->push_back(std::move(obj));
    } while (AcceptSymbol(","));
    return ExpectSymbol(")");
  }

  // A duration written as INTERVAL '5 minutes', '5 minutes' or 5 MINUTES.
  Result<int64_t> Duration(std::string_view what) {
    const Token& t = Peek();
    if (t.Is("INTERVAL")) {
      EDDY_ASSIGN_OR_RETURN(ExprPtr iv, ParsePrimary());
      return iv->literal.as_int64();
    }
    if (t.kind == TokenKind::kString) {
      Next();
      return IntervalMillis(t, t.text, "");
    }
    if (t.kind == TokenKind::kInteger) {
      Next();
      const Token& unit = Peek();
      if (unit.kind != TokenKind::kIdentifier) return Expected("a time unit (SECONDS, MINUTES, ...)");
      Next();
      return IntervalMillis(unit, t.text, Upper(unit.text));
    }
    return Expected(what);
  }

  // Selection items with optional aliases, comma separated, until a token that is not ','.
  Status ParseItems(std::vector<SelectItem>* out) {
    do {
      SelectItem item;
      EDDY_ASSIGN_OR_RETURN(item.expr, ParseExpr());
      if (Accept("AS")) {
        EDDY_ASSIGN_OR_RETURN(item.alias, Name("an alias"));
      } else if (AtName() && !Peek().Is("ADD") && !Peek().Is("REFRESH")) {
        item.alias = Next().text;
      }
      out->push_back(std::move(item));
    } while (AcceptSymbol(","));
    return Status::OK();
  }

  static bool IsOperationWord(const Token& t) {
    static const char* kOps[] = {"INSERT", "UPDATE", "REPLACE", "DELETE", "DROP", "RENAME",
                                 "DROPDATABASE", "INVALIDATE", "CREATE", "CREATEINDEXES",
                                 "DROPINDEXES", "MODIFY", "SHARDCOLLECTION"};
    for (const char* op : kOps) {
      if (t.Is(op)) return true;
    }
    return false;
  }
  // operationType spelling of a WATCH FOR word.
  static std::string OperationType(const Token& t) {
    std::string u = Upper(t.text);
    if (u == "DROPDATABASE") return "dropDatabase";
    if (u == "CREATEINDEXES") return "createIndexes";
    if (u == "DROPINDEXES") return "dropIndexes";
    if (u == "SHARDCOLLECTION") return "shardCollection";
    std::string l = u;
    for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return l;
  }

  Status ParseStreamBody(ChangeStreamDef* def, bool materialized) {
    EDDY_RETURN_IF_ERROR(Expect("ON"));
    EDDY_RETURN_IF_ERROR(ParseTableName(&def->source));
    if (Accept("WATCH")) {
      EDDY_RETURN_IF_ERROR(Expect("FOR"));
      def->operations_pos = Peek().pos;
      EDDY_RETURN_IF_ERROR(ExpectSymbol("("));
      do {
        const Token& op = Peek();
        if (!IsOperationWord(op)) {
          return Expected("an operation (INSERT, UPDATE, REPLACE, DELETE, DROP, RENAME, "
                          "DROPDATABASE, INVALIDATE, CREATE, CREATEINDEXES, DROPINDEXES, MODIFY)");
        }
        std::string type = OperationType(Next());
        for (const auto& prev : def->operations) {
          if (prev == type) return ErrorAt(op, "an operation not already listed");
        }
        def->operations.push_back(std::move(type));
      } while (AcceptSymbol(","));
      EDDY_RETURN_IF_ERROR(ExpectSymbol(")"));
    }
    if (Accept("WHERE")) {
      EDDY_ASSIGN_OR_RETURN(def->where, ParseExpr());
    }
    while (Peek().Is("WITH")) {
      Next();
      const Token& label = Peek();
      if (label.kind != TokenKind::kIdentifier) {
        return Expected("PIPELINE, OPTIONS, AGGREGATION or a processing label after WITH");
      }
      if (Accept("PIPELINE")) {
        if (!def->pipeline.empty()) return ErrorAt(label, "one WITH PIPELINE");
        def->pipeline_pos = label.pos;
        EDDY_RETURN_IF_ERROR(ParseObjectList(&def->pipeline, "a pipeline stage"));
      } else if (Accept("OPTIONS")) {
        if (!def->options.empty()) return ErrorAt(label, "one WITH OPTIONS");
        EDDY_RETURN_IF_ERROR(ParseAssignments(&def->options, true, "an option"));
      } else if (Accept("AGGREGATION")) {
        if (!materialized) {
          return ErrorAt(label, "WITH PIPELINE, OPTIONS or a processing label (WITH "
                                "AGGREGATION needs CREATE MATERIALIZED CHANGE STREAM)");
        }
        if (!def->select.empty()) return ErrorAt(label, "one WITH AGGREGATION");
        def->aggregation_pos = label.pos;
        EDDY_RETURN_IF_ERROR(ParseAggregation(def));
      } else {
        size_t first = pos_;
        ProcessingBlock block;
        block.pos = label.pos;
        block.label = Upper(Next().text);
        for (const auto& b : def->blocks) {
          if (b.label == block.label) return ErrorAt(label, "a processing label not already used");
        }
        EDDY_RETURN_IF_ERROR(ExpectSymbol("("));
        if (Peek().Is("SELECT")) {
          EDDY_ASSIGN_OR_RETURN(block.query, ParseSelect());
        } else if (Peek().Is("CASE") || Peek().Is("CALL")) {
          EDDY_ASSIGN_OR_RETURN(block.routine, ParseAction());
        } else {
          return Expected("SELECT (an analysis query) or CASE/CALL (an event routine) in WITH " +
                          block.label + " (...)");
        }
        EDDY_RETURN_IF_ERROR(ExpectSymbol(")"));
        size_t end = toks_[pos_ - 1].end;
        block.text = std::string(src_.substr(toks_[first].offset, end - toks_[first].offset));
        def->blocks.push_back(std::move(block));
      }
    }
    if (materialized) {
      if (def->select.empty()) return Expected("WITH AGGREGATION (...) in a materialized change stream");
      EDDY_RETURN_IF_ERROR(Expect("REFRESH"));
      EDDY_RETURN_IF_ERROR(Expect("EVERY"));
      const Token& at = Peek();
      EDDY_ASSIGN_OR_RETURN(def->refresh_ms, Duration("a refresh period (5 SECONDS, '1 minute')"));
      if (def->refresh_ms <= 0) return ErrorAt(at, "a positive refresh period");
    }
    if (Accept("PROCESS")) {
      EDDY_RETURN_IF_ERROR(Expect("WITH"));
      def->handler_pos = Peek().pos;
      EDDY_ASSIGN_OR_RETURN(def->handler, Name("a handler name"));
    }
    return Status::OK();
  }

  // GROUP BY (expr AS alias, ...) SELECT items [WINDOW (spec)] [ADD (items)] )
  Status ParseAggregation(ChangeStreamDef* def) {
    EDDY_RETURN_IF_ERROR(ExpectSymbol("("));
    EDDY_RETURN_IF_ERROR(Expect("GROUP"));
    EDDY_RETURN_IF_ERROR(Expect("BY"));
    bool paren = AcceptSymbol("(");
    EDDY_RETURN_IF_ERROR(ParseItems(&def->group_by));
    if (paren) EDDY_RETURN_IF_ERROR(ExpectSymbol(")"));
    EDDY_RETURN_IF_ERROR(Expect("SELECT"));
    EDDY_RETURN_IF_ERROR(ParseItems(&def->select));
    if (Accept("WINDOW")) {
      EDDY_RETURN_IF_ERROR(ExpectSymbol("("));
      EDDY_ASSIGN_OR_RETURN(def->window, ParseWindowSpec());
    }
    if (Accept("ADD")) {
      EDDY_RETURN_IF_ERROR(ExpectSymbol("("));
      EDDY_RETURN_IF_ERROR(ParseItems(&def->add));
      EDDY_RETURN_IF_ERROR(ExpectSymbol(")"));
    }
    return ExpectSymbol(")");
  }

  // CALL proc(args) | CASE [operand] WHEN v THEN action ... [ELSE action] END
  Result<std::unique_ptr<Action>> ParseAction() {
    if (++depth_ > 100) return Expected("a less deeply nested routine");
    size_t first = pos_;
    auto a = std::make_unique<Action>();
    a->pos = Peek().pos;
    if (Accept("CALL")) {
      a->is_call = true;
      EDDY_ASSIGN_OR_RETURN(a->procedure, Name("a procedure name after CALL"));
      EDDY_RETURN_IF_ERROR(ExpectSymbol("("));
      if (!AcceptSymbol(")")) {
        do {
          EDDY_ASSIGN_OR_RETURN(auto arg, ParseExpr());
          a->args.push_back(std::move(arg));
        } while (AcceptSymbol(","));
        EDDY_RETURN_IF_ERROR(ExpectSymbol(")"));
      }
    } else if (Accept("CASE")) {
      a->is_call = false;
      if (!Peek().Is("WHEN")) {
        EDDY_ASSIGN_OR_RETURN(a->operand, ParseExpr());
      }
      if (!Peek().Is("WHEN")) return Expected("WHEN");
      while (Accept("WHEN")) {
        EDDY_ASSIGN_OR_RETURN(auto cond, ParseExpr());
        EDDY_RETURN_IF_ERROR(Expect("THEN"));
        EDDY_ASSIGN_OR_RETURN(auto act, ParseAction());
        a->whens.emplace_back(std::move(cond), std::move(act));
      }
      if (Accept("ELSE")) {
        EDDY_ASSIGN_OR_RETURN(a->else_action, ParseAction());
      }
      if (!Accept("END")) return Expected(a->else_action ? "END" : "WHEN, ELSE or END");
    } else {
      return Expected("CALL procedure(...) or CASE ... END");
    }
    size_t end = toks_[pos_ - 1].end;
    a->text = std::string(src_.substr(toks_[first].offset, end - toks_[first].offset));
    --depth_;
    return a;
  }

  // [db.]coll[.*] after FROM CHANGE STREAM / TRIGGERED BY (which end in .operation).
  Status ParseEventStoreBody(EventStoreDef* def) {
    EDDY_RETURN_IF_ERROR(Expect("FROM"));
    EDDY_RETURN_IF_ERROR(Expect("CHANGE"));
    EDDY_RETURN_IF_ERROR(Expect("STREAM"));
    def->source.pos = Peek().pos;
    EDDY_ASSIGN_OR_RETURN(std::string first, Name("a collection name"));
    def->source.name = std::move(first);
    if (AcceptSymbol(".")) {
      if (!AcceptSymbol("*")) {
        EDDY_ASSIGN_OR_RETURN(std::string second, FieldName());
        def->source.database = std::move(def->source.name);
        def->source.name = std::move(second);
        if (AcceptSymbol(".")) EDDY_RETURN_IF_ERROR(ExpectSymbol("*"));
      }
    }
    bool any = false;
    while (Accept("WITH")) {
      any = true;
      const Token& label = Peek();
      if (Accept("EVENT_MAPPING")) {
        if (!def->mapping.empty()) return ErrorAt(label, "one WITH EVENT_MAPPING");
        EDDY_RETURN_IF_ERROR(ParseAssignments(&def->mapping, false, "an event field"));
      } else if (Accept("PROJECTIONS")) {
        if (!def->projections.empty()) return ErrorAt(label, "one WITH PROJECTIONS");
        EDDY_RETURN_IF_ERROR(ParseAssignments(&def->projections, false, "a projection"));
      } else {
        return Expected("EVENT_MAPPING or PROJECTIONS after WITH");
      }
    }
    if (!any || def->mapping.empty()) return Expected("WITH EVENT_MAPPING (...)");
    return Status::OK();
  }

  Status ParseSagaBody(SagaDef* def) {
    EDDY_RETURN_IF_ERROR(Expect("TRIGGERED"));
    EDDY_RETURN_IF_ERROR(Expect("BY"));
    // coll.operation or db.coll.operation
    std::vector<const Token*> parts;
    def->source.pos = Peek().pos;
    EDDY_ASSIGN_OR_RETURN(std::string n0, Name("a collection name"));
    std::vector<std::string> names{n0};
    while (AcceptSymbol(".")) {
      def->operation_pos = Peek().pos;
      EDDY_ASSIGN_OR_RETURN(std::string n, FieldName());
      names.push_back(std::move(n));
    }
    if (names.size() < 2 || names.size() > 3) {
      return Status(ErrorCode::kFailedToParse,
                    "syntax error at " + std::to_string(def->source.pos.line) + ":" +
                        std::to_string(def->source.pos.column) +
                        ": expected TRIGGERED BY collection.operation (e.g. orders.insert)");
    }
    if (names.size() == 3) def->source.database = names[0];
    def->source.name = names[names.size() - 2];
    def->operation = names.back();
    if (Accept("WHERE")) {
      EDDY_ASSIGN_OR_RETURN(def->where, ParseExpr());
    }
    bool steps = false;
    while (Accept("WITH")) {
      const Token& label = Peek();
      if (Accept("STEPS")) {
        if (steps) return ErrorAt(label, "one WITH STEPS");
        steps = true;
        EDDY_RETURN_IF_ERROR(ParseObjectList(&def->steps, "a saga step"));
      } else if (Accept("SAGA_OPTIONS") || Accept("OPTIONS")) {
        if (!def->options.empty()) return ErrorAt(label, "one WITH SAGA_OPTIONS");
        EDDY_RETURN_IF_ERROR(ParseAssignments(&def->options, true, "an option"));
      } else {
        return Expected("STEPS or SAGA_OPTIONS after WITH");
      }
    }
    if (!steps) return Expected("WITH STEPS (...)");
    return Status::OK();
  }

  Status ParseMonitorBody(MonitorDef* def) {
    if (Accept("ON")) {
      EDDY_ASSIGN_OR_RETURN(def->stream, Name("a change stream name"));
    }
    bool metrics = false;
    while (Accept("WITH")) {
      const Token& label = Peek();
      if (Accept("METRICS")) {
        if (metrics) return ErrorAt(label, "one WITH METRICS");
        metrics = true;
        EDDY_RETURN_IF_ERROR(ExpectSymbol("("));
        do {
          const Token& m = Peek();
          EDDY_ASSIGN_OR_RETURN(std::string name, Name("a metric name"));
          for (const auto& [prev, p] : def->metrics) {
            if (prev == name) return ErrorAt(m, "a metric not already listed");
          }
          def->metrics.emplace_back(std::move(name), m.pos);
        } while (AcceptSymbol(","));
        EDDY_RETURN_IF_ERROR(ExpectSymbol(")"));
      } else if (Accept("ALERTS")) {
        if (!def->alerts.empty()) return ErrorAt(label, "one WITH ALERTS");
        EDDY_RETURN_IF_ERROR(ExpectSymbol("("));
        do {
          AlertDef alert;
          alert.pos = Peek().pos;
          const Token& n = Peek();
          EDDY_ASSIGN_OR_RETURN(alert.name, Name("an alert name"));
          for (const auto& prev : def->alerts) {
            if (prev.name == alert.name) return ErrorAt(n, "an alert name not already used");
          }
          EDDY_RETURN_IF_ERROR(ExpectSymbol("="));
          EDDY_RETURN_IF_ERROR(ParseAlert(&alert));
          def->alerts.push_back(std::move(alert));
        } while (AcceptSymbol(","));
        EDDY_RETURN_IF_ERROR(ExpectSymbol(")"));
      } else {
        return Expected("METRICS or ALERTS after WITH");
      }
    }
    if (!metrics) return Expected("WITH METRICS (...)");
    return Status::OK();
  }

  // { condition: expr [FOR n unit] [DURING name], severity: '...', notification: [...] }
  Status ParseAlert(AlertDef* alert) {
    EDDY_RETURN_IF_ERROR(ExpectSymbol("{"));
    std::set<std::string> seen;
    do {
      if (Peek().IsSymbol("}")) break;
      const Token& k = Peek();
      if (k.kind != TokenKind::kIdentifier && k.kind != TokenKind::kString) {
        return Expected("condition, severity or notification");
      }
      std::string key = Next().text;
      if (!seen.insert(key).second) return ErrorAt(k, "a key not already used in this alert");
      EDDY_RETURN_IF_ERROR(ExpectSymbol(":"));
      if (key == "condition") {
        EDDY_ASSIGN_OR_RETURN(alert->condition, ParseExpr());
        if (Accept("FOR")) {
          const Token& at = Peek();
          EDDY_ASSIGN_OR_RETURN(alert->for_ms, Duration("a duration after FOR (5 MINUTES)"));
          if (alert->for_ms <= 0) return ErrorAt(at, "a positive duration after FOR");
        }
        if (Accept("DURING")) {
          EDDY_ASSIGN_OR_RETURN(alert->during, Name("a schedule name after DURING"));
          alert->during = Upper(alert->during);
        }
      } else if (key == "severity") {
        const Token& v = Peek();
        if (v.kind != TokenKind::kString) return Expected("a severity string");
        alert->severity = Next().text;
      } else if (key == "notification") {
        if (Peek().kind == TokenKind::kString) {
          alert->notification.push_back(Next().text);
        } else {
          EDDY_RETURN_IF_ERROR(ExpectSymbol("["));
          do {
            if (Peek().kind != TokenKind::kString) return Expected("a notification target string");
            alert->notification.push_back(Next().text);
          } while (AcceptSymbol(","));
          EDDY_RETURN_IF_ERROR(ExpectSymbol("]"));
        }
      } else {
        return ErrorAt(k, "condition, severity or notification (unknown alert key '" + key + "')");
      }
    } while (AcceptSymbol(","));
    EDDY_RETURN_IF_ERROR(ExpectSymbol("}"));
    if (!alert->condition) return ErrorAt(Peek(), "a condition in alert " + alert->name);
    return Status::OK();
  }

  // AS LOG | WEBHOOK 'url' | NATS SUBJECT 'subject' | COLLECTION [db.]coll | COMMAND 'cmd'
  // [WITH (k = v, ...)]
  Status ParseHandlerBody(HandlerDef* def) {
    EDDY_RETURN_IF_ERROR(Expect("AS"));
    auto target = [&](std::string_view what) -> Status {
      const Token& t = Peek();
      if (t.kind != TokenKind::kString) return Expected(what);
      if (t.text.empty()) return ErrorAt(t, std::string(what) + " (not empty)");
      def->target = Next().text;
      return Status::OK();
    };
    if (Accept("LOG")) {
      def->type = HandlerType::kLog;
    } else if (Accept("WEBHOOK")) {
      def->type = HandlerType::kWebhook;
      EDDY_RETURN_IF_ERROR(target("a URL string after WEBHOOK"));
    } else if (Accept("NATS")) {
      def->type = HandlerType::kNats;
      EDDY_RETURN_IF_ERROR(Expect("SUBJECT"));
      EDDY_RETURN_IF_ERROR(target("a subject string after NATS SUBJECT"));
    } else if (Accept("COLLECTION")) {
      def->type = HandlerType::kCollection;
      EDDY_RETURN_IF_ERROR(ParseTableName(&def->collection));
    } else if (Accept("COMMAND")) {
      def->type = HandlerType::kCommand;
      EDDY_RETURN_IF_ERROR(target("a command string after COMMAND"));
    } else {
      return Expected("LOG, WEBHOOK, NATS SUBJECT, COLLECTION or COMMAND");
    }
    if (Accept("WITH")) {
      EDDY_RETURN_IF_ERROR(ParseAssignments(&def->options, true, "an option"));
    }
    return Status::OK();
  }

  // For ParseExpression(): one expression and the end of input.
 public:
  Result<ExprPtr> ParseExpressionEnd() {
    EDDY_ASSIGN_OR_RETURN(ExprPtr e, ParseExpr());
    if (Peek().kind != TokenKind::kEnd) return Expected("end of expression");
    return e;
  }
  Result<int64_t> ParseIntervalEnd(std::string_view text) {
    return IntervalMillis(Peek(), text, "");
  }

 private:
  std::vector<Token> toks_;
  std::string_view src_;
  size_t pos_ = 0;
  int depth_ = 0;
};

// Walks a script like the lexer (strings, quoted names, comments) and calls on_semicolon(i)
// for each terminating ';'.
template <class F>
void ScanSemicolons(std::string_view s, F on_semicolon) {
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '\'' || c == '"' || c == '`') {
      ++i;
      while (i < s.size()) {
        if (s[i] == c) {
          if (i + 1 < s.size() && s[i + 1] == c) {
            i += 2;
            continue;
          }
          break;
        }
        ++i;
      }
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      size_t end = s.find("*/", i + 2);
      i = end == std::string_view::npos ? s.size() : end + 2;
    } else {
      if (c == ';') on_semicolon(i);
      ++i;
    }
  }
}

bool OnlyBlank(std::string_view s) {
  auto toks = Tokenize(s);
  return toks.ok() && toks->size() == 1;
}

}  // namespace

Result<Statement> Parse(std::string_view sql, Position start) {
  EDDY_ASSIGN_OR_RETURN(auto tokens, Tokenize(sql, start));
  if (tokens.size() == 1) {
    return Status(ErrorCode::kFailedToParse, "syntax error at " + std::to_string(start.line) +
                                                 ":" + std::to_string(start.column) +
                                                 ": empty statement");
  }
  Parser p(std::move(tokens), sql);
  return p.ParseStatementEnd();
}

Result<ExprPtr> ParseExpression(std::string_view sql, Position start) {
  EDDY_ASSIGN_OR_RETURN(auto tokens, Tokenize(sql, start));
  Parser p(std::move(tokens), sql);
  return p.ParseExpressionEnd();
}

Result<int64_t> ParseInterval(std::string_view text, Position at) {
  Token t;
  t.kind = TokenKind::kString;
  t.text = std::string(text);
  t.pos = at;
  Parser p({t}, text);
  return p.ParseIntervalEnd(text);
}

std::vector<StatementText> SplitStatements(std::string_view script) {
  std::vector<StatementText> out;
  size_t begin = 0;
  Position begin_pos;
  Position pos;
  size_t counted = 0;
  auto advance_to = [&](size_t j) {
    for (; counted < j; ++counted) {
      if (script[counted] == '\n') {
        ++pos.line;
        pos.column = 1;
      } else {
        ++pos.column;
      }
    }
  };
  ScanSemicolons(script, [&](size_t i) {
    std::string_view piece = script.substr(begin, i - begin);
    if (!OnlyBlank(piece)) out.push_back({std::string(piece), begin_pos});
    advance_to(i + 1);
    begin = i + 1;
    begin_pos = pos;
  });
  std::string_view rest = script.substr(begin);
  if (!OnlyBlank(rest)) out.push_back({std::string(rest), begin_pos});
  return out;
}

bool EndsStatement(std::string_view text) {
  bool found = false;
  ScanSemicolons(text, [&](size_t) { found = true; });
  return found;
}

}  // namespace eddy::sql
