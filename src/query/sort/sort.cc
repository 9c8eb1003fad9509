#include "query/sort/sort.h"

#include <algorithm>
#include <numeric>
#include <set>
#include <utility>

#include "bson/compare.h"
#include "bson/json.h"

namespace eddy::query {
namespace {

const bson::Value kNullValue{bson::Null{}};
const bson::Value kUndefinedValue{bson::Undefined{}};
const bson::Document kEmptyDocument;

constexpr ErrorCode kIllegalSortKey = static_cast<ErrorCode>(15974);
constexpr ErrorCode kBadSortDirection = static_cast<ErrorCode>(15975);
constexpr ErrorCode kDuplicateSortKey = static_cast<ErrorCode>(7472500);
constexpr ErrorCode kOnlyMetaInSort = static_cast<ErrorCode>(17312);
constexpr ErrorCode kIllegalMetaSort = static_cast<ErrorCode>(31138);
constexpr ErrorCode kMetaUnavailable = static_cast<ErrorCode>(40218);
constexpr ErrorCode kAmbiguousArrayField = static_cast<ErrorCode>(16746);

// mongod's FieldPath rules, so a sort on "a..b" or "$x" fails the way it does there.
Status ValidateFieldPath(std::string_view path) {
  if (path.empty()) {
    return Status(static_cast<ErrorCode>(40352), "FieldPath cannot be constructed with empty string");
  }
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string_view part =
        path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (part.empty()) {
      return Status(static_cast<ErrorCode>(15998), "FieldPath field names may not be empty strings.");
    }
    if (part[0] == '$' && part != "$id" && part != "$ref" && part != "$db") {
      return Status(static_cast<ErrorCode>(16410),
                    "FieldPath field names may not start with '$'. Consider using $getField or "
                    "$setField.");
    }
    if (part.find('\0') != std::string_view::npos) {
      return Status(static_cast<ErrorCode>(16411), "FieldPath field names may not contain '\\0'.");
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return Status::OK();
}

std::string_view FirstComponent(std::string_view path) {
  size_t dot = path.find('.');
  return dot == std::string_view::npos ? path : path.substr(0, dot);
}

// The element an array-as-object lookup finds: "3" names element 3, like BSONObj::getField on
// an array's embedded object (whose keys are "0", "1", ...). "03" or "-1" name nothing.
const bson::Value* ArrayElementByName(const bson::Array& arr, std::string_view name) {
  if (name.empty() || name.size() > 10) return nullptr;
  if (name.size() > 1 && name[0] == '0') return nullptr;
  uint64_t index = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return nullptr;
    index = index * 10 + static_cast<uint64_t>(c - '0');
  }
  return index < arr.size() ? &arr[index] : nullptr;
}

// dotted_path_support::extractElementAtPathOrArrayAlongPath: follows `*path` through embedded
// documents and stops at the first array, leaving in `*path` what remains after it ("" when the
// path is used up). nullptr when the path does not exist or runs into a scalar.
const bson::Value* ExtractAlongPath(const bson::Value* container, std::string_view* path) {
  while (true) {
    size_t dot = path->find('.');
    std::string_view part = dot == std::string_view::npos ? *path : path->substr(0, dot);
    *path = dot == std::string_view::npos ? std::string_view() : path->substr(dot + 1);
    const bson::Value* sub = nullptr;
    if (container->is_document()) {
      sub = container->as_document().Get(part);
    } else if (container->is_array()) {
      sub = ArrayElementByName(container->as_array(), part);
    }
    if (sub == nullptr) return nullptr;
    if (sub->is_array() || path->empty()) return sub;
    if (!sub->is_document()) return nullptr;
    container = sub;
  }
}

const bson::Value* ExtractAlongPath(const bson::Document& doc, std::string_view* path) {
  size_t dot = path->find('.');
  std::string_view part = dot == std::string_view::npos ? *path : path->substr(0, dot);
  *path = dot == std::string_view::npos ? std::string_view() : path->substr(dot + 1);
  const bson::Value* sub = doc.Get(part);
  if (sub == nullptr) return nullptr;
  if (sub->is_array() || path->empty()) return sub;
  if (!sub->is_document()) return nullptr;
  return ExtractAlongPath(sub, path);
}

// A path component that indexes a particular element of the array being expanded.
struct PositionalInfo {
  const bson::Value* indexed = nullptr;  // the element the component names, or nullptr
  const bson::Array* array = nullptr;
  std::string_view remaining;            // path left after the element lookup
  const bson::Value* dotted = nullptr;   // the value that lookup found
};

// Generates the key tuples an index over the sort paths would hold for a document (mongod's
// BtreeKeyGenerator::getKeysWithArray), keeping only the smallest under the sort ordering, so
// nothing is allocated per tuple.
class KeyGenerator {
 public:
  KeyGenerator(const std::vector<const SortKey*>& keys, const Collator* collator)
      : keys_(keys), collator_(collator) {}

