#include "query/expr/expression.h"

#include <chrono>
#include <map>
#include <mutex>
#include <shared_mutex>

#include "bson/compare.h"
#include "bson/json.h"

namespace eddy::query {

using bson::Array;
using bson::Document;
using bson::Value;

// ---- EvalContext / ParseContext

namespace {
bson::DateTime WallClockNow() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return bson::DateTime{std::chrono::duration_cast<std::chrono::milliseconds>(now).count()};
}
}  // namespace

EvalContext::EvalContext(const Document& root) : EvalContext(root, WallClockNow()) {}
EvalContext::EvalContext(const Document& root, bson::DateTime now)
    : root_(&root), current_(&root), now_(now) {}

void EvalContext::PushVariable(std::string name, MaybeValue value) {
  vars_.emplace_back(std::move(name), std::move(value));
}

void EvalContext::PopVariables(size_t count) { vars_.resize(vars_.size() - count); }

const MaybeValue* EvalContext::LookupVariable(std::string_view name) const {
  for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
    if (it->first == name) return &it->second;
  }
  return nullptr;
}

bool ParseContext::IsDefined(std::string_view name) const {
  for (const auto& v : vars_) {
    if (v == name) return true;
  }
  return false;
}

ParseContext ParseContext::WithVariables(const std::vector<std::string>& names) const {
  ParseContext c = *this;
  c.vars_.insert(c.vars_.end(), names.begin(), names.end());
  return c;
}

// ---- Value helpers

int CompareValues(const MaybeValue& a, const MaybeValue& b) {
  bool a_low = !a || a->is_undefined();
  bool b_low = !b || b->is_undefined();
  if (a_low || b_low) {
    if (a_low && b_low) return 0;
    // mongod's canonical order: MinKey, then missing/undefined, then null and the rest.
    if (a_low) return (b->type() == bson::Type::kMinKey) ? 1 : -1;
    return (a->type() == bson::Type::kMinKey) ? -1 : 1;
  }
  return bson::Compare(*a, *b);
}

std::string_view TypeNameOf(const MaybeValue& v) {
  if (!v) return "missing";
  return bson::TypeName(v->type());
}

std::string DescribeForError(const MaybeValue& v) {
  if (!v) return "missing";
  return bson::ToJson(*v, bson::JsonMode::kShell);
}

// ---- Registry

namespace {

struct Registry {
  std::shared_mutex mu;
  std::map<std::string, ExpressionParser, std::less<>> parsers;
};

Registry& Storage() {
  static Registry* registry = new Registry();  // never destroyed: used until exit
  return *registry;
}

// True on the thread that is registering the built-in operators.
thread_local bool loading_builtins = false;

// Built-ins are registered on first use rather than by static initialisers, which a static
// library link would silently drop.
void EnsureBuiltins() {
  static std::once_flag once;
  std::call_once(once, [] {
    loading_builtins = true;
    expr_internal::RegisterCoreOperators();
    expr_internal::RegisterComparisonAndLogic();
    expr_internal::RegisterArithmetic();
    expr_internal::RegisterArrayAndString();
    expr_internal::RegisterConversion();
    expr_internal::RegisterArrayOps();
    expr_internal::RegisterStringOps();
    expr_internal::RegisterDateOps();
    loading_builtins = false;
  });
}

Registry& GetRegistry() {
  EnsureBuiltins();
  return Storage();
}

}  // namespace

void RegisterExpression(std::string name, ExpressionParser parser) {
  if (!loading_builtins) EnsureBuiltins();  // so a later built-in never replaces this one
  Registry& r = Storage();
  std::unique_lock lock(r.mu);
  r.parsers[std::move(name)] = std::move(parser);
}

bool IsRegisteredExpression(std::string_view name) {
  Registry& r = GetRegistry();
  std::shared_lock lock(r.mu);
  return r.parsers.find(name) != r.parsers.end();
}

// ---- Basic expression nodes

namespace {

class ConstantExpr : public Expression {
 public:
  explicit ConstantExpr(MaybeValue v) : v_(std::move(v)) {}
  Result<MaybeValue> Evaluate(EvalContext&) const override { return v_; }
  bool IsConstant() const override { return true; }

