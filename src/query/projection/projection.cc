#include "query/projection/projection.h"

#include <algorithm>
#include <limits>
#include <string_view>
#include <utility>

#include "bson/json.h"
#include "query/expr/expression.h"
#include "query/match/matcher.h"
#include "query/path.h"

namespace eddy::query {
namespace projection_internal {

// The parsed projection: mongod's projection AST, where path nodes hold ordered children.
struct Node {
  enum Kind { kPath, kInclude, kExclude, kSlice, kElemMatch, kPositional, kExpression };
  Kind kind = kPath;

  // kPath: children in projection order.
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> children;
  bool has_computed = false;  // kPath: the subtree holds kExpression or kElemMatch

  // kSlice: mongod's find $slice (skip unset for the single-number form).
  std::optional<int32_t> skip;
  int32_t limit = 0;

  // kElemMatch: compiled {<field>: {$elemMatch: <spec>}}.
  std::optional<Matcher> matcher;

  // kExpression (vars: the command's `let` variables, bound when evaluating)
  std::shared_ptr<const VariableList> vars;
  ExpressionPtr expr;

  Node* Find(std::string_view name) const {
    for (const auto& [n, child] : children) {
      if (n == name) return child.get();
    }
    return nullptr;
  }
};

// $slice and "a.$" run on the projected document, after inclusion/exclusion, in tree order
// (mongod's root-replacement expressions).
struct RootReplacement {
  bool positional = false;
  std::vector<std::string> path;
  std::optional<int32_t> skip;
  int32_t limit = 0;
};

}  // namespace projection_internal

namespace {

using projection_internal::Node;
using projection_internal::RootReplacement;

constexpr ErrorCode Code(int n) { return static_cast<ErrorCode>(n); }

std::string Shell(const bson::Value& v) { return bson::ToJson(v, bson::JsonMode::kShell); }

// mongod's FieldPath rules.
Status ValidateFieldPath(std::string_view path) {
  if (path.empty()) {
    return Status(Code(40352), "FieldPath cannot be constructed with empty string");
  }
  for (const std::string& part : SplitPath(path)) {
    if (part.empty()) {
      return Status(Code(15998), "FieldPath field names may not be empty strings.");
    }
    if (part[0] == '$' && part != "$id" && part != "$ref" && part != "$db") {
      return Status(Code(16410),
                    "FieldPath field names may not start with '$'. Consider using $getField or "
                    "$setField.");
    }
    if (part.find('\0') != std::string::npos) {
      return Status(Code(16411), "FieldPath field names may not contain '\\0'.");
    }
  }
  return Status::OK();
}

// {begin, end} of the first positional operator in a projection field name ("a.$", "a.$.b",
// or "$" alone), as mongod's findFirstPositionalOperator.
std::optional<std::pair<size_t, size_t>> FindFirstPositional(std::string_view path) {
  size_t mid = path.find(".$.");
  if (mid != std::string_view::npos) return std::make_pair(mid, mid + 3);
  if (path.size() >= 2 && path.substr(path.size() - 2) == ".$") {
    return std::make_pair(path.size() - 2, path.size());
  }
  if (path == "$") return std::make_pair(size_t{0}, path.size());
  return std::nullopt;
}

bool IsInclusionOrExclusionValue(const bson::Value& v) { return v.is_bool() || v.is_number(); }

// BSONElement::trueValue for bools and numbers: NaN counts as true.
bool TrueValue(const bson::Value& v) {
  if (v.is_bool()) return v.as_bool();
  if (v.is_int32()) return v.as_int32() != 0;
  if (v.is_int64()) return v.as_int64() != 0;
  double d = v.is_double() ? v.as_double_exact() : v.as_decimal().ToDouble();
  return d != 0;
}

int32_t NumberInt(const bson::Value& v) {
  if (v.is_int32()) return v.as_int32();
  int64_t n = v.ToInt64();
  return static_cast<int32_t>(std::clamp<int64_t>(n, std::numeric_limits<int32_t>::min(),
                                                  std::numeric_limits<int32_t>::max()));
}

// Whether a filter constrains the top-level field `field` (mongod's hasPositionalOperatorMatch),
// looking through $and/$or/$nor.
bool FilterMentionsField(const bson::Document& filter, std::string_view field) {
  for (const bson::Field& f : filter) {
    if (f.name == "$and" || f.name == "$or" || f.name == "$nor") {
      if (!f.value.is_array()) continue;
      for (const bson::Value& clause : f.value.as_array()) {
        if (clause.is_document() && FilterMentionsField(clause.as_document(), field)) return true;
      }
      continue;
    }
    if (!f.name.empty() && f.name[0] == '$') continue;  // $expr, $comment, ...: no path
    std::string_view name = f.name;
    if (name.substr(0, name.find('.')) == field) return true;
  }
  return false;
}

struct ParseState {
  const bson::Document* filter = nullptr;
  std::shared_ptr<const VariableList> vars;  // the command's `let`
  query::ParseContext Scope() const {
    std::vector<std::string> names;
    if (vars) {
      for (const auto& v : *vars) names.push_back(v.first);
    }
    return query::ParseContext().WithVariables(names);
  }
  bool check_query = false;
  bool id_specified = false;
  bool has_positional = false;
  bool has_elem_match = false;
  bool has_find_slice = false;
  bool has_meta = false;
  bool id_included_entirely = false;
  bool id_excluded_entirely = false;
  std::optional<bool> inclusion;  // the projection's type, once known
};

// Adds `node` at the dotted `path` below `parent`, creating intermediate path nodes. Mirrors
// mongod's addNodeAtPath, including its two collision errors.
Status AddNodeAtPath(Node* parent, std::string_view path, std::unique_ptr<Node> node) {
  std::vector<std::string> parts = SplitPath(path);
  Node* cur = parent;
  for (size_t i = 0; i < parts.size(); ++i) {
    Node* child = cur->Find(parts[i]);
    if (i + 1 == parts.size()) {
      if (child != nullptr) {
        if (child->kind == Node::kPath && node->kind == Node::kPath) {
          // A second sub-object for the same field ({"a.c": 1, a: {b: 1}}): mongod keeps both
          // and walks both, which is the same as merging them.
          for (auto& grandchild : node->children) child->children.push_back(std::move(grandchild));
          return Status::OK();
        }
        return Status(Code(31250), "Path collision at " + std::string(path));
      }
      cur->children.emplace_back(parts[i], std::move(node));
      return Status::OK();
    }
    if (child == nullptr) {
      auto inner = std::make_unique<Node>();
      child = inner.get();
      cur->children.emplace_back(parts[i], std::move(inner));
    } else if (child->kind != Node::kPath) {
      std::string remaining;
      for (size_t j = i + 1; j < parts.size(); ++j) {
        if (!remaining.empty()) remaining += '.';
        remaining += parts[j];
      }
      return Status(Code(31249),
                    "Path collision at " + std::string(path) + " remaining portion " + remaining);
    }
    cur = child;
  }
  return Status::OK();
}

Status ParseElement(ParseState* ctx, const std::string& name, const bson::Value& value,
                    const std::vector<std::string>& parent_path, Node* parent, bool parent_is_root);

Result<std::pair<std::optional<int32_t>, int32_t>> ParseFindSliceArgs(const bson::Value& arg) {
  if (arg.is_number()) return std::make_pair(std::optional<int32_t>(), NumberInt(arg));
  if (arg.is_array()) {
    const bson::Array& arr = arg.as_array();
    if (arr.size() != 2) {
      return Status(Code(31272), "$slice array argument should be of form [skip, limit]");
    }
    if (!arr[0].is_number()) {
      return Status(Code(31257), "$slice expects the skip argument to be a number, got " +
                                     std::string(bson::TypeName(arr[0].type())));
    }
    if (!arr[1].is_number()) {
      return Status(Code(31258), "$slice expects the limit argument to be a number, got " +
                                     std::string(bson::TypeName(arr[1].type())));
    }
    int32_t limit = NumberInt(arr[1]);
    if (limit <= 0) {
      return Status(Code(31259), "$slice limit must be positive, got " + std::to_string(limit));
    }
    return std::make_pair(std::optional<int32_t>(NumberInt(arr[0])), limit);
  }
  return Status(Code(31273), "$slice only supports numbers and [skip, limit] arrays");
}

// An operator expression ({$add: ...}) as a computed field.
Status AddGenericExpression(ParseState* ctx, const std::string& name, const bson::Document& obj,
                            Node* parent) {
  if (ctx->inclusion.has_value() && !*ctx->inclusion) {
    return Status(Code(31252), "Cannot use expression other than $meta in exclusion projection");
  }
  ctx->inclusion = true;
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr expr, ParseExpressionObject(obj, ctx->Scope()));
  auto node = std::make_unique<Node>();
  node->kind = Node::kExpression;
  node->expr = std::move(expr);
  node->vars = ctx->vars;
  return AddNodeAtPath(parent, name, std::move(node));
}

Status ParseSubObject(ParseState* ctx, const std::string& name, const bson::Document& obj,
                      const std::vector<std::string>& parent_path, Node* parent,
                      bool parent_is_root) {
  EDDY_RETURN_IF_ERROR(ValidateFieldPath(name));
  if (obj.size() == 1 && !obj.at(0).name.empty() && obj.at(0).name[0] == '$') {
    const bson::Field& op = obj.at(0);
    if (op.name == "$slice") {
      Result<std::pair<std::optional<int32_t>, int32_t>> args = ParseFindSliceArgs(op.value);
      if (args.ok()) {
        auto node = std::make_unique<Node>();
        node->kind = Node::kSlice;
        node->skip = args->first;
        node->limit = args->second;
        EDDY_RETURN_IF_ERROR(AddNodeAtPath(parent, name, std::move(node)));
        ctx->has_find_slice = true;
        return Status::OK();
      }
      // Not find()'s $slice: mongod retries it as the aggregation expression $slice.
      Status find_error = args.status();
      if (!IsRegisteredExpression("$slice")) return find_error;
      Status expr_error = AddGenericExpression(ctx, name, obj, parent);
      if (expr_error.ok()) return expr_error;
      return Status(expr_error.code(),
                    "Invalid $slice syntax. The given syntax " + Shell(bson::Value(obj)) +
                        " did not match the find() syntax because :: " + find_error.ToString() +
                        " :: The given syntax did not match the expression $slice syntax. :: "
                        "caused by :: " +
                        std::string(expr_error.message()));
    }
    if (op.name == "$elemMatch") {
      if (!op.value.is_document()) {
        return Status(Code(31274), "elemMatch: Invalid argument, object required, but got " +
                                       std::string(bson::TypeName(op.value.type())));
      }
      if (ctx->has_positional) {
        return Status(Code(31255), "Cannot specify positional operator and $elemMatch.");
      }
      if (!parent_is_root || name.find('.') != std::string::npos) {
        return Status(Code(31275), "Cannot use $elemMatch projection on a nested field.");
      }
      bson::Document filter;
      filter.Append(name, bson::Value(obj));
      EDDY_ASSIGN_OR_RETURN(Matcher matcher, Matcher::Compile(filter));
      auto node = std::make_unique<Node>();
      node->kind = Node::kElemMatch;
      node->matcher = std::move(matcher);
      EDDY_RETURN_IF_ERROR(AddNodeAtPath(parent, name, std::move(node)));
      ctx->has_elem_match = true;
      return Status::OK();
    }
    if (op.name == "$meta") {
      return Status(ErrorCode::kNotImplemented,
                    "$meta projection of '" + name + "' is not supported: eddy keeps no " +
                        "text score, search or record metadata");
    }
    if (IsRegisteredExpression(op.name)) return AddGenericExpression(ctx, name, obj, parent);
    if (!ValidateFieldPath(op.name).ok()) {
      return Status(Code(31325), "Unknown expression " + op.name);
    }
  }
  if (obj.empty()) {
    std::string full;
    for (const std::string& p : parent_path) full += p + ".";
    return Status(Code(51270),
                  "An empty sub-projection is not a valid value. Found empty object at path " +
                      full + name);
  }

  // A nested projection: {a: {b: 1}} is {"a.b": 1}.
  EDDY_RETURN_IF_ERROR(AddNodeAtPath(parent, name, std::make_unique<Node>()));
  Node* self = parent;
  for (const std::string& part : SplitPath(name)) self = self->Find(part);
  std::vector<std::string> path = parent_path;
  for (std::string& part : SplitPath(name)) path.push_back(std::move(part));
  for (const bson::Field& f : obj) {
    EDDY_RETURN_IF_ERROR(ParseElement(ctx, f.name, f.value, path, self, false));
  }
  return Status::OK();
}

Status ParseInclusion(ParseState* ctx, const std::string& name,
                      const std::vector<std::string>& parent_path, Node* parent,
                      bool parent_is_root,
                      const std::optional<std::pair<size_t, size_t>>& positional) {
  const bool top_level_id = name == "_id" && parent_is_root;
  if (!positional) {
    EDDY_RETURN_IF_ERROR(ValidateFieldPath(name));
    auto node = std::make_unique<Node>();
    node->kind = Node::kInclude;
    EDDY_RETURN_IF_ERROR(AddNodeAtPath(parent, name, std::move(node)));
    if (top_level_id) ctx->id_included_entirely = true;
  } else {
    if (ctx->has_positional) {
      return Status(Code(31276), "Cannot specify more than one positional projection per query.");
    }
    if (ctx->has_elem_match) {
      return Status(Code(31256), "Cannot specify positional operator and $elemMatch.");
    }
    if (ctx->check_query) {
      std::string match_field =
          parent_path.empty() ? name.substr(0, name.find('.')) : parent_path.front();
      if (ctx->filter == nullptr) {
        return Status(Code(51050), "Projections with a positional operator require a matcher");
      }
      if (!FilterMentionsField(*ctx->filter, match_field)) {
        return Status(Code(31277), "Positional projection '" + name +
                                       "' does not match the query document.");
      }
    }
    if (name.size() >= 3 && name.substr(name.size() - 3) == ".$.") {
      return Status(Code(31270), "Path cannot end with '.$.'");
    }
    std::string_view rest = std::string_view(name).substr(positional->second);
    if (FindFirstPositional(rest) || rest == "$") {
      return Status(Code(31287), "Cannot use positional operator twice: " + name);
    }
    std::string prefix = name.substr(0, positional->first);
    EDDY_RETURN_IF_ERROR(ValidateFieldPath(prefix));
    auto node = std::make_unique<Node>();
    node->kind = Node::kPositional;
    EDDY_RETURN_IF_ERROR(AddNodeAtPath(parent, prefix, std::move(node)));
    ctx->has_positional = true;
  }
  if (!top_level_id) {
    if (ctx->inclusion.has_value() && !*ctx->inclusion) {
      return Status(Code(31253),
                    "Cannot do inclusion on field " + name + " in exclusion projection");
    }
    ctx->inclusion = true;
  }
  return Status::OK();
}

Status ParseExclusion(ParseState* ctx, const std::string& name, Node* parent,
                      bool parent_is_root) {
  EDDY_RETURN_IF_ERROR(ValidateFieldPath(name));
  auto node = std::make_unique<Node>();
  node->kind = Node::kExclude;
  EDDY_RETURN_IF_ERROR(AddNodeAtPath(parent, name, std::move(node)));
  if (name == "_id" && parent_is_root) {
    ctx->id_excluded_entirely = true;
    return Status::OK();
  }
  if (ctx->inclusion.has_value() && *ctx->inclusion) {
    return Status(Code(31254), "Cannot do exclusion on field " + name + " in inclusion projection");
  }
  ctx->inclusion = false;
  return Status::OK();
}

Status ParseLiteral(ParseState* ctx, const std::string& name, const bson::Value& value,
                    Node* parent) {
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr expr, ParseExpression(value, ctx->Scope()));
  EDDY_RETURN_IF_ERROR(ValidateFieldPath(name));
  auto node = std::make_unique<Node>();
  node->kind = Node::kExpression;
  node->expr = std::move(expr);
  node->vars = ctx->vars;
  EDDY_RETURN_IF_ERROR(AddNodeAtPath(parent, name, std::move(node)));
  if (ctx->inclusion.has_value() && !*ctx->inclusion) {
    return Status(Code(31310), "Cannot use an expression " + name + ": " + Shell(value) +
                                   " in an exclusion projection");
  }
  ctx->inclusion = true;
  return Status::OK();
}

