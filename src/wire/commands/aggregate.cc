// aggregate: pipelines over a collection (leading $match/$sort/$skip/$limit pushed into an
// index-assisted find), $documents pipelines (aggregate: 1), and $changeStream.
#include <unistd.h>

#include <atomic>
#include <deque>
#include <random>

#include "bson/codec.h"
#include "bson/compare.h"
#include "bson/json.h"
#include "changestream/change_stream.h"
#include "changestream/resume_token.h"
#include "query/agg/pipeline.h"
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

class DatabaseSource : public query::AggSource {
 public:
  DatabaseSource(query::Database* db, std::string db_name) : db_(db), db_name_(std::move(db_name)) {}

  Result<std::vector<bson::Document>> ReadCollection(std::string_view coll,
                                                     const bson::Document& filter) override {
    query::FindOptions o;
    o.filter = filter;
    return db_->Find(db_name_, coll, o);
  }

  Status ReplaceCollection(std::string_view db, std::string_view coll,
                           std::vector<bson::Document> docs) override {
    // Write a temporary collection, then rename it over the target: readers see the old or
    // the new contents, never a mix (as $out does).
    static std::atomic<uint64_t> counter{0};
    std::string tmp = "tmp.agg_out." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    EDDY_RETURN_IF_ERROR(db_->CreateCollection(db, tmp));
    query::InsertResult r = db_->Insert(db, tmp, std::move(docs), true);
    if (!r.errors.empty()) {
      (void)db_->DropCollection(db, tmp);
      return r.errors[0].status;
    }
    // Keep the target's indexes.
    if (storage::CollectionPtr target = db_->engine().catalog()->Find(db, coll)) {
      for (const storage::IndexInfo& i : target->indexes) {
        if (i.is_id()) continue;
        query::IndexOptions io{i.name, i.unique, i.sparse};
        Status s = db_->CreateIndex(db, tmp, i.key, io).status();
        if (!s.ok()) {
          (void)db_->DropCollection(db, tmp);
          return s;
        }
      }
    }
    return db_->RenameCollection(db, tmp, db, coll, /*drop_target=*/true);
  }

  Status MergeInto(std::string_view db, std::string_view coll, const query::MergeSpec& spec,
                   std::vector<bson::Document> docs) override {
    for (bson::Document& doc : docs) {
      bson::Document filter;
      for (const std::string& f : spec.on) {
        const bson::Value* v = doc.Get(f);
        if (!v && f != "_id") {
          return Status(static_cast<ErrorCode>(51132),
                        "$merge write error: 'on' field '" + f + "' cannot be missing, null, undefined or an array");
        }
        if (v) filter.Append(f, *v);
      }
      std::vector<bson::Document> existing;
      if (!filter.empty()) {
        query::FindOptions o;
        o.filter = filter;
        o.limit = 2;
        EDDY_ASSIGN_OR_RETURN(existing, db_->Find(db, coll, o));
      }
      if (existing.empty()) {
        if (spec.when_not_matched == query::MergeSpec::WhenNotMatched::kDiscard) continue;
        if (spec.when_not_matched == query::MergeSpec::WhenNotMatched::kFail) {
          return Status(static_cast<ErrorCode>(13113), "$merge could not find a matching document in the target collection for at least one document in the source collection");
        }
        query::InsertResult r = db_->Insert(db, coll, {doc});
        if (!r.errors.empty()) return r.errors[0].status;
        continue;
      }
      EDDY_ASSIGN_OR_RETURN(std::optional<bson::Document> merged,
                            query::ApplyMergeWhenMatched(spec, existing[0], doc));
      if (!merged) continue;
      bson::Document by_id{{"_id", *existing[0].Get("_id")}};
      bson::Document replacement;
      for (const bson::Field& f : *merged) {
        if (f.name != "_id") replacement.Append(f.name, f.value);
      }
      EDDY_RETURN_IF_ERROR(db_->Update(db, coll, query::UpdateStatement{by_id, replacement}).status());
    }
    return Status::OK();
  }

 private:
  query::Database* db_;
  std::string db_name_;
};

// BSONObjMaxUserSize: no event bigger than this leaves the server in one piece.
constexpr size_t kMaxEventBytes = 16 * 1024 * 1024;