 private:
  MaybeValue v_;
};

MaybeValue EvaluatePathArray(const std::vector<std::string>& path, size_t index,
                             const Array& arr);

// mongod's ExpressionFieldPath::evaluatePath.
MaybeValue EvaluatePath(const std::vector<std::string>& path, size_t index, const Document& d) {
  const Value* v = d.Get(path[index]);
  if (v == nullptr) return std::nullopt;
  if (index + 1 == path.size()) return *v;
  if (v->is_document()) return EvaluatePath(path, index + 1, v->as_document());
  if (v->is_array()) return EvaluatePathArray(path, index + 1, v->as_array());
  return std::nullopt;
}

MaybeValue EvaluatePathArray(const std::vector<std::string>& path, size_t index,
                             const Array& arr) {
  Array out;
  for (const Value& e : arr) {
    MaybeValue nested;
    if (e.is_document()) {
      nested = EvaluatePath(path, index, e.as_document());
    } else if (e.is_array()) {
      nested = EvaluatePathArray(path, index, e.as_array());
    }
    if (nested) out.push_back(std::move(*nested));
  }
  return Value(std::move(out));
}

enum class VarKind { kRoot, kCurrent, kNow, kRemove, kUser };

// "$a.b" (a path on CURRENT) or "$$var.a.b".
class FieldPathExpr : public Expression {
 public:
  FieldPathExpr(VarKind kind, std::string var, std::vector<std::string> path)
      : kind_(kind), var_(std::move(var)), path_(std::move(path)) {}

  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    if ((kind_ == VarKind::kCurrent || kind_ == VarKind::kRoot) && !path_.empty()) {
      const Document& d = kind_ == VarKind::kRoot ? ctx.root() : ctx.current();
      return EvaluatePath(path_, 0, d);
    }
    MaybeValue base;
    switch (kind_) {
      case VarKind::kRoot: base = Value(ctx.root()); break;
      case VarKind::kCurrent: base = Value(ctx.current()); break;
      case VarKind::kNow: base = Value(ctx.now()); break;
      case VarKind::kRemove: return MaybeValue();
      case VarKind::kUser: {
        const MaybeValue* v = ctx.LookupVariable(var_);
        if (v == nullptr) {
          return Status(static_cast<ErrorCode>(17276), "Use of undefined variable: " + var_);
        }
        base = *v;
        break;
      }
    }
    if (path_.empty() || !base) return base;
    if (base->is_document()) return EvaluatePath(path_, 0, base->as_document());
    if (base->is_array()) return EvaluatePathArray(path_, 0, base->as_array());
    return MaybeValue();
  }

 private:
  VarKind kind_;
  std::string var_;
  std::vector<std::string> path_;
};

class ObjectExpr : public Expression {
 public:
  explicit ObjectExpr(std::vector<std::pair<std::string, ExpressionPtr>> fields)
      : fields_(std::move(fields)) {}
  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    Document d;
    for (const auto& [name, e] : fields_) {
      EDDY_ASSIGN_OR_RETURN(MaybeValue v, e->Evaluate(ctx));
      if (v) d.Append(name, std::move(*v));
    }
    return MaybeValue(Value(std::move(d)));
  }

 private:
  std::vector<std::pair<std::string, ExpressionPtr>> fields_;
};

class ArrayExpr : public Expression {
 public:
  explicit ArrayExpr(std::vector<ExpressionPtr> elems) : elems_(std::move(elems)) {}
  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    Array a;
    a.reserve(elems_.size());
    for (const auto& e : elems_) {
      EDDY_ASSIGN_OR_RETURN(MaybeValue v, e->Evaluate(ctx));
      a.push_back(v ? std::move(*v) : Value());
    }
    return MaybeValue(Value(std::move(a)));
  }

 private:
  std::vector<ExpressionPtr> elems_;
};

class OperatorExpr : public Expression {
 public:
  OperatorExpr(std::vector<ExpressionPtr> operands, OperatorFn fn)
      : operands_(std::move(operands)), fn_(std::move(fn)) {}
  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    std::vector<MaybeValue> args;
    args.reserve(operands_.size());
    for (const auto& e : operands_) {
      EDDY_ASSIGN_OR_RETURN(MaybeValue v, e->Evaluate(ctx));
      args.push_back(std::move(v));
    }
    return fn_(args);
  }

 private:
  std::vector<ExpressionPtr> operands_;
  OperatorFn fn_;
};

