#include "sql/translate.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "bson/json.h"
#include "sql/parser.h"

namespace eddy::sql {

using bson::Array;
using bson::Document;
using bson::Value;

namespace {

std::string At(Position p) { return std::to_string(p.line) + ":" + std::to_string(p.column); }

Status BadValue(Position p, const std::string& msg) {
  return Status(ErrorCode::kBadValue, "at " + At(p) + ": " + msg);
}
Status Unsupported(Position p, const std::string& construct) {
  return Status(ErrorCode::kNotImplemented, "unsupported at " + At(p) + ": " + construct +
                                                " is not supported by eddy sql (see docs/sql.md)");
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Document Doc1(std::string k, Value v) {
  Document d;
  d.Append(std::move(k), std::move(v));
  return d;
}
Value Op(std::string op, Value arg) { return Value(Doc1(std::move(op), std::move(arg))); }
// Integers as the smallest BSON type that holds them (drivers send int32 where it fits).
Value Int(int64_t v) {
  if (v >= INT32_MIN && v <= INT32_MAX) return Value(static_cast<int32_t>(v));
  return Value(v);
}

Value Op2(std::string op, Value a, Value b) { return Op(std::move(op), Value(Array{std::move(a), std::move(b)})); }

// A value that an aggregation expression takes literally: strings starting with '$' and
// documents (which could look like operators) are wrapped in $literal.
Value LiteralExpr(const Value& v) {
  if ((v.is_string() && !v.as_string().empty() && v.as_string()[0] == '$') || v.is_document() ||
      v.is_array()) {
    return Op("$literal", v);
  }
  return v;
}

// A projection value must not be a number/bool (1/0/true mean include/exclude).
Value ProjectionValue(Value v) {
  if (v.is_string() && !v.as_string().empty() && v.as_string()[0] == '$') return v;
  if (v.is_document()) return v;
  return Op("$literal", std::move(v));
}

bool IsAggregateName(const std::string& n) {
  static const std::set<std::string> k = {"COUNT", "SUM", "AVG", "MIN", "MAX", "ARRAY_AGG",
                                          "STDDEV_POP", "STDDEV_SAMP", "STDDEV"};
  return k.count(n) > 0;
}
bool IsWindowOnlyName(const std::string& n) {
  static const std::set<std::string> k = {"ROW_NUMBER", "RANK",        "DENSE_RANK", "NTILE",
                                          "LAG",        "LEAD",        "FIRST_VALUE",
                                          "LAST_VALUE"};
  return k.count(n) > 0;
}

bool IsAggregateCall(const Expr& e) {
  return e.kind == ExprKind::kFunction && !e.over && IsAggregateName(e.op);
}

// ---- constants ----

// The constant value of an expression (literals, object/array literals of constants, INTERVAL),
// or nullopt when it depends on a row or on the server. `now` (ms) makes CURRENT_TIMESTAMP a
// constant (INSERT values are built client-side).
std::optional<Value> ConstValue(const Expr& e, std::optional<int64_t> now = std::nullopt) {
  switch (e.kind) {
    case ExprKind::kLiteral:
      return e.literal;
    case ExprKind::kInterval:
      return e.literal;
    case ExprKind::kCurrentTime:
      if (!now) return std::nullopt;
      if (e.op == "CURRENT_DATE") return Value(bson::DateTime{*now - (*now % 86'400'000)});
      return Value(bson::DateTime{*now});
    case ExprKind::kObject: {
      Document d;
      for (size_t i = 0; i < e.keys.size(); ++i) {
        auto v = ConstValue(*e.args[i], now);
        if (!v) return std::nullopt;
        d.Append(e.keys[i], std::move(*v));
      }
      return Value(std::move(d));
    }
    case ExprKind::kArray: {
      Array a;
      for (const auto& x : e.args) {
        auto v = ConstValue(*x, now);
        if (!v) return std::nullopt;
        a.push_back(std::move(*v));
      }
      return Value(std::move(a));
    }
    case ExprKind::kFunction:
      if (e.op == "NOW" && e.args.empty() && now) return Value(bson::DateTime{*now});
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

// ---- LIKE ----

// SQL LIKE pattern -> anchored PCRE: % -> .*, _ -> ., the escape character (default '\')
// makes the next character literal, every regex metacharacter is quoted.
Result<std::string> LikeToRegex(const std::string& pat, std::optional<char> escape, Position p) {
  char esc = escape ? *escape : '\\';
  std::string re = "^";
  bool trailing_wildcard = false;
  for (size_t i = 0; i < pat.size(); ++i) {
    trailing_wildcard = false;
    char c = pat[i];
    if (esc != '\0' && c == esc) {
      if (i + 1 >= pat.size()) {
        return Status(ErrorCode::kBadValue,
                      "at " + At(p) + ": LIKE pattern '" + pat + "' ends with the escape character");
      }
      c = pat[++i];
      if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) re += '\\';
      re += c;
      continue;
    }
    if (c == '%') {
      re += ".*";
      trailing_wildcard = true;
    } else if (c == '_') {
      re += ".";
    } else {
      if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) re += '\\';
      re += c;
    }
  }
  // A trailing % needs no ".*$": the regex is then only anchored at the start (index-friendly).
  if (trailing_wildcard) {
    re.resize(re.size() - 2);
  } else {
    re += "$";
  }
  return re;
}

// ---- scope and translation of expressions ----

struct Scope {
  std::vector<std::string> strip;   // qualifiers that name the FROM source (alias, collection)
  std::vector<std::string> joined;  // aliases of joined collections (stored under that field)
};

struct Grouping {
  std::vector<std::pair<std::string, std::string>> keys;  // canon -> "$_id" / "$_id.k0"
  std::map<std::string, Value> aggs;                      // canon -> final expression
};

class ExprTranslator {
 public:
  explicit ExprTranslator(Scope scope) : scope_(std::move(scope)) {}

  void set_grouping(const Grouping* g) { grouping_ = g; }
  void set_windows(const std::map<std::string, std::string>* w) { windows_ = w; }
  const Scope& scope() const { return scope_; }

  // The MongoDB dotted path of a column (table qualifier stripped, items[0] -> items.0).
  std::string Path(const std::vector<PathStep>& path) const {
    size_t begin = 0;
    if (path.size() > 1 && !path[1].index) {
      for (const auto& s : scope_.strip) {
        if (path[0].name == s) begin = 1;
      }
    }
    std::string out;
    for (size_t i = begin; i < path.size(); ++i) {
      if (!out.empty()) out += ".";
      out += path[i].index ? std::to_string(*path[i].index) : path[i].name;
    }
    return out;
  }
  // Which joined alias (if any) the column belongs to.
  std::string JoinedAlias(const std::vector<PathStep>& path) const {
    if (path.size() > 1) {
      for (const auto& s : scope_.joined) {
        if (path[0].name == s) return s;
      }
    }
    return "";
  }
  bool HasIndex(const std::vector<PathStep>& path) const {
    for (const auto& s : path) {
      if (s.index) return true;
    }
    return false;
  }

  // A canonical text for structural comparison (GROUP BY keys, repeated aggregates).
  std::string Canon(const Expr& e) const {
    std::string s = std::to_string(static_cast<int>(e.kind)) + "(" + e.op;
    if (e.kind == ExprKind::kColumn) return "col:" + Path(e.path);
    if (e.kind == ExprKind::kLiteral || e.kind == ExprKind::kInterval) {
      Document d;
      d.Append("v", e.literal);
      return "lit:" + bson::ToJson(d, bson::JsonMode::kCanonical);
    }
    if (e.star) s += "*";
    if (e.distinct) s += " distinct";
    if (e.negated) s += " not";
    if (e.insensitive) s += " i";
    for (const auto& k : e.keys) s += " k:" + k;
    for (const auto& a : e.args) s += " " + Canon(*a);
    if (e.operand) s += " op:" + Canon(*e.operand);
    for (const auto& [w, t] : e.whens) s += " when:" + Canon(*w) + ":" + Canon(*t);
    if (e.else_expr) s += " else:" + Canon(*e.else_expr);
    if (e.filter) s += " filter:" + Canon(*e.filter);
    if (e.over) s += " over:" + e.text;
    return s + ")";
  }

  // ---- aggregation expressions ----

  Result<Value> Agg(const Expr& e) {
    if (grouping_) {
      std::string c = Canon(e);
      for (const auto& [k, ref] : grouping_->keys) {
        if (k == c) return Value(ref);
      }
      if (IsAggregateCall(e)) {
        auto it = grouping_->aggs.find(c);
        if (it != grouping_->aggs.end()) return it->second;
      }
    }
    if (e.kind == ExprKind::kFunction && e.over) {
      if (windows_) {
        auto it = windows_->find(Canon(e));
        if (it != windows_->end()) return Value(it->second);
      }
      return Unsupported(e.pos, "window function " + e.op + " here (only in the SELECT list)");
    }
    if (IsAggregateCall(e)) {
      return BadValue(e.pos, "aggregate function " + e.op +
                                 " is not allowed here (only in SELECT, HAVING or ORDER BY of "
                                 "a query that aggregates)");
    }
    switch (e.kind) {
      case ExprKind::kLiteral:
        return LiteralExpr(e.literal);
      case ExprKind::kInterval:
        return e.literal;
      case ExprKind::kCurrentTime:
        if (e.op == "CURRENT_DATE") {
          Document d;
          d.Append("date", Value("$$NOW"));
          d.Append("unit", Value("day"));
          return Op("$dateTrunc", Value(std::move(d)));
        }
        return Value("$$NOW");
      case ExprKind::kColumn:
        return Column(e);
      case ExprKind::kUnary: {
        EDDY_ASSIGN_OR_RETURN(Value a, Agg(*e.args[0]));
        if (e.op == "NOT") return Op("$not", Value(Array{std::move(a)}));
        if (e.op == "-") return Op2("$subtract", Value(int32_t{0}), std::move(a));
        return a;
      }
      case ExprKind::kBinary:
        return Binary(e);
      case ExprKind::kFunction:
        return Function(e);
      case ExprKind::kCase: {
        Array branches;
        Value operand;
        if (e.operand) {
          EDDY_ASSIGN_OR_RETURN(operand, Agg(*e.operand));
        }
        for (const auto& [w, t] : e.whens) {
          Value cond;
          if (e.operand) {
            EDDY_ASSIGN_OR_RETURN(Value v, Agg(*w));
            cond = Op2("$eq", operand, std::move(v));
          } else {
            EDDY_ASSIGN_OR_RETURN(cond, Agg(*w));
          }
          EDDY_ASSIGN_OR_RETURN(Value then, Agg(*t));
          Document b;
          b.Append("case", std::move(cond));
          b.Append("then", std::move(then));
          branches.push_back(Value(std::move(b)));
        }
        Value def;
        if (e.else_expr) {
          EDDY_ASSIGN_OR_RETURN(def, Agg(*e.else_expr));
        }
        Document sw;
        sw.Append("branches", Value(std::move(branches)));
        sw.Append("default", std::move(def));
        return Op("$switch", Value(std::move(sw)));
      }
      case ExprKind::kIn: {
        EDDY_ASSIGN_OR_RETURN(Value x, Agg(*e.args[0]));
        Array list;
        bool has_null = false;
        bool all_const = true;
        for (size_t i = 1; i < e.args.size(); ++i) {
          auto c = ConstValue(*e.args[i]);
          if (c && c->is_null()) {
            has_null = true;
            continue;
          }
          if (!c) all_const = false;
          EDDY_ASSIGN_OR_RETURN(Value v, Agg(*e.args[i]));
          list.push_back(std::move(v));
        }
        if (e.negated && has_null) return Value();  // x NOT IN (..., NULL) is never true
        Value in = Op2("$in", x, all_const ? Value(std::move(list)) : Value(std::move(list)));
        if (e.negated) {
          return Op("$and", Value(Array{Op("$not", Value(Array{in})), NotNull(x)}));
        }
        return in;
      }
      case ExprKind::kBetween: {
        EDDY_ASSIGN_OR_RETURN(Value x, Agg(*e.args[0]));
        EDDY_ASSIGN_OR_RETURN(Value lo, Agg(*e.args[1]));
        EDDY_ASSIGN_OR_RETURN(Value hi, Agg(*e.args[2]));
        if (e.negated) {
          return Op("$or", Value(Array{Op2("$lt", x, lo), Op2("$gt", x, hi)}));
        }
        return Op("$and", Value(Array{Op2("$gte", x, lo), Op2("$lte", x, hi)}));
      }
      case ExprKind::kLike: {
        auto pat = ConstValue(*e.args[1]);
        if (!pat || !pat->is_string()) {
          return Unsupported(e.args[1]->pos, "LIKE with a pattern that is not a string constant");
        }
        EDDY_ASSIGN_OR_RETURN(std::string re, LikeToRegex(pat->as_string(), e.escape, e.args[1]->pos));
        EDDY_ASSIGN_OR_RETURN(Value x, Agg(*e.args[0]));
        Document m;
        m.Append("input", x);
        m.Append("regex", Value(re));
        m.Append("options", Value(e.insensitive ? "is" : "s"));
        Value match = Op("$regexMatch", Value(std::move(m)));
        if (e.negated) return Op("$and", Value(Array{Op("$not", Value(Array{match})), NotNull(x)}));
        return match;
      }
      case ExprKind::kIsNull: {
        EDDY_ASSIGN_OR_RETURN(Value x, Agg(*e.args[0]));
        return e.negated ? NotNull(x) : IsNull(x);
      }
      case ExprKind::kExists: {
        EDDY_ASSIGN_OR_RETURN(Value x, Agg(*e.args[0]));
        return Op2(e.negated ? "$eq" : "$ne", Op("$type", x), Value("missing"));
      }
      case ExprKind::kCast:
        return Cast(e);
      case ExprKind::kObject: {
        if (auto c = ConstValue(e)) return Op("$literal", *c);
        Document d;
        for (size_t i = 0; i < e.keys.size(); ++i) {
          if (!e.keys[i].empty() && e.keys[i][0] == '$') {
            return BadValue(e.pos, "object keys starting with '$' (" + e.keys[i] +
                                       ") are not allowed in computed objects");
          }
          EDDY_ASSIGN_OR_RETURN(Value v, Agg(*e.args[i]));
          d.Append(e.keys[i], std::move(v));
        }
        return Value(std::move(d));
      }
      case ExprKind::kArray: {
        if (auto c = ConstValue(e)) return Op("$literal", *c);
        Array a;
        for (const auto& x : e.args) {
          EDDY_ASSIGN_OR_RETURN(Value v, Agg(*x));
          a.push_back(std::move(v));
        }
        return Value(std::move(a));
      }
    }
    return BadValue(e.pos, "cannot translate expression " + e.text);
  }

  static Value IsNull(const Value& x) {
    return Op2("$in", Op("$type", x), Value(Array{Value("missing"), Value("null"), Value("undefined")}));
  }
  static Value NotNull(const Value& x) { return Op("$not", Value(Array{IsNull(x)})); }

  Result<Value> Column(const Expr& e) {
    if (grouping_) {
      return BadValue(e.pos, "column '" + PathToString(e.path) +
                                 "' must appear in GROUP BY or be used in an aggregate function");
    }
    if (!HasIndex(e.path)) return Value("$" + Path(e.path));
    // items[0].x: $arrayElemAt for each index step, $let to walk on ($items.0.x would not index).
    Value cur;
    std::string pending;  // field path accumulated since the last index
    bool have = false;
    size_t begin = Path(e.path).empty() ? 0 : 0;
    std::vector<PathStep> steps = e.path;
    // Strip the qualifier the same way Path() does.
    if (steps.size() > 1 && !steps[1].index) {
      for (const auto& s : scope_.strip) {
        if (steps[0].name == s) {
          steps.erase(steps.begin());
          break;
        }
      }
    }
    (void)begin;
    int var = 0;
    for (const auto& step : steps) {
      if (step.index) {
        Value arr;
        if (!have) {
          arr = Value("$" + pending);
        } else if (pending.empty()) {
          arr = cur;
        } else {
          arr = Walk(cur, pending, var++);
        }
        cur = Op2("$arrayElemAt", std::move(arr), Int(*step.index));
        have = true;
        pending.clear();
      } else {
        if (!pending.empty()) pending += ".";
        pending += step.name;
      }
    }
    if (!pending.empty()) cur = Walk(cur, pending, var);
    return cur;
  }
  // {$let: {vars: {e: value}, in: "$$e.path"}}
  static Value Walk(Value v, const std::string& path, int var) {
    std::string name = "e" + std::to_string(var);
    Document let;
    let.Append("vars", Value(Doc1(name, std::move(v))));
    let.Append("in", Value("$$" + name + "." + path));
    return Op("$let", Value(std::move(let)));
  }

  Result<Value> Binary(const Expr& e) {
    const std::string& op = e.op;
    if (op == "AND" || op == "OR") {
      Array parts;
      EDDY_RETURN_IF_ERROR(Flatten(e, op, &parts));
      return Op(op == "AND" ? "$and" : "$or", Value(std::move(parts)));
    }
    EDDY_ASSIGN_OR_RETURN(Value a, Agg(*e.args[0]));
    EDDY_ASSIGN_OR_RETURN(Value b, Agg(*e.args[1]));
    static const std::map<std::string, std::string> kOps = {
        {"+", "$add"},  {"-", "$subtract"}, {"*", "$multiply"}, {"/", "$divide"},
        {"%", "$mod"},  {"=", "$eq"},       {"<>", "$ne"},      {"<", "$lt"},
        {"<=", "$lte"}, {">", "$gt"},       {">=", "$gte"},     {"||", "$concat"}};
    auto it = kOps.find(op);
    if (it == kOps.end()) return BadValue(e.pos, "unknown operator " + op);
    bool comparison = op == "=" || op == "<>" || op[0] == '<' || op[0] == '>';
    if (comparison && (IsNullLiteral(*e.args[0]) || IsNullLiteral(*e.args[1]))) {
      return Value();  // SQL: a comparison with NULL is unknown (use IS [NOT] NULL)
    }
    if (op == "*" && a.is_number() && !b.is_number()) std::swap(a, b);
    return Op2(it->second, std::move(a), std::move(b));
  }

  static bool IsNullLiteral(const Expr& e) {
    return e.kind == ExprKind::kLiteral && e.literal.is_null();
  }

  Status Flatten(const Expr& e, const std::string& op, Array* out) {
    if (e.kind == ExprKind::kBinary && e.op == op) {
      EDDY_RETURN_IF_ERROR(Flatten(*e.args[0], op, out));
      return Flatten(*e.args[1], op, out);
    }
    EDDY_ASSIGN_OR_RETURN(Value v, Agg(e));
    out->push_back(std::move(v));
    return Status::OK();
  }

  Result<Value> Cast(const Expr& e) {
    EDDY_ASSIGN_OR_RETURN(Value x, Agg(*e.args[0]));
    static const std::map<std::string, std::string> kTypes = {
        {"INT", "$toInt"},         {"INTEGER", "$toInt"},      {"SMALLINT", "$toInt"},
        {"INT4", "$toInt"},        {"BIGINT", "$toLong"},      {"INT8", "$toLong"},
        {"LONG", "$toLong"},       {"FLOAT", "$toDouble"},     {"FLOAT8", "$toDouble"},
        {"DOUBLE", "$toDouble"},   {"REAL", "$toDouble"},      {"DECIMAL", "$toDecimal"},
        {"NUMERIC", "$toDecimal"}, {"TEXT", "$toString"},      {"VARCHAR", "$toString"},
        {"CHAR", "$toString"},     {"STRING", "$toString"},    {"BOOLEAN", "$toBool"},
        {"BOOL", "$toBool"},       {"DATE", "$toDate"},        {"TIMESTAMP", "$toDate"},
        {"TIMESTAMPTZ", "$toDate"}, {"OBJECTID", "$toObjectId"}};
    auto it = kTypes.find(e.op);
    if (it == kTypes.end()) return Unsupported(e.pos, "CAST to " + e.op);
    if (e.op == "DATE") {
      Document d;
      d.Append("date", Op(it->second, x));
      d.Append("unit", Value("day"));
      return Op("$dateTrunc", Value(std::move(d)));
    }
    return Op(it->second, std::move(x));
  }

  Result<Array> Args(const Expr& e) {
    Array out;
    for (const auto& a : e.args) {
      EDDY_ASSIGN_OR_RETURN(Value v, Agg(*a));
      out.push_back(std::move(v));
    }
    return out;
  }

  Status Arity(const Expr& e, size_t lo, size_t hi) {
    if (e.args.size() < lo || e.args.size() > hi || e.star || e.distinct) {
      std::string want = lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi);
      return BadValue(e.pos, "function " + e.op + " takes " + want + " argument(s), got " +
                                 (e.star ? std::string("*") : std::to_string(e.args.size())));
    }
    if (e.filter) return BadValue(e.pos, "FILTER is only allowed on aggregate functions, not " + e.op);
    return Status::OK();
  }

  Result<Value> Function(const Expr& e) {
    const std::string& f = e.op;
    if (IsWindowOnlyName(f)) return BadValue(e.pos, "window function " + f + " requires OVER (...)");
    if (f == "INITCAP" || f == "TITLE_CASE") {
      // Each space-separated word: first character upper case, the rest lower case.
      EDDY_RETURN_IF_ERROR(Arity(e, 1, 1));
      EDDY_ASSIGN_OR_RETURN(Array a, Args(e));
      Value word("$$w");
      Value cap = Op("$concat", Value(Array{
          Op("$toUpper", Op("$substrCP", Value(Array{word, Int(0), Int(1)}))),
          Op("$toLower", Op("$substrCP", Value(Array{word, Int(1), Op("$strLenCP", word)})))}));
      Document reduce;
      reduce.Append("input", Op2("$split", a[0], Value(" ")));
      reduce.Append("initialValue", Value(""));
      Document let;
      let.Append("vars", Value(Doc1("w", Value("$$this"))));
      let.Append("in", Value(Op("$concat", Value(Array{
          Value("$$value"),
          Op("$cond", Value(Array{Op2("$eq", Value("$$value"), Value("")), Value(""), Value(" ")})),
          cap}))));
      reduce.Append("in", Op("$let", Value(std::move(let))));
      return NullSafe(a[0], Op("$reduce", Value(std::move(reduce))));
    }
    if (f == "UPPER" || f == "LOWER") {
      EDDY_RETURN_IF_ERROR(Arity(e, 1, 1));
      EDDY_ASSIGN_OR_RETURN(Array a, Args(e));
      return NullSafe(a[0], Op(f == "UPPER" ? "$toUpper" : "$toLower", a[0]));  // NULL stays NULL
    }
    if (f == "CONCAT") {
      EDDY_RETURN_IF_ERROR(Arity(e, 1, 1000));
      // PostgreSQL's CONCAT: NULL arguments are skipped, non-strings are converted to text.
      Array parts;
      for (const auto& arg : e.args) {
        auto c = ConstValue(*arg);
        if (c && c->is_string()) {
          parts.push_back(LiteralExpr(*c));
          continue;
        }
        if (c && c->is_null()) continue;
        EDDY_ASSIGN_OR_RETURN(Value v, Agg(*arg));
        parts.push_back(Op2("$ifNull", Op("$toString", std::move(v)), Value("")));
      }
      return Op("$concat", Value(std::move(parts)));
    }
    if (f == "COALESCE") {
      EDDY_RETURN_IF_ERROR(Arity(e, 1, 1000));
      EDDY_ASSIGN_OR_RETURN(Array a, Args(e));
      Value acc = a.back();
      for (size_t i = a.size() - 1; i-- > 0;) acc = Op2("$ifNull", a[i], std::move(acc));
      return acc;
    }
    if (f == "NULLIF") {
      EDDY_RETURN_IF_ERROR(Arity(e, 2, 2));
      EDDY_ASSIGN_OR_RETURN(Array a, Args(e));
      return Op("$cond", Value(Array{Op2("$eq", a[0], a[1]), Value(), a[0]}));
    }
    if (f == "GREATEST" || f == "LEAST") {
      EDDY_RETURN_IF_ERROR(Arity(e, 1, 1000));
      EDDY_ASSIGN_OR_RETURN(Array a, Args(e));
      return Op(f == "GREATEST" ? "$max" : "$min", Value(std::move(a)));
    }
    if (f == "LENGTH" || f == "CHAR_LENGTH" || f == "CHARACTER_LENGTH") {
      EDDY_RETURN_IF_ERROR(Arity(e, 1, 1));
      EDDY_ASSIGN_OR_RETURN(Array a, Args(e));
      return NullSafe(a[0], Op("$strLenCP", a[0]));
    }
    if (f == "SUBSTRING" || f == "SUBSTR") {
      EDDY_RETURN_IF_ERROR(Arity(e, 2, 3));
      EDDY_ASSIGN_OR_RETURN(Array a, Args(e));
      Value start = Op2("$subtract", a[1], Value(int32_t{1}));
      Value len = a.size() == 3 ? a[2] : Value(int32_t{INT32_MAX});
      return Op("$substrCP", Value(Array{a[0], start, len}));
    }
    if (f == "TRIM" || f == "LTRIM" || f == "RTRIM") {
      EDDY_RETURN_IF_ERROR(Arity(e, 1, 1));
      EDDY_ASSIGN_OR_RETURN(Array a, Args(e));
      return Op(f == "TRIM" ? "$trim" : f == "LTRIM" ? "$ltrim" : "$rtrim",
                Value(Doc1("input", a[0])));
    }
    if (f == "ABS" || f == "FLOOR" || f == "CEIL" || f == "CEILING" || f == "SQRT" ||
        f == "EXP" || f == "LN") {
      EDDY_RETURN_IF_ERROR(Arity(e, 1, 1));
      EDDY_ASSIGN_OR_RETURN(Array a, Args(e));
      std::string op = f == "CEILING" ? "$ceil" : "$" + Lower(f);
      return Op(op, a[0]);
    }
    if (f == "ROUND" || f == "TRUNC") {
      EDDY_RETURN_IF_ERROR(Arity(e, 1, 2));
      EDDY_ASSIGN_OR_RETURN(Array a, Args(e));
      return Op(f == "ROUND" ? "$round" : "$trunc", Value(std::move(a)));
    }
    if (f == "POWER" || f == "POW" || f == "MOD" || f == "LOG") {
      EDDY_RETURN_IF_ERROR(Arity(e, 2, 2));
      EDDY_ASSIGN_OR_RETURN(Array a, Args(e));
      if (f == "LOG") std::swap(a[0], a[1]);  // LOG(base, x) -> $log [x, base]
      return Op(f == "MOD" ? "$mod" : f == "LOG" ? "$log" : "$pow", Value(std::move(a)));
    }
    if (f == "NOW") {
      EDDY_RETURN_IF_ERROR(Arity(e, 0, 0));
      return Value("$$NOW");
    }
    if (f == "ARRAY_LENGTH" || f == "CARDINALITY") {
      EDDY_RETURN_IF_ERROR(Arity(e, 1, 2));
      if (e.args.size() == 2) {
        auto dim = ConstValue(*e.args[1]);
        if (!dim || !dim->is_number() || dim->ToInt64() != 1) {
          return Unsupported(e.args[1]->pos, "ARRAY_LENGTH of a dimension other than 1");
        }
      }
      EDDY_ASSIGN_OR_RETURN(Value a, Agg(*e.args[0]));
      return Op("$cond", Value(Array{Op("$isArray", Value(Array{a})), Op("$size", a), Value()}));
    }
    if (f == "DATE_TRUNC") {
      EDDY_RETURN_IF_ERROR(Arity(e, 2, 3));
      auto unit = ConstValue(*e.args[0]);
      static const std::set<std::string> kUnits = {"year", "quarter", "month", "week", "day",
                                                   "hour", "minute", "second", "millisecond"};
      if (!unit || !unit->is_string() || !kUnits.count(Lower(unit->as_string()))) {
        return BadValue(e.args[0]->pos,
                        "DATE_TRUNC unit must be one of 'year', 'quarter', 'month', 'week', "
                        "'day', 'hour', 'minute', 'second', 'millisecond'");
      }
      EDDY_ASSIGN_OR_RETURN(Value d, Agg(*e.args[1]));
      Document spec;
      spec.Append("date", std::move(d));
      spec.Append("unit", Value(Lower(unit->as_string())));
      if (e.args.size() == 3) {
        EDDY_ASSIGN_OR_RETURN(Value bin, Agg(*e.args[2]));
        spec.Append("binSize", std::move(bin));
      }
      return Op("$dateTrunc", Value(std::move(spec)));
    }
    if (f == "EXTRACT" || f == "DATE_PART") {
      EDDY_RETURN_IF_ERROR(Arity(e, 2, 2));
      auto part = ConstValue(*e.args[0]);
      if (!part || !part->is_string()) return BadValue(e.pos, f + " needs a constant date part");
      std::string p = part->as_string();
      for (char& c : p) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      EDDY_ASSIGN_OR_RETURN(Value d, Agg(*e.args[1]));
      static const std::map<std::string, std::string> kParts = {
          {"YEAR", "$year"},     {"MONTH", "$month"},   {"DAY", "$dayOfMonth"},
          {"HOUR", "$hour"},     {"MINUTE", "$minute"}, {"SECOND", "$second"},
          {"DOY", "$dayOfYear"}, {"WEEK", "$isoWeek"},  {"ISODOW", "$isoDayOfWeek"},
          {"MILLISECOND", "$millisecond"}, {"ISOYEAR", "$isoWeekYear"}};
      if (p == "DOW") return Op2("$subtract", Op("$dayOfWeek", d), Value(int32_t{1}));
      if (p == "EPOCH") return Op2("$divide", Op("$toLong", d), Value(1000.0));
      if (p == "QUARTER") {
        return Op("$ceil", Op2("$divide", Op("$month", d), Value(int32_t{3})));
      }
      if (p == "DAYS") {  // EXTRACT(DAYS FROM a - b): whole days of a millisecond difference
        return Op("$trunc", Op2("$divide", d, Value(int32_t{86'400'000})));
      }
      auto it = kParts.find(p);
      if (it == kParts.end()) return BadValue(e.args[0]->pos, "unknown date part " + p + " in " + f);
      return Op(it->second, d);
    }
    if (f == "TO_JSON" || f == "TYPEOF") {
      EDDY_RETURN_IF_ERROR(Arity(e, 1, 1));
      EDDY_ASSIGN_OR_RETURN(Array a, Args(e));
      return f == "TYPEOF" ? Op("$type", a[0]) : a[0];
    }
    return BadValue(e.pos, "unknown function " + f);
  }

  static Value NullSafe(const Value& x, Value v) {
    return Op("$cond", Value(Array{IsNull(x), Value(), std::move(v)}));
  }

  // ---- query-language filters ----

  // The filter of a WHERE: query operators where SQL maps onto them, $expr otherwise.
  Result<Document> Filter(const Expr& e) {
    EDDY_ASSIGN_OR_RETURN(auto q, Query(e, false));
    if (q) return std::move(*q);
    EDDY_ASSIGN_OR_RETURN(Value x, Agg(e));
    return Doc1("$expr", std::move(x));
  }

  static Document FalseFilter() { return Doc1("$expr", Value(false)); }

  // Returns nullopt when `e` (negated if `neg`) has no query-language form.
  Result<std::optional<Document>> Query(const Expr& e, bool neg) {
    using R = std::optional<Document>;
    if (grouping_) return R();
    switch (e.kind) {
      case ExprKind::kUnary:
        if (e.op == "NOT") return Query(*e.args[0], !neg);
        return R();
      case ExprKind::kBinary: {
        if (e.op == "AND" || e.op == "OR") {
          bool conj = (e.op == "AND") != neg;  // De Morgan
          std::vector<const Expr*> parts;
          CollectJunction(e, e.op, &parts);
          std::vector<Document> docs;
          std::vector<const Expr*> rest;
          for (const Expr* p : parts) {
            EDDY_ASSIGN_OR_RETURN(auto q, Query(*p, neg));
            if (q) {
              docs.push_back(std::move(*q));
            } else {
              rest.push_back(p);
            }
          }
          if (!conj && !rest.empty()) return R();
          if (!rest.empty()) {
            Array xs;
            for (const Expr* p : rest) {
              EDDY_ASSIGN_OR_RETURN(Value v, Agg(*p));
              xs.push_back(neg ? Op("$not", Value(Array{std::move(v)})) : std::move(v));
            }
            docs.push_back(Doc1("$expr", xs.size() == 1 ? xs[0] : Op("$and", Value(std::move(xs)))));
          }
          if (!conj) {
            Array ors;
            for (auto& d : docs) ors.push_back(Value(std::move(d)));
            return R(Doc1("$or", Value(std::move(ors))));
          }
          return R(MergeAnd(std::move(docs)));
        }
        static const std::set<std::string> kCmp = {"=", "<>", "<", "<=", ">", ">="};
        if (!kCmp.count(e.op)) return R();
        const Expr* col = e.args[0].get();
        const Expr* val = e.args[1].get();
        std::string op = e.op;
        if (col->kind != ExprKind::kColumn) {
          std::swap(col, val);
          static const std::map<std::string, std::string> kFlip = {
              {"=", "="}, {"<>", "<>"}, {"<", ">"}, {"<=", ">="}, {">", "<"}, {">=", "<="}};
          op = kFlip.at(op);
        }
        if (col->kind != ExprKind::kColumn) return R();
        auto v = ConstValue(*val);
        if (!v) return R();
        if (v->is_null()) return R(FalseFilter());  // unknown, negated or not
        if (neg) {
          static const std::map<std::string, std::string> kNeg = {
              {"=", "<>"}, {"<>", "="}, {"<", ">="}, {"<=", ">"}, {">", "<="}, {">=", "<"}};
          op = kNeg.at(op);
        }
        std::string path = Path(col->path);
        if (op == "=") {
          if (v->is_document() || v->is_array()) return R(Doc1(path, Value(Doc1("$eq", *v))));
          return R(Doc1(path, *v));
        }
        if (op == "<>") {
          return R(Doc1(path, Value(Doc1("$nin", Value(Array{*v, Value()})))));
        }
        static const std::map<std::string, std::string> kOps = {
            {"<", "$lt"}, {"<=", "$lte"}, {">", "$gt"}, {">=", "$gte"}};
        return R(Doc1(path, Value(Doc1(kOps.at(op), *v))));
      }
      case ExprKind::kIn: {
        if (e.args[0]->kind != ExprKind::kColumn) return R();
        Array list;
        bool has_null = false;
        for (size_t i = 1; i < e.args.size(); ++i) {
          auto v = ConstValue(*e.args[i]);
          if (!v) return R();
          if (v->is_null()) {
            has_null = true;
          } else {
            list.push_back(std::move(*v));
          }
        }
        bool negated = e.negated != neg;
        std::string path = Path(e.args[0]->path);
        if (negated) {
          if (has_null) return R(FalseFilter());
          list.push_back(Value());
          return R(Doc1(path, Value(Doc1("$nin", Value(std::move(list))))));
        }
        return R(Doc1(path, Value(Doc1("$in", Value(std::move(list))))));
      }
      case ExprKind::kBetween: {
        if (e.args[0]->kind != ExprKind::kColumn) return R();
        auto lo = ConstValue(*e.args[1]);
        auto hi = ConstValue(*e.args[2]);
        if (!lo || !hi) return R();
        std::string path = Path(e.args[0]->path);
        if (lo->is_null() || hi->is_null()) return R(FalseFilter());
        if (e.negated != neg) {
          return R(Doc1("$or", Value(Array{Value(Doc1(path, Value(Doc1("$lt", *lo)))),
                                           Value(Doc1(path, Value(Doc1("$gt", *hi))))})));
        }
        Document range;
        range.Append("$gte", *lo);
        range.Append("$lte", *hi);
        return R(Doc1(path, Value(std::move(range))));
      }
      case ExprKind::kLike: {
        if (e.args[0]->kind != ExprKind::kColumn) return R();
        auto pat = ConstValue(*e.args[1]);
        if (!pat || !pat->is_string()) return R();
        EDDY_ASSIGN_OR_RETURN(std::string re, LikeToRegex(pat->as_string(), e.escape, e.args[1]->pos));
        Document rx;
        rx.Append("$regex", Value(re));
        rx.Append("$options", Value(e.insensitive ? "is" : "s"));
        std::string path = Path(e.args[0]->path);
        if (e.negated != neg) {
          Document d;
          d.Append("$not", Value(std::move(rx)));
          d.Append("$ne", Value());
          return R(Doc1(path, Value(std::move(d))));
        }
        return R(Doc1(path, Value(std::move(rx))));
      }
      case ExprKind::kIsNull: {
        if (e.args[0]->kind != ExprKind::kColumn) return R();
        std::string path = Path(e.args[0]->path);
        if (e.negated != neg) return R(Doc1(path, Value(Doc1("$ne", Value()))));
        return R(Doc1(path, Value()));
      }
      case ExprKind::kExists: {
        if (e.args[0]->kind != ExprKind::kColumn) return R();
        return R(Doc1(Path(e.args[0]->path), Value(Doc1("$exists", Value(e.negated == neg)))));
      }
      case ExprKind::kColumn:  // WHERE flag
        return R(Doc1(Path(e.path), Value(!neg)));
      case ExprKind::kLiteral:
        if (e.literal.is_bool()) {
          return R(e.literal.as_bool() != neg ? Document() : FalseFilter());
        }
        if (e.literal.is_null()) return R(FalseFilter());
        return R();
      default:
        return R();
    }
  }

  static void CollectJunction(const Expr& e, const std::string& op, std::vector<const Expr*>* out) {
    if (e.kind == ExprKind::kBinary && e.op == op) {
      CollectJunction(*e.args[0], op, out);
      CollectJunction(*e.args[1], op, out);
    } else {
      out->push_back(&e);
    }
  }

  // {a: 1} AND {b: 2} -> {a: 1, b: 2} when no field repeats; {$and: [...]} otherwise.
  static Document MergeAnd(std::vector<Document> docs) {
    if (docs.size() == 1) return std::move(docs[0]);
    // {a: {$gt: 1}} AND {a: {$lt: 5}} -> {a: {$gt: 1, $lt: 5}} when the operators differ.
    auto operators_only = [](const Value& v) {
      if (!v.is_document() || v.as_document().empty()) return false;
      for (const auto& f : v.as_document()) {
        if (f.name.empty() || f.name[0] != '$') return false;
      }
      return true;
    };
    std::vector<Document> merged;
    for (auto& d : docs) {
      bool done = false;
      if (d.size() == 1 && d.at(0).name[0] != '$' && operators_only(d.at(0).value)) {
        for (auto& m : merged) {
          Value* prev = m.size() == 1 ? m.GetMutable(d.at(0).name) : nullptr;
          if (!prev || !operators_only(*prev)) continue;
          bool overlap = false;
          for (const auto& f : d.at(0).value.as_document()) overlap = overlap || prev->as_document().Has(f.name);
          if (overlap) continue;
          for (const auto& f : d.at(0).value.as_document()) prev->as_document().Append(f.name, f.value);
          done = true;
          break;
        }
      }
      if (!done) merged.push_back(std::move(d));
    }
    docs = std::move(merged);
    if (docs.size() == 1) return std::move(docs[0]);
    std::set<std::string> seen;
    bool clash = false;
    for (const auto& d : docs) {
      for (const auto& f : d) {
        if (!seen.insert(f.name).second) clash = true;
      }
    }
    if (!clash) {
      Document out;
      for (auto& d : docs) {
        for (auto& f : d.mutable_fields()) out.Append(std::move(f.name), std::move(f.value));
      }
      return out;
    }
    Array parts;
    for (auto& d : docs) parts.push_back(Value(std::move(d)));
    return Doc1("$and", Value(std::move(parts)));
  }

 private:
  Scope scope_;
  const Grouping* grouping_ = nullptr;
  const std::map<std::string, std::string>* windows_ = nullptr;
};

// ---- SELECT planning ----

void CollectAggregates(const Expr& e, std::vector<const Expr*>* out) {
  if (IsAggregateCall(e)) {
    out->push_back(&e);
    return;
  }
  for (const auto& a : e.args) CollectAggregates(*a, out);
  if (e.operand) CollectAggregates(*e.operand, out);
  for (const auto& [w, t] : e.whens) {
    CollectAggregates(*w, out);
    CollectAggregates(*t, out);
  }
  if (e.else_expr) CollectAggregates(*e.else_expr, out);
  if (e.over) {
    for (const auto& p : e.over->partition_by) CollectAggregates(*p, out);
    for (const auto& [o, d] : e.over->order_by) CollectAggregates(*o, out);
  }
}

void CollectWindows(const Expr& e, std::vector<const Expr*>* out) {
  if (e.kind == ExprKind::kFunction && e.over) {
    out->push_back(&e);
    return;
  }
  for (const auto& a : e.args) CollectWindows(*a, out);
  if (e.operand) CollectWindows(*e.operand, out);
  for (const auto& [w, t] : e.whens) {
    CollectWindows(*w, out);
    CollectWindows(*t, out);
  }
  if (e.else_expr) CollectWindows(*e.else_expr, out);
}

// Columns referenced by an expression (for WHERE pushdown below joins).
void CollectColumns(const Expr& e, std::vector<const Expr*>* out) {
  if (e.kind == ExprKind::kColumn) out->push_back(&e);
  for (const auto& a : e.args) CollectColumns(*a, out);
  if (e.operand) CollectColumns(*e.operand, out);
  for (const auto& [w, t] : e.whens) {
    CollectColumns(*w, out);
    CollectColumns(*t, out);
  }
  if (e.else_expr) CollectColumns(*e.else_expr, out);
  if (e.filter) CollectColumns(*e.filter, out);
}

std::string DefaultName(const Expr& e) {
  if (e.kind == ExprKind::kColumn) {
    for (size_t i = e.path.size(); i-- > 0;) {
      if (!e.path[i].index) return e.path[i].name;
    }
  }
  if (e.kind == ExprKind::kFunction) return Lower(e.op);
  if (e.kind == ExprKind::kCast && !e.args.empty()) return DefaultName(*e.args[0]);
  if (e.kind == ExprKind::kCase) return "case";
  if (e.kind == ExprKind::kCurrentTime) return Lower(e.op);
  return "?column?";
}

struct SelectPlan {
  std::string database;
  std::string collection;
  bool changes = false;
  bool all_collections = false;
  bool can_find = true;
  Document find_filter;
  Document find_projection;
  Document find_sort;
  std::optional<int64_t> skip, limit;
  Array pipeline;  // full pipeline (always built)
  std::vector<std::string> columns;  // empty for SELECT *
  bool star = false;
};

class SelectPlanner {
 public:
  SelectPlanner(const TranslateOptions& opts) : opts_(opts) {}