// Runs the stages after $changeStream on each event (they may drop it, never change _id),
// then splits events over 16 MiB when the pipeline ends with $changeStreamSplitLargeEvent.
class FilteredChangeStreamCursor : public ServerCursor {
 public:
  struct Split {
    bool enabled = false;
    // Resuming from fragment `skip` of the event at `at`: fragments 1..skip were delivered.
    bson::Timestamp at;
    uint16_t skip = 0;
  };
  FilteredChangeStreamCursor(std::unique_ptr<changestream::ChangeStream> cs,
                             std::optional<query::Pipeline> post,
                             std::shared_ptr<query::AggSource> source, Split split)
      : inner_(std::move(cs)), post_(std::move(post)), source_(std::move(source)), split_(split) {}
  Result<bool> NextBatch(int64_t batch_size, std::chrono::steady_clock::time_point deadline,
                         bson::Array* out) override {
    if (pending_.empty() && !post_ && !split_.enabled && out->empty()) {
      // Nothing to transform or split: the stream's batch is the reply's (every event is
      // within 16 MiB, or Emit's error).
      std::vector<size_t> sizes;
      EDDY_ASSIGN_OR_RETURN(inner_more_, inner_.NextBatch(batch_size, deadline, out, &sizes));
      size_t bytes = 0;
      for (size_t k = 0; k < out->size(); ++k) {
        if (sizes[k] > kMaxEventBytes) {
          bson::Document too_big = std::move((*out)[k].as_document());
          out->clear();
          // Emit reports it (BSONObjectTooLarge, naming $changeStreamSplitLargeEvent).
          EDDY_RETURN_IF_ERROR(Emit(std::move(too_big), sizes[k]));
          break;
        }
        if (k > 0 && bytes + sizes[k] > kMaxEventBytes) {
          // The rest waits for the next getMore (the reply stays within 16 MiB).
          for (size_t r = k; r < out->size(); ++r) {
            pending_.push_back(Pending{std::move((*out)[r].as_document()), sizes[r]});
          }
          out->resize(k);
          break;
        }
        bytes += sizes[k];
      }
      if (!out->empty()) last_token_ = out->back().as_document().Get("_id")->as_document();
      return !pending_.empty() || inner_more_;
    }
    if (pending_.empty()) {
      bson::Array raw;
      std::vector<size_t> sizes;
      EDDY_ASSIGN_OR_RETURN(inner_more_, inner_.NextBatch(batch_size, deadline, &raw, &sizes));
      for (size_t k = 0; k < raw.size(); ++k) {
        EDDY_RETURN_IF_ERROR(Transform(std::move(raw[k].as_document()), sizes[k]));
      }
    }
    // Batches stay within 16 MiB (fragments of one split event may span several).
    size_t bytes = 0;
    size_t moved = 0;
    while (!pending_.empty() && (batch_size <= 0 || static_cast<int64_t>(out->size()) < batch_size)) {
      size_t size = pending_.front().size;
      if (!out->empty() && bytes + size > kMaxEventBytes) break;
      bytes += size;
      out->push_back(std::move(pending_.front().event));
      pending_.pop_front();
      ++moved;
    }
    if (moved > 0) last_token_ = out->back().as_document().Get("_id")->as_document();
    return !pending_.empty() || inner_more_;
  }
  std::optional<bson::Document> post_batch_resume_token() const override {
    // With events still queued here, the stream has moved past what the client has seen.
    if (!pending_.empty()) return last_token_;
    return inner_.post_batch_resume_token();
  }
  bool is_change_stream() const override { return true; }
  bool ArmWake(std::chrono::steady_clock::time_point deadline, std::function<void()> wake) override {
    if (!pending_.empty()) return false;
    return inner_.ArmWake(deadline, std::move(wake));
  }

 private:
  // Runs the stages after $changeStream on one event and queues what they return.
  // `size`: the event's encoded size.
  Status Transform(bson::Document event, size_t size) {
    if (!post_) return Emit(std::move(event), size);
    bson::Value id = *event.Get("_id");
    std::vector<bson::Document> one;
    one.push_back(std::move(event));
    EDDY_ASSIGN_OR_RETURN(auto stream, post_->Run(query::MakeVectorStream(std::move(one)), source_.get()));
    EDDY_ASSIGN_OR_RETURN(std::vector<bson::Document> results, query::DrainStream(*stream));
    for (bson::Document& r : results) {
      const bson::Value* rid = r.Get("_id");
      if (!rid || !(bson::Compare(*rid, id) == 0 && rid->type() == id.type())) {
        return Status(ErrorCode::kChangeStreamFatalError,
                      "Encountered an event whose _id field, which contains the resume token, "
                      "was modified by the pipeline. Modifying the _id field of an event makes "
                      "it impossible to resume the stream from that point. Only transformations "
                      "that retain the unmodified _id field are allowed. Expected: " +
                          bson::ToJson(id) + " but found: " + (rid ? bson::ToJson(*rid) : std::string("missing")));
      }
      size_t rsize = bson::EncodedSize(r);
      EDDY_RETURN_IF_ERROR(Emit(std::move(r), rsize));
    }
    return Status::OK();
  }

