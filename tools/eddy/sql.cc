// eddy sql: a SQL shell for eddy or any MongoDB deployment (docs/sql.md).
//
// Each statement is parsed and translated by the sql module into the command a driver would
// send, then sent with libmongoc; replies are printed as aligned tables, JSON lines (relaxed
// Extended JSON, one object per row) or CSV. Nothing is sent for a statement that does not
// parse. Batch mode (-c / -f) stops at the first failing statement: the error goes to stderr
// and the exit status is 1 (2 for usage or connection errors).
#include <mongoc/mongoc.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

// libedit's readline compatibility header (BSD licence) for line editing and history.
#include <editline/readline.h>

#include "bson/codec.h"
#include "bson/json.h"
#include "sql/parser.h"
#include "sql/translate.h"
#include "subcommands.h"

namespace eddy::tools {
namespace {

using bson::Document;
using bson::Value;

std::atomic<bool> g_interrupted{false};

void OnSigint(int) { g_interrupted = true; }

// SIGINT stops a running statement (a change stream) instead of the shell.
class SigintScope {
 public:
  SigintScope() {
    g_interrupted = false;
    struct sigaction sa {};
    sa.sa_handler = OnSigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_);
  }
  ~SigintScope() { sigaction(SIGINT, &old_, nullptr); }

 private:
  struct sigaction old_ {};
};

enum class Format { kTable, kJson, kCsv };

struct Options {
  std::string uri = "mongodb://127.0.0.1:27017";
  std::string db = "test";
  std::vector<std::string> commands;
  std::string file;
  std::string format = "table";
  int64_t max_rows = -1;   // change streams: stop after N rows
  double timeout_s = -1;   // change streams: stop after this many seconds
};

struct BsonOwner {
  bson_t b;
  bool init = false;
  BsonOwner() = default;
  BsonOwner(const BsonOwner&) = delete;
  ~BsonOwner() {
    if (init) bson_destroy(&b);
  }
};

Result<Document> FromBson(const bson_t* b) {
  return bson::Decode(std::string_view(reinterpret_cast<const char*>(bson_get_data(b)), b->len));
}

class Shell {
 public:
  Shell(mongoc_client_t* client, Options opts, Format format)
      : client_(client), opts_(std::move(opts)), format_(format) {}

  // Parses, translates and runs every statement of `script`; stops at the first error.
  // `first_line` places positions in error messages. Returns false on error.
  bool RunScript(std::string_view script, sql::Position start = {}) {
    auto pieces = sql::SplitStatements(script);
    for (auto& piece : pieces) {
      sql::Position pos = piece.start;
      if (pos.line == 1) pos.column += start.column - 1;
      pos.line += start.line - 1;
      if (!RunStatement(piece.text, pos)) return false;
    }
    return true;
  }

 private:
  bool Fail(const Status& s) {
    std::cout.flush();
    std::cerr << "ERROR: " << s.message() << " (" << s.code_name() << " " << s.code_number()
              << ")" << std::endl;
    return false;
  }

  bool RunStatement(const std::string& text, sql::Position pos) {
    auto st = sql::Parse(text, pos);
    if (!st.ok()) return Fail(st.status());
    sql::TranslateOptions to;
    to.database = opts_.db;
    auto t = sql::Translate(*st, to);
    if (!t.ok()) return Fail(t.status());
    if (t->shape == sql::ResultShape::kExplain) {
      // Change-stream DDL: the validation reads first, then the statement's command.
      for (const auto& c : t->explained->checks) {
        Document d = c.command;
        d.Append("$db", Value(c.database));
        std::cout << bson::ToJson(d, bson::JsonMode::kRelaxed) << "\n";
      }
      std::cout << bson::ToJson(sql::WireCommand(*t->explained), bson::JsonMode::kRelaxed)
                << std::endl;
      return true;
    }
    if (!RunChecks(*t)) return false;
    switch (t->shape) {
      case sql::ResultShape::kExplain:
        return true;
      case sql::ResultShape::kRows:
        return RunCursor(*t);
      case sql::ResultShape::kChangeStream:
        return RunChangeStream(*t);
      case sql::ResultShape::kWrite:
      case sql::ResultShape::kOk:
        return RunWrite(*t);
    }
    return true;
  }

