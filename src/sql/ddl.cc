// Change-stream DDL: typed definitions (ast.h) -> validated documents in the `eddy` database,
// written and read with the commands a driver sends (insert, find, aggregate, update, delete),
// so definitions can be stored in eddy or any MongoDB. Layout and rules: docs/sql.md.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <functional>
#include <set>

#include "bson/json.h"
#include "sql/parser.h"
#include "sql/translate.h"

namespace eddy::sql {
namespace {

using bson::Array;
using bson::Document;
using bson::Value;

constexpr char kSystemDb[] = "eddy";
constexpr char kNotExecutable[] = "stored, not yet executable";

std::string At(Position p) { return std::to_string(p.line) + ":" + std::to_string(p.column); }

Status Err(ErrorCode code, Position p, const std::string& msg) {
  return Status(code, "at " + At(p) + ": " + msg);
}
Status Bad(Position p, const std::string& msg) { return Err(ErrorCode::kBadValue, p, msg); }
Status BadOption(Position p, const std::string& msg) {
  return Err(ErrorCode::kInvalidOptions, p, msg);
}

Document Doc1(std::string k, Value v) {
  Document d;
  d.Append(std::move(k), std::move(v));
  return d;
}

Value Int(int64_t v) {
  if (v >= INT32_MIN && v <= INT32_MAX) return Value(static_cast<int32_t>(v));
  return Value(v);
}

std::string CollectionOf(DefinitionKind k) {
  switch (k) {
    case DefinitionKind::kChangeStream:
    case DefinitionKind::kMaterializedChangeStream: return "streams";
    case DefinitionKind::kEventStore: return "event_stores";
    case DefinitionKind::kSaga: return "sagas";
    case DefinitionKind::kMonitor: return "monitors";
    case DefinitionKind::kHandler: return "handlers";
  }
  return "streams";
}

std::string KindId(DefinitionKind k) {
  switch (k) {
    case DefinitionKind::kChangeStream: return "change_stream";
    case DefinitionKind::kMaterializedChangeStream: return "materialized_change_stream";
    case DefinitionKind::kEventStore: return "event_store";
    case DefinitionKind::kSaga: return "saga";
    case DefinitionKind::kMonitor: return "monitor";
    case DefinitionKind::kHandler: return "handler";
  }
  return "";
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// ---- expressions ----

std::unique_ptr<WindowSpec> CloneWindow(const WindowSpec& w);

ExprPtr Clone(const Expr& e) {
  auto c = std::make_unique<Expr>();
  c->kind = e.kind;
  c->pos = e.pos;
  c->literal = e.literal;
  c->path = e.path;
  c->op = e.op;
  for (const auto& a : e.args) c->args.push_back(Clone(*a));
  c->keys = e.keys;
  c->negated = e.negated;
  c->star = e.star;
  c->distinct = e.distinct;
  c->insensitive = e.insensitive;
  c->escape = e.escape;
  if (e.filter) c->filter = Clone(*e.filter);
  if (e.over) c->over = CloneWindow(*e.over);
  if (e.operand) c->operand = Clone(*e.operand);
  for (const auto& [w, t] : e.whens) c->whens.emplace_back(Clone(*w), Clone(*t));
  if (e.else_expr) c->else_expr = Clone(*e.else_expr);
  c->text = e.text;
  return c;
}

std::unique_ptr<WindowSpec> CloneWindow(const WindowSpec& w) {
  auto c = std::make_unique<WindowSpec>();
  for (const auto& p : w.partition_by) c->partition_by.push_back(Clone(*p));
  for (const auto& [e, d] : w.order_by) c->order_by.emplace_back(Clone(*e), d);
  c->has_frame = w.has_frame;
  c->range_frame = w.range_frame;
  c->lower = w.lower;
  c->upper = w.upper;
  c->name = w.name;
  c->interval_bounds = w.interval_bounds;
  return c;
}

// Calls f on every column of e (not descending into nested windows' specs).
void ForEachColumn(Expr* e, const std::function<void(Expr*)>& f) {
  if (e->kind == ExprKind::kColumn) f(e);
  for (auto& a : e->args) ForEachColumn(a.get(), f);
  if (e->filter) ForEachColumn(e->filter.get(), f);
  if (e->operand) ForEachColumn(e->operand.get(), f);
  for (auto& [w, t] : e->whens) {
    ForEachColumn(w.get(), f);
    ForEachColumn(t.get(), f);
  }
  if (e->else_expr) ForEachColumn(e->else_expr.get(), f);
  if (e->over) {
    for (auto& p : e->over->partition_by) ForEachColumn(p.get(), f);
    for (auto& [o, d] : e->over->order_by) ForEachColumn(o.get(), f);
  }
}

// Top-level fields of a change event: paths starting with one of these address the event;
// any other path addresses the changed document (status -> fullDocument.status).
bool IsEventField(const std::string& name) {
  static const std::set<std::string> kFields = {
      "_id",           "operationType", "clusterTime",     "wallTime",
      "ns",            "documentKey",   "fullDocument",    "fullDocumentBeforeChange",
      "updateDescription", "to",        "txnNumber",       "lsid",
      "collectionUUID", "operationDescription", "splitEvent"};
  return kFields.count(name) > 0;
}

// A copy of e whose columns address the change event: NEW.x / OLD.x lose the qualifier,
// non-event paths get fullDocument. (fullDocumentBeforeChange. for OLD).
ExprPtr EventExpr(const Expr& e) {
  ExprPtr c = Clone(e);
  ForEachColumn(c.get(), [](Expr* col) {
    auto& path = col->path;
    std::string prefix = "fullDocument";
    if (path.size() > 1 && !path[1].index && (path[0].name == "NEW" || path[0].name == "OLD")) {
      if (path[0].name == "OLD") prefix = "fullDocumentBeforeChange";
      path.erase(path.begin());
      if (IsEventField(path[0].name)) return;
    }
    if (!IsEventField(path[0].name)) path.insert(path.begin(), PathStep{prefix, std::nullopt});
  });
  return c;
}

bool References(const Expr& e, const std::string& top) {
  bool found = false;
  ExprPtr c = Clone(e);
  ForEachColumn(c.get(), [&](Expr* col) { found = found || col->path[0].name == top; });
  return found;
}

// A duration option: '30 seconds', INTERVAL '30 seconds' or an integer number of milliseconds.
Result<int64_t> DurationOf(const Expr& e, const std::string& what) {
  if (e.kind == ExprKind::kInterval) return e.literal.as_int64();
  if (e.kind == ExprKind::kLiteral && e.literal.is_string()) {
    auto ms = ParseInterval(e.literal.as_string(), e.pos);
    if (!ms.ok()) {
      return BadOption(e.pos, what + " must be a duration like '30 seconds' (units: millisecond, "
                                    "second, minute, hour, day, week), got '" +
                                    e.literal.as_string() + "'");
    }
    return *ms;
  }
  if (e.kind == ExprKind::kLiteral && (e.literal.is_int32() || e.literal.is_int64())) {
    return e.literal.ToInt64();
  }
  return BadOption(e.pos, what + " must be a duration like '30 seconds', got " + e.text);
}

Result<int64_t> PositiveDuration(const Expr& e, const std::string& what) {
  EDDY_ASSIGN_OR_RETURN(int64_t ms, DurationOf(e, what));
  if (ms <= 0) return BadOption(e.pos, what + " must be positive, got " + e.text);
  return ms;
}

Result<int64_t> IntOption(const Expr& e, const std::string& what, int64_t min) {
  if (e.kind != ExprKind::kLiteral || !(e.literal.is_int32() || e.literal.is_int64()) ||
      e.literal.ToInt64() < min) {
    return BadOption(e.pos, what + " must be an integer >= " + std::to_string(min) + ", got " +
                                e.text);
  }
  return e.literal.ToInt64();
}

Result<std::string> StringOption(const Expr& e, const std::string& what,
                                 const std::vector<std::string>& allowed = {}) {
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "'" : ", '") + a + "'";
  if (e.kind != ExprKind::kLiteral || !e.literal.is_string() || e.literal.as_string().empty() ||
      (!allowed.empty() &&
       std::find(allowed.begin(), allowed.end(), e.literal.as_string()) == allowed.end())) {
    return BadOption(e.pos, what + " must be " + (allowed.empty() ? "a non-empty string" : list) +
                                ", got " + e.text);
  }
  return e.literal.as_string();
}

Status ValidCollectionName(const std::string& name, Position p, const std::string& what) {
  if (name.empty() || name.find('$') != std::string::npos || name.find('\0') != std::string::npos ||
      name.rfind("system.", 0) == 0) {
    return BadOption(p, what + " must be a collection name (no '$', not system.*), got '" + name + "'");
  }
  return Status::OK();
}

// {k: v, ...} of an object-literal expression, by key.
const Expr* ObjectField(const Expr& obj, const std::string& key) {
  for (size_t i = 0; i < obj.keys.size(); ++i) {
    if (obj.keys[i] == key) return obj.args[i].get();
  }
  return nullptr;
}

Status OnlyKeys(const Expr& obj, const std::set<std::string>& allowed, const std::string& what) {
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  for (size_t i = 0; i < obj.keys.size(); ++i) {
    if (!allowed.count(obj.keys[i])) {
      return BadOption(obj.args[i]->pos, "unknown key '" + obj.keys[i] + "' in " + what +
                                             " (known: " + list + ")");
    }
  }
  return Status::OK();
}

// ---- the translation being built ----

struct Builder {
  const Statement& st;
  const TranslateOptions& opts;
  Translation t;

