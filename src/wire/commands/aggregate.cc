// aggregate: pipelines over a collection (leading $match/$sort/$skip/$limit pushed into an
// index-assisted find) and $documents pipelines (aggregate: 1). A pipeline starting with
// $changeStream is handed to OpenChangeStream (change_stream_command.cc).
#include "bson/codec.h"
#include "bson/compare.h"
#include "bson/json.h"
#include "query/agg/pipeline.h"
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
    if (ctx.options->set_name.empty()) {
      return Status(static_cast<ErrorCode>(40573), "The $changeStream stage is only supported on replica sets");
    }
    return OpenChangeStream(ctx, cmd, *pipeline, batch);
  }
  for (size_t i = 1; i < pipeline->size(); ++i) {
    if ((*pipeline)[i].as_document().at(0).name == "$changeStream") {
      return Status(static_cast<ErrorCode>(40602), "$changeStream is only valid as the first stage in a pipeline");
    }
  }
  query::AggOptions ao;
  ao.db = ctx.db_name;
  EDDY_ASSIGN_OR_RETURN(std::optional<bool> disk, GetBool(cmd, "allowDiskUse"));
  ao.allow_disk_use = disk.value_or(false);
  EDDY_ASSIGN_OR_RETURN(const bson::Document* let, GetDoc(cmd, "let"));
  if (let) ao.let = *let;
  EDDY_ASSIGN_OR_RETURN(ao.collator, query::ParseCollationField(cmd.Get("collation"), "aggregate"));
  EDDY_ASSIGN_OR_RETURN(query::Pipeline p, query::Pipeline::Parse(*pipeline, ao));
  std::unique_ptr<query::DocStream> input;
  std::string ns;
  bool pushed = false;
  if (target.is_string()) {
    ns = ctx.db_name + "." + target.as_string();
    query::FindOptions fo;
    fo.filter = p.pushdown().filter;
    fo.sort = p.pushdown().sort;
    fo.skip = p.pushdown().skip;
    fo.limit = p.pushdown().limit;
    EDDY_ASSIGN_OR_RETURN(std::unique_ptr<query::FindCursor> fc,
                          ctx.db->OpenFind(ctx.db_name, target.as_string(), fo));
    input = std::make_unique<FindStream>(std::move(fc));
    pushed = true;
  } else {
    if (!p.starts_with_documents()) {
      return Status(ErrorCode::kInvalidNamespace, "{aggregate: 1} is not valid for '" + (pipeline->empty() ? std::string("[]") : pipeline->at(0).as_document().at(0).name) + "'; a collection name is required");
    }
    ns = ctx.db_name + ".$cmd.aggregate";
    input = query::MakeVectorStream({});
  }
  std::shared_ptr<query::AggSource> source = MakeDatabaseSource(ctx.db, ctx.db_name);
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
  auto cursor = std::make_shared<StreamCursor>(std::move(holder));
  if (p.writes_output()) {
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