  // Sends one command; a reply with ok: 0 (or a transport error) becomes a Status.
  Result<Document> Command(const std::string& db, const Document& cmd) {
    std::string bytes = bson::Encode(cmd);
    bson_t cmd_b;
    if (!bson_init_static(&cmd_b, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())) {
      return Status(ErrorCode::kInternalError, "could not encode the command");
    }
    BsonOwner reply;
    bson_error_t err;
    bool ok = mongoc_client_command_simple(client_, db.c_str(), &cmd_b, nullptr, &reply.b, &err);
    reply.init = true;
    if (!ok) {
      int32_t code = static_cast<int32_t>(err.code);
      if (err.domain != MONGOC_ERROR_SERVER && err.domain != MONGOC_ERROR_WRITE_CONCERN) {
        return Status(ErrorCode::kHostUnreachable, err.message);
      }
      return Status(static_cast<ErrorCode>(code), err.message);
    }
    return FromBson(&reply.b);
  }

  // Sends each validation read of a DDL statement; the first that fails stops the statement.
  bool RunChecks(const sql::Translation& t) {
    for (const auto& c : t.checks) {
      auto reply = Command(c.database, c.command);
      if (!reply.ok()) return Fail(reply.status());
      auto cur = ParseCursor(*reply, "firstBatch");
      if (!cur.ok()) return Fail(cur.status());
      if (cur->id != 0) {
        if (cur->collection.empty()) cur->collection = c.collection;
        KillCursor(c.database, *cur);
      }
      bool empty = cur->batch.empty();
      if (empty == c.fail_if_empty) {
        std::string msg(c.failure.message());
        size_t at = msg.find("{}");
        if (at != std::string::npos) {
          std::string who = "?";
          if (!empty) {
            const Value* id = cur->batch[0].Get("_id");
            if (!id) id = cur->batch[0].Get("name");
            if (id) who = id->is_string() ? id->as_string() : bson::ToJson(*id, bson::JsonMode::kRelaxed);
          }
          msg.replace(at, 2, who);
        }
        return Fail(Status(c.failure.code(), msg));
      }
    }
    return true;
  }

  // The statement's own wording for a server error (DuplicateKey -> "... already exists").
  static Status Reword(const sql::Translation& t, const Status& s) {
    for (const auto& [code, msg] : t.error_messages) {
      if (code == s.code_number()) return Status(s.code(), msg);
    }
    return s;
  }

  static bool Ignored(const sql::Translation& t, const Status& s) {
    return std::find(t.ignore_codes.begin(), t.ignore_codes.end(), s.code_number()) !=
           t.ignore_codes.end();
  }

