// aggregate: pipelines over a collection (leading $match/$sort/$skip/$limit pushed into an
// index-assisted find) and $documents pipelines (aggregate: 1). A pipeline starting with
// $changeStream is handed to OpenChangeStream (change_stream_command.cc).
#include "bson/codec.h"
#include "bson/compare.h"
#include "bson/json.h"
#include "query/agg/pipeline.h"
#include "query/exec/views.h"
#include "wire/commands/agg_source.h"
#include "wire/commands/command.h"

namespace eddy::wire {
namespace {

// A find cursor as the pipeline's input.
class FindStream : public query::DocStream {
 public:
  explicit FindStream(std::unique_ptr<query::FindCursor> c) : cursor_(std::move(c)) {}
  Result<bool> Next(bson::Document* out) override {
    if (cursor_->Next(out)) return true;
    EDDY_RETURN_IF_ERROR(cursor_->status());
    return false;
  }

 private:
  std::unique_ptr<query::FindCursor> cursor_;
};

// The pipeline's output as a server cursor (streams across getMores).
class StreamCursor : public ServerCursor {
 public:
  explicit StreamCursor(std::unique_ptr<query::DocStream> s) : stream_(std::move(s)) {}
  Result<bool> NextBatch(int64_t batch_size, std::chrono::steady_clock::time_point,
                         bson::Array* out) override {
    while (batch_size <= 0 || static_cast<int64_t>(out->size()) < batch_size) {
      bson::Document d;
      if (pending_) {
        d = std::move(*pending_);
        pending_.reset();
      } else {
        EDDY_ASSIGN_OR_RETURN(bool more, stream_->Next(&d));
        if (!more) return false;
      }
      out->push_back(std::move(d));
    }
    bson::Document d;
    EDDY_ASSIGN_OR_RETURN(bool more, stream_->Next(&d));
    if (!more) return false;
    pending_ = std::move(d);
    return true;
  }

 private:
  std::unique_ptr<query::DocStream> stream_;
  std::optional<bson::Document> pending_;
};

// Runs a parsed pipeline over `input` with the database as its AggSource.
Result<PipelineRun> RunParsed(CommandContext& ctx, const query::Pipeline& p,
                              std::unique_ptr<query::DocStream> input, bool pushed,
                              bool bypass_document_validation) {
  std::shared_ptr<query::AggSource> source =
      MakeDatabaseSource(ctx.db, ctx.db_name, bypass_document_validation);
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<query::DocStream> out, p.Run(std::move(input), source.get(), pushed));
  // The stream may call back into the source later (getMore): keep the source alive with it.
  struct Holder : query::DocStream {
    std::shared_ptr<query::AggSource> source;
    std::unique_ptr<query::DocStream> stream;
    Result<bool> Next(bson::Document* d) override { return stream->Next(d); }
  };
  auto holder = std::make_unique<Holder>();
  holder->source = source;
  holder->stream = std::move(out);
  PipelineRun run;
  run.stream = std::move(holder);
  run.writes_output = p.writes_output();
  return run;
}

// A view's default collation can not be overridden: the command's collation, if given, must be
// the view's (absent and {locale: "simple"} are the same).
Status CheckViewCollation(const std::optional<bson::Document>& view, const bson::Value* given) {
  if (given == nullptr) return Status::OK();
  auto is_simple = [](const bson::Document* d) {
    if (d == nullptr) return true;
    const bson::Value* locale = d->Get("locale");
    return d->size() == 1 && locale && locale->is_string() && locale->as_string() == "simple";
  };
  const bson::Document* g = given->is_document() ? &given->as_document() : nullptr;
  const bson::Document* v = view ? &*view : nullptr;
  bool same = is_simple(g) && is_simple(v);
  if (!same && g && v) same = bson::Compare(*g, *v) == 0;
  if (!same) {
    return Status(query::kOptionNotSupportedOnView, "Cannot override a view's default collation");
  }
  return Status::OK();
}

}  // namespace

