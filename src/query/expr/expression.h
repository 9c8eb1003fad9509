// The aggregation expression language core: parse an expression spec once into an immutable
// tree, evaluate it against many documents.
//
//   ParseContext pctx;
//   EDDY_ASSIGN_OR_RETURN(ExpressionPtr e, ParseExpression(spec, pctx));
//   EvalContext ctx(doc);                      // $$ROOT = $$CURRENT = doc
//   EDDY_ASSIGN_OR_RETURN(MaybeValue v, e->Evaluate(ctx));
//
// Missing vs null: evaluation returns MaybeValue = std::optional<bson::Value>; std::nullopt is
// MongoDB's "missing" (a field path that resolves to nothing, $$REMOVE, an out-of-range
// $arrayElemAt), distinct from an explicit null. Callers that build documents omit missing
// fields; array literals turn missing elements into null; comparisons order missing (and
// undefined) before null, as mongod's Value::compare does.
//
// Parsing mirrors mongod's Expression::parseOperand:
//   - "$a.b"          field path on $$CURRENT, with implicit array traversal: "$a.b" over
//                     a: [{b: 1}, {b: [2]}, {c: 3}] yields [1, [2]] (missing elements dropped);
//   - "$$var.a.b"     a variable (ROOT, CURRENT, NOW, REMOVE, or one bound by $let) and a path;
//   - {$op: args}     an operator from the registry; args is one operand or an array of them;
//   - {a: expr, ...}  an object literal (fields evaluating to missing are left out);
//   - [expr, ...]     an array literal;
//   - anything else   a constant.
// Errors use mongod's codes: InvalidPipelineOperator (168) "Unrecognized expression '$foo'",
// 15983 for an operator object with more than one field, 16020/16021 for arity, 17276 for an
// undefined variable, 16872/15998/16410/16411 for bad field paths, and each operator's own
// codes (e.g. $divide by zero: BadValue "can't $divide by zero").
//
// Numbers follow mongod: int32 -> int64 -> double widening with overflow promotion (int32
// overflow gives int64, int64 overflow gives double), decimal absorbs everything. Decimal
// $add/$subtract/$multiply/$divide/$mod/$round/$trunc/$ceil/$floor are exact IEEE decimal128
// (34 digits, half-even, preferred exponents); $sqrt/$exp/$ln/$log10/$pow on decimals are
// computed in long double (~19 significant digits).
//
// Extending: the pipeline (and later modules) add operators with RegisterExpression() before
// parsing starts; registration and parsing are safe to interleave (a shared mutex guards the
// registry) but an operator must be registered before a spec using it is parsed.
//
// Thread-safety: a parsed Expression is immutable and may be evaluated concurrently from many
// threads, each with its own EvalContext.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "bson/value.h"

namespace eddy::query {

// std::nullopt means "missing" (see the file comment).
using MaybeValue = std::optional<bson::Value>;

// Per-evaluation state: the documents $$ROOT and $$CURRENT refer to, $$NOW, and the stack of
// user variables bound by $let (and later $map/$filter/$reduce). Not thread-safe: use one per
// thread. The referenced documents must outlive the context.
class EvalContext {
 public:
  // $$ROOT = $$CURRENT = root; $$NOW = the wall clock at construction.
  explicit EvalContext(const bson::Document& root);
  EvalContext(const bson::Document& root, bson::DateTime now);

  const bson::Document& root() const { return *root_; }
  const bson::Document& current() const { return *current_; }
  // Rebinds $$CURRENT (stages such as $lookup/$map evaluate on other documents).
  // REQUIRES: doc outlives its use as CURRENT.
  void set_current(const bson::Document& doc) { current_ = &doc; }
  bson::DateTime now() const { return now_; }

  // Variable stack. Inner bindings shadow outer ones with the same name.
  void PushVariable(std::string name, MaybeValue value);
  void PopVariables(size_t count);
  // nullptr if no user variable by that name is bound.
  const MaybeValue* LookupVariable(std::string_view name) const;

 private:
  const bson::Document* root_;
  const bson::Document* current_;
  bson::DateTime now_;
  std::vector<std::pair<std::string, MaybeValue>> vars_;
};

// Parse-time state: which user variables are in scope, so "$$foo" can be rejected at parse
// time (17276) as mongod does. Copy it to open a nested scope.
class ParseContext {
 public:
  ParseContext() = default;
  bool IsDefined(std::string_view name) const;
  // Returns a copy with `names` added to the scope.
  ParseContext WithVariables(const std::vector<std::string>& names) const;