Status ParseElement(ParseState* ctx, const std::string& name, const bson::Value& value,
                    const std::vector<std::string>& parent_path, Node* parent,
                    bool parent_is_root) {
  std::optional<std::pair<size_t, size_t>> positional = FindFirstPositional(name);
  if (value.is_document()) {
    if (positional) {
      return Status(Code(31271),
                    "positional projection cannot be used with an expression or sub object");
    }
    return ParseSubObject(ctx, name, value.as_document(), parent_path, parent, parent_is_root);
  }
  if (IsInclusionOrExclusionValue(value)) {
    if (TrueValue(value)) {
      return ParseInclusion(ctx, name, parent_path, parent, parent_is_root, positional);
    }
    return ParseExclusion(ctx, name, parent, parent_is_root);
  }
  if (positional) {
    return Status(Code(31308), "positional projection cannot be used with a literal");
  }
  return ParseLiteral(ctx, name, value, parent);
}

// mongod's computeProjectionType, for projections no field decided.
bool ComputeInclusion(const ParseState& ctx) {
  if (ctx.has_find_slice) return ctx.id_included_entirely;
  if (ctx.has_elem_match) return true;
  if (ctx.has_meta) return ctx.id_included_entirely && !ctx.id_excluded_entirely;
  return ctx.id_included_entirely;
}

