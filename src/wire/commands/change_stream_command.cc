// aggregate with a leading $changeStream: parses the stage's options, pushes leading $match
// stages into the stream's filter, runs the remaining stages per event and splits events over
// 16 MiB ($changeStreamSplitLargeEvent). getMore on the cursor is in cursors.cc.
#include <deque>

#include "bson/codec.h"
#include "bson/compare.h"
#include "bson/json.h"
#include "bson/raw.h"
#include "changestream/change_stream.h"
#include "changestream/resume_token.h"
#include "query/agg/pipeline.h"
#include "wire/commands/agg_source.h"
#include "wire/commands/command.h"

namespace eddy::wire {
namespace {

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
                             std::shared_ptr<query::AggSource> source, Split split,
                             size_t reply_bytes)
      : inner_(std::move(cs), reply_bytes),
        post_(std::move(post)),
        source_(std::move(source)),
        split_(split),
        reply_bytes_(reply_bytes == 0 ? kMaxEventBytes : std::min(reply_bytes, kMaxEventBytes)) {}
  Result<bool> NextBatch(int64_t batch_size, std::chrono::steady_clock::time_point deadline,
                         bson::Array* out) override {
    if (pending_.empty() && !post_ && out->empty()) {
      // Nothing to transform: the stream's batch (encoded events) is the reply's, unless an
      // event is over 16 MiB (split, or Emit's error) or the batch would be.
      std::vector<size_t> sizes;
      EDDY_ASSIGN_OR_RETURN(inner_more_, inner_.NextBatch(batch_size, deadline, out, &sizes));
      size_t bytes = 0;
      for (size_t k = 0; k < out->size(); ++k) {
        if (sizes[k] > kMaxEventBytes || (k > 0 && bytes + sizes[k] > kMaxEventBytes)) {
          // This event and the rest wait in pending_ (the reply stays within 16 MiB); a big
          // one is split there or reported.
          for (size_t r = k; r < out->size(); ++r) {
            EDDY_RETURN_IF_ERROR(Emit(std::move((*out)[r]), sizes[r]));
          }
          out->resize(k);
          break;
        }
        bytes += sizes[k];
      }
      if (!out->empty()) {
        EDDY_ASSIGN_OR_RETURN(last_token_, EventId(out->back()));
        return !pending_.empty() || inner_more_;
      }
      if (pending_.empty()) return inner_more_;
    }
    if (pending_.empty()) {
      bson::Array raw;
      std::vector<size_t> sizes;
      EDDY_ASSIGN_OR_RETURN(inner_more_, inner_.NextBatch(batch_size, deadline, &raw, &sizes));
      for (size_t k = 0; k < raw.size(); ++k) {
        EDDY_RETURN_IF_ERROR(Transform(std::move(raw[k]), sizes[k]));
      }
    }
    // Batches stay within reply_bytes_ (at most 16 MiB; fragments of one split event may span
    // several).
    size_t bytes = 0;
    size_t moved = 0;
    while (!pending_.empty() && (batch_size <= 0 || static_cast<int64_t>(out->size()) < batch_size)) {
      size_t size = pending_.front().size;
      if (!out->empty() && bytes + size > reply_bytes_) break;
      bytes += size;
      out->push_back(std::move(pending_.front().event));
      pending_.pop_front();
      ++moved;
    }
    if (moved > 0) {
      EDDY_ASSIGN_OR_RETURN(last_token_, EventId(out->back()));
    }
    return !pending_.empty() || inner_more_;
  }
  std::optional<bson::Document> post_batch_resume_token() const override {
    // With events still queued here, the stream has moved past what the client has seen.
    if (!pending_.empty()) return last_token_;
    return inner_.post_batch_resume_token();
  }
  bool is_change_stream() const override { return true; }
  // Without stages after $changeStream (they may read storage: $lookup), a batch of events
  // in memory, or new entries in the hub's ring (without updateLookup), are copied out
  // without waiting; a stream caught up with the ring only parks on the hub.
  bool ReadyInMemory() const override {
    if (post_) return false;
    return inner_.ReadyInMemory() || (ResumesInMemory() && inner_.ReadsOnlyMemory());
  }
  bool ResumesInMemory() const override {
    return !post_ && !split_.enabled &&
           inner_.options().full_document != changestream::FullDocument::kUpdateLookup;
  }
  void ReleaseIdleResources() override { inner_.ReleaseIdleResources(); }
  bool ArmWake(std::chrono::steady_clock::time_point deadline, std::function<void()> wake) override {
    if (!pending_.empty()) return false;
    return inner_.ArmWake(deadline, std::move(wake));
  }

