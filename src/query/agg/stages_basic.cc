// The streaming one-document-at-a-time stages: $match $limit $skip $unset $replaceRoot
// $replaceWith $unwind $redact $documents $sample $count.
#include <cmath>
#include <functional>
#include <random>

#include "query/agg/stage.h"
#include "query/match/matcher.h"

namespace eddy::query::agg_internal {

using bson::Array;
using bson::Document;
using bson::Value;

namespace {

// Applies fn to every document; fn returns false to drop it.
class MapStream : public DocStream {
 public:
  using Fn = std::function<Result<bool>(Document*)>;
  MapStream(std::unique_ptr<DocStream> in, Fn fn) : in_(std::move(in)), fn_(std::move(fn)) {}
  Result<bool> Next(Document* out) override {
    while (true) {
      EDDY_ASSIGN_OR_RETURN(bool more, in_->Next(out));
      if (!more) return false;
      EDDY_ASSIGN_OR_RETURN(bool keep, fn_(out));
      if (keep) return true;
    }
  }

 private:
  std::unique_ptr<DocStream> in_;
  Fn fn_;
};

// ---- $match

class MatchStage : public Stage {
 public:
  MatchStage(Matcher m, std::vector<ExpressionPtr> exprs)
      : matcher_(std::move(m)), exprs_(std::move(exprs)) {}
  Result<std::unique_ptr<DocStream>> Open(std::unique_ptr<DocStream> in,
                                          const RunState& rs) const override {
    const RunState* r = &rs;
    return std::unique_ptr<DocStream>(std::make_unique<MapStream>(
        std::move(in), [this, r](Document* d) -> Result<bool> {
          EDDY_ASSIGN_OR_RETURN(bool ok, matcher_.MatchesOrError(*d));
          if (!ok) return false;
          if (exprs_.empty()) return true;
          EvalContext ctx = r->Context(*d);
          for (const ExpressionPtr& e : exprs_) {
            EDDY_ASSIGN_OR_RETURN(MaybeValue v, e->Evaluate(ctx));
            if (!IsTruthy(v)) return false;
          }
          return true;
        }));
  }

 private:
  Matcher matcher_;
  std::vector<ExpressionPtr> exprs_;  // top-level $expr clauses that use user variables
};

// ---- $limit / $skip

class LimitStage : public Stage {
 public:
  explicit LimitStage(int64_t n) : n_(n) {}
  Result<std::unique_ptr<DocStream>> Open(std::unique_ptr<DocStream> in,
                                          const RunState&) const override {
    class S : public DocStream {
     public:
      S(std::unique_ptr<DocStream> in, int64_t n) : in_(std::move(in)), left_(n) {}
      Result<bool> Next(Document* out) override {
        if (left_ <= 0) return false;
        --left_;
        return in_->Next(out);
      }

     private:
      std::unique_ptr<DocStream> in_;
      int64_t left_;
    };
    return std::unique_ptr<DocStream>(std::make_unique<S>(std::move(in), n_));
  }

 private:
  int64_t n_;
};

class SkipStage : public Stage {
 public:
  explicit SkipStage(int64_t n) : n_(n) {}
  Result<std::unique_ptr<DocStream>> Open(std::unique_ptr<DocStream> in,
                                          const RunState&) const override {
    class S : public DocStream {
     public:
      S(std::unique_ptr<DocStream> in, int64_t n) : in_(std::move(in)), skip_(n) {}
      Result<bool> Next(Document* out) override {
        while (skip_ > 0) {
          --skip_;
          EDDY_ASSIGN_OR_RETURN(bool more, in_->Next(out));
          if (!more) return false;
        }
        return in_->Next(out);
      }

     private:
      std::unique_ptr<DocStream> in_;
      int64_t skip_;
    };
    return std::unique_ptr<DocStream>(std::make_unique<S>(std::move(in), n_));
  }