  Result<SelectPlan> Plan(const Select& sel) {
    SelectPlan plan;
    if (!sel.from) {
      return Unsupported({1, 1}, "SELECT without FROM");
    }
    const TableRef& from = *sel.from;
    Scope scope;
    if (from.subquery) {
      if (from.subquery->from && from.subquery->from->changes) {
        return Unsupported(from.pos, "a subquery over CHANGES()");
      }
      SelectPlanner inner(opts_);
      EDDY_ASSIGN_OR_RETURN(SelectPlan sub, inner.Plan(*from.subquery));
      plan.database = sub.database;
      plan.collection = sub.collection;
      plan.pipeline = std::move(sub.pipeline);
      plan.can_find = false;
      scope.strip.push_back(from.alias);
    } else {
      plan.database = from.database.empty() ? opts_.database : from.database;
      plan.collection = from.name;
      plan.changes = from.changes;
      plan.all_collections = from.all_collections;
      scope.strip.push_back(from.alias.empty() ? from.name : from.alias);
      if (!from.alias.empty() && !from.name.empty()) scope.strip.push_back(from.name);
    }
    for (const auto& j : sel.joins) {
      std::string alias = j.table.alias.empty() ? j.table.name : j.table.alias;
      if (j.table.subquery) return Unsupported(j.table.pos, "JOIN with a subquery");
      for (const auto& s : scope.strip) {
        if (s == alias) return BadValue(j.table.pos, "table name \"" + alias + "\" specified more than once");
      }
      scope.joined.push_back(alias);
    }
    if (plan.changes) return PlanChanges(sel, scope, std::move(plan));

    ExprTranslator tx(scope);
    Array& pipe = plan.pipeline;

    // WHERE conjuncts over the FROM source alone run before the joins.
    std::vector<const Expr*> where_parts;
    if (sel.where) ExprTranslator::CollectJunction(*sel.where, "AND", &where_parts);
    std::vector<const Expr*> early, late;
    for (const Expr* p : where_parts) {
      std::vector<const Expr*> cols;
      CollectColumns(*p, &cols);
      bool joined = false;
      for (const Expr* c : cols) joined = joined || !tx.JoinedAlias(c->path).empty();
      (joined ? late : early).push_back(p);
    }
    for (const Expr* p : where_parts) {
      std::vector<const Expr*> aggs;
      CollectAggregates(*p, &aggs);
      if (!aggs.empty()) {
        return BadValue(aggs[0]->pos, "aggregate functions are not allowed in WHERE (use HAVING)");
      }
      std::vector<const Expr*> wins;
      CollectWindows(*p, &wins);
      if (!wins.empty()) return BadValue(wins[0]->pos, "window functions are not allowed in WHERE");
    }
    EDDY_ASSIGN_OR_RETURN(Document early_filter, FilterOf(tx, early));
    if (!early_filter.empty()) {
      plan.find_filter = early_filter;
      pipe.push_back(Value(Doc1("$match", Value(std::move(early_filter)))));
    }
    for (size_t i = 0; i < sel.joins.size(); ++i) {
      EDDY_RETURN_IF_ERROR(PlanJoin(sel.joins[i], scope, i, &pipe));
      plan.can_find = false;
    }
    EDDY_ASSIGN_OR_RETURN(Document late_filter, FilterOf(tx, late));
    if (!late_filter.empty()) pipe.push_back(Value(Doc1("$match", Value(std::move(late_filter)))));

    // Output names.
    std::vector<std::string> names;
    std::set<std::string> used;
    bool star = false;
    for (const auto& item : sel.items) {
      if (item.star) {
        star = true;
        names.push_back("");
        continue;
      }
      std::string name = item.alias;
      if (!name.empty() && (name.find('.') != std::string::npos || name[0] == '$')) {
        return BadValue(item.expr->pos, "column alias \"" + name +
                                            "\" must not contain '.' or start with '$'");
      }
      if (name.empty()) {
        name = DefaultName(*item.expr);
        std::string base = name;
        for (int k = 1; used.count(name); ++k) name = base + "_" + std::to_string(k);
      } else if (used.count(name)) {
        return BadValue(item.expr->pos, "column name \"" + name + "\" is used twice in the SELECT list");
      }
      used.insert(name);
      names.push_back(name);
    }
    plan.star = star;

    // Aggregation.
    std::vector<const Expr*> aggs;
    for (const auto& item : sel.items) {
      if (item.expr) CollectAggregates(*item.expr, &aggs);
    }
    if (sel.having) CollectAggregates(*sel.having, &aggs);
    for (const auto& o : sel.order_by) CollectAggregates(*o.expr, &aggs);
    bool grouped = !sel.group_by.empty() || !aggs.empty();
    if (sel.having && !grouped) {
      return BadValue(sel.having->pos, "HAVING needs GROUP BY or an aggregate function");
    }
    Grouping grouping;
    if (grouped) {
      plan.can_find = false;
      if (star) return BadValue({1, 1}, "SELECT * cannot be combined with GROUP BY or aggregates");
      Document group;
      // GROUP BY 1 / GROUP BY alias refer to the SELECT list.
      std::vector<const Expr*> keys;
      for (const auto& g : sel.group_by) {
        const Expr* k = g.get();
        if (auto c = ConstValue(*k); c && c->is_number()) {
          int64_t n = c->ToInt64();
          if (n < 1 || n > static_cast<int64_t>(sel.items.size()) || !sel.items[n - 1].expr) {
            return BadValue(k->pos, "GROUP BY position " + std::to_string(n) + " is not in the select list");
          }
          k = sel.items[n - 1].expr.get();
        } else if (k->kind == ExprKind::kColumn && k->path.size() == 1) {
          for (size_t i = 0; i < sel.items.size(); ++i) {
            if (sel.items[i].expr && !sel.items[i].alias.empty() && sel.items[i].alias == k->path[0].name) {
              k = sel.items[i].expr.get();
            }
          }
        }
        std::vector<const Expr*> inner;
        CollectAggregates(*k, &inner);
        if (!inner.empty()) return BadValue(k->pos, "aggregate functions are not allowed in GROUP BY");
        keys.push_back(k);
      }
      if (keys.empty()) {
        group.Append("_id", Value());
      } else if (keys.size() == 1) {
        EDDY_ASSIGN_OR_RETURN(Value v, tx.Agg(*keys[0]));
        group.Append("_id", std::move(v));
        grouping.keys.emplace_back(tx.Canon(*keys[0]), "$_id");
      } else {
        Document id;
        for (size_t i = 0; i < keys.size(); ++i) {
          EDDY_ASSIGN_OR_RETURN(Value v, tx.Agg(*keys[i]));
          std::string k = "k" + std::to_string(i);
          id.Append(k, std::move(v));
          grouping.keys.emplace_back(tx.Canon(*keys[i]), "$_id." + k);
        }
        group.Append("_id", Value(std::move(id)));
      }
      int n = 0;
      for (const Expr* a : aggs) {
        std::string canon = tx.Canon(*a);
        if (grouping.aggs.count(canon)) continue;
        std::string field = "__agg" + std::to_string(n++);
        EDDY_ASSIGN_OR_RETURN(Value acc, Accumulator(tx, *a));
        group.Append(field, std::move(acc));
        Value ref("$" + field);
        if (a->op == "COUNT" && a->distinct) {
          Document flt;
          flt.Append("input", ref);
          flt.Append("cond", ExprTranslator::NotNull(Value("$$this")));
          ref = Op("$size", Op("$filter", Value(std::move(flt))));
        }
        grouping.aggs[canon] = ref;
      }
      pipe.push_back(Value(Doc1("$group", Value(std::move(group)))));
      tx.set_grouping(&grouping);
      if (sel.having) {
        EDDY_ASSIGN_OR_RETURN(Value h, tx.Agg(*sel.having));
        pipe.push_back(Value(Doc1("$match", Value(Doc1("$expr", std::move(h))))));
      }
    }

    // Window functions.
    std::vector<const Expr*> wins;
    for (const auto& item : sel.items) {
      if (item.expr) CollectWindows(*item.expr, &wins);
    }
    for (const auto& o : sel.order_by) CollectWindows(*o.expr, &wins);
    std::map<std::string, std::string> window_fields;
    if (!wins.empty()) {
      plan.can_find = false;
      EDDY_RETURN_IF_ERROR(PlanWindows(sel, tx, wins, &window_fields, &pipe));
      tx.set_windows(&window_fields);
    }

    // ORDER BY keys: an output column (alias, position or the same expression), a source column
    // (sorted before the projection when nothing reshapes rows before it), or a hidden field.
    struct SortKey {
      std::string field;
      int dir;
      const Expr* source = nullptr;  // set when the key is an expression over the input
    };
    std::vector<SortKey> sort_keys;
    bool sort_early = !grouped && wins.empty() && !sel.distinct;
    for (const auto& o : sel.order_by) {
      SortKey key{"", o.descending ? -1 : 1};
      const Expr& e = *o.expr;
      if (auto c = ConstValue(e); c && c->is_number()) {
        int64_t n = c->ToInt64();
        if (n < 1 || n > static_cast<int64_t>(sel.items.size()) || sel.items[n - 1].star) {
          return BadValue(e.pos, "ORDER BY position " + std::to_string(n) + " is not in the select list");
        }
        key.field = names[n - 1];
        key.source = sel.items[n - 1].expr.get();
      } else {
        if (e.kind == ExprKind::kColumn && e.path.size() == 1) {
          for (size_t i = 0; i < names.size(); ++i) {
            if (!sel.items[i].star && names[i] == e.path[0].name &&
                (!sel.items[i].alias.empty() || sel.items[i].expr->kind == ExprKind::kColumn)) {
              key.field = names[i];
              key.source = sel.items[i].expr.get();
            }
          }
        }
        if (key.field.empty()) {
          std::string canon = tx.Canon(e);
          for (size_t i = 0; i < names.size(); ++i) {
            if (!sel.items[i].star && tx.Canon(*sel.items[i].expr) == canon) {
              key.field = names[i];
              key.source = sel.items[i].expr.get();
            }
          }
        }
        if (key.field.empty()) {
          if (sel.distinct) {
            return BadValue(e.pos, "for SELECT DISTINCT, ORDER BY expressions must appear in the select list");
          }
          key.source = &e;
        }
      }
      if (!key.source || key.source->kind != ExprKind::kColumn) sort_early = false;
      sort_keys.push_back(std::move(key));
    }
    if (star && !sort_keys.empty()) {
      for (auto& k : sort_keys) {
        if (k.field.empty() && k.source && k.source->kind != ExprKind::kColumn) sort_early = false;
      }
    }

    if (sort_early) {
      Document sort;
      for (const auto& k : sort_keys) sort.Append(tx.Path(k.source->path), Value(int32_t{k.dir}));
      if (!sort.empty()) {
        plan.find_sort = sort;
        pipe.push_back(Value(Doc1("$sort", Value(std::move(sort)))));
      }
      if (sel.offset && *sel.offset > 0) pipe.push_back(Value(Doc1("$skip", Int(*sel.offset))));
      if (sel.limit && *sel.limit > 0) pipe.push_back(Value(Doc1("$limit", Int(*sel.limit))));
    }

    // Projection.
    std::vector<std::string> hidden;
    Document project;
    bool id_selected = false;
    for (size_t i = 0; i < sel.items.size(); ++i) {
      if (sel.items[i].star) continue;
      if (names[i] == "_id") id_selected = true;
    }
    if (!star && !id_selected) project.Append("_id", Value(int32_t{0}));
    for (size_t i = 0; i < sel.items.size(); ++i) {
      const SelectItem& item = sel.items[i];
      if (item.star) continue;
      const Expr& e = *item.expr;
      if (plan.can_find) {
        bool plain = e.kind == ExprKind::kColumn && !tx.HasIndex(e.path);
        if (!plain || star) plan.can_find = false;
      }
      EDDY_ASSIGN_OR_RETURN(Value v, tx.Agg(e));
      if (e.kind == ExprKind::kColumn && !grouped && v.is_string() && v.as_string() == "$" + names[i] && !star) {
        plan.find_projection.Append(names[i], Value(int32_t{1}));
      } else {
        plan.find_projection.Append(names[i], v);
      }
      project.Append(names[i], ProjectionValue(std::move(v)));
    }
    if (!sort_early) {
      for (size_t i = 0; i < sort_keys.size(); ++i) {
        if (!sort_keys[i].field.empty()) continue;
        std::string field = "__sort" + std::to_string(i);
        EDDY_ASSIGN_OR_RETURN(Value v, tx.Agg(*sort_keys[i].source));
        project.Append(field, ProjectionValue(std::move(v)));
        sort_keys[i].field = field;
        hidden.push_back(field);
      }
    }
    if (!star && !id_selected && plan.find_projection.size() > 0) {
      Document fp;
      fp.Append("_id", Value(int32_t{0}));
      for (auto& f : plan.find_projection.mutable_fields()) fp.Append(f.name, f.value);
      plan.find_projection = std::move(fp);
    }
    if (star) {
      project.Remove("_id");
      if (!project.empty()) pipe.push_back(Value(Doc1("$addFields", Value(std::move(project)))));
    } else {
      pipe.push_back(Value(Doc1("$project", Value(std::move(project)))));
    }
    if (sel.distinct) {
      plan.can_find = false;
      pipe.push_back(Value(Doc1("$group", Value(Doc1("_id", Value("$$ROOT"))))));
      pipe.push_back(Value(Doc1("$replaceRoot", Value(Doc1("newRoot", Value("$_id"))))));
    }
    if (!sort_early) {
      if (!sort_keys.empty()) {
        Document sort;
        for (const auto& k : sort_keys) sort.Append(k.field, Value(int32_t{k.dir}));
        pipe.push_back(Value(Doc1("$sort", Value(std::move(sort)))));
      }
      if (!hidden.empty()) {
        Document drop;
        for (const auto& h : hidden) drop.Append(h, Value(int32_t{0}));
        pipe.push_back(Value(Doc1("$project", Value(std::move(drop)))));
      }
      if (sel.offset && *sel.offset > 0) pipe.push_back(Value(Doc1("$skip", Int(*sel.offset))));
      if (sel.limit && *sel.limit > 0) pipe.push_back(Value(Doc1("$limit", Int(*sel.limit))));
    }
    if (sel.limit && *sel.limit == 0) {
      // LIMIT 0: no rows ($limit must be positive; find's limit 0 means "no limit").
      plan.can_find = false;
      pipe.push_back(Value(Doc1("$limit", Value(int32_t{1}))));
      pipe.push_back(Value(Doc1("$match", Value(Doc1("$expr", Value(false))))));
    }
    if (!sort_early && !sort_keys.empty()) plan.can_find = false;
    if (!sel.with.empty()) return BadValue(sel.with[0].pos, "WITH (...) options apply only to FROM CHANGES(...)");
    plan.skip = sel.offset;
    plan.limit = sel.limit;
    if (!late.empty()) plan.can_find = false;
    if (!star) plan.columns = names;
    return plan;
  }

