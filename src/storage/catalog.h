// The catalog: which collections and indexes exist. Catalog objects are immutable snapshots
// shared by readers; the write sequencer publishes a new one after each commit that changes
// it, so a reader's view never changes under it.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bson/value.h"

namespace eddy::storage {

struct IndexField {
  std::string path;  // dotted
  bool descending = false;
};

struct IndexInfo {
  // Persistent id of the index's key range; 0 is the _id index, which is the document
  // key space itself and has no entries of its own.
  uint32_t id = 0;
  std::string name;
  bson::Document key;  // as given: {a: 1, b: -1}
  std::vector<IndexField> fields;
  bool unique = false;
  bool sparse = false;
  // Some document has (had) an array on an indexed path. Set when the first such document
  // is written, never cleared. A multikey index cannot bound one path from both sides.
  bool multikey = false;
  // The spec listIndexes reports: {v: 2, key, name, unique?, sparse?}.
  bson::Document Spec() const;
  bool is_id() const { return id == 0; }
};

struct CollectionInfo {
  std::string db;
  std::string name;
  uint32_t id = 0;  // persistent id of the collection's document key space
  bson::Binary uuid;  // subtype 4, as MongoDB reports in listCollections and change events
  bson::Document options;  // create options as given (e.g. changeStreamPreAndPostImages)
  bool pre_post_images = false;
  std::vector<IndexInfo> indexes;  // indexes[0] is always _id_

  std::string ns() const { return db + "." + name; }
  const IndexInfo* FindIndex(std::string_view index_name) const;
  const IndexInfo* FindIndexByKey(const bson::Document& key) const;
  bson::Document ToDocument() const;  // persistent form
  static bool FromDocument(const bson::Document& doc, CollectionInfo* out);
};

using CollectionPtr = std::shared_ptr<const CollectionInfo>;

class Catalog {
 public:
  CollectionPtr Find(std::string_view db, std::string_view coll) const;
  // All collections of `db`, or of every database when db is empty; sorted by namespace.
  std::vector<CollectionPtr> List(std::string_view db = {}) const;
  std::vector<std::string> Databases() const;
  uint64_t version() const { return version_; }

 private:
  friend class Engine;
  friend class Txn;
  std::map<std::string, CollectionPtr, std::less<>> by_ns_;
  uint64_t version_ = 0;
};

// MongoDB's namespace rules: db names without /\. "$*<>:|? and spaces, < 64 bytes; collection
// names non-empty, no '$' (except system collections), no NUL, not starting with "system."
// unless allowed. Returns InvalidNamespace naming the rule.
bool IsValidDatabaseName(std::string_view db, std::string* why);
bool IsValidCollectionName(std::string_view coll, std::string* why);

}  // namespace eddy::storage