bool MarkComputed(Node* node) {
  bool computed = false;
  for (auto& [name, child] : node->children) {
    if (child->kind == Node::kPath) {
      computed |= MarkComputed(child.get());
    } else if (child->kind == Node::kExpression || child->kind == Node::kElemMatch) {
      computed = true;
    }
  }
  node->has_computed = computed;
  return computed;
}

void CollectReplacements(const Node& node, std::vector<std::string>* path,
                         std::vector<RootReplacement>* out) {
  for (const auto& [name, child] : node.children) {
    path->push_back(name);
    if (child->kind == Node::kPath) {
      CollectReplacements(*child, path, out);
    } else if (child->kind == Node::kSlice || child->kind == Node::kPositional) {
      RootReplacement r;
      r.positional = child->kind == Node::kPositional;
      r.path = *path;
      r.skip = child->skip;
      r.limit = child->limit;
      out->push_back(std::move(r));
    }
    path->pop_back();
  }
}

// ---- Execution ----

Result<bson::Document> IncludeDocument(const bson::Document& input, const Node& node,
                                       const bson::Document& root);

// The first element of root[name] that the $elemMatch accepts, as a one-element array.
std::optional<bson::Value> ElemMatchValue(const bson::Document& root, const std::string& name,
                                          const Matcher& matcher) {
  if (!matcher.Matches(root)) return std::nullopt;
  const bson::Value* arr = root.Get(name);
  if (arr == nullptr || !arr->is_array()) return std::nullopt;
  // Testing each element as {name: [element]} finds the first match with exactly the
  // $elemMatch semantics the filter has, without relying on match details.
  for (const bson::Value& element : arr->as_array()) {
    bson::Document probe;
    probe.Append(name, bson::Value(bson::Array{element}));
    if (matcher.Matches(probe)) return bson::Value(bson::Array{element});
  }
  return std::nullopt;
}