 private:
  Result<Document> FilterOf(ExprTranslator& tx, const std::vector<const Expr*>& parts) {
    std::vector<Document> docs;
    for (const Expr* p : parts) {
      EDDY_ASSIGN_OR_RETURN(Document d, tx.Filter(*p));
      if (!d.empty()) docs.push_back(std::move(d));
    }
    if (docs.empty()) return Document();
    // Several $expr parts merge into one $and.
    return ExprTranslator::MergeAnd(std::move(docs));
  }

  Result<Value> Accumulator(ExprTranslator& tx, const Expr& a) {
    static const std::map<std::string, std::string> kAcc = {
        {"SUM", "$sum"}, {"AVG", "$avg"}, {"MIN", "$min"}, {"MAX", "$max"},
        {"ARRAY_AGG", "$push"}, {"STDDEV_POP", "$stdDevPop"}, {"STDDEV_SAMP", "$stdDevSamp"},
        {"STDDEV", "$stdDevSamp"}};
    Value cond;
    bool has_cond = false;
    if (a.filter) {
      std::vector<const Expr*> nested;
      CollectAggregates(*a.filter, &nested);
      if (!nested.empty()) return BadValue(nested[0]->pos, "aggregate functions cannot be nested");
      EDDY_ASSIGN_OR_RETURN(cond, tx.Agg(*a.filter));
      has_cond = true;
    }
    if (!a.star) {
      if (a.args.size() != 1) {
        return BadValue(a.pos, "aggregate " + a.op + " takes one argument");
      }
      std::vector<const Expr*> nested;
      CollectAggregates(*a.args[0], &nested);
      if (!nested.empty()) return BadValue(nested[0]->pos, "aggregate functions cannot be nested");
    }
    if (a.op == "COUNT") {
      if (a.star) {
        return Op("$sum", has_cond ? Op("$cond", Value(Array{cond, Value(int32_t{1}), Value(int32_t{0})}))
                                   : Value(int32_t{1}));
      }
      EDDY_ASSIGN_OR_RETURN(Value x, tx.Agg(*a.args[0]));
      if (a.distinct) {
        return Op("$addToSet", has_cond ? Op("$cond", Value(Array{cond, x, Value()})) : x);
      }
      Value counted = ExprTranslator::NotNull(x);
      if (has_cond) counted = Op("$and", Value(Array{cond, counted}));
      return Op("$sum", Op("$cond", Value(Array{counted, Value(int32_t{1}), Value(int32_t{0})})));
    }
    if (a.star) return BadValue(a.pos, a.op + "(*) is not valid; only COUNT(*)");
    auto it = kAcc.find(a.op);
    if (a.distinct) return Unsupported(a.pos, a.op + "(DISTINCT ...) (only COUNT(DISTINCT ...))");
    EDDY_ASSIGN_OR_RETURN(Value x, tx.Agg(*a.args[0]));
    if (has_cond) x = Op("$cond", Value(Array{cond, x, Value()}));
    if (a.op == "ARRAY_AGG" && has_cond) {
      return Unsupported(a.pos, "ARRAY_AGG(...) FILTER");
    }
    return Op(it->second, std::move(x));
  }