 private:
  int64_t n_;
};

// A whole, non-negative 64-bit count for $limit/$skip/$sample.
Result<int64_t> StageCount(const Value& v, const std::string& stage, int not_number_code) {
  if (!v.is_number()) {
    return Err(not_number_code, "invalid argument to " + stage + " stage: " + stage +
                                    " must be specified as a number, found: " + Json(v));
  }
  double d = v.ToDouble();
  if (!(v.is_int32() || v.is_int64()) &&
      (std::isnan(d) || d != std::trunc(d) || std::fabs(d) >= 9.2233720368547758e18)) {
    return Err(2, "invalid argument to " + stage +
                      " stage: Cannot represent as a 64-bit integer: " + stage + ": " + Json(v));
  }
  return v.ToInt64();
}

// ---- $unwind

class UnwindStage : public Stage {
 public:
  UnwindStage(std::string path, std::string index_field, bool preserve)
      : path_(std::move(path)), index_field_(std::move(index_field)), preserve_(preserve) {}

  Result<std::unique_ptr<DocStream>> Open(std::unique_ptr<DocStream> in,
                                          const RunState&) const override {
    class S : public DocStream {
     public:
      S(const UnwindStage* st, std::unique_ptr<DocStream> in) : st_(st), in_(std::move(in)) {}
      Result<bool> Next(Document* out) override {
        while (true) {
          if (pos_ < elems_.size()) {
            *out = base_;
            SetPath(out, st_->path_, std::move(elems_[pos_]));
            if (!st_->index_field_.empty()) {
              SetPath(out, st_->index_field_, Value(static_cast<int64_t>(pos_)));
            }
            ++pos_;
            return true;
          }
          EDDY_ASSIGN_OR_RETURN(bool more, in_->Next(&base_));
          if (!more) return false;
          const Value* v = GetPath(base_, st_->path_);
          if (v != nullptr && v->is_array() && !v->as_array().empty()) {
            elems_ = std::move(const_cast<Value*>(v)->as_array());
            pos_ = 0;
            continue;
          }
          elems_.clear();
          pos_ = 0;
          if (v != nullptr && !v->is_array() && !v->is_nullish()) {
            // A non-array value unwinds as a one-element array.
            *out = std::move(base_);
            if (!st_->index_field_.empty()) SetPath(out, st_->index_field_, Value());
            return true;
          }
          if (!st_->preserve_) continue;
          *out = std::move(base_);
          if (v != nullptr && v->is_array()) RemovePath(out, st_->path_);
          if (!st_->index_field_.empty()) SetPath(out, st_->index_field_, Value());
          return true;
        }
      }

     private:
      const UnwindStage* st_;
      std::unique_ptr<DocStream> in_;
      Document base_;
      Array elems_;
      size_t pos_ = 0;
    };
    return std::unique_ptr<DocStream>(std::make_unique<S>(this, std::move(in)));
  }

 private:
  std::string path_;
  std::string index_field_;
  bool preserve_;
};

// ---- $replaceRoot / $replaceWith

class ReplaceRootStage : public Stage {
 public:
  ReplaceRootStage(ExpressionPtr e, std::string what) : e_(std::move(e)), what_(std::move(what)) {}
  Result<std::unique_ptr<DocStream>> Open(std::unique_ptr<DocStream> in,
                                          const RunState& rs) const override {
    const RunState* r = &rs;
    return std::unique_ptr<DocStream>(std::make_unique<MapStream>(
        std::move(in), [this, r](Document* d) -> Result<bool> {
          EvalContext ctx = r->Context(*d);
          EDDY_ASSIGN_OR_RETURN(MaybeValue v, e_->Evaluate(ctx));
          if (!v || !v->is_document()) {
            return Err(40228, "'" + what_ + "' must evaluate to an object, but resulting value " +
                                  "was: " + DescribeForError(v) + ". Type of resulting value: '" +
                                  std::string(query::TypeNameOf(v)) + "'. Input document: " +
                                  Json(*d));
          }
          Document nd = std::move(v->as_document());
          *d = std::move(nd);
          return true;
        }));
  }

