#include "storage/catalog.h"

#include <set>

#include "bson/compare.h"

namespace eddy::storage {

bson::Document IndexInfo::Spec() const {
  bson::Document spec;
  spec.Append("v", int32_t{2});
  spec.Append("key", key);
  spec.Append("name", name);
  if (unique) spec.Append("unique", true);
  if (sparse) spec.Append("sparse", true);
  return spec;
}

const IndexInfo* CollectionInfo::FindIndex(std::string_view index_name) const {
  for (const IndexInfo& i : indexes) {
    if (i.name == index_name) return &i;
  }
  return nullptr;
}

const IndexInfo* CollectionInfo::FindIndexByKey(const bson::Document& key) const {
  for (const IndexInfo& i : indexes) {
    if (bson::Compare(i.key, key) == 0 && i.key.size() == key.size()) return &i;
  }
  return nullptr;
}

bson::Document CollectionInfo::ToDocument() const {
  bson::Document d;
  d.Append("db", db);
  d.Append("name", name);
  d.Append("id", static_cast<int64_t>(id));
  d.Append("uuid", uuid);
  d.Append("options", options);
  d.Append("prePostImages", pre_post_images);
  bson::Array idx;
  for (const IndexInfo& i : indexes) {
    bson::Document x;
    x.Append("id", static_cast<int64_t>(i.id));
    x.Append("name", i.name);
    x.Append("key", i.key);
    x.Append("unique", i.unique);
    x.Append("sparse", i.sparse);
    x.Append("multikey", i.multikey);
    idx.push_back(std::move(x));
  }
  d.Append("indexes", std::move(idx));
  return d;
}

bool CollectionInfo::FromDocument(const bson::Document& d, CollectionInfo* out) {
  const bson::Value* db = d.Get("db");
  const bson::Value* name = d.Get("name");
  const bson::Value* id = d.Get("id");
  const bson::Value* uuid = d.Get("uuid");
  const bson::Value* options = d.Get("options");
  const bson::Value* ppi = d.Get("prePostImages");
  const bson::Value* idx = d.Get("indexes");
  if (!db || !db->is_string() || !name || !name->is_string() || !id || !id->is_number() ||
      !uuid || uuid->type() != bson::Type::kBinary || !options || !options->is_document() ||
      !ppi || !ppi->is_bool() || !idx || !idx->is_array()) {
    return false;
  }
  out->db = db->as_string();
  out->name = name->as_string();
  out->id = static_cast<uint32_t>(id->ToInt64());
  out->uuid = uuid->as_binary();
  out->options = options->as_document();
  out->pre_post_images = ppi->as_bool();
  out->indexes.clear();
  for (const bson::Value& v : idx->as_array()) {
    if (!v.is_document()) return false;
    const bson::Document& x = v.as_document();
    IndexInfo info;
    const bson::Value* iid = x.Get("id");
    const bson::Value* iname = x.Get("name");
    const bson::Value* key = x.Get("key");
    if (!iid || !iname || !key || !key->is_document() || !iname->is_string()) return false;
    info.id = static_cast<uint32_t>(iid->ToInt64());
    info.name = iname->as_string();
    info.key = key->as_document();
    if (const bson::Value* u = x.Get("unique")) info.unique = u->Truthy();
    if (const bson::Value* s = x.Get("sparse")) info.sparse = s->Truthy();
    if (const bson::Value* m = x.Get("multikey")) info.multikey = m->Truthy();
    for (const bson::Field& f : info.key) {
      info.fields.push_back(IndexField{f.name, f.value.is_number() && f.value.ToDouble() < 0});
    }
    out->indexes.push_back(std::move(info));
  }
  return true;
}

CollectionPtr Catalog::Find(std::string_view db, std::string_view coll) const {
  std::string ns;
  ns.reserve(db.size() + coll.size() + 1);
  ns.append(db).append(".").append(coll);
  auto it = by_ns_.find(ns);
  return it == by_ns_.end() ? nullptr : it->second;
}

std::vector<CollectionPtr> Catalog::List(std::string_view db) const {
  std::vector<CollectionPtr> out;
  for (const auto& [ns, c] : by_ns_) {
    if (db.empty() || c->db == db) out.push_back(c);
  }
  return out;
}

std::vector<std::string> Catalog::Databases() const {
  std::set<std::string> dbs;
  for (const auto& [ns, c] : by_ns_) dbs.insert(c->db);
  return {dbs.begin(), dbs.end()};
}

bool IsValidDatabaseName(std::string_view db, std::string* why) {
  if (db.empty()) {
    *why = "Database name cannot be empty";
    return false;
  }
  if (db.size() >= 64) {
    *why = "db name is too long: '" + std::string(db) + "'";
    return false;
  }
  for (char c : db) {
    if (std::string_view("/\\. \"$*<>:|?").find(c) != std::string_view::npos || c == '\0') {
      *why = "Invalid database name: '" + std::string(db) + "'";
      return false;
    }
  }
  return true;
}

bool IsValidCollectionName(std::string_view coll, std::string* why) {
  if (coll.empty()) {
    *why = "Invalid namespace specified: collection name cannot be empty";
    return false;
  }
  if (coll.find('\0') != std::string_view::npos) {
    *why = "Invalid collection name: collection names cannot contain a null character";
    return false;
  }
  if (coll.find('$') != std::string_view::npos) {
    *why = "Invalid collection name: '" + std::string(coll) + "' contains '$'";
    return false;
  }
  if (coll.front() == '.' || coll.back() == '.') {
    *why = "Invalid collection name: '" + std::string(coll) + "'";
    return false;
  }
  return true;
}

}  // namespace eddy::storage
