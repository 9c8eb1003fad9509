#include "query/update/detail/apply.h"

#include <algorithm>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "bson/compare.h"
#include "bson/json.h"
#include "query/update/detail/arithmetic.h"
#include "query/update/detail/parse.h"

namespace eddy::query::update_detail {
namespace {

using bson::Array;
using bson::Document;
using bson::Value;

// mongod pads arrays with at most this many nulls (pathsupport::kMaxPaddingAllowed).
constexpr size_t kMaxPaddingAllowed = 1500000;

std::string Shell(const Value& v) { return bson::ToJson(v, bson::JsonMode::kShell); }
std::string ElementString(std::string_view name, const Value& v) {
  return std::string(name) + ": " + Shell(v);
}

struct PathComp {
  std::string name;
  bool is_index = false;
};
using Path = std::vector<PathComp>;
using Names = std::vector<std::string>;

std::string Dotted(const Path& p, const Names& more = {}) {
  std::string out;
  for (const auto& c : p) {
    if (!out.empty()) out += '.';
    out += c.name;
  }
  for (const auto& n : more) {
    if (!out.empty()) out += '.';
    out += n;
  }
  return out;
}

std::optional<size_t> ParseIndex(const std::string& s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  size_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<size_t>(c - '0');
  }
  return v;
}

// The child of a document (by name) or array (by index), or nullptr.
Value* Child(Value* v, const std::string& name, bool* is_index) {
  if (v->is_document()) {
    *is_index = false;
    return v->as_document().GetMutable(name);
  }
  if (v->is_array()) {
    auto idx = ParseIndex(name);
    if (idx && *idx < v->as_array().size()) {
      *is_index = true;
      return &v->as_array()[*idx];
    }
  }
  return nullptr;
}

// Moves leading components of *to_create that exist under *anchor onto *taken.
void Resolve(Value** anchor, Path* taken, Names* to_create) {
  size_t consumed = 0;
  while (consumed < to_create->size()) {
    bool is_index = false;
    Value* next = Child(*anchor, (*to_create)[consumed], &is_index);
    if (next == nullptr) break;
    taken->push_back({(*to_create)[consumed], is_index});
    *anchor = next;
    ++consumed;
  }
  to_create->erase(to_create->begin(), to_create->begin() + static_cast<long>(consumed));
}

// ---- The change-stream view of the update: mongod's $v:2 delta, then flattened. ----

struct DiffNode {
  bool is_array = false;
  std::vector<std::pair<std::string, Value>> updates;
  std::vector<std::pair<std::string, Value>> inserts;
  std::vector<std::string> deletes;
  std::vector<std::pair<std::string, std::unique_ptr<DiffNode>>> subs;  // documents
  struct Entry {
    std::optional<Value> value;
    std::unique_ptr<DiffNode> sub;
  };
  std::map<size_t, Entry> entries;  // arrays

  DiffNode* Sub(const PathComp& c, bool child_is_array) {
    std::unique_ptr<DiffNode>* slot = nullptr;
    if (is_array) {
      slot = &entries[ParseIndex(c.name).value_or(0)].sub;
    } else {
      for (auto& [name, node] : subs) {
        if (name == c.name) slot = &node;
      }
      if (slot == nullptr) {
        subs.emplace_back(c.name, nullptr);
        slot = &subs.back().second;
      }
    }
    if (!*slot) {
      *slot = std::make_unique<DiffNode>();
      (*slot)->is_array = child_is_array;
    }
    return slot->get();
  }
};

class Logger {
 public:
  enum class Kind { kUpdate, kInsert, kDelete };

  void Log(const Path& path, Kind kind, const Value& value) {
    DiffNode* node = &root_;
    for (size_t i = 0; i + 1 < path.size(); ++i) node = node->Sub(path[i], path[i + 1].is_index);
    const PathComp& last = path.back();
    if (node->is_array) {
      node->entries[ParseIndex(last.name).value_or(0)].value = value;
      return;
    }
    switch (kind) {
      case Kind::kUpdate:
        node->updates.emplace_back(last.name, value);
        break;
      case Kind::kInsert:
        node->inserts.emplace_back(last.name, value);
        break;
      case Kind::kDelete:
        node->deletes.push_back(last.name);
        break;
    }
  }

  UpdateDescription Describe() const {
    UpdateDescription d;
    Flatten(root_, "", &d);
    return d;
  }

