// MongoDB collation: locale-aware string comparison (ICU), as the `collation` option of find,
// count, distinct, update, delete, findAndModify and aggregate gives it.
//
//   EDDY_ASSIGN_OR_RETURN(CollatorPtr c, ParseCollation(spec));   // nullptr = simple (binary)
//   int cmp = CompareWithCollation(a, b, c.get());
//
// Spec fields and defaults are mongod's (CollatorFactoryICU): locale (required; "simple" means
// binary comparison and allows no other field), caseLevel, caseFirst ("upper"|"lower"|"off"),
// strength (1-5), numericOrdering, alternate ("non-ignorable"|"shifted"), maxVariable
// ("punct"|"space"), normalization, backwards, version (must equal the ICU version). Unset
// fields take the locale's ICU defaults; Spec() reports the full resolved spec as mongod's
// listIndexes/listCollections do.
//
// Errors (mongod's codes and messages): NoSuchKey 4 (no locale), TypeMismatch 14 (a field of
// the wrong type), BadValue 2 (unknown or empty locale, "Did you mean ..." when ICU would
// canonicalize it, backwards with strength 1, caseFirst without caseLevel at strength 1/2),
// FailedToParse 9 (strength outside 1-5, bad enum strings, unknown fields, "simple" with other
// fields), IncompatibleCollationVersion 87.
//
// Only strings and symbols (also inside documents and arrays) are compared with the collator;
// field names, and every other type, keep the BSON order. Regular expressions ignore collation,
// as in mongod.
//
// Thread-safety: a Collator is immutable; its ICU collator is only used through const
// (thread-safe) ICU calls, so one Collator may be shared by any number of threads.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "bson/value.h"

namespace eddy::query {

class Collator {
 public:
  ~Collator();
  Collator(const Collator&) = delete;
  Collator& operator=(const Collator&) = delete;

  // <0, 0, >0 under the collation.
  int CompareStrings(std::string_view a, std::string_view b) const;
  // The ICU sort key of a UTF-8 string (without the terminating NUL): comparing two keys
  // bytewise orders them as CompareStrings() does, and equal strings have equal keys.
  std::string ComparisonKey(std::string_view s) const;
  // The resolved spec {locale, caseLevel, caseFirst, strength, numericOrdering, alternate,
  // maxVariable, normalization, backwards, version}.
  const bson::Document& Spec() const { return spec_; }

 private:
  friend Result<std::shared_ptr<const Collator>> ParseCollation(const bson::Document& spec);
  Collator() = default;
  struct Icu;
  std::unique_ptr<Icu> icu_;
  bson::Document spec_;
};
using CollatorPtr = std::shared_ptr<const Collator>;

// Parses a collation spec. Returns nullptr for {locale: "simple"}.
Result<CollatorPtr> ParseCollation(const bson::Document& spec);
// The `collation` field of a command (absent: nullptr). Not a document: TypeMismatch 14 naming
// `command.collation`.
Result<CollatorPtr> ParseCollationField(const bson::Value* field, std::string_view command);

// bson::Compare, with strings and symbols (at any depth) compared by `collator` (null: binary).
int CompareWithCollation(const bson::Value& a, const bson::Value& b, const Collator* collator);
// `v` with every string and symbol replaced by its comparison key (same type), so that
// bson::Compare / bson::Hash on the results order and group as the collation does. `v` itself
// when collator is null or nothing in it is a string.
bson::Value CollationKeyOf(const bson::Value& v, const Collator* collator);
// True when `v` is, or contains, a string or symbol.
bool ContainsString(const bson::Value& v);

}  // namespace eddy::query
