// MongoDB's $jsonSchema (draft 4 subset with bsonType), as a query operator and in collection
// validators. Keywords: bsonType, type (JSON types; "integer" refused as mongod does),
// required, properties, additionalProperties (bool or schema), patternProperties,
// minProperties/maxProperties, enum, minimum/maximum with exclusiveMinimum/exclusiveMaximum
// (booleans), multipleOf, minLength/maxLength (code points), pattern, items (schema or array
// of schemas), additionalItems, minItems/maxItems, uniqueItems, allOf/anyOf/oneOf/not,
// dependencies, title/description (ignored).
//
// As in mongod, a keyword constrains only the values of its types (minimum ignores a string,
// properties ignores a non-object); `type`/`bsonType` say which types are allowed.
//
// Parse errors are mongod's FailedToParse (9) / TypeMismatch (14) naming the keyword, e.g.
// "$jsonSchema keyword 'minimum' must be a number", "Unknown $jsonSchema keyword: foo".
//
// Thread-safety: immutable after Parse; Validate may run concurrently.
#pragma once
#include <memory>
#include <optional>

#include "base/status.h"
#include "bson/value.h"

namespace eddy::query {

namespace schema_internal {
struct Schema;
}

class JsonSchema {
 public:
  static Result<JsonSchema> Parse(const bson::Document& schema);

  // Whether the document satisfies the schema.
  bool Matches(const bson::Document& doc) const;
  // The same, and when it does not, *details gets mongod's explanation shape:
  // {operatorName: "$jsonSchema", schemaRulesNotSatisfied: [{operatorName: <keyword>,
  // specifiedAs: {<keyword>: ...}, reason, consideredValue, ...}, {operatorName: "properties",
  // propertiesNotSatisfied: [{propertyName, details: [...]}]}, ...]}.
  bool Validate(const bson::Document& doc, bson::Document* details) const;

  const bson::Document& spec() const;

 private:
  std::shared_ptr<const schema_internal::Schema> root_;
  std::shared_ptr<const bson::Document> spec_;
};

}  // namespace eddy::query