  bool RunWrite(const sql::Translation& t) {
    auto reply = Command(t.database, t.command);
    if (!reply.ok()) {
      if (Ignored(t, reply.status())) {
        std::cout << t.verb << " (skipped: " << reply.status().message() << ")" << std::endl;
        return true;
      }
      return Fail(Reword(t, reply.status()));
    }
    // Write errors come back with ok: 1.
    if (const Value* we = reply->Get("writeErrors"); we && we->is_array() && !we->as_array().empty()) {
      const auto& first = we->as_array()[0];
      int32_t code = 8;
      std::string msg = "write error";
      if (first.is_document()) {
        if (const Value* c = first.as_document().Get("code"); c && c->is_number()) {
          code = static_cast<int32_t>(c->ToInt64());
        }
        if (const Value* m = first.as_document().Get("errmsg"); m && m->is_string()) {
          msg = m->as_string();
        }
      }
      Status err = Reword(t, Status(static_cast<ErrorCode>(code), msg));
      if (Ignored(t, err)) {
        std::cout << t.verb << " (skipped: " << err.message() << ")" << std::endl;
        return true;
      }
      const Value* n = reply->Get("n");
      if (t.shape == sql::ResultShape::kWrite) {
        std::cout << t.verb << " " << (n && n->is_number() ? n->ToInt64() : 0) << std::endl;
      }
      return Fail(err);
    }
    if (const Value* wce = reply->Get("writeConcernError"); wce && wce->is_document()) {
      const Value* m = wce->as_document().Get("errmsg");
      return Fail(Status(static_cast<ErrorCode>(64),
                         m && m->is_string() ? m->as_string() : "write concern error"));
    }
    if (t.if_none) {  // DROP / ALTER of a name that does not exist
      const Value* n = reply->Get("n");
      if (n && n->is_number() && n->ToInt64() == 0) return Fail(*t.if_none);
    }
    if (t.shape == sql::ResultShape::kWrite) {
      const Value* n = reply->Get("n");
      std::cout << t.verb << " " << (n && n->is_number() ? n->ToInt64() : 0);
      if (const Value* m = reply->Get("nModified"); m && m->is_number()) {
        std::cout << " (modified " << m->ToInt64() << ")";
      }
      std::cout << std::endl;
    } else {
      std::cout << (t.verb == "SELECT" ? "OK" : t.verb) << std::endl;
    }
    return true;
  }

  struct CursorReply {
    std::vector<Document> batch;
    int64_t id = 0;
    std::string collection;  // from ns, for getMore
  };

  static Result<CursorReply> ParseCursor(const Document& reply, std::string_view batch_name) {
    const Value* c = reply.Get("cursor");
    if (!c || !c->is_document()) {
      return Status(ErrorCode::kFailedToParse, "reply has no cursor: " + bson::ToJson(reply));
    }
    CursorReply out;
    const Document& cur = c->as_document();
    if (const Value* id = cur.Get("id"); id && id->is_number()) out.id = id->ToInt64();
    if (const Value* ns = cur.Get("ns"); ns && ns->is_string()) {
      size_t dot = ns->as_string().find('.');
      if (dot != std::string::npos) out.collection = ns->as_string().substr(dot + 1);
    }
    if (const Value* b = cur.Get(batch_name); b && b->is_array()) {
      for (const auto& v : b->as_array()) {
        if (v.is_document()) out.batch.push_back(v.as_document());
      }
    }
    return out;
  }

  Result<CursorReply> GetMore(const std::string& db, const CursorReply& cur, int64_t max_time_ms) {
    Document cmd;
    cmd.Append("getMore", Value(cur.id));
    cmd.Append("collection", Value(cur.collection));
    if (max_time_ms > 0) cmd.Append("maxTimeMS", Value(max_time_ms));
    EDDY_ASSIGN_OR_RETURN(Document reply, Command(db, cmd));
    auto next = ParseCursor(reply, "nextBatch");
    if (next.ok() && next->collection.empty()) next->collection = cur.collection;
    return next;
  }

  void KillCursor(const std::string& db, const CursorReply& cur) {
    if (cur.id == 0) return;
    Document cmd;
    cmd.Append("killCursors", Value(cur.collection));
    cmd.Append("cursors", Value(bson::Array{Value(cur.id)}));
    (void)Command(db, cmd);
  }

  bool RunCursor(const sql::Translation& t) {
    auto reply = Command(t.database, t.command);
    if (!reply.ok()) return Fail(reply.status());
    auto cur = ParseCursor(*reply, "firstBatch");
    if (!cur.ok()) return Fail(cur.status());
    std::vector<Document> rows = std::move(cur->batch);
    CursorReply state = std::move(*cur);
    while (state.id != 0) {
      auto next = GetMore(t.database, state, 0);
      if (!next.ok()) return Fail(next.status());
      for (auto& d : next->batch) rows.push_back(std::move(d));
      state.id = next->id;
    }
    if (rows.empty() && t.if_none) return Fail(*t.if_none);  // DESCRIBE of an unknown name
    PrintRows(t.columns, rows);
    return true;
  }