  Status Run(const bson::Document& doc) {
    std::vector<std::string_view> names;
    names.reserve(keys_.size());
    for (const SortKey* k : keys_) names.push_back(k->path);
    std::vector<const bson::Value*> fixed(keys_.size(), nullptr);
    std::vector<PositionalInfo> positional(keys_.size());
    return Walk(std::move(names), std::move(fixed), doc, positional);
  }

  const std::vector<const bson::Value*>& best() const { return best_; }

 private:
  Status ExtractNext(const bson::Document& obj, const PositionalInfo& pos, std::string_view* field,
                     bool* nested_array, const bson::Value** out) {
    *nested_array = false;
    *out = nullptr;
    bool have_field = obj.Get(FirstComponent(*field)) != nullptr;
    if (have_field && pos.indexed != nullptr) {
      return Status(kAmbiguousArrayField,
                    "Ambiguous field name found in array (do not use numeric field names in "
                    "embedded elements in an array), field: '" +
                        std::string(FirstComponent(*field)) +
                        "' for array: " + bson::ToJson(bson::Value(*pos.array), bson::JsonMode::kShell));
    }
    if (have_field) {
      *out = ExtractAlongPath(obj, field);
    } else if (pos.indexed != nullptr) {
      *nested_array = pos.indexed->is_array();
      *field = pos.remaining;
      *out = pos.dotted;
    }
    return Status::OK();
  }

  Status Walk(std::vector<std::string_view> names, std::vector<const bson::Value*> fixed,
              const bson::Document& obj, const std::vector<PositionalInfo>& positional) {
    const bson::Value* arr = nullptr;
    std::vector<size_t> arr_idxs;
    bool may_expand = true;
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i].empty()) continue;
      bool nested = false;
      const bson::Value* e = nullptr;
      EDDY_RETURN_IF_ERROR(ExtractNext(obj, positional[i], &names[i], &nested, &e));
      if (e == nullptr) {
        fixed[i] = &kNullValue;
        names[i] = std::string_view();
      } else if (e->is_array()) {
        arr_idxs.push_back(i);
        if (arr == nullptr) {
          arr = e;
        } else if (arr != e) {
          return Status(ErrorCode::kBadValue, "cannot sort with keys that are parallel arrays");
        }
        if (nested) may_expand = false;
      } else {
        fixed[i] = e;
      }
    }

    if (arr == nullptr) {
      Offer(fixed);
      return Status::OK();
    }
    const bson::Array& elements = arr->as_array();
    if (elements.empty()) {
      // Paths ending at an empty array get undefined, which sorts before null.
      return ExpandElement(names, fixed, kUndefinedValue, *arr, arr_idxs, true, empty_positional());
    }