namespace {

// The pipeline after its first `pushed` stages is exactly {$group: {_id: <constant>, <name>:
// {$sum: 1}}}, the group drivers' countDocuments sends (after {$match}, {$skip}, {$limit}):
// returns that $group's spec. The pipeline parsed already, so the field name is valid. Only
// numbers, null and booleans count as constant _ids (a string may be a "$path", a document
// may hold expressions); only an integer 1 is summed (the result then is an int32 count, an
// int64 past its range, as mongod's $sum of int32 ones).
const bson::Document* CountOnlyGroup(const bson::Array& stages, size_t pushed) {
  if (stages.size() != pushed + 1 || !stages[pushed].is_document()) return nullptr;
  const bson::Document& stage = stages[pushed].as_document();
  if (stage.size() != 1 || stage.at(0).name != "$group" || !stage.at(0).value.is_document()) {
    return nullptr;
  }
  const bson::Document& group = stage.at(0).value.as_document();
  if (group.size() != 2 || group.at(0).name != "_id") return nullptr;
  const bson::Value& id = group.at(0).value;
  if (!id.is_number() && !id.is_null() && id.type() != bson::Type::kBool) return nullptr;
  if (id.type() == bson::Type::kDecimal128) return nullptr;
  const bson::Value& acc = group.at(1).value;
  if (!acc.is_document() || acc.as_document().size() != 1 ||
      acc.as_document().at(0).name != "$sum") {
    return nullptr;
  }
  const bson::Value& one = acc.as_document().at(0).value;
  const bool int_one = (one.type() == bson::Type::kInt32 || one.type() == bson::Type::kInt64) &&
                       one.ToInt64() == 1;
  return int_one ? &group : nullptr;
}

}  // namespace

std::shared_ptr<ServerCursor> MakeStreamCursor(std::unique_ptr<query::DocStream> stream) {
  return std::make_shared<StreamCursor>(std::move(stream));
}

Result<PipelineRun> OpenPipeline(CommandContext& ctx, std::string_view coll, const bson::Array& stages,
                                 query::AggOptions ao, const bson::Value* collation,
                                 std::string_view command, bool bypass_document_validation) {
  const bson::Array* run_stages = &stages;
  bson::Array combined;
  std::string source(coll);
  std::optional<bson::Value> view_collation;
  EDDY_ASSIGN_OR_RETURN(std::optional<query::ResolvedView> view,
                        query::ResolveView(*ctx.db->engine().catalog(), ctx.db_name, coll));
  if (view) {
    EDDY_RETURN_IF_ERROR(CheckViewCollation(view->collation, collation));
    if (collation == nullptr && view->collation) {
      view_collation = bson::Value(*view->collation);
      collation = &*view_collation;
    }
    combined = std::move(view->pipeline);
    combined.insert(combined.end(), stages.begin(), stages.end());
    run_stages = &combined;
    source = view->source;
  }
  EDDY_ASSIGN_OR_RETURN(ao.collator, query::ParseCollationField(collation, command));
  EDDY_ASSIGN_OR_RETURN(query::Pipeline p, query::Pipeline::Parse(*run_stages, ao));
  if (!view && p.pushdown().filter.empty() && p.pushdown().sort.empty()) {
    if (const bson::Document* group = CountOnlyGroup(*run_stages, p.pushdown().stages)) {
      // countDocuments over a whole collection: the count kept with the writes answers it
      // without reading a document (mongod scans; on 1M documents that took eddy 0.5-0.9 s).
      EDDY_ASSIGN_OR_RETURN(int64_t n, ctx.db->Count(ctx.db_name, source, bson::Document(),
                                                     p.pushdown().skip, p.pushdown().limit));
      std::vector<bson::Document> out;
      if (n > 0) {  // $group over no documents yields none (drivers then report 0)
        bson::Document d;
        d.Append("_id", group->at(0).value);
        if (n <= INT32_MAX) {
          d.Append(group->at(1).name, static_cast<int32_t>(n));
        } else {
          d.Append(group->at(1).name, n);
        }
        out.push_back(std::move(d));
      }
      PipelineRun run;
      run.stream = query::MakeVectorStream(std::move(out));
      return run;
    }
  }
  query::FindOptions fo;
  fo.filter = p.pushdown().filter;
  fo.sort = p.pushdown().sort;
  fo.skip = p.pushdown().skip;
  fo.limit = p.pushdown().limit;
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<query::FindCursor> fc,
                        ctx.db->OpenFind(ctx.db_name, source, fo));
  return RunParsed(ctx, p, std::make_unique<FindStream>(std::move(fc)), /*pushed=*/true,
                   bypass_document_validation);
}