 private:
  static std::string Join(const std::string& prefix, const std::string& name) {
    return prefix.empty() ? name : prefix + "." + name;
  }

  // change_stream_document_diff_parser: updates, inserts, deletes, then sub-diffs.
  static void Flatten(const DiffNode& n, const std::string& prefix, UpdateDescription* d) {
    if (n.is_array) {
      for (const auto& [idx, entry] : n.entries) {
        std::string p = Join(prefix, std::to_string(idx));
        if (entry.value) {
          d->updated_fields.Append(p, *entry.value);
        } else if (entry.sub) {
          Flatten(*entry.sub, p, d);
        }
      }
      return;
    }
    for (const auto& [name, v] : n.updates) d->updated_fields.Append(Join(prefix, name), v);
    for (const auto& [name, v] : n.inserts) d->updated_fields.Append(Join(prefix, name), v);
    for (const auto& name : n.deletes) d->removed_fields.push_back(Join(prefix, name));
    for (const auto& [name, sub] : n.subs) Flatten(*sub, Join(prefix, name), d);
  }

  DiffNode root_;
};

enum class ModKind { kNoop, kUpdated, kAppended };

struct Mod {
  ModKind kind = ModKind::kNoop;
  size_t appended_from = 0;  // kAppended: index of the first appended element
};

bool IsCreatingOp(OpKind k) {
  switch (k) {
    case OpKind::kUnset:
    case OpKind::kPop:
    case OpKind::kPull:
    case OpKind::kPullAll:
    case OpKind::kRenameSource:
      return false;
    default:
      return true;
  }
}

const Value* ExtractSortKey(const Value& v, const std::vector<std::string>& parts) {
  const Value* cur = &v;
  for (const auto& p : parts) {
    if (cur->is_document()) {
      cur = cur->as_document().Get(p);
    } else if (cur->is_array()) {
      auto idx = ParseIndex(p);
      cur = (idx && *idx < cur->as_array().size()) ? &cur->as_array()[*idx] : nullptr;
    } else {
      cur = nullptr;
    }
    if (cur == nullptr) return nullptr;
  }
  return cur;
}

void SortForPush(Array* arr, const SortSpec& sort) {
  if (sort.fields.empty()) {
    std::stable_sort(arr->begin(), arr->end(), [&](const Value& a, const Value& b) {
      return bson::Compare(a, b) * sort.whole_direction < 0;
    });
    return;
  }
  std::vector<std::pair<std::vector<std::string>, int>> keys;
  for (const auto& [field, dir] : sort.fields) keys.emplace_back(SplitPath(field), dir);
  static const Value kNull;
  std::stable_sort(arr->begin(), arr->end(), [&](const Value& a, const Value& b) {
    for (const auto& [parts, dir] : keys) {
      // Non-documents sort as {"": element}: every field is missing, i.e. null.
      const Value* ka = a.is_document() ? ExtractSortKey(a, parts) : nullptr;
      const Value* kb = b.is_document() ? ExtractSortKey(b, parts) : nullptr;
      int c = bson::Compare(ka ? *ka : kNull, kb ? *kb : kNull);
      if (c != 0) return c * dir < 0;
    }
    return false;
  });
}

// PushNode::performPush on an array that exists.
Mod PerformPush(Array* arr, const Leaf& leaf) {
  Mod result;
  if (!leaf.each.empty()) {
    int64_t size = static_cast<int64_t>(arr->size());
    int64_t position = leaf.position.value_or(std::numeric_limits<int64_t>::max());
    int64_t at;
    if (size == 0) {
      at = 0;
      result.kind = ModKind::kUpdated;
    } else if (position > size) {
      at = size;
      result.kind = ModKind::kAppended;
      result.appended_from = static_cast<size_t>(size);
    } else if (position > 0) {
      at = position;
      result.kind = ModKind::kUpdated;
    } else if (position < 0 && -position < size) {
      at = size + position;
      result.kind = ModKind::kUpdated;
    } else {
      at = 0;
      result.kind = ModKind::kUpdated;
    }
    arr->insert(arr->begin() + at, leaf.each.begin(), leaf.each.end());
  }
  if (leaf.sort) {
    result.kind = ModKind::kUpdated;
    SortForPush(arr, *leaf.sort);
  }
  if (leaf.slice) {
    int64_t slice = *leaf.slice;
    uint64_t keep = slice == std::numeric_limits<int64_t>::min()
                        ? static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                        : static_cast<uint64_t>(slice < 0 ? -slice : slice);
    if (arr->size() > keep) {
      result.kind = ModKind::kUpdated;
      size_t drop = arr->size() - static_cast<size_t>(keep);
      if (slice >= 0) {
        arr->erase(arr->end() - static_cast<long>(drop), arr->end());
      } else {
        arr->erase(arr->begin(), arr->begin() + static_cast<long>(drop));
      }
    }
  }
  return result;
}

bool ArrayContains(const Array& arr, const Value& v) {
  for (const auto& e : arr) {
    if (bson::Equal(e, v)) return true;
  }
  return false;
}

std::optional<Value> ApplyBits(const Value& start, const Leaf& leaf) {
  bool wide = start.is_int64();
  int64_t acc = start.ToInt64();
  for (const auto& [op, operand] : leaf.bit_ops) {
    wide = wide || operand.is_int64();
    int64_t x = operand.ToInt64();
    if (!operand.is_int64() && !wide) x = static_cast<int32_t>(x);
    switch (op) {
      case BitOp::kAnd:
        acc &= x;
        break;
      case BitOp::kOr:
        acc |= x;
        break;
      case BitOp::kXor:
        acc ^= x;
        break;
    }
    if (!wide) acc = static_cast<int32_t>(acc);
  }
  if (wide) return Value(acc);
  return Value(static_cast<int32_t>(acc));
}

class Applier {
 public:
  Applier(const ArrayFilterSet& filters, const UpdateContext& ctx, bool id_immutable,
          Value* root)
      : filters_(filters), ctx_(ctx), id_immutable_(id_immutable), root_(root) {}