Result<std::optional<bson::Value>> ComputedValue(const std::string& name, const Node& child,
                                                 const bson::Document& root);

// Adds the computed fields of `node` (in projection order) to `out`: mongod's applyExpressions.
// `present` tells which path children were already placed by the inclusion pass.
Status AddComputedFields(bson::Document* out, const Node& node, const bson::Document& root,
                         const bson::Document* input) {
  for (const auto& [name, child] : node.children) {
    if (child->kind == Node::kPath) {
      if (!child->has_computed) continue;
      if (input != nullptr && input->Has(name)) continue;  // placed in document order already
    } else if (child->kind != Node::kExpression && child->kind != Node::kElemMatch) {
      continue;
    }
    EDDY_ASSIGN_OR_RETURN(std::optional<bson::Value> v, ComputedValue(name, *child, root));
    if (v) out->Set(name, std::move(*v));
  }
  return Status::OK();
}

// The value a path node with computed fields gives for an input value (mongod's
// applyProjectionsToValue followed by applyExpressionsToValue): documents get their inclusions
// and computed fields, arrays are mapped element by element, anything else (including a
// missing value) becomes a document of just the computed fields.
Result<bson::Value> CombinedValue(const bson::Value* input, const Node& node,
                                  const bson::Document& root) {
  if (input != nullptr && input->is_document()) {
    EDDY_ASSIGN_OR_RETURN(bson::Document d, IncludeDocument(input->as_document(), node, root));
    return bson::Value(std::move(d));
  }
  if (input != nullptr && input->is_array()) {
    bson::Array out;
    out.reserve(input->as_array().size());
    for (const bson::Value& element : input->as_array()) {
      EDDY_ASSIGN_OR_RETURN(bson::Value v, CombinedValue(&element, node, root));
      out.push_back(std::move(v));
    }
    return bson::Value(std::move(out));
  }
  bson::Document d;
  EDDY_RETURN_IF_ERROR(AddComputedFields(&d, node, root, nullptr));
  return bson::Value(std::move(d));
}