  Status PlanJoin(const Join& j, const Scope& scope, size_t index, Array* pipe) {
    std::string alias = j.table.alias.empty() ? j.table.name : j.table.alias;
    if (!j.table.database.empty() && j.table.database != opts_.database) {
      // $lookup.from takes {db, coll} only on newer servers; keep to one database.
    }
    // Equality between a column of this join and a column of the rows so far -> localField /
    // foreignField; anything else -> let + pipeline with $expr.
    const Expr& on = *j.on;
    auto side = [&](const Expr& c) -> int {  // 1 = this join, 0 = earlier, -1 = other
      if (c.kind != ExprKind::kColumn) return -1;
      if (c.path.size() > 1 && c.path[0].name == alias) return 1;
      if (c.path.size() > 1) {
        for (size_t k = 0; k < index; ++k) {
          if (c.path[0].name == scope.joined[k]) return 0;
        }
        for (const auto& s : scope.strip) {
          if (c.path[0].name == s) return 0;
        }
        for (size_t k = index + 1; k < scope.joined.size(); ++k) {
          if (c.path[0].name == scope.joined[k]) return -1;
        }
      }
      return 0;  // unqualified: the FROM source
    };
    Document lookup;
    lookup.Append("from", Value(j.table.name));
    ExprTranslator outer(scope);
    if (on.kind == ExprKind::kBinary && on.op == "=" && side(*on.args[0]) >= 0 &&
        side(*on.args[1]) >= 0 && side(*on.args[0]) != side(*on.args[1])) {
      const Expr* mine = side(*on.args[0]) == 1 ? on.args[0].get() : on.args[1].get();
      const Expr* theirs = side(*on.args[0]) == 1 ? on.args[1].get() : on.args[0].get();
      if (outer.HasIndex(mine->path) || outer.HasIndex(theirs->path)) {
        return Unsupported(on.pos, "array indexes in JOIN ... ON");
      }
      std::vector<PathStep> foreign(mine->path.begin() + 1, mine->path.end());
      lookup.Append("localField", Value(outer.Path(theirs->path)));
      lookup.Append("foreignField", Value(PathToString(foreign)));
    } else {
      // let: one variable per outer column; the joined collection's columns are its fields.
      Document let;
      std::vector<const Expr*> cols;
      CollectColumns(on, &cols);
      Scope inner_scope;
      inner_scope.strip.push_back(alias);
      std::map<std::string, std::string> vars;
      for (const Expr* c : cols) {
        int s = side(*c);
        if (s < 0) return BadValue(c->pos, "JOIN ... ON refers to \"" + c->path[0].name + "\", which is joined later");
        if (s == 0) {
          std::string path = outer.Path(c->path);
          if (!vars.count(path)) {
            std::string v = "v" + std::to_string(vars.size());
            vars[path] = v;
            EDDY_ASSIGN_OR_RETURN(Value ref, outer.Agg(*c));
            let.Append(v, std::move(ref));
          }
        }
      }
      EDDY_ASSIGN_OR_RETURN(Value cond, OnExpr(on, alias, vars, outer, side));
      lookup.Append("let", Value(std::move(let)));
      lookup.Append("pipeline", Value(Array{Value(Doc1("$match", Value(Doc1("$expr", std::move(cond)))))}));
    }
    lookup.Append("as", Value(alias));
    pipe->push_back(Value(Doc1("$lookup", Value(std::move(lookup)))));
    Document unwind;
    unwind.Append("path", Value("$" + alias));
    if (j.type == JoinType::kLeft) unwind.Append("preserveNullAndEmptyArrays", Value(true));
    pipe->push_back(Value(Doc1("$unwind", Value(std::move(unwind)))));
    return Status::OK();
  }

