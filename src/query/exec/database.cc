#include "query/exec/database.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "bson/codec.h"
#include "bson/compare.h"
#include "bson/json.h"
#include "bson/raw.h"
#include "query/agg/pipeline.h"
#include "query/exec/duplicate_key.h"
#include "query/exec/validation.h"
#include "query/exec/views.h"
#include "query/match/matcher.h"
#include "query/projection/projection.h"
#include "query/sort/sort.h"
#include "query/update/update.h"
#include "storage/index_keys.h"

namespace eddy::query {

namespace {

// mongod's BSONObj::storageValidEmbedded: no '$'-prefixed field names at any depth, except
// the DBRef fields $ref, $id and $db.
Status StorageValidEmbedded(const bson::Value& v) {
  if (v.is_document()) {
    for (const bson::Field& f : v.as_document()) {
      if (!f.name.empty() && f.name[0] == '$' && f.name != "$ref" && f.name != "$id" &&
          f.name != "$db") {
        return Status(ErrorCode::kDollarPrefixedFieldName, f.name + " is not valid for storage.");
      }
      EDDY_RETURN_IF_ERROR(StorageValidEmbedded(f.value));
    }
  } else if (v.is_array()) {
    for (const bson::Value& e : v.as_array()) EDDY_RETURN_IF_ERROR(StorageValidEmbedded(e));
  }
  return Status::OK();
}

Status ValidateId(const bson::Value& id) {
  switch (id.type()) {
    case bson::Type::kDocument: {
      Status s = StorageValidEmbedded(id);
      if (!s.ok()) {
        return Status(s.code(), std::string("_id fields may not contain '$'-prefixed fields: ") +
                                    std::string(s.message()));
      }
      return Status::OK();
    }
    case bson::Type::kArray:
      return Status(ErrorCode::kInvalidIdField, "The '_id' value cannot be of type array");
    case bson::Type::kRegex:
      return Status(ErrorCode::kInvalidIdField, "The '_id' value cannot be of type regex");
    case bson::Type::kUndefined:
      return Status(ErrorCode::kInvalidIdField, "can't use a undefined for _id");
    default:
      return Status::OK();
  }
}

// Puts _id first, generating an ObjectId when missing (as drivers and mongod do).
bson::Document WithId(bson::Document doc) {
  if (!doc.empty() && doc.at(0).name == "_id") return doc;
  bson::Document out;
  if (const bson::Value* id = doc.Get("_id")) {
    out.Append("_id", *id);
  } else {
    out.Append("_id", bson::ObjectId::Generate());
  }
  for (bson::Field& f : doc.mutable_fields()) {
    if (f.name != "_id") out.Append(std::move(f.name), std::move(f.value));
  }
  return out;
}

// A command's filter compiled with its `let` and `collation`.
struct CompiledFilter {
  Matcher matcher;
  CollatorPtr collator;
  std::shared_ptr<const VariableList> variables;  // the evaluated `let`
};

Result<CompiledFilter> CompileFilter(const bson::Document& filter, const bson::Document& let,
                                     const std::optional<bson::Document>& collation) {
  MatchOptions mo;
  if (collation) {
    EDDY_ASSIGN_OR_RETURN(mo.collator, ParseCollation(*collation));
  }
  if (!let.empty()) {
    EDDY_ASSIGN_OR_RETURN(mo.variables, EvaluateCommandLet(let, WallClockDateTime()));
  }
  EDDY_ASSIGN_OR_RETURN(Matcher m, Matcher::Compile(filter, mo));
  return CompiledFilter{std::move(m), std::move(mo.collator), std::move(mo.variables)};
}

// Compiles a find's sort and projection (either may be empty: then left unset). The filter
// lets the projection check positional "a.$" against it, as mongod does.
Status CompileSortAndProjection(const bson::Document& sort_spec, const bson::Document& projection_spec,
                                const bson::Document& filter, std::optional<SortSpec>* sort,
                                std::optional<Projection>* projection,
                                const CompiledFilter* compiled = nullptr) {
  CollatorPtr collator = compiled ? compiled->collator : nullptr;
  if (!sort_spec.empty()) {
    EDDY_ASSIGN_OR_RETURN(SortSpec s, SortSpec::Compile(sort_spec, collator));
    *sort = std::move(s);
  }
  if (!projection_spec.empty()) {
    EDDY_ASSIGN_OR_RETURN(Projection p, Projection::Compile(projection_spec, &filter,
                                                            compiled ? compiled->variables
                                                                     : nullptr));
    *projection = std::move(p);
  }
  return Status::OK();
}

class FindCursorImpl : public FindCursor {
 public:
  FindCursorImpl(std::unique_ptr<storage::ReadView> view, storage::CollectionPtr coll,
                 Matcher matcher, std::optional<SortSpec> sort,
                 std::optional<Projection> projection, Plan plan, int64_t skip, int64_t limit)
      : view_(std::move(view)), coll_(std::move(coll)), matcher_(std::move(matcher)),
        sort_(std::move(sort)), projection_(std::move(projection)),
        it_(view_.get(), *coll_, std::move(plan)), skip_(skip), limit_(limit) {}

  bool Next(bson::Document* out) override {
    if (!status_.ok()) return false;
    if (limit_ > 0 && returned_ >= limit_) return false;
    bool needs_sort = sort_ && !sort_->empty() && !it_.plan().provides_sort;
    if (needs_sort && !sorted_ready_) {
      if (!SortAll()) return false;
    }
    for (;;) {
      bson::Document doc;
      MatchDetails details;
      if (needs_sort) {
        if (sorted_pos_ >= sorted_.size()) return false;
        doc = std::move(sorted_[sorted_pos_].doc);
        details = sorted_[sorted_pos_].details;
        sorted_pos_++;
      } else if (!NextMatch(&doc, &details)) {
        return false;
      }
      if (skipped_ < skip_) {
        skipped_++;
        continue;
      }
      if (projection_) {
        Result<bson::Document> p = projection_->Apply(doc, details.array_index);
        if (!p.ok()) {
          status_ = p.status();
          return false;
        }
        *out = std::move(p).value();
      } else {
        *out = std::move(doc);
      }
      returned_++;
      return true;
    }
  }
  Status status() const override { return status_; }
  const Plan& plan() const override { return it_.plan(); }

 private:
  struct Sorted {
    std::vector<bson::Value> key;
    bson::Document doc;
    MatchDetails details;
  };

  bool NextMatch(bson::Document* doc, MatchDetails* details) {
    std::string_view raw;
    while (it_.Next(&raw)) {
      Result<bson::Document> d = bson::Decode(raw);
      if (!d.ok()) {
        status_ = d.status();
        return false;
      }
      Result<bool> m = matcher_.MatchesOrError(*d, details);
      if (!m.ok()) {
        status_ = m.status();
        return false;
      }
      if (*m) {
        *doc = std::move(d).value();
        return true;
      }
    }
    status_ = it_.status();
    return false;
  }

