// $jsonSchema: each keyword accepting and rejecting documents, parse errors with mongod's
// codes, and the failure details validators report.
#include "query/match/json_schema.h"

#include <gtest/gtest.h>

#include "bson/json.h"
#include "query/match/matcher.h"

namespace eddy::query {
namespace {

bson::Document J(std::string_view s) {
  auto r = bson::ParseJson(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().ToString();
  return r.ok() ? *r : bson::Document();
}

struct Case {
  const char* schema;
  const char* doc;
  bool matches;
};

TEST(JsonSchemaTest, KeywordsAcceptAndReject) {
  const Case kCases[] = {
      // bsonType / type
      {"{properties: {a: {bsonType: 'int'}}}", "{a: 1}", true},
      {"{properties: {a: {bsonType: 'int'}}}", "{a: 1.5}", false},
      {"{properties: {a: {bsonType: 'int'}}}", "{}", true},  // properties ignore missing fields
      {"{properties: {a: {bsonType: ['string', 'null']}}}", "{a: null}", true},
      {"{properties: {a: {bsonType: ['string', 'null']}}}", "{a: 3}", false},
      {"{properties: {a: {bsonType: 'number'}}}", "{a: NumberLong(3)}", true},
      {"{properties: {a: {bsonType: 'objectId'}}}", "{a: ObjectId('0123456789abcdef01234567')}", true},
      {"{properties: {a: {type: 'number'}}}", "{a: 2.5}", true},
      {"{properties: {a: {type: 'object'}}}", "{a: [1]}", false},
      {"{properties: {a: {type: 'array'}}}", "{a: [1]}", true},
      {"{properties: {a: {type: 'boolean'}}}", "{a: true}", true},
      {"{bsonType: 'object'}", "{a: 1}", true},
      {"{bsonType: 'array'}", "{a: 1}", false},
      // required
      {"{required: ['a', 'b']}", "{a: 1, b: null}", true},
      {"{required: ['a', 'b']}", "{a: 1}", false},
      // additionalProperties
      {"{properties: {_id: {}, a: {}}, additionalProperties: false}", "{_id: 1, a: 1}", true},
      {"{properties: {_id: {}, a: {}}, additionalProperties: false}", "{_id: 1, b: 1}", false},
      {"{properties: {_id: {}}, additionalProperties: {bsonType: 'string'}}", "{_id: 1, x: 's'}", true},
      {"{properties: {_id: {}}, additionalProperties: {bsonType: 'string'}}", "{_id: 1, x: 2}", false},
      {"{patternProperties: {'^s_': {bsonType: 'string'}}}", "{s_a: 'x', n: 1}", true},
      {"{patternProperties: {'^s_': {bsonType: 'string'}}}", "{s_a: 1}", false},
      {"{properties: {_id: {}}, patternProperties: {'^x': {}}, additionalProperties: false}", "{_id: 1, xy: 1}", true},
      // min/maxProperties
      {"{minProperties: 2}", "{a: 1}", false},
      {"{maxProperties: 1}", "{a: 1}", true},
      {"{maxProperties: 1}", "{a: 1, b: 2}", false},
      // enum
      {"{properties: {s: {enum: ['new', 'paid']}}}", "{s: 'paid'}", true},
      {"{properties: {s: {enum: ['new', 'paid']}}}", "{s: 'lost'}", false},
      {"{properties: {s: {enum: [1, {x: 1}]}}}", "{s: {x: 1}}", true},
      // minimum / maximum / exclusive / multipleOf
      {"{properties: {n: {minimum: 0}}}", "{n: 0}", true},
      {"{properties: {n: {minimum: 0}}}", "{n: -1}", false},
      {"{properties: {n: {minimum: 0, exclusiveMinimum: true}}}", "{n: 0}", false},
      {"{properties: {n: {maximum: 10}}}", "{n: 10.0}", true},
      {"{properties: {n: {maximum: 10, exclusiveMaximum: true}}}", "{n: 10}", false},
      {"{properties: {n: {maximum: 10}}}", "{n: NumberLong(11)}", false},
      {"{properties: {n: {minimum: 5}}}", "{n: 'text'}", true},  // numeric keywords ignore strings
      {"{properties: {n: {multipleOf: 3}}}", "{n: 9}", true},
      {"{properties: {n: {multipleOf: 3}}}", "{n: 10}", false},
      // minLength / maxLength (code points) / pattern
      {"{properties: {s: {minLength: 2}}}", "{s: 'ab'}", true},
      {"{properties: {s: {minLength: 3}}}", "{s: 'ab'}", false},
      {"{properties: {s: {maxLength: 2}}}", "{s: 'éé'}", true},
      {"{properties: {s: {maxLength: 1}}}", "{s: 'éé'}", false},
      {"{properties: {s: {pattern: '^[a-z]+$'}}}", "{s: 'abc'}", true},
      {"{properties: {s: {pattern: '^[a-z]+$'}}}", "{s: 'ab1'}", false},
      {"{properties: {s: {minLength: 5}}}", "{s: 12}", true},  // string keywords ignore numbers
      // items / minItems / maxItems / uniqueItems / additionalItems
      {"{properties: {t: {items: {bsonType: 'string'}}}}", "{t: ['a', 'b']}", true},
      {"{properties: {t: {items: {bsonType: 'string'}}}}", "{t: ['a', 2]}", false},
      {"{properties: {t: {items: [{bsonType: 'int'}, {bsonType: 'string'}]}}}", "{t: [1, 'a', true]}", true},
      {"{properties: {t: {items: [{bsonType: 'int'}], additionalItems: false}}}", "{t: [1, 2]}", false},
      {"{properties: {t: {items: [{bsonType: 'int'}], additionalItems: {bsonType: 'string'}}}}", "{t: [1, 'x']}", true},
      {"{properties: {t: {minItems: 1}}}", "{t: []}", false},
      {"{properties: {t: {maxItems: 2}}}", "{t: [1, 2, 3]}", false},
      {"{properties: {t: {uniqueItems: true}}}", "{t: [1, 2, 3]}", true},
      {"{properties: {t: {uniqueItems: true}}}", "{t: [1, 2, 1]}", false},
      {"{properties: {t: {uniqueItems: true}}}", "{t: [{a: 1}, {a: 1}]}", false},
      // nested objects
      {"{properties: {o: {required: ['x'], properties: {x: {bsonType: 'int'}}}}}", "{o: {x: 1}}", true},
      {"{properties: {o: {required: ['x']}}}", "{o: {y: 1}}", false},
      // allOf / anyOf / oneOf / not
      {"{properties: {n: {allOf: [{minimum: 1}, {maximum: 3}]}}}", "{n: 2}", true},
      {"{properties: {n: {allOf: [{minimum: 1}, {maximum: 3}]}}}", "{n: 4}", false},
      {"{properties: {n: {anyOf: [{bsonType: 'string'}, {minimum: 10}]}}}", "{n: 11}", true},
      {"{properties: {n: {anyOf: [{bsonType: 'string'}, {minimum: 10}]}}}", "{n: 1}", false},
      {"{properties: {n: {oneOf: [{minimum: 1}, {minimum: 5}]}}}", "{n: 3}", true},
      {"{properties: {n: {oneOf: [{minimum: 1}, {minimum: 5}]}}}", "{n: 6}", false},
      {"{properties: {n: {not: {bsonType: 'string'}}}}", "{n: 's'}", false},
      {"{properties: {n: {not: {bsonType: 'string'}}}}", "{n: 1}", true},
      // dependencies
      {"{dependencies: {card: ['billing']}}", "{card: 1, billing: 2}", true},
      {"{dependencies: {card: ['billing']}}", "{card: 1}", false},
      {"{dependencies: {card: ['billing']}}", "{other: 1}", true},
      {"{dependencies: {card: {required: ['cvv']}}}", "{card: 1}", false},
      // annotations
      {"{title: 't', description: 'd', required: ['a']}", "{a: 1}", true},
  };
  for (const Case& c : kCases) {
    Result<JsonSchema> s = JsonSchema::Parse(J(c.schema));
    ASSERT_TRUE(s.ok()) << c.schema << ": " << s.status().ToString();
    EXPECT_EQ(s->Matches(J(c.doc)), c.matches) << c.schema << " on " << c.doc;
    bson::Document details;
    EXPECT_EQ(s->Validate(J(c.doc), &details), c.matches) << c.schema << " on " << c.doc;
    if (!c.matches) {
      EXPECT_EQ(details.Get("operatorName")->as_string(), "$jsonSchema");
      EXPECT_FALSE(details.Get("schemaRulesNotSatisfied")->as_array().empty()) << c.schema;
    }
    // The same through the matcher's top-level operator.
    Result<Matcher> m = Matcher::Compile(bson::Document{{"$jsonSchema", J(c.schema)}});
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->Matches(J(c.doc)), c.matches) << c.schema << " on " << c.doc;
  }
}

TEST(JsonSchemaTest, ParseErrorsNameTheKeyword) {
  struct Bad {
    const char* schema;
    int code;
    const char* message_part;
  };
  const Bad kBad[] = {
      {"{foo: 1}", 9, "Unknown $jsonSchema keyword: foo"},
      {"{$ref: '#/x'}", 9, "'$ref' is not currently supported"},
      {"{type: 'integer'}", 9, "'integer' is not currently supported"},
      {"{bsonType: 'integr'}", 9, "Unknown type name alias: integr"},
      {"{bsonType: 1}", 14, "'bsonType' must be a string"},
      {"{type: 'string', bsonType: 'string'}", 9, "both $jsonSchema keywords 'type' and 'bsonType'"},
      {"{required: []}", 9, "'required' cannot be an empty array"},
      {"{required: ['a', 'a']}", 9, "duplicate values"},
      {"{required: [1]}", 14, "'required' must be an array of strings"},
      {"{properties: {a: 1}}", 14, "property 'a' must be an object"},
      {"{minimum: 'x'}", 14, "'minimum' must be a number"},
      {"{exclusiveMinimum: true}", 9, "'minimum' must be a present"},
      {"{minLength: -1}", 9, "'minLength' must be a non-negative integer"},
      {"{maxItems: 1.5}", 9, "'maxItems' must be a representable integer"},
      {"{pattern: '('}", 51091, "Regular expression is invalid"},
      {"{enum: []}", 9, "'enum' cannot be an empty array"},
      {"{items: 1}", 14, "'items' must be an object or an array of objects"},
      {"{anyOf: []}", 9, "'anyOf' must be a non-empty array"},
      {"{multipleOf: 0}", 9, "'multipleOf' must have a positive value"},
      {"{additionalProperties: 1}", 14, "'additionalProperties' must be a boolean or an object"},
  };
  for (const Bad& b : kBad) {
    Result<JsonSchema> s = JsonSchema::Parse(J(b.schema));
    ASSERT_FALSE(s.ok()) << b.schema;
    EXPECT_EQ(s.status().code_number(), b.code) << b.schema << ": " << s.status().ToString();
    EXPECT_NE(s.status().message().find(b.message_part), std::string::npos)
        << b.schema << ": " << s.status().message();
  }
  Result<Matcher> m = Matcher::Compile(J("{$jsonSchema: 1}"));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), ErrorCode::kTypeMismatch);
}