  // Translates an ON condition for $lookup's pipeline: outer columns become $$vN.
  template <class Side>
  Result<Value> OnExpr(const Expr& on, const std::string& alias,
                       const std::map<std::string, std::string>& vars, ExprTranslator& outer,
                       Side side) {
    // Rewrite by translating a copy-free walk: columns are handled here, the rest by a
    // translator whose scope strips the joined alias.
    Scope s;
    s.strip.push_back(alias);
    ExprTranslator inner(s);
    Value v;
    EDDY_ASSIGN_OR_RETURN(v, inner.Agg(on));
    // Replace "$<outer path>" references with "$$vN" (outer columns translate to "$path").
    std::vector<const Expr*> cols;
    CollectColumns(on, &cols);
    std::map<std::string, std::string> repl;
    for (const Expr* c : cols) {
      if (side(*c) == 0) {
        std::string inner_ref = "$" + inner.Path(c->path);
        repl[inner_ref] = "$$" + vars.at(outer.Path(c->path));
      }
    }
    Replace(&v, repl);
    return v;
  }

  static void Replace(Value* v, const std::map<std::string, std::string>& repl) {
    if (v->is_string()) {
      auto it = repl.find(v->as_string());
      if (it != repl.end()) *v = Value(it->second);
    } else if (v->is_document()) {
      for (auto& f : v->as_document().mutable_fields()) Replace(&f.value, repl);
    } else if (v->is_array()) {
      for (auto& x : v->as_array()) Replace(&x, repl);
    }
  }