  // Sorting needs every match; keys are extracted once per document, not per comparison.
  // With a limit, only the best skip+limit documents are kept (a bounded top-k).
  bool SortAll() {
    bson::Document doc;
    MatchDetails details;
    size_t keep = limit_ > 0 ? static_cast<size_t>(skip_ + limit_) : 0;
    auto less = [this](const Sorted& a, const Sorted& b) {
      return sort_->CompareKeys(a.key, b.key) < 0;
    };
    while (NextMatch(&doc, &details)) {
      Result<std::vector<bson::Value>> key = sort_->ExtractSortKey(doc);
      if (!key.ok()) {
        status_ = key.status();
        return false;
      }
      sorted_.push_back(Sorted{std::move(key).value(), std::move(doc), details});
      details = MatchDetails();
      if (keep > 0 && sorted_.size() >= 2 * keep + 1024) {
        std::stable_sort(sorted_.begin(), sorted_.end(), less);
        sorted_.resize(keep);
      }
    }
    if (!status_.ok()) return false;
    std::stable_sort(sorted_.begin(), sorted_.end(), less);
    if (keep > 0 && sorted_.size() > keep) sorted_.resize(keep);
    sorted_ready_ = true;
    return true;
  }

  std::unique_ptr<storage::ReadView> view_;
  storage::CollectionPtr coll_;
  Matcher matcher_;
  std::optional<SortSpec> sort_;
  std::optional<Projection> projection_;
  PlanIterator it_;
  int64_t skip_;
  int64_t limit_;
  int64_t skipped_ = 0;
  int64_t returned_ = 0;
  std::vector<Sorted> sorted_;
  bool sorted_ready_ = false;
  size_t sorted_pos_ = 0;
  Status status_;

  friend class Database;
  bool sorted() const { return sorted_ready_; }
};

class EmptyCursor : public FindCursor {
 public:
  bool Next(bson::Document*) override { return false; }
  Status status() const override { return Status::OK(); }
  const Plan& plan() const override { return plan_; }

 private:
  Plan plan_;
};

// A view read: the view's pipeline (and the find's stages) over its source collection.
class PipelineCursor : public FindCursor {
 public:
  PipelineCursor(std::shared_ptr<AggSource> source, std::unique_ptr<DocStream> stream)
      : source_(std::move(source)), stream_(std::move(stream)) {}
  bool Next(bson::Document* out) override {
    if (!status_.ok()) return false;
    Result<bool> more = stream_->Next(out);
    if (!more.ok()) {
      status_ = more.status();
      return false;
    }
    return *more;
  }
  Status status() const override { return status_; }
  const Plan& plan() const override { return plan_; }

 private:
  std::shared_ptr<AggSource> source_;  // stages may read through it while streaming
  std::unique_ptr<DocStream> stream_;
  Status status_;
  Plan plan_;
};

// A FindCursor as a pipeline's input.
class CursorStream : public DocStream {
 public:
  explicit CursorStream(std::unique_ptr<FindCursor> c) : cursor_(std::move(c)) {}
  Result<bool> Next(bson::Document* out) override {
    if (cursor_->Next(out)) return true;
    EDDY_RETURN_IF_ERROR(cursor_->status());
    return false;
  }

 private:
  std::unique_ptr<FindCursor> cursor_;
};

// What a view's pipeline may read ($lookup/$unionWith): the database itself. Views never
// write ($out/$merge are refused in view definitions).
class ViewReadSource : public AggSource {
 public:
  ViewReadSource(Database* db, std::string db_name) : db_(db), db_name_(std::move(db_name)) {}
  Result<std::vector<bson::Document>> ReadCollection(std::string_view coll,
                                                     const bson::Document& filter) override {
    FindOptions o;
    o.filter = filter;
    return db_->Find(db_name_, coll, o);
  }
  Status ReplaceCollection(std::string_view db, std::string_view coll,
                           std::vector<bson::Document>) override {
    return Status(kOptionNotSupportedOnView, "$out cannot be used in a view definition");
  }
  Status MergeInto(std::string_view, std::string_view, const MergeSpec&,
                   std::vector<bson::Document>) override {
    return Status(kOptionNotSupportedOnView, "$merge cannot be used in a view definition");
  }

 private:
  Database* db_;
  std::string db_name_;
};

}  // namespace

std::string DefaultIndexName(const bson::Document& key) {
  std::string name;
  for (const bson::Field& f : key) {
    if (!name.empty()) name += "_";
    name += f.name + "_";
    if (f.value.is_string()) {
      name += f.value.as_string();
    } else if (f.value.is_double() && f.value.as_double_exact() == static_cast<int64_t>(f.value.as_double_exact())) {
      name += std::to_string(static_cast<int64_t>(f.value.as_double_exact()));
    } else if (f.value.is_number()) {
      name += std::to_string(f.value.ToInt64());
    } else {
      name += bson::ToJson(f.value, bson::JsonMode::kShell);
    }
  }
  return name;
}

Result<std::unique_ptr<Database>> Database::Open(const storage::EngineOptions& options) {
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<storage::Engine> engine, storage::Engine::Open(options));
  return std::make_unique<Database>(std::move(engine));
}

Database::Database(std::unique_ptr<storage::Engine> engine) : engine_(std::move(engine)) {}
Database::~Database() = default;

Status Database::CreateCollection(std::string_view db, std::string_view coll,
                                  const bson::Document& options) {
  const bson::Value* view_on = options.Get("viewOn");
  const bson::Value* pipeline = options.Get("pipeline");
  if (view_on == nullptr && pipeline != nullptr) {
    return Status(ErrorCode::kInvalidOptions, "'pipeline' requires 'viewOn' to also be specified");
  }
  if (view_on == nullptr) {
    EDDY_RETURN_IF_ERROR(CheckValidationOptions(options));
    return engine_->Write([&](storage::Txn& txn) { return txn.CreateCollection(db, coll, options).status(); });
  }
  std::optional<bson::Document> collation;
  for (const bson::Field& f : options) {
    if (f.name == "collation") {
      if (!f.value.is_document()) {
        return Status(ErrorCode::kTypeMismatch, "BSON field 'collation' is the wrong type '" +
                                                    std::string(bson::TypeName(f.value.type())) +
                                                    "', expected type 'object'");
      }
      collation = f.value.as_document();
    } else if (f.name != "viewOn" && f.name != "pipeline") {
      return Status(ErrorCode::kInvalidOptions,
                    "option '" + f.name + "' is not supported on a view (create with 'viewOn')");
    }
  }
  // Checked in the sequencer, against the catalog the view joins, so two concurrent creates
  // can not close a cycle between them.
  return engine_->Write([&](storage::Txn& txn) -> Status {
    EDDY_ASSIGN_OR_RETURN(bson::Document def,
                          CheckViewDefinition(txn.catalog(), db, coll, *view_on, pipeline, collation));
    return txn.CreateCollection(db, coll, def).status();
  });
}