Result<std::optional<bson::Value>> ComputedValue(const std::string& name, const Node& child,
                                                 const bson::Document& root) {
  switch (child.kind) {
    case Node::kExpression: {
      EvalContext ctx(root);
      if (child.vars) {
        for (const auto& [var, value] : *child.vars) ctx.PushVariable(var, value);
      }
      EDDY_ASSIGN_OR_RETURN(MaybeValue v, child.expr->Evaluate(ctx));
      return std::optional<bson::Value>(std::move(v));
    }
    case Node::kElemMatch:
      return ElemMatchValue(root, name, *child.matcher);
    case Node::kPath: {
      EDDY_ASSIGN_OR_RETURN(bson::Value v, CombinedValue(nullptr, child, root));
      return std::optional<bson::Value>(std::move(v));
    }
    default:
      return std::optional<bson::Value>();
  }
}

// Inclusion below a path without computed fields: documents keep the included fields, arrays
// keep what their elements yield, scalars yield nothing.
std::optional<bson::Value> IncludeValue(const bson::Value& input, const Node& node,
                                        const bson::Document& root) {
  if (input.is_document()) {
    Result<bson::Document> d = IncludeDocument(input.as_document(), node, root);
    return d.ok() ? std::optional<bson::Value>(bson::Value(std::move(d).value())) : std::nullopt;
  }
  if (input.is_array()) {
    bson::Array out;
    for (const bson::Value& element : input.as_array()) {
      std::optional<bson::Value> v = IncludeValue(element, node, root);
      if (v) out.push_back(std::move(*v));
    }
    return bson::Value(std::move(out));
  }
  return std::nullopt;
}