  Status PlanWindows(const Select& sel, ExprTranslator& tx, const std::vector<const Expr*>& wins,
                     std::map<std::string, std::string>* fields, Array* pipe) {
    // Group window calls by (PARTITION BY, ORDER BY): one $setWindowFields per distinct spec.
    struct Group {
      const WindowSpec* spec;
      std::string key;
      Document output;
    };
    std::vector<Group> groups;
    Document finals;
    Document presort;
    int n = 0;
    int sort_fields = 0;
    std::vector<std::pair<std::string, Document>> spec_docs;  // key -> partitionBy/sortBy
    for (const Expr* w : wins) {
      std::string canon = tx.Canon(*w);
      if (fields->count(canon)) continue;
      const WindowSpec* spec = w->over.get();
      if (!spec->name.empty()) {
        spec = nullptr;
        for (const auto& [name, s] : sel.windows) {
          if (name == w->over->name) spec = s.get();
        }
        if (!spec) return BadValue(w->pos, "window \"" + w->over->name + "\" is not defined (WINDOW name AS (...))");
      }
      // partitionBy and sortBy.
      Document head;
      if (!spec->partition_by.empty()) {
        if (spec->partition_by.size() == 1) {
          EDDY_ASSIGN_OR_RETURN(Value p, tx.Agg(*spec->partition_by[0]));
          head.Append("partitionBy", std::move(p));
        } else {
          Document p;
          for (size_t i = 0; i < spec->partition_by.size(); ++i) {
            EDDY_ASSIGN_OR_RETURN(Value v, tx.Agg(*spec->partition_by[i]));
            p.Append("p" + std::to_string(i), std::move(v));
          }
          head.Append("partitionBy", Value(std::move(p)));
        }
      }
      if (!spec->order_by.empty()) {
        Document sort;
        for (const auto& [o, desc] : spec->order_by) {
          EDDY_ASSIGN_OR_RETURN(Value v, tx.Agg(*o));
          std::string field;
          if (v.is_string() && v.as_string().size() > 1 && v.as_string()[0] == '$' &&
              v.as_string()[1] != '$') {
            field = v.as_string().substr(1);
          } else {
            field = "__wsort" + std::to_string(sort_fields++);
            presort.Append(field, ProjectionValue(std::move(v)));
          }
          sort.Append(field, Value(int32_t{desc ? -1 : 1}));
        }
        head.Append("sortBy", Value(std::move(sort)));
      }
      std::string key = bson::ToJson(head, bson::JsonMode::kCanonical);
      Group* g = nullptr;
      for (auto& x : groups) {
        if (x.key == key) g = &x;
      }
      if (!g) {
        groups.push_back({spec, key, Document()});
        spec_docs.emplace_back(key, std::move(head));
        g = &groups.back();
      }
      std::string field = "__win" + std::to_string(n++);
      (*fields)[canon] = "$" + field;
      EDDY_RETURN_IF_ERROR(WindowOutput(tx, *w, *spec, field, &g->output, &finals));
    }
    if (!presort.empty()) pipe->push_back(Value(Doc1("$addFields", Value(std::move(presort)))));
    for (size_t i = 0; i < groups.size(); ++i) {
      Document swf = spec_docs[i].second;
      swf.Append("output", Value(std::move(groups[i].output)));
      pipe->push_back(Value(Doc1("$setWindowFields", Value(std::move(swf)))));
    }
    if (!finals.empty()) pipe->push_back(Value(Doc1("$addFields", Value(std::move(finals)))));
    return Status::OK();
  }

  Status WindowOutput(ExprTranslator& tx, const Expr& w, const WindowSpec& spec,
                      const std::string& field, Document* output, Document* finals) {
    const std::string& f = w.op;
    bool ordered = !spec.order_by.empty();
    auto frame = [&]() -> Result<std::optional<Value>> {
      if (spec.has_frame) {
        auto bound = [](std::optional<int64_t> b) -> Value {
          if (!b) return Value("unbounded");
          if (*b == 0) return Value("current");
          return Int(*b);
        };
        if (spec.range_frame && !ordered) {
          return BadValue(w.pos, "RANGE frames need ORDER BY in the window");
        }
        Value lo = bound(spec.lower);
        Value hi = bound(spec.upper);
        Document win = Doc1(spec.range_frame ? "range" : "documents", Value(Array{lo, hi}));
        if (spec.interval_bounds) win.Append("unit", Value("millisecond"));
        return std::optional<Value>(Value(std::move(win)));
      }
      if (ordered) {
        return std::optional<Value>(Value(Doc1("documents", Value(Array{Value("unbounded"), Value("current")}))));
      }
      return std::optional<Value>();
    };
    auto need_order = [&]() -> Status {
      if (!ordered) return BadValue(w.pos, "window function " + f + " needs ORDER BY in its OVER (...)");
      return Status::OK();
    };
    if (w.filter) return Unsupported(w.pos, "FILTER on a window function");
    if (f == "ROW_NUMBER" || f == "RANK" || f == "DENSE_RANK") {
      if (!w.args.empty()) return BadValue(w.pos, f + "() takes no arguments");
      EDDY_RETURN_IF_ERROR(need_order());
      std::string op = f == "ROW_NUMBER" ? "$documentNumber" : f == "RANK" ? "$rank" : "$denseRank";
      output->Append(field, Value(Doc1(op, Value(Document()))));
      return Status::OK();
    }
    if (f == "NTILE") {
      auto nb = w.args.size() == 1 ? ConstValue(*w.args[0]) : std::nullopt;
      if (!nb || !nb->is_number() || nb->ToInt64() < 1) {
        return BadValue(w.pos, "NTILE takes one positive integer constant");
      }
      EDDY_RETURN_IF_ERROR(need_order());
      // NTILE(n) = the SQL bucket of row r (0-based) among c rows: the first c % n buckets hold
      // floor(c / n) + 1 rows, the others floor(c / n).
      int64_t nbuckets = nb->ToInt64();
      output->Append(field + "_rn", Value(Doc1("$documentNumber", Value(Document()))));
      Document cnt;
      cnt.Append("$sum", Value(int32_t{1}));
      cnt.Append("window", Value(Doc1("documents", Value(Array{Value("unbounded"), Value("unbounded")}))));
      output->Append(field + "_n", Value(std::move(cnt)));
      Value r = Op2("$subtract", Value("$" + field + "_rn"), Value(int32_t{1}));
      Value c("$" + field + "_n");
      Value q = Op("$floor", Op2("$divide", c, Int(nbuckets)));
      Value rem = Op2("$mod", c, Int(nbuckets));
      Document vars;
      vars.Append("r", r);
      vars.Append("q", q);
      vars.Append("rem", rem);
      Value big = Op2("$multiply", Value("$$rem"), Op2("$add", Value("$$q"), Value(int32_t{1})));
      Value q1 = Op2("$add", Value("$$q"), Value(int32_t{1}));
      Value in_big = Op2("$add", Op("$floor", Op2("$divide", Value("$$r"), q1)), Value(int32_t{1}));
      Value past = Op("$floor", Op2("$divide", Op2("$subtract", Value("$$r"), big), Value("$$q")));
      Value in_small = Op2("$add", Op2("$add", Value("$$rem"), past), Value(int32_t{1}));
      Value in = Op("$cond", Value(Array{Op2("$lt", Value("$$r"), big), in_big, in_small}));
      Document let;
      let.Append("vars", Value(std::move(vars)));
      let.Append("in", std::move(in));
      finals->Append(field, Op("$toInt", Op("$let", Value(std::move(let)))));
      return Status::OK();
    }
    if (f == "LAG" || f == "LEAD") {
      if (w.args.empty() || w.args.size() > 3) return BadValue(w.pos, f + " takes 1 to 3 arguments");
      EDDY_RETURN_IF_ERROR(need_order());
      if (spec.has_frame) return BadValue(w.pos, f + " does not take a frame");
      int64_t by = 1;
      if (w.args.size() >= 2) {
        auto k = ConstValue(*w.args[1]);
        if (!k || !k->is_number()) return BadValue(w.pos, f + " offset must be an integer constant");
        by = k->ToInt64();
      }
      EDDY_ASSIGN_OR_RETURN(Value x, tx.Agg(*w.args[0]));
      Document shift;
      shift.Append("output", std::move(x));
      shift.Append("by", Int(f == "LAG" ? -by : by));
      if (w.args.size() == 3) {
        auto d = ConstValue(*w.args[2]);
        if (!d) return BadValue(w.pos, f + " default must be a constant");
        shift.Append("default", *d);
      }
      output->Append(field, Value(Doc1("$shift", Value(std::move(shift)))));
      return Status::OK();
    }
    static const std::map<std::string, std::string> kAcc = {
        {"SUM", "$sum"}, {"AVG", "$avg"}, {"MIN", "$min"}, {"MAX", "$max"},
        {"FIRST_VALUE", "$first"}, {"LAST_VALUE", "$last"}, {"ARRAY_AGG", "$push"},
        {"STDDEV_POP", "$stdDevPop"}, {"STDDEV_SAMP", "$stdDevSamp"}, {"STDDEV", "$stdDevSamp"}};
    Document acc;
    if (f == "COUNT") {
      if (w.distinct) return Unsupported(w.pos, "COUNT(DISTINCT ...) OVER");
      if (w.star) {
        acc.Append("$sum", Value(int32_t{1}));
      } else {
        if (w.args.size() != 1) return BadValue(w.pos, "COUNT takes one argument");
        EDDY_ASSIGN_OR_RETURN(Value x, tx.Agg(*w.args[0]));
        acc.Append("$sum", Op("$cond", Value(Array{ExprTranslator::NotNull(x), Value(int32_t{1}), Value(int32_t{0})})));
      }
    } else {
      auto it = kAcc.find(f);
      if (it == kAcc.end()) return BadValue(w.pos, "function " + f + " cannot be used as a window function");
      if (w.args.size() != 1 || w.star || w.distinct) return BadValue(w.pos, f + " takes one argument");
      EDDY_ASSIGN_OR_RETURN(Value x, tx.Agg(*w.args[0]));
      acc.Append(it->second, std::move(x));
    }
    EDDY_ASSIGN_OR_RETURN(auto fr, frame());
    if (fr) acc.Append("window", std::move(*fr));
    output->Append(field, Value(std::move(acc)));
    return Status::OK();
  }