Status Database::DropCollection(std::string_view db, std::string_view coll) {
  return engine_->Write([&](storage::Txn& txn) { return txn.DropCollection(db, coll); });
}

Status Database::DropDatabase(std::string_view db) {
  return engine_->Write([&](storage::Txn& txn) { return txn.DropDatabase(db); });
}

Status Database::RenameCollection(std::string_view db, std::string_view from,
                                  std::string_view to_db, std::string_view to, bool drop_target) {
  return engine_->Write(
      [&](storage::Txn& txn) { return txn.RenameCollection(db, from, to_db, to, drop_target); });
}

Status Database::ModifyCollection(std::string_view db, std::string_view coll,
                                  const bson::Document& changes) {
  EDDY_RETURN_IF_ERROR(CheckValidationOptions(changes));
  return engine_->Write([&](storage::Txn& txn) -> Status {
    storage::CollectionPtr c = txn.catalog().Find(db, coll);
    if (!c || !IsView(*c) || (!changes.Has("viewOn") && !changes.Has("pipeline"))) {
      return txn.ModifyCollection(db, coll, changes);
    }
    // A view's new definition: the given viewOn/pipeline, the rest kept; checked like create.
    const bson::Value* view_on = changes.Has("viewOn") ? changes.Get("viewOn") : c->options.Get("viewOn");
    const bson::Value* pipeline = changes.Has("pipeline") ? changes.Get("pipeline") : c->options.Get("pipeline");
    std::optional<bson::Document> collation;
    if (const bson::Value* v = c->options.Get("collation"); v && v->is_document()) collation = v->as_document();
    EDDY_ASSIGN_OR_RETURN(bson::Document def,
                          CheckViewDefinition(txn.catalog(), db, coll, *view_on, pipeline, collation));
    return txn.ModifyCollection(db, coll,
                                bson::Document{{"viewOn", *def.Get("viewOn")}, {"pipeline", *def.Get("pipeline")}});
  });
}

std::vector<storage::CollectionPtr> Database::ListCollections(std::string_view db) {
  return engine_->catalog()->List(db);
}

std::vector<std::string> Database::ListDatabases() { return engine_->catalog()->Databases(); }

uint64_t Database::DatabaseBytes(std::string_view db) {
  uint64_t total = 0;
  for (const storage::CollectionPtr& c : engine_->catalog()->List(db)) {
    total += engine_->ApproximateCollectionBytes(*c);
  }
  return total;
}

Result<std::string> Database::CreateIndex(std::string_view db, std::string_view coll,
                                          const bson::Document& key, const IndexOptions& options) {
  if (key.empty()) return Status(ErrorCode::kCannotCreateIndex, "Index keys cannot be empty.");
  storage::IndexInfo index;
  index.key = key;
  for (const bson::Field& f : key) {
    if (f.name.empty()) return Status(ErrorCode::kCannotCreateIndex, "Index key contains an illegal field name: field name is empty");
    if (f.value.is_string()) {
      return Status(ErrorCode::kCannotCreateIndex,
                    "Index type '" + f.value.as_string() + "' is not supported by eddy");
    }
    if (!f.value.is_number() || f.value.ToDouble() == 0 || std::isnan(f.value.ToDouble())) {
      return Status(ErrorCode::kCannotCreateIndex,
                    "Values in the index key pattern can only be numbers > 0, numbers < 0 or "
                    "strings. Found " + bson::ToJson(f.value, bson::JsonMode::kShell) +
                        " for field " + f.name);
    }
    index.fields.push_back(storage::IndexField{f.name, f.value.ToDouble() < 0});
  }
  if (storage::CollectionPtr c = engine_->catalog()->Find(db, coll); c && IsView(*c)) {
    return NotSupportedOnView(db, coll);
  }
  index.name = options.name.empty() ? DefaultIndexName(key) : options.name;
  index.unique = options.unique;
  index.sparse = options.sparse;
  std::string name = index.name;
  Status s = engine_->Write([&](storage::Txn& txn) -> Status {
    if (storage::CollectionPtr c = txn.catalog().Find(db, coll)) {
      bool id_key = key.size() == 1 && key.at(0).name == "_id";
      if (id_key && (name == "_id_" || options.name.empty())) return Status::OK();
      if (const storage::IndexInfo* same = c->FindIndex(name)) {
        if (bson::Compare(same->key, key) != 0) {
          return Status(ErrorCode::kIndexKeySpecsConflict,
                        "An existing index has the same name as the requested index. "
                        "Requested index: " + bson::ToJson(index.Spec(), bson::JsonMode::kShell) +
                            ", existing index: " + bson::ToJson(same->Spec(), bson::JsonMode::kShell));
        }
        if (same->unique != index.unique || same->sparse != index.sparse) {
          return Status(ErrorCode::kIndexOptionsConflict,
                        "An existing index has the same name as the requested index. "
                        "Requested index: " + bson::ToJson(index.Spec(), bson::JsonMode::kShell) +
                            ", existing index: " + bson::ToJson(same->Spec(), bson::JsonMode::kShell));
        }
        return Status::OK();
      }
      if (const storage::IndexInfo* same_key = c->FindIndexByKey(key)) {
        if (same_key->unique != index.unique || same_key->sparse != index.sparse) {
          return Status(ErrorCode::kIndexOptionsConflict,
                        "Index already exists with a different name: " + same_key->name);
        }
        name = same_key->name;
        return Status::OK();
      }
    }
    return txn.CreateIndex(db, coll, index).status();
  });
  if (!s.ok()) return WithDuplicateKeyInfo(*engine_->catalog(), std::move(s), &index);
  return name;
}

Status Database::DropIndex(std::string_view db, std::string_view coll, std::string_view name) {
  return engine_->Write([&](storage::Txn& txn) { return txn.DropIndex(db, coll, name); });
}

