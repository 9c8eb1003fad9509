#include "query/match/matcher.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string_view>

#include "bson/compare.h"
#include "query/expr/expression.h"
#include "query/match/json_schema.h"
#include "query/match/regex.h"
#include "query/path.h"

namespace eddy::query {
namespace match_internal {

using bson::Array;
using bson::Document;
using bson::Field;
using bson::Type;
using bson::Value;

struct Ctx {
  MatchDetails* details = nullptr;
  Status* error = nullptr;
};

// Every node answers two questions: does a document match (the path is walked), and does one
// already-selected value match (used under $elemMatch's value form and by $not/$and over
// operators there). Missing is passed as nullptr.
class Node {
 public:
  virtual ~Node() = default;
  virtual bool Matches(const Document& doc, Ctx& ctx) const = 0;
  virtual bool MatchesSingle(const Value* v, Ctx& ctx) const { return false; }
};
using NodePtr = std::shared_ptr<const Node>;

}  // namespace match_internal

namespace {

using namespace match_internal;  // NOLINT: implementation file

constexpr ErrorCode kBadValue = ErrorCode::kBadValue;

// The array index a path component names, if it is one: digits only, and written the way
// BSON writes array field names ("0", "12", never "01"), since mongod compares the strings.
std::optional<size_t> ArrayIndexOf(const std::string& part) {
  if (part.empty() || part.size() > 9) return std::nullopt;
  for (char c : part) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  if (part.size() > 1 && part[0] == '0') return std::nullopt;
  return static_cast<size_t>(std::stoul(part));
}

// ---- Path traversal: mongod's BSONElementIterator as recursion. The callback gets each value
// the path yields (nullptr for missing) and the offset in the outermost implicitly traversed
// array; it returns true to stop.

template <class F>
bool WalkArray(const Value& array_value, const std::vector<std::string>& parts, size_t rest,
               bool traverse_leaf, std::optional<size_t> outer, F& f);

template <class F>
bool WalkDoc(const Document& doc, const std::vector<std::string>& parts, size_t start,
             bool traverse_leaf, std::optional<size_t> outer, F& f) {
  const Document* d = &doc;
  for (size_t i = start;; ++i) {
    const Value* v = d->Get(parts[i]);
    if (v == nullptr) return f(nullptr, outer);
    if (i + 1 == parts.size()) {
      if (v->is_array() && traverse_leaf) {
        return WalkArray(*v, parts, i + 1, traverse_leaf, outer, f);
      }
      return f(v, outer);
    }
    if (v->is_document()) {
      d = &v->as_document();
      continue;
    }
    if (v->is_array()) return WalkArray(*v, parts, i + 1, traverse_leaf, outer, f);
    return f(nullptr, outer);  // a scalar in the middle of the path: missing
  }
}

template <class F>
bool WalkArray(const Value& array_value, const std::vector<std::string>& parts, size_t rest,
               bool traverse_leaf, std::optional<size_t> outer, F& f) {
  const Array& arr = array_value.as_array();
  if (rest == parts.size()) {  // the path ends at this array
    if (!traverse_leaf) return f(&array_value, outer);
    for (size_t i = 0; i < arr.size(); ++i) {
      if (f(&arr[i], outer ? outer : std::optional<size_t>(i))) return true;
    }
    return f(&array_value, outer);  // and the whole array, for {a: [1, 2]}
  }
  std::optional<size_t> index = ArrayIndexOf(parts[rest]);
  bool index_is_last = rest + 1 == parts.size();
  for (size_t i = 0; i < arr.size(); ++i) {
    const Value& e = arr[i];
    bool offset_match = index && *index == i;
    if (e.is_document()) {
      if (WalkDoc(e.as_document(), parts, rest, traverse_leaf,
                  outer ? outer : std::optional<size_t>(i), f)) {
        return true;
      }
      if (offset_match) {
        if (index_is_last) {
          if (f(&e, outer)) return true;
        } else if (WalkDoc(e.as_document(), parts, rest + 1, traverse_leaf, outer, f)) {
          return true;
        }
      }
    } else if (offset_match) {
      if (index_is_last) {
        if (f(&e, outer)) return true;
      } else if (e.is_array()) {
        if (WalkArray(e, parts, rest + 1, traverse_leaf, outer, f)) return true;
      }
    }
  }
  return false;
}

// ---- Leaf nodes: a path plus a predicate on each value it yields.

class LeafNode : public Node {
 public:
  LeafNode(std::string path, bool traverse_leaf)
      : parts_(SplitPath(path)), traverse_leaf_(traverse_leaf) {}

