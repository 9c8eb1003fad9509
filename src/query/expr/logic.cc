// $eq $ne $gt $gte $lt $lte $cmp, $and $or $not, $cond $ifNull $switch. The boolean and
// conditional operators evaluate lazily (short-circuit), as mongod does, so an error in an
// untaken branch is never raised.
#include "query/expr/expression.h"
#include "query/expr/value_util.h"

namespace eddy::query::expr_internal {
namespace {

using bson::Value;

MaybeValue Bool(bool b) { return MaybeValue(Value(b)); }

void RegisterComparison(const std::string& name, std::function<MaybeValue(int)> fn) {
  RegisterExpression(name, [name, fn](const Value& args, const ParseContext& ctx)
                               -> Result<ExpressionPtr> {
    EDDY_ASSIGN_OR_RETURN(auto ops, ParseOperands(name, args, ctx, 2, 2));
    return MakeOperator(std::move(ops), [fn](const std::vector<MaybeValue>& a) {
      return Result<MaybeValue>(fn(CompareValues(a[0], a[1])));
    });
  });
}

class AndOrExpr : public Expression {
 public:
  AndOrExpr(bool is_and, std::vector<ExpressionPtr> ops) : is_and_(is_and), ops_(std::move(ops)) {}
  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    for (const auto& op : ops_) {
      EDDY_ASSIGN_OR_RETURN(MaybeValue v, op->Evaluate(ctx));
      bool t = IsTruthy(v);
      if (is_and_ && !t) return Bool(false);
      if (!is_and_ && t) return Bool(true);
    }
    return Bool(is_and_);
  }

 private:
  bool is_and_;
  std::vector<ExpressionPtr> ops_;
};

class CondExpr : public Expression {
 public:
  CondExpr(ExpressionPtr i, ExpressionPtr t, ExpressionPtr e)
      : if_(std::move(i)), then_(std::move(t)), else_(std::move(e)) {}
  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    EDDY_ASSIGN_OR_RETURN(MaybeValue c, if_->Evaluate(ctx));
    return IsTruthy(c) ? then_->Evaluate(ctx) : else_->Evaluate(ctx);
  }

 private:
  ExpressionPtr if_, then_, else_;
};

Result<ExpressionPtr> ParseCond(const Value& args, const ParseContext& ctx) {
  if (!args.is_document()) {
    EDDY_ASSIGN_OR_RETURN(auto ops, ParseOperands("$cond", args, ctx, 3, 3));
    return ExpressionPtr(std::make_shared<CondExpr>(ops[0], ops[1], ops[2]));
  }
  ExpressionPtr parts[3];
  for (const bson::Field& f : args.as_document()) {
    int i = f.name == "if" ? 0 : f.name == "then" ? 1 : f.name == "else" ? 2 : -1;
    if (i < 0) return Error(17083, "Unrecognized parameter to $cond: " + f.name);
    EDDY_ASSIGN_OR_RETURN(parts[i], ParseExpression(f.value, ctx));
  }
  if (!parts[0]) return Error(17080, "Missing 'if' parameter to $cond");
  if (!parts[1]) return Error(17081, "Missing 'then' parameter to $cond");
  if (!parts[2]) return Error(17082, "Missing 'else' parameter to $cond");
  return ExpressionPtr(std::make_shared<CondExpr>(parts[0], parts[1], parts[2]));
}

class IfNullExpr : public Expression {
 public:
  explicit IfNullExpr(std::vector<ExpressionPtr> ops) : ops_(std::move(ops)) {}
  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    for (size_t i = 0; i + 1 < ops_.size(); ++i) {
      EDDY_ASSIGN_OR_RETURN(MaybeValue v, ops_[i]->Evaluate(ctx));
      if (!IsNullish(v)) return v;
    }
    return ops_.back()->Evaluate(ctx);
  }

 private:
  std::vector<ExpressionPtr> ops_;
};

Result<ExpressionPtr> ParseIfNull(const Value& args, const ParseContext& ctx) {
  std::vector<ExpressionPtr> ops;
  if (args.is_array()) {
    for (const Value& e : args.as_array()) {
      EDDY_ASSIGN_OR_RETURN(ExpressionPtr p, ParseExpression(e, ctx));
      ops.push_back(std::move(p));
    }
  } else {
    EDDY_ASSIGN_OR_RETURN(ExpressionPtr p, ParseExpression(args, ctx));
    ops.push_back(std::move(p));
  }
  if (ops.size() < 2) {
    return Error(1257300,
                 "$ifNull needs at least two arguments, had: " + std::to_string(ops.size()));
  }
  return ExpressionPtr(std::make_shared<IfNullExpr>(std::move(ops)));
}