namespace {
// One insert command's documents on their way through the engine (shared by Insert and
// InsertAsync: the write function runs on the sequencer, the result is read after commit).
struct PendingInsert {
  std::string db, coll;
  bool ordered = true;
  bool bypass_document_validation = false;
  InsertResult result;
  std::vector<bson::Document> prepared;
  std::vector<size_t> positions;
  size_t stop_at = 0;
  std::vector<WriteError> write_errors;
};

// Adds _ids and checks them; what fails here never reaches the engine.
void PrepareInsert(PendingInsert& p, std::vector<bson::Document> docs) {
  p.prepared.reserve(docs.size());
  for (size_t i = 0; i < docs.size(); ++i) {
    bson::Document d = WithId(std::move(docs[i]));
    Status s = ValidateId(*d.Get("_id"));
    if (!s.ok()) {
      p.result.errors.push_back({i, s});
      if (p.ordered) break;
      continue;
    }
    p.prepared.push_back(std::move(d));
    p.positions.push_back(i);
  }
  // With ordered inserts, a pre-validation error at i means only documents before i go in.
  p.stop_at = p.ordered && !p.result.errors.empty() ? p.result.errors[0].index : docs.size();
}

Status ApplyInsert(PendingInsert& p, storage::Txn& txn) {
  if (p.prepared.empty()) return Status::OK();
  EDDY_ASSIGN_OR_RETURN(storage::CollectionPtr c, txn.GetOrCreateCollection(p.db, p.coll));
  if (IsView(*c)) return NotSupportedOnView(p.db, p.coll);
  EDDY_ASSIGN_OR_RETURN(std::optional<CollectionValidator> validator,
                        CollectionValidator::ForCollection(*c, p.bypass_document_validation));
  for (size_t k = 0; k < p.prepared.size(); ++k) {
    if (p.positions[k] >= p.stop_at) break;
    Status is = validator ? validator->Check(nullptr, p.prepared[k]) : Status::OK();
    if (is.ok()) is = txn.Insert(*c, p.prepared[k]);
    if (!is.ok()) {
      p.write_errors.push_back({p.positions[k], is});
      if (p.ordered) break;
      continue;
    }
    p.result.inserted++;
    p.result.ids.push_back(*p.prepared[k].Get("_id"));
  }
  return Status::OK();
}

InsertResult FinishInsert(PendingInsert& p, const Status& s, storage::Engine& engine) {
  InsertResult& result = p.result;
  if (!s.ok()) {
    // The whole group failed to commit (or the namespace is invalid): nothing was inserted.
    result.inserted = 0;
    result.ids.clear();
    result.errors.clear();
    result.errors.push_back({0, s});
    return std::move(result);
  }
  if (!p.write_errors.empty()) {
    std::shared_ptr<const storage::Catalog> catalog = engine.catalog();
    for (WriteError& e : p.write_errors) e.status = WithDuplicateKeyInfo(*catalog, std::move(e.status));
  }
  result.errors.insert(result.errors.end(), p.write_errors.begin(), p.write_errors.end());
  std::sort(result.errors.begin(), result.errors.end(),
            [](const WriteError& a, const WriteError& b) { return a.index < b.index; });
  if (p.ordered && result.errors.size() > 1) result.errors.resize(1);
  return std::move(result);
}

std::shared_ptr<PendingInsert> NewPendingInsert(std::string_view db, std::string_view coll,
                                                std::vector<bson::Document> docs, bool ordered,
                                                bool bypass_document_validation) {
  auto p = std::make_shared<PendingInsert>();
  p->db = std::string(db);
  p->coll = std::string(coll);
  p->ordered = ordered;
  p->bypass_document_validation = bypass_document_validation;
  PrepareInsert(*p, std::move(docs));
  return p;
}
}  // namespace

InsertResult Database::Insert(std::string_view db, std::string_view coll,
                              std::vector<bson::Document> docs, bool ordered,
                              storage::WriteOptions write, bool bypass_document_validation) {
  std::shared_ptr<PendingInsert> p = NewPendingInsert(db, coll, std::move(docs), ordered, bypass_document_validation);
  Status s = engine_->Write([&p](storage::Txn& txn) { return ApplyInsert(*p, txn); }, write);
  return FinishInsert(*p, s, *engine_);
}

void Database::InsertAsync(std::string_view db, std::string_view coll, std::vector<bson::Document> docs,
                           bool ordered, storage::WriteOptions write, bool bypass_document_validation,
                           std::function<void(InsertResult)> done) {
  std::shared_ptr<PendingInsert> p = NewPendingInsert(db, coll, std::move(docs), ordered, bypass_document_validation);
  storage::Engine* engine = engine_.get();
  engine_->SubmitWrite([p](storage::Txn& txn) { return ApplyInsert(*p, txn); },
                       [p, engine, done = std::move(done)](Status s) { done(FinishInsert(*p, s, *engine)); },
                       write);
}