  Result<SelectPlan> PlanChanges(const Select& sel, const Scope& scope, SelectPlan plan) {
    const TableRef& from = *sel.from;
    plan.can_find = false;
    if (!sel.joins.empty()) return Unsupported(from.pos, "JOIN with CHANGES()");
    if (!sel.group_by.empty() || sel.having) return Unsupported(from.pos, "GROUP BY over CHANGES() (use a materialized change stream)");
    if (!sel.order_by.empty()) return Unsupported(sel.order_by[0].expr->pos, "ORDER BY over CHANGES() (events arrive in commit order)");
    if (sel.distinct) return Unsupported(from.pos, "DISTINCT over CHANGES()");
    if (sel.offset) return Unsupported(from.pos, "OFFSET over CHANGES()");
    ExprTranslator tx(scope);
    Document cs;
    for (const auto& opt : sel.with) {
      auto v = ConstValue(*opt.value);
      auto bad = [&](const std::string& want) {
        return Status(ErrorCode::kInvalidOptions, "at " + At(opt.pos) + ": change-stream option " +
                                                      opt.name + " must be " + want);
      };
      if (!v) return bad("a constant");
      if (opt.name == "full_document") {
        static const std::set<std::string> k = {"default", "updateLookup", "whenAvailable", "required"};
        if (!v->is_string() || !k.count(v->as_string())) return bad("'default', 'updateLookup', 'whenAvailable' or 'required'");
        cs.Append("fullDocument", *v);
      } else if (opt.name == "full_document_before_change") {
        static const std::set<std::string> k = {"off", "whenAvailable", "required"};
        if (!v->is_string() || !k.count(v->as_string())) return bad("'off', 'whenAvailable' or 'required'");
        cs.Append("fullDocumentBeforeChange", *v);
      } else if (opt.name == "resume_after" || opt.name == "start_after") {
        Value token;
        if (v->is_string() && !v->as_string().empty() && v->as_string()[0] == '{') {
          auto d = bson::ParseJson(v->as_string());
          if (!d.ok()) return bad("a resume token: its _data hex string or the token as JSON");
          token = Value(*d);
        } else if (v->is_string() && !v->as_string().empty()) {
          token = Value(Doc1("_data", *v));
        } else if (v->is_document()) {
          token = *v;
        } else {
          return bad("a resume token: its _data hex string or the token as JSON");
        }
        cs.Append(opt.name == "resume_after" ? "resumeAfter" : "startAfter", std::move(token));
      } else if (opt.name == "start_at_operation_time") {
        // 'seconds,increment' or an integer number of seconds.
        bson::Timestamp ts;
        if (v->is_number()) {
          ts.seconds = static_cast<uint32_t>(v->ToInt64());
        } else if (v->is_string()) {
          const std::string& s = v->as_string();
          size_t comma = s.find(',');
          try {
            ts.seconds = static_cast<uint32_t>(std::stoul(s.substr(0, comma)));
            if (comma != std::string::npos) ts.increment = static_cast<uint32_t>(std::stoul(s.substr(comma + 1)));
          } catch (...) {
            return bad("a timestamp: 'seconds,increment' or seconds");
          }
        } else {
          return bad("a timestamp: 'seconds,increment' or seconds");
        }
        cs.Append("startAtOperationTime", Value(ts));
      } else if (opt.name == "show_expanded_events") {
        if (!v->is_bool()) return bad("TRUE or FALSE");
        cs.Append("showExpandedEvents", *v);
      } else if (opt.name == "batch_size") {
        if (!v->is_number() || v->ToInt64() < 0) return bad("a non-negative integer");
        batch_size_ = v->ToInt64();
      } else if (opt.name == "max_await_time") {
        if (!v->is_number() || v->ToInt64() <= 0) return bad("a positive number of milliseconds");
        await_ms_ = v->ToInt64();
      } else {
        return Status(ErrorCode::kInvalidOptions,
                      "at " + At(opt.pos) + ": unknown change-stream option " + opt.name +
                          " (known: full_document, full_document_before_change, resume_after, "
                          "start_after, start_at_operation_time, show_expanded_events, "
                          "batch_size, max_await_time)");
      }
    }
    Array& pipe = plan.pipeline;
    pipe.push_back(Value(Doc1("$changeStream", Value(std::move(cs)))));
    if (sel.where) {
      std::vector<const Expr*> aggs, wins;
      CollectAggregates(*sel.where, &aggs);
      CollectWindows(*sel.where, &wins);
      if (!aggs.empty() || !wins.empty()) return BadValue(sel.where->pos, "aggregate and window functions are not allowed in WHERE");
      EDDY_ASSIGN_OR_RETURN(Document f, tx.Filter(*sel.where));
      if (!f.empty()) pipe.push_back(Value(Doc1("$match", Value(std::move(f)))));
    }
    // The event's _id is its resume token: kept (MongoDB fails a stream that drops it), shown
    // only when selected.
    Document project;
    std::vector<std::string> names;
    std::set<std::string> used;
    bool star = false;
    for (const auto& item : sel.items) {
      if (item.star) {
        star = true;
        continue;
      }
      std::vector<const Expr*> aggs, wins;
      CollectAggregates(*item.expr, &aggs);
      CollectWindows(*item.expr, &wins);
      if (!aggs.empty() || !wins.empty()) return Unsupported(item.expr->pos, "aggregate and window functions over CHANGES()");
      std::string name = item.alias.empty() ? DefaultName(*item.expr) : item.alias;
      if (name.find('.') != std::string::npos || name[0] == '$') return BadValue(item.expr->pos, "column alias \"" + name + "\" must not contain '.' or start with '$'");
      std::string base = name;
      for (int k = 1; used.count(name); ++k) name = base + "_" + std::to_string(k);
      used.insert(name);
      names.push_back(name);
      EDDY_ASSIGN_OR_RETURN(Value v, tx.Agg(*item.expr));
      if (name == "_id" && !(v.is_string() && v.as_string() == "$_id")) {
        return BadValue(item.expr->pos, "a change stream's _id is its resume token and cannot be replaced");
      }
      if (name != "_id") project.Append(name, ProjectionValue(std::move(v)));
    }
    if (star && !project.empty()) {
      pipe.push_back(Value(Doc1("$addFields", Value(std::move(project)))));
    } else if (!star) {
      pipe.push_back(Value(Doc1("$project", Value(std::move(project)))));
      plan.columns = names;
    }
    plan.star = star;
    if (sel.limit) {
      if (*sel.limit <= 0) return BadValue(from.pos, "LIMIT over CHANGES() must be positive");
      plan.limit = sel.limit;
    }
    return plan;
  }

 public:
  std::optional<int64_t> batch_size_;
  std::optional<int64_t> await_ms_;