  bool Matches(const Document& doc, Ctx& ctx) const override {
    bool found = false;
    auto f = [&](const Value* v, std::optional<size_t> offset) {
      MatchDetails local;
      Ctx sub{ctx.details ? &local : nullptr, ctx.error};
      if (!MatchesSingle(v, sub)) return false;
      if (ctx.details) {
        if (offset) {
          ctx.details->array_index = offset;
        } else if (local.array_index) {
          ctx.details->array_index = local.array_index;
        }
      }
      found = true;
      return true;
    };
    WalkDoc(doc, parts_, 0, traverse_leaf_, std::nullopt, f);
    return found;
  }

 private:
  std::vector<std::string> parts_;
  bool traverse_leaf_;
};

// The canonical rank the matcher compares by: missing ranks with undefined, below null.
constexpr int kMissingRank = std::numeric_limits<int>::min();
int Rank(const Value* v) {
  if (v == nullptr || v->is_undefined()) return kMissingRank;
  return bson::CanonicalTypeRank(v->type());
}

bool IsNaN(const Value& v) { return v.is_number() && std::isnan(v.ToDouble()); }

enum class CmpOp { kEq, kLt, kLte, kGt, kGte };

class CompareNode : public LeafNode {
 public:
  CompareNode(std::string path, CmpOp op, Value rhs, CollatorPtr collator)
      : LeafNode(std::move(path), true),
        op_(op),
        rhs_(std::move(rhs)),
        rhs_rank_(Rank(&rhs_)),
        collator_(ContainsString(rhs_) ? std::move(collator) : nullptr) {
    if (collator_) rhs_key_ = CollationKeyOf(rhs_, collator_.get());
  }

  bool MatchesSingle(const Value* v, Ctx&) const override {
    int rank = Rank(v);
    if (rank != rhs_rank_) {
      if (rank == kMissingRank && rhs_.is_null()) {
        return op_ == CmpOp::kEq || op_ == CmpOp::kLte || op_ == CmpOp::kGte;
      }
      Type t = rhs_.type();
      if (t == Type::kMaxKey || t == Type::kMinKey) {
        switch (op_) {
          case CmpOp::kLt:
          case CmpOp::kLte: return t == Type::kMaxKey;
          case CmpOp::kEq: return false;
          case CmpOp::kGt:
          case CmpOp::kGte: return t == Type::kMinKey;
        }
      }
      return false;
    }
    if (rank == kMissingRank) return false;  // rhs is never undefined (rejected at parse)
    if (v->is_number()) {
      bool a = IsNaN(*v), b = IsNaN(rhs_);
      if (a || b) {
        bool both = a && b;
        return (op_ == CmpOp::kEq || op_ == CmpOp::kLte || op_ == CmpOp::kGte) && both;
      }
    }
    int c = collator_ ? bson::Compare(CollationKeyOf(*v, collator_.get()), rhs_key_)
                      : bson::Compare(*v, rhs_);
    switch (op_) {
      case CmpOp::kEq: return c == 0;
      case CmpOp::kLt: return c < 0;
      case CmpOp::kLte: return c <= 0;
      case CmpOp::kGt: return c > 0;
      case CmpOp::kGte: return c >= 0;
    }
    return false;
  }

 private:
  CmpOp op_;
  Value rhs_;
  int rhs_rank_;
  CollatorPtr collator_;  // set only when rhs_ holds a string
  Value rhs_key_;         // rhs_ with strings as collation keys
};

bool RegexMatchesValue(const CompiledRegex& re, const Value& v) {
  if (v.is_string()) return re.Matches(v.as_string());
  if (v.type() == Type::kSymbol) {
    return re.Matches(std::get<bson::Symbol>(v.storage()).symbol);
  }
  if (v.type() == Type::kRegex) {
    const bson::Regex& r = v.as_regex();
    std::string opts = r.options;
    std::sort(opts.begin(), opts.end());
    return r.pattern == re.pattern() && opts == re.options();
  }
  return false;
}

class RegexNode : public LeafNode {
 public:
  RegexNode(std::string path, std::shared_ptr<const CompiledRegex> re)
      : LeafNode(std::move(path), true), re_(std::move(re)) {}
  bool MatchesSingle(const Value* v, Ctx&) const override {
    return v != nullptr && RegexMatchesValue(*re_, *v);
  }

 private:
  std::shared_ptr<const CompiledRegex> re_;
};

class InNode : public LeafNode {
 public:
  InNode(std::string path, std::vector<Value> values,
         std::vector<std::shared_ptr<const CompiledRegex>> regexes, CollatorPtr collator)
      : LeafNode(std::move(path), true), regexes_(std::move(regexes)) {
    for (Value& v : values) {
      if (v.is_null()) {
        has_null_ = true;
      } else if (IsNaN(v)) {
        has_nan_ = true;
      } else {
        if (collator && ContainsString(v)) collator_ = collator;
        values_.push_back(std::move(v));
      }
    }
    // With a collation the set holds comparison keys; probes are translated the same way.
    if (collator_) {
      for (Value& v : values_) v = CollationKeyOf(v, collator_.get());
    }
    std::sort(values_.begin(), values_.end(), bson::ValueLess());
  }

