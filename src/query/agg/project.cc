// $project, $addFields/$set and $unset: aggregation's projection (mongod's
// projection_executor): a tree of included/excluded/computed paths. Aggregation's rules differ
// from find's (no $slice/$elemMatch/positional operators, every non-boolean value is an
// expression, $$REMOVE removes), hence this separate implementation.
#include <memory>

#include "query/agg/stage.h"

namespace eddy::query::agg_internal {

using bson::Array;
using bson::Document;
using bson::Value;

namespace {

struct ProjNode;

struct ProjChild {
  enum Kind { kInclude, kExclude, kExpr, kNode } kind;
  ExpressionPtr expr;
  std::unique_ptr<ProjNode> node;
};

struct ProjNode {
  std::vector<std::pair<std::string, ProjChild>> children;
  bool has_computed = false;  // some descendant is computed

  ProjChild* Find(std::string_view name) {
    for (auto& [n, c] : children) {
      if (n == name) return &c;
    }
    return nullptr;
  }
  const ProjChild* Find(std::string_view name) const {
    for (const auto& [n, c] : children) {
      if (n == name) return &c;
    }
    return nullptr;
  }
};

enum class Mode { kProject, kAddFields, kUnset };

class ProjBuilder {
 public:
  ProjBuilder(Mode mode, const ParseContext& vars, std::string stage)
      : mode_(mode), vars_(vars), stage_(std::move(stage)) {}

  Status Add(const std::string& prefix, const bson::Field& f, ProjNode* root) {
    std::string full = prefix.empty() ? f.name : prefix + "." + f.name;
    const Value& v = f.value;
    if (mode_ == Mode::kProject && (v.is_bool() || v.is_number())) {
      bool include = v.is_bool() ? v.as_bool() : v.ToDouble() != 0;
      return Place(full, include ? ProjChild::kInclude : ProjChild::kExclude, nullptr, root);
    }
    if (v.is_document()) {
      const Document& d = v.as_document();
      bool is_expr = !d.empty() && !d.at(0).name.empty() && d.at(0).name[0] == '$';
      if (!is_expr && !d.empty()) {
        for (const bson::Field& sub : d) EDDY_RETURN_IF_ERROR(Add(full, sub, root));
        return Status::OK();
      }
      if (d.empty() && mode_ == Mode::kProject) {
        return Err(51270, "Invalid " + stage_ + " :: caused by :: An empty sub-projection is "
                          "not a valid value. Found empty object at path");
      }
    }
    Result<ExpressionPtr> e = ParseExpression(v, vars_);
    if (!e.ok()) return e.status();
    return Place(full, ProjChild::kExpr, *e, root);
  }

  Status Place(const std::string& path, ProjChild::Kind kind, ExpressionPtr expr,
               ProjNode* root) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
      size_t dot = path.find('.', start);
      std::string part = path.substr(start, dot == std::string::npos ? dot : dot - start);
      if (part.empty()) {
        if (path.empty()) {
          return Err(40352, "Invalid " + stage_ +
                                " :: caused by :: FieldPath cannot be constructed with empty "
                                "string");
        }
        return Err(15998, "Invalid " + stage_ +
                              " :: caused by :: FieldPath field names may not be empty strings.");
      }
      if (part[0] == '$') {
        return Err(16410, "Invalid " + stage_ + " :: caused by :: FieldPath field names may not "
                          "start with '$'. Consider using $getField or $setField.");
      }
      parts.push_back(std::move(part));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    if (kind == ProjChild::kInclude || kind == ProjChild::kExclude) {
      bool is_id = path == "_id";
      if (kind == ProjChild::kInclude) {
        if (is_id) {
          id_included_ = true;
        } else {
          if (saw_exclusion_) {
            return Err(31253, "Invalid " + stage_ + " :: caused by :: Cannot do inclusion on "
                              "field " + path + " in exclusion projection");
          }
          saw_inclusion_ = true;
        }
      } else if (is_id) {
        id_excluded_ = true;
      } else {
        if (saw_inclusion_) {
          return Err(31254, "Invalid " + stage_ + " :: caused by :: Cannot do exclusion on "
                            "field " + path + " in inclusion projection");
        }
        saw_exclusion_ = true;
      }
    } else {
      if (saw_exclusion_ && mode_ == Mode::kProject) {
        return Err(31252, "Invalid " + stage_ + " :: caused by :: Cannot use expression other "
                          "than $meta in exclusion projection");
      }
      saw_inclusion_ = saw_inclusion_ || mode_ == Mode::kProject;
      saw_computed_ = true;
    }
    ProjNode* node = root;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      if (kind == ProjChild::kExpr) node->has_computed = true;
      ProjChild* c = node->Find(parts[i]);
      if (c == nullptr) {
        node->children.emplace_back(parts[i], ProjChild{ProjChild::kNode, nullptr,
                                                        std::make_unique<ProjNode>()});
        c = &node->children.back().second;
      } else if (c->kind != ProjChild::kNode) {
        std::string at;
        for (size_t j = 0; j <= i; ++j) at += (j ? "." : "") + parts[j];
        return Err(31250, "Invalid " + stage_ + " :: caused by :: Path collision at " + path +
                              " remaining portion " + path.substr(at.size() + 1));
      }
      node = c->node.get();
    }
    if (kind == ProjChild::kExpr) node->has_computed = true;
    if (node->Find(parts.back()) != nullptr) {
      return Err(31250, "Invalid " + stage_ + " :: caused by :: Path collision at " + path);
    }
    node->children.emplace_back(parts.back(), ProjChild{kind, std::move(expr), nullptr});
    return Status::OK();
  }