Status ValidateFieldName(std::string_view name) {
  if (name.empty()) {
    return Status(static_cast<ErrorCode>(15998), "FieldPath field names may not be empty strings.");
  }
  if (name[0] == '$') {
    return Status(static_cast<ErrorCode>(16410),
                  "FieldPath field names may not start with '$'. Consider using $getField or "
                  "$setField.");
  }
  if (name.find('\0') != std::string_view::npos) {
    return Status(static_cast<ErrorCode>(16411), "FieldPath field names may not contain '\\0'.");
  }
  return Status::OK();
}

Result<std::vector<std::string>> SplitFieldPath(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string_view part =
        path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    EDDY_RETURN_IF_ERROR(ValidateFieldName(part));
    parts.emplace_back(part);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

Result<ExpressionPtr> ParseFieldPath(const std::string& s, const ParseContext& ctx) {
  if (s.size() == 1) {
    return Status(static_cast<ErrorCode>(16872), "'$' by itself is not a valid FieldPath");
  }
  if (s[1] != '$') {
    EDDY_ASSIGN_OR_RETURN(auto parts, SplitFieldPath(std::string_view(s).substr(1)));
    return ExpressionPtr(
        std::make_shared<FieldPathExpr>(VarKind::kCurrent, "", std::move(parts)));
  }
  std::string_view rest = std::string_view(s).substr(2);
  size_t dot = rest.find('.');
  std::string var(rest.substr(0, dot));
  if (var.empty()) {
    return Status(static_cast<ErrorCode>(16869), "empty variable names are not allowed");
  }
  std::vector<std::string> parts;
  if (dot != std::string_view::npos) {
    EDDY_ASSIGN_OR_RETURN(parts, SplitFieldPath(rest.substr(dot + 1)));
  }
  VarKind kind;
  if (ctx.IsDefined(var)) {
    kind = VarKind::kUser;
  } else if (var == "ROOT") {
    kind = VarKind::kRoot;
  } else if (var == "CURRENT") {
    kind = VarKind::kCurrent;
  } else if (var == "NOW") {
    kind = VarKind::kNow;
  } else if (var == "REMOVE") {
    kind = VarKind::kRemove;
  } else {
    return Status(static_cast<ErrorCode>(17276), "Use of undefined variable: " + var);
  }
  return ExpressionPtr(std::make_shared<FieldPathExpr>(kind, var, std::move(parts)));
}

Result<ExpressionPtr> ParseObjectLiteral(const Document& spec, const ParseContext& ctx) {
  std::vector<std::pair<std::string, ExpressionPtr>> fields;
  for (const bson::Field& f : spec) {
    EDDY_RETURN_IF_ERROR(ValidateFieldName(f.name));
    if (f.name.find('.') != std::string::npos) {
      return Status(static_cast<ErrorCode>(16412), "FieldPath field names may not contain '.'.");
    }
    for (const auto& existing : fields) {
      if (existing.first == f.name) {
        return Status(static_cast<ErrorCode>(16406),
                      "duplicate field name specified in object literal: " +
                          bson::ToJson(spec, bson::JsonMode::kShell));
      }
    }
    EDDY_ASSIGN_OR_RETURN(ExpressionPtr e, ParseExpression(f.value, ctx));
    fields.emplace_back(f.name, std::move(e));
  }
  return ExpressionPtr(std::make_shared<ObjectExpr>(std::move(fields)));
}

}  // namespace

Result<ExpressionPtr> ParseExpressionObject(const Document& spec, const ParseContext& ctx) {
  if (spec.empty() || spec.at(0).name.empty() || spec.at(0).name[0] != '$') {
    return ParseObjectLiteral(spec, ctx);
  }
  if (spec.size() != 1) {
    return Status(static_cast<ErrorCode>(15983),
                  "An object representing an expression must have exactly one field: " +
                      bson::ToJson(spec, bson::JsonMode::kShell));
  }
  const std::string& op = spec.at(0).name;
  ExpressionParser parser;
  {
    Registry& r = GetRegistry();
    std::shared_lock lock(r.mu);
    auto it = r.parsers.find(op);
    if (it == r.parsers.end()) {
      return Status(ErrorCode::kInvalidPipelineOperator, "Unrecognized expression '" + op + "'");
    }
    parser = it->second;
  }
  return parser(spec.at(0).value, ctx);
}