  bool RunChangeStream(const sql::Translation& t) {
    SigintScope sigint;
    auto reply = Command(t.database, t.command);
    if (!reply.ok()) return Fail(reply.status());
    auto cur = ParseCursor(*reply, "firstBatch");
    if (!cur.ok()) return Fail(cur.status());
    int64_t limit = -1;
    if (t.max_rows) limit = *t.max_rows;
    if (opts_.max_rows >= 0 && (limit < 0 || opts_.max_rows < limit)) limit = opts_.max_rows;
    auto deadline = std::chrono::steady_clock::time_point::max();
    if (opts_.timeout_s >= 0) {
      deadline = std::chrono::steady_clock::now() +
                 std::chrono::milliseconds(static_cast<int64_t>(opts_.timeout_s * 1000));
    }
    StreamPrinter printer(this, t.columns);
    int64_t printed = 0;
    CursorReply state = std::move(*cur);
    auto emit = [&](const std::vector<Document>& batch) {
      for (const auto& d : batch) {
        if (limit >= 0 && printed >= limit) return;
        printer.Row(d);
        ++printed;
      }
    };
    emit(state.batch);
    while (!g_interrupted && (limit < 0 || printed < limit) && state.id != 0) {
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) break;
      int64_t wait = t.await_ms;
      if (deadline != std::chrono::steady_clock::time_point::max()) {
        int64_t left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
        wait = std::max<int64_t>(1, std::min(wait, left));
      }
      auto next = GetMore(t.database, state, wait);
      if (!next.ok()) {
        KillCursor(t.database, state);
        return Fail(next.status());
      }
      state.id = next->id;
      emit(next->batch);
    }
    KillCursor(t.database, state);
    if (format_ == Format::kTable) std::cout << "(" << printed << " events)" << std::endl;
    return true;
  }

  // ---- rendering ----

  static std::string Cell(const Value* v, bool csv) {
    if (!v) return "";
    if (v->is_null()) return csv ? "" : "NULL";
    if (v->is_string()) return v->as_string();
    if (v->type() == bson::Type::kObjectId) return v->as_object_id().ToHex();
    std::string j = bson::ToJson(*v, bson::JsonMode::kRelaxed);
    if (v->type() == bson::Type::kDateTime) {
      // {"$date":"2024-01-01T00:00:00Z"} -> the ISO string
      size_t q1 = j.find("\":\"");
      if (q1 != std::string::npos) {
        size_t q2 = j.find('"', q1 + 3);
        if (q2 != std::string::npos) return j.substr(q1 + 3, q2 - q1 - 3);
      }
    }
    return j;
  }

  static std::vector<std::string> ColumnsOf(const std::vector<std::string>& declared,
                                            const std::vector<Document>& rows) {
    if (!declared.empty()) return declared;
    std::vector<std::string> cols;
    for (const auto& r : rows) {
      for (const auto& f : r) {
        if (std::find(cols.begin(), cols.end(), f.name) == cols.end()) cols.push_back(f.name);
      }
    }
    return cols;
  }

