// Internal: the stage interface shared by the files of query/agg. Not a front door.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "bson/value.h"
#include "query/agg/pipeline.h"
#include "query/expr/expression.h"

namespace eddy::query::agg_internal {

using VarList = std::vector<std::pair<std::string, MaybeValue>>;

// What a running pipeline shares with its stages.
struct RunState {
  AggSource* source = nullptr;
  std::shared_ptr<const VarList> vars;  // user variables ($lookup let, aggregate let)
  bson::DateTime now;
  int64_t max_memory_bytes = 0;
  bool allow_disk_use = false;
  AggOptions options;  // the options the pipeline was parsed with

  // An evaluation context over `doc` with the user variables bound.
  EvalContext Context(const bson::Document& doc) const;
  // Fails (InternalError) when there is no source.
  Result<AggSource*> RequireSource(std::string_view stage) const;
};

// Counts the bytes a blocking stage holds; fails with 292 past the limit unless disk use is
// allowed.
class MemoryTracker {
 public:
  MemoryTracker(const RunState& rs, std::string stage)
      : limit_(rs.max_memory_bytes), allow_(rs.allow_disk_use), stage_(std::move(stage)) {}
  MemoryTracker(int64_t limit, bool allow, std::string stage)
      : limit_(limit), allow_(allow), stage_(std::move(stage)) {}
  Status Add(int64_t bytes);
  void Release(int64_t bytes) { used_ -= bytes; }

 private:
  int64_t used_ = 0;
  int64_t limit_;
  bool allow_;
  std::string stage_;
};

int64_t ApproxSize(const bson::Document& doc);
int64_t ApproxSize(const bson::Value& v);

class Stage {
 public:
  virtual ~Stage() = default;
  virtual Result<std::unique_ptr<DocStream>> Open(std::unique_ptr<DocStream> input,
                                                  const RunState& rs) const = 0;
  // For $sort + $limit coalescing: a $sort stage accepts a limit.
  virtual bool AbsorbLimit(int64_t) { return false; }
};
using StagePtr = std::shared_ptr<Stage>;

struct ParseState {
  const AggOptions* options = nullptr;
  ParseContext vars;       // user variables in scope
  std::string where;       // enclosing stage ("$facet", "$lookup", ...) or ""
  bool is_first = false;
  bool is_last = false;
};

// A stage parser may expand into several stages ($sortByCount -> $group + $sort).
using StageList = std::vector<StagePtr>;
using StageParser = Result<StageList> (*)(const bson::Value& spec, const ParseState& ps);

// Parsers, one per stage name (grouped by file).
Result<StageList> ParseMatch(const bson::Value& spec, const ParseState& ps);
Result<StageList> ParseLimit(const bson::Value& spec, const ParseState& ps);
Result<StageList> ParseSkip(const bson::Value& spec, const ParseState& ps);
Result<StageList> ParseProject(const bson::Value& spec, const ParseState& ps);
Result<StageList> ParseAddFields(const bson::Value& spec, const ParseState& ps);
Result<StageList> ParseSet(const bson::Value& spec, const ParseState& ps);
Result<StageList> ParseUnset(const bson::Value& spec, const ParseState& ps);
Result<StageList> ParseReplaceRoot(const bson::Value& spec, const ParseState& ps);
Result<StageList> ParseReplaceWith(const bson::Value& spec, const ParseState& ps);
Result<StageList> ParseUnwind(const bson::Value& spec, const ParseState& ps);
Result<StageList> ParseRedact(const bson::Value& spec, const ParseState& ps);
Result<StageList> ParseDocuments(const bson::Value& spec, const ParseState& ps);
Result<StageList> ParseSample(const bson::Value& spec, const ParseState& ps);
Result<StageList> ParseCount(const bson::Value& spec, const ParseState& ps);
Result<StageList> ParseSort(const bson::Value& spec, const ParseState& ps);
Result<StageList> ParseGroup(const bson::Value& spec, const ParseState& ps);
Result<StageList> ParseSortByCount(const bson::Value& spec, const ParseState& ps);
Result<StageList> ParseBucket(const bson::Value& spec, const ParseState& ps);
Result<StageList> ParseBucketAuto(const bson::Value& spec, const ParseState& ps);
Result<StageList> ParseLookup(const bson::Value& spec, const ParseState& ps);
Result<StageList> ParseUnionWith(const bson::Value& spec, const ParseState& ps);
Result<StageList> ParseFacet(const bson::Value& spec, const ParseState& ps);
Result<StageList> ParseOut(const bson::Value& spec, const ParseState& ps);
Result<StageList> ParseMerge(const bson::Value& spec, const ParseState& ps);
Result<StageList> ParseSetWindowFields(const bson::Value& spec, const ParseState& ps);

// Builders other stages reuse.
Result<StagePtr> MakeSortStageFromSpec(const bson::Document& spec, std::string_view stage_name,
                                       CollatorPtr collator = nullptr);
Result<StagePtr> MakeMatchStage(const bson::Document& filter, const ParseState& ps);

// ---- Document path helpers (aggregation semantics: no implicit array traversal) ----

// The value at a dotted path through embedded documents only; nullptr if absent.
const bson::Value* GetPath(const bson::Document& doc, std::string_view path);
// Sets a dotted path, creating (or replacing non-document values with) embedded documents.
void SetPath(bson::Document* doc, std::string_view path, bson::Value value);
// Removes a dotted path if present.
void RemovePath(bson::Document* doc, std::string_view path);
// Every value at a path, expanding arrays at every level (mongod's visitAllValuesAtPath, used by
// $lookup's localField): {a: [{b: 1}, {b: [2, 3]}]} at "a.b" yields 1, 2, 3.
void CollectPathValues(const bson::Document& doc, std::string_view path,
                       std::vector<bson::Value>* out);

// A field path for a stage option ("$a.b" form required when dollar_prefixed), validated with the
// expression language's FieldPath rules; returns the path without the '$'.
Result<std::string> ValidateFieldPath(std::string_view path, bool dollar_prefixed, int code,
                                      std::string_view what);

Status Err(int code, std::string message);
std::string TypeNameOf(const bson::Value& v);
std::string Json(const bson::Value& v);
std::string Json(const bson::Document& d);

// Runs a parsed sub-pipeline over documents with variables.
Result<std::vector<bson::Document>> RunSubPipeline(const Pipeline& p,
                                                   std::vector<bson::Document> input,
                                                   const RunState& rs,
                                                   std::shared_ptr<const VarList> vars);

}  // namespace eddy::query::agg_internal
