#include "query/update/detail/parse.h"

#include <cmath>
#include <limits>
#include <utility>

#include "bson/json.h"

namespace eddy::query::update_detail {
namespace {

using bson::Document;
using bson::Value;

std::string Shell(const Value& v) { return bson::ToJson(v, bson::JsonMode::kShell); }
std::string Shell(const Document& d) { return bson::ToJson(d, bson::JsonMode::kShell); }
// mongod prints an element as "name: value".
std::string ElementString(std::string_view name, const Value& v) {
  return std::string(name) + ": " + Shell(v);
}

bool IsCanonicalIndex(const std::string& s) {
  if (s.empty() || s.size() > 18) return false;
  if (s[0] == '0' && s.size() > 1) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

struct OpInfo {
  std::string_view name;
  OpKind kind;
};

constexpr OpInfo kOps[] = {
    {"$set", OpKind::kSet},           {"$unset", OpKind::kUnset},
    {"$inc", OpKind::kInc},           {"$mul", OpKind::kMul},
    {"$min", OpKind::kMin},           {"$max", OpKind::kMax},
    {"$rename", OpKind::kRenameDest}, {"$setOnInsert", OpKind::kSetOnInsert},
    {"$currentDate", OpKind::kCurrentDate}, {"$push", OpKind::kPush},
    {"$addToSet", OpKind::kAddToSet}, {"$pop", OpKind::kPop},
    {"$pull", OpKind::kPull},         {"$pullAll", OpKind::kPullAll},
    {"$bit", OpKind::kBit},
};

// MatchExpressionParser::parseIntegerElementToLong: integral numbers only.
std::optional<int64_t> IntegralValue(const Value& v) {
  if (v.is_int32()) return v.as_int32();
  if (v.is_int64()) return v.as_int64();
  if (v.is_double()) {
    double d = v.as_double_exact();
    if (std::isfinite(d) && d == std::trunc(d) && d >= -9.2233720368547758e18 &&
        d < 9.2233720368547758e18) {
      return static_cast<int64_t>(d);
    }
    return std::nullopt;
  }
  if (v.is_decimal()) {
    double d = v.as_decimal().ToDouble();
    if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9.2e18) {
      return static_cast<int64_t>(d);
    }
  }
  return std::nullopt;
}

// True for the operators mongod's parsePathAcceptingKeyword recognizes: a $pull value whose
// first field is one of these is a condition on the element itself.
bool IsPathAcceptingKeyword(std::string_view name) {
  static constexpr std::string_view kKeywords[] = {
      "$eq",   "$ne",   "$gt",     "$gte",    "$lt",      "$lte",   "$in",
      "$nin",  "$all",  "$exists", "$mod",    "$type",    "$regex", "$options",
      "$size", "$elemMatch", "$not", "$near", "$nearSphere", "$within", "$geoWithin",
      "$geoIntersects", "$bitsAllSet", "$bitsAllClear", "$bitsAnySet", "$bitsAnyClear",
      "$_internalSchemaMinItems"};
  for (auto k : kKeywords) {
    if (k == name) return true;
  }
  return false;
}

Status CheckSortPattern(const Document& pattern) {
  if (pattern.empty()) {
    return Status(ErrorCode::kBadValue,
                  "The $sort pattern is empty when it should be a set of fields.");
  }
  for (const auto& f : pattern) {
    double dir = f.value.is_number() ? f.value.ToDouble() : 0;
    if (dir != 1 && dir != -1) {
      return Status(ErrorCode::kBadValue, "The $sort element value must be either 1 or -1");
    }
    if (f.name.empty()) return Status(ErrorCode::kBadValue, "The $sort field cannot be empty");
    for (const auto& part : SplitPath(f.name)) {
      if (part.empty()) {
        return Status(ErrorCode::kBadValue,
                      "The $sort field is a dotted field but has an empty part: " + f.name);
      }
    }
  }
  return Status::OK();
}

Status InitPush(const std::string& path, const Value& arg, Leaf* leaf) {
  if (!arg.is_document() || !arg.as_document().Has("$each")) {
    leaf->each.push_back(arg);
    return Status::OK();
  }
  const Document& spec = arg.as_document();
  std::vector<std::string> seen;
  for (const auto& clause : spec) {
    if (clause.name != "$each" && clause.name != "$slice" && clause.name != "$sort" &&
        clause.name != "$position") {
      return Status(ErrorCode::kBadValue, "Unrecognized clause in $push: " + clause.name);
    }
    for (const auto& s : seen) {
      if (s == clause.name) {
        return Status(ErrorCode::kBadValue, "Only one " + clause.name + " is supported.");
      }
    }
    seen.push_back(clause.name);
    if (clause.name == "$each") {
      if (!clause.value.is_array()) {
        return Status(ErrorCode::kBadValue,
                      "The argument to $each in $push must be an array but it was of type: " +
                          std::string(bson::TypeName(clause.value.type())));
      }
      leaf->each = clause.value.as_array();
    } else if (clause.name == "$slice") {
      auto n = IntegralValue(clause.value);
      if (!n) {
        return Status(ErrorCode::kBadValue,
                      "The value for $slice must be an integer value but was given type: " +
                          std::string(bson::TypeName(clause.value.type())));
      }
      leaf->slice = *n;
    } else if (clause.name == "$sort") {
      SortSpec sort;
      if (clause.value.is_document()) {
        EDDY_RETURN_IF_ERROR(CheckSortPattern(clause.value.as_document()));
        for (const auto& f : clause.value.as_document()) {
          sort.fields.emplace_back(f.name, f.value.ToDouble() < 0 ? -1 : 1);
        }
      } else if (clause.value.is_number()) {
        double dir = clause.value.ToDouble();
        if (dir != 1 && dir != -1) {
          return Status(ErrorCode::kBadValue, "The $sort element value must be either 1 or -1");
        }
        sort.whole_direction = dir < 0 ? -1 : 1;
      } else {
        return Status(ErrorCode::kBadValue,
                      "The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} "
                      "to sort embedded fields");
      }
      leaf->sort = std::move(sort);
    } else {  // $position
      auto n = IntegralValue(clause.value);
      if (!n) {
        return Status(ErrorCode::kBadValue,
                      "The value for $position must be an integer value, not of type: " +
                          std::string(bson::TypeName(clause.value.type())));
      }
      leaf->position = *n;
    }
  }
  (void)path;
  return Status::OK();
}

Status InitAddToSet(const std::string& path, const Value& arg, Leaf* leaf) {
  if (arg.is_document() && !arg.as_document().empty() &&
      arg.as_document().at(0).name == "$each") {
    const Document& spec = arg.as_document();
    const Value& each = spec.at(0).value;
    if (!each.is_array()) {
      return Status(ErrorCode::kTypeMismatch,
                    "The argument to $each in $addToSet must be an array but it was of type " +
                        std::string(bson::TypeName(each.type())));
    }
    if (spec.size() > 1) {
      return Status(ErrorCode::kBadValue,
                    "Found unexpected fields after $each in $addToSet: " + Shell(spec));
    }
    leaf->each = each.as_array();
  } else {
    leaf->each.push_back(arg);
  }
  (void)path;
  return Status::OK();
}

Status InitPull(const std::string& path, const Value& arg, Leaf* leaf) {
  if (arg.is_document() &&
      (arg.as_document().empty() || !IsPathAcceptingKeyword(arg.as_document().at(0).name))) {
    leaf->pull_mode = Leaf::PullMode::kObject;
    auto m = Matcher::Compile(arg.as_document());
    if (!m.ok()) return m.status();
    leaf->pull_matcher = std::make_shared<const Matcher>(std::move(m).value());
  } else if (arg.is_document() || arg.type() == bson::Type::kRegex) {
    leaf->pull_mode = Leaf::PullMode::kWrapped;
    Document wrapped;
    wrapped.Append("x", arg);
    auto m = Matcher::Compile(wrapped);
    if (!m.ok()) return m.status();
    leaf->pull_matcher = std::make_shared<const Matcher>(std::move(m).value());
  } else {
    leaf->pull_mode = Leaf::PullMode::kEquality;
  }
  (void)path;
  return Status::OK();
}

Status InitBit(const std::string& path, const Value& arg, Leaf* leaf) {
  if (!arg.is_document()) {
    return Status(ErrorCode::kBadValue,
                  "The $bit modifier is not compatible with a " +
                      std::string(bson::TypeName(arg.type())) +
                      ". You must pass in an embedded document: {$bit: {field: {and/or/xor: #}}");
  }
  for (const auto& f : arg.as_document()) {
    BitOp op;
    if (f.name == "and") {
      op = BitOp::kAnd;
    } else if (f.name == "or") {
      op = BitOp::kOr;
    } else if (f.name == "xor") {
      op = BitOp::kXor;
    } else {
      return Status(ErrorCode::kBadValue,
                    "The $bit modifier only supports 'and', 'or', and 'xor', not '" + f.name +
                        "' which is an unknown operator: {" + ElementString(f.name, f.value) +
                        "}");
    }
    if (!f.value.is_int32() && !f.value.is_int64()) {
      return Status(ErrorCode::kBadValue,
                    "The $bit modifier field must be an Integer(32/64 bit); a '" +
                        std::string(bson::TypeName(f.value.type())) +
                        "' is not supported here: {" + ElementString(f.name, f.value) + "}");
    }
    leaf->bit_ops.emplace_back(op, f.value);
  }
  if (leaf->bit_ops.empty()) {
    return Status(ErrorCode::kBadValue,
                  "You must pass in at least one bitwise operation. The format is: "
                  "{$bit: {field: {and/or/xor: #}}");
  }
  (void)path;
  return Status::OK();
}

Status InitCurrentDate(const std::string& path, const Value& arg, Leaf* leaf) {
  if (arg.is_bool()) return Status::OK();
  if (!arg.is_document()) {
    return Status(ErrorCode::kBadValue,
                  ElementString(path, arg) +
                      " is not valid type for $currentDate. Please use a boolean ('true') or a "
                      "$type expression ({$type: 'timestamp/date'}).");
  }
  bool found = false;
  for (const auto& f : arg.as_document()) {
    if (f.name != "$type") {
      return Status(ErrorCode::kBadValue, "Unrecognized $currentDate option: " + f.name);
    }
    if (!f.value.is_string() || (f.value.as_string() != "date" &&
                                 f.value.as_string() != "timestamp")) {
      return Status(ErrorCode::kBadValue,
                    "The '$type' string field is required to be 'date' or 'timestamp': "
                    "{$currentDate: {field : {$type: 'date'}}}");
    }
    leaf->timestamp = f.value.as_string() == "timestamp";
    found = true;
  }
  if (!found) {
    return Status(ErrorCode::kBadValue,
                  "The '$type' string field is required to be 'date' or 'timestamp': "
                  "{$currentDate: {field : {$type: 'date'}}}");
  }
  return Status::OK();
}

Status InitLeaf(const std::string& path, const Value& arg, Leaf* leaf) {
  leaf->value = arg;
  switch (leaf->kind) {
    case OpKind::kInc:
    case OpKind::kMul:
      if (!arg.is_number()) {
        return Status(ErrorCode::kTypeMismatch,
                      std::string("Cannot ") +
                          (leaf->kind == OpKind::kInc ? "increment" : "multiply") +
                          " with non-numeric argument: {" + ElementString(path, arg) + "}");
      }
      return Status::OK();
    case OpKind::kPush:
      return InitPush(path, arg, leaf);
    case OpKind::kAddToSet:
      return InitAddToSet(path, arg, leaf);
    case OpKind::kPull:
      return InitPull(path, arg, leaf);
    case OpKind::kPullAll:
      if (!arg.is_array()) {
        return Status(ErrorCode::kBadValue,
                      "$pullAll requires an array argument but was given a " +
                          std::string(bson::TypeName(arg.type())));
      }
      return Status::OK();
    case OpKind::kPop: {
      if (!arg.is_number()) {
        return Status(ErrorCode::kFailedToParse,
                      "Expected a number in: " + ElementString(path, arg));
      }
      double d = arg.ToDouble();
      if (d != 1 && d != -1) {
        return Status(ErrorCode::kFailedToParse, "$pop expects 1 or -1, found: " + Shell(arg));
      }
      leaf->pop = d < 0 ? -1 : 1;
      return Status::OK();
    }
    case OpKind::kBit:
      return InitBit(path, arg, leaf);
    case OpKind::kCurrentDate:
      return InitCurrentDate(path, arg, leaf);
    default:
      return Status::OK();
  }
}

Status CheckUpdatable(const std::string& path, const std::vector<std::string>& parts) {
  if (path.empty()) return Status(ErrorCode::kEmptyFieldName, "An empty update path is not valid.");
  for (const auto& p : parts) {
    if (p.empty()) {
      return Status(ErrorCode::kEmptyFieldName,
                    "The update path '" + path +
                        "' contains an empty field name, which is not allowed.");
    }
  }
  return Status::OK();
}

bool IsDynamic(const std::vector<std::string>& parts) {
  for (const auto& p : parts) {
    if (p == "$" || IsArrayFilterComponent(p)) return true;
  }
  return false;
}

bool IsPrefixOf(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.size() >= b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

class TreeBuilder {
 public:
  TreeBuilder(const ArrayFilterSet& filters, std::set<std::string>* used)
      : filters_(filters), used_(used), root_(std::make_shared<Node>()) {}

  std::shared_ptr<const Node> root() const { return root_; }

  Status Add(OpKind kind, std::string_view op_name, const std::string& field, const Value& arg) {
    std::string path = field;
    auto leaf = std::make_shared<Leaf>();
    leaf->kind = kind;
    leaf->op_name = std::string(op_name);
    if (kind == OpKind::kRenameDest) {
      // The source gets a placeholder so no other modifier may touch it.
      EDDY_RETURN_IF_ERROR(Add(OpKind::kRenameSource, op_name, field, Value()));
      if (!arg.is_string()) {
        return Status(ErrorCode::kBadValue,
                      "The 'to' field for $rename must be a string: " + ElementString(field, arg));
      }
      path = arg.as_string();
    }
    std::vector<std::string> parts = SplitPath(path);
    EDDY_RETURN_IF_ERROR(CheckUpdatable(path, parts));

    size_t positional_count = 0, positional_index = 0;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (parts[i] == "$") {
        if (positional_count++ == 0) positional_index = i;
      }
    }
    if (positional_count > 1) {
      return Status(ErrorCode::kBadValue,
                    "Too many positional (i.e. '$') elements found in path '" + path + "'");
    }
    if (positional_count == 1 && positional_index == 0) {
      return Status(ErrorCode::kBadValue,
                    "Cannot have positional (i.e. '$') element in the first position in path '" +
                        path + "'");
    }

    leaf->path = path;
    if (kind == OpKind::kRenameDest) {
      std::vector<std::string> from = SplitPath(field);
      if (field == path) {
        return Status(ErrorCode::kBadValue,
                      "The source and target field for $rename must differ: " +
                          ElementString(field, arg));
      }
      if (IsPrefixOf(from, parts) || IsPrefixOf(parts, from)) {
        return Status(ErrorCode::kBadValue,
                      "The source and target field for $rename must not be on the same path: " +
                          ElementString(field, arg));
      }
      if (IsDynamic(from)) {
        return Status(ErrorCode::kBadValue,
                      "The source field for $rename may not be dynamic: " + field);
      }
      if (IsDynamic(parts)) {
        return Status(ErrorCode::kBadValue,
                      "The destination field for $rename may not be dynamic: " + path);
      }
      leaf->rename_from = std::move(from);
      leaf->rename_to = path;
    } else if (kind != OpKind::kRenameSource) {
      EDDY_RETURN_IF_ERROR(InitLeaf(path, arg, leaf.get()));
    }

    Node* current = root_.get();
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      std::string name;
      EDDY_ASSIGN_OR_RETURN(name, ChildName(parts, i, path));
      bool next_is_array = IsArrayFilterComponent(parts[i + 1]);
      std::shared_ptr<const Node>* slot = Slot(current, parts[i], name);
      if (*slot) {
        Node::Kind want = next_is_array ? Node::Kind::kArray : Node::Kind::kObject;
        if ((*slot)->kind != want) return Conflict(path, JoinPath(parts, 0, i + 1));
      } else {
        auto child = std::make_shared<Node>();
        child->kind = next_is_array ? Node::Kind::kArray : Node::Kind::kObject;
        *slot = child;
      }
      current = const_cast<Node*>(slot->get());
    }
    std::string last;
    EDDY_ASSIGN_OR_RETURN(last, ChildName(parts, parts.size() - 1, path));
    std::shared_ptr<const Node>* slot = Slot(current, parts.back(), last);
    if (*slot) return Conflict(path, path);
    auto node = std::make_shared<Node>();
    node->kind = Node::Kind::kLeaf;
    node->leaf = std::move(leaf);
    *slot = std::move(node);
    return Status::OK();
  }

