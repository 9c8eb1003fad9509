#include "query/match/json_schema.h"

#include <cmath>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "bson/compare.h"
#include "query/match/regex.h"

namespace eddy::query {
namespace schema_internal {

using bson::Array;
using bson::Document;
using bson::Type;
using bson::Value;

struct Schema;
using SchemaPtr = std::shared_ptr<const Schema>;

struct Schema {
  Document spec;  // as given: specifiedAs echoes its values
  std::string type_keyword;  // "bsonType", "type" or "" (no type constraint)
  Value type_spec;
  std::vector<Type> types;
  bool any_number = false;
  std::optional<Array> required;
  std::vector<std::pair<std::string, SchemaPtr>> properties;
  bool has_properties = false;
  std::optional<bool> additional_properties;  // false: none allowed; true: any
  SchemaPtr additional_schema;
  std::vector<std::pair<std::shared_ptr<const CompiledRegex>, SchemaPtr>> pattern_properties;
  std::optional<int64_t> min_properties, max_properties;
  std::optional<Array> enum_values;
  std::optional<Value> minimum, maximum, multiple_of;
  bool exclusive_minimum = false, exclusive_maximum = false;
  std::optional<int64_t> min_length, max_length;
  std::shared_ptr<const CompiledRegex> pattern;
  Value pattern_spec;
  SchemaPtr items;
  std::vector<SchemaPtr> items_tuple;
  bool has_items_tuple = false;
  std::optional<bool> additional_items;
  SchemaPtr additional_items_schema;
  std::optional<int64_t> min_items, max_items;
  bool unique_items = false;
  std::vector<SchemaPtr> all_of, any_of, one_of;
  SchemaPtr not_schema;
  std::vector<std::pair<std::string, Array>> property_dependencies;
  std::vector<std::pair<std::string, SchemaPtr>> schema_dependencies;
};

namespace {

Status ParseError(const std::string& message) { return Status(ErrorCode::kFailedToParse, message); }
Status KeywordType(const std::string& keyword, const std::string& expected) {
  return Status(ErrorCode::kTypeMismatch, "$jsonSchema keyword '" + keyword + "' must be " + expected);
}

Result<int64_t> NonNegativeInt(const std::string& keyword, const Value& v) {
  if (!v.is_number()) return KeywordType(keyword, "a number");
  double d = v.ToDouble();
  if (std::isnan(d) || d != std::floor(d)) {
    return ParseError("$jsonSchema keyword '" + keyword + "' must be a representable integer");
  }
  if (d < 0) return ParseError("$jsonSchema keyword '" + keyword + "' must be a non-negative integer");
  return static_cast<int64_t>(d);
}

Status AddBsonType(const std::string& keyword, const Value& v, Schema* s) {
  if (!v.is_string()) return KeywordType(keyword, "a string or an array of strings");
  const std::string& name = v.as_string();
  if (keyword == "type") {
    // JSON Schema's type names.
    if (name == "integer") return ParseError("$jsonSchema type 'integer' is not currently supported.");
    if (name == "object") s->types.push_back(Type::kDocument);
    else if (name == "array") s->types.push_back(Type::kArray);
    else if (name == "number") s->any_number = true;
    else if (name == "boolean") s->types.push_back(Type::kBool);
    else if (name == "string") s->types.push_back(Type::kString);
    else if (name == "null") s->types.push_back(Type::kNull);
    else return ParseError("Unknown type name alias: " + name);
    return Status::OK();
  }
  if (name == "number") {
    s->any_number = true;
    return Status::OK();
  }
  static constexpr Type kAll[] = {
      Type::kDouble,   Type::kString,    Type::kDocument,  Type::kArray,
      Type::kBinary,   Type::kUndefined, Type::kObjectId,  Type::kBool,
      Type::kDateTime, Type::kNull,      Type::kRegex,     Type::kDBPointer,
      Type::kJavaScript, Type::kSymbol,  Type::kJavaScriptWithScope, Type::kInt32,
      Type::kTimestamp, Type::kInt64,    Type::kDecimal128, Type::kMinKey,
      Type::kMaxKey};
  for (Type t : kAll) {
    if (bson::TypeName(t) == name) {
      s->types.push_back(t);
      return Status::OK();
    }
  }
  return ParseError("Unknown type name alias: " + name);
}

Result<SchemaPtr> ParseSchema(const Document& spec);

Result<SchemaPtr> ParseSubschema(const std::string& keyword, const Value& v) {
  if (!v.is_document()) return KeywordType(keyword, "an object");
  return ParseSchema(v.as_document());
}

Result<std::vector<SchemaPtr>> ParseSchemaArray(const std::string& keyword, const Value& v) {
  if (!v.is_array()) return KeywordType(keyword, "an array");
  if (v.as_array().empty()) return ParseError("$jsonSchema keyword '" + keyword + "' must be a non-empty array");
  std::vector<SchemaPtr> out;
  for (const Value& e : v.as_array()) {
    if (!e.is_document()) return KeywordType(keyword, "an array of objects");
    EDDY_ASSIGN_OR_RETURN(SchemaPtr p, ParseSchema(e.as_document()));
    out.push_back(std::move(p));
  }
  return out;
}

Result<SchemaPtr> ParseSchema(const Document& spec) {
  auto s = std::make_shared<Schema>();
  s->spec = spec;
  const Value* exclusive_min = nullptr;
  const Value* exclusive_max = nullptr;
  for (const bson::Field& f : spec) {
    const std::string& k = f.name;
    const Value& v = f.value;
    if (k == "bsonType" || k == "type") {
      if (!s->type_keyword.empty()) {
        return ParseError("Cannot specify both $jsonSchema keywords 'type' and 'bsonType'");
      }
      s->type_keyword = k;
      s->type_spec = v;
      if (v.is_array()) {
        if (v.as_array().empty()) return ParseError("$jsonSchema keyword '" + k + "' must name at least one type");
        for (const Value& e : v.as_array()) EDDY_RETURN_IF_ERROR(AddBsonType(k, e, s.get()));
      } else {
        EDDY_RETURN_IF_ERROR(AddBsonType(k, v, s.get()));
      }
    } else if (k == "required") {
      if (!v.is_array()) return KeywordType(k, "an array");
      if (v.as_array().empty()) return ParseError("$jsonSchema keyword 'required' cannot be an empty array");
      for (size_t i = 0; i < v.as_array().size(); ++i) {
        const Value& e = v.as_array()[i];
        if (!e.is_string()) return KeywordType(k, "an array of strings");
        for (size_t j = 0; j < i; ++j) {
          if (v.as_array()[j].as_string() == e.as_string()) {
            return ParseError("$jsonSchema keyword 'required' array cannot contain duplicate values");
          }
        }
      }
      s->required = v.as_array();
    } else if (k == "properties") {
      if (!v.is_document()) return KeywordType(k, "an object");
      s->has_properties = true;
      for (const bson::Field& p : v.as_document()) {
        if (!p.value.is_document()) {
          return Status(ErrorCode::kTypeMismatch, "Nested schema for $jsonSchema property '" + p.name + "' must be an object");
        }
        EDDY_ASSIGN_OR_RETURN(SchemaPtr sub, ParseSchema(p.value.as_document()));
        s->properties.emplace_back(p.name, std::move(sub));
      }
    } else if (k == "additionalProperties") {
      if (v.is_bool()) {
        s->additional_properties = v.as_bool();
      } else if (v.is_document()) {
        EDDY_ASSIGN_OR_RETURN(s->additional_schema, ParseSchema(v.as_document()));
      } else {
        return KeywordType(k, "a boolean or an object");
      }
    } else if (k == "patternProperties") {
      if (!v.is_document()) return KeywordType(k, "an object");
      for (const bson::Field& p : v.as_document()) {
        if (!p.value.is_document()) return KeywordType(k, "an object whose values are objects");
        EDDY_ASSIGN_OR_RETURN(std::shared_ptr<const CompiledRegex> re, CompiledRegex::Compile(p.name, ""));
        EDDY_ASSIGN_OR_RETURN(SchemaPtr sub, ParseSchema(p.value.as_document()));
        s->pattern_properties.emplace_back(std::move(re), std::move(sub));
      }
    } else if (k == "minProperties") {
      EDDY_ASSIGN_OR_RETURN(s->min_properties, NonNegativeInt(k, v));
    } else if (k == "maxProperties") {
      EDDY_ASSIGN_OR_RETURN(s->max_properties, NonNegativeInt(k, v));
    } else if (k == "enum") {
      if (!v.is_array()) return KeywordType(k, "an array");
      if (v.as_array().empty()) return ParseError("$jsonSchema keyword 'enum' cannot be an empty array");
      s->enum_values = v.as_array();
    } else if (k == "minimum" || k == "maximum" || k == "multipleOf") {
      if (!v.is_number()) return KeywordType(k, "a number");
      if (k == "multipleOf" && !(v.ToDouble() > 0)) {
        return ParseError("$jsonSchema keyword 'multipleOf' must have a positive value");
      }
      (k == "minimum" ? s->minimum : k == "maximum" ? s->maximum : s->multiple_of) = v;
    } else if (k == "exclusiveMinimum" || k == "exclusiveMaximum") {
      if (!v.is_bool()) return KeywordType(k, "a boolean");
      (k == "exclusiveMinimum" ? exclusive_min : exclusive_max) = &v;
    } else if (k == "minLength") {
      EDDY_ASSIGN_OR_RETURN(s->min_length, NonNegativeInt(k, v));
    } else if (k == "maxLength") {
      EDDY_ASSIGN_OR_RETURN(s->max_length, NonNegativeInt(k, v));
    } else if (k == "pattern") {
      if (!v.is_string()) return KeywordType(k, "a string");
      EDDY_ASSIGN_OR_RETURN(s->pattern, CompiledRegex::Compile(v.as_string(), ""));
      s->pattern_spec = v;
    } else if (k == "items") {
      if (v.is_document()) {
        EDDY_ASSIGN_OR_RETURN(s->items, ParseSchema(v.as_document()));
      } else if (v.is_array()) {
        s->has_items_tuple = true;
        for (const Value& e : v.as_array()) {
          if (!e.is_document()) return KeywordType(k, "an object or an array of objects");
          EDDY_ASSIGN_OR_RETURN(SchemaPtr sub, ParseSchema(e.as_document()));
          s->items_tuple.push_back(std::move(sub));
        }
      } else {
        return KeywordType(k, "an object or an array of objects");
      }
    } else if (k == "additionalItems") {
      if (v.is_bool()) {
        s->additional_items = v.as_bool();
      } else if (v.is_document()) {
        EDDY_ASSIGN_OR_RETURN(s->additional_items_schema, ParseSchema(v.as_document()));
      } else {
        return KeywordType(k, "a boolean or an object");
      }
    } else if (k == "minItems") {
      EDDY_ASSIGN_OR_RETURN(s->min_items, NonNegativeInt(k, v));
    } else if (k == "maxItems") {
      EDDY_ASSIGN_OR_RETURN(s->max_items, NonNegativeInt(k, v));
    } else if (k == "uniqueItems") {
      if (!v.is_bool()) return KeywordType(k, "a boolean");
      s->unique_items = v.as_bool();
    } else if (k == "allOf") {
      EDDY_ASSIGN_OR_RETURN(s->all_of, ParseSchemaArray(k, v));
    } else if (k == "anyOf") {
      EDDY_ASSIGN_OR_RETURN(s->any_of, ParseSchemaArray(k, v));
    } else if (k == "oneOf") {
      EDDY_ASSIGN_OR_RETURN(s->one_of, ParseSchemaArray(k, v));
    } else if (k == "not") {
      EDDY_ASSIGN_OR_RETURN(s->not_schema, ParseSubschema(k, v));
    } else if (k == "dependencies") {
      if (!v.is_document()) return KeywordType(k, "an object");
      for (const bson::Field& d : v.as_document()) {
        if (d.value.is_document()) {
          EDDY_ASSIGN_OR_RETURN(SchemaPtr sub, ParseSchema(d.value.as_document()));
          s->schema_dependencies.emplace_back(d.name, std::move(sub));
        } else if (d.value.is_array() && !d.value.as_array().empty()) {
          for (const Value& e : d.value.as_array()) {
            if (!e.is_string()) return KeywordType(k, "an object whose values are objects or arrays of strings");
          }
          s->property_dependencies.emplace_back(d.name, d.value.as_array());
        } else {
          return KeywordType(k, "an object whose values are objects or non-empty arrays of strings");
        }
      }
    } else if (k == "title" || k == "description") {
      if (!v.is_string()) return KeywordType(k, "a string");
    } else if (k == "$ref" || k == "$schema" || k == "default" || k == "definitions" ||
               k == "format" || k == "id") {
      return Status(ErrorCode::kFailedToParse, "$jsonSchema keyword '" + k + "' is not currently supported");
    } else {
      return ParseError("Unknown $jsonSchema keyword: " + k);
    }
  }
  if (exclusive_min) {
    if (!s->minimum) return ParseError("$jsonSchema keyword 'minimum' must be a present if exclusiveMinimum is present");
    s->exclusive_minimum = exclusive_min->as_bool();
  }
  if (exclusive_max) {
    if (!s->maximum) return ParseError("$jsonSchema keyword 'maximum' must be a present if exclusiveMaximum is present");
    s->exclusive_maximum = exclusive_max->as_bool();
  }
  return SchemaPtr(std::move(s));
}

// ---- validation ----

Document Failure(std::string op, Document specified, std::string reason) {
  return Document{{"operatorName", std::move(op)}, {"specifiedAs", std::move(specified)},
                  {"reason", std::move(reason)}};
}

// {keyword: <value as given in the schema>}.
Document Specified(const Schema& s, const char* keyword) {
  const Value* v = s.spec.Get(keyword);
  return Document{{keyword, v ? *v : Value()}};
}

Document WithConsidered(Document d, const Value& v) {
  d.Append("consideredValue", v);
  return d;
}

int64_t CodePoints(const std::string& s) {
  int64_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool Check(const Schema& s, const Value& v, Array* out);

// A sub-schema check that reports its failures as an array (nullptr: no details wanted).
bool CheckSub(const Schema& s, const Value& v, Array* details, bool want) {
  return Check(s, v, want ? details : nullptr);
}

bool Check(const Schema& s, const Value& v, Array* out) {
  bool ok = true;
  const bool want = out != nullptr;
  auto fail = [&](Document d) {
    ok = false;
    if (want) out->push_back(std::move(d));
    return want;  // keep going only when collecting details
  };
  if (!s.type_keyword.empty()) {
    bool type_ok = (s.any_number && v.is_number());
    for (Type t : s.types) type_ok = type_ok || v.type() == t;
    if (!type_ok) {
      Document d = WithConsidered(Failure(s.type_keyword, Document{{s.type_keyword, s.type_spec}},
                                          "type did not match"), v);
      d.Append("consideredType", std::string(bson::TypeName(v.type())));
      if (!fail(std::move(d))) return false;
    }
  }
  if (s.enum_values) {
    bool found = false;
    for (const Value& e : *s.enum_values) found = found || bson::Compare(e, v) == 0;
    if (!found && !fail(WithConsidered(Failure("enum", Document{{"enum", *s.enum_values}},
                                               "value was not found in enum"), v))) {
      return false;
    }
  }
  if (v.is_number()) {
    if (s.minimum) {
      int c = bson::Compare(v, *s.minimum);
      if (c < 0 || (c == 0 && s.exclusive_minimum)) {
        Document spec{{"minimum", *s.minimum}};
        if (s.exclusive_minimum) spec.Append("exclusiveMinimum", true);
        if (!fail(WithConsidered(Failure("minimum", std::move(spec), "comparison failed"), v))) return false;
      }
    }
    if (s.maximum) {
      int c = bson::Compare(v, *s.maximum);
      if (c > 0 || (c == 0 && s.exclusive_maximum)) {
        Document spec{{"maximum", *s.maximum}};
        if (s.exclusive_maximum) spec.Append("exclusiveMaximum", true);
        if (!fail(WithConsidered(Failure("maximum", std::move(spec), "comparison failed"), v))) return false;
      }
    }
    if (s.multiple_of) {
      double r = std::fmod(v.ToDouble(), s.multiple_of->ToDouble());
      if ((std::isnan(r) || r != 0) &&
          !fail(WithConsidered(Failure("multipleOf", Document{{"multipleOf", *s.multiple_of}},
                                       "considered value is not a multiple of the specified value"), v))) {
        return false;
      }
    }
  }
  if (v.is_string()) {
    int64_t n = (s.min_length || s.max_length) ? CodePoints(v.as_string()) : 0;
    if (s.min_length && n < *s.min_length &&
        !fail(WithConsidered(Failure("minLength", Specified(s, "minLength"),
                                     "specified string length was not satisfied"), v))) {
      return false;
    }
    if (s.max_length && n > *s.max_length &&
        !fail(WithConsidered(Failure("maxLength", Specified(s, "maxLength"),
                                     "specified string length was not satisfied"), v))) {
      return false;
    }
    if (s.pattern && !s.pattern->Matches(v.as_string()) &&
        !fail(WithConsidered(Failure("pattern", Document{{"pattern", s.pattern_spec}},
                                     "regular expression did not match"), v))) {
      return false;
    }
  }
  if (v.is_document()) {
    const Document& doc = v.as_document();
    if (s.required) {
      Array missing;
      for (const Value& r : *s.required) {
        if (!doc.Has(r.as_string())) missing.push_back(r);
      }
      if (!missing.empty()) {
        Document d{{"operatorName", "required"}, {"specifiedAs", Document{{"required", *s.required}}},
                   {"missingProperties", std::move(missing)}};
        if (!fail(std::move(d))) return false;
      }
    }
    if (s.min_properties || s.max_properties) {
      int64_t n = static_cast<int64_t>(doc.size());
      for (auto [kw, bound, below] : {std::tuple{"minProperties", s.min_properties, true},
                                      std::tuple{"maxProperties", s.max_properties, false}}) {
        if (!bound || (below ? n >= *bound : n <= *bound)) continue;
        Document d = Failure(kw, Specified(s, kw), "specified number of properties was not satisfied");
        d.Append("numberOfProperties", static_cast<int32_t>(n));
        if (!fail(std::move(d))) return false;
      }
    }
    Array props_failed;
    for (const auto& [name, sub] : s.properties) {
      const Value* pv = doc.Get(name);
      if (pv == nullptr) continue;
      Array details;
      if (!CheckSub(*sub, *pv, &details, want)) {
        ok = false;
        if (!want) return false;
        props_failed.push_back(Document{{"propertyName", name}, {"details", std::move(details)}});
      }
    }
    if (!props_failed.empty()) {
      out->push_back(Document{{"operatorName", "properties"}, {"propertiesNotSatisfied", std::move(props_failed)}});
    }
    if (s.additional_properties.has_value() || s.additional_schema || !s.pattern_properties.empty()) {
      Array extra;
      Array extra_failed;
      for (const bson::Field& f : doc) {
        bool known = false;
        for (const auto& [name, sub] : s.properties) known = known || name == f.name;
        for (const auto& [re, sub] : s.pattern_properties) {
          if (!re->Matches(f.name)) continue;
          known = true;
          Array details;
          if (!CheckSub(*sub, f.value, &details, want)) {
            ok = false;
            if (!want) return false;
            extra_failed.push_back(Document{{"propertyName", f.name}, {"details", std::move(details)}});
          }
        }
        if (known) continue;
        if (s.additional_properties == false) {
          extra.push_back(Value(f.name));
        } else if (s.additional_schema) {
          Array details;
          if (!CheckSub(*s.additional_schema, f.value, &details, want)) {
            ok = false;
            if (!want) return false;
            extra_failed.push_back(Document{{"propertyName", f.name}, {"details", std::move(details)}});
          }
        }
      }
      if (!extra.empty()) {
        Document d{{"operatorName", "additionalProperties"},
                   {"specifiedAs", Document{{"additionalProperties", false}}},
                   {"additionalProperties", std::move(extra)}};
        if (!fail(std::move(d))) return false;
      }
      if (!extra_failed.empty()) {
        out->push_back(Document{{"operatorName", "additionalProperties"},
                                {"propertiesNotSatisfied", std::move(extra_failed)}});
      }
    }
    for (const auto& [name, required] : s.property_dependencies) {
      if (!doc.Has(name)) continue;
      Array missing;
      for (const Value& r : required) {
        if (!doc.Has(r.as_string())) missing.push_back(r);
      }
      if (!missing.empty()) {
        Document d{{"operatorName", "dependencies"},
                   {"failingDependencies", Array{Value(Document{{"conditionalProperty", name},
                                                                {"missingProperties", std::move(missing)}})}}};
        if (!fail(std::move(d))) return false;
      }
    }
    for (const auto& [name, sub] : s.schema_dependencies) {
      if (!doc.Has(name)) continue;
      Array details;
      if (!CheckSub(*sub, v, &details, want)) {
        Document d{{"operatorName", "dependencies"},
                   {"failingDependencies", Array{Value(Document{{"conditionalProperty", name},
                                                                {"details", std::move(details)}})}}};
        if (!fail(std::move(d))) return false;
      }
    }
  }
  if (v.is_array()) {
    const Array& arr = v.as_array();
    int64_t n = static_cast<int64_t>(arr.size());
    if (s.min_items && n < *s.min_items &&
        !fail(WithConsidered(Failure("minItems", Specified(s, "minItems"),
                                     "array did not match specified length"), v))) {
      return false;
    }
    if (s.max_items && n > *s.max_items &&
        !fail(WithConsidered(Failure("maxItems", Specified(s, "maxItems"),
                                     "array did not match specified length"), v))) {
      return false;
    }
    if (s.unique_items) {
      for (size_t i = 0; i < arr.size(); ++i) {
        bool dup = false;
        for (size_t j = 0; j < i && !dup; ++j) dup = bson::Compare(arr[i], arr[j]) == 0;
        if (dup) {
          Document d = Failure("uniqueItems", Document{{"uniqueItems", true}}, "found a duplicate item");
          d.Append("consideredValue", v);
          d.Append("duplicatedValue", arr[i]);
          if (!fail(std::move(d))) return false;
          break;
        }
      }
    }
    auto check_item = [&](const Schema& sub, size_t i, const char* keyword) {
      Array details;
      if (CheckSub(sub, arr[i], &details, want)) return true;
      Document d{{"operatorName", keyword},
                 {"reason", "At least one item did not match the sub-schema"},
                 {"itemIndex", static_cast<int32_t>(i)}, {"details", std::move(details)}};
      return fail(std::move(d));
    };
    if (s.items) {
      // The first failing item is reported, as mongod does.
      for (size_t i = 0; i < arr.size(); ++i) {
        Array details;
        if (CheckSub(*s.items, arr[i], &details, want)) continue;
        Document d{{"operatorName", "items"},
                   {"reason", "At least one item did not match the sub-schema"},
                   {"itemIndex", static_cast<int32_t>(i)}, {"details", std::move(details)}};
        if (!fail(std::move(d))) return false;
        break;
      }
    } else if (s.has_items_tuple) {
      for (size_t i = 0; i < arr.size(); ++i) {
        if (i < s.items_tuple.size()) {
          if (!check_item(*s.items_tuple[i], i, "items")) return false;
        } else if (s.additional_items == false) {
          Document d = Failure("additionalItems", Document{{"additionalItems", false}},
                               "found additional items");
          d.Append("additionalItems", Array(arr.begin() + static_cast<long>(i), arr.end()));
          if (!fail(std::move(d))) return false;
          break;
        } else if (s.additional_items_schema) {
          if (!check_item(*s.additional_items_schema, i, "additionalItems")) return false;
        }
      }
    }
  }
  auto schema_list = [&](const char* keyword, const std::vector<SchemaPtr>& list, Array* failed) {
    int matched = 0;
    for (size_t i = 0; i < list.size(); ++i) {
      Array details;
      if (CheckSub(*list[i], v, &details, want)) {
        ++matched;
      } else if (want) {
        failed->push_back(Document{{"index", static_cast<int32_t>(i)}, {"details", std::move(details)}});
      }
    }
    return matched;
  };
  if (!s.all_of.empty()) {
    Array failed;
    if (schema_list("allOf", s.all_of, &failed) != static_cast<int>(s.all_of.size()) &&
        !fail(Document{{"operatorName", "allOf"}, {"schemasNotSatisfied", std::move(failed)}})) {
      return false;
    }
  }
  if (!s.any_of.empty()) {
    Array failed;
    if (schema_list("anyOf", s.any_of, &failed) == 0 &&
        !fail(Document{{"operatorName", "anyOf"}, {"schemasNotSatisfied", std::move(failed)}})) {
      return false;
    }
  }
  if (!s.one_of.empty()) {
    Array failed;
    int matched = schema_list("oneOf", s.one_of, &failed);
    if (matched == 0 &&
        !fail(Document{{"operatorName", "oneOf"}, {"schemasNotSatisfied", std::move(failed)}})) {
      return false;
    }
    if (matched > 1 && !fail(Document{{"operatorName", "oneOf"}, {"reason", "more than one subschema matched"}})) {
      return false;
    }
  }
  if (s.not_schema && Check(*s.not_schema, v, nullptr) &&
      !fail(Document{{"operatorName", "not"}, {"reason", "child expression matched"}})) {
    return false;
  }
  return ok;
}

}  // namespace
}  // namespace schema_internal

Result<JsonSchema> JsonSchema::Parse(const bson::Document& schema) {
  JsonSchema out;
  EDDY_ASSIGN_OR_RETURN(out.root_, schema_internal::ParseSchema(schema));
  out.spec_ = std::make_shared<const bson::Document>(schema);
  return out;
}

const bson::Document& JsonSchema::spec() const { return *spec_; }

bool JsonSchema::Matches(const bson::Document& doc) const {
  return schema_internal::Check(*root_, bson::Value(doc), nullptr);
}

bool JsonSchema::Validate(const bson::Document& doc, bson::Document* details) const {
  bson::Array failures;
  if (schema_internal::Check(*root_, bson::Value(doc), &failures)) return true;
  *details = bson::Document{{"operatorName", "$jsonSchema"},
                            {"schemaRulesNotSatisfied", std::move(failures)}};
  return false;
}

}  // namespace eddy::query