 private:
  // An event as a Document: the stream's events come encoded (bson::RawDocument).
  static Result<bson::Document> AsDocument(bson::Value event) {
    if (event.is_raw_document()) return bson::DecodeRaw(event.as_raw_document());
    return std::move(event.as_document());
  }
  // An event's _id (its resume token).
  static Result<bson::Document> EventId(const bson::Value& event) {
    if (!event.is_raw_document()) return event.as_document().Get("_id")->as_document();
    bson::RawElement id;
    Status status;
    if (!bson::FindRawElement(event.as_raw_document().bytes(), "_id", &id, &status)) {
      if (status.ok()) status = Status(ErrorCode::kInternalError, "change event without _id");
      return status;
    }
    return bson::Decode(id.value);
  }

  // Runs the stages after $changeStream on one event and queues what they return.
  // `size`: the event's encoded size.
  Status Transform(bson::Value event, size_t size) {
    if (!post_) return Emit(std::move(event), size);
    EDDY_ASSIGN_OR_RETURN(bson::Document doc, AsDocument(std::move(event)));
    bson::Value id = *doc.Get("_id");
    std::vector<bson::Document> one;
    one.push_back(std::move(doc));
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

  // Queues one event (a Document or encoded), or its fragments.
  Status Emit(bson::Value event, size_t size) {
    if (size <= kMaxEventBytes) {
      pending_.push_back(Pending{std::move(event), size});
      return Status::OK();
    }
    EDDY_ASSIGN_OR_RETURN(bson::Document doc, AsDocument(std::move(event)));
    if (!split_.enabled) {
      return Status(ErrorCode::kBSONObjectTooLarge,
                    "BSONObj size: " + std::to_string(size) + " (0x" + Hex(size) +
                        ") is invalid. Size must be between 0 and 16793600(16MB). To split large "
                        "change events, add $changeStreamSplitLargeEvent as the last stage of the "
                        "change stream pipeline. First element: _id: " +
                        bson::ToJson(*doc.Get("_id")));
    }
    // Fragments: the top-level fields in order, as many per fragment as fit next to the
    // fragment's own _id and splitEvent (mongod's $changeStreamSplitLargeEvent).
    EDDY_ASSIGN_OR_RETURN(changestream::ResumeToken token,
                          changestream::ResumeToken::Parse(*doc.Get("_id")));
    constexpr size_t kOverhead = 1024;  // _id token, splitEvent, document framing
    std::vector<bson::Document> parts(1);
    size_t used = 0;
    for (bson::Field& f : doc) {
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
  const size_t reply_bytes_;  // events per reply stop after this many bytes
  struct Pending {
    bson::Value event;  // a Document, or encoded (bson::RawDocument)
    size_t size;        // its encoded size
  };
  std::deque<Pending> pending_;  // transformed, not yet returned
  bool inner_more_ = true;
  bson::Document last_token_;  // _id of the last document returned
};

}  // namespace

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
  std::shared_ptr<query::AggSource> source = MakeDatabaseSource(ctx.db, ctx.db_name);
  auto cursor = std::make_shared<FilteredChangeStreamCursor>(
      std::move(cs), std::move(post), std::move(source), split,
      ctx.options ? ctx.options->change_stream_reply_bytes : 0);
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

}  // namespace eddy::wire
