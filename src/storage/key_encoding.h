// Order-preserving encoding of BSON values into bytes ("key strings"), so RocksDB's bytewise
// order equals MongoDB's BSON comparison order (bson/compare.h). Used for document keys
// (_id) and secondary index keys. Persistent format: see docs/formats/storage_layout.md.
//
// Each encoded value is prefix-free (self-delimiting), so values can be concatenated for
// compound keys, and complementing every byte of one value reverses its order (descending
// index fields).
//
// Known divergence: decimal128 values are ordered by their nearest double, so two decimals
// that differ only beyond double precision share a key prefix; index scans re-check every
// document with the full matcher, so results stay exact.
#pragma once
#include <string>
#include <string_view>

#include "bson/value.h"

namespace eddy::storage {

// Appends the key string of `v`. With descending, every appended byte is complemented.
void AppendKeyString(const bson::Value& v, bool descending, std::string* out);
std::string KeyString(const bson::Value& v);

// Appends a fixed-width big-endian integer (keys of ids and timestamps sort numerically).
void AppendBigEndian32(uint32_t v, std::string* out);
void AppendBigEndian64(uint64_t v, std::string* out);
uint32_t ReadBigEndian32(std::string_view in);
uint64_t ReadBigEndian64(std::string_view in);

// The smallest byte string greater than every string starting with `prefix` (for upper
// bounds of prefix scans); empty if none exists (prefix of all 0xFF).
std::string PrefixSuccessor(std::string_view prefix);

}  // namespace eddy::storage