  // The client's clock (TranslateOptions.now_millis, or the system clock when it is -1).
  int64_t Now() const {
    if (opts.now_millis >= 0) return opts.now_millis;
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  std::string Db(const TableRef& r) const { return r.database.empty() ? opts.database : r.database; }

  void CheckCollection(const std::string& db, const std::string& coll, Position p,
                       const std::string& why) {
    for (const auto& c : t.checks) {
      const Value* f = c.command.Get("filter");
      if (c.database == db && c.command.Has("listCollections") && f &&
          f->as_document().Get("name")->as_string() == coll) {
        return;
      }
    }
    Check c;
    c.database = db;
    c.collection = "$cmd.listCollections";
    c.command.Append("listCollections", Value(int32_t{1}));
    c.command.Append("filter", Value(Doc1("name", Value(coll))));
    c.command.Append("nameOnly", Value(true));
    c.failure = Err(ErrorCode::kNamespaceNotFound, p,
                    "collection " + db + "." + coll + " does not exist (" + why + ")");
    t.checks.push_back(std::move(c));
  }

  void CheckDefinition(const std::string& coll, const std::string& name, Position p,
                       const std::string& what, const std::string& hint) {
    Check c;
    c.database = kSystemDb;
    c.collection = coll;
    c.command.Append("find", Value(coll));
    c.command.Append("filter", Value(Doc1("_id", Value(name))));
    c.command.Append("projection", Value(Doc1("_id", Value(int32_t{1}))));
    c.command.Append("limit", Value(int32_t{1}));
    c.failure = Err(ErrorCode::kNoSuchKey, p, "unknown " + what + " '" + name + "' (" + hint + ")");
    t.checks.push_back(std::move(c));
  }

  // ---- $changeStream stage from WITH OPTIONS; runtime options into `runtime` ----
  Status StreamOptions(const std::vector<NamedExpr>& options, Document* cs, Document* runtime) {
    for (const auto& o : options) {
      const Expr& e = *o.value;
      const std::string what = "option " + o.name;
      if (o.name == "full_document") {
        EDDY_ASSIGN_OR_RETURN(auto v, StringOption(e, what, {"default", "updateLookup", "whenAvailable", "required"}));
        cs->Append("fullDocument", Value(v));
      } else if (o.name == "full_document_before_change") {
        EDDY_ASSIGN_OR_RETURN(auto v, StringOption(e, what, {"off", "whenAvailable", "required"}));
        cs->Append("fullDocumentBeforeChange", Value(v));
      } else if (o.name == "resume_after" || o.name == "start_after") {
        auto v = ConstantValue(e, std::nullopt);
        Value token;
        if (v && v->is_document()) {
          token = *v;
        } else if (v && v->is_string() && !v->as_string().empty() && v->as_string()[0] == '{') {
          auto d = bson::ParseJson(v->as_string());
          if (!d.ok()) return BadOption(o.pos, what + " must be a resume token: its _data hex string or the token as JSON");
          token = Value(*d);
        } else if (v && v->is_string() && !v->as_string().empty()) {
          token = Value(Doc1("_data", *v));
        } else {
          return BadOption(o.pos, what + " must be a resume token: its _data hex string or the token as JSON");
        }
        cs->Append(o.name == "resume_after" ? "resumeAfter" : "startAfter", std::move(token));
      } else if (o.name == "start_at_operation_time") {
        // A time (evaluated now, on the client's clock: CURRENT_TIMESTAMP - INTERVAL '1 hour'),
        // 'seconds,increment' or seconds.
        auto v = ConstantValue(e, Now());
        bson::Timestamp ts;
        if (v && v->type() == bson::Type::kDateTime) {
          int64_t ms = v->as_date().millis;
          if (ms < 0) return BadOption(o.pos, what + " is before 1970");
          ts.seconds = static_cast<uint32_t>(ms / 1000);
          ts.increment = 1;
        } else if (v && (v->is_int32() || v->is_int64()) && v->ToInt64() >= 0) {
          ts.seconds = static_cast<uint32_t>(v->ToInt64());
        } else if (v && v->is_string()) {
          const std::string& s = v->as_string();
          size_t comma = s.find(',');
          try {
            size_t used = 0;
            ts.seconds = static_cast<uint32_t>(std::stoul(s.substr(0, comma), &used));
            if (comma != std::string::npos) ts.increment = static_cast<uint32_t>(std::stoul(s.substr(comma + 1)));
          } catch (...) {
            return BadOption(o.pos, what + " must be a time (CURRENT_TIMESTAMP - INTERVAL '1 hour', TIMESTAMP '...'), 'seconds,increment' or seconds");
          }
        } else {
          return BadOption(o.pos, what + " must be a time (CURRENT_TIMESTAMP - INTERVAL '1 hour', TIMESTAMP '...'), 'seconds,increment' or seconds");
        }
        cs->Append("startAtOperationTime", Value(ts));
      } else if (o.name == "show_expanded_events") {
        if (e.kind != ExprKind::kLiteral || !e.literal.is_bool()) return BadOption(o.pos, what + " must be TRUE or FALSE");
        cs->Append("showExpandedEvents", e.literal);
      } else if (o.name == "batch_size") {
        EDDY_ASSIGN_OR_RETURN(int64_t n, IntOption(e, what, 0));
        runtime->Append("batch_size", Int(n));
      } else if (o.name == "max_await_time") {
        EDDY_ASSIGN_OR_RETURN(int64_t ms, PositiveDuration(e, what));
        runtime->Append("max_await_time_ms", Int(ms));
      } else if (o.name == "processing_timeout") {
        EDDY_ASSIGN_OR_RETURN(int64_t ms, PositiveDuration(e, what));
        runtime->Append("processing_timeout_ms", Int(ms));
      } else if (o.name == "dead_letter_queue") {
        EDDY_ASSIGN_OR_RETURN(auto coll, StringOption(e, what));
        EDDY_RETURN_IF_ERROR(ValidCollectionName(coll, o.pos, what));
        runtime->Append("dead_letter_queue", Value(coll));
      } else if (o.name == "retry_policy") {
        if (e.kind != ExprKind::kObject) return BadOption(o.pos, what + " must be {max_attempts: n, backoff_strategy: 'exponential', base_delay: '1 second'}");
        EDDY_RETURN_IF_ERROR(OnlyKeys(e, {"max_attempts", "backoff_strategy", "base_delay", "max_delay"}, "retry_policy"));
        Document rp;
        if (const Expr* x = ObjectField(e, "max_attempts")) {
          EDDY_ASSIGN_OR_RETURN(int64_t n, IntOption(*x, "retry_policy.max_attempts", 1));
          rp.Append("max_attempts", Int(n));
        }
        if (const Expr* x = ObjectField(e, "backoff_strategy")) {
          EDDY_ASSIGN_OR_RETURN(auto s, StringOption(*x, "retry_policy.backoff_strategy", {"exponential", "linear", "fixed"}));
          rp.Append("backoff_strategy", Value(s));
        }
        if (const Expr* x = ObjectField(e, "base_delay")) {
          EDDY_ASSIGN_OR_RETURN(int64_t ms, PositiveDuration(*x, "retry_policy.base_delay"));
          rp.Append("base_delay_ms", Int(ms));
        }
        if (const Expr* x = ObjectField(e, "max_delay")) {
          EDDY_ASSIGN_OR_RETURN(int64_t ms, PositiveDuration(*x, "retry_policy.max_delay"));
          rp.Append("max_delay_ms", Int(ms));
        }
        runtime->Append("retry_policy", Value(std::move(rp)));
      } else {
        return BadOption(o.pos, "unknown change-stream option " + o.name +
                                    " (known: full_document, full_document_before_change, "
                                    "resume_after, start_after, start_at_operation_time, "
                                    "show_expanded_events, batch_size, max_await_time, "
                                    "retry_policy, dead_letter_queue, processing_timeout)");
      }
    }
    return Status::OK();
  }

  // {$match} for WATCH FOR + WHERE (paths resolved against the event).
  Result<std::optional<Document>> EventMatch(const std::vector<std::string>& ops, const Expr* where) {
    Document m;
    if (ops.size() == 1) m.Append("operationType", Value(ops[0]));
    if (ops.size() > 1) {
      Array a;
      for (const auto& op : ops) a.push_back(Value(op));
      m.Append("operationType", Value(Doc1("$in", Value(std::move(a)))));
    }
    if (where) {
      ExprPtr ev = EventExpr(*where);
      EDDY_ASSIGN_OR_RETURN(Document f, TranslateFilter(*ev));
      bool clash = false;
      for (const auto& fld : f) clash = clash || m.Has(fld.name);
      if (clash) {
        m = Doc1("$and", Value(Array{Value(std::move(m)), Value(std::move(f))}));
      } else {
        for (const auto& fld : f) m.Append(fld.name, fld.value);
      }
    }
    if (m.empty()) return std::optional<Document>();
    return std::optional<Document>(std::move(m));
  }

  // ---- definitions ----

  Value ItemList(const std::vector<SelectItem>& items, bool translate) {
    Array out;
    for (const auto& it : items) {
      Document d;
      d.Append("name", Value(it.alias.empty() ? OutputName(*it.expr) : it.alias));
      d.Append("sql", Value(it.expr->text));
      if (translate) {
        auto v = TranslateExpression(*EventExpr(*it.expr), {});
        if (v.ok()) d.Append("expr", *v);
      }
      out.push_back(Value(std::move(d)));
    }
    return Value(std::move(out));
  }

  static std::string OutputName(const Expr& e) {
    if (e.kind == ExprKind::kColumn && !e.path.back().index) return e.path.back().name;
    return "";
  }

  Value WindowDoc(const WindowSpec& w) {
    Document d;
    Array part, order;
    for (const auto& p : w.partition_by) part.push_back(Value(p->text));
    for (const auto& [e, desc] : w.order_by) {
      Document o;
      o.Append("sql", Value(e->text));
      o.Append("descending", Value(desc));
      order.push_back(Value(std::move(o)));
    }
    if (!part.empty()) d.Append("partition_by", Value(std::move(part)));
    if (!order.empty()) d.Append("order_by", Value(std::move(order)));
    if (w.has_frame) {
      Document f;
      f.Append("type", Value(w.range_frame ? "range" : "rows"));
      auto bound = [](std::optional<int64_t> b) { return b ? Int(*b) : Value("unbounded"); };
      f.Append("lower", bound(w.lower));
      f.Append("upper", bound(w.upper));
      if (w.interval_bounds) f.Append("unit", Value("millisecond"));
      d.Append("frame", Value(std::move(f)));
    }
    return Value(std::move(d));
  }

  Result<Value> ActionDoc(const Action& a) {
    Document d;
    if (a.is_call) {
      d.Append("call", Value(a.procedure));
      Array args;
      for (const auto& x : a.args) {
        Document arg;
        arg.Append("sql", Value(x->text));
        EDDY_ASSIGN_OR_RETURN(Value v, TranslateExpression(*EventExpr(*x), {}));
        arg.Append("expr", std::move(v));
        args.push_back(Value(std::move(arg)));
      }
      d.Append("args", Value(std::move(args)));
      return Value(std::move(d));
    }
    if (a.operand) {
      d.Append("case", Value(a.operand->text));
      EDDY_ASSIGN_OR_RETURN(Value v, TranslateExpression(*EventExpr(*a.operand), {}));
      d.Append("case_expr", std::move(v));
    }
    Array whens;
    for (const auto& [cond, act] : a.whens) {
      Document w;
      w.Append("when", Value(cond->text));
      EDDY_ASSIGN_OR_RETURN(Value cv, TranslateExpression(*EventExpr(*cond), {}));
      w.Append("when_expr", std::move(cv));
      EDDY_ASSIGN_OR_RETURN(Value then, ActionDoc(*act));
      w.Append("then", std::move(then));
      whens.push_back(Value(std::move(w)));
    }
    d.Append("whens", Value(std::move(whens)));
    if (a.else_action) {
      EDDY_ASSIGN_OR_RETURN(Value e, ActionDoc(*a.else_action));
      d.Append("else", std::move(e));
    }
    return Value(std::move(d));
  }

  // Materialized aggregation: every column outside an aggregate names a GROUP BY alias;
  // window/ADD columns name an output column.
  Status CheckAggregation(const ChangeStreamDef& def) {
    std::set<std::string> names;
    auto add_name = [&](const SelectItem& it, const std::string& where) -> Status {
      std::string n = it.alias.empty() ? OutputName(*it.expr) : it.alias;
      if (n.empty()) return Bad(it.expr->pos, where + " item " + it.expr->text + " needs an alias (AS name)");
      if (!names.insert(n).second) return Bad(it.expr->pos, "output column " + n + " is defined twice");
      return Status::OK();
    };
    for (const auto& g : def.group_by) {
      EDDY_RETURN_IF_ERROR(add_name(g, "GROUP BY"));
      EDDY_RETURN_IF_ERROR(TranslateExpression(*EventExpr(*g.expr), {}).status());
    }
    std::set<std::string> group_names = names;
    // Columns outside aggregate calls must be names in `known`.
    std::function<Status(const Expr&, const std::set<std::string>&, bool, bool)> walk =
        [&](const Expr& e, const std::set<std::string>& known, bool in_agg, bool allow_window) -> Status {
      static const std::set<std::string> kAggs = {"COUNT", "SUM", "AVG", "MIN", "MAX", "ARRAY_AGG",
                                                  "STDDEV", "STDDEV_POP", "STDDEV_SAMP"};
      bool is_agg = e.kind == ExprKind::kFunction && kAggs.count(e.op) && !e.over;
      if (e.kind == ExprKind::kFunction && e.over) {
        if (!allow_window) return Bad(e.pos, "window function " + e.text + " belongs in ADD (...)");
        if (e.over->name.empty() || e.over->name != "window") {
          return Bad(e.pos, "window function " + e.text + " must use OVER window (the WINDOW (...) clause)");
        }
        if (!def.window) return Bad(e.pos, e.text + " uses OVER window but there is no WINDOW (...) clause");
        for (const auto& a : e.args) EDDY_RETURN_IF_ERROR(walk(*a, known, false, false));
        return Status::OK();
      }
      if (e.kind == ExprKind::kColumn && !in_agg) {
        if (e.path.size() != 1 || !known.count(e.path[0].name)) {
          std::string list;
          for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
          return Bad(e.pos, "column " + e.text + " must be inside an aggregate or name an output column (" + list + ")");
        }
      }
      if (is_agg && in_agg) return Bad(e.pos, "nested aggregate " + e.text);
      for (const auto& a : e.args) EDDY_RETURN_IF_ERROR(walk(*a, known, in_agg || is_agg, allow_window));
      if (e.filter) {
        // FILTER (WHERE ...) reads the event.
        EDDY_RETURN_IF_ERROR(TranslateFilter(*EventExpr(*e.filter)).status());
      }
      if (e.operand) EDDY_RETURN_IF_ERROR(walk(*e.operand, known, in_agg, allow_window));
      for (const auto& [w, th] : e.whens) {
        EDDY_RETURN_IF_ERROR(walk(*w, known, in_agg, allow_window));
        EDDY_RETURN_IF_ERROR(walk(*th, known, in_agg, allow_window));
      }
      if (e.else_expr) EDDY_RETURN_IF_ERROR(walk(*e.else_expr, known, in_agg, allow_window));
      return Status::OK();
    };
    for (const auto& s : def.select) {
      EDDY_RETURN_IF_ERROR(walk(*s.expr, group_names, false, false));
      // SELECT time_bucket: shows a GROUP BY column again (not a new column).
      bool group_ref = s.expr->kind == ExprKind::kColumn && s.expr->path.size() == 1 &&
                       group_names.count(s.expr->path[0].name) &&
                       (s.alias.empty() || s.alias == s.expr->path[0].name);
      if (!group_ref) EDDY_RETURN_IF_ERROR(add_name(s, "SELECT"));
    }
    if (def.window) {
      for (const auto& p : def.window->partition_by) EDDY_RETURN_IF_ERROR(walk(*p, names, false, false));
      for (const auto& [o, d] : def.window->order_by) EDDY_RETURN_IF_ERROR(walk(*o, names, false, false));
    }
    for (const auto& a : def.add) {
      // ADD items see the output columns and the ADD items before them.
      EDDY_RETURN_IF_ERROR(walk(*a.expr, names, true /* no aggregates here */, true));
      std::vector<const Expr*> cols;
      EDDY_RETURN_IF_ERROR(add_name(a, "ADD"));
    }
    // ADD: columns outside window calls also must be known names.
    std::set<std::string> seen = names;
    for (const auto& a : def.add) {
      ExprPtr c = Clone(*a.expr);
      Status bad;
      ForEachColumn(c.get(), [&](Expr* col) {
        if (bad.ok() && (col->path.size() != 1 || !seen.count(col->path[0].name))) {
          bad = Bad(col->pos, "column " + col->text + " in ADD must name an output column");
        }
      });
      EDDY_RETURN_IF_ERROR(bad);
    }
    return Status::OK();
  }

  Status CheckPipelineStage(const Document& stage, Position p) {
    if (stage.size() != 1) {
      return Err(ErrorCode::kFailedToParse, p, "a pipeline stage must have exactly one field, e.g. {$match: {...}}");
    }
    const std::string& name = stage.at(0).name;
    static const std::set<std::string> kAllowed = {
        "$match", "$project", "$addFields", "$set", "$unset", "$replaceRoot", "$replaceWith",
        "$redact", "$changeStreamSplitLargeEvent", "$lookup"};
    static const std::set<std::string> kKnown = {
        "$group", "$sort", "$skip", "$limit", "$sample", "$unwind", "$graphLookup",
        "$bucket", "$bucketAuto", "$facet", "$out", "$merge", "$count", "$sortByCount",
        "$unionWith", "$setWindowFields", "$densify", "$fill", "$geoNear", "$documents",
        "$changeStream", "$indexStats", "$collStats", "$currentOp", "$listSessions"};
    if (kAllowed.count(name)) return Status::OK();
    if (kKnown.count(name)) {
      return Err(ErrorCode::kIllegalOperation, p,
                 "stage " + name + " is not allowed in a change stream pipeline (allowed: $match, "
                 "$project, $addFields, $set, $unset, $replaceRoot, $replaceWith, $redact, "
                 "$changeStreamSplitLargeEvent, and eddy's $lookup)");
    }
    return Err(static_cast<ErrorCode>(40324), p, "Unrecognized pipeline stage name: '" + name + "'");
  }

  Status Stream(const CreateDefinition& cd, Document* doc) {
    const ChangeStreamDef& def = *cd.stream;
    bool materialized = cd.kind == DefinitionKind::kMaterializedChangeStream;
    std::string db = Db(def.source);
    CheckCollection(db, def.source.name, def.source.pos, KindName(cd.kind) + " " + cd.name + " watches it");
    Document cs, runtime;
    EDDY_RETURN_IF_ERROR(StreamOptions(def.options, &cs, &runtime));
    Array pipeline;
    pipeline.push_back(Value(Doc1("$changeStream", Value(cs))));
    EDDY_ASSIGN_OR_RETURN(auto match, EventMatch(def.operations, def.where.get()));
    if (match) pipeline.push_back(Value(Doc1("$match", Value(*match))));
    Array stages;
    std::vector<std::string> eddy_only;
    for (const auto& s : def.pipeline) {
      auto v = ConstantValue(*s, std::nullopt);
      if (!v || !v->is_document()) {
        return Bad(s->pos, "pipeline stages must be constant documents ({$match: {...}})");
      }
      EDDY_RETURN_IF_ERROR(CheckPipelineStage(v->as_document(), s->pos));
      const std::string& name = v->as_document().at(0).name;
      if (name == "$lookup") {
        eddy_only.push_back(name);
        const Value& spec = v->as_document().at(0).value;
        if (const Value* from = spec.is_document() ? spec.as_document().Get("from") : nullptr;
            from && from->is_string()) {
          CheckCollection(db, from->as_string(), s->pos, "$lookup reads it");
        }
      }
      stages.push_back(*v);
      pipeline.push_back(*v);
    }
    Document d;
    Document src;
    src.Append("db", Value(db));
    src.Append("collection", Value(def.source.name));
    d.Append("source", Value(std::move(src)));
    Array ops;
    for (const auto& op : def.operations) ops.push_back(Value(op));
    d.Append("operations", Value(std::move(ops)));
    if (def.where) {
      d.Append("where", Value(def.where->text));
      d.Append("filter", Value(match ? *match : Document()));
    }
    if (!stages.empty()) d.Append("stages", Value(std::move(stages)));
    d.Append("change_stream_options", Value(std::move(cs)));
    if (!runtime.empty()) d.Append("options", Value(std::move(runtime)));
    Array blocks;
    for (const auto& b : def.blocks) {
      Document bd;
      bd.Append("label", Value(b.label));
      bd.Append("sql", Value(b.text));
      if (b.query) {
        bd.Append("type", Value("query"));
        if (b.query->from) return Bad(b.query->from->pos, "an analysis query in WITH " + b.label + " reads the stream's events: drop its FROM");
      } else {
        bd.Append("type", Value("routine"));
        EDDY_ASSIGN_OR_RETURN(Value r, ActionDoc(*b.routine));
        bd.Append("routine", std::move(r));
      }
      blocks.push_back(Value(std::move(bd)));
    }
    if (!blocks.empty()) d.Append("blocks", Value(std::move(blocks)));
    if (materialized) {
      EDDY_RETURN_IF_ERROR(CheckAggregation(def));
      Document agg;
      agg.Append("group_by", ItemList(def.group_by, true));
      agg.Append("select", ItemList(def.select, false));
      if (def.window) agg.Append("window", WindowDoc(*def.window));
      if (!def.add.empty()) agg.Append("add", ItemList(def.add, false));
      d.Append("aggregation", Value(std::move(agg)));
      d.Append("refresh_ms", Int(def.refresh_ms));
    }
    if (!def.handler.empty()) {
      d.Append("handler", Value(def.handler));
      CheckDefinition("handlers", def.handler, def.handler_pos, "handler",
                      "CREATE HANDLER " + def.handler + " AS ... first; SHOW HANDLERS lists them");
    }
    if (!eddy_only.empty()) {
      d.Append("requires_eddy", Value("$lookup after $changeStream is an eddy extension; MongoDB rejects it (IllegalOperation)"));
    }
    doc->Append("source", Value(db + "." + def.source.name));
    if (!def.handler.empty()) doc->Append("handler", Value(def.handler));
    doc->Append("definition", Value(std::move(d)));
    doc->Append("pipeline", Value(std::move(pipeline)));
    return Status::OK();
  }

  Status EventStore(const CreateDefinition& cd, Document* doc) {
    const EventStoreDef& def = *cd.event_store;
    std::string db = Db(def.source);
    CheckCollection(db, def.source.name, def.source.pos, "event store " + cd.name + " records its changes");
    bool before = false, after = false;
    Document mapping, project;
    project.Append("_id", Value(int32_t{1}));
    Array mapping_sql;
    std::set<std::string> fields;
    for (const auto& m : def.mapping) {
      if (m.name == "_id" || m.name[0] == '$' || m.name.find('.') != std::string::npos) {
        return Bad(m.pos, "event field " + m.name + " must not be _id, contain '.' or start with '$'");
      }
      before = before || References(*m.value, "fullDocumentBeforeChange");
      ExprPtr ev = EventExpr(*m.value);
      after = after || References(*ev, "fullDocument");
      EDDY_ASSIGN_OR_RETURN(Value v, TranslateExpression(*ev, {}));
      if (!v.is_string() && !v.is_document()) v = Value(Doc1("$literal", v));
      project.Append(m.name, v);
      Document md;
      md.Append("name", Value(m.name));
      md.Append("sql", Value(m.value->text));
      md.Append("expr", v);
      mapping_sql.push_back(Value(std::move(md)));
      fields.insert(m.name);
    }
    Array projections;
    for (const auto& p : def.projections) {
      if (p.value->kind != ExprKind::kObject) return Bad(p.pos, "projection " + p.name + " must be an object {field: expression, ...}");
      Status bad;
      ExprPtr c = Clone(*p.value);
      ForEachColumn(c.get(), [&](Expr* col) {
        if (bad.ok() && !fields.count(col->path[0].name)) {
          std::string list;
          for (const auto& f : fields) list += (list.empty() ? "" : ", ") + f;
          bad = Bad(col->pos, "projection " + p.name + " reads " + col->text +
                                  ", which is not an event field of the EVENT_MAPPING (" + list + ")");
        }
      });
      EDDY_RETURN_IF_ERROR(bad);
      EDDY_ASSIGN_OR_RETURN(Value v, TranslateExpression(*p.value, {}));
      Document pd;
      pd.Append("name", Value(p.name));
      pd.Append("sql", Value(p.value->text));
      pd.Append("expr", std::move(v));
      projections.push_back(Value(std::move(pd)));
    }
    Document cs;
    if (after) cs.Append("fullDocument", Value("updateLookup"));
    if (before) cs.Append("fullDocumentBeforeChange", Value("whenAvailable"));
    Array pipeline{Value(Doc1("$changeStream", Value(cs))), Value(Doc1("$project", Value(std::move(project))))};
    Document d;
    Document src;
    src.Append("db", Value(db));
    src.Append("collection", Value(def.source.name));
    d.Append("source", Value(std::move(src)));
    d.Append("event_mapping", Value(std::move(mapping_sql)));
    if (!projections.empty()) d.Append("projections", Value(std::move(projections)));
    doc->Append("source", Value(db + "." + def.source.name));
    doc->Append("definition", Value(std::move(d)));
    doc->Append("pipeline", Value(std::move(pipeline)));
    return Status::OK();
  }

  Result<Value> StepInput(const Expr& e, const std::string& what) {
    if (e.kind != ExprKind::kObject) return BadOption(e.pos, what + " must be an object {name: expression, ...}");
    return TranslateExpression(*EventExpr(e), {});
  }

  Status Saga(const CreateDefinition& cd, Document* doc) {
    const SagaDef& def = *cd.saga;
    static const std::vector<std::string> kOps = {"insert", "update", "replace", "delete"};
    if (std::find(kOps.begin(), kOps.end(), def.operation) == kOps.end()) {
      return Bad(def.operation_pos, "a saga is triggered by insert, update, replace or delete, not '" + def.operation + "'");
    }
    std::string db = Db(def.source);
    CheckCollection(db, def.source.name, def.source.pos, "saga " + cd.name + " is triggered by it");
    Document cs;
    if (def.operation == "update") cs.Append("fullDocument", Value("updateLookup"));
    Array pipeline{Value(Doc1("$changeStream", Value(cs)))};
    EDDY_ASSIGN_OR_RETURN(auto match, EventMatch({def.operation}, def.where.get()));
    pipeline.push_back(Value(Doc1("$match", Value(*match))));
    Array steps;
    for (size_t i = 0; i < def.steps.size(); ++i) {
      const Expr& s = *def.steps[i];
      std::string what = "step " + std::to_string(i + 1);
      EDDY_RETURN_IF_ERROR(OnlyKeys(s, {"service", "action", "input", "compensation", "timeout"}, what));
      Document sd;
      for (const char* k : {"service", "action"}) {
        const Expr* x = ObjectField(s, k);
        if (!x) return BadOption(s.pos, what + " needs " + k);
        EDDY_ASSIGN_OR_RETURN(auto v, StringOption(*x, what + "." + k));
        sd.Append(k, Value(v));
      }
      if (const Expr* x = ObjectField(s, "input")) {
        EDDY_ASSIGN_OR_RETURN(Value v, StepInput(*x, what + ".input"));
        sd.Append("input", std::move(v));
      }
      if (const Expr* c = ObjectField(s, "compensation")) {
        if (c->kind != ExprKind::kObject) return BadOption(c->pos, what + ".compensation must be {service, action, input}");
        EDDY_RETURN_IF_ERROR(OnlyKeys(*c, {"service", "action", "input"}, what + ".compensation"));
        Document comp;
        for (const char* k : {"service", "action"}) {
          const Expr* x = ObjectField(*c, k);
          if (!x) return BadOption(c->pos, what + ".compensation needs " + k);
          EDDY_ASSIGN_OR_RETURN(auto v, StringOption(*x, what + ".compensation." + k));
          comp.Append(k, Value(v));
        }
        if (const Expr* x = ObjectField(*c, "input")) {
          EDDY_ASSIGN_OR_RETURN(Value v, StepInput(*x, what + ".compensation.input"));
          comp.Append("input", std::move(v));
        }
        sd.Append("compensation", Value(std::move(comp)));
      }
      if (const Expr* x = ObjectField(s, "timeout")) {
        EDDY_ASSIGN_OR_RETURN(int64_t ms, PositiveDuration(*x, what + ".timeout"));
        sd.Append("timeout_ms", Int(ms));
      }
      sd.Append("sql", Value(s.text));
      steps.push_back(Value(std::move(sd)));
    }
    Document options;
    for (const auto& o : def.options) {
      const std::string what = "saga option " + o.name;
      if (o.name == "max_retry_attempts") {
        EDDY_ASSIGN_OR_RETURN(int64_t n, IntOption(*o.value, what, 0));
        options.Append("max_retry_attempts", Int(n));
      } else if (o.name == "compensation_timeout" || o.name == "saga_timeout" || o.name == "step_timeout") {
        EDDY_ASSIGN_OR_RETURN(int64_t ms, PositiveDuration(*o.value, what));
        options.Append(o.name + "_ms", Int(ms));
      } else {
        return BadOption(o.pos, "unknown saga option " + o.name +
                                    " (known: max_retry_attempts, compensation_timeout, saga_timeout, step_timeout)");
      }
    }
    Document d;
    Document src;
    src.Append("db", Value(db));
    src.Append("collection", Value(def.source.name));
    d.Append("source", Value(std::move(src)));
    d.Append("operation", Value(def.operation));
    if (def.where) d.Append("where", Value(def.where->text));
    d.Append("steps", Value(std::move(steps)));
    if (!options.empty()) d.Append("options", Value(std::move(options)));
    doc->Append("source", Value(db + "." + def.source.name));
    doc->Append("definition", Value(std::move(d)));
    doc->Append("pipeline", Value(std::move(pipeline)));
    return Status::OK();
  }

  Status Monitor(const CreateDefinition& cd, Document* doc) {
    const MonitorDef& def = *cd.monitor;
    std::set<std::string> metrics;
    Array ms;
    for (const auto& [m, p] : def.metrics) {
      metrics.insert(m);
      ms.push_back(Value(m));
    }
    Array alerts;
    for (const auto& a : def.alerts) {
      Status bad;
      ExprPtr c = Clone(*a.condition);
      ForEachColumn(c.get(), [&](Expr* col) {
        if (bad.ok() && (col->path.size() != 1 || !metrics.count(col->path[0].name))) {
          bad = Bad(col->pos, "alert " + a.name + " reads " + col->text + ", which is not in WITH METRICS (...)");
        }
      });
      EDDY_RETURN_IF_ERROR(bad);
      static const std::vector<std::string> kSeverities = {"critical", "high", "medium", "low", "info"};
      if (std::find(kSeverities.begin(), kSeverities.end(), a.severity) == kSeverities.end()) {
        return BadOption(a.pos, "alert " + a.name + ": severity must be 'critical', 'high', 'medium', 'low' or 'info', got '" + a.severity + "'");
      }
      if (a.notification.empty()) return BadOption(a.pos, "alert " + a.name + " needs a notification target");
      Array targets;
      for (const auto& n : a.notification) {
        static const std::set<std::string> kChannels = {"pager", "slack", "email", "webhook", "nats", "log"};
        size_t colon = n.find(':');
        std::string channel = n.substr(0, colon);
        if (!kChannels.count(channel) || (colon != std::string::npos && colon + 1 == n.size()) ||
            (colon == std::string::npos && channel != "pager" && channel != "log")) {
          return BadOption(a.pos, "alert " + a.name + ": notification target '" + n +
                                      "' must be pager, log, slack:#channel, email:address, webhook:url or nats:subject");
        }
        Document t;
        t.Append("channel", Value(channel));
        if (colon != std::string::npos) t.Append("target", Value(n.substr(colon + 1)));
        targets.push_back(Value(std::move(t)));
      }
      EDDY_ASSIGN_OR_RETURN(Value cond, TranslateExpression(*a.condition, {}));
      Document ad;
      ad.Append("name", Value(a.name));
      ad.Append("condition", Value(a.condition->text));
      ad.Append("condition_expr", std::move(cond));
      if (a.for_ms) ad.Append("for_ms", Int(a.for_ms));
      if (!a.during.empty()) ad.Append("during", Value(a.during));
      ad.Append("severity", Value(a.severity));
      ad.Append("notification", Value(std::move(targets)));
      alerts.push_back(Value(std::move(ad)));
    }
    Document d;
    if (!def.stream.empty()) {
      d.Append("stream", Value(def.stream));
      CheckDefinition("streams", def.stream, cd.name_pos, "change stream", "SHOW CHANGE STREAMS lists them");
    }
    d.Append("metrics", Value(std::move(ms)));
    if (!alerts.empty()) d.Append("alerts", Value(std::move(alerts)));
    doc->Append("definition", Value(std::move(d)));
    return Status::OK();
  }

  Status Handler(const CreateDefinition& cd, Document* doc) {
    const HandlerDef& def = *cd.handler;
    Document d;
    std::set<std::string> known;
    std::string type;
    switch (def.type) {
      case HandlerType::kLog:
        type = "log";
        known = {"level", "format"};
        break;
      case HandlerType::kWebhook: {
        type = "webhook";
        known = {"method", "headers", "timeout"};
        const std::string& u = def.target;
        size_t scheme = u.find("://");
        if ((u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0) || u.size() <= scheme + 3 ||
            u.find_first_of(" \t\r\n") != std::string::npos) {
          return BadOption(cd.name_pos, "webhook URL must be http://host/... or https://host/..., got '" + u + "'");
        }
        d.Append("url", Value(u));
        break;
      }
      case HandlerType::kNats: {
        type = "nats";
        known = {"url", "stream", "timeout"};
        const std::string& s = def.target;
        bool ok = s.front() != '.' && s.back() != '.' && s.find("..") == std::string::npos &&
                  s.find_first_of(" \t\r\n*>") == std::string::npos;
        if (!ok) {
          return BadOption(cd.name_pos, "NATS subject '" + s + "' must be dot-separated tokens without spaces or wildcards (* >)");
        }
        d.Append("subject", Value(s));
        break;
      }
      case HandlerType::kCollection: {
        type = "collection";
        known = {"mode"};
        EDDY_RETURN_IF_ERROR(ValidCollectionName(def.collection.name, def.collection.pos, "the handler's collection"));
        Document c;
        c.Append("db", Value(Db(def.collection)));
        c.Append("collection", Value(def.collection.name));
        d.Append("collection", Value(std::move(c)));
        break;
      }
      case HandlerType::kCommand: {
        type = "command";
        known = {"timeout"};
        d.Append("command", Value(def.target));
        break;
      }
    }
    Document options;
    for (const auto& o : def.options) {
      std::string what = "handler option " + o.name;
      if (!known.count(o.name)) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        return BadOption(o.pos, "unknown " + what + " for a " + type + " handler (known: " + list + ")");
      }
      if (o.name == "timeout") {
        EDDY_ASSIGN_OR_RETURN(int64_t ms, PositiveDuration(*o.value, what));
        options.Append("timeout_ms", Int(ms));
      } else if (o.name == "level") {
        EDDY_ASSIGN_OR_RETURN(auto v, StringOption(*o.value, what, {"debug", "info", "warn", "error"}));
        options.Append("level", Value(v));
      } else if (o.name == "format") {
        EDDY_ASSIGN_OR_RETURN(auto v, StringOption(*o.value, what, {"json", "text"}));
        options.Append("format", Value(v));
      } else if (o.name == "method") {
        EDDY_ASSIGN_OR_RETURN(auto v, StringOption(*o.value, what, {"POST", "PUT"}));
        options.Append("method", Value(v));
      } else if (o.name == "mode") {
        EDDY_ASSIGN_OR_RETURN(auto v, StringOption(*o.value, what, {"insert", "upsert", "replace"}));
        options.Append("mode", Value(v));
      } else if (o.name == "url") {
        EDDY_ASSIGN_OR_RETURN(auto v, StringOption(*o.value, what));
        if (v.rfind("nats://", 0) != 0 && v.rfind("tls://", 0) != 0) {
          return BadOption(o.pos, what + " must be nats://host:port or tls://host:port, got '" + v + "'");
        }
        options.Append("url", Value(v));
      } else if (o.name == "stream") {
        EDDY_ASSIGN_OR_RETURN(auto v, StringOption(*o.value, what));
        options.Append("stream", Value(v));
      } else if (o.name == "headers") {
        auto v = ConstantValue(*o.value, std::nullopt);
        bool ok = v && v->is_document();
        if (ok) {
          for (const auto& f : v->as_document()) ok = ok && f.value.is_string();
        }
        if (!ok) return BadOption(o.pos, what + " must be an object of strings {'Name': 'value'}");
        options.Append("headers", *v);
      }
    }
    if (!options.empty()) d.Append("options", Value(std::move(options)));
    doc->Append("type", Value(type));
    std::string target = def.type == HandlerType::kCollection
                             ? Db(def.collection) + "." + def.collection.name
                             : def.target;
    doc->Append("target", Value(target));
    doc->Append("definition", Value(std::move(d)));
    return Status::OK();
  }

