#include "query/exec/validation.h"

#include "bson/codec.h"
#include "bson/compare.h"
#include "query/match/json_schema.h"

namespace eddy::query {
namespace {

Status EnumError(std::string_view field, const bson::Value& v) {
  if (!v.is_string()) {
    return Status(ErrorCode::kTypeMismatch, "BSON field '" + std::string(field) + "' is the wrong type '" +
                                                std::string(bson::TypeName(v.type())) +
                                                "', expected type 'string'");
  }
  return Status(ErrorCode::kBadValue, "Enumeration value '" + v.as_string() + "' for field '" +
                                          std::string(field) + "' is not a valid value.");
}

// The values a path reaches (top-level or dotted through documents; arrays are reported whole).
const bson::Value* Lookup(const bson::Document& doc, const std::string& path) {
  const bson::Document* cur = &doc;
  size_t start = 0;
  for (;;) {
    size_t dot = path.find('.', start);
    const bson::Value* v = cur->Get(std::string_view(path).substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (v == nullptr || dot == std::string::npos) return v;
    if (!v->is_document()) return nullptr;
    cur = &v->as_document();
    start = dot + 1;
  }
}

std::string ReasonFor(const std::string& op, bool exists_arg) {
  if (op == "$type") return "type did not match";
  if (op == "$eq" || op == "$ne" || op == "$gt" || op == "$gte" || op == "$lt" || op == "$lte") {
    return "comparison failed";
  }
  if (op == "$in") return "no matching value found in array";
  if (op == "$nin") return "matching value found in array";
  if (op == "$exists") return exists_arg ? "path does not exist" : "path does exist";
  if (op == "$regex") return "regular expression did not match";
  if (op == "$size") return "array length was not equal to given size";
  if (op == "$all") return "array did not contain all specified values";
  if (op == "$elemMatch") return "array did not satisfy the child predicate";
  if (op == "$mod") return "$mod did not evaluate to expected remainder";
  return "expression did not match";
}

bson::Document ExplainClause(const bson::Field& clause, const bson::Document& doc);

// {$and/$or/...: [...]} and the top level (an implicit $and of its fields).
bson::Document ExplainList(const std::string& op, const bson::Array& clauses, const bson::Document& doc) {
  bson::Array failed;
  for (size_t i = 0; i < clauses.size(); ++i) {
    if (!clauses[i].is_document()) continue;
    Result<Matcher> m = Matcher::Compile(clauses[i].as_document());
    if (op == "$and" && m.ok() && m->Matches(doc)) continue;
    bson::Document d = clauses[i].as_document().size() == 1
                           ? ExplainClause(clauses[i].as_document().at(0), doc)
                           : ExplainList("$and", [&] {
                               bson::Array a;
                               for (const bson::Field& f : clauses[i].as_document()) a.push_back(bson::Document{{f.name, f.value}});
                               return a;
                             }(), doc);
    failed.push_back(bson::Document{{"index", static_cast<int32_t>(i)}, {"details", std::move(d)}});
  }
  return bson::Document{{"operatorName", op}, {"clausesNotSatisfied", std::move(failed)}};
}

bson::Document ExplainClause(const bson::Field& clause, const bson::Document& doc) {
  const std::string& name = clause.name;
  if (name == "$jsonSchema" && clause.value.is_document()) {
    Result<JsonSchema> schema = JsonSchema::Parse(clause.value.as_document());
    bson::Document details;
    if (schema.ok() && !schema->Validate(doc, &details)) return details;
    return bson::Document{{"operatorName", "$jsonSchema"}, {"specifiedAs", bson::Document{{name, clause.value}}}};
  }
  if ((name == "$and" || name == "$or") && clause.value.is_array()) {
    return ExplainList(name, clause.value.as_array(), doc);
  }
  if (!name.empty() && name[0] == '$') {
    bson::Document d{{"operatorName", name}, {"specifiedAs", bson::Document{{name, clause.value}}}};
    if (name == "$nor") d.Append("reason", "child expression matched");
    else if (name == "$expr") d.Append("expressionResult", false);
    else d.Append("reason", "expression did not match");
    return d;
  }
  // A path predicate: {path: value} or {path: {$op: arg, ...}}.
  const bson::Value* v = Lookup(doc, name);
  bool ops = clause.value.is_document() && !clause.value.as_document().empty() &&
             clause.value.as_document().at(0).name[0] == '$';
  auto one = [&](const std::string& op, const bson::Value& arg) {
    bson::Document spec{{name, op == "$eq" && !ops ? arg : bson::Value(bson::Document{{op, arg}})}};
    bson::Document d{{"operatorName", op}, {"specifiedAs", std::move(spec)}};
    if (v == nullptr && op != "$exists" && op != "$ne" && op != "$nin") {
      d.Append("reason", "field was missing");
      return d;
    }
    d.Append("reason", ReasonFor(op, arg.Truthy()));
    if (v != nullptr) {
      d.Append("consideredValue", *v);
      if (op == "$type") d.Append("consideredType", std::string(bson::TypeName(v->type())));
    }
    return d;
  };
  if (!ops) return one("$eq", clause.value);
  std::vector<bson::Document> failures;
  for (const bson::Field& f : clause.value.as_document()) {
    if (f.name == "$options") continue;
    bson::Document single{{name, bson::Document{{f.name, f.value}}}};
    if (f.name == "$regex" && clause.value.as_document().Has("$options")) {
      single = bson::Document{{name, bson::Document{{f.name, f.value}, {"$options", *clause.value.as_document().Get("$options")}}}};
    }
    Result<Matcher> m = Matcher::Compile(single);
    if (m.ok() && m->Matches(doc)) continue;
    failures.push_back(one(f.name, f.value));
  }
  if (failures.size() == 1) return std::move(failures[0]);
  bson::Array arr;
  for (size_t i = 0; i < failures.size(); ++i) {
    arr.push_back(bson::Document{{"index", static_cast<int32_t>(i)}, {"details", std::move(failures[i])}});
  }
  return bson::Document{{"operatorName", "$and"}, {"clausesNotSatisfied", std::move(arr)}};
}

}  // namespace

Status CheckValidationOptions(const bson::Document& options) {
  if (const bson::Value* v = options.Get("validator")) {
    if (!v->is_document()) {
      return Status(ErrorCode::kTypeMismatch, "BSON field 'validator' is the wrong type '" +
                                                  std::string(bson::TypeName(v->type())) +
                                                  "', expected type 'object'");
    }
    for (const bson::Field& f : v->as_document()) {
      if (f.name == "$where" || f.name == "$text") {
        return Status(ErrorCode::kQueryFeatureNotAllowed, f.name + " is not allowed in collection validators");
      }
    }
    EDDY_RETURN_IF_ERROR(Matcher::Compile(v->as_document()).status());
  }
  if (const bson::Value* v = options.Get("validationLevel")) {
    if (!v->is_string() || (v->as_string() != "strict" && v->as_string() != "moderate" && v->as_string() != "off")) {
      return EnumError("validationLevel", *v);
    }
  }
  if (const bson::Value* v = options.Get("validationAction")) {
    if (!v->is_string() || (v->as_string() != "error" && v->as_string() != "warn")) {
      return EnumError("validationAction", *v);
    }
  }
  return Status::OK();
}

Result<std::optional<CollectionValidator>> CollectionValidator::ForCollection(
    const storage::CollectionInfo& c, bool bypass) {
  if (bypass) return std::optional<CollectionValidator>();
  const bson::Value* validator = c.options.Get("validator");
  if (validator == nullptr || !validator->is_document() || validator->as_document().empty()) {
    return std::optional<CollectionValidator>();
  }
  const bson::Value* level = c.options.Get("validationLevel");
  if (level && level->is_string() && level->as_string() == "off") return std::optional<CollectionValidator>();
  CollectionValidator out;
  EDDY_ASSIGN_OR_RETURN(Matcher m, Matcher::Compile(validator->as_document()));
  out.matcher_ = std::make_shared<const Matcher>(std::move(m));
  out.validator_ = validator->as_document();
  out.moderate_ = level && level->is_string() && level->as_string() == "moderate";
  const bson::Value* action = c.options.Get("validationAction");
  out.warn_ = action && action->is_string() && action->as_string() == "warn";
  return std::optional<CollectionValidator>(std::move(out));
}

Status CollectionValidator::Check(const bson::Document* before, const bson::Document& after) const {
  if (matcher_->Matches(after)) return Status::OK();
  if (moderate_ && before != nullptr && !matcher_->Matches(*before)) return Status::OK();
  if (warn_) return Status::OK();
  bson::Document err_info;
  if (const bson::Value* id = after.Get("_id")) err_info.Append("failingDocumentId", *id);
  err_info.Append("details", Explain(validator_, after));
  return Status(kDocumentValidationFailure, "Document failed validation")
      .WithExtraInfo(bson::Encode(bson::Document{{"errInfo", std::move(err_info)}}));
}

bson::Document CollectionValidator::Explain(const bson::Document& validator, const bson::Document& doc) {
  if (validator.size() == 1) return ExplainClause(validator.at(0), doc);
  bson::Array clauses;
  for (const bson::Field& f : validator) clauses.push_back(bson::Document{{f.name, f.value}});
  return ExplainList("$and", clauses, doc);
}

}  // namespace eddy::query