Result<ExpressionPtr> ParseExpression(const Value& spec, const ParseContext& ctx) {
  if (spec.is_string()) {
    const std::string& s = spec.as_string();
    if (!s.empty() && s[0] == '$') return ParseFieldPath(s, ctx);
    return MakeConstant(spec);
  }
  if (spec.is_document()) return ParseExpressionObject(spec.as_document(), ctx);
  if (spec.is_array()) {
    std::vector<ExpressionPtr> elems;
    for (const Value& e : spec.as_array()) {
      EDDY_ASSIGN_OR_RETURN(ExpressionPtr p, ParseExpression(e, ctx));
      elems.push_back(std::move(p));
    }
    return ExpressionPtr(std::make_shared<ArrayExpr>(std::move(elems)));
  }
  return MakeConstant(spec);
}

Result<std::vector<ExpressionPtr>> ParseOperands(std::string_view op, const Value& args,
                                                 const ParseContext& ctx, int min_args,
                                                 int max_args) {
  std::vector<ExpressionPtr> out;
  if (args.is_array()) {
    for (const Value& e : args.as_array()) {
      EDDY_ASSIGN_OR_RETURN(ExpressionPtr p, ParseExpression(e, ctx));
      out.push_back(std::move(p));
    }
  } else {
    EDDY_ASSIGN_OR_RETURN(ExpressionPtr p, ParseExpression(args, ctx));
    out.push_back(std::move(p));
  }
  int n = static_cast<int>(out.size());
  std::string name(op);
  if (min_args == max_args && n != min_args) {
    return Status(static_cast<ErrorCode>(16020),
                  "Expression " + name + " takes exactly " + std::to_string(min_args) +
                      " arguments. " + std::to_string(n) + " were passed in.");
  }
  if (n < min_args) {
    return Status(static_cast<ErrorCode>(16020),
                  "Expression " + name + " takes at least " + std::to_string(min_args) +
                      " arguments, and " + std::to_string(n) + " were passed in.");
  }
  if (max_args >= 0 && n > max_args) {
    return Status(static_cast<ErrorCode>(16021),
                  "Expression " + name + " takes at most " + std::to_string(max_args) +
                      " arguments, and " + std::to_string(n) + " were passed in.");
  }
  return out;
}

ExpressionPtr MakeConstant(MaybeValue value) {
  return std::make_shared<ConstantExpr>(std::move(value));
}

ExpressionPtr MakeOperator(std::vector<ExpressionPtr> operands, OperatorFn fn) {
  return std::make_shared<OperatorExpr>(std::move(operands), std::move(fn));
}

// ---- $literal and $let

namespace {

class LetExpr : public Expression {
 public:
  LetExpr(std::vector<std::pair<std::string, ExpressionPtr>> vars, ExpressionPtr in)
      : vars_(std::move(vars)), in_(std::move(in)) {}
  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    // All initialisers see the outer scope, as in mongod.
    std::vector<MaybeValue> values;
    values.reserve(vars_.size());
    for (const auto& [name, e] : vars_) {
      EDDY_ASSIGN_OR_RETURN(MaybeValue v, e->Evaluate(ctx));
      values.push_back(std::move(v));
    }
    for (size_t i = 0; i < vars_.size(); ++i) ctx.PushVariable(vars_[i].first, values[i]);
    Result<MaybeValue> r = in_->Evaluate(ctx);
    ctx.PopVariables(vars_.size());
    return r;
  }

 private:
  std::vector<std::pair<std::string, ExpressionPtr>> vars_;
  ExpressionPtr in_;
};

}  // namespace

Status ValidateUserVariableName(const std::string& name) {
  if (name.empty()) {
    return Status(static_cast<ErrorCode>(16866), "empty variable names are not allowed");
  }
  unsigned char c0 = name[0];
  if (!((c0 >= 'a' && c0 <= 'z') || c0 >= 0x80)) {
    return Status(static_cast<ErrorCode>(16867),
                  "'" + name + "' starts with an invalid character for a user variable name");
  }
  for (unsigned char c : name) {
    if (!(std::isalnum(c) || c == '_' || c >= 0x80)) {
      return Status(static_cast<ErrorCode>(16868),
                    "'" + name + "' contains an invalid character for a variable name: '" +
                        std::string(1, static_cast<char>(c)) + "'");
    }
  }
  return Status::OK();
}

