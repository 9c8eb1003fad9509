// mongod's DuplicateKeyErrorInfo: a DuplicateKey (11000) error carries {keyPattern, keyValue}
// beside code/errmsg, in command replies and in writeErrors entries, and drivers expose them
// (e.g. pymongo's DuplicateKeyError.details, Node's MongoServerError.keyValue).
#pragma once
#include <optional>

#include "base/status.h"
#include "bson/value.h"
#include "storage/catalog.h"

namespace eddy::query {

// {keyPattern, keyValue} of a DuplicateKey status made by the storage engine ("E11000
// duplicate key error collection: <ns> index: <name> dup key: { <path>: <value>, ... }", with
// an optional "Index build failed: " prefix). The key pattern is the index's (found by name in
// `catalog`, or `building` when the failing index is being built and not in the catalog yet);
// each value is read back from the message. nullopt when s is not such a status.
std::optional<bson::Document> DuplicateKeyInfo(const storage::Catalog& catalog, const Status& s,
                                               const storage::IndexInfo* building = nullptr);

// s with DuplicateKeyInfo attached as its extra info (Status::WithExtraInfo); s unchanged when
// it is not a duplicate key or already carries extra info.
Status WithDuplicateKeyInfo(const storage::Catalog& catalog, Status s,
                            const storage::IndexInfo* building = nullptr);

}  // namespace eddy::query
