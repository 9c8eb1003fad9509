#include "bson/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "bson/codec.h"
#include "bson/compare.h"

namespace eddy::bson {
namespace {

Value PV(std::string_view text) {
  auto r = ParseJsonValue(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : Value(MinKey{});
}

Document PD(std::string_view text) {
  auto r = ParseJson(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : Document{};
}

ObjectId Oid(std::string_view hex) {
  ObjectId o;
  EXPECT_TRUE(ObjectId::FromHex(hex, &o));
  return o;
}

struct ParseCase {
  const char* text;
  Value expected;
};

TEST(JsonParseTest, Values) {
  const double kInf = std::numeric_limits<double>::infinity();
  const std::vector<ParseCase> cases = {
      // numbers: int32, then int64, then double; '.', 'e' make a double
      {"0", int32_t{0}},
      {"-0", int32_t{0}},
      {"2147483647", int32_t{2147483647}},
      {"-2147483648", int32_t{-2147483647 - 1}},
      {"2147483648", int64_t{2147483648}},
      {"-9223372036854775808", std::numeric_limits<int64_t>::min()},
      {"9223372036854775808", 9223372036854775808.0},
      {"1.0", 1.0},
      {"1e3", 1000.0},
      {"1E-2", 0.01},
      {"-1.5e+2", -150.0},
      {".5", 0.5},
      {"+5", int32_t{5}},
      {"1e400", kInf},
      {"Infinity", kInf},
      {"-Infinity", -kInf},
      // literals
      {"true", true},
      {"false", false},
      {"null", Value()},
      {"undefined", Undefined{}},
      {"MinKey", MinKey{}},
      {"MaxKey()", MaxKey{}},
      // strings
      {R"("a\"b\\c\/d\b\f\n\r\t")", Value("a\"b\\c/d\b\f\n\r\t")},
      {R"('single "quoted"')", Value("single \"quoted\"")},
      {R"("\u00e9\u65e5\ud83d\ude00")", Value("é日😀")},
      {"\"é日😀\"", Value("é日😀")},
      {R"("\u0000")", Value(std::string(1, '\0'))},
      // shell constructors
      {"ObjectId(\"507f1f77bcf86cd799439011\")", Oid("507f1f77bcf86cd799439011")},
      {"new ObjectId('507F1F77BCF86CD799439011')", Oid("507f1f77bcf86cd799439011")},
      {"ISODate(\"2024-01-01T00:00:00Z\")", DateTime{1704067200000}},
      {"ISODate(\"2024-01-01T00:00:00.123Z\")", DateTime{1704067200123}},
      {"ISODate(\"2024-01-01T01:00:00+01:00\")", DateTime{1704067200000}},
      {"ISODate(\"2024-01-01T00:00:00.5-0130\")", DateTime{1704067200500 + 5400000}},
      {"ISODate(\"2024-01-01\")", DateTime{1704067200000}},
      {"ISODate(\"1969-12-31T23:59:59.999Z\")", DateTime{-1}},
      {"ISODate(\"0000-01-01T00:00:00Z\")", DateTime{-62167219200000}},
      {"new Date(1704067200000)", DateTime{1704067200000}},
      {"new Date(\"2024-01-01T00:00:00Z\")", DateTime{1704067200000}},
      {"NumberLong(5)", int64_t{5}},
      {"NumberLong(\"-9223372036854775808\")", std::numeric_limits<int64_t>::min()},
      {"NumberInt(7)", int32_t{7}},
      {"NumberInt(\"7\")", int32_t{7}},
      {"NumberDecimal(\"1.10\")", Decimal128::FromString("1.10")},
      {"NumberDecimal(1.1)", Decimal128::FromString("1.1")},
      {"Timestamp(1, 2)", Timestamp{1, 2}},
      {"Timestamp({t: 4294967295, i: 3})", Timestamp{4294967295u, 3}},
      {"BinData(0, \"AQID\")", Binary{0, "\x01\x02\x03"}},
      {"BinData(128, \"\")", Binary{128, ""}},
      {"HexData(5, \"0a0B\")", Binary{5, "\x0a\x0b"}},
      {"UUID(\"00112233-4455-6677-8899-aabbccddeeff\")",
       Binary{4, std::string("\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff", 16)}},
      {"/ab+c/", Regex{"ab+c", ""}},
      {"/a\\/b[/]\\d/mi", Regex{"a/b[/]\\d", "im"}},
      {"Code(\"f()\")", Code{"f()"}},
      {"Symbol(\"s\")", Symbol{"s"}},
      // Extended JSON v2
      {R"({"$oid": "507f1f77bcf86cd799439011"})", Oid("507f1f77bcf86cd799439011")},
      {R"({"$numberInt": "-5"})", int32_t{-5}},
      {R"({"$numberLong": "5"})", int64_t{5}},
      {R"({"$numberDouble": "1.5"})", 1.5},
      {R"({"$numberDouble": "-Infinity"})", -kInf},
      {R"({"$numberDouble": "-0.0"})", -0.0},
      {R"({"$numberDecimal": "-1.5E+10"})", Decimal128::FromString("-1.5E+10")},
      {R"({"$numberDecimal": "NaN"})", Decimal128::FromString("NaN")},
      {R"({"$binary": {"base64": "AQID", "subType": "80"}})", Binary{0x80, "\x01\x02\x03"}},
      {R"({"$binary": {"subType": "5", "base64": ""}})", Binary{5, ""}},
      {R"({"$binary": "AQID", "$type": "00"})", Binary{0, "\x01\x02\x03"}},
      {R"({"$uuid": "00112233-4455-6677-8899-aabbccddeeff"})",
       Binary{4, std::string("\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff", 16)}},
      {R"({"$date": "2024-01-01T00:00:00Z"})", DateTime{1704067200000}},
      {R"({"$date": {"$numberLong": "-1"}})", DateTime{-1}},
      {R"({"$date": 1704067200000})", DateTime{1704067200000}},
      {R"({"$timestamp": {"t": 1, "i": 2}})", Timestamp{1, 2}},
      {R"({"$regularExpression": {"pattern": "^x", "options": "xi"}})", Regex{"^x", "ix"}},
      {R"({"$symbol": "sym"})", Symbol{"sym"}},
      {R"j({"$code": "f()"})j", Code{"f()"}},
      {R"({"$dbPointer": {"$ref": "db.c", "$id": {"$oid": "507f1f77bcf86cd799439011"}}})",
       DBPointer{"db.c", Oid("507f1f77bcf86cd799439011")}},
      {R"({"$minKey": 1})", MinKey{}},
      {R"({"$maxKey": 1})", MaxKey{}},
      {R"({"$undefined": true})", Undefined{}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    Value v = PV(c.text);
    EXPECT_EQ(v.type(), c.expected.type()) << TypeName(v.type());
    EXPECT_TRUE(v == c.expected) << ToJson(v, JsonMode::kCanonical) << " vs "
                                 << ToJson(c.expected, JsonMode::kCanonical);
    if (c.expected.is_double()) {
      EXPECT_EQ(std::signbit(v.as_double_exact()), std::signbit(c.expected.as_double_exact()));
    }
  }
  EXPECT_TRUE(std::isnan(PV("NaN").as_double_exact()));
  EXPECT_TRUE(std::isnan(PV(R"({"$numberDouble": "NaN"})").as_double_exact()));
  // Code with scope, in both syntaxes.
  Value cws = PV(R"j({"$code": "f(x)", "$scope": {"x": 1}})j");
  ASSERT_EQ(cws.type(), Type::kJavaScriptWithScope);
  EXPECT_TRUE(cws == Value(std::make_shared<const CodeWithScope>(
                         CodeWithScope{"f(x)", Document{{"x", int32_t{1}}}})));
  EXPECT_TRUE(PV("Code('f(x)', {x: 1})") == cws);
  EXPECT_EQ(PV("ObjectId()").type(), Type::kObjectId);
  EXPECT_EQ(PV("new Date()").type(), Type::kDateTime);
}

TEST(JsonParseTest, ShellSyntax) {
  Document d = PD(R"(
    // a comment
    {
      _id: 1, $set: {'a.b': 2}, a.b: 3, "q": 'x', /* block
      comment */ arr: [1, 2, ], nested: {x: {y: null},},
    })");
  EXPECT_EQ(ToJson(d, JsonMode::kShell),
            "{_id: 1, $set: {\"a.b\": 2}, \"a.b\": 3, q: \"x\", arr: [1, 2], nested: {x: {y: null}}}");
  // Query operators and DBRefs stay documents.
  EXPECT_TRUE(PV("{$regex: 'a', $options: 'i'}").is_document());
  EXPECT_TRUE(PV("{$type: 'string'}").is_document());
  EXPECT_TRUE(PV("{$date: 1, other: 2}").is_document());
  EXPECT_TRUE(PV("{$ref: 'c', $id: 1}").is_document());
  EXPECT_TRUE(PV("{$gt: 5}").is_document());
  // Duplicate keys are kept (the wire can carry them).
  EXPECT_EQ(PD("{a: 1, a: 2}").size(), 2u);
}

TEST(JsonParseTest, Sequence) {
  auto r = ParseJsonSequence("{a: 1}\n{\"b\": 2}  {c: [3]}\n// trailing comment\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ(ToJson((*r)[2], JsonMode::kShell), "{c: [3]}");
  auto empty = ParseJsonSequence("  \n ");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  auto bad = ParseJsonSequence("{a: 1}\n[1]");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "2:1: expected '{' to start a document, found '['");
}

struct ErrorCase {
  const char* text;
  const char* message;
};

TEST(JsonParseTest, ErrorsNameLineColumnAndExpectation) {
  const std::vector<ErrorCase> cases = {
      {"", "1:1: expected '{' to start a document, found end of input"},
      {"[1]", "1:1: expected '{' to start a document, found '['"},
      {"{a 1}", "1:4: expected ':' after field name, found '1'"},
      {"{a: 1 b: 2}", "1:7: expected ',' or '}' after field value, found 'b'"},
      {"{a: }", "1:5: expected a value, found '}'"},
      {"{a: 1", "1:6: expected ',' or '}' after field value, found end of input"},
      {"{a: [1 2]}", "1:8: expected ',' or ']' after array element, found '2'"},
      {"{\n  a: 1,\n  b: tru\n}", "3:6: expected a value (unknown identifier 'tru'), found 't'"},
      {"{a: 'x}", "1:8: expected closing ' of string, found end of input"},
      {"{a: \"\\q\"}", "1:7: expected a valid escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX), found 'q'"},
      {"{a: \"\\u12\"}", "1:8: expected 4 hex digits after '\\u', found '1'"},
      {"{a: \"\\ud800\"}", "1:12: expected a low surrogate '\\uDC00'-'\\uDFFF' after a high surrogate, found '\"'"},
      {"{a: \"x\ny\"}", "1:7: expected a character (control characters must be escaped in strings), found byte 0x0a"},
      {"{a: 1} x", "1:8: expected end of input after the document, found 'x'"},
      {"{a: 12abc}", "1:7: expected a delimiter after the number, found 'a'"},
      {"{a: 1e}", "1:7: expected exponent digits, found '}'"},
      {"{a: -}", "1:5: expected a number, found '-'"},
      {"{a: /x/q}", "1:8: expected regular expression flags from 'imxslu', found 'q'"},
      {"{a: /x}", "1:8: expected '/' to close the regular expression, found end of input"},
      {"{a: 1 /* open", "1:14: expected '*/' to close comment, found end of input"},
      {"{: 1}", "1:2: expected a field name, found ':'"},
      {"{\"a\\u0000b\": 1}", "1:2: expected a field name without NUL characters, found '\"'"},
      {"{a: ObjectId('xyz')}", "1:5: expected ObjectId(\"<24 hex digits>\"), found 'O'"},
      {"{a: ObjectId('507f1f77bcf86cd799439011'}", "1:40: expected ',' or ')' after argument, found '}'"},
      {"{a: NumberLong('1.5')}", "1:5: expected NumberLong(<64-bit integer>), found 'N'"},
      {"{a: NumberInt(2147483648)}", "1:5: expected NumberInt(<32-bit integer>), found 'N'"},
      {"{a: NumberDecimal('abc')}", "1:5: expected NumberDecimal(\"<decimal>\"), found 'N'"},
      {"{a: ISODate('2024-13-01')}",
       "1:5: expected ISODate(\"YYYY-MM-DDTHH:MM:SS[.mmm]Z\" or milliseconds), found 'I'"},
      {"{a: ISODate('2023-02-29')}",
       "1:5: expected ISODate(\"YYYY-MM-DDTHH:MM:SS[.mmm]Z\" or milliseconds), found 'I'"},
      {"{a: Timestamp(-1, 0)}", "1:5: expected Timestamp(<seconds>, <increment>), found 'T'"},
      {"{a: BinData(0, '!!')}", "1:5: expected BinData(<subtype>, \"<base64>\"), found 'B'"},
      {"{a: UUID('123')}", "1:5: expected UUID(\"<32 hex digits>\"), found 'U'"},
      {"{a: new 5}", "1:9: expected a constructor name after 'new', found '5'"},
      {"{a: {\"$oid\": \"12\"}}", "1:5: expected {\"$oid\": \"<24 hex digits>\"}, found '{'"},
      {"{a: {\"$numberLong\": 1}}", "1:5: expected {\"$numberLong\": \"<64-bit integer>\"}, found '{'"},
      {"{a: {\"$numberInt\": \"2147483648\"}}",
       "1:5: expected {\"$numberInt\": \"<32-bit integer>\"}, found '{'"},
      {"{a: {\"$numberDouble\": \"abc\"}}", "1:5: expected {\"$numberDouble\": \"<double>\"}, found '{'"},
      {"{a: {\"$numberDecimal\": \"1.2.3\"}}",
       "1:5: expected {\"$numberDecimal\": \"<decimal>\"}, found '{'"},
      {"{a: {\"$date\": \"yesterday\"}}",
       "1:5: expected {\"$date\": \"<ISO-8601>\"} or {\"$date\": {\"$numberLong\": \"<millis>\"}}, found '{'"},
      {"{a: {\"$timestamp\": {\"t\": 1}}}",
       "1:5: expected {\"$timestamp\": {\"t\": <uint32>, \"i\": <uint32>}}, found '{'"},
      {"{a: {\"$binary\": {\"base64\": \"AA==\", \"subType\": \"zz\"}}}",
       "1:5: expected {\"$binary\": {\"base64\": \"<payload>\", \"subType\": \"<hex byte>\"}}, found '{'"},
      {"{a: {\"$minKey\": 2}}", "1:5: expected {\"$minKey\": 1}, found '{'"},
      {"{a: {\"$undefined\": false}}", "1:5: expected {\"$undefined\": true}, found '{'"},
      {"{\"$oid\": \"507f1f77bcf86cd799439011\"}",
       "1:1: expected a document, not an Extended JSON objectId value, found '{'"},
      {"{a: \"\xff\"}", "1:6: expected valid UTF-8 in string, found byte 0xff"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto r = ParseJson(c.text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kFailedToParse);
    EXPECT_EQ(r.status().message(), c.message);
  }
}

TEST(JsonParseTest, DepthLimit) {
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "{a: ";
  auto r = ParseJson(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nesting deeper than 180"), std::string_view::npos);
  std::string arrays(100000, '[');
  EXPECT_FALSE(ParseJsonValue(arrays).ok());
}

struct PrintCase {
  Value value;
  const char* relaxed;
  const char* canonical;
  const char* shell;
};

TEST(JsonPrintTest, EveryTypeInEveryMode) {
  const double kInf = std::numeric_limits<double>::infinity();
  ObjectId oid = Oid("507f1f77bcf86cd799439011");
  const std::vector<PrintCase> cases = {
      {1.0, "1.0", R"({"$numberDouble": "1.0"})", "1.0"},
      {2.0, "2.0", R"({"$numberDouble": "2.0"})", "2.0"},
      {-1.5, "-1.5", R"({"$numberDouble": "-1.5"})", "-1.5"},
      {-0.0, "-0.0", R"({"$numberDouble": "-0.0"})", "-0.0"},
      {0.1, "0.1", R"({"$numberDouble": "0.1"})", "0.1"},
      {1e21, "1e+21", R"({"$numberDouble": "1e+21"})", "1e+21"},
      {1e20, "100000000000000000000.0", R"({"$numberDouble": "100000000000000000000.0"})",
       "100000000000000000000.0"},
      {1.2345678921232e18, "1234567892123200000.0",
       R"({"$numberDouble": "1234567892123200000.0"})", "1234567892123200000.0"},
      {1.5e-7, "1.5e-7", R"({"$numberDouble": "1.5e-7"})", "1.5e-7"},
      {0.000001, "0.000001", R"({"$numberDouble": "0.000001"})", "0.000001"},
      {5e-324, "5e-324", R"({"$numberDouble": "5e-324"})", "5e-324"},
      {kInf, R"({"$numberDouble": "Infinity"})", R"({"$numberDouble": "Infinity"})", "Infinity"},
      {-kInf, R"({"$numberDouble": "-Infinity"})", R"({"$numberDouble": "-Infinity"})",
       "-Infinity"},
      {std::numeric_limits<double>::quiet_NaN(), R"({"$numberDouble": "NaN"})",
       R"({"$numberDouble": "NaN"})", "NaN"},
      {int32_t{-7}, "-7", R"({"$numberInt": "-7"})", "-7"},
      {int64_t{5}, "5", R"({"$numberLong": "5"})", "NumberLong(5)"},
      {Decimal128::FromString("1.50"), R"({"$numberDecimal": "1.50"})",
       R"({"$numberDecimal": "1.50"})", "NumberDecimal(\"1.50\")"},
      {Value("a\"b\\\n\x01é"), R"("a\"b\\\n\u0001é")", R"("a\"b\\\n\u0001é")",
       R"("a\"b\\\n\u0001é")"},
      {true, "true", "true", "true"},
      {Value(), "null", "null", "null"},
      {Undefined{}, R"({"$undefined": true})", R"({"$undefined": true})", "undefined"},
      {MinKey{}, R"({"$minKey": 1})", R"({"$minKey": 1})", "MinKey"},
      {MaxKey{}, R"({"$maxKey": 1})", R"({"$maxKey": 1})", "MaxKey"},
      {oid, R"({"$oid": "507f1f77bcf86cd799439011"})", R"({"$oid": "507f1f77bcf86cd799439011"})",
       R"(ObjectId("507f1f77bcf86cd799439011"))"},
      {DateTime{1704067200000}, R"({"$date": "2024-01-01T00:00:00Z"})",
       R"({"$date": {"$numberLong": "1704067200000"}})", R"(ISODate("2024-01-01T00:00:00Z"))"},
      {DateTime{1704067200123}, R"({"$date": "2024-01-01T00:00:00.123Z"})",
       R"({"$date": {"$numberLong": "1704067200123"}})", R"(ISODate("2024-01-01T00:00:00.123Z"))"},
      {DateTime{-1}, R"({"$date": {"$numberLong": "-1"}})", R"({"$date": {"$numberLong": "-1"}})",
       R"(ISODate("1969-12-31T23:59:59.999Z"))"},
      {DateTime{253402300800000}, R"({"$date": {"$numberLong": "253402300800000"}})",
       R"({"$date": {"$numberLong": "253402300800000"}})", "new Date(253402300800000)"},
      {Timestamp{1, 2}, R"({"$timestamp": {"t": 1, "i": 2}})",
       R"({"$timestamp": {"t": 1, "i": 2}})", "Timestamp(1, 2)"},
      {Binary{0, "\x01\x02\x03"}, R"({"$binary": {"base64": "AQID", "subType": "00"}})",
       R"({"$binary": {"base64": "AQID", "subType": "00"}})", R"(BinData(0, "AQID"))"},
      {Binary{0x8a, "\x01"}, R"({"$binary": {"base64": "AQ==", "subType": "8a"}})",
       R"({"$binary": {"base64": "AQ==", "subType": "8a"}})", R"(BinData(138, "AQ=="))"},
      {Binary{4, std::string("\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff", 16)},
       R"({"$binary": {"base64": "ABEiM0RVZneImaq7zN3u/w==", "subType": "04"}})",
       R"({"$binary": {"base64": "ABEiM0RVZneImaq7zN3u/w==", "subType": "04"}})",
       R"(UUID("00112233-4455-6677-8899-aabbccddeeff"))"},
      {Regex{"a/b", "i"}, R"({"$regularExpression": {"pattern": "a/b", "options": "i"}})",
       R"({"$regularExpression": {"pattern": "a/b", "options": "i"}})", R"(/a\/b/i)"},
      {Regex{"", ""}, R"({"$regularExpression": {"pattern": "", "options": ""}})",
       R"({"$regularExpression": {"pattern": "", "options": ""}})",
       R"({$regularExpression: {pattern: "", options: ""}})"},
      {Code{"f()"}, R"j({"$code": "f()"})j", R"j({"$code": "f()"})j", R"j({$code: "f()"})j"},
      {Symbol{"s"}, R"({"$symbol": "s"})", R"({"$symbol": "s"})", R"({$symbol: "s"})"},
      {DBPointer{"db.c", oid},
       R"({"$dbPointer": {"$ref": "db.c", "$id": {"$oid": "507f1f77bcf86cd799439011"}}})",
       R"({"$dbPointer": {"$ref": "db.c", "$id": {"$oid": "507f1f77bcf86cd799439011"}}})",
       R"({$dbPointer: {$ref: "db.c", $id: ObjectId("507f1f77bcf86cd799439011")}})"},
      {std::make_shared<const CodeWithScope>(CodeWithScope{"f", Document{{"x", int32_t{1}}}}),
       R"({"$code": "f", "$scope": {"x": 1}})",
       R"({"$code": "f", "$scope": {"x": {"$numberInt": "1"}}})", R"({$code: "f", $scope: {x: 1}})"},
      {Document{}, "{}", "{}", "{}"},
      {Array{}, "[]", "[]", "[]"},
      {Document{{"a b", Array{int32_t{1}, Value("x")}}, {"_c$1", Document{{"9", 1.0}}}},
       R"({"a b": [1, "x"], "_c$1": {"9": 1.0}})",
       R"({"a b": [{"$numberInt": "1"}, "x"], "_c$1": {"9": {"$numberDouble": "1.0"}}})",
       R"({"a b": [1, "x"], _c$1: {"9": 1.0}})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.shell);
    EXPECT_EQ(ToJson(c.value, JsonMode::kRelaxed), c.relaxed);
    EXPECT_EQ(ToJson(c.value, JsonMode::kCanonical), c.canonical);
    EXPECT_EQ(ToJson(c.value, JsonMode::kShell), c.shell);
    // Every mode parses back to an equal value of the same type (NaN compares equal).
    for (JsonMode mode : {JsonMode::kRelaxed, JsonMode::kCanonical, JsonMode::kShell}) {
      auto back = ParseJsonValue(ToJson(c.value, mode));
      ASSERT_TRUE(back.ok()) << ToJson(c.value, mode) << ": " << back.status().ToString();
      if (mode != JsonMode::kRelaxed) {  // relaxed prints int64 5 as 5, which reads as int32
        EXPECT_EQ(back->type(), c.value.type()) << ToJson(c.value, mode);
      }
      EXPECT_EQ(Compare(*back, c.value), 0) << ToJson(c.value, mode);
    }
  }
}

TEST(JsonPrintTest, ShellDocumentExample) {
  Document d = PD(R"({_id: 1, a: "x", n: NumberLong(5), d: 1.5,
                      o: ObjectId("507f1f77bcf86cd799439011"), t: ISODate("2024-01-01T00:00:00Z")})");
  EXPECT_EQ(ToJson(d, JsonMode::kShell),
            R"({_id: 1, a: "x", n: NumberLong(5), d: 1.5, o: ObjectId("507f1f77bcf86cd799439011"), t: ISODate("2024-01-01T00:00:00Z")})");
  EXPECT_EQ(ToJson(d), R"({"_id": 1, "a": "x", "n": 5, "d": 1.5, "o": {"$oid": "507f1f77bcf86cd799439011"}, "t": {"$date": "2024-01-01T00:00:00Z"}})");
}

// parse(print(x)) == x exactly (same types, same bits) in canonical mode, for every type.
TEST(JsonPrintTest, CanonicalRoundTripIsExact) {
  ObjectId oid = Oid("507f1f77bcf86cd799439011");
  Document doc{
      {"double", 3.141592653589793},
      {"tiny", 4.9406564584124654e-324},
      {"big", 1.7976931348623157e308},
      {"negzero", -0.0},
      {"int32", int32_t{-2147483647 - 1}},
      {"int64", std::numeric_limits<int64_t>::max()},
      {"dec", Decimal128::FromString("-1.234567890123456789012345678901234E-6100")},
      {"decinf", Decimal128::FromString("-Infinity")},
      {"str", Value(std::string("nul\0inside é \x7f", 15))},
      {"doc", Document{{"", Document{}}, {"x.y", Array{}}}},
      {"arr", Array{Value(), Undefined{}, MinKey{}, MaxKey{}}},
      {"bin", Binary{2, std::string("\0\xff", 2)}},
      {"oid", oid},
      {"bool", false},
      {"date_min", DateTime{std::numeric_limits<int64_t>::min()}},
      {"date_max", DateTime{std::numeric_limits<int64_t>::max()}},
      {"regex", Regex{"^\\d+\"/$", "imsux"}},
      {"dbp", DBPointer{"a.b", oid}},
      {"code", Code{"x"}},
      {"sym", Symbol{"y"}},
      {"cws", std::make_shared<const CodeWithScope>(CodeWithScope{"z", Document{{"k", 1.0}}})},
      {"ts", Timestamp{4294967295u, 4294967295u}},
  };
  for (JsonMode mode : {JsonMode::kCanonical, JsonMode::kRelaxed}) {
    std::string text = ToJson(doc, mode);
    auto back = ParseJson(text);
    ASSERT_TRUE(back.ok()) << text << "\n" << back.status().ToString();
    EXPECT_EQ(*back, doc) << text;
    EXPECT_EQ(Encode(*back), Encode(doc)) << text;
  }
}

TEST(JsonPrintTest, DecimalStrings) {
  EXPECT_EQ(Decimal128::FromString("1E+3").ToString(), "1E+3");
  EXPECT_EQ(Decimal128::FromString("0.001").ToString(), "0.001");
  EXPECT_EQ(Decimal128::FromString("-0").ToString(), "-0");
  EXPECT_EQ(Decimal128::FromString("inf").ToString(), "Infinity");
  bool ok = true;
  EXPECT_TRUE(Decimal128::FromString("bogus", &ok).IsNaN());
  EXPECT_FALSE(ok);
  EXPECT_EQ(Decimal128::FromInt64(-42).ToString(), "-42");
  EXPECT_EQ(Decimal128::FromInt64(std::numeric_limits<int64_t>::min()).ToString(),
            "-9223372036854775808");
  // MongoDB's Decimal128(double): 15 significant digits, kept.
  EXPECT_EQ(Decimal128::FromDouble(1.5).ToString(), "1.50000000000000");
  EXPECT_EQ(Decimal128::FromDouble(0.1).ToString(), "0.100000000000000");
  EXPECT_EQ(Decimal128::FromDouble(-1e20).ToString(), "-1.00000000000000E+20");
  EXPECT_EQ(Decimal128::FromDouble(0.0).ToString(), "0");
  EXPECT_EQ(Decimal128::FromDouble(std::numeric_limits<double>::infinity()).ToString(),
            "Infinity");
  EXPECT_TRUE(Decimal128::FromDouble(std::nan("")).IsNaN());
  EXPECT_EQ(Decimal128::FromString("1.25").ToDouble(), 1.25);
  EXPECT_EQ(Decimal128::FromString("1E+400").ToDouble(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(Decimal128::FromString("0.1000000000000000055511151231257827").ToDouble(), 0.1);
  EXPECT_EQ(Decimal128::FromString("123456789012345678901234567890").ToDouble(),
            123456789012345678901234567890.0);
  EXPECT_TRUE(std::isnan(Decimal128::FromString("NaN").ToDouble()));
}

TEST(JsonPrintTest, ObjectIdBasics) {
  ObjectId a = ObjectId::Generate(), b = ObjectId::Generate();
  EXPECT_NE(a, b);
  EXPECT_LT(a, b);  // same second, increasing counter (unless the counter wraps)
  EXPECT_EQ(a.ToHex().size(), 24u);
  ObjectId c;
  EXPECT_TRUE(ObjectId::FromHex(a.ToHex(), &c));
  EXPECT_EQ(a, c);
  EXPECT_FALSE(ObjectId::FromHex("507f1f77bcf86cd79943901", &c));
  EXPECT_FALSE(ObjectId::FromHex("507f1f77bcf86cd79943901g", &c));
  EXPECT_EQ(Oid("65920080aaaaaaaaaaaaaaaa").seconds(), 1704067200u);
  auto now = static_cast<uint32_t>(std::time(nullptr));
  EXPECT_LE(a.seconds(), now);
  EXPECT_GE(a.seconds() + 5, now);
}

}  // namespace
}  // namespace eddy::bson

namespace eddy::bson {
namespace {

TEST(JsonPrintTest, ShellRegexFallsBackWhenALiteralCannotHoldIt) {
  // Unbalanced class, trailing backslash, escaped slash, newline: printed as
  // $regularExpression so they read back exactly.
  for (const char* pattern : {"[", "a\\", "a\\/b", "x\ny", "[/]"}) {
    Regex r{pattern, "i"};
    std::string text = ToJson(Value(r), JsonMode::kShell);
    auto back = ParseJsonValue(text);
    ASSERT_TRUE(back.ok()) << text;
    EXPECT_TRUE(*back == Value(r)) << text;
  }
  EXPECT_EQ(ToJson(Value(Regex{"[", ""}), JsonMode::kShell),
            R"({$regularExpression: {pattern: "[", options: ""}})");
  EXPECT_EQ(ToJson(Value(Regex{"[/]", ""}), JsonMode::kShell), "/[/]/");
}

TEST(JsonParseTest, RegexOptionsSortingKeepsUtf8Intact) {
  auto v = ParseJsonValue(R"({"$regularExpression": {"pattern": "a", "options": "xé"}})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->as_regex().options, "xé");  // non-ASCII options are left as written
  auto bytes = Encode(Document{{"r", *v}});
  EXPECT_TRUE(Decode(bytes).ok());
  auto nul = ParseJsonValue(std::string("/a\0b/", 5));
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.status().message(),
            "1:3: expected a regular expression character (patterns cannot hold NUL), found byte 0x00");
}

}  // namespace
}  // namespace eddy::bson