 private:
  ExpressionPtr e_;
  std::string what_;
};

// ---- $redact

Result<std::optional<Document>> Redact(const ExpressionPtr& e, const RunState& rs,
                                       const Document& root, const Document& doc);

Result<std::optional<Value>> RedactValue(const ExpressionPtr& e, const RunState& rs,
                                         const Document& root, const Value& v) {
  if (v.is_document()) {
    EDDY_ASSIGN_OR_RETURN(auto r, Redact(e, rs, root, v.as_document()));
    if (!r) return std::optional<Value>();
    return std::optional<Value>(Value(std::move(*r)));
  }
  if (v.is_array()) {
    Array out;
    for (const Value& el : v.as_array()) {
      EDDY_ASSIGN_OR_RETURN(auto r, RedactValue(e, rs, root, el));
      if (r) out.push_back(std::move(*r));
    }
    return std::optional<Value>(Value(std::move(out)));
  }
  return std::optional<Value>(v);
}

Result<std::optional<Document>> Redact(const ExpressionPtr& e, const RunState& rs,
                                       const Document& root, const Document& doc) {
  EvalContext ctx = rs.Context(root);
  ctx.set_current(doc);
  ctx.PushVariable("DESCEND", Value("descend"));
  ctx.PushVariable("PRUNE", Value("prune"));
  ctx.PushVariable("KEEP", Value("keep"));
  EDDY_ASSIGN_OR_RETURN(MaybeValue v, e->Evaluate(ctx));
  if (v && v->is_string()) {
    const std::string& s = v->as_string();
    if (s == "keep") return std::optional<Document>(doc);
    if (s == "prune") return std::optional<Document>();
    if (s == "descend") {
      Document out;
      for (const bson::Field& f : doc) {
        EDDY_ASSIGN_OR_RETURN(auto r, RedactValue(e, rs, root, f.value));
        if (r) out.Append(f.name, std::move(*r));
      }
      return std::optional<Document>(std::move(out));
    }
  }
  return Err(17053, "$redact's expression should not return anything aside from the variables "
                    "$$KEEP, $$DESCEND, and $$PRUNE, but returned " + DescribeForError(v));
}

class RedactStage : public Stage {
 public:
  explicit RedactStage(ExpressionPtr e) : e_(std::move(e)) {}
  Result<std::unique_ptr<DocStream>> Open(std::unique_ptr<DocStream> in,
                                          const RunState& rs) const override {
    const RunState* r = &rs;
    return std::unique_ptr<DocStream>(std::make_unique<MapStream>(
        std::move(in), [this, r](Document* d) -> Result<bool> {
          Document root = std::move(*d);
          EDDY_ASSIGN_OR_RETURN(auto out, Redact(e_, *r, root, root));
          if (!out) return false;
          *d = std::move(*out);
          return true;
        }));
  }

 private:
  ExpressionPtr e_;
};

// ---- $documents

class DocumentsStage : public Stage {
 public:
  explicit DocumentsStage(ExpressionPtr e) : e_(std::move(e)) {}
  Result<std::unique_ptr<DocStream>> Open(std::unique_ptr<DocStream>,
                                          const RunState& rs) const override {
    Document empty;
    EvalContext ctx = rs.Context(empty);
    EDDY_ASSIGN_OR_RETURN(MaybeValue v, e_->Evaluate(ctx));
    if (!v || !v->is_array()) {
      return Err(5858203, "error during lookup: $documents stage must evaluate to an array of "
                          "objects, found: " + DescribeForError(v));
    }
    std::vector<Document> docs;
    for (const Value& el : v->as_array()) {
      if (!el.is_document()) {
        return Err(40228, "$documents stage must evaluate to an array of objects, found an "
                          "element of type " + TypeNameOf(el));
      }
      docs.push_back(el.as_document());
    }
    return MakeVectorStream(std::move(docs));
  }

 private:
  ExpressionPtr e_;
};

// ---- $sample: reservoir sampling, then a shuffled output.

class SampleStage : public Stage {
 public:
  explicit SampleStage(int64_t n) : n_(n) {}
  Result<std::unique_ptr<DocStream>> Open(std::unique_ptr<DocStream> in,
                                          const RunState& rs) const override {
    std::vector<Document> reservoir;
    std::mt19937_64 rng(std::random_device{}());
    MemoryTracker mem(rs, "$sample");
    Document d;
    int64_t seen = 0;
    while (n_ > 0) {
      EDDY_ASSIGN_OR_RETURN(bool more, in->Next(&d));
      if (!more) break;
      ++seen;
      if (static_cast<int64_t>(reservoir.size()) < n_) {
        EDDY_RETURN_IF_ERROR(mem.Add(ApproxSize(d)));
        reservoir.push_back(std::move(d));
      } else {
        std::uniform_int_distribution<int64_t> dist(0, seen - 1);
        int64_t j = dist(rng);
        if (j < n_) reservoir[static_cast<size_t>(j)] = std::move(d);
      }
    }
    std::shuffle(reservoir.begin(), reservoir.end(), rng);
    return MakeVectorStream(std::move(reservoir));
  }

