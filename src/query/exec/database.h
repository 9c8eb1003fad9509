// Database: eddy's embedded C++ API, the engine plus the query language. Every method is
// one MongoDB operation with MongoDB's semantics and error codes; the wire commands are thin
// layers over it.
//
// Thread-safety: all methods may be called concurrently from any threads. Writes block
// until durable (group commit); reads see a consistent snapshot of committed data.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "bson/value.h"
#include "query/exec/planner.h"
#include "storage/engine.h"

namespace eddy::query {

// A command's `let` and `collation`, which apply to its filter, sort and distinct keys.
struct LetAndCollation {
  // Constant expressions, evaluated once before any document is read (EvaluateCommandLet),
  // in scope as $$name in $expr filters, pipeline updates and projections.
  bson::Document let;
  // A collation spec (ParseCollation); absent or {locale: "simple"}: binary comparison.
  std::optional<bson::Document> collation;
};

struct FindOptions {
  bson::Document filter;
  bson::Document sort;
  bson::Document projection;
  int64_t skip = 0;
  int64_t limit = 0;  // 0: no limit
  bson::Document let;
  std::optional<bson::Document> collation;
};

struct WriteError {
  size_t index = 0;  // position in the request's batch
  Status status;
};

struct InsertResult {
  int64_t inserted = 0;
  std::vector<bson::Value> ids;  // _ids of the inserted documents, in order
  std::vector<WriteError> errors;
};

struct UpdateStatement {
  bson::Document filter;
  bson::Document update;  // operators or a replacement (ignored when `pipeline` is set)
  std::optional<bson::Array> pipeline;  // a pipeline-style update
  bson::Document let;                   // the command's `let`: variables for the pipeline
  std::optional<bson::Document> collation;  // for the filter
  std::optional<bson::Array> array_filters;
  bool multi = false;
  bool upsert = false;
  storage::WriteOptions write;  // durability: writeConcern j:false acks before the fsync
  bool bypass_document_validation = false;  // skip the collection's validator
};

// One delete statement: limit 1 deletes the first match (deleteOne), 0 every match.
struct DeleteStatement {
  bson::Document filter;
  int64_t limit = 0;
  LetAndCollation lc;
};

struct UpdateResult {
  int64_t matched = 0;
  int64_t modified = 0;
  std::optional<bson::Value> upserted_id;
};

struct IndexOptions {
  std::string name;  // default: "<field>_<dir>_..." as MongoDB names indexes
  bool unique = false;
  bool sparse = false;
};

struct FindAndModifyRequest {
  bson::Document filter;
  bson::Document sort;
  std::optional<bson::Document> update;  // absent with remove
  std::optional<bson::Array> update_pipeline;  // a pipeline-style update instead of `update`
  bson::Document let;                          // the command's `let`
  std::optional<bson::Document> collation;     // for the filter and sort
  std::optional<bson::Array> array_filters;
  bson::Document fields;  // projection of the returned document
  bool remove = false;
  bool return_new = false;
  bool upsert = false;
  storage::WriteOptions write;  // durability: writeConcern j:false acks before the fsync
  bool bypass_document_validation = false;  // skip the collection's validator
};

struct FindAndModifyResult {
  std::optional<bson::Document> value;  // the document before (or after, with return_new)
  int64_t n = 0;
  bool updated_existing = false;
  std::optional<bson::Value> upserted_id;
};

// A streaming query: holds a snapshot and returns documents one at a time, so a large
// result never needs to be in memory unless it must be sorted.
class FindCursor {
 public:
  virtual ~FindCursor() = default;
  // Sets *out to the next document; false at the end or on error (then see status()).
  virtual bool Next(bson::Document* out) = 0;
  virtual Status status() const = 0;
  virtual const Plan& plan() const = 0;
};

class Database {
 public:
  static Result<std::unique_ptr<Database>> Open(const storage::EngineOptions& options);
  explicit Database(std::unique_ptr<storage::Engine> engine);
  ~Database();

  storage::Engine& engine() { return *engine_; }

  // --- collections and indexes ---
  // options with viewOn (+ pipeline, collation) create a view (query/exec/views.h: the
  // definition is checked, cycles 5, depth 165, $out/$merge 167); otherwise the validation
  // options (validator, validationLevel, validationAction) are checked as mongod does.
  // ModifyCollection checks the same for the fields it changes.
  Status CreateCollection(std::string_view db, std::string_view coll,
                          const bson::Document& options = {});
  Status DropCollection(std::string_view db, std::string_view coll);
  Status DropDatabase(std::string_view db);
  Status RenameCollection(std::string_view db, std::string_view from, std::string_view to_db,
                          std::string_view to, bool drop_target = false);
  Status ModifyCollection(std::string_view db, std::string_view coll, const bson::Document& changes);
  std::vector<storage::CollectionPtr> ListCollections(std::string_view db = {});
  std::vector<std::string> ListDatabases();
  // The approximate bytes a database's collections take (listDatabases' sizeOnDisk).
  uint64_t DatabaseBytes(std::string_view db);
  // Returns the index name. Creating an identical index again is a no-op; the same name with
  // another key is IndexKeySpecsConflict (86), the same key with other options
  // IndexOptionsConflict (85).
  Result<std::string> CreateIndex(std::string_view db, std::string_view coll,
                                  const bson::Document& key, const IndexOptions& options = {});
  Status DropIndex(std::string_view db, std::string_view coll, std::string_view name);

