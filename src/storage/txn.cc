// Txn: what a write request can do inside a group commit. Every document write puts the
// document, its index entries and its change-log entry into the group's one WriteBatch.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <chrono>
#include <optional>
#include <random>

#include "bson/codec.h"
#include "bson/json.h"
#include "storage/detail/group.h"
#include "storage/detail/rocksdb_status.h"

#include "storage/engine.h"
#include "storage/index_keys.h"
#include "storage/key_encoding.h"

namespace eddy::storage {

namespace {

// Pending document and index writes after which a request's writes so far go to the
// committer (see Txn::MaybeCut).
constexpr size_t kCutOps = 512;

std::string U64Key(uint64_t v) {
  std::string s;
  AppendBigEndian64(v, &s);
  return s;
}

std::string CatalogKey(std::string_view ns) { return "ns:" + std::string(ns); }

bson::Binary NewUuid() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  bson::Binary b;
  b.subtype = 4;
  b.data.resize(16);
  uint64_t a = rng(), c = rng();
  std::memcpy(b.data.data(), &a, 8);
  std::memcpy(b.data.data() + 8, &c, 8);
  b.data[6] = static_cast<char>((b.data[6] & 0x0F) | 0x40);  // version 4
  b.data[8] = static_cast<char>((b.data[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return b;
}

// A document iterator over the group's batch merged with the database.
class TxnDocIterator : public DocIterator {
 public:
  TxnDocIterator(std::unique_ptr<rocksdb::Iterator> it, std::string prefix, bool reverse)
      : it_(std::move(it)), prefix_(std::move(prefix)), reverse_(reverse) {
    if (reverse_) {
      std::string end = PrefixSuccessor(prefix_);
      if (end.empty()) {
        it_->SeekToLast();
      } else {
        it_->SeekForPrev(end);
        if (it_->Valid() && it_->key().compare(end) >= 0) it_->Prev();
      }
    } else {
      it_->Seek(prefix_);
    }
  }
  bool Valid() const override { return it_->Valid() && it_->key().starts_with(prefix_); }
  void Next() override { reverse_ ? it_->Prev() : it_->Next(); }
  std::string_view raw() const override { return {it_->value().data(), it_->value().size()}; }
  std::string_view id_key() const override {
    return std::string_view(it_->key().data(), it_->key().size()).substr(4);
  }
  Status status() const override { return detail::ToStatus(it_->status()); }

 private:
  std::unique_ptr<rocksdb::Iterator> it_;
  std::string prefix_;
  bool reverse_;
};

std::string DupKeyMessage(const CollectionInfo& coll, const IndexInfo& index,
                          const bson::Document& doc) {
  // E11000 duplicate key error collection: test.c index: a_1 dup key: { a: 1 }
  std::string fields;
  for (const IndexField& f : index.fields) {
    if (!fields.empty()) fields += ", ";
    std::vector<const bson::Value*> vals;
    bool had_array = false;
    CollectPathValues(doc, f.path, &vals, &had_array);
    fields +=
        f.path + ": " + (vals.empty() ? "null" : bson::ToJson(*vals[0], bson::JsonMode::kShell));
  }
  return "E11000 duplicate key error collection: " + coll.ns() + " index: " + index.name +
         " dup key: { " + fields + " }";
}

// Appends a field holding an already-encoded document to an encoded document, so a change-log
// entry embeds the stored bytes instead of copying and re-encoding the document tree.
void AppendRawDocument(std::string* encoded, std::string_view name, std::string_view raw) {
  encoded->pop_back();  // the terminating 0x00
  encoded->push_back(static_cast<char>(bson::Type::kDocument));
  encoded->append(name);
  encoded->push_back('\0');
  encoded->append(raw);
  encoded->push_back('\0');
  uint32_t len = static_cast<uint32_t>(encoded->size());
  for (int i = 0; i < 4; ++i) (*encoded)[i] = static_cast<char>((len >> (8 * i)) & 0xFF);
}

}  // namespace

Txn::Txn(Engine* engine, detail::Overlay* overlay, std::shared_ptr<const Catalog> catalog)
    : engine_(engine), overlay_(overlay), base_catalog_(std::move(catalog)) {}

Catalog& Txn::MutableCatalog() {
  if (!catalog_) catalog_ = std::make_shared<Catalog>(*base_catalog_);
  catalog_changed_ = true;
  return *catalog_;
}

namespace {
int CfOfSlot(int slot) { return slot == detail::kSlotDocs ? kCfDocs : kCfIndex; }
}  // namespace

Result<bool> Txn::Lookup(int slot, std::string_view key, std::string* value) {
  auto s = static_cast<detail::Slot>(slot);
  std::string_view v;
  switch (overlay_->Get(s, key, &v)) {
    case detail::Overlay::Hit::kFound:
      value->assign(v);
      return true;
    case detail::Overlay::Hit::kDeleted:
      return false;
    case detail::Overlay::Hit::kMiss:
      break;
  }
  // Groups handed to the committer but not yet in RocksDB, newest first.
  for (auto it = engine_->unwritten_.rbegin(); it != engine_->unwritten_.rend(); ++it) {
    switch ((*it)->overlay.Get(s, key, &v)) {
      case detail::Overlay::Hit::kFound:
        value->assign(v);
        return true;
      case detail::Overlay::Hit::kDeleted:
        return false;
      case detail::Overlay::Hit::kMiss:
        break;
    }
  }
  rocksdb::Status st = engine_->db_->Get(rocksdb::ReadOptions(), engine_->cfs_[CfOfSlot(slot)],
                                         rocksdb::Slice(key.data(), key.size()), value);
  if (st.IsNotFound()) return false;
  if (!st.ok()) return detail::ToStatus(st);
  return true;
}

std::unique_ptr<rocksdb::Iterator> Txn::NewIterator(int slot) {
  std::vector<detail::Overlay*> layers{overlay_};
  for (auto it = engine_->unwritten_.rbegin(); it != engine_->unwritten_.rend(); ++it) {
    layers.push_back(&(*it)->overlay);
  }
  rocksdb::ColumnFamilyHandle* cf = engine_->cfs_[CfOfSlot(slot)];
  return detail::NewOverlayIterator(
      std::move(layers), static_cast<detail::Slot>(slot),
      std::unique_ptr<rocksdb::Iterator>(engine_->db_->NewIterator(rocksdb::ReadOptions(), cf)));
}

bson::Timestamp Txn::NextTimestamp() {
  auto secs = static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
  bson::Timestamp last = bson::Timestamp::FromUint64(engine_->last_ts_);
  bson::Timestamp next = secs > last.seconds ? bson::Timestamp{secs, 1}
                                             : bson::Timestamp{last.seconds, last.increment + 1};
  engine_->last_ts_ = next.AsUint64();
  last_ts_ = next;
  return next;
}

bson::Document Txn::EventBase(std::string_view op, std::string_view db, std::string_view coll) {
  bson::Document e;
  e.Append("ts", NextTimestamp());
  e.Append("wall", now_);
  e.Append("op", std::string(op));
  e.Append("db", std::string(db));
  if (!coll.empty()) e.Append("coll", std::string(coll));
  return e;
}

Status Txn::PutChangeLog(bson::Document entry) {
  return PutChangeLog(std::move(entry), {}, {}, {});
}

Status Txn::PutChangeLog(bson::Document entry, std::string_view doc_raw, std::string_view pre_raw,
                         const bson::Document* update_description) {
  std::string raw = bson::Encode(entry);
  if (!doc_raw.empty()) AppendRawDocument(&raw, "doc", doc_raw);
  if (!pre_raw.empty()) AppendRawDocument(&raw, "pre", pre_raw);
  if (update_description) AppendRawDocument(&raw, "ud", bson::Encode(*update_description));
  entries_++;
  EDDY_RETURN_IF_ERROR(detail::ToStatus(
      overlay_->batch()->Put(engine_->cfs_[kCfChangeLog], U64Key(last_ts_.AsUint64()), raw)));
  // The group's batch is current_group_'s (CutGroup moves both together).
  engine_->current_group_->log->push_back(ChangeLogEntry{last_ts_, std::move(raw)});
  return Status::OK();
}

uint32_t Txn::AllocateId() { return engine_->next_id_++; }

// --- reads ---

Result<std::optional<bson::Document>> Txn::FindById(const CollectionInfo& coll,
                                                    const bson::Value& id) {
  std::string value;
  EDDY_ASSIGN_OR_RETURN(bool found, Lookup(detail::kSlotDocs, DocKey(coll.id, id), &value));
  if (!found) return std::optional<bson::Document>();
  EDDY_ASSIGN_OR_RETURN(bson::Document doc, bson::Decode(value));
  return std::optional<bson::Document>(std::move(doc));
}

std::unique_ptr<DocIterator> Txn::ScanCollection(const CollectionInfo& coll, bool reverse) {
  std::string prefix;
  AppendBigEndian32(coll.id, &prefix);
  return std::make_unique<TxnDocIterator>(NewIterator(detail::kSlotDocs), prefix, reverse);
}

std::unique_ptr<DocIterator> Txn::ScanIndex(const CollectionInfo& coll, const IndexInfo& index,
                                            const IndexRange& range) {
  std::string start, end;
  IndexScanBounds(index, range, &start, &end);
  return NewIndexDocIterator(NewIterator(detail::kSlotIndex), start, end, range.reverse, coll.id,
                             [this](const std::string& key, std::string* value) {
                               Result<bool> found = Lookup(detail::kSlotDocs, key, value);
                               return found.ok() && *found;
                             });
}

// --- catalog ---

std::shared_ptr<CollectionInfo> Txn::MutableCollection(const CollectionInfo& coll) {
  auto copy = std::make_shared<CollectionInfo>(coll);
  MutableCatalog().by_ns_[coll.ns()] = copy;
  return copy;
}

Status Txn::Persist(const CollectionInfo& coll) {
  return detail::ToStatus(overlay_->batch()->Put(engine_->cfs_[kCfCatalog], CatalogKey(coll.ns()),
                                                 bson::Encode(coll.ToDocument())));
}

Result<CollectionPtr> Txn::CreateCollection(std::string_view db, std::string_view coll,
                                            const bson::Document& options) {
  std::string why;
  if (!IsValidDatabaseName(db, &why)) return Status(ErrorCode::kInvalidNamespace, why);
  if (!IsValidCollectionName(coll, &why)) return Status(ErrorCode::kInvalidNamespace, why);
  if (catalog().Find(db, coll)) {
    return Status(ErrorCode::kNamespaceExists,
                  "Collection " + std::string(db) + "." + std::string(coll) + " already exists.");
  }
  auto info = std::make_shared<CollectionInfo>();
  info->db = std::string(db);
  info->name = std::string(coll);
  info->id = AllocateId();
  info->uuid = NewUuid();
  info->options = options;
  if (const bson::Value* ppi = options.Get("changeStreamPreAndPostImages")) {
    if (ppi->is_document()) {
      if (const bson::Value* en = ppi->as_document().Get("enabled")) {
        info->pre_post_images = en->Truthy();
      }
    }
  }
  IndexInfo id_index;
  id_index.id = 0;
  id_index.name = "_id_";
  id_index.key.Append("_id", int32_t{1});
  id_index.fields.push_back(IndexField{"_id", false});
  id_index.unique = true;
  info->indexes.push_back(std::move(id_index));
  MutableCatalog().by_ns_[info->ns()] = info;
  EDDY_RETURN_IF_ERROR(Persist(*info));
  bson::Document e = EventBase("create", db, coll);
  e.Append("ui", info->uuid);
  e.Append("o", options);
  EDDY_RETURN_IF_ERROR(PutChangeLog(std::move(e)));
  return CollectionPtr(info);
}

Result<CollectionPtr> Txn::GetOrCreateCollection(std::string_view db, std::string_view coll) {
  if (CollectionPtr c = catalog().Find(db, coll)) return c;
  return CreateCollection(db, coll, bson::Document());
}

Status Txn::DropCollection(std::string_view db, std::string_view coll) {
  CollectionPtr info = catalog().Find(db, coll);
  if (!info) {
    return Status(ErrorCode::kNamespaceNotFound,
                  "ns not found: " + std::string(db) + "." + std::string(coll));
  }
  MutableCatalog().by_ns_.erase(info->ns());
  EDDY_RETURN_IF_ERROR(detail::ToStatus(
      overlay_->batch()->Delete(engine_->cfs_[kCfCatalog], CatalogKey(info->ns()))));
  // The key spaces are deleted after commit (a range delete cannot go through the indexed
  // batch); nothing can read them meanwhile because the catalog no longer names them.
  dropped_ids_.push_back(info->id);
  for (const IndexInfo& i : info->indexes) {
    if (!i.is_id()) dropped_ids_.push_back(i.id);
  }
  bson::Document e = EventBase("drop", db, coll);
  e.Append("ui", info->uuid);
  return PutChangeLog(std::move(e));
}

Status Txn::RenameCollection(std::string_view db, std::string_view from, std::string_view to_db,
                             std::string_view to, bool drop_target) {
  CollectionPtr info = catalog().Find(db, from);
  if (!info) {
    return Status(ErrorCode::kNamespaceNotFound, "Source collection " + std::string(db) + "." +
                                                     std::string(from) + " does not exist");
  }
  std::string why;
  if (!IsValidDatabaseName(to_db, &why) || !IsValidCollectionName(to, &why)) {
    return Status(ErrorCode::kInvalidNamespace, why);
  }
  if (db == to_db && from == to) {
    return Status(ErrorCode::kIllegalOperation, "Can't rename a collection to itself");
  }
  std::optional<bson::Value> dropped_target_uuid;
  if (CollectionPtr target = catalog().Find(to_db, to)) {
    if (!drop_target) {
      return Status(ErrorCode::kNamespaceExists, "target namespace exists");
    }
    dropped_target_uuid = target->uuid;
    EDDY_RETURN_IF_ERROR(DropCollection(to_db, to));
  }
  auto moved = std::make_shared<CollectionInfo>(*info);
  moved->db = std::string(to_db);
  moved->name = std::string(to);
  MutableCatalog().by_ns_.erase(info->ns());
  MutableCatalog().by_ns_[moved->ns()] = moved;
  EDDY_RETURN_IF_ERROR(detail::ToStatus(
      overlay_->batch()->Delete(engine_->cfs_[kCfCatalog], CatalogKey(info->ns()))));
  EDDY_RETURN_IF_ERROR(Persist(*moved));
  bson::Document e = EventBase("rename", db, from);
  e.Append("ui", info->uuid);
  e.Append("to", bson::Document{{"db", std::string(to_db)}, {"coll", std::string(to)}});
  // The replaced collection's UUID: change events report it (operationDescription.dropTarget).
  if (dropped_target_uuid) e.Append("dropTarget", *dropped_target_uuid);
  return PutChangeLog(std::move(e));
}

Status Txn::DropDatabase(std::string_view db) {
  std::vector<CollectionPtr> colls = catalog().List(db);
  for (const CollectionPtr& c : colls) EDDY_RETURN_IF_ERROR(DropCollection(c->db, c->name));
  return PutChangeLog(EventBase("dropDatabase", db, ""));
}

Status Txn::ModifyCollection(std::string_view db, std::string_view coll,
                             const bson::Document& changes) {
  CollectionPtr info = catalog().Find(db, coll);
  if (!info) {
    return Status(ErrorCode::kNamespaceNotFound,
                  "ns does not exist: " + std::string(db) + "." + std::string(coll));
  }
  auto m = MutableCollection(*info);
  for (const bson::Field& f : changes) {
    m->options.Set(f.name, f.value);
    if (f.name == "changeStreamPreAndPostImages" && f.value.is_document()) {
      const bson::Value* en = f.value.as_document().Get("enabled");
      m->pre_post_images = en && en->Truthy();
    }
  }
  EDDY_RETURN_IF_ERROR(Persist(*m));
  bson::Document e = EventBase("modify", db, coll);
  e.Append("ui", m->uuid);
  e.Append("o", changes);
  return PutChangeLog(std::move(e));
}

Result<CollectionPtr> Txn::CreateIndex(std::string_view db, std::string_view coll,
                                       IndexInfo index) {
  EDDY_ASSIGN_OR_RETURN(CollectionPtr info, GetOrCreateCollection(db, coll));
  index.id = AllocateId();
  building_multikey_ = false;
  // Build the entries first, under a savepoint, so a unique violation changes nothing.
  SetSavePoint();
  std::unique_ptr<DocIterator> it = ScanCollection(*info, false);
  for (; it->Valid(); it->Next()) {
    Result<bson::Document> doc = it->Decode();
    if (!doc.ok()) {
      RollbackToSavePoint();
      return doc.status();
    }
    Status s = WriteIndexEntries(*info, index, *doc, std::string(it->id_key()), false);
    if (!s.ok()) {
      RollbackToSavePoint();
      if (s.code() == ErrorCode::kDuplicateKey) {
        return Status(ErrorCode::kDuplicateKey, "Index build failed: " + std::string(s.message()));
      }
      return s;
    }
  }
  if (Status s = it->status(); !s.ok()) {
    RollbackToSavePoint();
    return s;
  }
  PopSavePoint();
  index.multikey = building_multikey_;
  building_multikey_ = false;
  auto m = MutableCollection(*info);
  m->indexes.push_back(index);
  EDDY_RETURN_IF_ERROR(Persist(*m));
  bson::Document e = EventBase("createIndexes", db, coll);
  e.Append("ui", m->uuid);
  e.Append("o", index.Spec());
  EDDY_RETURN_IF_ERROR(PutChangeLog(std::move(e)));
  return CollectionPtr(m);
}

Status Txn::DropIndex(std::string_view db, std::string_view coll, std::string_view name) {
  CollectionPtr info = catalog().Find(db, coll);
  if (!info) {
    return Status(ErrorCode::kNamespaceNotFound,
                  "ns not found " + std::string(db) + "." + std::string(coll));
  }
  const IndexInfo* index = info->FindIndex(name);
  if (!index) {
    return Status(ErrorCode::kIndexNotFound,
                  "index not found with name [" + std::string(name) + "]");
  }
  if (index->is_id()) {
    return Status(ErrorCode::kInvalidOptions, "cannot drop _id index");
  }
  bson::Document spec = index->Spec();
  dropped_ids_.push_back(index->id);
  auto m = MutableCollection(*info);
  std::erase_if(m->indexes, [&](const IndexInfo& i) { return i.name == name; });
  EDDY_RETURN_IF_ERROR(Persist(*m));
  bson::Document e = EventBase("dropIndexes", db, coll);
  e.Append("ui", m->uuid);
  e.Append("o", std::move(spec));
  return PutChangeLog(std::move(e));
}

// --- documents ---

Status Txn::CheckUnique(const CollectionInfo& coll, const IndexInfo& index, const std::string& key,
                        const std::string& id_key, const bson::Document& doc) {
  std::string existing;
  EDDY_ASSIGN_OR_RETURN(bool found, Lookup(detail::kSlotIndex, key, &existing));
  if (!found || existing == id_key) return Status::OK();
  return Status(ErrorCode::kDuplicateKey, DupKeyMessage(coll, index, doc));
}

void Txn::MarkMultikey(const CollectionInfo& coll, const IndexInfo& index) {
  // The index being built is not in the catalog yet; CreateIndex copies the flag.
  building_multikey_ = true;
  CollectionPtr current = catalog().Find(coll.db, coll.name);
  if (!current) return;
  const IndexInfo* cur = current->FindIndex(index.name);
  if (!cur || cur->multikey || cur->id != index.id) return;
  auto m = MutableCollection(*current);
  for (IndexInfo& i : m->indexes) {
    if (i.id == index.id) i.multikey = true;
  }
  (void)Persist(*m);
}

Status Txn::WriteIndexEntries(const CollectionInfo& coll, const IndexInfo& index,
                              const bson::Document& doc, const std::string& id_key, bool remove) {
  bool multikey = false;
  EDDY_ASSIGN_OR_RETURN(std::vector<std::string> keys, ExtractIndexKeys(index, doc, &multikey));
  if (multikey && !remove && !index.multikey) MarkMultikey(coll, index);
  rocksdb::ColumnFamilyHandle* cf = engine_->cfs_[kCfIndex];
  std::string full;
  for (const std::string& k : keys) {
    full.clear();
    AppendBigEndian32(index.id, &full);
    full.append(k);
    if (!index.unique) full.append(id_key);
    if (remove) {
      EDDY_RETURN_IF_ERROR(detail::ToStatus(overlay_->Delete(cf, detail::kSlotIndex, full)));
    } else {
      if (index.unique) EDDY_RETURN_IF_ERROR(CheckUnique(coll, index, full, id_key, doc));
      EDDY_RETURN_IF_ERROR(detail::ToStatus(overlay_->Put(cf, detail::kSlotIndex, full, id_key)));
    }
  }
  return Status::OK();
}

Status Txn::Insert(const CollectionInfo& coll, const bson::Document& doc) {
  const bson::Value* id = doc.Get("_id");
  if (!id) return Status(ErrorCode::kInternalError, "insert without _id");
  std::string raw = bson::Encode(doc);
  if (raw.size() > static_cast<size_t>(bson::kMaxUserSize)) {
    return Status(ErrorCode::kBSONObjectTooLarge,
                  "object to insert too large. size in bytes: " + std::to_string(raw.size()) +
                      ", max size: " + std::to_string(bson::kMaxUserSize));
  }
  std::string id_key = KeyString(*id);
  std::string key;
  AppendBigEndian32(coll.id, &key);
  key.append(id_key);
  std::string existing;
  EDDY_ASSIGN_OR_RETURN(bool exists, Lookup(detail::kSlotDocs, key, &existing));
  if (exists) {
    return Status(ErrorCode::kDuplicateKey, "E11000 duplicate key error collection: " + coll.ns() +
                                                " index: _id_ dup key: { _id: " +
                                                bson::ToJson(*id, bson::JsonMode::kShell) + " }");
  }
  SetSavePoint();
  Status s = [&]() -> Status {
    for (const IndexInfo& index : coll.indexes) {
      if (!index.is_id()) EDDY_RETURN_IF_ERROR(WriteIndexEntries(coll, index, doc, id_key, false));
    }
    EDDY_RETURN_IF_ERROR(
        detail::ToStatus(overlay_->Put(engine_->cfs_[kCfDocs], detail::kSlotDocs, key, raw)));
    bson::Document e = EventBase("insert", coll.db, coll.name);
    e.Append("ui", coll.uuid);
    e.Append("dk", bson::Document{{"_id", *id}});
    return PutChangeLog(std::move(e), raw, {}, nullptr);
  }();
  if (!s.ok()) {
    RollbackToSavePoint();
    return s;
  }
  PopSavePoint();
  AddCounts(coll.id, {1, static_cast<int64_t>(raw.size()), static_cast<int64_t>(key.size())});
  MaybeCut();
  return Status::OK();
}

namespace {

// The components of a dotted update path as mongod reports them in
// updateDescription.disambiguatedPaths: array indexes as ints, field names as strings (the
// dotted string cannot tell "a.0" into an array from a field named "0"). Sets *numeric when
// a component is all digits (only such paths are ambiguous).
bson::Array PathComponents(const bson::Document& root, std::string_view path, bool* numeric) {
  bson::Array out;
  const bson::Value* cur = nullptr;
  const bson::Document* doc = &root;
  size_t start = 0;
  for (;;) {
    size_t dot = path.find('.', start);
    std::string_view part = path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    bool digits = !part.empty() && part.find_first_not_of("0123456789") == std::string_view::npos;
    *numeric = *numeric || digits;
    if (cur && cur->is_array() && digits && part.size() < 10) {
      size_t i = std::stoul(std::string(part));
      out.push_back(bson::Value(static_cast<int32_t>(i)));
      const bson::Array& a = cur->as_array();
      cur = i < a.size() ? &a[i] : nullptr;
    } else {
      out.push_back(bson::Value(std::string(part)));
      cur = doc ? doc->Get(part) : nullptr;
    }
    doc = cur && cur->is_document() ? &cur->as_document() : nullptr;
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

// updateDescription plus disambiguatedPaths for its paths with numeric components, or
// nullopt when there are none.
std::optional<bson::Document> WithDisambiguatedPaths(const bson::Document& ud,
                                                     const bson::Document& before,
                                                     const bson::Document& after) {
  bson::Document paths;
  auto add = [&](const std::string& path, const bson::Document& root) {
    bool numeric = false;
    bson::Array parts = PathComponents(root, path, &numeric);
    if (numeric && !paths.Has(path)) paths.Append(path, std::move(parts));
  };
  if (const bson::Value* u = ud.Get("updatedFields"); u && u->is_document()) {
    for (const bson::Field& f : u->as_document()) add(f.name, after);
  }
  if (const bson::Value* r = ud.Get("removedFields"); r && r->is_array()) {
    for (const bson::Value& p : r->as_array()) {
      if (p.is_string()) add(p.as_string(), before);
    }
  }
  if (const bson::Value* t = ud.Get("truncatedArrays"); t && t->is_array()) {
    for (const bson::Value& a : t->as_array()) {
      const bson::Value* f = a.is_document() ? a.as_document().Get("field") : nullptr;
      if (f && f->is_string()) add(f->as_string(), after);
    }
  }
  if (paths.empty()) return std::nullopt;
  bson::Document out = ud;
  out.Append("disambiguatedPaths", std::move(paths));
  return out;
}

}  // namespace

Status Txn::Update(const CollectionInfo& coll, const bson::Document& before,
                   const bson::Document& after, WriteOp op,
                   const bson::Document* update_description) {
  const bson::Value* id = before.Get("_id");
  if (!id) return Status(ErrorCode::kInternalError, "update without _id");
  std::string raw = bson::Encode(after);
  if (raw.size() > static_cast<size_t>(bson::kMaxUserSize)) {
    return Status(
        ErrorCode::kBSONObjectTooLarge,
        "Resulting document after update is larger than " + std::to_string(bson::kMaxUserSize));
  }
  std::string id_key = KeyString(*id);
  std::string key;
  AppendBigEndian32(coll.id, &key);
  key.append(id_key);
  SetSavePoint();
  Status s = [&]() -> Status {
    for (const IndexInfo& index : coll.indexes) {
      if (index.is_id()) continue;
      EDDY_ASSIGN_OR_RETURN(std::vector<std::string> old_keys, ExtractIndexKeys(index, before));
      EDDY_ASSIGN_OR_RETURN(std::vector<std::string> new_keys, ExtractIndexKeys(index, after));
      if (old_keys == new_keys) continue;  // the common case: unindexed fields changed
      EDDY_RETURN_IF_ERROR(WriteIndexEntries(coll, index, before, id_key, true));
      EDDY_RETURN_IF_ERROR(WriteIndexEntries(coll, index, after, id_key, false));
    }
    EDDY_RETURN_IF_ERROR(
        detail::ToStatus(overlay_->Put(engine_->cfs_[kCfDocs], detail::kSlotDocs, key, raw)));
    bson::Document e =
        EventBase(op == WriteOp::kReplace ? "replace" : "update", coll.db, coll.name);
    e.Append("ui", coll.uuid);
    e.Append("dk", bson::Document{{"_id", *id}});
    std::string pre_raw = coll.pre_post_images ? bson::Encode(before) : std::string();
    bool with_doc = op == WriteOp::kReplace || coll.pre_post_images;
    std::optional<bson::Document> disambiguated;
    if (op != WriteOp::kReplace && update_description) {
      disambiguated = WithDisambiguatedPaths(*update_description, before, after);
    }
    return PutChangeLog(std::move(e), with_doc ? std::string_view(raw) : std::string_view(),
                        pre_raw,
                        op == WriteOp::kReplace ? nullptr
                        : disambiguated         ? &*disambiguated
                                                : update_description);
  }();
  if (!s.ok()) {
    RollbackToSavePoint();
    return s;
  }
  PopSavePoint();
  AddCounts(coll.id,
            {0, static_cast<int64_t>(raw.size()) - static_cast<int64_t>(bson::EncodedSize(before)), 0});
  MaybeCut();
  return Status::OK();
}

Status Txn::Delete(const CollectionInfo& coll, const bson::Document& before) {
  const bson::Value* id = before.Get("_id");
  if (!id) return Status(ErrorCode::kInternalError, "delete without _id");
  std::string id_key = KeyString(*id);
  std::string key;
  AppendBigEndian32(coll.id, &key);
  key.append(id_key);
  SetSavePoint();
  Status s = [&]() -> Status {
    for (const IndexInfo& index : coll.indexes) {
      if (!index.is_id())
        EDDY_RETURN_IF_ERROR(WriteIndexEntries(coll, index, before, id_key, true));
    }
    EDDY_RETURN_IF_ERROR(
        detail::ToStatus(overlay_->Delete(engine_->cfs_[kCfDocs], detail::kSlotDocs, key)));
    bson::Document e = EventBase("delete", coll.db, coll.name);
    e.Append("ui", coll.uuid);
    e.Append("dk", bson::Document{{"_id", *id}});
    std::string pre_raw = coll.pre_post_images ? bson::Encode(before) : std::string();
    return PutChangeLog(std::move(e), {}, pre_raw, nullptr);
  }();
  if (!s.ok()) {
    RollbackToSavePoint();
    return s;
  }
  PopSavePoint();
  AddCounts(coll.id, {-1, -static_cast<int64_t>(bson::EncodedSize(before)),
                     -static_cast<int64_t>(key.size())});
  MaybeCut();
  return Status::OK();
}

void Txn::AddCounts(uint32_t coll_id, const CollectionCounts& delta) {
  // Consecutive writes to one collection (a batch) share one delta, unless it was recorded
  // before the innermost savepoint (a rollback to it drops whole deltas).
  if (!counts_deltas_.empty() && counts_deltas_.back().coll_id == coll_id &&
      (savepoint_counts_.empty() || savepoint_counts_.back() < counts_deltas_.size())) {
    CollectionCounts& d = counts_deltas_.back().delta;
    d.documents += delta.documents;
    d.data_bytes += delta.data_bytes;
    d.key_bytes += delta.key_bytes;
    return;
  }
  counts_deltas_.push_back(CountsDelta{coll_id, delta});
}

void Txn::MaybeCut() {
  // A cut never splits a savepoint: only whole operations go to the committer early.
  if (savepoint_dropped_.empty() && overlay_->size() >= kCutOps) engine_->CutGroup(*this);
}

void Txn::SetSavePoint() {
  overlay_->SetSavePoint();
  savepoint_dropped_.push_back(static_cast<uint32_t>(dropped_ids_.size()));
  savepoint_counts_.push_back(static_cast<uint32_t>(counts_deltas_.size()));
}

void Txn::RollbackToSavePoint() {
  overlay_->RollbackToSavePoint();
  dropped_ids_.resize(savepoint_dropped_.back());
  savepoint_dropped_.pop_back();
  counts_deltas_.resize(savepoint_counts_.back());
  savepoint_counts_.pop_back();
}

void Txn::PopSavePoint() {
  overlay_->PopSavePoint();
  savepoint_dropped_.pop_back();
  savepoint_counts_.pop_back();
}

}  // namespace eddy::storage