  Status ApplyNode(const Node& node, Value* anchor, const Path& taken, const Names& to_create,
                   Logger* log) {
    switch (node.kind) {
      case Node::Kind::kObject:
        return ApplyObject(node, anchor, taken, to_create, log);
      case Node::Kind::kArray:
        return ApplyArray(node, anchor, taken, to_create, log);
      case Node::Kind::kLeaf:
        return ApplyLeaf(*node.leaf, anchor, taken, to_create, log);
    }
    return Status::OK();
  }

  // Deferred $rename source removals (see ApplyRename).
  Status FinishRenames(Logger* log) {
    for (const auto& from : pending_removals_) {
      Value* parent = root_;
      for (size_t i = 0; i + 1 < from.size() && parent != nullptr; ++i) {
        bool is_index = false;
        parent = Child(parent, from[i], &is_index);
      }
      if (parent == nullptr || !parent->is_document()) continue;
      parent->as_document().Remove(from.back());
      Path p;
      for (const auto& n : from) p.push_back({n, false});
      if (log) log->Log(p, Logger::Kind::kDelete, Value());
      modified_ = true;
    }
    return Status::OK();
  }

  bool modified() const { return modified_; }

 private:
  std::string IdString() const {
    const Value* id = root_->as_document().Get("_id");
    return id ? ElementString("_id", *id) : "no id";
  }

  Status CheckImmutable(const std::string& full_path) const {
    if (!id_immutable_) return Status::OK();
    if (full_path == "_id" || full_path.rfind("_id.", 0) == 0) {
      return Status(ErrorCode::kImmutableField,
                    "Performing an update on the path '" + full_path +
                        "' would modify the immutable field '_id'");
    }
    return Status::OK();
  }

  // storage_validation: a top-level field name may not start with '$'.
  static Status CheckTopLevelName(const std::string& name) {
    if (!name.empty() && name[0] == '$') {
      return Status(ErrorCode::kDollarPrefixedFieldName,
                    "The dollar ($) prefixed field '" + name + "' in '" + name +
                        "' is not allowed in the context of an update's replacement document. "
                        "Consider using an aggregation pipeline with $replaceWith.");
    }
    return Status::OK();
  }