Result<bson::Document> IncludeDocument(const bson::Document& input, const Node& node,
                                       const bson::Document& root) {
  bson::Document out;
  for (const bson::Field& field : input) {
    const Node* child = node.Find(field.name);
    if (child == nullptr) continue;
    switch (child->kind) {
      case Node::kInclude:
      case Node::kSlice:
      case Node::kPositional:
        out.Append(field.name, field.value);
        break;
      case Node::kPath:
        if (child->has_computed) {
          EDDY_ASSIGN_OR_RETURN(bson::Value v, CombinedValue(&field.value, *child, root));
          out.Append(field.name, std::move(v));
        } else if (std::optional<bson::Value> v = IncludeValue(field.value, *child, root)) {
          out.Append(field.name, std::move(*v));
        }
        break;
      default:
        break;  // _id: 0, or computed: added below
    }
  }
  if (node.has_computed) EDDY_RETURN_IF_ERROR(AddComputedFields(&out, node, root, &input));
  return out;
}

bson::Value ExcludeValue(const bson::Value& input, const Node& node);

bson::Document ExcludeDocument(const bson::Document& input, const Node& node) {
  bson::Document out;
  for (const bson::Field& field : input) {
    const Node* child = node.Find(field.name);
    if (child == nullptr) {
      out.Append(field.name, field.value);
      continue;
    }
    switch (child->kind) {
      case Node::kExclude:
        break;
      case Node::kPath:
        out.Append(field.name, ExcludeValue(field.value, *child));
        break;
      default:
        out.Append(field.name, field.value);
        break;
    }
  }
  return out;
}