  static std::string CsvField(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) {
      if (c == '"') out += '"';
      out += c;
    }
    return out + "\"";
  }

  static Document Project(const Document& row, const std::vector<std::string>& cols) {
    if (cols.empty()) return row;
    Document out;
    for (const auto& c : cols) {
      if (const Value* v = row.Get(c)) out.Append(c, *v);
    }
    return out;
  }

  // Display width in code points (UTF-8 continuation bytes do not count).
  static size_t Width(const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  }

  void PrintRows(const std::vector<std::string>& declared, const std::vector<Document>& rows) {
    std::vector<std::string> cols = ColumnsOf(declared, rows);
    if (format_ == Format::kJson) {
      for (const auto& r : rows) std::cout << bson::ToJson(Project(r, declared)) << "\n";
      std::cout.flush();
      return;
    }
    if (format_ == Format::kCsv) {
      for (size_t i = 0; i < cols.size(); ++i) std::cout << (i ? "," : "") << CsvField(cols[i]);
      std::cout << "\n";
      for (const auto& r : rows) {
        for (size_t i = 0; i < cols.size(); ++i) {
          std::cout << (i ? "," : "") << CsvField(Cell(r.Get(cols[i]), true));
        }
        std::cout << "\n";
      }
      std::cout.flush();
      return;
    }
    std::vector<std::vector<std::string>> cells;
    std::vector<size_t> width(cols.size());
    for (size_t i = 0; i < cols.size(); ++i) width[i] = Width(cols[i]);
    for (const auto& r : rows) {
      std::vector<std::string> line;
      for (size_t i = 0; i < cols.size(); ++i) {
        std::string c = Cell(r.Get(cols[i]), false);
        for (char& ch : c) {
          if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
        }
        width[i] = std::max(width[i], Width(c));
        line.push_back(std::move(c));
      }
      cells.push_back(std::move(line));
    }
    auto pad = [](const std::string& s, size_t w) { return s + std::string(w - Width(s), ' '); };
    for (size_t i = 0; i < cols.size(); ++i) std::cout << (i ? " | " : " ") << pad(cols[i], width[i]);
    std::cout << "\n";
    for (size_t i = 0; i < cols.size(); ++i) std::cout << (i ? "-+-" : "-") << std::string(width[i], '-');
    std::cout << "\n";
    for (const auto& line : cells) {
      for (size_t i = 0; i < cols.size(); ++i) std::cout << (i ? " | " : " ") << pad(line[i], width[i]);
      std::cout << "\n";
    }
    std::cout << "(" << rows.size() << (rows.size() == 1 ? " row)" : " rows)") << std::endl;
  }

  // Change-stream rows as they arrive: JSON lines, CSV, or unaligned "a | b" table lines.
  class StreamPrinter {
   public:
    StreamPrinter(Shell* shell, std::vector<std::string> cols) : shell_(shell), cols_(std::move(cols)) {}
    void Row(const Document& d) {
      if (shell_->format_ == Format::kJson) {
        std::cout << bson::ToJson(Project(d, cols_)) << std::endl;
        return;
      }
      bool csv = shell_->format_ == Format::kCsv;
      std::vector<std::string> cols = cols_.empty() ? ColumnsOf({}, {d}) : cols_;
      if (!header_) {
        for (size_t i = 0; i < cols.size(); ++i) {
          std::cout << (i ? (csv ? "," : " | ") : "") << (csv ? CsvField(cols[i]) : cols[i]);
        }
        std::cout << "\n";
        header_ = true;
      }
      for (size_t i = 0; i < cols.size(); ++i) {
        std::string c = Cell(d.Get(cols[i]), csv);
        std::cout << (i ? (csv ? "," : " | ") : "") << (csv ? CsvField(c) : c);
      }
      std::cout << std::endl;
    }

   private:
    Shell* shell_;
    std::vector<std::string> cols_;
    bool header_ = false;
  };

  mongoc_client_t* client_;
  Options opts_;
  Format format_;
};

std::string HistoryPath() {
  const char* home = std::getenv("HOME");
  return home ? std::string(home) + "/.eddy_sql_history" : "";
}