  Status ApplyObject(const Node& node, Value* elem, const Path& taken, const Names& to_create,
                     Logger* log) {
    std::vector<std::pair<std::string, std::shared_ptr<const Node>>> order;
    std::string matched;
    bool apply_positional = node.positional != nullptr;
    if (apply_positional) {
      if (!ctx_.positional_index) {
        return Status(ErrorCode::kBadValue,
                      "The positional operator did not find the match needed from the query.");
      }
      matched = std::to_string(*ctx_.positional_index);
    }
    PathLess less;
    for (const auto& [name, child] : node.children) {
      if (apply_positional && name == matched) {
        std::shared_ptr<const Node> merged;
        EDDY_ASSIGN_OR_RETURN(merged,
                              MergeNodes(node.positional, child, Dotted(taken, to_create) +
                                                                     (taken.empty() && to_create.empty() ? "" : ".") +
                                                                     matched));
        order.emplace_back(name, std::move(merged));
        apply_positional = false;
        continue;
      }
      if (apply_positional && less(matched, name)) {
        order.emplace_back(matched, node.positional);
        apply_positional = false;
      }
      order.emplace_back(name, child);
    }
    if (apply_positional) order.emplace_back(matched, node.positional);

    for (const auto& [name, child] : order) {
      Value* anchor = elem;
      Path t = taken;
      Names c = to_create;
      c.push_back(name);
      Resolve(&anchor, &t, &c);
      EDDY_RETURN_IF_ERROR(ApplyNode(*child, anchor, t, c, log));
    }
    return Status::OK();
  }

  Status ApplyArray(const Node& node, Value* elem, const Path& taken, const Names& to_create,
                    Logger* log) {
    if (!to_create.empty()) {
      return Status(ErrorCode::kBadValue, "The path '" + Dotted(taken, to_create) +
                                              "' must exist in the document in order to apply "
                                              "array updates.");
    }
    if (!elem->is_array()) {
      return Status(ErrorCode::kBadValue,
                    "Cannot apply array updates to non-array element " +
                        ElementString(taken.empty() ? "" : taken.back().name, *elem));
    }
    Array& arr = elem->as_array();
    std::map<size_t, std::vector<std::shared_ptr<const Node>>> matching;
    for (size_t i = 0; i < arr.size(); ++i) {
      for (const auto& [id, child] : node.children) {
        bool match = id.empty();
        if (!match) {
          Document wrapped;
          wrapped.Append(id, arr[i]);
          match = filters_.filters.at(id).Matches(wrapped);
        }
        if (match) matching[i].push_back(child);
      }
    }
    Logger* child_log = matching.size() <= 1 ? log : nullptr;
    size_t n_modified = 0;
    size_t last_modified = 0;
    for (const auto& [i, children] : matching) {
      Path t = taken;
      t.push_back({std::to_string(i), true});
      std::shared_ptr<const Node> merged = children[0];
      for (size_t j = 1; j < children.size(); ++j) {
        EDDY_ASSIGN_OR_RETURN(merged, MergeNodes(merged, children[j], Dotted(t)));
      }
      bool before = modified_;
      modified_ = false;
      EDDY_RETURN_IF_ERROR(ApplyNode(*merged, &arr[i], t, {}, child_log));
      if (modified_) {
        ++n_modified;
        last_modified = i;
      }
      modified_ = modified_ || before;
    }
    if (child_log == nullptr && log != nullptr) {
      if (n_modified > 1) {
        log->Log(taken, Logger::Kind::kUpdate, *elem);
      } else if (n_modified == 1) {
        Path t = taken;
        t.push_back({std::to_string(last_modified), true});
        log->Log(t, Logger::Kind::kUpdate, arr[last_modified]);
      }
    }
    return Status::OK();
  }

  Status CheckViable(const Value& anchor, const Path& taken, const Names& to_create) const {
    bool viable = anchor.is_document() || (anchor.is_array() && ParseIndex(to_create[0]));
    if (viable) return Status::OK();
    return Status(ErrorCode::kPathNotViable,
                  "Cannot use the part (" + to_create[0] + " of " + Dotted(taken, to_create) +
                      ") to traverse the element ({" +
                      ElementString(taken.empty() ? "" : taken.back().name, anchor) + "})");
  }

  Result<Value> NewValue(const Leaf& leaf) const {
    switch (leaf.kind) {
      case OpKind::kMul: {
        auto v = Multiply(leaf.value, Value(int32_t{0}));
        return v ? *v : Value(int32_t{0});
      }
      case OpKind::kCurrentDate:
        return CurrentDate(leaf);
      case OpKind::kPush: {
        Value v{Array{}};
        PerformPush(&v.as_array(), leaf);
        return v;
      }
      case OpKind::kAddToSet: {
        Array out;
        for (const auto& e : leaf.each) {
          if (!ArrayContains(out, e)) out.push_back(e);
        }
        return Value(std::move(out));
      }
      case OpKind::kBit: {
        auto v = ApplyBits(Value(int32_t{0}), leaf);
        return *v;
      }
      default:
        return leaf.value;
    }
  }