 private:
  static Status Conflict(const std::string& path, const std::string& at) {
    return Status(ErrorCode::kConflictingUpdateOperators,
                  "Updating the path '" + path + "' would create a conflict at '" + at + "'");
  }

  static std::shared_ptr<const Node>* Slot(Node* parent, const std::string& part,
                                           const std::string& name) {
    if (parent->kind == Node::Kind::kObject && part == "$") return &parent->positional;
    return &parent->children[name];
  }

  Result<std::string> ChildName(const std::vector<std::string>& parts, size_t i,
                                const std::string& path) {
    if (!IsArrayFilterComponent(parts[i])) return parts[i];
    if (i == 0) {
      return Status(ErrorCode::kBadValue,
                    "Cannot have array filter identifier (i.e. '$[<id>]') element in the first "
                    "position in path '" + path + "'");
    }
    std::string id = parts[i].substr(2, parts[i].size() - 3);
    if (!id.empty()) {
      if (!filters_.filters.count(id)) {
        return Status(ErrorCode::kBadValue, "No array filter found for identifier '" + id +
                                                "' in path '" + path + "'");
      }
      used_->insert(id);
    }
    return id;
  }

  const ArrayFilterSet& filters_;
  std::set<std::string>* used_;
  std::shared_ptr<Node> root_;
};

// The identifier an array filter is about: the first component of its top-level paths,
// looking through $and/$or/$nor.
Status CollectIdentifiers(const Document& filter, std::string* id) {
  for (const auto& f : filter) {
    if (!f.name.empty() && f.name[0] == '$') {
      if ((f.name == "$and" || f.name == "$or" || f.name == "$nor") && f.value.is_array()) {
        for (const auto& e : f.value.as_array()) {
          if (e.is_document()) EDDY_RETURN_IF_ERROR(CollectIdentifiers(e.as_document(), id));
        }
      }
      continue;
    }
    std::string first = f.name.substr(0, f.name.find('.'));
    if (id->empty()) {
      *id = first;
    } else if (*id != first) {
      return Status(ErrorCode::kFailedToParse,
                    "Error parsing array filter :: caused by :: Expected a single top-level field "
                    "name, found '" + *id + "' and '" + first + "'");
    }
  }
  return Status::OK();
}

}  // namespace