    std::vector<PositionalInfo> sub(names.size());
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i].empty()) continue;
      const bson::Value* indexed = ArrayElementByName(elements, FirstComponent(names[i]));
      if (indexed == nullptr) continue;  // this path expands the array
      sub[i].indexed = indexed;
      sub[i].array = &elements;
      sub[i].remaining = names[i];
      sub[i].dotted = ExtractAlongPath(arr, &sub[i].remaining);
    }
    for (const bson::Value& element : elements) {
      EDDY_RETURN_IF_ERROR(ExpandElement(names, fixed, element, *arr, arr_idxs, may_expand, sub));
    }
    return Status::OK();
  }

  Status ExpandElement(const std::vector<std::string_view>& names,
                       const std::vector<const bson::Value*>& fixed, const bson::Value& element,
                       const bson::Value& arr, const std::vector<size_t>& arr_idxs,
                       bool may_expand, const std::vector<PositionalInfo>& positional) {
    std::vector<std::string_view> names_copy = names;
    std::vector<const bson::Value*> fixed_copy = fixed;
    for (size_t idx : arr_idxs) {
      if (names_copy[idx].empty()) fixed_copy[idx] = may_expand ? &element : &arr;
    }
    const bson::Document& next = element.is_document() ? element.as_document() : kEmptyDocument;
    return Walk(std::move(names_copy), std::move(fixed_copy), next, positional);
  }

  const std::vector<PositionalInfo>& empty_positional() {
    if (empty_positional_.size() != keys_.size()) empty_positional_.resize(keys_.size());
    return empty_positional_;
  }

  void Offer(const std::vector<const bson::Value*>& tuple) {
    if (best_.empty()) {
      best_ = tuple;
      return;
    }
    for (size_t i = 0; i < tuple.size(); ++i) {
      int c = (collator_ != nullptr && ContainsString(*tuple[i]) && ContainsString(*best_[i])
                   ? CompareWithCollation(*tuple[i], *best_[i], collator_)
                   : CompareSortValues(*tuple[i], *best_[i])) *
              keys_[i]->direction;
      if (c < 0) {
        best_ = tuple;
        return;
      }
      if (c > 0) return;
    }
  }

  const std::vector<const SortKey*>& keys_;
  const Collator* collator_;
  std::vector<const bson::Value*> best_;
  std::vector<PositionalInfo> empty_positional_;
};

Status MetaSortError(const bson::Document& meta_doc, std::string_view field_name, SortKey* key) {
  const bson::Field& first = meta_doc.at(0);
  if (first.name != "$meta") {
    return Status(kOnlyMetaInSort, "$meta is the only expression supported by $sort right now");
  }
  if (meta_doc.size() != 1) {
    return Status(ErrorCode::kFailedToParse,
                  "Cannot have additional keys in a $meta sort specification");
  }
  static const std::set<std::string, std::less<>> kValid = {
      "textScore", "randVal", "geoNearDistance", "searchScore", "vectorSearchScore"};
  if (!first.value.is_string() || !kValid.contains(first.value.as_string())) {
    return Status(kIllegalMetaSort, "Illegal $meta sort: $meta: " +
                                        bson::ToJson(first.value, bson::JsonMode::kShell));
  }
  key->path = std::string(field_name);
  key->direction = -1;
  key->is_meta = true;
  key->meta = first.value.as_string();
  return Status::OK();
}

}  // namespace