  bool inclusion() const { return saw_inclusion_ || (!saw_exclusion_ && id_included_); }
  bool id_excluded() const { return id_excluded_; }

 private:
  Mode mode_;
  ParseContext vars_;
  std::string stage_;
  bool saw_inclusion_ = false;
  bool saw_exclusion_ = false;
  bool saw_computed_ = false;
  bool id_excluded_ = false;
  bool id_included_ = false;
};

// ---- Application

Value IncludeValue(const ProjNode& node, const Value& v, bool* keep);

Document IncludeDoc(const ProjNode& node, const Document& doc, bool keep_id) {
  Document out;
  for (const bson::Field& f : doc) {
    const ProjChild* c = node.Find(f.name);
    if (c == nullptr) {
      if (keep_id && f.name == "_id") out.Append(f.name, f.value);
      continue;
    }
    if (c->kind == ProjChild::kInclude) {
      out.Append(f.name, f.value);
    } else if (c->kind == ProjChild::kNode) {
      bool keep = false;
      Value v = IncludeValue(*c->node, f.value, &keep);
      if (keep) out.Append(f.name, std::move(v));
    }
  }
  return out;
}

Value IncludeValue(const ProjNode& node, const Value& v, bool* keep) {
  if (v.is_document()) {
    *keep = true;
    return Value(IncludeDoc(node, v.as_document(), false));
  }
  if (v.is_array()) {
    Array out;
    for (const Value& e : v.as_array()) {
      bool k = false;
      Value r = IncludeValue(node, e, &k);
      if (k) out.push_back(std::move(r));
    }
    *keep = true;
    return Value(std::move(out));
  }
  *keep = false;
  return Value();
}