namespace {

Result<ExpressionPtr> ParseLet(const Value& args, const ParseContext& ctx) {
  if (!args.is_document()) {
    return Status(static_cast<ErrorCode>(16874), "$let only supports an object as its argument");
  }
  const Value* vars = nullptr;
  const Value* in = nullptr;
  for (const bson::Field& f : args.as_document()) {
    if (f.name == "vars") {
      vars = &f.value;
    } else if (f.name == "in") {
      in = &f.value;
    } else {
      return Status(static_cast<ErrorCode>(16875), "Unrecognized parameter to $let: " + f.name);
    }
  }
  if (vars == nullptr) {
    return Status(static_cast<ErrorCode>(16876), "Missing 'vars' parameter to $let");
  }
  if (in == nullptr) {
    return Status(static_cast<ErrorCode>(16877), "Missing 'in' parameter to $let");
  }
  if (!vars->is_document()) {
    return Status(static_cast<ErrorCode>(10065),
                  "invalid parameter: expected an object (vars)");
  }
  std::vector<std::pair<std::string, ExpressionPtr>> parsed;
  std::vector<std::string> names;
  for (const bson::Field& f : vars->as_document()) {
    EDDY_RETURN_IF_ERROR(ValidateUserVariableName(f.name));
    EDDY_ASSIGN_OR_RETURN(ExpressionPtr e, ParseExpression(f.value, ctx));
    parsed.emplace_back(f.name, std::move(e));
    names.push_back(f.name);
  }
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr body, ParseExpression(*in, ctx.WithVariables(names)));
  return ExpressionPtr(std::make_shared<LetExpr>(std::move(parsed), std::move(body)));
}

}  // namespace

bson::DateTime WallClockDateTime() { return WallClockNow(); }

namespace {

// Whether an expression spec reads the document: a field path ("$a"), $$ROOT or $$CURRENT,
// outside $literal.
bool ReadsDocument(const Value& spec) {
  if (spec.is_string()) {
    const std::string& s = spec.as_string();
    if (s.size() > 1 && s[0] == '$' && s[1] != '$') return true;
    return s.rfind("$$ROOT", 0) == 0 || s.rfind("$$CURRENT", 0) == 0;
  }
  if (spec.is_document()) {
    const Document& d = spec.as_document();
    if (d.size() == 1 && d.at(0).name == "$literal") return false;
    for (const bson::Field& f : d) {
      if (ReadsDocument(f.value)) return true;
    }
    return false;
  }
  if (spec.is_array()) {
    for (const Value& e : spec.as_array()) {
      if (ReadsDocument(e)) return true;
    }
  }
  return false;
}

}  // namespace

Result<std::shared_ptr<const VariableList>> EvaluateCommandLet(const Document& let,
                                                               bson::DateTime now) {
  auto vars = std::make_shared<VariableList>();
  std::vector<std::string> names;
  Document empty;
  for (const bson::Field& f : let) {
    EDDY_RETURN_IF_ERROR(ValidateUserVariableName(f.name));
    EDDY_ASSIGN_OR_RETURN(ExpressionPtr e,
                          ParseExpression(f.value, ParseContext().WithVariables(names)));
    if (ReadsDocument(f.value)) {
      return Status(static_cast<ErrorCode>(4890500),
                    "Command let Expression tries to access a field, but this is not allowed "
                    "because command let expressions run before the query examines any "
                    "documents.");
    }
    EvalContext ctx(empty, now);
    for (const auto& [name, value] : *vars) ctx.PushVariable(name, value);
    EDDY_ASSIGN_OR_RETURN(MaybeValue v, e->Evaluate(ctx));
    vars->emplace_back(f.name, std::move(v));
    names.push_back(f.name);
  }
  return std::shared_ptr<const VariableList>(std::move(vars));
}

namespace expr_internal {
void RegisterCoreOperators() {
  RegisterExpression("$literal", [](const Value& args, const ParseContext&) {
    return Result<ExpressionPtr>(MakeConstant(args));
  });
  RegisterExpression("$let", ParseLet);
}
}  // namespace expr_internal

}  // namespace eddy::query