bson::Value ExcludeValue(const bson::Value& input, const Node& node) {
  if (input.is_document()) return bson::Value(ExcludeDocument(input.as_document(), node));
  if (input.is_array()) {
    bson::Array out;
    out.reserve(input.as_array().size());
    for (const bson::Value& element : input.as_array()) out.push_back(ExcludeValue(element, node));
    return bson::Value(std::move(out));
  }
  return input;
}

// mongod's sliceArray.
bson::Array SliceArray(const bson::Array& array, std::optional<int32_t> skip, int32_t limit) {
  const int64_t len = static_cast<int64_t>(array.size());
  int64_t start = 0;
  int64_t count = 0;
  if (!skip) {
    if (limit < 0) {
      start = std::max<int64_t>(0, len + limit);
      count = len - start;
    } else {
      count = std::min<int64_t>(len, limit);
    }
  } else if (*skip < 0) {
    start = std::max<int64_t>(0, len + *skip);
    count = std::min<int64_t>(len - start, limit);
  } else {
    start = std::min<int64_t>(len, *skip);
    count = std::min<int64_t>(len - start, limit);
  }
  return bson::Array(array.begin() + start, array.begin() + start + count);
}

// mongod's applyFindSliceProjectionHelper, in place: slices the array at the end of the path,
// walking through documents and through arrays of documents on the way (nested arrays are left
// alone).
void ApplySlice(bson::Document* doc, const RootReplacement& r, size_t index) {
  bson::Value* v = doc->GetMutable(r.path[index]);
  if (v == nullptr) return;
  const bool last = index + 1 == r.path.size();
  if (v->is_array()) {
    if (last) {
      *v = bson::Value(SliceArray(v->as_array(), r.skip, r.limit));
      return;
    }
    for (bson::Value& element : v->as_array()) {
      if (element.is_document()) ApplySlice(&element.as_document(), r, index + 1);
    }
  } else if (v->is_document() && !last) {
    ApplySlice(&v->as_document(), r, index + 1);
  }
}