  // Queues one event, or its fragments.
  Status Emit(bson::Document event, size_t size) {
    if (size <= kMaxEventBytes) {
      pending_.push_back(Pending{std::move(event), size});
      return Status::OK();
    }
    if (!split_.enabled) {
      return Status(ErrorCode::kBSONObjectTooLarge,
                    "BSONObj size: " + std::to_string(size) + " (0x" + Hex(size) +
                        ") is invalid. Size must be between 0 and 16793600(16MB). To split large "
                        "change events, add $changeStreamSplitLargeEvent as the last stage of the "
                        "change stream pipeline. First element: _id: " +
                        bson::ToJson(*event.Get("_id")));
    }
    // Fragments: the top-level fields in order, as many per fragment as fit next to the
    // fragment's own _id and splitEvent (mongod's $changeStreamSplitLargeEvent).
    EDDY_ASSIGN_OR_RETURN(changestream::ResumeToken token,
                          changestream::ResumeToken::Parse(*event.Get("_id")));
    constexpr size_t kOverhead = 1024;  // _id token, splitEvent, document framing
    std::vector<bson::Document> parts(1);
    size_t used = 0;
    for (bson::Field& f : event) {
      if (f.name == "_id") continue;
      size_t fsize = bson::EncodedSize(bson::Document{{f.name, f.value}});
      if (fsize + kOverhead > kMaxEventBytes) {
        return Status(ErrorCode::kBSONObjectTooLarge,
                      "$changeStreamSplitLargeEvent cannot split the event: its field '" + f.name +
                          "' alone is " + std::to_string(fsize) + " bytes, over 16MB");
      }
      if (used + fsize + kOverhead > kMaxEventBytes && !parts.back().empty()) {
        parts.emplace_back();
        used = 0;
      }
      used += fsize;
      parts.back().Append(f.name, std::move(f.value));
    }
    const auto of = static_cast<int32_t>(parts.size());
    for (int32_t i = 0; i < of; ++i) {
      token.fragment = static_cast<uint16_t>(i + 1);
      if (token.cluster_time == split_.at && token.fragment <= split_.skip) continue;
      bson::Document frag;
      frag.Append("_id", token.ToDocument());
      frag.Append("splitEvent", bson::Document{{"fragment", i + 1}, {"of", of}});
      for (bson::Field& f : parts[i]) frag.Append(f.name, std::move(f.value));
      size_t frag_size = bson::EncodedSize(frag);
      pending_.push_back(Pending{std::move(frag), frag_size});
    }
    return Status::OK();
  }
  static std::string Hex(size_t n) {
    static const char* d = "0123456789abcdef";
    std::string s;
    do {
      s.insert(s.begin(), d[n % 16]);
      n /= 16;
    } while (n);
    return s;
  }

  ChangeStreamCursor inner_;
  std::optional<query::Pipeline> post_;
  std::shared_ptr<query::AggSource> source_;
  Split split_;
  struct Pending {
    bson::Document event;
    size_t size;  // its encoded size
  };
  std::deque<Pending> pending_;  // transformed, not yet returned
  bool inner_more_ = true;
  bson::Document last_token_;  // _id of the last document returned
};