int CompareSortValues(const bson::Value& a, const bson::Value& b) {
  // Fast paths for the common same-type keys; everything else goes through bson::Compare.
  const bson::Value::Storage& sa = a.storage();
  const bson::Value::Storage& sb = b.storage();
  if (sa.index() == sb.index()) {
    if (const int32_t* x = std::get_if<int32_t>(&sa)) {
      int32_t y = std::get<int32_t>(sb);
      return *x < y ? -1 : (*x > y ? 1 : 0);
    }
    if (const int64_t* x = std::get_if<int64_t>(&sa)) {
      int64_t y = std::get<int64_t>(sb);
      return *x < y ? -1 : (*x > y ? 1 : 0);
    }
    if (const std::string* x = std::get_if<std::string>(&sa)) {
      int c = x->compare(std::get<std::string>(sb));
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    if (const bson::DateTime* x = std::get_if<bson::DateTime>(&sa)) {
      int64_t y = std::get<bson::DateTime>(sb).millis;
      return x->millis < y ? -1 : (x->millis > y ? 1 : 0);
    }
  }
  // bson::Compare ranks null and undefined alike; mongod's canonical order puts undefined
  // (rank 0) below null (rank 5), which is what makes an empty array sort before null.
  bool a_undef = a.is_undefined();
  bool b_undef = b.is_undefined();
  if (a_undef || b_undef) {
    if (a_undef && b_undef) return 0;
    if (a_undef) return b.type() == bson::Type::kMinKey ? 1 : -1;
    return a.type() == bson::Type::kMinKey ? -1 : 1;
  }
  return bson::Compare(a, b);
}

Result<SortSpec> SortSpec::Compile(const bson::Document& sort, CollatorPtr collator) {
  SortSpec spec;
  spec.collator_ = std::move(collator);
  if (const bson::Value* natural = sort.Get("$natural")) {
    // mongod (query_request_helper::hasInvalidNaturalParam) accepts only a sort that is exactly
    // {$natural: 1} or {$natural: -1} (any numeric type), and turns it into a hint.
    const bool plus = natural->is_number() && bson::Compare(*natural, bson::Value(1)) == 0;
    const bool minus = natural->is_number() && bson::Compare(*natural, bson::Value(-1)) == 0;
    if (sort.size() != 1 || (!plus && !minus)) {
      return Status(ErrorCode::kBadValue,
                    "$natural sort cannot be set to a value other than -1 or 1.");
    }
    spec.natural_ = plus ? 1 : -1;
    return spec;
  }
  std::set<std::string, std::less<>> seen;
  for (const bson::Field& field : sort) {
    SortKey key;
    if (field.value.is_document() && !field.value.as_document().empty()) {
      EDDY_RETURN_IF_ERROR(MetaSortError(field.value.as_document(), field.name, &key));
      spec.has_meta_ = true;
      spec.keys_.push_back(std::move(key));
      continue;
    }
    if (field.value.is_document()) {
      // mongod asserts on the first element of an empty object: no "$meta" there.
      return Status(kOnlyMetaInSort, "$meta is the only expression supported by $sort right now");
    }
    if (!field.value.is_number()) {
      return Status(kIllegalSortKey, "Illegal key in $sort specification: " + field.name + ": " +
                                         bson::ToJson(field.value, bson::JsonMode::kShell));
    }
    int64_t direction = field.value.ToInt64();
    if (direction != 1 && direction != -1) {
      return Status(kBadSortDirection,
                    "$sort key ordering must be 1 (for ascending) or -1 (for descending)");
    }
    EDDY_RETURN_IF_ERROR(ValidateFieldPath(field.name));
    if (!seen.insert(field.name).second) {
      return Status(kDuplicateSortKey, "$sort key must not contain duplicate keys (duplicate: '" +
                                           field.name + "')");
    }
    key.path = field.name;
    key.direction = static_cast<int>(direction);
    spec.path_keys_.push_back(spec.keys_.size());
    spec.keys_.push_back(std::move(key));
  }
  return spec;
}

Result<std::vector<bson::Value>> SortSpec::ExtractSortKey(const bson::Document& doc,
                                                          const SortMetaProvider* meta) const {
  std::vector<bson::Value> out(keys_.size());
  // Fast path: no path reaches an array, so the key is just the values at the paths.
  bool needs_generator = false;
  for (size_t i : path_keys_) {
    std::string_view rest = keys_[i].path;
    const bson::Value* v = ExtractAlongPath(doc, &rest);
    if (v != nullptr && v->is_array()) {
      needs_generator = true;
      break;
    }
    out[i] = v != nullptr ? *v : kNullValue;
  }
  if (needs_generator) {
    std::vector<const SortKey*> path_keys;
    path_keys.reserve(path_keys_.size());
    for (size_t i : path_keys_) path_keys.push_back(&keys_[i]);
    KeyGenerator gen(path_keys, collator_.get());
    EDDY_RETURN_IF_ERROR(gen.Run(doc));
    for (size_t j = 0; j < path_keys_.size(); ++j) out[path_keys_[j]] = *gen.best()[j];
  }
  if (has_meta_) {
    for (size_t i = 0; i < keys_.size(); ++i) {
      if (!keys_[i].is_meta) continue;
      if (meta == nullptr || !*meta) {
        std::string what = keys_[i].meta == "textScore" ? "text score" : keys_[i].meta;
        return Status(kMetaUnavailable,
                      "query requires " + what + " metadata, but it is not available");
      }
      EDDY_ASSIGN_OR_RETURN(out[i], (*meta)(keys_[i].meta));
    }
  }
  if (collator_) {
    for (size_t i : path_keys_) out[i] = CollationKeyOf(out[i], collator_.get());
  }
  return out;
}

int SortSpec::CompareKeys(const std::vector<bson::Value>& a,
                          const std::vector<bson::Value>& b) const {
  size_t n = std::min({a.size(), b.size(), keys_.size()});
  for (size_t i = 0; i < n; ++i) {
    int c = CompareSortValues(a[i], b[i]);
    if (c != 0) return c < 0 ? -keys_[i].direction : keys_[i].direction;
  }
  return 0;
}

int SortSpec::Compare(const bson::Document& a, const bson::Document& b) const {
  auto key_or_nulls = [this](const bson::Document& d) {
    Result<std::vector<bson::Value>> k = ExtractSortKey(d);
    if (k.ok()) return std::move(k).value();
    return std::vector<bson::Value>(keys_.size(), bson::Value(bson::Null{}));
  };
  if (keys_.empty()) return 0;
  return CompareKeys(key_or_nulls(a), key_or_nulls(b));
}

Status SortSpec::Sort(std::vector<bson::Document>* docs, std::optional<size_t> limit,
                      const std::function<const SortMetaProvider*(size_t index)>& meta) const {
  if (keys_.empty()) {
    if (limit && docs->size() > *limit) docs->resize(*limit);
    return Status::OK();
  }
  const size_t n = docs->size();
  const size_t k = keys_.size();
  // One flat array of keys (document i's key is [i*k, i*k+k)), so comparisons touch
  // contiguous memory rather than one heap block per document.
  std::vector<bson::Value> flat;
  flat.reserve(n * k);
  for (size_t i = 0; i < n; ++i) {
    const SortMetaProvider* provider = meta ? meta(i) : nullptr;
    EDDY_ASSIGN_OR_RETURN(std::vector<bson::Value> key, ExtractSortKey((*docs)[i], provider));
    for (bson::Value& v : key) flat.push_back(std::move(v));
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  // Ties break on the input position: the order is total, so a partial sort is stable too.
  auto less = [&](size_t x, size_t y) {
    const bson::Value* a = &flat[x * k];
    const bson::Value* b = &flat[y * k];
    for (size_t i = 0; i < k; ++i) {
      int c = CompareSortValues(a[i], b[i]);
      if (c != 0) return (c < 0) == (keys_[i].direction > 0);
    }
    return x < y;
  };
  size_t keep = limit ? std::min(*limit, n) : n;
  if (keep < n) {
    std::partial_sort(order.begin(), order.begin() + keep, order.end(), less);
    order.resize(keep);
  } else {
    std::sort(order.begin(), order.end(), less);
  }
  std::vector<bson::Document> sorted;
  sorted.reserve(keep);
  for (size_t i : order) sorted.push_back(std::move((*docs)[i]));
  *docs = std::move(sorted);
  return Status::OK();
}

}  // namespace eddy::query