 private:
  int64_t n_;
};

// ---- $count

class CountStage : public Stage {
 public:
  explicit CountStage(std::string field) : field_(std::move(field)) {}
  Result<std::unique_ptr<DocStream>> Open(std::unique_ptr<DocStream> in,
                                          const RunState&) const override {
    int64_t n = 0;
    Document d;
    while (true) {
      EDDY_ASSIGN_OR_RETURN(bool more, in->Next(&d));
      if (!more) break;
      ++n;
    }
    std::vector<Document> out;
    if (n > 0) {
      Document r;
      r.Append(field_, n <= INT32_MAX ? Value(static_cast<int32_t>(n)) : Value(n));
      out.push_back(std::move(r));
    }
    return MakeVectorStream(std::move(out));
  }

 private:
  std::string field_;
};

StageList One(StagePtr s) { return StageList{std::move(s)}; }

}  // namespace

// ---- Parsers

Result<StagePtr> MakeMatchStage(const Document& filter, const ParseState& ps) {
  // The filter language cannot see user variables, so top-level $expr clauses (and those under a
  // top-level $and) are evaluated here when variables are in scope.
  Document rest;
  std::vector<ExpressionPtr> exprs;
  for (const bson::Field& f : filter) {
    if (f.name == "$expr") {
      EDDY_ASSIGN_OR_RETURN(ExpressionPtr e, ParseExpression(f.value, ps.vars));
      exprs.push_back(std::move(e));
      continue;
    }
    if (f.name == "$and" && f.value.is_array()) {
      Array kept;
      for (const Value& c : f.value.as_array()) {
        if (c.is_document() && c.as_document().size() == 1 &&
            c.as_document().at(0).name == "$expr") {
          EDDY_ASSIGN_OR_RETURN(ExpressionPtr e,
                                ParseExpression(c.as_document().at(0).value, ps.vars));
          exprs.push_back(std::move(e));
        } else {
          kept.push_back(c);
        }
      }
      if (!kept.empty()) rest.Append("$and", Value(std::move(kept)));
      continue;
    }
    rest.Append(f.name, f.value);
  }
  MatchOptions mo;
  if (ps.options) mo.collator = ps.options->collator;
  EDDY_ASSIGN_OR_RETURN(Matcher m, Matcher::Compile(rest, mo));
  return StagePtr(std::make_shared<MatchStage>(std::move(m), std::move(exprs)));
}

Result<StageList> ParseMatch(const Value& spec, const ParseState& ps) {
  if (!spec.is_document()) {
    return Err(15959, "the match filter must be an expression in an object");
  }
  EDDY_ASSIGN_OR_RETURN(StagePtr s, MakeMatchStage(spec.as_document(), ps));
  return One(std::move(s));
}

Result<StageList> ParseLimit(const Value& spec, const ParseState&) {
  EDDY_ASSIGN_OR_RETURN(int64_t n, StageCount(spec, "$limit", 15957));
  if (n <= 0) return Err(15958, "the limit must be positive");
  return One(std::make_shared<LimitStage>(n));
}

Result<StageList> ParseSkip(const Value& spec, const ParseState&) {
  EDDY_ASSIGN_OR_RETURN(int64_t n, StageCount(spec, "$skip", 15972));
  if (n < 0) {
    return Err(15956, "invalid argument to $skip stage: Expected a non-negative number in: "
                      "$skip: " + Json(spec));
  }
  return One(std::make_shared<SkipStage>(n));
}

Result<StageList> ParseUnwind(const Value& spec, const ParseState&) {
  std::string path;
  std::string index_field;
  bool preserve = false;
  if (spec.is_string()) {
    path = spec.as_string();
  } else if (spec.is_document()) {
    bool has_path = false;
    for (const bson::Field& f : spec.as_document()) {
      if (f.name == "path") {
        if (!f.value.is_string()) {
          return Err(28808, "expected a string as the path for $unwind stage, got " +
                                TypeNameOf(f.value));
        }
        path = f.value.as_string();
        has_path = true;
      } else if (f.name == "includeArrayIndex") {
        if (!f.value.is_string() || f.value.as_string().empty()) {
          return Err(28810, "expected a non-empty string for the includeArrayIndex option to "
                            "$unwind stage, got " + TypeNameOf(f.value));
        }
        index_field = f.value.as_string();
        if (index_field[0] == '$') {
          return Err(28822, "includeArrayIndex option to $unwind stage should not be prefixed "
                            "with a '$': " + index_field);
        }
      } else if (f.name == "preserveNullAndEmptyArrays") {
        if (!f.value.is_bool()) {
          return Err(28809, "expected a boolean for the preserveNullAndEmptyArrays option to "
                            "$unwind stage, got " + TypeNameOf(f.value));
        }
        preserve = f.value.as_bool();
      } else {
        return Err(28811, "unrecognized option to $unwind stage: " + f.name);
      }
    }
    if (!has_path) return Err(28812, "no path specified to $unwind stage");
  } else {
    return Err(15981, "expected either a string or an object as specification for $unwind "
                      "stage, got " + TypeNameOf(spec));
  }
  if (path.empty()) return Err(28812, "no path specified to $unwind stage");
  if (path[0] != '$') {
    return Err(28818, "path option to $unwind stage should be prefixed with a '$': " + path);
  }
  EDDY_ASSIGN_OR_RETURN(std::string p, ValidateFieldPath(path, true, 28818,
                                                         "path option to $unwind stage"));
  if (!index_field.empty()) {
    EDDY_RETURN_IF_ERROR(ValidateFieldPath(index_field, false, 28822, "includeArrayIndex")
                             .status());
  }
  return One(std::make_shared<UnwindStage>(std::move(p), std::move(index_field), preserve));
}

Result<StageList> ParseReplaceRoot(const Value& spec, const ParseState& ps) {
  if (!spec.is_document()) {
    return Err(40229, "expected an object as specification for $replaceRoot stage, got " +
                          TypeNameOf(spec));
  }
  const Value* nr = nullptr;
  for (const bson::Field& f : spec.as_document()) {
    if (f.name != "newRoot") {
      return Err(40415, "BSON field '$replaceRoot." + f.name + "' is an unknown field.");
    }
    nr = &f.value;
  }
  if (nr == nullptr) {
    return Err(40414, "BSON field '$replaceRoot.newRoot' is missing but a required field");
  }
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr e, ParseExpression(*nr, ps.vars));
  return One(std::make_shared<ReplaceRootStage>(std::move(e), "newRoot' expression"));
}

