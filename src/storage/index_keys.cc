#include "storage/index_keys.h"

#include <algorithm>

#include "storage/key_encoding.h"

namespace eddy::storage {
namespace {

bool IsIndexComponent(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void Walk(const bson::Value& v, std::string_view rest, std::vector<const bson::Value*>* out,
          bool* had_array) {
  if (rest.empty()) {
    if (v.is_array()) {
      *had_array = true;
      for (const bson::Value& e : v.as_array()) out->push_back(&e);
    } else {
      out->push_back(&v);
    }
    return;
  }
  size_t dot = rest.find('.');
  std::string_view head = rest.substr(0, dot);
  std::string_view tail = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
  if (v.is_document()) {
    if (const bson::Value* child = v.as_document().Get(head)) Walk(*child, tail, out, had_array);
    return;
  }
  if (v.is_array()) {
    const bson::Array& arr = v.as_array();
    // "a.0.b": a numeric component picks that element of the array (positional path).
    if (IsIndexComponent(head)) {
      size_t i = std::stoul(std::string(head.substr(0, 9)));
      if (i < arr.size()) Walk(arr[i], tail, out, had_array);
      return;
    }
    *had_array = true;
    for (const bson::Value& e : arr) {
      if (e.is_document()) Walk(e, rest, out, had_array);
    }
  }
}

}  // namespace

void CollectPathValues(const bson::Document& doc, std::string_view path,
                       std::vector<const bson::Value*>* out, bool* had_array) {
  size_t dot = path.find('.');
  std::string_view head = path.substr(0, dot);
  std::string_view tail = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  if (const bson::Value* v = doc.Get(head)) Walk(*v, tail, out, had_array);
}

Result<std::vector<std::string>> ExtractIndexKeys(const IndexInfo& index, const bson::Document& doc,
                                                  bool* multikey) {
  static const bson::Value kNull;
  static const bson::Value kUndefined{bson::Undefined{}};
  std::vector<std::vector<const bson::Value*>> per_field(index.fields.size());
  int array_field = -1;
  bool all_missing = true;
  for (size_t i = 0; i < index.fields.size(); ++i) {
    bool had_array = false;
    CollectPathValues(doc, index.fields[i].path, &per_field[i], &had_array);
    if (!per_field[i].empty() || had_array) all_missing = false;
    if (had_array) {
      if (array_field >= 0) {
        return Status(ErrorCode::kCannotIndexParallelArrays,
                      "cannot index parallel arrays [" + index.fields[i].path + "] [" +
                          index.fields[array_field].path + "]");
      }
      array_field = static_cast<int>(i);
      if (per_field[i].empty()) per_field[i].push_back(&kUndefined);  // empty array
    }
    if (per_field[i].empty()) per_field[i].push_back(&kNull);
  }
  if (multikey) *multikey = array_field >= 0;
  std::vector<std::string> keys;
  if (index.sparse && all_missing) return keys;
  // At most one field has several values, so the keys are that field's values with the
  // other fields' single values around them.
  size_t n = array_field >= 0 ? per_field[array_field].size() : 1;
  keys.reserve(n);
  for (size_t k = 0; k < n; ++k) {
    std::string key;
    for (size_t i = 0; i < index.fields.size(); ++i) {
      const bson::Value* v = static_cast<int>(i) == array_field ? per_field[i][k] : per_field[i][0];
      AppendKeyString(*v, index.fields[i].descending, &key);
    }
    keys.push_back(std::move(key));
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

}  // namespace eddy::storage