// mongod's applyFindPositionalProjection on the projected document: the first array along the
// path becomes the one matched element.
Status ApplyPositional(bson::Document* doc, const RootReplacement& r,
                       std::optional<size_t> index) {
  bson::Document* cur = doc;
  for (const std::string& part : r.path) {
    bson::Value* v = cur->GetMutable(part);
    if (v == nullptr) return Status::OK();
    if (v->is_array()) {
      if (!index) {
        return Status(Code(51246),
                      "positional operator '.$' couldn't find a matching element in the array");
      }
      const bson::Array& arr = v->as_array();
      if (*index >= arr.size()) {
        return Status(Code(51247), "positional operator '.$' element mismatch");
      }
      bson::Value element = arr[*index];
      *v = bson::Value(bson::Array{std::move(element)});
      return Status::OK();
    }
    if (!v->is_document()) return Status::OK();
    cur = &v->as_document();
  }
  return Status::OK();
}

}  // namespace

Result<Projection> Projection::Compile(const bson::Document& projection) {
  return CompileImpl(projection, nullptr, false);
}

Result<Projection> Projection::Compile(const bson::Document& projection,
                                       const bson::Document* filter,
                                       std::shared_ptr<const VariableList> variables) {
  return CompileImpl(projection, filter, true, std::move(variables));
}

Result<Projection> Projection::CompileImpl(const bson::Document& projection,
                                           const bson::Document* filter, bool check_query,
                                           std::shared_ptr<const VariableList> variables) {
  Projection p;
  if (projection.empty()) return p;

  ParseState ctx;
  ctx.filter = filter;
  ctx.vars = std::move(variables);
  ctx.check_query = check_query;
  auto root = std::make_shared<Node>();
  for (const bson::Field& f : projection) {
    ctx.id_specified |= f.name == "_id" || f.name.starts_with("_id.");
    EDDY_RETURN_IF_ERROR(ParseElement(&ctx, f.name, f.value, {}, root.get(), true));
  }
  const bool inclusion = ctx.inclusion.has_value() ? *ctx.inclusion : ComputeInclusion(ctx);

  if (!ctx.id_specified && inclusion) {
    auto id = std::make_unique<Node>();
    id->kind = Node::kInclude;
    root->children.emplace_back("_id", std::move(id));
  }
  if (!inclusion && ctx.id_included_entirely) {
    // {_id: 1} in an exclusion projection is legal and means nothing.
    std::erase_if(root->children, [](const auto& c) { return c.first == "_id"; });
  }
  MarkComputed(root.get());
  auto replacements = std::make_shared<std::vector<RootReplacement>>();
  std::vector<std::string> path;
  CollectReplacements(*root, &path, replacements.get());

  p.inclusion_ = inclusion;
  p.has_positional_ = ctx.has_positional;
  p.identity_ = !inclusion && root->children.empty() && replacements->empty();
  p.root_ = std::move(root);
  p.replacements_ = std::move(replacements);
  return p;
}

Result<bson::Document> Projection::Apply(const bson::Document& doc,
                                         std::optional<size_t> positional_index) const {
  if (identity_ || root_ == nullptr) return doc;
  bson::Document out;
  if (inclusion_) {
    EDDY_ASSIGN_OR_RETURN(out, IncludeDocument(doc, *root_, doc));
  } else {
    out = ExcludeDocument(doc, *root_);
    // Only $elemMatch can be computed in an exclusion projection; it replaces the field in
    // place, or removes it when nothing matches.
    for (const auto& [name, child] : root_->children) {
      if (child->kind != Node::kElemMatch) continue;
      std::optional<bson::Value> v = ElemMatchValue(doc, name, *child->matcher);
      if (v) {
        out.Set(name, std::move(*v));
      } else {
        out.Remove(name);
      }
    }
  }
  for (const RootReplacement& r : *replacements_) {
    if (r.positional) {
      EDDY_RETURN_IF_ERROR(ApplyPositional(&out, r, positional_index));
    } else {
      ApplySlice(&out, r, 0);
    }
  }
  return out;
}

}  // namespace eddy::query