  // --- writes ---
  // Generates an ObjectId _id (first field) where missing. ordered: stop at the first error.
  // `write` chooses the durability (storage::WriteOptions) for this and the writes below.
  // Writes check the collection's validator (query/exec/validation.h: 121
  // DocumentValidationFailure with errInfo) unless bypass_document_validation; writes to a
  // view fail with 166 CommandNotSupportedOnView; DuplicateKey errors carry keyPattern and
  // keyValue (query/exec/duplicate_key.h).
  InsertResult Insert(std::string_view db, std::string_view coll, std::vector<bson::Document> docs,
                      bool ordered = true, storage::WriteOptions write = {},
                      bool bypass_document_validation = false);
  // The same without waiting: done(result) runs once the write is acknowledged, on the
  // engine's committing thread (storage::Engine::SubmitWrite: done must be fast and never
  // block). The calling thread never waits, so an I/O thread may call it.
  void InsertAsync(std::string_view db, std::string_view coll, std::vector<bson::Document> docs,
                   bool ordered, storage::WriteOptions write, bool bypass_document_validation,
                   std::function<void(InsertResult)> done);
  Result<UpdateResult> Update(std::string_view db, std::string_view coll,
                              const UpdateStatement& statement);
  // Update statements applied in order in one engine write (one group commit, one fsync
  // for all), rather than one write each. A statement given as an error (it did not parse)
  // or whose filter or update does not compile fails alone; `ordered` stops at the first
  // failure (the statements before it are applied). Each statement's outcome, in order, up
  // to the first failure when ordered. A failed commit is the first statement's outcome.
  std::vector<Result<UpdateResult>> UpdateBatch(std::string_view db, std::string_view coll,
                                                const std::vector<Result<UpdateStatement>>& statements,
                                                bool ordered, storage::WriteOptions write);
  // The same without waiting: errors found before the write (the filter, the update) are
  // returned at once and done is not called; otherwise done runs once on the engine's
  // committing thread (see InsertAsync).
  Status UpdateAsync(std::string_view db, std::string_view coll, const UpdateStatement& statement,
                     std::function<void(Result<UpdateResult>)> done);
  // limit 1: deleteOne; 0: deleteMany. Returns the number deleted.
  Result<int64_t> Delete(std::string_view db, std::string_view coll, const bson::Document& filter,
                         int64_t limit, const LetAndCollation& options = {},
                         storage::WriteOptions write = {});
  // Delete statements applied in order in one engine write, as UpdateBatch does updates.
  // Each statement's outcome (the number deleted), in order, up to the first failure when
  // ordered.
  std::vector<Result<int64_t>> DeleteBatch(std::string_view db, std::string_view coll,
                                           const std::vector<Result<DeleteStatement>>& statements,
                                           bool ordered, storage::WriteOptions write);
  // The same without waiting (see UpdateAsync).
  Status DeleteAsync(std::string_view db, std::string_view coll, const bson::Document& filter,
                     int64_t limit, const LetAndCollation& options, storage::WriteOptions write,
                     std::function<void(Result<int64_t>)> done);

  // Atomically finds the first document by filter and sort, then updates or removes it.
  Result<FindAndModifyResult> FindAndModify(std::string_view db, std::string_view coll,
                                            const FindAndModifyRequest& request);
  // The same without waiting (see UpdateAsync).
  Status FindAndModifyAsync(std::string_view db, std::string_view coll,
                            const FindAndModifyRequest& request,
                            std::function<void(Result<FindAndModifyResult>)> done);

  // --- reads ---
  // On a view (query/exec/views.h) reads run the view's pipeline over its source, with the
  // find's filter/sort/skip/limit/projection as stages after it; the view's collation is
  // the default and another one fails with 167 OptionNotSupportedOnView.
  Result<std::unique_ptr<FindCursor>> OpenFind(std::string_view db, std::string_view coll,
                                               const FindOptions& options);
  Result<std::vector<bson::Document>> Find(std::string_view db, std::string_view coll,
                                           const FindOptions& options);
  Result<int64_t> Count(std::string_view db, std::string_view coll, const bson::Document& filter,
                        int64_t skip = 0, int64_t limit = 0, const LetAndCollation& options = {});
  // collStats/dbStats figures of one collection: its exact document count and data size
  // (kept with every write, as mongod keeps both in its catalog: no scan) and RocksDB's
  // estimates of what its documents and indexes take. NamespaceNotFound (26) when it does
  // not exist; a view fails with CommandNotSupportedOnView (166).
  struct CollectionStats {
    int64_t count = 0;
    int64_t data_bytes = 0;     // the documents' BSON
    int64_t storage_bytes = 0;  // the documents as stored (compressed once flushed)
    // Index name -> bytes, in the collection's index order (_id_ first: the documents' keys).
    std::vector<std::pair<std::string, int64_t>> index_bytes;
  };
  Result<CollectionStats> Stats(std::string_view db, std::string_view coll);
  // Distinct values of a dotted path (array values contribute their elements), in BSON order
  // (with a collation: values equal under it count once, the first one met is returned, and
  // strings are ordered by the collation).
  Result<std::vector<bson::Value>> Distinct(std::string_view db, std::string_view coll,
                                            std::string_view key, const bson::Document& filter,
                                            const LetAndCollation& options = {});

 private:
  Result<std::unique_ptr<FindCursor>> OpenViewFind(std::string_view db, std::string_view coll,
                                                   const FindOptions& options);
  std::unique_ptr<storage::Engine> engine_;
};

// MongoDB's default index name for a key pattern: {a: 1, "b.c": -1} -> "a_1_b.c_-1".
std::string DefaultIndexName(const bson::Document& key);

}  // namespace eddy::query