  Value CurrentDate(const Leaf& leaf) const {
    if (!leaf.timestamp) return Value(ctx_.now);
    if (ctx_.now_timestamp) return Value(*ctx_.now_timestamp);
    int64_t secs = ctx_.now.millis / 1000;
    return Value(bson::Timestamp{static_cast<uint32_t>(secs), 1});
  }

  // Creates to_create under anchor with `value` at the end.
  Status Create(Value* anchor, const Path& taken, const Names& to_create, Value value,
                Logger* log) {
    for (size_t i = to_create.size(); i-- > 1;) {
      Document d;
      d.Append(to_create[i], std::move(value));
      value = Value(std::move(d));
    }
    const std::string& first = to_create[0];
    Path created = taken;
    if (anchor->is_document()) {
      if (taken.empty()) EDDY_RETURN_IF_ERROR(CheckTopLevelName(first));
      created.push_back({first, false});
      EDDY_RETURN_IF_ERROR(CheckImmutable(Dotted(created)));
      anchor->as_document().Append(first, value);
    } else if (anchor->is_array() && ParseIndex(first)) {
      Array& arr = anchor->as_array();
      size_t idx = *ParseIndex(first);
      if (idx > arr.size() + kMaxPaddingAllowed) {
        return Status(ErrorCode::kCannotBackfillArray,
                      "can't backfill more than " + std::to_string(kMaxPaddingAllowed) +
                          " elements");
      }
      created.push_back({first, true});
      EDDY_RETURN_IF_ERROR(CheckImmutable(Dotted(created)));
      arr.resize(idx);
      arr.push_back(value);
    } else {
      return Status(ErrorCode::kPathNotViable,
                    "Cannot create field '" + first + "' in element {" +
                        ElementString(taken.empty() ? "" : taken.back().name, *anchor) + "}");
    }
    if (log) log->Log(created, Logger::Kind::kInsert, value);
    modified_ = true;
    return Status::OK();
  }

  Status ApplyLeaf(const Leaf& leaf, Value* anchor, const Path& taken, const Names& to_create,
                   Logger* log) {
    if (leaf.kind == OpKind::kRenameSource) return Status::OK();
    if (leaf.kind == OpKind::kSetOnInsert && !ctx_.is_upsert_insert) return Status::OK();
    if (leaf.kind == OpKind::kRenameDest) return ApplyRename(leaf, anchor, taken, to_create, log);

    if (!to_create.empty()) {
      if (IsCreatingOp(leaf.kind)) {
        Value v;
        EDDY_ASSIGN_OR_RETURN(v, NewValue(leaf));
        return Create(anchor, taken, to_create, std::move(v), log);
      }
      if (leaf.kind != OpKind::kUnset) EDDY_RETURN_IF_ERROR(CheckViable(*anchor, taken, to_create));
      return Status::OK();
    }

    if (leaf.kind == OpKind::kUnset) return ApplyUnset(taken, log);

    Mod mod;
    EDDY_ASSIGN_OR_RETURN(mod, ModifyExisting(leaf, anchor, taken));
    if (mod.kind == ModKind::kNoop) return Status::OK();
    std::string full = Dotted(taken);
    EDDY_RETURN_IF_ERROR(CheckImmutable(full));
    if (taken.size() == 1) EDDY_RETURN_IF_ERROR(CheckTopLevelName(taken[0].name));
    modified_ = true;
    if (log) {
      if (mod.kind == ModKind::kAppended) {
        const Array& arr = anchor->as_array();
        for (size_t i = mod.appended_from; i < arr.size(); ++i) {
          Path p = taken;
          p.push_back({std::to_string(i), true});
          log->Log(p, Logger::Kind::kInsert, arr[i]);
        }
      } else {
        log->Log(taken, Logger::Kind::kUpdate, *anchor);
      }
    }
    return Status::OK();
  }