namespace {

Result<bson::Document> Aggregate(CommandContext& ctx, const bson::Document& cmd) {
  EDDY_ASSIGN_OR_RETURN(const bson::Array* pipeline, GetArray(cmd, "pipeline"));
  if (!pipeline) return Status(static_cast<ErrorCode>(40414), "BSON field 'aggregate.pipeline' is missing but a required field");
  for (const bson::Value& s : *pipeline) {
    if (!s.is_document()) return Status(ErrorCode::kTypeMismatch, "Each element of the 'pipeline' array must be an object");
    if (s.as_document().size() != 1) {
      return Status(static_cast<ErrorCode>(40323), "A pipeline stage specification object must contain exactly one field.");
    }
  }
  EDDY_ASSIGN_OR_RETURN(const bson::Document* cursor_opts, GetDoc(cmd, "cursor"));
  if (!cursor_opts && !cmd.Has("explain")) {
    return Status(ErrorCode::kFailedToParse, "The 'cursor' option is required, except for aggregate with the explain argument");
  }
  if (cmd.Has("explain")) return Status(ErrorCode::kNotImplemented, "aggregate explain is not supported by eddy yet");
  int64_t batch = 101;
  if (cursor_opts) {
    EDDY_ASSIGN_OR_RETURN(std::optional<int64_t> b, GetInt(*cursor_opts, "batchSize"));
    if (b && *b < 0) return Status(ErrorCode::kBadValue, "cursor.batchSize must not be negative");
    if (b) batch = *b;
  }
  const bson::Value& target = cmd.at(0).value;
  if (!target.is_string() && !(target.is_number() && target.ToDouble() == 1)) {
    return Status(ErrorCode::kFailedToParse, "Invalid {aggregate: ...} value: must be a collection name string or 1");
  }
  if (!pipeline->empty() && pipeline->at(0).as_document().at(0).name == "$changeStream") {
    // mongod refuses to watch a view (its events are its source's, under another name).
    if (target.is_string()) {
      storage::CollectionPtr c = ctx.db->engine().catalog()->Find(ctx.db_name, target.as_string());
      if (c && query::IsView(*c)) return query::NotSupportedOnView(ctx.db_name, target.as_string());
    }
    if (ctx.options->set_name.empty()) {
      return Status(static_cast<ErrorCode>(40573), "The $changeStream stage is only supported on replica sets");
    }
    return OpenChangeStream(ctx, cmd, *pipeline, batch);
  }
  for (size_t i = 1; i < pipeline->size(); ++i) {
    const std::string& stage = (*pipeline)[i].as_document().at(0).name;
    if (stage == "$changeStream" || stage == "$listLocalSessions" || stage == "$collStats") {
      return Status(static_cast<ErrorCode>(40602), stage + " is only valid as the first stage in a pipeline");
    }
  }
  // $listLocalSessions: the server's logical session cache as the pipeline's input; a
  // collectionless stage ({aggregate: 1}) on any database, as in mongod. ($collStats below
  // also hands the pipeline its input this way.)
  std::optional<std::vector<bson::Document>> sessions;
  bson::Array rest_storage;
  if (!pipeline->empty() && pipeline->at(0).as_document().at(0).name == "$listLocalSessions") {
    if (target.is_string()) {
      return Status(ErrorCode::kInvalidNamespace,
                    "$listLocalSessions must be run against the database with {aggregate: 1}, not a collection");
    }
    EDDY_ASSIGN_OR_RETURN(std::vector<bson::Binary> uids,
                          ParseListSessionsSpec(pipeline->at(0).as_document().at(0).value));
    sessions = ctx.sessions->List(uids);
    rest_storage.assign(pipeline->begin() + 1, pipeline->end());
    pipeline = &rest_storage;
  }
  // $collStats: the collection's statistics as the pipeline's one input document.
  if (!pipeline->empty() && pipeline->at(0).as_document().at(0).name == "$collStats") {
    if (!target.is_string()) {
      return Status(ErrorCode::kInvalidNamespace,
                    "$collStats must be run against a collection, not with {aggregate: 1}");
    }
    EDDY_ASSIGN_OR_RETURN(bson::Document stats,
                          CollStatsStage(ctx, target.as_string(), pipeline->at(0).as_document().at(0).value));
    sessions = std::vector<bson::Document>{std::move(stats)};
    rest_storage.assign(pipeline->begin() + 1, pipeline->end());
    pipeline = &rest_storage;
  }
  // $out and $merge write: mongod refuses them under a linearizable read (InvalidOptions from
  // the stage's parser, document_source_out.cpp / document_source_merge.cpp).
  if (const bson::Value* rc = cmd.Get("readConcern"); rc && rc->is_document()) {
    const bson::Value* level = rc->as_document().Get("level");
    if (level && level->is_string() && level->as_string() == "linearizable") {
      for (const bson::Value& s : *pipeline) {
        const std::string& stage = s.as_document().at(0).name;
        if (stage == "$out" || stage == "$merge") {
          return Status(ErrorCode::kInvalidOptions,
                        stage + " cannot be used with a 'linearizable' read concern level");
        }
      }
    }
  }
  query::AggOptions ao;
  ao.db = ctx.db_name;
  EDDY_ASSIGN_OR_RETURN(std::optional<bool> disk, GetBool(cmd, "allowDiskUse"));
  ao.allow_disk_use = disk.value_or(false);
  EDDY_ASSIGN_OR_RETURN(const bson::Document* let, GetDoc(cmd, "let"));
  if (let) ao.let = *let;
  EDDY_ASSIGN_OR_RETURN(std::optional<bool> bypass, GetBool(cmd, "bypassDocumentValidation"));
  PipelineRun run;
  std::string ns;
  if (target.is_string() && !sessions) {
    ns = ctx.db_name + "." + target.as_string();
    EDDY_ASSIGN_OR_RETURN(run, OpenPipeline(ctx, target.as_string(), *pipeline, std::move(ao),
                                            cmd.Get("collation"), "aggregate", bypass.value_or(false)));
  } else {
    EDDY_ASSIGN_OR_RETURN(ao.collator, query::ParseCollationField(cmd.Get("collation"), "aggregate"));
    EDDY_ASSIGN_OR_RETURN(query::Pipeline p, query::Pipeline::Parse(*pipeline, ao));
    std::unique_ptr<query::DocStream> input;
    if (sessions) {
      input = query::MakeVectorStream(std::move(*sessions));
    } else {
      if (!p.starts_with_documents()) {
        return Status(ErrorCode::kInvalidNamespace, "{aggregate: 1} is not valid for '" + (pipeline->empty() ? std::string("[]") : pipeline->at(0).as_document().at(0).name) + "'; a collection name is required");
      }
      input = query::MakeVectorStream({});
    }
    ns = target.is_string() ? ctx.db_name + "." + target.as_string() : ctx.db_name + ".$cmd.aggregate";
    EDDY_ASSIGN_OR_RETURN(run, RunParsed(ctx, p, std::move(input), false, bypass.value_or(false)));
  }
  std::shared_ptr<ServerCursor> cursor = MakeStreamCursor(std::move(run.stream));
  if (run.writes_output) {
    bson::Array none;
    EDDY_RETURN_IF_ERROR(cursor->NextBatch(0, std::chrono::steady_clock::now(), &none).status());
    bson::Document c{{"firstBatch", bson::Array{}}, {"id", int64_t{0}}, {"ns", ns}};
    return bson::Document{{"cursor", std::move(c)}, {"ok", 1.0}};
  }
  return MakeCursorReply(ctx, ns, cursor, batch);
}

}  // namespace

void RegisterAggregateCommands(CommandTable& t) { t["aggregate"] = {Aggregate}; }

}  // namespace eddy::wire