 private:
  std::vector<std::string> vars_;
};

class Expression {
 public:
  virtual ~Expression() = default;
  virtual Result<MaybeValue> Evaluate(EvalContext& ctx) const = 0;
  // True for literals (the pipeline may fold or skip re-evaluation).
  virtual bool IsConstant() const { return false; }
};
using ExpressionPtr = std::shared_ptr<const Expression>;

// Parses any expression spec (see the file comment).
Result<ExpressionPtr> ParseExpression(const bson::Value& spec, const ParseContext& ctx);
// Parses an object as an expression: {$op: ...} or an object literal.
Result<ExpressionPtr> ParseExpressionObject(const bson::Document& spec, const ParseContext& ctx);

// ---- Extension API ----

// Parses the argument of {$name: args}. `args` is the raw value (an array or a single operand).
using ExpressionParser =
    std::function<Result<ExpressionPtr>(const bson::Value& args, const ParseContext& ctx)>;

// Adds (or replaces) the operator `name` (with its '$', e.g. "$add").
void RegisterExpression(std::string name, ExpressionParser parser);
bool IsRegisteredExpression(std::string_view name);

// Operands of {op: args}: an array gives its elements, anything else is one operand. Checks
// the count is within [min_args, max_args] (max_args < 0: unbounded) with mongod's messages
// ("Expression $add takes exactly 2 arguments. 1 were passed in.", code 16020; "at least",
// 16020; "at most", 16021).
Result<std::vector<ExpressionPtr>> ParseOperands(std::string_view op, const bson::Value& args,
                                                 const ParseContext& ctx, int min_args,
                                                 int max_args);

// A constant expression.
ExpressionPtr MakeConstant(MaybeValue value);

// A generic operator: evaluates every operand, then calls `fn` with the values. Most simple
// operators are one line with this.
using OperatorFn = std::function<Result<MaybeValue>(const std::vector<MaybeValue>& args)>;
ExpressionPtr MakeOperator(std::vector<ExpressionPtr> operands, OperatorFn fn);

// ---- Value helpers shared by operators (mongod semantics) ----

// Aggregation ordering: missing == undefined < null < (bson::Compare order).
int CompareValues(const MaybeValue& a, const MaybeValue& b);
// $type's name for a value: "missing", "double", "string", ...
std::string_view TypeNameOf(const MaybeValue& v);
// null, undefined or missing.
inline bool IsNullish(const MaybeValue& v) { return !v || v->is_nullish(); }
// Aggregation truthiness (missing is false).
inline bool IsTruthy(const MaybeValue& v) { return v && v->Truthy(); }
// Renders a value inside an error message (shell syntax, "missing" for missing).
std::string DescribeForError(const MaybeValue& v);

// User variables with their values, in binding order (a command's `let`, $lookup's let).
using VariableList = std::vector<std::pair<std::string, MaybeValue>>;

// mongod's rules for a user variable name: BadValue-style codes 16866 (empty), 16867 (must start
// with a lowercase ASCII letter or a non-ASCII byte), 16868 (other characters: letters,
// digits, '_' or non-ASCII).
Status ValidateUserVariableName(const std::string& name);

// A command's `let` (find, update, delete, findAndModify, aggregate): each field is a
// constant expression evaluated once, before any document is read ($$NOW is `now`, and earlier
// `let` variables are in scope). Errors as mongod's: 16866-16868 for a bad name, 4890500 for an
// expression that reads a document field ("$a", $$ROOT, $$CURRENT), and the expression's own
// parse or evaluation errors.
Result<std::shared_ptr<const VariableList>> EvaluateCommandLet(const bson::Document& let,
                                                               bson::DateTime now);
// The wall clock as a BSON date.
bson::DateTime WallClockDateTime();

// Registration functions of the built-in operator families (called once by the registry).
namespace expr_internal {
void RegisterCoreOperators();        // $literal $let (in expression.cc)
void RegisterComparisonAndLogic();   // $eq.. $cmp $and $or $not $cond $ifNull $switch
void RegisterArithmetic();           // $add $subtract ... $round $trunc
void RegisterArrayAndString();       // $in $size $arrayElemAt ... $substrCP $type
void RegisterConversion();           // $convert $toString $toInt ...
void RegisterArrayOps();    // $filter $map $reduce $slice ... sets, $mergeObjects $getField $rand
void RegisterStringOps();   // $regexMatch $regexFind(All) $split $trim ... $replaceAll
void RegisterDateOps();     // $year ... $dateToString $dateFromString $dateAdd $dateDiff $dateTrunc
}  // namespace expr_internal

}  // namespace eddy::query
