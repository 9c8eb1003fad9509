// MongoDB's aggregation pipeline: parse a pipeline (an array of stage documents) once, run it
// over a pull-based stream of input documents as many times as needed.
//
//   AggOptions opts;  opts.db = "shop";
//   EDDY_ASSIGN_OR_RETURN(Pipeline p, Pipeline::Parse(stages, opts));
//   // Optional: let the executor answer p.pushdown() with an index-assisted find and run the
//   // rest (Run(..., /*skip_pushdown=*/true)).
//   EDDY_ASSIGN_OR_RETURN(auto out, p.Run(std::move(input), &source));
//   bson::Document d;
//   while (true) { EDDY_ASSIGN_OR_RETURN(bool more, out->Next(&d)); if (!more) break; ... }
//
// Streaming: $match, $project, $addFields/$set, $unset, $replaceRoot/$replaceWith, $unwind,
// $limit, $skip, $redact, $lookup (per input document), $unionWith and $sample never hold more
// than a document (or the sample) at a time. $sort, $group, $bucket, $setWindowFields, $facet,
// $out and $merge must see their whole input; they count the approximate BSON size of what they
// hold and fail with 292 QueryExceededMemoryLimitNoDiskUseAllowed past
// AggOptions::max_memory_bytes (100 MB, as mongod's internalQueryMaxBlockingSortMemoryUsageBytes)
// unless allow_disk_use is set, in which case eddy simply keeps going in memory.
// $sort followed by $limit keeps only the top k documents (a bounded heap).
//
// Stages: $match $project $addFields $set $unset $replaceRoot $replaceWith $group $sort $limit
// $skip $unwind $lookup $count $facet $sortByCount $bucket $bucketAuto $sample $unionWith $out
// $merge $setWindowFields $redact $documents.
//
// Errors are mongod's: 40323 (a stage object without exactly one field), 40324 (unknown stage
// name), TypeMismatch 14 (a stage that is not an object), 40601 ($out/$merge not last), 40600
// ($out/$merge inside $facet or $lookup), 40602 ($documents not first), each stage's own parse
// codes, and expression codes from query/expr. Runtime errors (a $divide by zero in $project)
// end the stream: Next() returns the Status.
//
// Thread-safety: a parsed Pipeline is immutable and can be Run concurrently; each stream
// returned by Run is single-threaded.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "bson/value.h"
#include "query/collation/collator.h"
#include "query/expr/expression.h"