TEST(JsonSchemaTest, DetailsNameTheFailingRules) {
  Result<JsonSchema> s = JsonSchema::Parse(
      J("{required: ['name', 'qty'], properties: {qty: {bsonType: 'int', minimum: 0}}}"));
  ASSERT_TRUE(s.ok());
  bson::Document details;
  ASSERT_FALSE(s->Validate(J("{qty: -2}"), &details));
  EXPECT_EQ(bson::ToJson(details, bson::JsonMode::kShell),
            bson::ToJson(J("{operatorName: '$jsonSchema', schemaRulesNotSatisfied: ["
                           "{operatorName: 'required', specifiedAs: {required: ['name', 'qty']},"
                           " missingProperties: ['name']},"
                           "{operatorName: 'properties', propertiesNotSatisfied: [{propertyName: 'qty',"
                           " details: [{operatorName: 'minimum', specifiedAs: {minimum: 0},"
                           " reason: 'comparison failed', consideredValue: -2}]}]}]}"),
                         bson::JsonMode::kShell));
  ASSERT_FALSE(s->Validate(J("{name: 'x', qty: 'many'}"), &details));
  std::string text = bson::ToJson(details, bson::JsonMode::kShell);
  EXPECT_NE(text.find("type did not match"), std::string::npos) << text;
  EXPECT_NE(text.find("consideredType: \"string\""), std::string::npos) << text;
}

TEST(JsonSchemaTest, ItemsReportTheFirstFailingItemAfterOtherFailures) {
  Result<JsonSchema> s = JsonSchema::Parse(
      J("{properties: {t: {minItems: 5, items: {bsonType: 'int'}}}}"));
  ASSERT_TRUE(s.ok());
  bson::Document details;
  ASSERT_FALSE(s->Validate(J("{t: [1, 'x', 'y']}"), &details));
  std::string text = bson::ToJson(details, bson::JsonMode::kShell);
  EXPECT_NE(text.find("minItems"), std::string::npos) << text;
  EXPECT_NE(text.find("itemIndex: 1"), std::string::npos) << text;
  EXPECT_EQ(text.find("itemIndex: 2"), std::string::npos) << text;
}

}  // namespace
}  // namespace eddy::query
