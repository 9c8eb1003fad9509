// ExtractIndexablePredicates: the conditions a planner can turn into index bounds. Soundness is
// the only requirement (every matching document satisfies each predicate), so anything unusual
// is simply skipped.
#include <string_view>

#include "bson/compare.h"
#include "query/match/matcher.h"

namespace eddy::query {
namespace {

using bson::Type;
using bson::Value;

// A value an index lookup can use as an exact key: no null (also matches missing), no regex
// (pattern match), no document/array (array equality also matches whole-array values), no
// undefined, MinKey/MaxKey, or NaN.
bool IsPlainScalar(const Value& v) {
  switch (v.type()) {
    case Type::kNull:
    case Type::kUndefined:
    case Type::kRegex:
    case Type::kDocument:
    case Type::kArray:
    case Type::kMinKey:
    case Type::kMaxKey:
      return false;
    default:
      break;
  }
  if (v.is_number() && v.ToDouble() != v.ToDouble()) return false;
  return true;
}

bool IsOperatorDocument(const Value& v) {
  if (!v.is_document() || v.as_document().empty()) return false;
  const std::string& first = v.as_document().at(0).name;
  return !first.empty() && first[0] == '$' && first != "$ref" && first != "$id" &&
         first != "$db";
}

void ExtractField(const std::string& path, const Value& v, std::vector<PathPredicate>* out) {
  if (!IsOperatorDocument(v)) {
    if (IsPlainScalar(v)) {
      PathPredicate p;
      p.path = path;
      p.kind = PathPredicate::kEq;
      p.eq = v;
      out->push_back(std::move(p));
    }
    return;
  }
  PathPredicate range;
  range.path = path;
  range.kind = PathPredicate::kRange;
  for (const bson::Field& f : v.as_document()) {
    const std::string& op = f.name;
    if (op == "$eq") {
      if (IsPlainScalar(f.value)) {
        PathPredicate p;
        p.path = path;
        p.kind = PathPredicate::kEq;
        p.eq = f.value;
        out->push_back(std::move(p));
      }
    } else if (op == "$in") {
      if (!f.value.is_array() || f.value.as_array().empty()) continue;
      bool ok = true;
      for (const Value& e : f.value.as_array()) ok = ok && IsPlainScalar(e);
      if (!ok) continue;
      PathPredicate p;
      p.path = path;
      p.kind = PathPredicate::kIn;
      p.in = f.value.as_array();
      out->push_back(std::move(p));
    } else if (op == "$gt" || op == "$gte") {
      if (!IsPlainScalar(f.value)) continue;
      // Keep the tighter bound when both $gt and $gte appear.
      bool incl = op == "$gte";
      if (!range.lower || bson::CanonicalTypeRank(range.lower->type()) !=
                              bson::CanonicalTypeRank(f.value.type())) {
        if (!range.lower) {
          range.lower = f.value;
          range.lower_inclusive = incl;
        }
        continue;
      }
      int c = bson::Compare(f.value, *range.lower);
      if (c > 0 || (c == 0 && !incl)) {
        range.lower = f.value;
        range.lower_inclusive = incl;
      }
    } else if (op == "$lt" || op == "$lte") {
      if (!IsPlainScalar(f.value)) continue;
      bool incl = op == "$lte";
      if (!range.upper || bson::CanonicalTypeRank(range.upper->type()) !=
                              bson::CanonicalTypeRank(f.value.type())) {
        if (!range.upper) {
          range.upper = f.value;
          range.upper_inclusive = incl;
        }
        continue;
      }
      int c = bson::Compare(f.value, *range.upper);
      if (c < 0 || (c == 0 && !incl)) {
        range.upper = f.value;
        range.upper_inclusive = incl;
      }
    }
  }
  if (range.lower && range.upper &&
      bson::CanonicalTypeRank(range.lower->type()) !=
          bson::CanonicalTypeRank(range.upper->type())) {
    range.upper.reset();  // mixed brackets: one bound alone is still sound
    range.upper_inclusive = false;
  }
  if (range.lower || range.upper) out->push_back(std::move(range));
}

void ExtractDocument(const bson::Document& filter, std::vector<PathPredicate>* out, int depth) {
  if (depth > 100) return;
  for (const bson::Field& f : filter) {
    if (f.name == "$and") {
      if (!f.value.is_array()) continue;
      for (const Value& e : f.value.as_array()) {
        if (e.is_document()) ExtractDocument(e.as_document(), out, depth + 1);
      }
    } else if (!f.name.empty() && f.name[0] == '$') {
      continue;
    } else {
      ExtractField(f.name, f.value, out);
    }
  }
}

}  // namespace

std::vector<PathPredicate> ExtractIndexablePredicates(const bson::Document& filter) {
  std::vector<PathPredicate> out;
  ExtractDocument(filter, &out, 0);
  return out;
}

}  // namespace eddy::query
