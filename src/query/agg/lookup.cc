// The stages that reach other collections or run sub-pipelines: $lookup, $unionWith, $facet,
// $out, $merge.
#include <unordered_map>

#include "bson/codec.h"
#include "bson/compare.h"
#include "query/agg/stage.h"

namespace eddy::query::agg_internal {

using bson::Array;
using bson::Document;
using bson::Value;

namespace {

// ---- $lookup

class LookupStage : public Stage {
 public:
  std::string from;
  std::string local_field, foreign_field;  // empty: no equality match
  std::string as;
  std::vector<std::pair<std::string, ExpressionPtr>> let;
  std::optional<Pipeline> pipeline;

  bool correlated() const { return !local_field.empty() || !let.empty(); }

  Result<std::unique_ptr<DocStream>> Open(std::unique_ptr<DocStream> in,
                                          const RunState& rs) const override {
    class S : public DocStream {
     public:
      S(const LookupStage* st, const RunState* rs, std::unique_ptr<DocStream> in)
          : st_(st), rs_(rs), in_(std::move(in)) {}
      Result<bool> Next(Document* out) override {
        EDDY_ASSIGN_OR_RETURN(bool more, in_->Next(out));
        if (!more) return false;
        Array joined;
        if (!st_->correlated() && cached_) {
          joined = *cached_;
        } else {
          EDDY_ASSIGN_OR_RETURN(joined, st_->Join(*out, *rs_));
          if (!st_->correlated()) cached_ = joined;
        }
        SetPath(out, st_->as, Value(std::move(joined)));
        return true;
      }

     private:
      const LookupStage* st_;
      const RunState* rs_;
      std::unique_ptr<DocStream> in_;
      std::optional<Array> cached_;
    };
    return std::unique_ptr<DocStream>(std::make_unique<S>(this, &rs, std::move(in)));
  }

  Result<Array> Join(const Document& doc, const RunState& rs) const {
    std::vector<Document> foreign;
    bool needs_collection = !(pipeline && pipeline->starts_with_documents());
    if (needs_collection) {
      EDDY_ASSIGN_OR_RETURN(AggSource * src, rs.RequireSource("$lookup"));
      Document filter;
      if (!local_field.empty()) {
        std::vector<Value> values;
        CollectPathValues(doc, local_field, &values);
        if (values.empty()) values.push_back(Value());
        Array ors;
        for (Value& v : values) {
          Document eq;
          eq.Append("$eq", std::move(v));
          Document clause;
          clause.Append(foreign_field, Value(std::move(eq)));
          ors.push_back(Value(std::move(clause)));
        }
        if (ors.size() == 1) {
          filter = std::move(ors[0].as_document());
        } else {
          filter.Append("$or", Value(std::move(ors)));
        }
      }
      EDDY_ASSIGN_OR_RETURN(foreign, src->ReadCollection(from, filter));
    }
    if (pipeline) {
      auto vars = std::make_shared<VarList>();
      if (rs.vars) *vars = *rs.vars;
      EvalContext ctx = rs.Context(doc);
      for (const auto& [name, e] : let) {
        EDDY_ASSIGN_OR_RETURN(MaybeValue v, e->Evaluate(ctx));
        vars->emplace_back(name, std::move(v));
      }
      EDDY_ASSIGN_OR_RETURN(foreign, RunSubPipeline(*pipeline, std::move(foreign), rs, vars));
    }
    Array out;
    out.reserve(foreign.size());
    for (Document& d : foreign) out.push_back(Value(std::move(d)));
    return out;
  }
};

// ---- $unionWith

class UnionWithStage : public Stage {
 public:
  std::string coll;  // empty with a $documents pipeline
  std::optional<Pipeline> pipeline;

  Result<std::unique_ptr<DocStream>> Open(std::unique_ptr<DocStream> in,
                                          const RunState& rs) const override {
    class S : public DocStream {
     public:
      S(const UnionWithStage* st, const RunState* rs, std::unique_ptr<DocStream> in)
          : st_(st), rs_(rs), in_(std::move(in)) {}
      Result<bool> Next(Document* out) override {
        if (in_) {
          EDDY_ASSIGN_OR_RETURN(bool more, in_->Next(out));
          if (more) return true;
          in_.reset();
          std::vector<Document> docs;
          if (!st_->coll.empty()) {
            EDDY_ASSIGN_OR_RETURN(AggSource * src, rs_->RequireSource("$unionWith"));
            EDDY_ASSIGN_OR_RETURN(docs, src->ReadCollection(st_->coll, Document()));
          }
          if (st_->pipeline) {
            EDDY_ASSIGN_OR_RETURN(other_, st_->pipeline->RunWithVariables(
                                              MakeVectorStream(std::move(docs)), rs_->source,
                                              rs_->vars, rs_->now));
          } else {
            other_ = MakeVectorStream(std::move(docs));
          }
        }
        return other_->Next(out);
      }

     private:
      const UnionWithStage* st_;
      const RunState* rs_;
      std::unique_ptr<DocStream> in_;
      std::unique_ptr<DocStream> other_;
    };
    return std::unique_ptr<DocStream>(std::make_unique<S>(this, &rs, std::move(in)));
  }
};

// ---- $facet

class FacetStage : public Stage {
 public:
  std::vector<std::pair<std::string, Pipeline>> facets;

