// Index key extraction with MongoDB's multikey rules.
#pragma once
#include <string>
#include <vector>

#include "base/status.h"
#include "bson/value.h"
#include "storage/catalog.h"

namespace eddy::storage {

// The encoded keys (field key strings concatenated, without index id or _id) that `doc`
// contributes to `index`, de-duplicated. Rules (as mongod):
//   - a missing field indexes as null; an empty array as undefined;
//   - an array along or at the end of a path contributes one key per element (multikey);
//   - a compound index may have at most one array-valued field per document
//     (CannotIndexParallelArrays, 171);
//   - a sparse index skips documents missing every indexed field (returns no keys).
// *multikey (optional) is set when an indexed path held an array.
Result<std::vector<std::string>> ExtractIndexKeys(const IndexInfo& index, const bson::Document& doc,
                                                  bool* multikey = nullptr);

// The values reached by a dotted path, expanding arrays (the leaf array's elements, not the
// array itself). Sets *had_array when any array was expanded. Empty when missing.
void CollectPathValues(const bson::Document& doc, std::string_view path,
                       std::vector<const bson::Value*>* out, bool* had_array);

}  // namespace eddy::storage