namespace {
// One update statement on its way through the engine (shared by Update and UpdateAsync).
struct PendingUpdate {
  std::string db, coll;
  UpdateStatement st;
  CompiledFilter cf;
  query::Update update;
  UpdateResult result;
};

Result<std::shared_ptr<PendingUpdate>> PrepareUpdate(std::string_view db, std::string_view coll,
                                                     const UpdateStatement& st) {
  EDDY_ASSIGN_OR_RETURN(CompiledFilter cf, CompileFilter(st.filter, st.let, st.collation));
  const bson::Array* filters = st.array_filters ? &*st.array_filters : nullptr;
  if (st.pipeline && filters) {
    return Status(ErrorCode::kFailedToParse,
                  "arrayFilters may not be specified for pipeline-style updates");
  }
  EDDY_ASSIGN_OR_RETURN(query::Update update,
                        st.pipeline ? query::Update::ParsePipeline(*st.pipeline, st.let)
                                    : query::Update::Parse(st.update, filters));
  if (update.is_replacement() && st.multi) {
    return Status(ErrorCode::kFailedToParse, "multi update is not supported for replacement-style update");
  }
  auto p = std::make_shared<PendingUpdate>(PendingUpdate{std::string(db), std::string(coll), st,
                                                         std::move(cf), std::move(update), {}});
  return p;
}

// Runs on the sequencer: finds the targets and applies the update (or the upsert).
Status ApplyUpdate(PendingUpdate& p, storage::Txn& txn) {
  storage::CollectionPtr c = txn.catalog().Find(p.db, p.coll);
  std::vector<std::pair<bson::Document, MatchDetails>> targets;
  std::optional<CollectionValidator> validator;
  if (c) {
    if (IsView(*c)) return NotSupportedOnView(p.db, p.coll);
    EDDY_ASSIGN_OR_RETURN(validator, CollectionValidator::ForCollection(*c, p.st.bypass_document_validation));
    PlanIterator it(&txn, *c, ChoosePlan(*c, p.st.filter, nullptr, p.cf.collator.get()));
    std::string_view raw;
    while (it.Next(&raw)) {
      EDDY_ASSIGN_OR_RETURN(bson::Document doc, bson::Decode(raw));
      MatchDetails details;
      EDDY_ASSIGN_OR_RETURN(bool m, p.cf.matcher.MatchesOrError(doc, &details));
      if (!m) continue;
      targets.emplace_back(std::move(doc), details);
      if (!p.st.multi) break;
    }
    EDDY_RETURN_IF_ERROR(it.status());
  }
  UpdateContext ctx;
  ctx.now = txn.now();
  for (auto& [doc, details] : targets) {
    ctx.positional_index = details.array_index;
    EDDY_ASSIGN_OR_RETURN(UpdateOutcome out, p.update.Apply(doc, ctx));
    p.result.matched++;
    if (!out.modified) continue;
    if (validator) EDDY_RETURN_IF_ERROR(validator->Check(&doc, out.document));
    bson::Document ud;
    if (!p.update.is_replacement()) ud = out.description.ToDocument();
    EDDY_RETURN_IF_ERROR(txn.Update(*c, doc, out.document,
                                    p.update.is_replacement() ? storage::WriteOp::kReplace
                                                            : storage::WriteOp::kUpdate,
                                    p.update.is_replacement() ? nullptr : &ud));
    p.result.modified++;
  }
  if (targets.empty() && p.st.upsert) {
    ctx.positional_index.reset();
    ctx.is_upsert_insert = true;
    EDDY_ASSIGN_OR_RETURN(bson::Document doc, p.update.BuildUpsertDocument(p.st.filter, ctx));
    doc = WithId(std::move(doc));
    EDDY_RETURN_IF_ERROR(ValidateId(*doc.Get("_id")));
    EDDY_ASSIGN_OR_RETURN(c, txn.GetOrCreateCollection(p.db, p.coll));
    if (!validator) {
      EDDY_ASSIGN_OR_RETURN(validator, CollectionValidator::ForCollection(*c, p.st.bypass_document_validation));
    }
    if (validator) EDDY_RETURN_IF_ERROR(validator->Check(nullptr, doc));
    EDDY_RETURN_IF_ERROR(txn.Insert(*c, doc));
    p.result.upserted_id = *doc.Get("_id");
  }
  return Status::OK();
}

Result<UpdateResult> FinishUpdate(PendingUpdate& p, Status s, storage::Engine& engine) {
  if (!s.ok()) return WithDuplicateKeyInfo(*engine.catalog(), std::move(s));
  return std::move(p.result);
}

// Statements applied in order in one engine write (UpdateBatch, DeleteBatch): each is
// prepared (compiled) first, applied on the sequencer, and finished once the write is
// acknowledged. A statement given as an error, or failing to prepare or apply, fails alone;
// `ordered` stops at the first failure. A failed commit is the first statement's outcome.
template <typename Pending, typename R, typename Statement, typename Prepare, typename Apply,
          typename Finish>
std::vector<Result<R>> RunBatch(storage::Engine& engine,
                                const std::vector<Result<Statement>>& statements, bool ordered,
                                storage::WriteOptions write, Prepare prepare, Apply apply,
                                Finish finish) {
  const size_t n = statements.size();
  std::vector<std::shared_ptr<Pending>> prepared(n);
  std::vector<Status> outcome(n);
  // Statements up to `end` are in play: an ordered batch ends at the first that fails to
  // prepare (the ones before it still run).
  size_t end = n;
  for (size_t i = 0; i < end; ++i) {
    Result<std::shared_ptr<Pending>> p = statements[i].ok()
                                             ? prepare(*statements[i])
                                             : Result<std::shared_ptr<Pending>>(statements[i].status());
    if (p.ok()) {
      prepared[i] = std::move(p).value();
    } else {
      outcome[i] = p.status();
      if (ordered) end = i + 1;
    }
  }
  size_t ran = 0;  // statements [0, ran) have an outcome
  Status s = engine.Write(
      [&](storage::Txn& txn) -> Status {
        for (size_t i = 0; i < end; ++i) {
          ran = i + 1;
          if (prepared[i]) outcome[i] = apply(*prepared[i], txn);
          if (!outcome[i].ok() && ordered) break;
        }
        return Status::OK();
      },
      write);
  std::vector<Result<R>> out;
  if (!s.ok()) ran = std::max<size_t>(ran, 1);  // the commit failed: the first reports it
  for (size_t i = 0; i < ran; ++i) {
    if (!s.ok()) {
      out.push_back(s);
      if (ordered) break;
    } else if (!prepared[i]) {
      out.push_back(outcome[i]);
    } else {
      out.push_back(finish(*prepared[i], outcome[i]));
    }
  }
  return out;
}
}  // namespace

Result<UpdateResult> Database::Update(std::string_view db, std::string_view coll,
                                      const UpdateStatement& st) {
  EDDY_ASSIGN_OR_RETURN(std::shared_ptr<PendingUpdate> p, PrepareUpdate(db, coll, st));
  Status s = engine_->Write([&p](storage::Txn& txn) { return ApplyUpdate(*p, txn); }, st.write);
  return FinishUpdate(*p, std::move(s), *engine_);
}

std::vector<Result<UpdateResult>> Database::UpdateBatch(
    std::string_view db, std::string_view coll,
    const std::vector<Result<UpdateStatement>>& statements, bool ordered,
    storage::WriteOptions write) {
  return RunBatch<PendingUpdate, UpdateResult>(
      *engine_, statements, ordered, write,
      [&](const UpdateStatement& st) { return PrepareUpdate(db, coll, st); }, ApplyUpdate,
      [this](PendingUpdate& p, Status s) { return FinishUpdate(p, std::move(s), *engine_); });
}

Status Database::UpdateAsync(std::string_view db, std::string_view coll, const UpdateStatement& st,
                             std::function<void(Result<UpdateResult>)> done) {
  EDDY_ASSIGN_OR_RETURN(std::shared_ptr<PendingUpdate> p, PrepareUpdate(db, coll, st));
  storage::Engine* engine = engine_.get();
  engine_->SubmitWrite([p](storage::Txn& txn) { return ApplyUpdate(*p, txn); },
                       [p, engine, done = std::move(done)](Status s) { done(FinishUpdate(*p, std::move(s), *engine)); },
                       st.write);
  return Status::OK();
}

namespace {
// One delete statement on its way through the engine (shared by Delete and DeleteAsync).
struct PendingDelete {
  std::string db, coll;
  bson::Document filter;
  int64_t limit = 0;
  CompiledFilter cf;
  int64_t deleted = 0;
};

// Runs on the sequencer: finds the targets and deletes them.
Status ApplyDelete(PendingDelete& p, storage::Txn& txn) {
  storage::CollectionPtr c = txn.catalog().Find(p.db, p.coll);
  if (!c) return Status::OK();
  if (IsView(*c)) return NotSupportedOnView(p.db, p.coll);
  std::vector<bson::Document> targets;
  PlanIterator it(&txn, *c, ChoosePlan(*c, p.filter, nullptr, p.cf.collator.get()));
  std::string_view raw;
  while (it.Next(&raw)) {
    EDDY_ASSIGN_OR_RETURN(bson::Document doc, bson::Decode(raw));
    EDDY_ASSIGN_OR_RETURN(bool m, p.cf.matcher.MatchesOrError(doc));
    if (!m) continue;
    targets.push_back(std::move(doc));
    if (p.limit > 0 && static_cast<int64_t>(targets.size()) >= p.limit) break;
  }
  EDDY_RETURN_IF_ERROR(it.status());
  for (const bson::Document& doc : targets) {
    EDDY_RETURN_IF_ERROR(txn.Delete(*c, doc));
    p.deleted++;
  }
  return Status::OK();
}

Result<std::shared_ptr<PendingDelete>> PrepareDelete(std::string_view db, std::string_view coll,
                                                     const bson::Document& filter, int64_t limit,
                                                     const LetAndCollation& options) {
  EDDY_ASSIGN_OR_RETURN(CompiledFilter cf, CompileFilter(filter, options.let, options.collation));
  return std::make_shared<PendingDelete>(
      PendingDelete{std::string(db), std::string(coll), filter, limit, std::move(cf), 0});
}

Result<int64_t> FinishDelete(const PendingDelete& p, Status s) {
  if (!s.ok()) return s;
  return p.deleted;
}
}  // namespace