  Result<std::unique_ptr<DocStream>> Open(std::unique_ptr<DocStream> in,
                                          const RunState& rs) const override {
    MemoryTracker mem(rs, "$facet");
    std::vector<Document> input;
    Document d;
    while (true) {
      EDDY_ASSIGN_OR_RETURN(bool more, in->Next(&d));
      if (!more) break;
      EDDY_RETURN_IF_ERROR(mem.Add(ApproxSize(d)));
      input.push_back(std::move(d));
    }
    Document out;
    for (size_t i = 0; i < facets.size(); ++i) {
      std::vector<Document> copy = i + 1 == facets.size() ? std::move(input) : input;
      EDDY_ASSIGN_OR_RETURN(auto docs, RunSubPipeline(facets[i].second, std::move(copy), rs,
                                                      rs.vars));
      Array arr;
      for (Document& r : docs) {
        EDDY_RETURN_IF_ERROR(mem.Add(ApproxSize(r)));
        arr.push_back(Value(std::move(r)));
      }
      out.Append(facets[i].first, Value(std::move(arr)));
    }
    std::vector<Document> result;
    result.push_back(std::move(out));
    return MakeVectorStream(std::move(result));
  }
};

// ---- $out / $merge

Result<std::vector<Document>> DrainWithIds(DocStream& in, MemoryTracker& mem) {
  std::vector<Document> docs;
  Document d;
  while (true) {
    EDDY_ASSIGN_OR_RETURN(bool more, in.Next(&d));
    if (!more) break;
    if (!d.Has("_id")) {
      d.mutable_fields().insert(d.mutable_fields().begin(),
                                bson::Field{"_id", Value(bson::ObjectId::Generate())});
    }
    EDDY_RETURN_IF_ERROR(mem.Add(ApproxSize(d)));
    docs.push_back(std::move(d));
  }
  return docs;
}

class OutStage : public Stage {
 public:
  std::string db, coll;
  Result<std::unique_ptr<DocStream>> Open(std::unique_ptr<DocStream> in,
                                          const RunState& rs) const override {
    EDDY_ASSIGN_OR_RETURN(AggSource * src, rs.RequireSource("$out"));
    // Writes are not subject to the blocking-stage memory limit.
    MemoryTracker mem(rs.max_memory_bytes, true, "$out");
    EDDY_ASSIGN_OR_RETURN(auto docs, DrainWithIds(*in, mem));
    // Duplicate _ids make the whole $out fail, as the insert into the temporary collection does.
    std::unordered_map<Value, int, bson::ValueHash, bson::ValueEq> seen;
    for (const Document& d : docs) {
      if (!seen.emplace(*d.Get("_id"), 0).second) {
        return Status(ErrorCode::kDuplicateKey,
                      "E11000 duplicate key error collection: " + (db.empty() ? rs.options.db : db) +
                          "." + coll + " index: _id_ dup key: { _id: " + Json(*d.Get("_id")) + " }")
            .WithExtraInfo(bson::Encode(Document{{"keyPattern", Document{{"_id", int32_t{1}}}},
                                                 {"keyValue", Document{{"_id", *d.Get("_id")}}}}));
      }
    }
    EDDY_RETURN_IF_ERROR(
        src->ReplaceCollection(db.empty() ? rs.options.db : db, coll, std::move(docs)));
    return MakeVectorStream({});
  }
};

class MergeStage : public Stage {
 public:
  MergeSpec spec;
  Result<std::unique_ptr<DocStream>> Open(std::unique_ptr<DocStream> in,
                                          const RunState& rs) const override {
    EDDY_ASSIGN_OR_RETURN(AggSource * src, rs.RequireSource("$merge"));
    MemoryTracker mem(rs.max_memory_bytes, true, "$merge");
    EDDY_ASSIGN_OR_RETURN(auto docs, DrainWithIds(*in, mem));
    for (const Document& d : docs) {
      for (const std::string& f : spec.on) {
        const Value* v = GetPath(d, f);
        if (v == nullptr || v->is_array()) {
          return Err(51132, "$merge write error: 'on' field '" + f + "' cannot be missing, "
                            "null, undefined or an array");
        }
      }
    }
    MergeSpec s = spec;
    if (s.db.empty()) s.db = rs.options.db;
    EDDY_RETURN_IF_ERROR(src->MergeInto(s.db, s.coll, s, std::move(docs)));
    return MakeVectorStream({});
  }
};

Result<std::pair<std::string, std::string>> ParseTarget(const Value& v, const std::string& stage,
                                                        const std::string& field) {
  if (v.is_string()) {
    if (v.as_string().empty()) {
      return Err(73, "Invalid " + stage + " target namespace: collection name is empty");
    }
    return std::make_pair(std::string(), v.as_string());
  }
  if (!v.is_document()) {
    return Err(13111, stage + "'s '" + field + "' must be a string or an object, found " +
                          TypeNameOf(v));
  }
  std::string db, coll;
  for (const bson::Field& f : v.as_document()) {
    if (f.name == "db" && f.value.is_string()) {
      db = f.value.as_string();
    } else if (f.name == "coll" && f.value.is_string()) {
      coll = f.value.as_string();
    } else {
      return Err(40415, "BSON field '" + stage + "." + field + "." + f.name +
                            "' is an unknown field.");
    }
  }
  if (coll.empty()) {
    return Err(40414, "BSON field '" + stage + "." + field + ".coll' is missing but a required "
                      "field");
  }
  return std::make_pair(db, coll);
}

}  // namespace

Result<StageList> ParseLookup(const Value& spec, const ParseState& ps) {
  if (!spec.is_document()) return Err(40319, "the $lookup specification must be an object");
  auto st = std::make_shared<LookupStage>();
  const Value* let = nullptr;
  const Value* pipeline = nullptr;
  bool has_local = false, has_foreign = false, has_as = false, has_from = false;
  for (const bson::Field& f : spec.as_document()) {
    if (f.name == "from") {
      if (f.value.is_string()) {
        st->from = f.value.as_string();
      } else if (f.value.is_document()) {
        EDDY_ASSIGN_OR_RETURN(auto t, ParseTarget(f.value, "$lookup", "from"));
        st->from = t.second;
      } else {
        return Err(9, "$lookup 'from' field must be a string or an object, but found " +
                          TypeNameOf(f.value));
      }
      has_from = true;
    } else if (f.name == "localField" || f.name == "foreignField" || f.name == "as") {
      if (!f.value.is_string()) {
        return Err(9, "$lookup argument '" + f.name + ": " + Json(f.value) +
                          "' must be a string, is type " + TypeNameOf(f.value));
      }
      if (f.name == "as") {
        EDDY_ASSIGN_OR_RETURN(st->as, ValidateFieldPath(f.value.as_string(), false, 9, "as"));
        has_as = true;
      } else if (f.name == "localField") {
        EDDY_ASSIGN_OR_RETURN(st->local_field,
                              ValidateFieldPath(f.value.as_string(), false, 9, "localField"));
        has_local = true;
      } else {
        EDDY_ASSIGN_OR_RETURN(st->foreign_field,
                              ValidateFieldPath(f.value.as_string(), false, 9, "foreignField"));
        has_foreign = true;
      }
    } else if (f.name == "let") {
      if (!f.value.is_document()) {
        return Err(9, "$lookup argument 'let: " + Json(f.value) + "' must be an object, is type " +
                          TypeNameOf(f.value));
      }
      let = &f.value;
    } else if (f.name == "pipeline") {
      if (!f.value.is_array()) {
        return Err(9, "$lookup argument 'pipeline' must be an array, is type " +
                          TypeNameOf(f.value));
      }
      pipeline = &f.value;
    } else {
      return Err(9, "unknown argument to $lookup: " + f.name);
    }
  }
  if (!has_as) return Err(9, "must specify 'as' field for a $lookup");
  if (has_local != has_foreign) {
    return Err(9, "$lookup requires both or neither of 'localField' and 'foreignField' to be "
                  "specified");
  }
  if (!has_local && pipeline == nullptr) {
    return Err(9, "$lookup requires either 'pipeline' or both 'localField' and 'foreignField' "
                  "to be specified");
  }
  if (let != nullptr && pipeline == nullptr) {
    return Err(9, "$lookup with 'let' must also specify 'pipeline'");
  }
  std::vector<std::string> let_names;
  if (let != nullptr) {
    for (const bson::Field& f : let->as_document()) {
      EDDY_ASSIGN_OR_RETURN(ExpressionPtr e, ParseExpression(f.value, ps.vars));
      // Variable names follow $let's rules; reuse its validation by parsing a $let.
      Document probe;
      Document vars;
      vars.Append(f.name, Value(1));
      probe.Append("vars", Value(vars));
      probe.Append("in", Value(1));
      Document let_expr;
      let_expr.Append("$let", Value(probe));
      EDDY_RETURN_IF_ERROR(ParseExpression(Value(let_expr), ParseContext()).status());
      st->let.emplace_back(f.name, std::move(e));
      let_names.push_back(f.name);
    }
  }
  if (pipeline != nullptr) {
    EDDY_ASSIGN_OR_RETURN(Pipeline p, Pipeline::ParseNested(pipeline->as_array(), *ps.options,
                                                            ps.vars.WithVariables(let_names),
                                                            "$lookup"));
    if (!has_from && !p.starts_with_documents()) {
      return Err(9, "must specify 'from' field for a $lookup");
    }
    st->pipeline = std::move(p);
  } else if (!has_from) {
    return Err(9, "must specify 'from' field for a $lookup");
  }
  return StageList{std::move(st)};
}

Result<StageList> ParseUnionWith(const Value& spec, const ParseState& ps) {
  auto st = std::make_shared<UnionWithStage>();
  if (spec.is_string()) {
    st->coll = spec.as_string();
    return StageList{std::move(st)};
  }
  if (!spec.is_document()) {
    return Err(40373, "the $unionWith stage specification must be an object or string, but "
                      "found " + TypeNameOf(spec));
  }
  const Value* pipeline = nullptr;
  for (const bson::Field& f : spec.as_document()) {
    if (f.name == "coll") {
      if (!f.value.is_string()) {
        return Err(14, "BSON field '$unionWith.coll' is the wrong type '" + TypeNameOf(f.value) +
                           "', expected type 'string'");
      }
      st->coll = f.value.as_string();
    } else if (f.name == "pipeline") {
      if (!f.value.is_array()) {
        return Err(14, "BSON field '$unionWith.pipeline' is the wrong type '" +
                           TypeNameOf(f.value) + "', expected type 'array'");
      }
      pipeline = &f.value;
    } else {
      return Err(40415, "BSON field '$unionWith." + f.name + "' is an unknown field.");
    }
  }
  if (pipeline != nullptr) {
    EDDY_ASSIGN_OR_RETURN(Pipeline p, Pipeline::ParseNested(pipeline->as_array(), *ps.options,
                                                            ps.vars, "$unionWith"));
    if (st->coll.empty() && !p.starts_with_documents()) {
      return Err(40414, "BSON field '$unionWith.coll' is missing but a required field");
    }
    st->pipeline = std::move(p);
  } else if (st->coll.empty()) {
    return Err(40414, "BSON field '$unionWith.coll' is missing but a required field");
  }
  return StageList{std::move(st)};
}

Result<StageList> ParseFacet(const Value& spec, const ParseState& ps) {
  if (!spec.is_document() || spec.as_document().empty()) {
    return Err(40169, "the $facet specification must be a non-empty object, but found: " +
                          Json(spec));
  }
  auto st = std::make_shared<FacetStage>();
  for (const bson::Field& f : spec.as_document()) {
    EDDY_RETURN_IF_ERROR(ValidateFieldPath(f.name, false, 40352, "facet name").status());
    if (f.name.find('.') != std::string::npos) {
      return Err(40352, "$facet field names may not contain '.': " + f.name);
    }
    if (!f.value.is_array()) {
      return Err(40170, "arguments to $facet must be arrays, " + f.name + " is type " +
                            TypeNameOf(f.value));
    }
    if (f.value.as_array().empty()) {
      return Err(40171, "sub-pipeline in $facet stage cannot be empty: " + f.name);
    }
    EDDY_ASSIGN_OR_RETURN(Pipeline p, Pipeline::ParseNested(f.value.as_array(), *ps.options,
                                                            ps.vars, "$facet"));
    st->facets.emplace_back(f.name, std::move(p));
  }
  return StageList{std::move(st)};
}

Result<StageList> ParseOut(const Value& spec, const ParseState&) {
  auto st = std::make_shared<OutStage>();
  EDDY_ASSIGN_OR_RETURN(auto t, ParseTarget(spec, "$out", "out"));
  st->db = t.first;
  st->coll = t.second;
  return StageList{std::move(st)};
}

Result<StageList> ParseMerge(const Value& spec, const ParseState& ps) {
  auto st = std::make_shared<MergeStage>();
  MergeSpec& m = st->spec;
  if (spec.is_string()) {
    EDDY_ASSIGN_OR_RETURN(auto t, ParseTarget(spec, "$merge", "into"));
    m.coll = t.second;
    return StageList{std::move(st)};
  }
  if (!spec.is_document()) {
    return Err(51182, "$merge only supports a string or object argument, not " +
                          TypeNameOf(spec));
  }
  bool has_into = false;
  for (const bson::Field& f : spec.as_document()) {
    if (f.name == "into") {
      EDDY_ASSIGN_OR_RETURN(auto t, ParseTarget(f.value, "$merge", "into"));
      m.db = t.first;
      m.coll = t.second;
      has_into = true;
    } else if (f.name == "on") {
      m.on.clear();
      if (f.value.is_string()) {
        m.on.push_back(f.value.as_string());
      } else if (f.value.is_array() && !f.value.as_array().empty()) {
        for (const Value& v : f.value.as_array()) {
          if (!v.is_string()) {
            return Err(51134, "$merge 'on' array elements must be strings, but found " +
                                  TypeNameOf(v));
          }
          m.on.push_back(v.as_string());
        }
      } else {
        return Err(51186, "$merge 'on' field must be either a string or an array of strings, "
                          "but found " + TypeNameOf(f.value));
      }
      for (const std::string& o : m.on) {
        EDDY_RETURN_IF_ERROR(ValidateFieldPath(o, false, 51186, "on").status());
      }
    } else if (f.name == "whenMatched") {
      if (f.value.is_array()) {
        m.when_matched = MergeSpec::WhenMatched::kPipeline;
        m.when_matched_pipeline = f.value.as_array();
      } else if (f.value.is_string()) {
        const std::string& s = f.value.as_string();
        if (s == "replace") {
          m.when_matched = MergeSpec::WhenMatched::kReplace;
        } else if (s == "keepExisting") {
          m.when_matched = MergeSpec::WhenMatched::kKeepExisting;
        } else if (s == "merge") {
          m.when_matched = MergeSpec::WhenMatched::kMerge;
        } else if (s == "fail") {
          m.when_matched = MergeSpec::WhenMatched::kFail;
        } else {
          return Err(2, "Enumeration value '" + s + "' for field '$merge.whenMatched' is not a "
                        "valid value.");
        }
      } else {
        return Err(51191, "$merge 'whenMatched' field must be either a string or an array, but "
                          "found " + TypeNameOf(f.value));
      }
    } else if (f.name == "whenNotMatched") {
      std::string s = f.value.is_string() ? f.value.as_string() : "";
      if (s == "insert") {
        m.when_not_matched = MergeSpec::WhenNotMatched::kInsert;
      } else if (s == "discard") {
        m.when_not_matched = MergeSpec::WhenNotMatched::kDiscard;
      } else if (s == "fail") {
        m.when_not_matched = MergeSpec::WhenNotMatched::kFail;
      } else {
        return Err(2, "Enumeration value '" + (f.value.is_string() ? s : Json(f.value)) +
                          "' for field '$merge.whenNotMatched' is not a valid value.");
      }
    } else if (f.name == "let") {
      if (!f.value.is_document()) {
        return Err(14, "BSON field '$merge.let' is the wrong type '" + TypeNameOf(f.value) +
                           "', expected type 'object'");
      }
      m.let = f.value.as_document();
    } else {
      return Err(40415, "BSON field '$merge." + f.name + "' is an unknown field.");
    }
  }
  if (!has_into) return Err(40414, "BSON field '$merge.into' is missing but a required field");
  if (!m.let.empty() && m.when_matched != MergeSpec::WhenMatched::kPipeline) {
    return Err(51199, "Cannot use 'let' variables with 'whenMatched: " +
                          std::string(m.when_matched == MergeSpec::WhenMatched::kReplace ? "replace"
                                      : m.when_matched == MergeSpec::WhenMatched::kMerge ? "merge"
                                      : m.when_matched == MergeSpec::WhenMatched::kFail ? "fail"
                                                                  : "keepExisting") +
                          "' mode");
  }
  if (m.when_matched == MergeSpec::WhenMatched::kPipeline) {
    // Validate the pipeline now ($$new and the let variables are in scope).
    std::vector<std::string> names = {"new"};
    for (const bson::Field& f : m.let) names.push_back(f.name);
    EDDY_RETURN_IF_ERROR(Pipeline::ParseNested(m.when_matched_pipeline, *ps.options,
                                               ParseContext().WithVariables(names), "$merge")
                             .status());
  }
  return StageList{std::move(st)};
}

}  // namespace eddy::query::agg_internal
