#include "query/collation/collator.h"

#include <unicode/coll.h>
#include <unicode/locid.h>
#include <unicode/stringpiece.h>
#include <unicode/ucol.h>
#include <unicode/unistr.h>
#include <unicode/uvernum.h>

#include <cmath>
#include <optional>
#include <vector>

#include "bson/compare.h"
#include "bson/json.h"

namespace eddy::query {

using bson::Document;
using bson::Value;

struct Collator::Icu {
  std::unique_ptr<icu::Collator> coll;
};

Collator::~Collator() = default;

int Collator::CompareStrings(std::string_view a, std::string_view b) const {
  UErrorCode status = U_ZERO_ERROR;
  UCollationResult r = icu_->coll->compareUTF8(
      icu::StringPiece(a.data(), static_cast<int32_t>(a.size())),
      icu::StringPiece(b.data(), static_cast<int32_t>(b.size())), status);
  if (U_FAILURE(status)) return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
  return r == UCOL_LESS ? -1 : (r == UCOL_EQUAL ? 0 : 1);
}

std::string Collator::ComparisonKey(std::string_view s) const {
  icu::UnicodeString u =
      icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
  std::string key(64, '\0');
  int32_t n = icu_->coll->getSortKey(u, reinterpret_cast<uint8_t*>(key.data()),
                                     static_cast<int32_t>(key.size()));
  if (n > static_cast<int32_t>(key.size())) {
    key.resize(n);
    n = icu_->coll->getSortKey(u, reinterpret_cast<uint8_t*>(key.data()), n);
  }
  // n counts the terminating NUL, which would only make a prefix compare equal-length keys.
  key.resize(n > 0 ? n - 1 : 0);
  return key;
}

namespace {

Status Err(int code, std::string message) {
  return Status(static_cast<ErrorCode>(code), std::move(message));
}

std::string Shell(const Document& d) { return bson::ToJson(d, bson::JsonMode::kShell); }

// bsonExtract*Field semantics: absent is fine, the wrong type is TypeMismatch.
Status WrongType(std::string_view name, std::string_view expected, const Value& v) {
  return Err(14, "\"" + std::string(name) + "\" had the wrong type. Expected " +
                     std::string(expected) + ", found " + std::string(bson::TypeName(v.type())));
}

Result<std::optional<bool>> ExtractBool(const Document& spec, std::string_view name) {
  const Value* v = spec.Get(name);
  if (v == nullptr) return std::optional<bool>();
  if (!v->is_bool()) return WrongType(name, "boolean", *v);
  return std::optional<bool>(v->as_bool());
}

Result<std::optional<std::string>> ExtractString(const Document& spec, std::string_view name) {
  const Value* v = spec.Get(name);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return WrongType(name, "string", *v);
  return std::optional<std::string>(v->as_string());
}

UColAttributeValue OnOff(bool b) { return b ? UCOL_ON : UCOL_OFF; }

}  // namespace

Result<CollatorPtr> ParseCollation(const Document& spec) {
  const Value* lv = spec.Get("locale");
  if (lv == nullptr) return Err(4, "Missing expected field \"locale\"");
  if (!lv->is_string()) return WrongType("locale", "string", *lv);
  const std::string& locale = lv->as_string();
  if (locale.find('\0') != std::string::npos) {
    return Err(2, "Field 'locale' cannot contain null byte. Collation spec: " + Shell(spec));
  }
  if (locale == "simple") {
    if (spec.size() > 1) {
      return Err(9, "If locale=simple, no other fields should be present in: " + Shell(spec));
    }
    return CollatorPtr();
  }
  if (locale.empty()) {
    return Err(2, "Field 'locale' cannot be the empty string in: " + Shell(spec));
  }
  icu::Locale user = icu::Locale::createFromName(locale.c_str());
  if (user.isBogus()) return Err(2, "Field 'locale' is not valid in: " + Shell(spec));
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::Collator> coll(icu::Collator::createInstance(user, status));
  if (U_FAILURE(status) || !coll) {
    return Err(96, std::string("Failed to create collator: ") + u_errorName(status) +
                       ". Collation spec: " + Shell(spec));
  }
  // Every component of the locale must be one ICU has collation data for, unchanged.
  icu::Locale valid = coll->getLocale(ULOC_VALID_LOCALE, status);
  std::string valid_name = U_SUCCESS(status) ? valid.getName() : "";
  if (valid_name != locale) {
    std::string msg = "Field 'locale' is invalid in: " + Shell(spec);
    if (!valid_name.empty() && valid_name != "root") msg += ". Did you mean '" + valid_name + "'?";
    return Err(2, msg);
  }

  size_t parsed = 1;
  auto set = [&](UColAttribute attr, UColAttributeValue value) -> Status {
    UErrorCode st = U_ZERO_ERROR;
    coll->setAttribute(attr, value, st);
    if (U_FAILURE(st)) {
      return Err(96, std::string("Failed to set collation attribute: ") + u_errorName(st) +
                         ". Collation spec: " + Shell(spec));
    }
    return Status::OK();
  };
  auto get = [&](UColAttribute attr) {
    UErrorCode st = U_ZERO_ERROR;
    return coll->getAttribute(attr, st);
  };

  EDDY_ASSIGN_OR_RETURN(std::optional<bool> case_level, ExtractBool(spec, "caseLevel"));
  if (case_level) {
    ++parsed;
    EDDY_RETURN_IF_ERROR(set(UCOL_CASE_LEVEL, OnOff(*case_level)));
  }
  EDDY_ASSIGN_OR_RETURN(std::optional<std::string> case_first, ExtractString(spec, "caseFirst"));
  if (case_first) {
    ++parsed;
    UColAttributeValue v;
    if (*case_first == "upper") {
      v = UCOL_UPPER_FIRST;
    } else if (*case_first == "lower") {
      v = UCOL_LOWER_FIRST;
    } else if (*case_first == "off") {
      v = UCOL_OFF;
    } else {
      return Err(9, "Field 'caseFirst' must be 'upper', 'lower', or 'off'. Got: " + *case_first);
    }
    EDDY_RETURN_IF_ERROR(set(UCOL_CASE_FIRST, v));
  }
  if (const Value* sv = spec.Get("strength")) {
    ++parsed;
    if (!sv->is_number()) return WrongType("strength", "number", *sv);
    double d = sv->ToDouble();
    if (d != std::trunc(d) || std::isnan(d) || std::abs(d) > 9.2e18) {
      return Err(2, "Expected field \"strength\" to have a value exactly representable as a "
                    "64-bit integer, but found strength: " +
                        bson::ToJson(*sv, bson::JsonMode::kShell));
    }
    int64_t s = static_cast<int64_t>(d);
    static constexpr UColAttributeValue kStrengths[] = {UCOL_PRIMARY, UCOL_SECONDARY,
                                                        UCOL_TERTIARY, UCOL_QUATERNARY,
                                                        UCOL_IDENTICAL};
    if (s < 1 || s > 5) {
      return Err(9, "Field 'strength' must be an integer 1 through 5. Got: " + std::to_string(s));
    }
    EDDY_RETURN_IF_ERROR(set(UCOL_STRENGTH, kStrengths[s - 1]));
  }
  EDDY_ASSIGN_OR_RETURN(std::optional<bool> numeric, ExtractBool(spec, "numericOrdering"));
  if (numeric) {
    ++parsed;
    EDDY_RETURN_IF_ERROR(set(UCOL_NUMERIC_COLLATION, OnOff(*numeric)));
  }
  EDDY_ASSIGN_OR_RETURN(std::optional<std::string> alternate, ExtractString(spec, "alternate"));
  if (alternate) {
    ++parsed;
    if (*alternate != "non-ignorable" && *alternate != "shifted") {
      return Err(9, "Field 'alternate' must be 'non-ignorable' or 'shifted'. Got: " + *alternate);
    }
    EDDY_RETURN_IF_ERROR(
        set(UCOL_ALTERNATE_HANDLING, *alternate == "shifted" ? UCOL_SHIFTED : UCOL_NON_IGNORABLE));
  }
  EDDY_ASSIGN_OR_RETURN(std::optional<std::string> max_var, ExtractString(spec, "maxVariable"));
  if (max_var) {
    ++parsed;
    if (*max_var != "punct" && *max_var != "space") {
      return Err(9, "Field 'maxVariable' must be 'punct' or 'space'. Got: " + *max_var);
    }
    UErrorCode st = U_ZERO_ERROR;
    coll->setMaxVariable(*max_var == "punct" ? UCOL_REORDER_CODE_PUNCTUATION
                                             : UCOL_REORDER_CODE_SPACE,
                         st);
    if (U_FAILURE(st)) {
      return Err(96, std::string("Failed to set 'maxVariable' attribute: ") + u_errorName(st));
    }
  }
  EDDY_ASSIGN_OR_RETURN(std::optional<bool> normalization, ExtractBool(spec, "normalization"));
  if (normalization) {
    ++parsed;
    EDDY_RETURN_IF_ERROR(set(UCOL_NORMALIZATION_MODE, OnOff(*normalization)));
  }
  EDDY_ASSIGN_OR_RETURN(std::optional<bool> backwards, ExtractBool(spec, "backwards"));
  if (backwards) {
    ++parsed;
    EDDY_RETURN_IF_ERROR(set(UCOL_FRENCH_COLLATION, OnOff(*backwards)));
  }
  EDDY_ASSIGN_OR_RETURN(std::optional<std::string> version, ExtractString(spec, "version"));
  if (version) {
    ++parsed;
    if (*version != U_ICU_VERSION) {
      return Err(87, "Requested collation version " + *version +
                         " but the only available collator version was " U_ICU_VERSION
                         ". Requested collation spec: " +
                         Shell(spec));
    }
  }
  if (parsed < spec.size()) {
    return Err(9, "Collation spec contains unknown field. Collation spec: " + Shell(spec));
  }

  // The resolved spec, with the locale's defaults for everything not given.
  int strength = 3;
  switch (get(UCOL_STRENGTH)) {
    case UCOL_PRIMARY: strength = 1; break;
    case UCOL_SECONDARY: strength = 2; break;
    case UCOL_TERTIARY: strength = 3; break;
    case UCOL_QUATERNARY: strength = 4; break;
    case UCOL_IDENTICAL: strength = 5; break;
    default: break;
  }
  bool level = get(UCOL_CASE_LEVEL) == UCOL_ON;
  UColAttributeValue cf = get(UCOL_CASE_FIRST);
  std::string case_first_name =
      cf == UCOL_UPPER_FIRST ? "upper" : (cf == UCOL_LOWER_FIRST ? "lower" : "off");
  bool back = get(UCOL_FRENCH_COLLATION) == UCOL_ON;
  Document resolved;
  resolved.Append("locale", std::string(user.getName()));
  resolved.Append("caseLevel", level);
  resolved.Append("caseFirst", case_first_name);
  resolved.Append("strength", static_cast<int32_t>(strength));
  resolved.Append("numericOrdering", get(UCOL_NUMERIC_COLLATION) == UCOL_ON);
  resolved.Append("alternate",
                  std::string(get(UCOL_ALTERNATE_HANDLING) == UCOL_SHIFTED ? "shifted"
                                                                           : "non-ignorable"));
  resolved.Append("maxVariable", std::string(coll->getMaxVariable() == UCOL_REORDER_CODE_SPACE
                                                 ? "space"
                                                 : "punct"));
  resolved.Append("normalization", get(UCOL_NORMALIZATION_MODE) == UCOL_ON);
  resolved.Append("backwards", back);
  resolved.Append("version", std::string(U_ICU_VERSION));

  // Option combinations that have no effect are rejected, as mongod does.
  if (back && strength == 1) {
    return Err(2, "'backwards' is invalid with 'strength' of 1 in: " + Shell(resolved));
  }
  if (case_first_name != "off" && !level && strength <= 2) {
    return Err(2, "'caseFirst' is invalid unless 'caseLevel' is on or 'strength' is greater "
                  "than 2 in: " +
                      Shell(resolved));
  }

  auto c = std::shared_ptr<Collator>(new Collator());
  c->icu_ = std::make_unique<Collator::Icu>();
  c->icu_->coll = std::move(coll);
  c->spec_ = std::move(resolved);
  return CollatorPtr(std::move(c));
}

Result<CollatorPtr> ParseCollationField(const Value* field, std::string_view command) {
  if (field == nullptr) return CollatorPtr();
  if (!field->is_document()) {
    return Err(14, "BSON field '" + std::string(command) + ".collation' is the wrong type '" +
                       std::string(bson::TypeName(field->type())) + "', expected type 'object'");
  }
  return ParseCollation(field->as_document());
}

bool ContainsString(const Value& v) {
  switch (v.type()) {
    case bson::Type::kString:
    case bson::Type::kSymbol: return true;
    case bson::Type::kDocument:
      for (const bson::Field& f : v.as_document()) {
        if (ContainsString(f.value)) return true;
      }
      return false;
    case bson::Type::kArray:
      for (const Value& e : v.as_array()) {
        if (ContainsString(e)) return true;
      }
      return false;
    default: return false;
  }
}

namespace {

Value KeyOf(const Value& v, const Collator& c) {
  switch (v.type()) {
    case bson::Type::kString: return Value(c.ComparisonKey(v.as_string()));
    case bson::Type::kSymbol:
      return Value(bson::Symbol{c.ComparisonKey(std::get<bson::Symbol>(v.storage()).symbol)});
    case bson::Type::kDocument: {
      Document d;
      for (const bson::Field& f : v.as_document()) d.Append(f.name, KeyOf(f.value, c));
      return Value(std::move(d));
    }
    case bson::Type::kArray: {
      bson::Array a;
      a.reserve(v.as_array().size());
      for (const Value& e : v.as_array()) a.push_back(KeyOf(e, c));
      return Value(std::move(a));
    }
    default: return v;
  }
}

}  // namespace

Value CollationKeyOf(const Value& v, const Collator* collator) {
  if (collator == nullptr || !ContainsString(v)) return v;
  return KeyOf(v, *collator);
}

int CompareWithCollation(const Value& a, const Value& b, const Collator* collator) {
  if (collator == nullptr) return bson::Compare(a, b);
  bool as = a.is_string() || a.type() == bson::Type::kSymbol;
  bool bs = b.is_string() || b.type() == bson::Type::kSymbol;
  if (as && bs) {
    auto text = [](const Value& v) -> const std::string& {
      return v.is_string() ? v.as_string() : std::get<bson::Symbol>(v.storage()).symbol;
    };
    return collator->CompareStrings(text(a), text(b));
  }
  if (!ContainsString(a) || !ContainsString(b)) return bson::Compare(a, b);
  return bson::Compare(KeyOf(a, *collator), KeyOf(b, *collator));
}

}  // namespace eddy::query