  Status ApplyUnset(const Path& taken, Logger* log) {
    EDDY_RETURN_IF_ERROR(CheckImmutable(Dotted(taken)));
    Value* parent = root_;
    for (size_t i = 0; i + 1 < taken.size(); ++i) {
      bool is_index = false;
      parent = Child(parent, taken[i].name, &is_index);
    }
    if (parent->is_array()) {
      auto idx = ParseIndex(taken.back().name);
      parent->as_array()[*idx] = Value();
      if (log) log->Log(taken, Logger::Kind::kUpdate, Value());
    } else {
      parent->as_document().Remove(taken.back().name);
      if (log) log->Log(taken, Logger::Kind::kDelete, Value());
    }
    modified_ = true;
    return Status::OK();
  }

  Result<Mod> ModifyExisting(const Leaf& leaf, Value* v, const Path& taken) {
    Mod updated{ModKind::kUpdated, 0};
    const std::string& name = taken.back().name;
    switch (leaf.kind) {
      case OpKind::kSet:
      case OpKind::kSetOnInsert:
        if (*v == leaf.value) return Mod{};
        *v = leaf.value;
        return updated;
      case OpKind::kInc:
      case OpKind::kMul: {
        if (!v->is_number()) {
          return Status(ErrorCode::kTypeMismatch,
                        "Cannot apply " + leaf.op_name + " to a value of non-numeric type. {" +
                            IdString() + "} has the field '" + name + "' of non-numeric type " +
                            std::string(bson::TypeName(v->type())));
        }
        auto r = leaf.kind == OpKind::kInc ? Add(leaf.value, *v) : Multiply(leaf.value, *v);
        if (!r) {
          return Status(ErrorCode::kBadValue,
                        "Failed to apply " + leaf.op_name + " operations to current value (" +
                            Shell(*v) + ") for document {" + IdString() + "}");
        }
        if (*r == *v) return Mod{};
        *v = std::move(*r);
        return updated;
      }
      case OpKind::kMin:
      case OpKind::kMax: {
        int c = bson::Compare(leaf.value, *v);
        if ((leaf.kind == OpKind::kMin && c < 0) || (leaf.kind == OpKind::kMax && c > 0)) {
          *v = leaf.value;
          return updated;
        }
        return Mod{};
      }
      case OpKind::kCurrentDate: {
        Value now = CurrentDate(leaf);
        if (*v == now) return Mod{};
        *v = std::move(now);
        return updated;
      }
      case OpKind::kPush:
        if (!v->is_array()) {
          return Status(ErrorCode::kBadValue,
                        "The field '" + Dotted(taken) + "' must be an array but is of type " +
                            std::string(bson::TypeName(v->type())) + " in document {" +
                            IdString() + "}");
        }
        return PerformPush(&v->as_array(), leaf);
      case OpKind::kAddToSet: {
        if (!v->is_array()) {
          return Status(ErrorCode::kBadValue,
                        "Cannot apply $addToSet to non-array field. Field named '" + name +
                            "' has non-array type " + std::string(bson::TypeName(v->type())));
        }
        Array& arr = v->as_array();
        bool added = false;
        for (const auto& e : leaf.each) {
          if (!ArrayContains(arr, e)) {
            arr.push_back(e);
            added = true;
          }
        }
        return added ? updated : Mod{};
      }
      case OpKind::kPop: {
        if (!v->is_array()) {
          return Status(ErrorCode::kTypeMismatch,
                        "Path '" + Dotted(taken) + "' contains an element of non-array type '" +
                            std::string(bson::TypeName(v->type())) + "'");
        }
        Array& arr = v->as_array();
        if (arr.empty()) return Mod{};
        if (leaf.pop > 0) {
          arr.pop_back();
        } else {
          arr.erase(arr.begin());
        }
        return updated;
      }
      case OpKind::kPull:
      case OpKind::kPullAll: {
        if (!v->is_array()) {
          return Status(ErrorCode::kBadValue,
                        "Cannot apply " + leaf.op_name + " to a non-array value");
        }
        Array& arr = v->as_array();
        size_t before = arr.size();
        arr.erase(std::remove_if(arr.begin(), arr.end(),
                                 [&](const Value& e) { return PullMatches(leaf, e); }),
                  arr.end());
        return arr.size() == before ? Mod{} : updated;
      }
      case OpKind::kBit: {
        if (!v->is_int32() && !v->is_int64()) {
          return Status(ErrorCode::kBadValue,
                        "Cannot apply $bit to a value of non-integral type.{" + IdString() +
                            "} has the field " + name + " of non-integer type " +
                            std::string(bson::TypeName(v->type())));
        }
        auto r = ApplyBits(*v, leaf);
        if (*r == *v) return Mod{};
        *v = std::move(*r);
        return updated;
      }
      default:
        return Mod{};
    }
  }