Result<int64_t> Database::Delete(std::string_view db, std::string_view coll,
                                 const bson::Document& filter, int64_t limit,
                                 const LetAndCollation& options, storage::WriteOptions write) {
  EDDY_ASSIGN_OR_RETURN(std::shared_ptr<PendingDelete> p, PrepareDelete(db, coll, filter, limit, options));
  Status s = engine_->Write([&p](storage::Txn& txn) { return ApplyDelete(*p, txn); }, write);
  return FinishDelete(*p, std::move(s));
}

std::vector<Result<int64_t>> Database::DeleteBatch(
    std::string_view db, std::string_view coll,
    const std::vector<Result<DeleteStatement>>& statements, bool ordered,
    storage::WriteOptions write) {
  return RunBatch<PendingDelete, int64_t>(
      *engine_, statements, ordered, write,
      [&](const DeleteStatement& st) { return PrepareDelete(db, coll, st.filter, st.limit, st.lc); },
      ApplyDelete, [](PendingDelete& p, Status s) { return FinishDelete(p, std::move(s)); });
}

Status Database::DeleteAsync(std::string_view db, std::string_view coll, const bson::Document& filter,
                             int64_t limit, const LetAndCollation& options, storage::WriteOptions write,
                             std::function<void(Result<int64_t>)> done) {
  EDDY_ASSIGN_OR_RETURN(std::shared_ptr<PendingDelete> p, PrepareDelete(db, coll, filter, limit, options));
  engine_->SubmitWrite([p](storage::Txn& txn) { return ApplyDelete(*p, txn); },
                       [p, done = std::move(done)](Status s) { done(FinishDelete(*p, std::move(s))); },
                       write);
  return Status::OK();
}

namespace {
// One findAndModify on its way through the engine (shared by FindAndModify and
// FindAndModifyAsync): compiled before, applied on the sequencer, its result read after.
struct PendingFindAndModify {
  std::string db, coll;
  FindAndModifyRequest req;
  CompiledFilter cf;
  std::optional<SortSpec> sort;
  std::optional<Projection> projection;
  std::optional<query::Update> update;
  FindAndModifyResult result;
};

Result<std::shared_ptr<PendingFindAndModify>> PrepareFindAndModify(std::string_view db,
                                                                   std::string_view coll,
                                                                   const FindAndModifyRequest& req) {
  const bool has_update = req.update.has_value() || req.update_pipeline.has_value();
  if (req.remove == has_update) {
    return Status(ErrorCode::kFailedToParse, "Either an update or remove=true must be specified");
  }
  if (req.remove && (req.upsert || req.return_new)) {
    return Status(ErrorCode::kFailedToParse, "Cannot specify both an update and remove=true");
  }
  auto p = std::make_shared<PendingFindAndModify>();
  p->db = std::string(db);
  p->coll = std::string(coll);
  p->req = req;
  EDDY_ASSIGN_OR_RETURN(p->cf, CompileFilter(req.filter, req.let, req.collation));
  EDDY_RETURN_IF_ERROR(CompileSortAndProjection(req.sort, req.fields, req.filter, &p->sort,
                                                &p->projection, &p->cf));
  if (req.update_pipeline) {
    if (req.array_filters) {
      return Status(ErrorCode::kFailedToParse,
                    "arrayFilters may not be specified for pipeline-style updates");
    }
    EDDY_ASSIGN_OR_RETURN(query::Update u,
                          query::Update::ParsePipeline(*req.update_pipeline, req.let));
    p->update.emplace(std::move(u));
  } else if (req.update) {
    const bson::Array* filters = req.array_filters ? &*req.array_filters : nullptr;
    EDDY_ASSIGN_OR_RETURN(query::Update u, query::Update::Parse(*req.update, filters));
    p->update = std::move(u);
  }
  return p;
}

// Runs on the sequencer: finds the target by filter and sort, then updates, removes or
// upserts it.
Status ApplyFindAndModify(PendingFindAndModify& p, storage::Txn& txn) {
  const FindAndModifyRequest& req = p.req;
  const Matcher& matcher = p.cf.matcher;
  const std::optional<SortSpec>& sort = p.sort;
  const std::optional<Projection>& projection = p.projection;
  std::optional<query::Update>& update = p.update;
  p.result = FindAndModifyResult();
  storage::CollectionPtr c = txn.catalog().Find(p.db, p.coll);
  std::optional<bson::Document> target;
  MatchDetails target_details;
  std::vector<bson::Value> best_key;
  std::optional<CollectionValidator> validator;
  if (c) {
    if (IsView(*c)) return NotSupportedOnView(p.db, p.coll);
    EDDY_ASSIGN_OR_RETURN(validator, CollectionValidator::ForCollection(*c, req.bypass_document_validation));
    PlanIterator it(&txn, *c,
                    ChoosePlan(*c, req.filter, sort ? &*sort : nullptr, p.cf.collator.get()));
    std::string_view raw;
    while (it.Next(&raw)) {
      EDDY_ASSIGN_OR_RETURN(bson::Document doc, bson::Decode(raw));
      MatchDetails details;
      EDDY_ASSIGN_OR_RETURN(bool m, matcher.MatchesOrError(doc, &details));
      if (!m) continue;
      if (!sort || it.plan().provides_sort) {
        target = std::move(doc);
        target_details = details;
        break;
      }
      EDDY_ASSIGN_OR_RETURN(std::vector<bson::Value> key, sort->ExtractSortKey(doc));
      if (!target || sort->CompareKeys(key, best_key) < 0) {
        target = std::move(doc);
        target_details = details;
        best_key = std::move(key);
      }
    }
    EDDY_RETURN_IF_ERROR(it.status());
  }
  auto project = [&](const bson::Document& d) -> Result<bson::Document> {
    if (!projection) return d;
    return projection->Apply(d, target_details.array_index);
  };
  if (target) {
    p.result.n = 1;
    if (req.remove) {
      EDDY_RETURN_IF_ERROR(txn.Delete(*c, *target));
      EDDY_ASSIGN_OR_RETURN(bson::Document v, project(*target));
      p.result.value = std::move(v);
      return Status::OK();
    }
    UpdateContext ctx;
    ctx.now = txn.now();
    ctx.positional_index = target_details.array_index;
    EDDY_ASSIGN_OR_RETURN(UpdateOutcome out, update->Apply(*target, ctx));
    p.result.updated_existing = true;
    if (out.modified) {
      if (validator) EDDY_RETURN_IF_ERROR(validator->Check(&*target, out.document));
      bson::Document ud;
      if (!update->is_replacement()) ud = out.description.ToDocument();
      EDDY_RETURN_IF_ERROR(txn.Update(*c, *target, out.document,
                                      update->is_replacement() ? storage::WriteOp::kReplace
                                                               : storage::WriteOp::kUpdate,
                                      update->is_replacement() ? nullptr : &ud));
    }
    EDDY_ASSIGN_OR_RETURN(bson::Document v, project(req.return_new ? out.document : *target));
    p.result.value = std::move(v);
    return Status::OK();
  }
  if (req.upsert && update) {
    UpdateContext ctx;
    ctx.now = txn.now();
    ctx.is_upsert_insert = true;
    EDDY_ASSIGN_OR_RETURN(bson::Document doc, update->BuildUpsertDocument(req.filter, ctx));
    doc = WithId(std::move(doc));
    EDDY_RETURN_IF_ERROR(ValidateId(*doc.Get("_id")));
    EDDY_ASSIGN_OR_RETURN(c, txn.GetOrCreateCollection(p.db, p.coll));
    if (!validator) {
      EDDY_ASSIGN_OR_RETURN(validator, CollectionValidator::ForCollection(*c, req.bypass_document_validation));
    }
    if (validator) EDDY_RETURN_IF_ERROR(validator->Check(nullptr, doc));
    EDDY_RETURN_IF_ERROR(txn.Insert(*c, doc));
    p.result.n = 1;
    p.result.upserted_id = *doc.Get("_id");
    if (req.return_new) {
      EDDY_ASSIGN_OR_RETURN(bson::Document v, project(doc));
      p.result.value = std::move(v);
    }
  }
  return Status::OK();
}

Result<FindAndModifyResult> FinishFindAndModify(PendingFindAndModify& p, Status s,
                                                storage::Engine& engine) {
  if (!s.ok()) return WithDuplicateKeyInfo(*engine.catalog(), std::move(s));
  return std::move(p.result);
}
}  // namespace