Result<StageList> ParseReplaceWith(const Value& spec, const ParseState& ps) {
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr e, ParseExpression(spec, ps.vars));
  return One(std::make_shared<ReplaceRootStage>(std::move(e), "replacement document"));
}

Result<StageList> ParseRedact(const Value& spec, const ParseState& ps) {
  EDDY_ASSIGN_OR_RETURN(
      ExpressionPtr e,
      ParseExpression(spec, ps.vars.WithVariables({"DESCEND", "PRUNE", "KEEP"})));
  return One(std::make_shared<RedactStage>(std::move(e)));
}

Result<StageList> ParseDocuments(const Value& spec, const ParseState& ps) {
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr e, ParseExpression(spec, ps.vars));
  return One(std::make_shared<DocumentsStage>(std::move(e)));
}

Result<StageList> ParseSample(const Value& spec, const ParseState&) {
  if (!spec.is_document()) {
    return Err(28745, "the $sample stage specification must be an object");
  }
  std::optional<int64_t> size;
  for (const bson::Field& f : spec.as_document()) {
    if (f.name != "size") return Err(28748, "unrecognized option to $sample: " + f.name);
    if (!f.value.is_number()) return Err(28746, "size argument to $sample must be a number");
    if (f.value.ToDouble() < 0) return Err(28747, "size argument to $sample must not be negative");
    size = f.value.ToInt64();
  }
  if (!size) return Err(28749, "$sample stage must specify a size");
  return One(std::make_shared<SampleStage>(*size));
}

Result<StageList> ParseCount(const Value& spec, const ParseState&) {
  if (!spec.is_string() || spec.as_string().empty()) {
    return Err(40156, "the count field must be a non-empty string");
  }
  const std::string& s = spec.as_string();
  if (s[0] == '$') return Err(40158, "the count field cannot be a $-prefixed path");
  if (s.find('.') != std::string::npos) return Err(40160, "the count field cannot contain '.'");
  if (s.find('\0') != std::string::npos) return Err(40159, "the count field cannot contain a null byte");
  return One(std::make_shared<CountStage>(s));
}

}  // namespace eddy::query::agg_internal