Result<bson::Document> OpenChangeStream(CommandContext& ctx, const bson::Document& cmd,
                                        const bson::Array& pipeline, int64_t batch) {
  ctx.change_stream = true;
  const bson::Value& stage = pipeline[0].as_document().at(0).value;
  if (!stage.is_document()) {
    return Status(ErrorCode::kTypeMismatch, "$changeStream stage expects a document as argument");
  }
  const bson::Document& spec = stage.as_document();
  changestream::WatchOptions o;
  bool cluster = false;
  for (const bson::Field& f : spec) {
    if (f.name == "fullDocument") {
      if (!f.value.is_string()) return Status(ErrorCode::kTypeMismatch, "$changeStream.fullDocument must be a string");
      const std::string& v = f.value.as_string();
      if (v == "default") o.full_document = changestream::FullDocument::kDefault;
      else if (v == "updateLookup") o.full_document = changestream::FullDocument::kUpdateLookup;
      else if (v == "whenAvailable") o.full_document = changestream::FullDocument::kWhenAvailable;
      else if (v == "required") o.full_document = changestream::FullDocument::kRequired;
      else return Status(ErrorCode::kBadValue, "unknown fullDocument mode: '" + v + "'");
    } else if (f.name == "fullDocumentBeforeChange") {
      if (!f.value.is_string()) return Status(ErrorCode::kTypeMismatch, "$changeStream.fullDocumentBeforeChange must be a string");
      const std::string& v = f.value.as_string();
      if (v == "off") o.full_document_before_change = changestream::FullDocumentBeforeChange::kOff;
      else if (v == "whenAvailable") o.full_document_before_change = changestream::FullDocumentBeforeChange::kWhenAvailable;
      else if (v == "required") o.full_document_before_change = changestream::FullDocumentBeforeChange::kRequired;
      else return Status(ErrorCode::kBadValue, "unknown fullDocumentBeforeChange mode: '" + v + "'");
    } else if (f.name == "resumeAfter" || f.name == "startAfter") {
      if (!f.value.is_document()) return Status(ErrorCode::kTypeMismatch, "$changeStream." + f.name + " must be a resume token document");
      if (o.resume_after) return Status(static_cast<ErrorCode>(50865), "Do not specify both 'resumeAfter' and 'startAfter' in a $changeStream stage");
      o.resume_after = f.value.as_document();
      o.start_after = f.name == "startAfter";
    } else if (f.name == "startAtOperationTime") {
      if (f.value.type() != bson::Type::kTimestamp) return Status(ErrorCode::kTypeMismatch, "$changeStream.startAtOperationTime must be a timestamp");
      o.start_at_operation_time = f.value.as_timestamp();
    } else if (f.name == "allChangesForCluster") {
      cluster = f.value.Truthy();
    } else if (f.name == "showExpandedEvents") {
      o.show_expanded_events = f.value.Truthy();
    } else if (f.name == "allowToRunOnConfigDB" || f.name == "showSystemEvents" || f.name == "showRawUpdateDescription") {
      continue;
    } else {
      return Status(static_cast<ErrorCode>(40415), "BSON field '$changeStream." + f.name + "' is an unknown field.");
    }
  }
  if (o.resume_after && o.start_at_operation_time) {
    return Status(static_cast<ErrorCode>(40674), "Only one type of resume option is allowed, but multiple were found.");
  }
  std::string ns;
  const bson::Value& target = cmd.at(0).value;
  if (target.is_string()) {
    o.db = ctx.db_name;
    o.collection = target.as_string();
    ns = ctx.db_name + "." + o.collection;
  } else if (cluster) {
    if (ctx.db_name != "admin") {
      return Status(ErrorCode::kInvalidOptions, "$changeStream may only be run with allChangesForCluster on the admin database");
    }
    ns = "admin.$cmd.aggregate";
  } else {
    if (ctx.db_name == "admin" || ctx.db_name == "config" || ctx.db_name == "local") {
      return Status(ErrorCode::kInvalidNamespace, "$changeStream may not be opened on the internal " + ctx.db_name + " database");
    }
    o.db = ctx.db_name;
    ns = ctx.db_name + ".$cmd.aggregate";
  }
  // $changeStreamSplitLargeEvent: last, at most once, splits events over 16 MiB.
  FilteredChangeStreamCursor::Split split;
  bson::Array stages = pipeline;
  for (size_t k = 1; k < stages.size(); ++k) {
    if (stages[k].as_document().at(0).name != "$changeStreamSplitLargeEvent") continue;
    const bson::Value& arg = stages[k].as_document().at(0).value;
    if (!arg.is_document() || !arg.as_document().empty()) {
      return Status(ErrorCode::kFailedToParse, "$changeStreamSplitLargeEvent takes an empty document, e.g. {$changeStreamSplitLargeEvent: {}}");
    }
    if (k + 1 != stages.size()) {
      return Status(static_cast<ErrorCode>(7182802), "$changeStreamSplitLargeEvent must be the last stage of the pipeline");
    }
    split.enabled = true;
    stages.pop_back();
  }
  if (o.resume_after) {
    EDDY_ASSIGN_OR_RETURN(changestream::ResumeToken t,
                          changestream::ResumeToken::Parse(bson::Value(*o.resume_after)));
    if (t.fragment > 0) {
      if (!split.enabled) {
        return Status(ErrorCode::kInvalidOptions,
                      "To resume from a split event, the $changeStream pipeline must end with "
                      "$changeStreamSplitLargeEvent");
      }
      split.at = t.cluster_time;
      split.skip = t.fragment;
    }
  }
  const bson::Array& pipeline_stages = stages;
  // Leading $match stages filter inside the stream; anything else runs per event.
  size_t i = 1;
  bson::Array and_filters;
  for (; i < pipeline_stages.size(); ++i) {
    const bson::Document& s = pipeline_stages[i].as_document();
    if (s.size() != 1 || s.at(0).name != "$match" || !s.at(0).value.is_document()) break;
    and_filters.push_back(s.at(0).value);
  }
  if (and_filters.size() == 1) o.filter = and_filters[0].as_document();
  if (and_filters.size() > 1) o.filter = bson::Document{{"$and", std::move(and_filters)}};
  std::optional<query::Pipeline> post;
  if (i < pipeline_stages.size()) {
    bson::Array rest(pipeline_stages.begin() + static_cast<long>(i), pipeline_stages.end());
    for (const bson::Value& s : rest) {
      const std::string& name = s.as_document().at(0).name;
      // mongod's allow-list, plus $lookup: enriching events from other collections (e.g.
      // an order event with its customer) is what eddy's users ask for.
      static const char* kAllowed[] = {"$match", "$project", "$addFields", "$set", "$unset",
                                       "$replaceRoot", "$replaceWith", "$redact", "$lookup"};
      bool ok = false;
      for (const char* a : kAllowed) ok = ok || name == a;
      if (!ok) {
        // An unknown stage is reported as such (40324), a known one as not allowed here.
        query::AggOptions probe;
        probe.db = ctx.db_name;
        Status parsed = query::Pipeline::Parse(bson::Array{s}, probe).status();
        if (parsed.code_number() == 40324) return parsed;
        return Status(ErrorCode::kIllegalOperation, name + " is not permitted in a $changeStream pipeline");
      }
    }
    query::AggOptions ao;
    ao.db = ctx.db_name;
    EDDY_ASSIGN_OR_RETURN(ao.collator, query::ParseCollationField(cmd.Get("collation"), "aggregate"));
    EDDY_ASSIGN_OR_RETURN(query::Pipeline p, query::Pipeline::Parse(rest, ao));
    post = std::move(p);
  }
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<changestream::ChangeStream> cs,
                        changestream::ChangeStream::Open(&ctx.db->engine(), std::move(o), ctx.hub));
  auto source = std::make_shared<DatabaseSource>(ctx.db, ctx.db_name);
  auto cursor = std::make_shared<FilteredChangeStreamCursor>(std::move(cs), std::move(post),
                                                             std::move(source), split);
  // The first batch returns what is already there without waiting; the cursor always stays
  // open (id != 0) so getMore can await new events.
  bson::Array first;
  bool more = true;
  if (batch > 0) {  // batchSize 0: an empty first batch, the cursor and its resume token only
    EDDY_ASSIGN_OR_RETURN(more, cursor->NextBatch(batch, std::chrono::steady_clock::now(), &first));
  }
  int64_t id = more ? ctx.cursors->Add(ns, cursor) : 0;
  bson::Document c;
  c.Append("firstBatch", std::move(first));
  c.Append("postBatchResumeToken", *cursor->post_batch_resume_token());
  c.Append("id", id);
  c.Append("ns", ns);
  return bson::Document{{"cursor", std::move(c)}, {"ok", 1.0}};
}

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
  auto source = std::make_shared<DatabaseSource>(ctx.db, ctx.db_name);
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<query::DocStream> out, p.Run(std::move(input), source.get(), pushed));
  // The stream may call back into the source later (getMore): keep the source alive with it.
  struct Holder : query::DocStream {
    std::shared_ptr<DatabaseSource> source;
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