 private:
  const TranslateOptions& opts_;
};

// ---- statements ----

std::string DbOf(const TableRef& t, const TranslateOptions& o) {
  return t.database.empty() ? o.database : t.database;
}

Status SetPath(Document* doc, const std::vector<PathStep>& path, size_t i, Value v, Position pos) {
  const PathStep& step = path[i];
  if (step.index) return Unsupported(pos, "array indexes in INSERT column names");
  if (i + 1 == path.size()) {
    if (doc->Has(step.name)) return BadValue(pos, "column " + PathToString(path) + " is set twice");
    doc->Append(step.name, std::move(v));
    return Status::OK();
  }
  Value* sub = doc->GetMutable(step.name);
  if (!sub) {
    doc->Append(step.name, Value(Document()));
    sub = doc->GetMutable(step.name);
  }
  if (!sub->is_document()) return BadValue(pos, "column " + PathToString(path) + " conflicts with another column");
  return SetPath(&sub->as_document(), path, i + 1, std::move(v), pos);
}

int64_t NowMillis(const TranslateOptions& o) {
  if (o.now_millis >= 0) return o.now_millis;
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<Translation> TranslateSelect(const Select& sel, const TranslateOptions& opts) {
  SelectPlanner planner(opts);
  EDDY_ASSIGN_OR_RETURN(SelectPlan plan, planner.Plan(sel));
  Translation t;
  t.database = plan.database;
  t.collection = plan.collection;
  t.columns = plan.columns;
  t.verb = "SELECT";
  if (plan.changes) {
    t.shape = ResultShape::kChangeStream;
    if (plan.all_collections) {
      t.command.Append("aggregate", Value(int32_t{1}));
      t.collection = "$cmd.aggregate";
    } else {
      t.command.Append("aggregate", Value(plan.collection));
    }
    t.command.Append("pipeline", Value(std::move(plan.pipeline)));
    Document cursor;
    if (planner.batch_size_) cursor.Append("batchSize", Int(*planner.batch_size_));
    t.command.Append("cursor", Value(std::move(cursor)));
    t.max_rows = plan.limit;
    if (planner.await_ms_) t.await_ms = *planner.await_ms_;
    return t;
  }
  t.shape = ResultShape::kRows;
  if (plan.can_find) {
    t.command.Append("find", Value(plan.collection));
    if (!plan.find_filter.empty()) t.command.Append("filter", Value(plan.find_filter));
    if (!plan.star && !plan.find_projection.empty()) t.command.Append("projection", Value(plan.find_projection));
    if (!plan.find_sort.empty()) t.command.Append("sort", Value(plan.find_sort));
    if (plan.skip && *plan.skip > 0) t.command.Append("skip", Int(*plan.skip));
    if (plan.limit) t.command.Append("limit", Int(*plan.limit));
    return t;
  }
  t.command.Append("aggregate", Value(plan.collection));
  t.command.Append("pipeline", Value(std::move(plan.pipeline)));
  t.command.Append("cursor", Value(Document()));
  return t;
}

Result<Translation> TranslateInsert(const Insert& ins, const TranslateOptions& opts) {
  Translation t;
  t.database = DbOf(ins.table, opts);
  t.collection = ins.table.name;
  t.verb = "INSERT";
  if (ins.select) {
    SelectPlanner planner(opts);
    EDDY_ASSIGN_OR_RETURN(SelectPlan plan, planner.Plan(*ins.select));
    if (plan.changes) return Unsupported(ins.table.pos, "INSERT ... SELECT FROM CHANGES() (use a change stream with a collection handler)");
    Array pipe = std::move(plan.pipeline);
    if (!ins.columns.empty()) {
      if (plan.star) return BadValue(ins.table.pos, "INSERT with a column list needs a SELECT list without *");
      if (plan.columns.size() != ins.columns.size()) {
        return BadValue(ins.table.pos, "INSERT has " + std::to_string(ins.columns.size()) +
                                           " columns but the SELECT returns " +
                                           std::to_string(plan.columns.size()));
      }
      Document rename;
      rename.Append("_id", Value(int32_t{0}));
      for (size_t i = 0; i < ins.columns.size(); ++i) {
        for (const auto& s : ins.columns[i]) {
          if (s.index) return Unsupported(ins.table.pos, "array indexes in INSERT column names");
        }
        rename.Append(PathToString(ins.columns[i]), ProjectionValue(Value("$" + plan.columns[i])));
      }
      pipe.push_back(Value(Doc1("$project", Value(std::move(rename)))));
    }
    Document into;
    into.Append("db", Value(t.database));
    into.Append("coll", Value(ins.table.name));
    Document merge;
    merge.Append("into", Value(std::move(into)));
    merge.Append("on", Value("_id"));
    merge.Append("whenMatched", Value("fail"));
    merge.Append("whenNotMatched", Value("insert"));
    pipe.push_back(Value(Doc1("$merge", Value(std::move(merge)))));
    t.database = plan.database;
    t.collection = plan.collection;
    t.command.Append("aggregate", Value(plan.collection));
    t.command.Append("pipeline", Value(std::move(pipe)));
    t.command.Append("cursor", Value(Document()));
    t.shape = ResultShape::kOk;
    return t;
  }
  Array docs;
  int64_t now = NowMillis(opts);
  for (const auto& row : ins.rows) {
    Document doc;
    for (size_t i = 0; i < row.size(); ++i) {
      auto v = ConstValue(*row[i], now);
      if (!v) return BadValue(row[i]->pos, "INSERT values must be constants; " + row[i]->text + " is not");
      if (ins.columns.empty()) {
        if (!v->is_document()) return BadValue(row[i]->pos, "INSERT without a column list takes documents ({...}), got " + row[i]->text);
        doc = v->as_document();
      } else {
        EDDY_RETURN_IF_ERROR(SetPath(&doc, ins.columns[i], 0, std::move(*v), row[i]->pos));
      }
    }
    docs.push_back(Value(std::move(doc)));
  }
  t.command.Append("insert", Value(ins.table.name));
  t.command.Append("documents", Value(std::move(docs)));
  t.command.Append("ordered", Value(true));
  t.shape = ResultShape::kWrite;
  return t;
}

Result<Translation> TranslateUpdate(const Update& up, const TranslateOptions& opts) {
  Translation t;
  t.database = DbOf(up.table, opts);
  t.collection = up.table.name;
  t.verb = "UPDATE";
  Scope scope;
  scope.strip.push_back(up.table.name);
  ExprTranslator tx(scope);
  Document set, inc, mul;
  bool pipeline = false;
  std::set<std::string> targets;
  for (const auto& a : up.sets) {
    std::string path = tx.Path(a.path);
    if (!targets.insert(path).second) return BadValue(a.pos, "column " + path + " is assigned twice");
    if (path == "_id") return BadValue(a.pos, "_id cannot be updated (MongoDB's _id is immutable)");
    std::vector<const Expr*> aggs, wins;
    CollectAggregates(*a.value, &aggs);
    CollectWindows(*a.value, &wins);
    if (!aggs.empty() || !wins.empty()) return BadValue(a.value->pos, "aggregate and window functions are not allowed in UPDATE ... SET");
    if (ConstValue(*a.value)) continue;
    const Expr& v = *a.value;
    if (v.kind == ExprKind::kBinary && (v.op == "+" || v.op == "-" || v.op == "*")) {
      const Expr* l = v.args[0].get();
      const Expr* r = v.args[1].get();
      auto same = [&](const Expr* e) { return e->kind == ExprKind::kColumn && tx.Path(e->path) == path; };
      auto rc = ConstValue(*r);
      auto lc = ConstValue(*l);
      if ((same(l) && rc && rc->is_number()) || (v.op != "-" && same(r) && lc && lc->is_number())) continue;
    }
    pipeline = true;
  }
  Value u;
  if (!pipeline) {
    for (const auto& a : up.sets) {
      std::string path = tx.Path(a.path);
      if (auto c = ConstValue(*a.value)) {
        set.Append(path, *c);
        continue;
      }
      const Expr& v = *a.value;
      const Expr* l = v.args[0].get();
      const Expr* r = v.args[1].get();
      bool left_is_col = l->kind == ExprKind::kColumn && tx.Path(l->path) == path && ConstValue(*r);
      Value k = *ConstValue(left_is_col ? *r : *l);
      if (v.op == "*") {
        mul.Append(path, k);
      } else if (v.op == "-") {
        Value neg = k.is_int32() ? (k.as_int32() == INT32_MIN ? Value(-int64_t{k.as_int32()}) : Value(-k.as_int32()))
                  : k.is_int64() ? Value(-k.as_int64())
                  : k.is_double() ? Value(-k.as_double_exact())
                                  : Value();
        if (neg.is_null()) return Unsupported(v.pos, "subtracting a decimal constant");
        inc.Append(path, neg);
      } else {
        inc.Append(path, k);
      }
    }
    Document ops;
    if (!set.empty()) ops.Append("$set", Value(std::move(set)));
    if (!inc.empty()) ops.Append("$inc", Value(std::move(inc)));
    if (!mul.empty()) ops.Append("$mul", Value(std::move(mul)));
    u = Value(std::move(ops));
  } else {
    Document fields;
    for (const auto& a : up.sets) {
      if (tx.HasIndex(a.path)) {
        return Unsupported(a.pos, "an array index in the target of a computed SET (" + PathToString(a.path) + ")");
      }
      EDDY_ASSIGN_OR_RETURN(Value v, tx.Agg(*a.value));
      fields.Append(tx.Path(a.path), ProjectionValue(std::move(v)));
    }
    u = Value(Array{Value(Doc1("$set", Value(std::move(fields))))});
  }
  Document q;
  if (up.where) {
    EDDY_ASSIGN_OR_RETURN(q, tx.Filter(*up.where));
  }
  Document stmt;
  stmt.Append("q", Value(std::move(q)));
  stmt.Append("u", std::move(u));
  stmt.Append("multi", Value(true));
  t.command.Append("update", Value(up.table.name));
  t.command.Append("updates", Value(Array{Value(std::move(stmt))}));
  t.command.Append("ordered", Value(true));
  t.shape = ResultShape::kWrite;
  return t;
}

Result<Translation> TranslateDelete(const Delete& del, const TranslateOptions& opts) {
  Translation t;
  t.database = DbOf(del.table, opts);
  t.collection = del.table.name;
  t.verb = "DELETE";
  Scope scope;
  scope.strip.push_back(del.table.name);
  ExprTranslator tx(scope);
  Document q;
  if (del.where) {
    std::vector<const Expr*> aggs;
    CollectAggregates(*del.where, &aggs);
    if (!aggs.empty()) return BadValue(aggs[0]->pos, "aggregate functions are not allowed in WHERE");
    EDDY_ASSIGN_OR_RETURN(q, tx.Filter(*del.where));
  }
  Document stmt;
  stmt.Append("q", Value(std::move(q)));
  stmt.Append("limit", Value(int32_t{0}));
  t.command.Append("delete", Value(del.table.name));
  t.command.Append("deletes", Value(Array{Value(std::move(stmt))}));
  t.command.Append("ordered", Value(true));
  t.shape = ResultShape::kWrite;
  return t;
}

}  // namespace

Result<bson::Document> TranslateFilter(const Expr& e) {
  ExprTranslator tx(Scope{});
  return tx.Filter(e);
}

Result<bson::Value> TranslateExpression(const Expr& e, const std::vector<std::string>& strip) {
  Scope scope;
  scope.strip = strip;
  ExprTranslator tx(scope);
  std::vector<const Expr*> aggs, wins;
  CollectAggregates(e, &aggs);
  CollectWindows(e, &wins);
  if (!aggs.empty() || !wins.empty()) {
    return BadValue(e.pos, "aggregate and window functions are not allowed here: " + e.text);
  }
  return tx.Agg(e);
}

std::optional<bson::Value> ConstantValue(const Expr& e, std::optional<int64_t> now_millis) {
  if (e.kind == ExprKind::kBinary && (e.op == "+" || e.op == "-")) {
    // date +/- INTERVAL (CURRENT_TIMESTAMP - INTERVAL '1 hour')
    auto a = ConstantValue(*e.args[0], now_millis);
    if (!a || a->type() != bson::Type::kDateTime || e.args[1]->kind != ExprKind::kInterval) {
      return std::nullopt;
    }
    int64_t ms = e.args[1]->literal.as_int64();
    return Value(bson::DateTime{a->as_date().millis + (e.op == "+" ? ms : -ms)});
  }
  return ConstValue(e, now_millis);
}

Result<Translation> Translate(const Statement& st, const TranslateOptions& opts) {
  switch (st.kind) {
    case StatementKind::kCreateDefinition:
    case StatementKind::kDefinitionCommand:
      return TranslateDefinition(st, opts);
    case StatementKind::kSelect:
      return TranslateSelect(*st.select, opts);
    case StatementKind::kInsert:
      return TranslateInsert(*st.insert, opts);
    case StatementKind::kUpdate:
      return TranslateUpdate(*st.update, opts);
    case StatementKind::kDelete:
      return TranslateDelete(*st.del, opts);
    case StatementKind::kCreateCollection: {
      Translation t;
      t.database = DbOf(st.create_collection->table, opts);
      t.command.Append("create", Value(st.create_collection->table.name));
      t.shape = ResultShape::kOk;
      t.verb = "CREATE COLLECTION";
      if (st.create_collection->if_not_exists) t.ignore_codes.push_back(48);  // NamespaceExists
      return t;
    }
    case StatementKind::kDropCollection: {
      Translation t;
      t.database = DbOf(st.drop_collection->table, opts);
      t.command.Append("drop", Value(st.drop_collection->table.name));
      t.shape = ResultShape::kOk;
      t.verb = "DROP COLLECTION";
      if (st.drop_collection->if_exists) t.ignore_codes.push_back(26);  // NamespaceNotFound
      return t;
    }
    case StatementKind::kCreateIndex: {
      const CreateIndex& ci = *st.create_index;
      Translation t;
      t.database = DbOf(ci.table, opts);
      Document key;
      std::string default_name;
      for (const auto& [path, desc] : ci.keys) {
        for (const auto& s : path) {
          if (s.index) return Unsupported(ci.table.pos, "array indexes in index keys");
        }
        std::string p = PathToString(path);
        if (key.Has(p)) return BadValue(ci.table.pos, "index key " + p + " is listed twice");
        key.Append(p, Value(int32_t{desc ? -1 : 1}));
        if (!default_name.empty()) default_name += "_";
        default_name += p + (desc ? "_-1" : "_1");
      }
      Document spec;
      spec.Append("key", Value(std::move(key)));
      spec.Append("name", Value(ci.name.empty() ? default_name : ci.name));
      if (ci.unique) spec.Append("unique", Value(true));
      t.command.Append("createIndexes", Value(ci.table.name));
      t.command.Append("indexes", Value(Array{Value(std::move(spec))}));
      t.shape = ResultShape::kOk;
      t.verb = "CREATE INDEX";
      if (ci.if_not_exists) {
        t.ignore_codes.push_back(85);  // IndexOptionsConflict
        t.ignore_codes.push_back(86);  // IndexKeySpecsConflict
      }
      return t;
    }
    case StatementKind::kDropIndex: {
      Translation t;
      t.database = DbOf(st.drop_index->table, opts);
      t.command.Append("dropIndexes", Value(st.drop_index->table.name));
      t.command.Append("index", Value(st.drop_index->name));
      t.shape = ResultShape::kOk;
      t.verb = "DROP INDEX";
      if (st.drop_index->if_exists) {
        t.ignore_codes.push_back(27);  // IndexNotFound
        t.ignore_codes.push_back(26);  // NamespaceNotFound
      }
      return t;
    }
    case StatementKind::kShowCollections: {
      Translation t;
      t.database = st.show_collections->database.empty() ? opts.database : st.show_collections->database;
      t.collection = "$cmd.listCollections";
      t.command.Append("listCollections", Value(int32_t{1}));
      t.command.Append("nameOnly", Value(true));
      t.shape = ResultShape::kRows;
      t.columns = {"name"};
      t.verb = "SHOW";
      return t;
    }
    case StatementKind::kExplain: {
      EDDY_ASSIGN_OR_RETURN(Translation inner, Translate(*st.explain->statement, opts));
      Translation t;
      t.database = inner.database;
      t.collection = inner.collection;
      t.command = inner.command;
      t.shape = ResultShape::kExplain;
      t.verb = "EXPLAIN";
      t.explained = std::make_shared<Translation>(std::move(inner));
      return t;
    }
  }
  return Status(ErrorCode::kInternalError, "unknown statement kind");
}

Result<Translation> TranslateSql(std::string_view sql, const TranslateOptions& options) {
  EDDY_ASSIGN_OR_RETURN(Statement st, Parse(sql));
  return Translate(st, options);
}

bson::Document WireCommand(const Translation& t) {
  Document d = t.command;
  d.Append("$db", Value(t.database));
  return d;
}

}  // namespace eddy::sql