namespace eddy::query {

// A pull-based stream of documents.
class DocStream {
 public:
  virtual ~DocStream() = default;
  // Sets *out to the next document and returns true; false at the end. An error ends the stream.
  virtual Result<bool> Next(bson::Document* out) = 0;
};

// A stream over documents held in memory.
std::unique_ptr<DocStream> MakeVectorStream(std::vector<bson::Document> docs);
// Drains a stream into a vector.
Result<std::vector<bson::Document>> DrainStream(DocStream& stream);

// $merge's options, already validated.
struct MergeSpec {
  enum class WhenMatched { kReplace, kKeepExisting, kMerge, kFail, kPipeline };
  enum class WhenNotMatched { kInsert, kDiscard, kFail };
  std::string db;  // target database (defaults to AggOptions::db)
  std::string coll;
  std::vector<std::string> on = {"_id"};  // the fields identifying the target document
  WhenMatched when_matched = WhenMatched::kMerge;
  WhenNotMatched when_not_matched = WhenNotMatched::kInsert;
  // whenMatched: [pipeline]: run over the existing target document with $$new bound to the
  // incoming document (and the `let` variables, evaluated per incoming document).
  bson::Array when_matched_pipeline;
  bson::Document let;
};

// Applies $merge's whenMatched to one pair (target found for `incoming`): returns the document
// to store, or std::nullopt to leave `existing` unchanged (keepExisting). kFail returns
// DuplicateKey 11000 as mongod does; kPipeline runs spec.when_matched_pipeline. Helper for
// AggSource implementations.
Result<std::optional<bson::Document>> ApplyMergeWhenMatched(const MergeSpec& spec,
                                                            const bson::Document& existing,
                                                            const bson::Document& incoming);

// What stages need from the outside world: implemented by the caller (the wire commands over
// query::Database, or tests over an in-memory map).
class AggSource {
 public:
  virtual ~AggSource() = default;
  // Documents of another collection of the same database ($lookup, $unionWith), filtered by a
  // query filter (possibly {}). A missing collection is simply empty.
  virtual Result<std::vector<bson::Document>> ReadCollection(std::string_view coll,
                                                             const bson::Document& filter) = 0;
  // $out: replace the collection's contents (create it if needed).
  virtual Status ReplaceCollection(std::string_view db, std::string_view coll,
                                   std::vector<bson::Document> docs) = 0;
  // $merge: per document, find the target by spec.on; when found apply whenMatched (see
  // ApplyMergeWhenMatched), else whenNotMatched.
  virtual Status MergeInto(std::string_view db, std::string_view coll, const MergeSpec& spec,
                           std::vector<bson::Document> docs) = 0;
};

struct AggOptions {
  std::string db;                 // the database $out/$merge/$lookup default to
  bool allow_disk_use = false;    // lift the memory limit of blocking stages
  int64_t max_memory_bytes = 100 * 1024 * 1024;
  bson::Document let;             // the aggregate command's `let` (constant expressions)
  // The aggregate command's collation (ParseCollation; null: simple): $match and $sort compare
  // strings with it, and no stage is pushed down to a (binary) index scan.
  CollatorPtr collator;
  std::optional<bson::DateTime> now;  // $$NOW; default: the wall clock when Run starts
};

// The leading $match/$sort/$skip/$limit of a pipeline, expressed as a find so an executor can
// use indexes. `stages` is how many pipeline stages it covers (0: nothing to push down).
struct Pushdown {
  bson::Document filter;  // {} when none
  bson::Document sort;    // {} when none
  int64_t skip = 0;
  int64_t limit = 0;      // 0: none
  size_t stages = 0;
};

namespace agg_internal {
class Stage;
struct RunState;
}  // namespace agg_internal

class Pipeline {
 public:
  Pipeline();
  ~Pipeline();
  Pipeline(const Pipeline&);
  Pipeline(Pipeline&&) noexcept;
  Pipeline& operator=(const Pipeline&);
  Pipeline& operator=(Pipeline&&) noexcept;

  // Full validation up front.
  static Result<Pipeline> Parse(const bson::Array& stages, const AggOptions& options);
  // Sub-pipelines ($lookup, $facet, $unionWith, $merge's whenMatched): `vars` are the user
  // variables in scope (from `let`), `where` names the enclosing stage for 40600-style checks
  // ("" at top level).
  static Result<Pipeline> ParseNested(const bson::Array& stages, const AggOptions& options,
                                      const ParseContext& vars, std::string_view where);

  // The leading $match (all leading $match stages combined with $and), or {}.
  const bson::Document& leading_match() const { return pushdown_.filter; }
  const Pushdown& pushdown() const { return pushdown_; }
  size_t size() const { return stages_.size(); }
  // True when the pipeline ends in $out or $merge (the caller returns an empty cursor).
  bool writes_output() const { return writes_output_; }
  // True when the first stage is $documents (the input stream is ignored).
  bool starts_with_documents() const { return starts_with_documents_; }

  // Runs over `input`. With skip_pushdown the first pushdown().stages stages are assumed to
  // have been applied by whoever produced `input`. `source` may be null when no stage needs it
  // (then $lookup/$unionWith/$out/$merge fail with InternalError).
  Result<std::unique_ptr<DocStream>> Run(std::unique_ptr<DocStream> input, AggSource* source,
                                         bool skip_pushdown = false) const;
  // Runs with user variables bound (names must match the ParseContext given to ParseNested).
  Result<std::unique_ptr<DocStream>> RunWithVariables(
      std::unique_ptr<DocStream> input, AggSource* source,
      std::shared_ptr<const std::vector<std::pair<std::string, MaybeValue>>> vars,
      std::optional<bson::DateTime> now) const;

 private:
  Result<std::unique_ptr<DocStream>> RunFrom(
      std::unique_ptr<DocStream> input, AggSource* source,
      std::shared_ptr<const std::vector<std::pair<std::string, MaybeValue>>> vars,
      bson::DateTime now, size_t first_spec) const;

  std::vector<std::shared_ptr<agg_internal::Stage>> stages_;  // immutable after Parse
  std::vector<size_t> spec_index_;  // for each stage, the index of the spec it came from
  AggOptions options_;
  Pushdown pushdown_;
  bool writes_output_ = false;
  bool starts_with_documents_ = false;
};

}  // namespace eddy::query
