#include "query/agg/pipeline.h"

#include <chrono>
#include <map>

#include "bson/codec.h"
#include "bson/json.h"
#include "query/agg/stage.h"
#include "query/match/matcher.h"

namespace eddy::query {

using bson::Array;
using bson::Document;
using bson::Value;

namespace agg_internal {

Status Err(int code, std::string message) {
  return Status(static_cast<ErrorCode>(code), std::move(message));
}

std::string TypeNameOf(const Value& v) { return std::string(bson::TypeName(v.type())); }
std::string Json(const Value& v) { return bson::ToJson(v, bson::JsonMode::kShell); }
std::string Json(const Document& d) { return bson::ToJson(d, bson::JsonMode::kShell); }

EvalContext RunState::Context(const Document& doc) const {
  EvalContext ctx(doc, now);
  if (vars) {
    for (const auto& [name, value] : *vars) ctx.PushVariable(name, value);
  }
  return ctx;
}

Result<AggSource*> RunState::RequireSource(std::string_view stage) const {
  if (source == nullptr) {
    return Err(1, std::string(stage) + " needs access to other collections, but none was given");
  }
  return source;
}

Status MemoryTracker::Add(int64_t bytes) {
  used_ += bytes;
  if (used_ > limit_ && !allow_) {
    return Err(292, "Exceeded memory limit for " + stage_ + ", but didn't allow external " +
                        "spilling; pass allowDiskUse:true to opt in (limit " +
                        std::to_string(limit_) + " bytes)");
  }
  return Status::OK();
}

int64_t ApproxSize(const Value& v) {
  switch (v.type()) {
    case bson::Type::kString: return 16 + static_cast<int64_t>(v.as_string().size());
    case bson::Type::kDocument: return ApproxSize(v.as_document());
    case bson::Type::kArray: {
      int64_t n = 16;
      for (const Value& e : v.as_array()) n += 8 + ApproxSize(e);
      return n;
    }
    case bson::Type::kBinary: return 16 + static_cast<int64_t>(v.as_binary().data.size());
    default: return 16;
  }
}

int64_t ApproxSize(const Document& doc) {
  int64_t n = 16;
  for (const bson::Field& f : doc) n += 8 + static_cast<int64_t>(f.name.size()) + ApproxSize(f.value);
  return n;
}

const Value* GetPath(const Document& doc, std::string_view path) {
  const Document* d = &doc;
  while (true) {
    size_t dot = path.find('.');
    const Value* v = d->Get(path.substr(0, dot));
    if (v == nullptr || dot == std::string_view::npos) return v;
    if (!v->is_document()) return nullptr;
    d = &v->as_document();
    path = path.substr(dot + 1);
  }
}

void SetPath(Document* doc, std::string_view path, Value value) {
  size_t dot = path.find('.');
  if (dot == std::string_view::npos) {
    doc->Set(path, std::move(value));
    return;
  }
  std::string_view head = path.substr(0, dot);
  Value* child = doc->GetMutable(head);
  if (child == nullptr) {
    doc->Append(std::string(head), Value(Document()));
    child = doc->GetMutable(head);
  } else if (!child->is_document()) {
    *child = Value(Document());
  }
  SetPath(&child->as_document(), path.substr(dot + 1), std::move(value));
}

void RemovePath(Document* doc, std::string_view path) {
  size_t dot = path.find('.');
  if (dot == std::string_view::npos) {
    doc->Remove(path);
    return;
  }
  Value* child = doc->GetMutable(path.substr(0, dot));
  if (child != nullptr && child->is_document()) {
    RemovePath(&child->as_document(), path.substr(dot + 1));
  }
}

namespace {
void CollectFromValue(const Value& v, std::string_view rest, std::vector<Value>* out);

void CollectFromDoc(const Document& d, std::string_view path, std::vector<Value>* out) {
  size_t dot = path.find('.');
  const Value* v = d.Get(path.substr(0, dot));
  if (v == nullptr) return;
  CollectFromValue(*v, dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1),
                   out);
}

void CollectFromValue(const Value& v, std::string_view rest, std::vector<Value>* out) {
  if (rest.empty()) {
    if (v.is_array()) {
      for (const Value& e : v.as_array()) out->push_back(e);
    } else {
      out->push_back(v);
    }
    return;
  }
  if (v.is_document()) {
    CollectFromDoc(v.as_document(), rest, out);
  } else if (v.is_array()) {
    for (const Value& e : v.as_array()) {
      if (e.is_document()) CollectFromDoc(e.as_document(), rest, out);
    }
  }
}
}  // namespace

void CollectPathValues(const Document& doc, std::string_view path, std::vector<Value>* out) {
  CollectFromDoc(doc, path, out);
}

Result<std::string> ValidateFieldPath(std::string_view path, bool dollar_prefixed, int code,
                                      std::string_view what) {
  if (dollar_prefixed) {
    if (path.empty() || path[0] != '$') {
      return Err(code, std::string(what) + " should be prefixed with a '$': " + std::string(path));
    }
    path.remove_prefix(1);
  }
  if (path.empty()) return Err(40352, "FieldPath cannot be constructed with empty string");
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string_view part = path.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (part.empty()) return Err(15998, "FieldPath field names may not be empty strings.");
    if (part[0] == '$') {
      return Err(16410, "FieldPath field names may not start with '$'. Consider using $getField "
                        "or $setField.");
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return std::string(path);
}

Result<std::vector<Document>> RunSubPipeline(const Pipeline& p, std::vector<Document> input,
                                             const RunState& rs,
                                             std::shared_ptr<const VarList> vars) {
  EDDY_ASSIGN_OR_RETURN(auto stream,
                        p.RunWithVariables(MakeVectorStream(std::move(input)), rs.source,
                                           std::move(vars), rs.now));
  return DrainStream(*stream);
}

}  // namespace agg_internal

using namespace agg_internal;  // NOLINT

// ---- Streams

namespace {

class VectorStream : public DocStream {
 public:
  explicit VectorStream(std::vector<Document> docs) : docs_(std::move(docs)) {}
  Result<bool> Next(Document* out) override {
    if (pos_ >= docs_.size()) return false;
    *out = std::move(docs_[pos_++]);
    return true;
  }