  bool MatchesSingle(const Value* v, Ctx&) const override {
    if (v == nullptr || v->is_nullish()) return has_null_;
    if (IsNaN(*v)) return has_nan_;
    const Value* probe = v;
    Value key;
    if (collator_) {
      key = CollationKeyOf(*v, collator_.get());
      probe = &key;
    }
    auto it = std::lower_bound(values_.begin(), values_.end(), *probe, bson::ValueLess());
    if (it != values_.end() && bson::Compare(*it, *probe) == 0) return true;
    for (const auto& re : regexes_) {
      if (RegexMatchesValue(*re, *v)) return true;
    }
    return false;
  }

 private:
  std::vector<Value> values_;
  bool has_null_ = false;
  bool has_nan_ = false;
  std::vector<std::shared_ptr<const CompiledRegex>> regexes_;
  CollatorPtr collator_;  // set only when some value holds a string
};

class ExistsNode : public LeafNode {
 public:
  explicit ExistsNode(std::string path) : LeafNode(std::move(path), true) {}
  bool MatchesSingle(const Value* v, Ctx&) const override { return v != nullptr; }
};

class TypeNode : public LeafNode {
 public:
  TypeNode(std::string path, std::vector<Type> types, bool any_number)
      : LeafNode(std::move(path), true), types_(std::move(types)), any_number_(any_number) {}
  bool MatchesSingle(const Value* v, Ctx&) const override {
    if (v == nullptr) return false;
    if (any_number_ && v->is_number()) return true;
    return std::find(types_.begin(), types_.end(), v->type()) != types_.end();
  }

 private:
  std::vector<Type> types_;
  bool any_number_;
};

class SizeNode : public LeafNode {
 public:
  SizeNode(std::string path, int64_t size) : LeafNode(std::move(path), false), size_(size) {}
  bool MatchesSingle(const Value* v, Ctx&) const override {
    return v != nullptr && v->is_array() && static_cast<int64_t>(v->as_array().size()) == size_;
  }

 private:
  int64_t size_;
};

class ModNode : public LeafNode {
 public:
  ModNode(std::string path, int64_t divisor, int64_t remainder)
      : LeafNode(std::move(path), true), divisor_(divisor), remainder_(remainder) {}
  bool MatchesSingle(const Value* v, Ctx&) const override {
    if (v == nullptr || !v->is_number()) return false;
    if (!v->is_int32() && !v->is_int64() && !std::isfinite(v->ToDouble())) return false;
    int64_t x = v->ToInt64();
    if (divisor_ == -1) return remainder_ == 0;  // avoids INT64_MIN % -1
    return x % divisor_ == remainder_;
  }

 private:
  int64_t divisor_;
  int64_t remainder_;
};

Document ArrayAsDocument(const Array& arr) {
  Document d;
  for (size_t i = 0; i < arr.size(); ++i) d.Append(std::to_string(i), arr[i]);
  return d;
}

class ElemMatchObjectNode : public LeafNode {
 public:
  ElemMatchObjectNode(std::string path, NodePtr sub)
      : LeafNode(std::move(path), false), sub_(std::move(sub)) {}
  bool MatchesSingle(const Value* v, Ctx& ctx) const override {
    if (v == nullptr || !v->is_array()) return false;
    const Array& arr = v->as_array();
    for (size_t i = 0; i < arr.size(); ++i) {
      Ctx sub{nullptr, ctx.error};
      bool ok = false;
      if (arr[i].is_document()) {
        ok = sub_->Matches(arr[i].as_document(), sub);
      } else if (arr[i].is_array()) {  // mongod treats a nested array as an object here
        ok = sub_->Matches(ArrayAsDocument(arr[i].as_array()), sub);
      }
      if (ok) {
        if (ctx.details) ctx.details->array_index = i;
        return true;
      }
    }
    return false;
  }

 private:
  NodePtr sub_;
};

class ElemMatchValueNode : public LeafNode {
 public:
  ElemMatchValueNode(std::string path, NodePtr sub)
      : LeafNode(std::move(path), false), sub_(std::move(sub)) {}
  bool MatchesSingle(const Value* v, Ctx& ctx) const override {
    if (v == nullptr || !v->is_array()) return false;
    const Array& arr = v->as_array();
    for (size_t i = 0; i < arr.size(); ++i) {
      Ctx sub{nullptr, ctx.error};
      if (sub_->MatchesSingle(&arr[i], sub)) {
        if (ctx.details) ctx.details->array_index = i;
        return true;
      }
    }
    return false;
  }

 private:
  NodePtr sub_;
};

// ---- Logical nodes.

class AndNode : public Node {
 public:
  explicit AndNode(std::vector<NodePtr> children) : children_(std::move(children)) {}
  bool Matches(const Document& doc, Ctx& ctx) const override {
    for (const auto& c : children_) {
      if (!c->Matches(doc, ctx)) return false;
    }
    return true;
  }
  bool MatchesSingle(const Value* v, Ctx& ctx) const override {
    for (const auto& c : children_) {
      if (!c->MatchesSingle(v, ctx)) return false;
    }
    return true;
  }
  bool empty() const { return children_.empty(); }