Result<FindAndModifyResult> Database::FindAndModify(std::string_view db, std::string_view coll,
                                                    const FindAndModifyRequest& req) {
  EDDY_ASSIGN_OR_RETURN(std::shared_ptr<PendingFindAndModify> p, PrepareFindAndModify(db, coll, req));
  Status s = engine_->Write([&p](storage::Txn& txn) { return ApplyFindAndModify(*p, txn); },
                            req.write);
  return FinishFindAndModify(*p, std::move(s), *engine_);
}

Status Database::FindAndModifyAsync(std::string_view db, std::string_view coll,
                                    const FindAndModifyRequest& req,
                                    std::function<void(Result<FindAndModifyResult>)> done) {
  EDDY_ASSIGN_OR_RETURN(std::shared_ptr<PendingFindAndModify> p, PrepareFindAndModify(db, coll, req));
  storage::Engine* engine = engine_.get();
  engine_->SubmitWrite(
      [p](storage::Txn& txn) { return ApplyFindAndModify(*p, txn); },
      [p, engine, done = std::move(done)](Status s) { done(FinishFindAndModify(*p, std::move(s), *engine)); },
      req.write);
  return Status::OK();
}

Result<std::unique_ptr<FindCursor>> Database::OpenFind(std::string_view db, std::string_view coll,
                                                       const FindOptions& options) {
  if (options.skip < 0) return Status(ErrorCode::kBadValue, "skip value must be non-negative, but received: " + std::to_string(options.skip));
  if (options.limit < 0) return Status(ErrorCode::kBadValue, "limit value must be non-negative, but received: " + std::to_string(options.limit));
  EDDY_ASSIGN_OR_RETURN(CompiledFilter cf,
                        CompileFilter(options.filter, options.let, options.collation));
  Matcher matcher = std::move(cf.matcher);
  std::optional<SortSpec> sort;
  std::optional<Projection> projection;
  EDDY_RETURN_IF_ERROR(CompileSortAndProjection(options.sort, options.projection, options.filter,
                                                &sort, &projection, &cf));
  std::unique_ptr<storage::ReadView> view = engine_->NewReadView();
  storage::CollectionPtr c = view->catalog().Find(db, coll);
  if (!c) return std::unique_ptr<FindCursor>(new EmptyCursor());
  if (IsView(*c)) return OpenViewFind(db, coll, options);
  Plan plan = ChoosePlan(*c, options.filter, sort ? &*sort : nullptr, cf.collator.get());
  return std::unique_ptr<FindCursor>(new FindCursorImpl(std::move(view), c, std::move(matcher),
                                                        std::move(sort), std::move(projection),
                                                        std::move(plan), options.skip,
                                                        options.limit));
}

Result<std::unique_ptr<FindCursor>> Database::OpenViewFind(std::string_view db,
                                                           std::string_view coll,
                                                           const FindOptions& options) {
  EDDY_ASSIGN_OR_RETURN(std::optional<ResolvedView> view, ResolveView(*engine_->catalog(), db, coll));
  if (!view) return OpenFind(db, coll, options);  // dropped meanwhile
  // A view's collation is the default of reads on it and can not be overridden.
  std::optional<bson::Document> collation = options.collation ? options.collation : view->collation;
  if (options.collation) {
    EDDY_ASSIGN_OR_RETURN(CollatorPtr asked, ParseCollation(*options.collation));
    CollatorPtr own;
    if (view->collation) {
      EDDY_ASSIGN_OR_RETURN(own, ParseCollation(*view->collation));
    }
    bool same = (!asked && !own) ||
                (asked && own && view->collation && bson::Compare(*options.collation, *view->collation) == 0);
    if (!same) return Status(kOptionNotSupportedOnView, "Cannot override a view's default collation");
  }
  bson::Array stages = std::move(view->pipeline);
  if (!options.filter.empty()) stages.push_back(bson::Document{{"$match", options.filter}});
  if (!options.sort.empty()) stages.push_back(bson::Document{{"$sort", options.sort}});
  if (options.skip > 0) stages.push_back(bson::Document{{"$skip", options.skip}});
  if (options.limit > 0) stages.push_back(bson::Document{{"$limit", options.limit}});
  if (!options.projection.empty()) stages.push_back(bson::Document{{"$project", options.projection}});
  AggOptions ao;
  ao.db = std::string(db);
  ao.let = options.let;
  if (collation) {
    EDDY_ASSIGN_OR_RETURN(ao.collator, ParseCollation(*collation));
  }
  EDDY_ASSIGN_OR_RETURN(Pipeline p, Pipeline::Parse(stages, ao));
  FindOptions source_find;
  source_find.filter = p.pushdown().filter;
  source_find.sort = p.pushdown().sort;
  source_find.skip = p.pushdown().skip;
  source_find.limit = p.pushdown().limit;
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<FindCursor> input, OpenFind(db, view->source, source_find));
  auto source = std::make_shared<ViewReadSource>(this, std::string(db));
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<DocStream> out,
                        p.Run(std::make_unique<CursorStream>(std::move(input)), source.get(),
                              /*skip_pushdown=*/true));
  return std::unique_ptr<FindCursor>(new PipelineCursor(std::move(source), std::move(out)));
}