 private:
  std::vector<Document> docs_;
  size_t pos_ = 0;
};

}  // namespace

std::unique_ptr<DocStream> MakeVectorStream(std::vector<Document> docs) {
  return std::make_unique<VectorStream>(std::move(docs));
}

Result<std::vector<Document>> DrainStream(DocStream& stream) {
  std::vector<Document> out;
  Document d;
  while (true) {
    EDDY_ASSIGN_OR_RETURN(bool more, stream.Next(&d));
    if (!more) break;
    out.push_back(std::move(d));
  }
  return out;
}

// ---- Parsing

namespace {

const std::map<std::string, StageParser, std::less<>>& StageParsers() {
  static const auto* parsers = new std::map<std::string, StageParser, std::less<>>{
      {"$match", ParseMatch},
      {"$limit", ParseLimit},
      {"$skip", ParseSkip},
      {"$project", ParseProject},
      {"$addFields", ParseAddFields},
      {"$set", ParseSet},
      {"$unset", ParseUnset},
      {"$replaceRoot", ParseReplaceRoot},
      {"$replaceWith", ParseReplaceWith},
      {"$unwind", ParseUnwind},
      {"$redact", ParseRedact},
      {"$documents", ParseDocuments},
      {"$sample", ParseSample},
      {"$count", ParseCount},
      {"$sort", ParseSort},
      {"$group", ParseGroup},
      {"$sortByCount", ParseSortByCount},
      {"$bucket", ParseBucket},
      {"$bucketAuto", ParseBucketAuto},
      {"$lookup", ParseLookup},
      {"$unionWith", ParseUnionWith},
      {"$facet", ParseFacet},
      {"$out", ParseOut},
      {"$merge", ParseMerge},
      {"$setWindowFields", ParseSetWindowFields},
  };
  return *parsers;
}

// Folds the leading $match/$sort/$skip/$limit into a find.
Pushdown ComputePushdown(const Array& stages) {
  Pushdown p;
  std::vector<Value> matches;
  size_t i = 0;
  for (; i < stages.size(); ++i) {
    const Document& s = stages[i].as_document();
    if (s.at(0).name != "$match") break;
    if (!Matcher::Compile(s.at(0).value.as_document()).ok()) break;
    matches.push_back(s.at(0).value);
  }
  if (matches.size() == 1) {
    p.filter = matches[0].as_document();
  } else if (matches.size() > 1) {
    p.filter.Append("$and", Value(Array(matches.begin(), matches.end())));
  }
  p.stages = i;
  if (i < stages.size() && stages[i].as_document().at(0).name == "$sort") {
    p.sort = stages[i].as_document().at(0).value.as_document();
    p.stages = ++i;
  }
  for (; i < stages.size(); ++i) {
    const bson::Field& f = stages[i].as_document().at(0);
    if (f.name == "$skip") {
      int64_t n = f.value.ToInt64();
      if (p.limit > 0) {
        if (p.limit <= n) break;  // a find limit of 0 would mean "no limit"
        p.limit -= n;
      }
      p.skip += n;
    } else if (f.name == "$limit") {
      int64_t n = f.value.ToInt64();
      p.limit = p.limit > 0 ? std::min(p.limit, n) : n;
    } else {
      break;
    }
    p.stages = i + 1;
  }
  return p;
}

}  // namespace

Pipeline::Pipeline() = default;
Pipeline::~Pipeline() = default;
Pipeline::Pipeline(const Pipeline&) = default;
Pipeline::Pipeline(Pipeline&&) noexcept = default;
Pipeline& Pipeline::operator=(const Pipeline&) = default;
Pipeline& Pipeline::operator=(Pipeline&&) noexcept = default;

Result<Pipeline> Pipeline::Parse(const Array& stages, const AggOptions& options) {
  ParseContext vars;
  std::vector<std::string> names;
  for (const bson::Field& f : options.let) names.push_back(f.name);
  return ParseNested(stages, options, vars.WithVariables(names), "");
}

Result<Pipeline> Pipeline::ParseNested(const Array& stages, const AggOptions& options,
                                       const ParseContext& vars, std::string_view where) {
  Pipeline p;
  p.options_ = options;
  for (size_t i = 0; i < stages.size(); ++i) {
    const Value& sv = stages[i];
    if (!sv.is_document()) {
      return Err(14, "Each element of the 'pipeline' array must be an object");
    }
    const Document& s = sv.as_document();
    if (s.size() != 1) {
      return Err(40323, "A pipeline stage specification object must contain exactly one field.");
    }
    const std::string& name = s.at(0).name;
    auto it = StageParsers().find(name);
    if (it == StageParsers().end()) {
      return Err(40324, "Unrecognized pipeline stage name: '" + name + "'");
    }
    bool is_output = name == "$out" || name == "$merge";
    if (is_output) {
      if (where == "$facet") {
        return Err(40600, name + " is not allowed to be used within a $facet stage");
      }
      if (where == "$lookup") {
        return Err(51047, name + " is not allowed within a $lookup's sub-pipeline");
      }
      if (where == "$unionWith") {
        return Err(31441, name + " is not allowed within a $unionWith's sub-pipeline");
      }
      if (i + 1 != stages.size()) {
        return Err(40601, name + " can only be the final stage in the pipeline");
      }
      p.writes_output_ = true;
    }
    if (name == "$documents") {
      if (i != 0) return Err(40602, "$documents is only valid as the first stage in a pipeline");
      p.starts_with_documents_ = true;
    }
    if (name == "$facet" && where == "$facet") {
      return Err(40600, "$facet is not allowed to be used within a $facet stage");
    }
    ParseState ps;
    ps.options = &p.options_;
    ps.vars = vars;
    ps.where = std::string(where);
    ps.is_first = i == 0;
    ps.is_last = i + 1 == stages.size();
    Result<StageList> parsed = it->second(s.at(0).value, ps);
    if (!parsed.ok()) return parsed.status();
    for (StagePtr& st : *parsed) {
      p.stages_.push_back(st);
      p.spec_index_.push_back(i);
    }
    // $sort immediately followed by $limit keeps only the top k.
    if (name == "$sort" && i + 1 < stages.size() && stages[i + 1].is_document() &&
        stages[i + 1].as_document().size() == 1 &&
        stages[i + 1].as_document().at(0).name == "$limit" &&
        stages[i + 1].as_document().at(0).value.is_number()) {
      int64_t k = stages[i + 1].as_document().at(0).value.ToInt64();
      if (k > 0) p.stages_.back()->AbsorbLimit(k);
    }
  }
  if (where.empty() && options.let.empty() && !options.collator) {
    p.pushdown_ = ComputePushdown(stages);
  }
  return p;
}

Result<std::unique_ptr<DocStream>> Pipeline::Run(std::unique_ptr<DocStream> input,
                                                 AggSource* source, bool skip_pushdown) const {
  // The aggregate command's let: constants evaluated once against an empty document.
  bson::DateTime now = options_.now.value_or(bson::DateTime{
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count()});
  // Validated and evaluated as every command's let is (names, no field access).
  EDDY_ASSIGN_OR_RETURN(std::shared_ptr<const VarList> vars,
                        EvaluateCommandLet(options_.let, now));
  return RunFrom(std::move(input), source, vars, now, skip_pushdown ? pushdown_.stages : 0);
}

Result<std::unique_ptr<DocStream>> Pipeline::RunWithVariables(
    std::unique_ptr<DocStream> input, AggSource* source, std::shared_ptr<const VarList> vars,
    std::optional<bson::DateTime> now) const {
  bson::DateTime n = now ? *now : options_.now.value_or(bson::DateTime{
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count()});
  return RunFrom(std::move(input), source, std::move(vars), n, 0);
}

Result<std::unique_ptr<DocStream>> Pipeline::RunFrom(std::unique_ptr<DocStream> input,
                                                     AggSource* source,
                                                     std::shared_ptr<const VarList> vars,
                                                     bson::DateTime now,
                                                     size_t first_spec) const {
  auto rs = std::make_shared<RunState>();
  rs->source = source;
  rs->vars = std::move(vars);
  rs->now = now;
  rs->max_memory_bytes = options_.max_memory_bytes;
  rs->allow_disk_use = options_.allow_disk_use;
  rs->options = options_;
  std::unique_ptr<DocStream> stream = std::move(input);
  if (!stream) stream = MakeVectorStream({});
  for (size_t i = 0; i < stages_.size(); ++i) {
    if (spec_index_[i] < first_spec) continue;
    EDDY_ASSIGN_OR_RETURN(stream, stages_[i]->Open(std::move(stream), *rs));
  }
  // The opened streams refer to their Stage objects and to the RunState: tie both lifetimes
  // to the outermost stream, which may outlive this Pipeline (a cursor's getMore runs after
  // the aggregate command that parsed the pipeline has returned).
  class Holder : public DocStream {
   public:
    Holder(std::vector<std::shared_ptr<agg_internal::Stage>> stages,
           std::shared_ptr<RunState> rs, std::unique_ptr<DocStream> s)
        : stages_(std::move(stages)), rs_(std::move(rs)), s_(std::move(s)) {}
    ~Holder() override { s_.reset(); }  // the streams go before the stages they point into
    Result<bool> Next(Document* out) override { return s_->Next(out); }

   private:
    std::vector<std::shared_ptr<agg_internal::Stage>> stages_;
    std::shared_ptr<RunState> rs_;
    std::unique_ptr<DocStream> s_;
  };
  return std::unique_ptr<DocStream>(std::make_unique<Holder>(stages_, rs, std::move(stream)));
}

// ---- $merge helper

Result<std::optional<Document>> ApplyMergeWhenMatched(const MergeSpec& spec,
                                                      const Document& existing,
                                                      const Document& incoming) {
  using WM = MergeSpec::WhenMatched;
  switch (spec.when_matched) {
    case WM::kReplace: {
      Document out = incoming;
      if (const Value* id = existing.Get("_id"); id != nullptr && !out.Has("_id")) {
        out.mutable_fields().insert(out.mutable_fields().begin(), bson::Field{"_id", *id});
      }
      return std::optional<Document>(std::move(out));
    }
    case WM::kKeepExisting: return std::optional<Document>();
    case WM::kMerge: {
      Document out = existing;
      for (const bson::Field& f : incoming) out.Set(f.name, f.value);
      return std::optional<Document>(std::move(out));
    }
    case WM::kFail: {
      // As mongod's insert of the incoming document would: DuplicateKey with keyPattern (the
      // 'on' fields, which a unique index covers) and keyValue.
      Document pattern, value;
      for (const std::string& f : spec.on) {
        pattern.Append(f, int32_t{1});
        const Value* v = incoming.Get(f);
        value.Append(f, v ? *v : Value());
      }
      return Status(ErrorCode::kDuplicateKey,
                    "$merge with whenMatched: fail found an existing document with the same "
                    "values for the 'on' fields: " + Json(existing))
          .WithExtraInfo(bson::Encode(Document{{"keyPattern", std::move(pattern)},
                                               {"keyValue", std::move(value)}}));
    }
    case WM::kPipeline: {
      AggOptions opts;
      opts.db = spec.db;
      std::vector<std::string> names = {"new"};
      for (const bson::Field& f : spec.let) names.push_back(f.name);
      EDDY_ASSIGN_OR_RETURN(Pipeline p, Pipeline::ParseNested(spec.when_matched_pipeline, opts,
                                                              ParseContext().WithVariables(names),
                                                              "$merge"));
      auto vars = std::make_shared<VarList>();
      vars->emplace_back("new", Value(incoming));
      for (const bson::Field& f : spec.let) {
        EDDY_ASSIGN_OR_RETURN(ExpressionPtr e, ParseExpression(f.value, ParseContext()));
        EvalContext ctx(incoming);
        EDDY_ASSIGN_OR_RETURN(MaybeValue v, e->Evaluate(ctx));
        vars->emplace_back(f.name, std::move(v));
      }
      EDDY_ASSIGN_OR_RETURN(auto stream,
                            p.RunWithVariables(MakeVectorStream({existing}), nullptr, vars,
                                               std::nullopt));
      EDDY_ASSIGN_OR_RETURN(auto docs, DrainStream(*stream));
      if (docs.size() != 1) {
        return Err(51089, "$merge's whenMatched pipeline must produce exactly one document");
      }
      return std::optional<Document>(std::move(docs[0]));
    }
  }
  return std::optional<Document>();
}

}  // namespace eddy::query