 private:
  std::vector<NodePtr> children_;
};

class OrNode : public Node {
 public:
  explicit OrNode(std::vector<NodePtr> children) : children_(std::move(children)) {}
  bool Matches(const Document& doc, Ctx& ctx) const override {
    for (const auto& c : children_) {
      if (c->Matches(doc, ctx)) return true;
    }
    return false;
  }
  bool MatchesSingle(const Value* v, Ctx& ctx) const override {
    for (const auto& c : children_) {
      if (c->MatchesSingle(v, ctx)) return true;
    }
    return false;
  }

 private:
  std::vector<NodePtr> children_;
};

class NorNode : public Node {
 public:
  explicit NorNode(std::vector<NodePtr> children) : children_(std::move(children)) {}
  bool Matches(const Document& doc, Ctx& ctx) const override {
    Ctx sub{nullptr, ctx.error};
    for (const auto& c : children_) {
      if (c->Matches(doc, sub)) return false;
    }
    return true;
  }

 private:
  std::vector<NodePtr> children_;
};

class NotNode : public Node {
 public:
  explicit NotNode(NodePtr child) : child_(std::move(child)) {}
  bool Matches(const Document& doc, Ctx& ctx) const override {
    Ctx sub{nullptr, ctx.error};
    return !child_->Matches(doc, sub);
  }
  bool MatchesSingle(const Value* v, Ctx& ctx) const override {
    Ctx sub{nullptr, ctx.error};
    return !child_->MatchesSingle(v, sub);
  }

 private:
  NodePtr child_;
};

class ConstNode : public Node {
 public:
  explicit ConstNode(bool value) : value_(value) {}
  bool Matches(const Document&, Ctx&) const override { return value_; }
  bool MatchesSingle(const Value*, Ctx&) const override { return value_; }

 private:
  bool value_;
};

class ExprNode : public Node {
 public:
  ExprNode(ExpressionPtr expr, std::shared_ptr<const VariableList> vars)
      : expr_(std::move(expr)), vars_(std::move(vars)) {}
  bool Matches(const Document& doc, Ctx& ctx) const override {
    EvalContext ec(doc);
    if (vars_) {
      for (const auto& [name, value] : *vars_) ec.PushVariable(name, value);
    }
    Result<MaybeValue> r = expr_->Evaluate(ec);
    if (!r.ok()) {
      if (ctx.error && ctx.error->ok()) *ctx.error = r.status();
      return false;
    }
    return IsTruthy(*r);
  }