Result<std::vector<bson::Document>> Database::Find(std::string_view db, std::string_view coll,
                                                   const FindOptions& options) {
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<FindCursor> cursor, OpenFind(db, coll, options));
  std::vector<bson::Document> out;
  bson::Document doc;
  while (cursor->Next(&doc)) out.push_back(std::move(doc));
  EDDY_RETURN_IF_ERROR(cursor->status());
  return out;
}

Result<Database::CollectionStats> Database::Stats(std::string_view db, std::string_view coll) {
  std::unique_ptr<storage::ReadView> view = engine_->NewReadView();
  storage::CollectionPtr c = view->catalog().Find(db, coll);
  if (!c) {
    return Status(ErrorCode::kNamespaceNotFound,
                  "Collection [" + std::string(db) + "." + std::string(coll) + "] not found.");
  }
  if (IsView(*c)) {
    return Status(kCommandNotSupportedOnView,
                  "Namespace " + std::string(db) + "." + std::string(coll) + " is a view, not a collection");
  }
  // Kept by every write (storage::CollectionCounts): no scan.
  EDDY_ASSIGN_OR_RETURN(storage::CollectionCounts counts, view->Counts(*c));
  CollectionStats out;
  out.count = counts.documents;
  out.data_bytes = counts.data_bytes;
  // The _id index's entries are the documents' keys.
  const int64_t id_key_bytes = counts.key_bytes;
  storage::Engine::CollectionBytes sizes = engine_->ApproximateCollectionSizes(*c);
  out.storage_bytes = static_cast<int64_t>(sizes.documents);
  for (const storage::IndexInfo& index : c->indexes) {
    if (index.is_id()) {
      out.index_bytes.emplace_back(index.name, id_key_bytes);
      continue;
    }
    int64_t bytes = 0;
    for (const auto& [name, b] : sizes.indexes) {
      if (name == index.name) bytes = static_cast<int64_t>(b);
    }
    out.index_bytes.emplace_back(index.name, bytes);
  }
  return out;
}

Result<int64_t> Database::Count(std::string_view db, std::string_view coll,
                                const bson::Document& filter, int64_t skip, int64_t limit,
                                const LetAndCollation& options) {
  EDDY_ASSIGN_OR_RETURN(CompiledFilter cf, CompileFilter(filter, options.let, options.collation));
  const Matcher& matcher = cf.matcher;
  std::unique_ptr<storage::ReadView> view = engine_->NewReadView();
  storage::CollectionPtr c = view->catalog().Find(db, coll);
  if (!c) return int64_t{0};
  if (IsView(*c)) {
    FindOptions o;
    o.filter = filter;
    o.let = options.let;
    o.collation = options.collation;
    o.skip = skip;
    o.limit = limit;
    EDDY_ASSIGN_OR_RETURN(std::unique_ptr<FindCursor> cursor, OpenFind(db, coll, o));
    int64_t n = 0;
    bson::Document d;
    while (cursor->Next(&d)) ++n;
    EDDY_RETURN_IF_ERROR(cursor->status());
    return n;
  }
  int64_t n = 0;
  bool all = matcher.MatchesAll();
  if (all) {
    // Every document: the count kept with the writes (estimatedDocumentCount, count({})).
    EDDY_ASSIGN_OR_RETURN(storage::CollectionCounts counts, view->Counts(*c));
    n = std::max<int64_t>(0, counts.documents - skip);
    return limit > 0 ? std::min(n, limit) : n;
  }
  PlanIterator it(view.get(), *c, ChoosePlan(*c, filter, nullptr, cf.collator.get()));
  std::string_view raw;
  while (it.Next(&raw)) {
    if (!all) {
      EDDY_ASSIGN_OR_RETURN(bson::Document doc, bson::Decode(raw));
      EDDY_ASSIGN_OR_RETURN(bool m, matcher.MatchesOrError(doc));
      if (!m) continue;
    }
    n++;
  }
  EDDY_RETURN_IF_ERROR(it.status());
  n = std::max<int64_t>(0, n - skip);
  if (limit > 0) n = std::min(n, limit);
  return n;
}

Result<std::vector<bson::Value>> Database::Distinct(std::string_view db, std::string_view coll,
                                                    std::string_view key,
                                                    const bson::Document& filter,
                                                    const LetAndCollation& extra) {
  if (key.empty()) return Status(ErrorCode::kInvalidOptions, "FieldPath cannot be constructed with empty string");
  CollatorPtr collator;
  std::optional<bson::Document> collation = extra.collation;
  if (!collation) {
    // On a view, its collation is the default (OpenFind refuses another one).
    EDDY_ASSIGN_OR_RETURN(std::optional<ResolvedView> view, ResolveView(*engine_->catalog(), db, coll));
    if (view) collation = view->collation;
  }
  if (collation) {
    EDDY_ASSIGN_OR_RETURN(collator, ParseCollation(*collation));
  }
  FindOptions options;
  options.filter = filter;
  options.let = extra.let;
  options.collation = extra.collation;
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<FindCursor> cursor, OpenFind(db, coll, options));
  // Keyed by the collation key (the value itself without a collation); the first value met
  // for a key is the one returned.
  std::map<bson::Value, bson::Value, bson::ValueLess> values;
  bson::Document doc;
  while (cursor->Next(&doc)) {
    std::vector<const bson::Value*> found;
    bool had_array = false;
    storage::CollectPathValues(doc, key, &found, &had_array);
    for (const bson::Value* v : found) values.try_emplace(CollationKeyOf(*v, collator.get()), *v);
  }
  EDDY_RETURN_IF_ERROR(cursor->status());
  std::vector<bson::Value> out;
  out.reserve(values.size());
  for (auto& [k, v] : values) out.push_back(std::move(v));
  return out;
}

}  // namespace eddy::query