void ExcludeDoc(const ProjNode& node, Document* doc) {
  auto& fields = doc->mutable_fields();
  for (size_t i = 0; i < fields.size();) {
    const ProjChild* c = node.Find(fields[i].name);
    if (c != nullptr && c->kind == ProjChild::kExclude) {
      fields.erase(fields.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    if (c != nullptr && c->kind == ProjChild::kNode) {
      Value& v = fields[i].value;
      if (v.is_document()) {
        ExcludeDoc(*c->node, &v.as_document());
      } else if (v.is_array()) {
        std::function<void(Array&)> walk = [&](Array& arr) {
          for (Value& e : arr) {
            if (e.is_document()) ExcludeDoc(*c->node, &e.as_document());
            if (e.is_array()) walk(e.as_array());
          }
        };
        walk(v.as_array());
      }
    }
    ++i;
  }
}

Status AddComputed(const ProjNode& node, Document* out, EvalContext& ctx);

Status AddComputedToValue(const ProjNode& node, Value* v, EvalContext& ctx) {
  if (v->is_array()) {
    for (Value& e : v->as_array()) EDDY_RETURN_IF_ERROR(AddComputedToValue(node, &e, ctx));
    return Status::OK();
  }
  if (!v->is_document()) *v = Value(Document());
  return AddComputed(node, &v->as_document(), ctx);
}

Status AddComputed(const ProjNode& node, Document* out, EvalContext& ctx) {
  for (const auto& [name, c] : node.children) {
    if (c.kind == ProjChild::kExpr) {
      Result<MaybeValue> v = c.expr->Evaluate(ctx);
      if (!v.ok()) return v.status();
      if (v->has_value()) {
        out->Set(name, std::move(**v));
      } else {
        out->Remove(name);
      }
    } else if (c.kind == ProjChild::kNode && c.node->has_computed) {
      Value* existing = out->GetMutable(name);
      if (existing == nullptr) {
        Document sub;
        EDDY_RETURN_IF_ERROR(AddComputed(*c.node, &sub, ctx));
        out->Append(name, Value(std::move(sub)));
      } else {
        EDDY_RETURN_IF_ERROR(AddComputedToValue(*c.node, existing, ctx));
      }
    }
  }
  return Status::OK();
}

class ProjectStage : public Stage {
 public:
  ProjectStage(std::unique_ptr<ProjNode> root, Mode mode, bool inclusion, bool keep_id)
      : root_(std::move(root)), mode_(mode), inclusion_(inclusion), keep_id_(keep_id) {}

  Result<std::unique_ptr<DocStream>> Open(std::unique_ptr<DocStream> in,
                                          const RunState& rs) const override {
    class S : public DocStream {
     public:
      S(const ProjectStage* st, const RunState* rs, std::unique_ptr<DocStream> in)
          : st_(st), rs_(rs), in_(std::move(in)) {}
      Result<bool> Next(Document* out) override {
        EDDY_ASSIGN_OR_RETURN(bool more, in_->Next(&buf_));
        if (!more) return false;
        EDDY_RETURN_IF_ERROR(st_->Apply(buf_, out, *rs_));
        return true;
      }

     private:
      const ProjectStage* st_;
      const RunState* rs_;
      std::unique_ptr<DocStream> in_;
      Document buf_;
    };
    return std::unique_ptr<DocStream>(std::make_unique<S>(this, &rs, std::move(in)));
  }

  Status Apply(Document& in, Document* out, const RunState& rs) const {
    if (mode_ == Mode::kAddFields) {
      *out = in;
      EvalContext ctx = rs.Context(in);
      return AddComputed(*root_, out, ctx);
    }
    if (!inclusion_) {
      *out = std::move(in);
      ExcludeDoc(*root_, out);
      return Status::OK();
    }
    *out = IncludeDoc(*root_, in, keep_id_);
    if (root_->has_computed) {
      EvalContext ctx = rs.Context(in);
      return AddComputed(*root_, out, ctx);
    }
    return Status::OK();
  }

 private:
  std::unique_ptr<ProjNode> root_;
  Mode mode_;
  bool inclusion_;
  bool keep_id_;
};

}  // namespace

Result<StageList> ParseProject(const Value& spec, const ParseState& ps) {
  if (!spec.is_document()) {
    return Err(15969, "$project specification must be an object");
  }
  const Document& d = spec.as_document();
  if (d.empty()) {
    return Err(51272, "Invalid $project :: caused by :: projection specification must have at "
                      "least one field");
  }
  auto root = std::make_unique<ProjNode>();
  ProjBuilder b(Mode::kProject, ps.vars, "$project");
  for (const bson::Field& f : d) EDDY_RETURN_IF_ERROR(b.Add("", f, root.get()));
  bool inclusion = b.inclusion();
  bool keep_id = inclusion && !b.id_excluded();
  return StageList{std::make_shared<ProjectStage>(std::move(root), Mode::kProject, inclusion,
                                                  keep_id)};
}

namespace {
Result<StageList> ParseAddFieldsAs(const Value& spec, const ParseState& ps,
                                   const std::string& name) {
  if (!spec.is_document()) {
    return Err(40272, name + " specification stage must be an object, got " + TypeNameOf(spec));
  }
  auto root = std::make_unique<ProjNode>();
  ProjBuilder b(Mode::kAddFields, ps.vars, name);
  for (const bson::Field& f : spec.as_document()) {
    EDDY_RETURN_IF_ERROR(b.Add("", f, root.get()));
  }
  return StageList{
      std::make_shared<ProjectStage>(std::move(root), Mode::kAddFields, false, true)};
}
}  // namespace

Result<StageList> ParseAddFields(const Value& spec, const ParseState& ps) {
  return ParseAddFieldsAs(spec, ps, "$addFields");
}

Result<StageList> ParseSet(const Value& spec, const ParseState& ps) {
  return ParseAddFieldsAs(spec, ps, "$set");
}

Result<StageList> ParseUnset(const Value& spec, const ParseState& ps) {
  Array paths;
  if (spec.is_string()) {
    paths.push_back(spec);
  } else if (spec.is_array()) {
    if (spec.as_array().empty()) {
      return Err(31119, "$unset specification must be a string or an array with at least one "
                        "field");
    }
    paths = spec.as_array();
  } else {
    return Err(31002, "$unset specification must be a string or an array");
  }
  auto root = std::make_unique<ProjNode>();
  ProjBuilder b(Mode::kProject, ps.vars, "$unset");
  for (const Value& p : paths) {
    if (!p.is_string()) {
      return Err(31120, "$unset specification must be a string or an array containing only "
                        "string values");
    }
    EDDY_RETURN_IF_ERROR(b.Place(p.as_string(), ProjChild::kExclude, nullptr, root.get()));
  }
  return StageList{
      std::make_shared<ProjectStage>(std::move(root), Mode::kProject, false, true)};
}

}  // namespace eddy::query::agg_internal