int Repl(Shell& shell) {
  std::string history = HistoryPath();
  using_history();
  if (!history.empty()) read_history(history.c_str());
  std::cout << "eddy sql: statements end with ';'. \\q quits." << std::endl;
  std::string buffer;
  int line_no = 0;
  int start_line = 1;
  while (true) {
    char* raw = readline(buffer.empty() ? "eddy> " : "   -> ");
    if (!raw) {  // EOF (Ctrl-D)
      std::cout << std::endl;
      break;
    }
    std::string line(raw);
    free(raw);
    ++line_no;
    if (buffer.empty()) {
      std::string trimmed = line;
      trimmed.erase(0, trimmed.find_first_not_of(" \t"));
      while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t')) trimmed.pop_back();
      if (trimmed == "\\q" || trimmed == "quit" || trimmed == "exit") break;
      if (trimmed.empty()) continue;
      start_line = line_no;
    }
    buffer += line;
    buffer += "\n";
    if (!sql::EndsStatement(buffer)) continue;
    std::string stmt = buffer;
    while (!stmt.empty() && (stmt.back() == '\n' || stmt.back() == ' ')) stmt.pop_back();
    add_history(stmt.c_str());
    if (!history.empty()) write_history(history.c_str());
    shell.RunScript(buffer, sql::Position{start_line, 1});
    buffer.clear();
  }
  return 0;
}

int RunSql(const Options& opts) {
  Format format;
  if (opts.format == "table") {
    format = Format::kTable;
  } else if (opts.format == "json") {
    format = Format::kJson;
  } else if (opts.format == "csv") {
    format = Format::kCsv;
  } else {
    std::cerr << "ERROR: --format must be table, json or csv" << std::endl;
    return 2;
  }
  std::string script;
  bool batch = !opts.commands.empty() || !opts.file.empty();
  if (!opts.file.empty()) {
    std::ifstream in(opts.file == "-" ? "/dev/stdin" : opts.file);
    if (!in) {
      std::cerr << "ERROR: cannot read " << opts.file << std::endl;
      return 2;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    script = ss.str();
  }
  mongoc_init();
  bson_error_t err;
  mongoc_uri_t* uri = mongoc_uri_new_with_error(opts.uri.c_str(), &err);
  if (!uri) {
    std::cerr << "ERROR: bad --uri: " << err.message << std::endl;
    mongoc_cleanup();
    return 2;
  }
  mongoc_client_t* client = mongoc_client_new_from_uri_with_error(uri, &err);
  mongoc_uri_destroy(uri);
  if (!client) {
    std::cerr << "ERROR: " << err.message << std::endl;
    mongoc_cleanup();
    return 2;
  }
  mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2);
  mongoc_client_set_appname(client, "eddy sql");
  int rc = 0;
  {
    Shell shell(client, opts, format);
    if (batch) {
      for (const auto& c : opts.commands) {
        if (!shell.RunScript(c)) {
          rc = 1;
          break;
        }
      }
      if (rc == 0 && !script.empty() && !shell.RunScript(script)) rc = 1;
    } else {
      rc = Repl(shell);
    }
  }
  mongoc_client_destroy(client);
  mongoc_cleanup();
  return rc;
}

}  // namespace

void RegisterSql(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand(
      "sql", "SQL shell for eddy or any MongoDB: SELECT/INSERT/UPDATE/DELETE, DDL, CHANGES()");
  sub->add_option("--uri", opts->uri, "MongoDB connection string")->capture_default_str();
  sub->add_option("--db", opts->db, "database for unqualified collection names")->capture_default_str();
  sub->add_option("-c,--command", opts->commands, "run these statements and exit (repeatable)");
  sub->add_option("-f,--file", opts->file, "run the statements in FILE ('-' = stdin) and exit");
  sub->add_option("--format", opts->format, "output: table, json (Extended JSON lines) or csv")
      ->capture_default_str();
  sub->add_option("--max-rows", opts->max_rows, "change streams: stop after N rows");
  sub->add_option("--timeout", opts->timeout_s, "change streams: stop after SECONDS");
  sub->callback([opts]() { std::exit(RunSql(*opts)); });
}

}  // namespace eddy::tools