std::string JoinPath(const std::vector<std::string>& parts, size_t begin, size_t end) {
  std::string out;
  end = std::min(end, parts.size());
  for (size_t i = begin; i < end; ++i) {
    if (i > begin) out += '.';
    out += parts[i];
  }
  return out;
}

bool IsArrayFilterComponent(std::string_view part) {
  return part.size() >= 3 && part.substr(0, 2) == "$[" && part.back() == ']';
}

bool PathLess::operator()(const std::string& a, const std::string& b) const {
  if (IsCanonicalIndex(a) && IsCanonicalIndex(b) && a.size() != b.size()) {
    return a.size() < b.size();
  }
  return a < b;
}

Result<std::shared_ptr<ArrayFilterSet>> ParseArrayFilters(const bson::Array* array_filters) {
  auto set = std::make_shared<ArrayFilterSet>();
  if (array_filters == nullptr) return set;
  for (const auto& v : *array_filters) {
    if (!v.is_document()) {
      return Status(ErrorCode::kTypeMismatch,
                    "Each array filter must be an object, found: " +
                        std::string(bson::TypeName(v.type())));
    }
    std::string id;
    EDDY_RETURN_IF_ERROR(CollectIdentifiers(v.as_document(), &id));
    if (id.empty()) {
      return Status(ErrorCode::kFailedToParse,
                    "Cannot use an expression without a top-level field name in arrayFilters");
    }
    bool valid = id[0] >= 'a' && id[0] <= 'z';
    for (char c : id) {
      valid = valid && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
    }
    if (!valid) {
      return Status(ErrorCode::kBadValue,
                    "Error parsing array filter :: caused by :: The top-level field name must be "
                    "an alphanumeric string beginning with a lowercase letter, found '" + id + "'");
    }
    if (set->filters.count(id)) {
      return Status(ErrorCode::kFailedToParse,
                    "Found multiple array filters with the same top-level field name " + id);
    }
    auto m = Matcher::Compile(v.as_document());
    if (!m.ok()) return m.status().WithPrefix("Error parsing array filter :: caused by :: ");
    set->filters.emplace(id, std::move(m).value());
  }
  return set;
}