 private:
  ExpressionPtr expr_;
  std::shared_ptr<const VariableList> vars_;
};

// ---- Parsing (mongod's MatchExpressionParser).

struct ParseState {
  bool top_level = true;  // $expr/$where are allowed only on the top-level document
  bool* has_expr = nullptr;
  const MatchOptions* options = nullptr;
  const CollatorPtr& collator() const {
    static const CollatorPtr kNone;
    return options ? options->collator : kNone;
  }
};

Status Bad(std::string message) { return Status(kBadValue, std::move(message)); }

// mongod's isDBRefDocument: {$ref, $id} anywhere in the document, or with incomplete DBRefs
// allowed any one of $ref/$id/$db.
bool IsDBRefDocument(const Document& d, bool allow_incomplete) {
  bool ref = d.Has("$ref"), id = d.Has("$id"), db = d.Has("$db");
  return allow_incomplete ? (ref || id || db) : (ref && id);
}

// {$op: ...} rather than a literal document to compare with (mongod's isExpressionDocument).
bool IsOperatorDocument(const Value& v, bool allow_incomplete_dbref = false) {
  if (!v.is_document() || v.as_document().empty()) return false;
  const std::string& first = v.as_document().at(0).name;
  return !first.empty() && first[0] == '$' &&
         !IsDBRefDocument(v.as_document(), allow_incomplete_dbref);
}

// Operators accepted after a path ({a: {$op: ...}}).
bool IsPathOperator(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "$eq",    "$ne",        "$gt",     "$gte",   "$lt",      "$lte",          "$in",
      "$nin",   "$exists",    "$type",   "$size",  "$mod",     "$elemMatch",    "$all",
      "$not",   "$regex",     "$options", "$near", "$nearSphere", "$geoWithin", "$geoIntersects",
      "$within", "$bitsAllSet", "$bitsAllClear", "$bitsAnySet", "$bitsAnyClear"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

bool IsTopLevelOperator(std::string_view name) {
  return name == "$and" || name == "$or" || name == "$nor" || name == "$expr" ||
         name == "$where" || name == "$comment" || name == "$alwaysTrue" ||
         name == "$alwaysFalse" || name == "$text" || name == "$jsonSchema" ||
         name == "$sampleRate";
}

Result<NodePtr> ParseFilter(const Document& filter, ParseState st);
Result<NodePtr> ParseOperatorDocument(const std::string& path, const Document& ops,
                                      ParseState st);

Result<std::shared_ptr<const CompiledRegex>> CompileRegexValue(const bson::Regex& r) {
  return CompiledRegex::Compile(r.pattern, r.options);
}

Result<NodePtr> ParseEquality(const std::string& path, const Value& v, const ParseState& st) {
  if (v.is_undefined()) return Bad("cannot compare to undefined");
  if (v.type() == Type::kRegex) {
    EDDY_ASSIGN_OR_RETURN(auto re, CompileRegexValue(v.as_regex()));
    return NodePtr(std::make_shared<RegexNode>(path, std::move(re)));
  }
  return NodePtr(std::make_shared<CompareNode>(path, CmpOp::kEq, v, st.collator()));
}

Result<NodePtr> ParsePathValue(const std::string& path, const Value& v, ParseState st) {
  if (IsOperatorDocument(v)) return ParseOperatorDocument(path, v.as_document(), st);
  return ParseEquality(path, v, st);
}

Result<NodePtr> ParseComparison(const std::string& path, std::string_view op, CmpOp cmp,
                                const Value& v, const ParseState& st) {
  if (v.is_undefined()) return Bad("cannot compare to undefined");
  if (v.type() == Type::kRegex && cmp != CmpOp::kEq) {
    return Bad("Can't have RegEx as arg to predicate over field '" + path + "'.");
  }
  return NodePtr(std::make_shared<CompareNode>(path, cmp, v, st.collator()));
}

Result<NodePtr> ParseIn(const std::string& path, std::string_view op, const Value& v,
                        const ParseState& st) {
  if (!v.is_array()) return Bad(std::string(op) + " needs an array");
  std::vector<Value> values;
  std::vector<std::shared_ptr<const CompiledRegex>> regexes;
  for (const Value& e : v.as_array()) {
    if (IsOperatorDocument(e)) return Bad("cannot nest $ under " + std::string(op));
    if (e.is_undefined()) return Bad("InMatchExpression equality cannot be undefined");
    if (e.type() == Type::kRegex) {
      EDDY_ASSIGN_OR_RETURN(auto re, CompileRegexValue(e.as_regex()));
      regexes.push_back(std::move(re));
    } else {
      values.push_back(e);
    }
  }
  return NodePtr(
      std::make_shared<InNode>(path, std::move(values), std::move(regexes), st.collator()));
}

Result<Type> TypeFromNumber(const Value& v) {
  std::string shown = v.is_double() ? std::to_string(v.as_double_exact()) : "";
  double d = v.ToDouble();
  int64_t n = v.ToInt64();
  if (v.is_double() || v.is_decimal()) {
    if (!std::isfinite(d) || d != std::trunc(d)) {
      std::string s = v.is_decimal() ? v.as_decimal().ToString() : "";
      if (s.empty()) {
        char buf[64];
        std::snprintf(buf, sizeof(buf), "%g", d);
        s = buf;
      }
      return Status(kBadValue, "Invalid numerical type code: " + s);
    }
  }
  if ((n >= 1 && n <= 19) || n == -1 || n == 127) {
    if (n == -1) return Type::kMinKey;
    if (n == 127) return Type::kMaxKey;
    return static_cast<Type>(n);
  }
  return Status(kBadValue, "Invalid numerical type code: " + std::to_string(n) +
                               (n == 0 ? ". Instead use {$exists:false}." : ""));
}

// Adds one $type argument (a code or an alias) to the set.
Status AddTypeArg(const Value& v, std::vector<Type>* types, bool* any_number) {
  if (v.is_number()) {
    EDDY_ASSIGN_OR_RETURN(Type t, TypeFromNumber(v));
    types->push_back(t);
    return Status::OK();
  }
  if (v.is_string()) {
    const std::string& s = v.as_string();
    if (s == "number") {
      *any_number = true;
      return Status::OK();
    }
    static constexpr Type kAll[] = {
        Type::kDouble,   Type::kString,    Type::kDocument,  Type::kArray,
        Type::kBinary,   Type::kUndefined, Type::kObjectId,  Type::kBool,
        Type::kDateTime, Type::kNull,      Type::kRegex,     Type::kDBPointer,
        Type::kJavaScript, Type::kSymbol,  Type::kJavaScriptWithScope, Type::kInt32,
        Type::kTimestamp, Type::kInt64,    Type::kDecimal128, Type::kMinKey,
        Type::kMaxKey};
    for (Type t : kAll) {
      if (bson::TypeName(t) == s) {
        types->push_back(t);
        return Status::OK();
      }
    }
    return Bad("Unknown type name alias: " + s);
  }
  return Status(ErrorCode::kTypeMismatch, "type must be represented as a number or a string");
}

Result<NodePtr> ParseType(const std::string& path, const Value& v) {
  std::vector<Type> types;
  bool any_number = false;
  if (v.is_array()) {
    for (const Value& e : v.as_array()) EDDY_RETURN_IF_ERROR(AddTypeArg(e, &types, &any_number));
  } else {
    EDDY_RETURN_IF_ERROR(AddTypeArg(v, &types, &any_number));
  }
  if (types.empty() && !any_number) {
    return Status(ErrorCode::kFailedToParse, path + " must match at least one type");
  }
  return NodePtr(std::make_shared<TypeNode>(path, std::move(types), any_number));
}

Result<NodePtr> ParseSize(const std::string& path, const Value& v) {
  if (!v.is_number()) return Bad("$size needs a number");
  if (v.is_double() || v.is_decimal()) {
    double d = v.ToDouble();
    if (!std::isfinite(d) || d != std::trunc(d)) return Bad("$size must be a whole number");
  }
  int64_t n = v.ToInt64();
  if (n < 0) return Bad("$size may not be negative");
  if (n > std::numeric_limits<int32_t>::max()) {
    return Bad("$size must be representable as a 32-bit integer");
  }
  return NodePtr(std::make_shared<SizeNode>(path, n));
}

Result<NodePtr> ParseMod(const std::string& path, const Value& v) {
  if (!v.is_array()) return Bad("malformed mod, needs to be an array");
  const Array& a = v.as_array();
  if (a.size() < 2) return Bad("malformed mod, not enough elements");
  if (a.size() > 2) return Bad("malformed mod, too many elements");
  if (!a[0].is_number()) return Bad("malformed mod, divisor not a number");
  if (!a[1].is_number()) return Bad("malformed mod, remainder not a number");
  for (int i = 0; i < 2; ++i) {
    if (!std::isfinite(a[i].ToDouble())) {
      return Bad(std::string("malformed mod, ") + (i == 0 ? "divisor" : "remainder") +
                 " value is invalid :: caused by :: Unable to coerce NaN/Inf to integral type");
    }
  }
  int64_t divisor = a[0].ToInt64();
  int64_t remainder = a[1].ToInt64();
  if (divisor == 0) return Bad("divisor cannot be 0");
  return NodePtr(std::make_shared<ModNode>(path, divisor, remainder));
}

Result<NodePtr> ParseElemMatch(const std::string& path, const Value& v, ParseState st) {
  if (!v.is_document()) return Bad("$elemMatch needs an Object");
  const Document& sub = v.as_document();
  bool value_form = false;
  if (IsOperatorDocument(v, /*allow_incomplete_dbref=*/true)) {
    value_form = !IsTopLevelOperator(sub.at(0).name);
  }
  ParseState inner{false, st.has_expr, st.options};
  if (value_form) {
    EDDY_ASSIGN_OR_RETURN(NodePtr n, ParseOperatorDocument("", sub, inner));
    return NodePtr(std::make_shared<ElemMatchValueNode>(path, std::move(n)));
  }
  EDDY_ASSIGN_OR_RETURN(NodePtr n, ParseFilter(sub, inner));
  return NodePtr(std::make_shared<ElemMatchObjectNode>(path, std::move(n)));
}

Result<NodePtr> ParseAll(const std::string& path, const Value& v, ParseState st) {
  if (!v.is_array()) return Bad("$all needs an array");
  const Array& a = v.as_array();
  if (a.empty()) return NodePtr(std::make_shared<ConstNode>(false));
  std::vector<NodePtr> children;
  auto is_elem_match = [](const Value& e) {
    return e.is_document() && !e.as_document().empty() &&
           e.as_document().at(0).name == "$elemMatch";
  };
  if (is_elem_match(a[0])) {
    for (const Value& e : a) {
      if (!is_elem_match(e)) {
        return Bad("$all/$elemMatch has to be consistent");
      }
      EDDY_ASSIGN_OR_RETURN(NodePtr n, ParseElemMatch(path, e.as_document().at(0).value, st));
      children.push_back(std::move(n));
    }
  } else {
    for (const Value& e : a) {
      if (e.is_document() && !e.as_document().empty() &&
          IsPathOperator(e.as_document().at(0).name)) {
        if (is_elem_match(e)) return Bad("$all/$elemMatch has to be consistent");
        return Bad("no $ expressions in $all");
      }
      EDDY_ASSIGN_OR_RETURN(NodePtr n, ParseEquality(path, e, st));
      children.push_back(std::move(n));
    }
  }
  return NodePtr(std::make_shared<AndNode>(std::move(children)));
}

// `options_first`: $options came before $regex in the operator document (mongod reports the
// conflict with a different code depending on which it saw second).
Result<NodePtr> ParseRegexOperator(const std::string& path, const Value& regex,
                                   const Value* options, bool options_first) {
  std::string pattern;
  std::string opts;
  if (regex.is_string()) {
    pattern = regex.as_string();
  } else if (regex.type() == Type::kRegex) {
    pattern = regex.as_regex().pattern;
    opts = regex.as_regex().options;
    if (options != nullptr && !opts.empty()) {
      return Status(static_cast<ErrorCode>(options_first ? 51074 : 51075),
                    "options set in both $regex and $options");
    }
  } else {
    return Bad("$regex has to be a string");
  }
  if (options != nullptr) {
    if (!options->is_string()) return Bad("$options has to be a string");
    opts = options->as_string();
  }
  EDDY_ASSIGN_OR_RETURN(auto re, CompiledRegex::Compile(pattern, opts));
  return NodePtr(std::make_shared<RegexNode>(path, std::move(re)));
}

Result<NodePtr> ParseNot(const std::string& path, const Value& v, ParseState st) {
  if (v.type() == Type::kRegex) {
    EDDY_ASSIGN_OR_RETURN(auto re, CompileRegexValue(v.as_regex()));
    return NodePtr(std::make_shared<NotNode>(std::make_shared<RegexNode>(path, std::move(re))));
  }
  if (!v.is_document()) return Bad("$not needs a regex or a document");
  if (v.as_document().empty()) return Bad("$not cannot be empty");
  EDDY_ASSIGN_OR_RETURN(NodePtr n, ParseOperatorDocument(path, v.as_document(), st));
  return NodePtr(std::make_shared<NotNode>(std::move(n)));
}

bool IsUnsupportedFieldOperator(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "$near",         "$nearSphere",   "$geoWithin",    "$geoIntersects", "$within",
      "$bitsAllSet",   "$bitsAllClear", "$bitsAnySet",   "$bitsAnyClear",  "$_internalSchemaType"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

Result<NodePtr> ParseOperator(const std::string& path, const Field& f, const Document& ops,
                              ParseState st) {
  const std::string& op = f.name;
  const Value& v = f.value;
  if (op == "$eq") return ParseComparison(path, op, CmpOp::kEq, v, st);
  if (op == "$lt") return ParseComparison(path, op, CmpOp::kLt, v, st);
  if (op == "$lte") return ParseComparison(path, op, CmpOp::kLte, v, st);
  if (op == "$gt") return ParseComparison(path, op, CmpOp::kGt, v, st);
  if (op == "$gte") return ParseComparison(path, op, CmpOp::kGte, v, st);
  if (op == "$ne") {
    if (v.type() == Type::kRegex) return Bad("Can't have regex as arg to $ne.");
    EDDY_ASSIGN_OR_RETURN(NodePtr n, ParseComparison(path, op, CmpOp::kEq, v, st));
    return NodePtr(std::make_shared<NotNode>(std::move(n)));
  }
  if (op == "$in") return ParseIn(path, op, v, st);
  if (op == "$nin") {
    EDDY_ASSIGN_OR_RETURN(NodePtr n, ParseIn(path, op, v, st));
    return NodePtr(std::make_shared<NotNode>(std::move(n)));
  }
  if (op == "$exists") {
    NodePtr n = std::make_shared<ExistsNode>(path);
    if (v.Truthy()) return n;
    return NodePtr(std::make_shared<NotNode>(std::move(n)));
  }
  if (op == "$type") return ParseType(path, v);
  if (op == "$size") return ParseSize(path, v);
  if (op == "$mod") return ParseMod(path, v);
  if (op == "$elemMatch") return ParseElemMatch(path, v, st);
  if (op == "$all") return ParseAll(path, v, st);
  if (op == "$not") return ParseNot(path, v, st);
  if (op == "$regex") {
    bool options_first = false;
    for (const Field& other : ops) {
      if (other.name == "$options") {
        options_first = true;
        break;
      }
      if (other.name == "$regex") break;
    }
    return ParseRegexOperator(path, v, ops.Get("$options"), options_first);
  }
  if (op == "$options") {
    if (!ops.Has("$regex")) return Bad("$options needs a $regex");
    return NodePtr(nullptr);  // consumed by $regex
  }
  if (IsUnsupportedFieldOperator(op)) return Bad(op + " is not supported");
  if (op == "$where") return Bad("$where cannot be applied to a field");
  return Bad("unknown operator: " + op);
}

Result<NodePtr> ParseOperatorDocument(const std::string& path, const Document& ops,
                                      ParseState st) {
  std::vector<NodePtr> children;
  for (const Field& f : ops) {
    EDDY_ASSIGN_OR_RETURN(NodePtr n, ParseOperator(path, f, ops, st));
    if (n) children.push_back(std::move(n));
  }
  if (children.size() == 1) return children[0];
  return NodePtr(std::make_shared<AndNode>(std::move(children)));
}

Result<std::vector<NodePtr>> ParseLogicalArray(const std::string& op, const Value& v,
                                               ParseState st) {
  if (!v.is_array()) return Bad(op + " must be an array");
  if (v.as_array().empty()) return Bad("$and/$or/$nor must be a nonempty array");
  std::vector<NodePtr> children;
  for (const Value& e : v.as_array()) {
    if (!e.is_document()) return Bad("$or/$and/$nor entries need to be full objects");
    EDDY_ASSIGN_OR_RETURN(NodePtr n, ParseFilter(e.as_document(), st));
    children.push_back(std::move(n));
  }
  return children;
}

// {$jsonSchema: {...}}: the whole document against a JSON schema.
class JsonSchemaNode : public Node {
 public:
  explicit JsonSchemaNode(JsonSchema schema) : schema_(std::move(schema)) {}
  bool Matches(const Document& doc, Ctx&) const override { return schema_.Matches(doc); }

 private:
  JsonSchema schema_;
};

Result<NodePtr> ParseTopLevelOperator(const Field& f, ParseState st) {
  const std::string& op = f.name;
  if (op == "$and" || op == "$or" || op == "$nor") {
    EDDY_ASSIGN_OR_RETURN(std::vector<NodePtr> children, ParseLogicalArray(op, f.value, st));
    if (op == "$and") return NodePtr(std::make_shared<AndNode>(std::move(children)));
    if (op == "$or") return NodePtr(std::make_shared<OrNode>(std::move(children)));
    return NodePtr(std::make_shared<NorNode>(std::move(children)));
  }
  if (op == "$comment") return NodePtr(nullptr);
  if (op == "$alwaysTrue" || op == "$alwaysFalse") {
    const Value& v = f.value;
    if (!v.is_number() || v.ToDouble() != 1) {
      return Status(ErrorCode::kFailedToParse, op + " must be an integer value of 1");
    }
    return NodePtr(std::make_shared<ConstNode>(op == "$alwaysTrue"));
  }
  if (op == "$expr") {
    if (!st.top_level) return Bad("$expr can only be applied to the top-level document");
    std::shared_ptr<const VariableList> vars = st.options ? st.options->variables : nullptr;
    std::vector<std::string> names;
    if (vars) {
      for (const auto& v : *vars) names.push_back(v.first);
    }
    EDDY_ASSIGN_OR_RETURN(ExpressionPtr e,
                          ParseExpression(f.value, ParseContext().WithVariables(names)));
    if (st.has_expr) *st.has_expr = true;
    return NodePtr(std::make_shared<ExprNode>(std::move(e), std::move(vars)));
  }
  if (op == "$where") return Bad("$where is not supported");
  if (op == "$jsonSchema") {
    if (!f.value.is_document()) {
      return Status(ErrorCode::kTypeMismatch, "$jsonSchema must be an object");
    }
    EDDY_ASSIGN_OR_RETURN(JsonSchema schema, JsonSchema::Parse(f.value.as_document()));
    return NodePtr(std::make_shared<JsonSchemaNode>(std::move(schema)));
  }
  if (op == "$text" || op == "$sampleRate") {
    return Bad(op + " is not supported");
  }
  return Bad("unknown top level operator: " + op);
}

Result<NodePtr> ParseFilter(const Document& filter, ParseState st) {
  std::vector<NodePtr> children;
  for (const Field& f : filter) {
    NodePtr n;
    if (!f.name.empty() && f.name[0] == '$') {
      EDDY_ASSIGN_OR_RETURN(n, ParseTopLevelOperator(f, st));
    } else {
      EDDY_ASSIGN_OR_RETURN(n, ParsePathValue(f.name, f.value, st));
    }
    if (n) children.push_back(std::move(n));
  }
  return NodePtr(std::make_shared<AndNode>(std::move(children)));
}

}  // namespace

Matcher::Matcher()
    : filter_(std::make_shared<const bson::Document>()),
      root_(std::make_shared<AndNode>(std::vector<NodePtr>{})) {}

Result<Matcher> Matcher::Compile(const bson::Document& filter, const MatchOptions& options) {
  Matcher m;
  ParseState st{true, &m.has_expr_, &options};
  m.collator_ = options.collator;
  EDDY_ASSIGN_OR_RETURN(m.root_, ParseFilter(filter, st));
  m.filter_ = std::make_shared<const bson::Document>(filter);
  return m;
}

bool Matcher::Matches(const bson::Document& doc, MatchDetails* details) const {
  Ctx ctx{details, nullptr};
  return root_->Matches(doc, ctx);
}

Result<bool> Matcher::MatchesOrError(const bson::Document& doc, MatchDetails* details) const {
  Status error;
  Ctx ctx{details, &error};
  bool matched = root_->Matches(doc, ctx);
  if (!error.ok()) return error;
  return matched;
}

bool Matcher::MatchesAll() const {
  auto* a = dynamic_cast<const AndNode*>(root_.get());
  return a != nullptr && a->empty();
}

}  // namespace eddy::query