  Status Create() {
    const CreateDefinition& cd = *st.create_definition;
    std::string coll = CollectionOf(cd.kind);
    Document doc;
    doc.Append("_id", Value(cd.name));
    doc.Append("kind", Value(KindId(cd.kind)));
    doc.Append("name", Value(cd.name));
    doc.Append("sql", Value(st.text));
    switch (cd.kind) {
      case DefinitionKind::kChangeStream:
      case DefinitionKind::kMaterializedChangeStream:
        EDDY_RETURN_IF_ERROR(Stream(cd, &doc));
        break;
      case DefinitionKind::kEventStore:
        EDDY_RETURN_IF_ERROR(EventStore(cd, &doc));
        break;
      case DefinitionKind::kSaga:
        EDDY_RETURN_IF_ERROR(Saga(cd, &doc));
        break;
      case DefinitionKind::kMonitor:
        EDDY_RETURN_IF_ERROR(Monitor(cd, &doc));
        break;
      case DefinitionKind::kHandler:
        EDDY_RETURN_IF_ERROR(Handler(cd, &doc));
        break;
    }
    if (cd.kind != DefinitionKind::kHandler) doc.Append("state", Value("active"));
    doc.Append("status", Value(kNotExecutable));
    doc.Append("created", Value(bson::DateTime{Now()}));
    t.database = kSystemDb;
    t.collection = coll;
    t.command.Append("insert", Value(coll));
    t.command.Append("documents", Value(Array{Value(std::move(doc))}));
    t.command.Append("ordered", Value(true));
    t.shape = ResultShape::kOk;
    t.verb = "CREATE " + Upper(KindName(cd.kind));
    t.error_messages.emplace_back(11000, KindName(cd.kind) + " '" + cd.name + "' already exists in " +
                                             std::string(kSystemDb) + "." + coll);
    if (cd.if_not_exists) t.ignore_codes.push_back(11000);
    return Status::OK();
  }