  static bool PullMatches(const Leaf& leaf, const Value& e) {
    if (leaf.kind == OpKind::kPullAll) return ArrayContains(leaf.value.as_array(), e);
    switch (leaf.pull_mode) {
      case Leaf::PullMode::kEquality:
        return bson::Equal(e, leaf.value);
      case Leaf::PullMode::kObject:
        return e.is_document() && leaf.pull_matcher->Matches(e.as_document());
      case Leaf::PullMode::kWrapped: {
        Document wrapped;
        wrapped.Append("x", e);
        return leaf.pull_matcher->Matches(wrapped);
      }
    }
    return false;
  }

  // RenameNode: read the source, set it at the destination, remove the source. The removal
  // is deferred to the end of the update so no pointer into the document held by an
  // enclosing node is invalidated; nothing else may touch the source (it holds a placeholder).
  Status ApplyRename(const Leaf& leaf, Value* anchor, const Path& taken, const Names& to_create,
                     Logger* log) {
    const auto& from = leaf.rename_from;
    std::string from_dotted = JoinPath(from);
    Value* cur = root_;
    std::vector<const Value*> parents;
    for (size_t i = 0; i < from.size(); ++i) {
      bool is_index = false;
      Value* next = Child(cur, from[i], &is_index);
      if (next == nullptr) {
        bool viable = cur->is_document() || (cur->is_array() && ParseIndex(from[i]));
        if (!viable) {
          Path p;
          for (size_t j = 0; j < i; ++j) p.push_back({from[j], false});
          Names rest(from.begin() + static_cast<long>(i), from.end());
          return CheckViable(*cur, p, rest);
        }
        return Status::OK();  // no source: no-op
      }
      parents.push_back(cur);
      cur = next;
    }
    for (size_t i = parents.size(); i-- > 1;) {
      if (parents[i]->is_array()) {
        return Status(ErrorCode::kBadValue,
                      "The source field cannot be an array element, '" + from_dotted +
                          "' in doc with " + IdString() + " has an array field called '" +
                          from[i - 1] + "'");
      }
    }
    // The deepest existing element on the destination path, and its ancestors.
    {
      Value* d = root_;
      const Value* deepest = anchor;
      std::vector<std::pair<std::string, const Value*>> chain;
      for (const auto& c : taken) {
        bool is_index = false;
        d = Child(d, c.name, &is_index);
        chain.emplace_back(c.name, d);
      }
      (void)deepest;
      for (size_t i = chain.size(); i-- > 0;) {
        if (chain[i].second->is_array()) {
          return Status(ErrorCode::kBadValue,
                        "The destination field cannot be an array element, '" + leaf.rename_to +
                            "' in doc with " + IdString() + " has an array field called '" +
                            chain[i].first + "'");
        }
      }
    }
    EDDY_RETURN_IF_ERROR(CheckImmutable(from_dotted));
    Value value = *cur;
    if (to_create.empty()) {
      EDDY_RETURN_IF_ERROR(CheckImmutable(Dotted(taken)));
      *anchor = std::move(value);
      if (log) log->Log(taken, Logger::Kind::kUpdate, *anchor);
      modified_ = true;
    } else {
      EDDY_RETURN_IF_ERROR(Create(anchor, taken, to_create, std::move(value), log));
    }
    pending_removals_.push_back(from);
    return Status::OK();
  }

  const ArrayFilterSet& filters_;
  const UpdateContext& ctx_;
  bool id_immutable_;
  Value* root_;
  bool modified_ = false;
  std::vector<Names> pending_removals_;
};

}  // namespace

Result<UpdateOutcome> ApplyTree(const Node& root, const ArrayFilterSet& filters,
                                const Document& doc, const UpdateContext& ctx,
                                bool id_immutable) {
  Value working{doc};
  Applier applier(filters, ctx, id_immutable, &working);
  Logger logger;
  EDDY_RETURN_IF_ERROR(applier.ApplyNode(root, &working, {}, {}, &logger));
  EDDY_RETURN_IF_ERROR(applier.FinishRenames(&logger));
  UpdateOutcome out;
  out.modified = applier.modified();
  if (out.modified) out.description = logger.Describe();
  out.document = std::move(working.as_document());
  return out;
}

}  // namespace eddy::query::update_detail