Result<std::shared_ptr<const Node>> ParseOperators(const Document& update,
                                                   const ArrayFilterSet& filters,
                                                   std::set<std::string>* used) {
  TreeBuilder builder(filters, used);
  for (const auto& op : update) {
    const OpInfo* info = nullptr;
    for (const auto& candidate : kOps) {
      if (candidate.name == op.name) info = &candidate;
    }
    if (info == nullptr) {
      return Status(ErrorCode::kFailedToParse,
                    "Unknown modifier: " + op.name +
                        ". Expected a valid update modifier or pipeline-style update specified as "
                        "an array");
    }
    if (!op.value.is_document()) {
      return Status(ErrorCode::kFailedToParse,
                    "Modifiers operate on fields but we found type " +
                        std::string(bson::TypeName(op.value.type())) +
                        " instead. For example: {$mod: {<field>: ...}} not {" +
                        ElementString(op.name, op.value) + "}");
    }
    for (const auto& f : op.value.as_document()) {
      EDDY_RETURN_IF_ERROR(builder.Add(info->kind, info->name, f.name, f.value));
    }
  }
  return builder.root();
}

Result<std::shared_ptr<const Node>> MergeNodes(const std::shared_ptr<const Node>& a,
                                               const std::shared_ptr<const Node>& b,
                                               const std::string& path) {
  if (!a) return b;
  if (!b) return a;
  if (a->kind == Node::Kind::kLeaf || b->kind == Node::Kind::kLeaf || a->kind != b->kind) {
    return Status(ErrorCode::kConflictingUpdateOperators,
                  "Update created a conflict at '" + path + "'");
  }
  auto merged = std::make_shared<Node>(*a);
  for (const auto& [name, child] : b->children) {
    auto& slot = merged->children[name];
    std::string child_path =
        path + "." + (a->kind == Node::Kind::kArray ? "$[" + name + "]" : name);
    EDDY_ASSIGN_OR_RETURN(slot, MergeNodes(slot, child, child_path));
  }
  EDDY_ASSIGN_OR_RETURN(merged->positional,
                        MergeNodes(merged->positional, b->positional, path + ".$"));
  return std::shared_ptr<const Node>(std::move(merged));
}

}  // namespace eddy::query::update_detail
