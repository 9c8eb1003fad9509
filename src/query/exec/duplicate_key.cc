#include "query/exec/duplicate_key.h"

#include <string>
#include <string_view>

#include "bson/codec.h"
#include "bson/json.h"

namespace eddy::query {
namespace {

// The end of the shell-syntax value starting at text[pos]: the first top-level ',' or '}'
// outside quotes and brackets (or text.size()).
size_t ValueEnd(std::string_view text, size_t pos) {
  int depth = 0;
  char quote = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    char c = text[i];
    if (quote) {
      if (c == '\\') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '{' || c == '[' || c == '(') {
      ++depth;
    } else if (c == '}' || c == ']' || c == ')') {
      if (depth == 0) return i;
      --depth;
    } else if (c == ',' && depth == 0) {
      return i;
    }
  }
  return text.size();
}

}  // namespace

std::optional<bson::Document> DuplicateKeyInfo(const storage::Catalog& catalog, const Status& s,
                                               const storage::IndexInfo* building) {
  if (s.code() != ErrorCode::kDuplicateKey) return std::nullopt;
  std::string_view msg = s.message();
  constexpr std::string_view kColl = "collection: ", kIndex = " index: ", kKey = " dup key: {";
  size_t c = msg.find(kColl), i = msg.find(kIndex), k = msg.find(kKey);
  if (c == std::string_view::npos || i == std::string_view::npos || k == std::string_view::npos ||
      !(c < i && i < k)) {
    return std::nullopt;
  }
  std::string_view ns = msg.substr(c + kColl.size(), i - c - kColl.size());
  std::string_view index_name = msg.substr(i + kIndex.size(), k - i - kIndex.size());
  const storage::IndexInfo* index = nullptr;
  storage::CollectionPtr coll;  // keeps `index` alive
  if (building != nullptr && building->name == index_name) {
    index = building;
  } else {
    size_t dot = ns.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    coll = catalog.Find(ns.substr(0, dot), ns.substr(dot + 1));
    if (coll) index = coll->FindIndex(index_name);
    if (index == nullptr) return std::nullopt;
  }
  bson::Document key_value;
  size_t pos = k + kKey.size();
  for (const storage::IndexField& f : index->fields) {
    while (pos < msg.size() && (msg[pos] == ' ' || msg[pos] == ',')) ++pos;
    std::string prefix = f.path + ": ";
    if (msg.substr(pos, prefix.size()) != prefix) return std::nullopt;
    pos += prefix.size();
    size_t end = ValueEnd(msg, pos);
    Result<bson::Document> parsed =
        bson::ParseJson("{v: " + std::string(msg.substr(pos, end - pos)) + "}");
    if (!parsed.ok() || parsed->size() != 1) return std::nullopt;
    key_value.Append(f.path, parsed->at(0).value);
    pos = end;
  }
  return bson::Document{{"keyPattern", index->key}, {"keyValue", std::move(key_value)}};
}

Status WithDuplicateKeyInfo(const storage::Catalog& catalog, Status s,
                            const storage::IndexInfo* building) {
  if (s.code() != ErrorCode::kDuplicateKey || s.has_extra_info()) return s;
  std::optional<bson::Document> info = DuplicateKeyInfo(catalog, s, building);
  if (!info) return s;
  return s.WithExtraInfo(bson::Encode(*info));
}

}  // namespace eddy::query