  static Document KindFilter(const std::optional<DefinitionKind>& kind) {
    Document f;
    if (kind && (*kind == DefinitionKind::kChangeStream || *kind == DefinitionKind::kMaterializedChangeStream)) {
      f.Append("kind", Value(KindId(*kind)));
    }
    return f;
  }

  Status Command() {
    const DefinitionCommand& dc = *st.definition_command;
    t.database = kSystemDb;
    std::string what = dc.kind ? KindName(*dc.kind) : "definition";
    Status not_found = Err(ErrorCode::kNoSuchKey, dc.name_pos, "no " + what + " named '" + dc.name + "'");
    switch (dc.verb) {
      case DefinitionVerb::kShow:
      case DefinitionVerb::kDescribe: {
        bool describe = dc.verb == DefinitionVerb::kDescribe;
        if (describe) {
          t.columns = {"name", "kind", "state", "status", "created", "sql", "definition", "pipeline"};
        } else if (dc.kind == DefinitionKind::kHandler) {
          t.columns = {"name", "type", "target", "status", "created"};
        } else if (!dc.kind || *dc.kind == DefinitionKind::kMonitor) {
          t.columns = {"name", "kind", "state", "status", "created"};
        } else {
          t.columns = {"name", "kind", "source", "handler", "state", "status", "created"};
        }
        Document project;
        project.Append("_id", Value(int32_t{0}));
        for (const auto& c : t.columns) project.Append(c, Value(int32_t{1}));
        Document filter = describe ? Doc1("_id", Value(dc.name)) : Document();
        if (dc.kind) {
          // SHOW CHANGE STREAMS lists both stream kinds; DESCRIBE/DROP/ALTER match the kind.
          if (describe || *dc.kind != DefinitionKind::kChangeStream) {
            for (const auto& f : KindFilter(dc.kind)) filter.Append(f.name, f.value);
          }
          t.collection = CollectionOf(*dc.kind);
          t.command.Append("find", Value(t.collection));
          if (!filter.empty()) t.command.Append("filter", Value(std::move(filter)));
          t.command.Append("sort", Value(Doc1("_id", Value(int32_t{1}))));
          t.command.Append("projection", Value(std::move(project)));
        } else {
          // Every kind: one aggregate over the definition collections.
          t.collection = "streams";
          Array pipe;
          auto match = [&]() { return Value(Doc1("$match", Value(filter))); };
          if (describe) pipe.push_back(match());
          for (const char* c : {"event_stores", "sagas", "monitors", "handlers"}) {
            Document u;
            u.Append("coll", Value(c));
            u.Append("pipeline", Value(describe ? Array{match()} : Array{}));
            pipe.push_back(Value(Doc1("$unionWith", Value(std::move(u)))));
          }
          Document sort;
          sort.Append("kind", Value(int32_t{1}));
          sort.Append("_id", Value(int32_t{1}));
          pipe.push_back(Value(Doc1("$sort", Value(std::move(sort)))));
          pipe.push_back(Value(Doc1("$project", Value(std::move(project)))));
          t.command.Append("aggregate", Value("streams"));
          t.command.Append("pipeline", Value(std::move(pipe)));
          t.command.Append("cursor", Value(Document()));
        }
        t.shape = ResultShape::kRows;
        t.verb = describe ? "DESCRIBE" : "SHOW";
        if (describe) t.if_none = not_found;
        return Status::OK();
      }
      case DefinitionVerb::kDrop: {
        t.collection = CollectionOf(*dc.kind);
        Document q = Doc1("_id", Value(dc.name));
        for (const auto& f : KindFilter(dc.kind)) q.Append(f.name, f.value);
        Document del;
        del.Append("q", Value(std::move(q)));
        del.Append("limit", Value(int32_t{1}));
        t.command.Append("delete", Value(t.collection));
        t.command.Append("deletes", Value(Array{Value(std::move(del))}));
        t.command.Append("ordered", Value(true));
        t.shape = ResultShape::kOk;
        t.verb = "DROP " + Upper(what);
        if (!dc.if_exists) t.if_none = not_found;
        if (*dc.kind == DefinitionKind::kHandler) {
          Check c;
          c.database = kSystemDb;
          c.collection = "streams";
          c.command.Append("find", Value("streams"));
          c.command.Append("filter", Value(Doc1("handler", Value(dc.name))));
          c.command.Append("projection", Value(Doc1("_id", Value(int32_t{1}))));
          c.command.Append("limit", Value(int32_t{1}));
          c.fail_if_empty = false;
          c.failure = Err(ErrorCode::kIllegalOperation, dc.name_pos,
                          "handler '" + dc.name + "' is used by '{}' (drop that first)");
          t.checks.push_back(std::move(c));
        }
        return Status::OK();
      }
      case DefinitionVerb::kPause:
      case DefinitionVerb::kResume: {
        t.collection = CollectionOf(*dc.kind);
        Document q = Doc1("_id", Value(dc.name));
        for (const auto& f : KindFilter(dc.kind)) q.Append(f.name, f.value);
        Document u;
        u.Append("$set", Value(Doc1("state", Value(dc.verb == DefinitionVerb::kPause ? "paused" : "active"))));
        u.Append("$currentDate", Value(Doc1("updated", Value(true))));
        Document upd;
        upd.Append("q", Value(std::move(q)));
        upd.Append("u", Value(std::move(u)));
        t.command.Append("update", Value(t.collection));
        t.command.Append("updates", Value(Array{Value(std::move(upd))}));
        t.command.Append("ordered", Value(true));
        t.shape = ResultShape::kOk;
        t.verb = "ALTER " + Upper(what);
        t.if_none = not_found;
        return Status::OK();
      }
    }
    return Status(ErrorCode::kInternalError, "unknown definition command");
  }
};

}  // namespace

Result<Translation> TranslateDefinition(const Statement& st, const TranslateOptions& opts) {
  Builder b{st, opts, {}};
  if (st.kind == StatementKind::kCreateDefinition) {
    EDDY_RETURN_IF_ERROR(b.Create());
  } else {
    EDDY_RETURN_IF_ERROR(b.Command());
  }
  return std::move(b.t);
}

}  // namespace eddy::sql