class SwitchExpr : public Expression {
 public:
  SwitchExpr(std::vector<std::pair<ExpressionPtr, ExpressionPtr>> branches, ExpressionPtr def)
      : branches_(std::move(branches)), default_(std::move(def)) {}
  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    for (const auto& [c, t] : branches_) {
      EDDY_ASSIGN_OR_RETURN(MaybeValue v, c->Evaluate(ctx));
      if (IsTruthy(v)) return t->Evaluate(ctx);
    }
    if (!default_) {
      return Error(40066,
                   "$switch could not find a matching branch for an input, and no default was "
                   "specified.");
    }
    return default_->Evaluate(ctx);
  }

 private:
  std::vector<std::pair<ExpressionPtr, ExpressionPtr>> branches_;
  ExpressionPtr default_;
};

Result<ExpressionPtr> ParseSwitch(const Value& args, const ParseContext& ctx) {
  if (!args.is_document()) {
    return Error(40060, "$switch requires an object as an argument, found: " +
                            std::string(bson::TypeName(args.type())));
  }
  std::vector<std::pair<ExpressionPtr, ExpressionPtr>> branches;
  ExpressionPtr def;
  for (const bson::Field& f : args.as_document()) {
    if (f.name == "branches") {
      if (!f.value.is_array()) {
        return Error(40061, "$switch expected an array for 'branches', found: " +
                                std::string(bson::TypeName(f.value.type())));
      }
      for (const Value& b : f.value.as_array()) {
        if (!b.is_document()) {
          return Error(40062, "$switch expected each branch to be an object, found: " +
                                  std::string(bson::TypeName(b.type())));
        }
        ExpressionPtr c, t;
        for (const bson::Field& bf : b.as_document()) {
          if (bf.name == "case") {
            EDDY_ASSIGN_OR_RETURN(c, ParseExpression(bf.value, ctx));
          } else if (bf.name == "then") {
            EDDY_ASSIGN_OR_RETURN(t, ParseExpression(bf.value, ctx));
          } else {
            return Error(40063, "$switch found an unknown argument to a branch: " + bf.name);
          }
        }
        if (!c) return Error(40064, "$switch requires each branch have a 'case' expression");
        if (!t) return Error(40065, "$switch requires each branch have a 'then' expression.");
        branches.emplace_back(std::move(c), std::move(t));
      }
    } else if (f.name == "default") {
      EDDY_ASSIGN_OR_RETURN(def, ParseExpression(f.value, ctx));
    } else {
      return Error(40067, "$switch found an unknown argument: " + f.name);
    }
  }
  if (branches.empty()) return Error(40068, "$switch requires at least one branch.");
  return ExpressionPtr(std::make_shared<SwitchExpr>(std::move(branches), std::move(def)));
}

}  // namespace

void RegisterComparisonAndLogic() {
  RegisterComparison("$eq", [](int c) { return Bool(c == 0); });
  RegisterComparison("$ne", [](int c) { return Bool(c != 0); });
  RegisterComparison("$gt", [](int c) { return Bool(c > 0); });
  RegisterComparison("$gte", [](int c) { return Bool(c >= 0); });
  RegisterComparison("$lt", [](int c) { return Bool(c < 0); });
  RegisterComparison("$lte", [](int c) { return Bool(c <= 0); });
  RegisterComparison("$cmp", [](int c) {
    return MaybeValue(Value(static_cast<int32_t>(c < 0 ? -1 : c > 0 ? 1 : 0)));
  });
  for (bool is_and : {true, false}) {
    std::string name = is_and ? "$and" : "$or";
    RegisterExpression(name, [name, is_and](const Value& args, const ParseContext& ctx)
                                 -> Result<ExpressionPtr> {
      EDDY_ASSIGN_OR_RETURN(auto ops, ParseOperands(name, args, ctx, 0, -1));
      return ExpressionPtr(std::make_shared<AndOrExpr>(is_and, std::move(ops)));
    });
  }
  RegisterExpression("$not", [](const Value& args, const ParseContext& ctx)
                                 -> Result<ExpressionPtr> {
    EDDY_ASSIGN_OR_RETURN(auto ops, ParseOperands("$not", args, ctx, 1, 1));
    return MakeOperator(std::move(ops), [](const std::vector<MaybeValue>& a) {
      return Result<MaybeValue>(Bool(!IsTruthy(a[0])));
    });
  });
  RegisterExpression("$cond", ParseCond);
  RegisterExpression("$ifNull", ParseIfNull);
  RegisterExpression("$switch", ParseSwitch);
}

}  // namespace eddy::query::expr_internal
