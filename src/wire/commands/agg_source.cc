// The AggSource behind aggregate's $lookup/$out/$merge: reads and writes through
// query::Database, so every write goes through the engine's sequencer and change log.
#include "wire/commands/agg_source.h"

#include <unistd.h>

#include <atomic>

#include "query/collation/collator.h"
#include "query/exec/views.h"
#include "storage/catalog.h"

namespace eddy::wire {
namespace {

class DatabaseSource : public query::AggSource {
 public:
  DatabaseSource(query::Database* db, std::string db_name, bool bypass)
      : db_(db), db_name_(std::move(db_name)), bypass_(bypass) {}

  Result<std::vector<bson::Document>> ReadCollection(std::string_view coll,
                                                     const bson::Document& filter) override {
    EDDY_ASSIGN_OR_RETURN(std::optional<query::ResolvedView> view,
                          query::ResolveView(*db_->engine().catalog(), db_name_, coll));
    if (view) {
      // $lookup/$unionWith from a view read the view's pipeline over its source.
      bson::Array stages = std::move(view->pipeline);
      if (!filter.empty()) stages.push_back(bson::Document{{"$match", filter}});
      query::AggOptions ao;
      ao.db = db_name_;
      if (view->collation) {
        EDDY_ASSIGN_OR_RETURN(ao.collator, query::ParseCollation(*view->collation));
      }
      EDDY_ASSIGN_OR_RETURN(query::Pipeline p, query::Pipeline::Parse(stages, ao));
      EDDY_ASSIGN_OR_RETURN(std::vector<bson::Document> input, db_->Find(db_name_, view->source, {}));
      EDDY_ASSIGN_OR_RETURN(std::unique_ptr<query::DocStream> out,
                            p.Run(query::MakeVectorStream(std::move(input)), this));
      return query::DrainStream(*out);
    }
    query::FindOptions o;
    o.filter = filter;
    return db_->Find(db_name_, coll, o);
  }

  // $out/$merge never write into a view.
  Status RefuseView(std::string_view db, std::string_view coll) {
    storage::CollectionPtr c = db_->engine().catalog()->Find(db, coll);
    if (c && query::IsView(*c)) return query::NotSupportedOnView(db, coll);
    return Status::OK();
  }

  Status ReplaceCollection(std::string_view db, std::string_view coll,
                           std::vector<bson::Document> docs) override {
    EDDY_RETURN_IF_ERROR(RefuseView(db, coll));
    // Write a temporary collection, then rename it over the target: readers see the old or
    // the new contents, never a mix (as $out does).
    static std::atomic<uint64_t> counter{0};
    std::string tmp = "tmp.agg_out." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    // The new contents keep the target's options (validator, changeStreamPreAndPostImages...)
    // and are checked against its validator, as mongod's $out does.
    storage::CollectionPtr target = db_->engine().catalog()->Find(db, coll);
    EDDY_RETURN_IF_ERROR(db_->CreateCollection(db, tmp, target ? target->options : bson::Document()));
    query::InsertResult r = db_->Insert(db, tmp, std::move(docs), true, {}, bypass_);
    if (!r.errors.empty()) {
      (void)db_->DropCollection(db, tmp);
      return r.errors[0].status;
    }
    // Keep the target's indexes.
    if (target) {
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
    EDDY_RETURN_IF_ERROR(RefuseView(db, coll));
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
        query::InsertResult r = db_->Insert(db, coll, {doc}, true, {}, bypass_);
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
      query::UpdateStatement st{by_id, replacement};
      st.bypass_document_validation = bypass_;
      EDDY_RETURN_IF_ERROR(db_->Update(db, coll, st).status());
    }
    return Status::OK();
  }

 private:
  query::Database* db_;
  std::string db_name_;
  bool bypass_;  // bypassDocumentValidation
};

}  // namespace

std::shared_ptr<query::AggSource> MakeDatabaseSource(query::Database* db, std::string db_name,
                                                     bool bypass_document_validation) {
  return std::make_shared<DatabaseSource>(db, std::move(db_name), bypass_document_validation);
}

}  // namespace eddy::wire
