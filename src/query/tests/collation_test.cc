// Collation (ICU) and command `let`: spec parsing and errors, string comparison per strength /
// caseFirst / numericOrdering / alternate / backwards, the matcher, sort and planner under a
// collation, and let variables in $expr filters.
#include "query/collation/collator.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bson/compare.h"
#include "bson/json.h"
#include "query/match/matcher.h"
#include "query/sort/sort.h"

namespace eddy::query {
namespace {

bson::Document J(std::string_view s) {
  auto r = bson::ParseJson(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().ToString();
  return r.ok() ? *r : bson::Document();
}

CollatorPtr C(std::string_view spec) {
  auto r = ParseCollation(J(spec));
  EXPECT_TRUE(r.ok()) << spec << ": " << r.status().ToString();
  return r.ok() ? *r : nullptr;
}

TEST(CollationTest, SimpleIsBinary) {
  auto r = ParseCollation(J("{locale: 'simple'}"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, nullptr);
  EXPECT_LT(CompareWithCollation(bson::Value("B"), bson::Value("a"), nullptr), 0);
}

TEST(CollationTest, ResolvedSpecHasEveryField) {
  CollatorPtr c = C("{locale: 'en_US', strength: 2}");
  ASSERT_NE(c, nullptr);
  const bson::Document& s = c->Spec();
  EXPECT_EQ(s.Get("locale")->as_string(), "en_US");
  EXPECT_EQ(s.Get("strength")->ToInt64(), 2);
  EXPECT_FALSE(s.Get("caseLevel")->as_bool());
  EXPECT_EQ(s.Get("caseFirst")->as_string(), "off");
  EXPECT_FALSE(s.Get("numericOrdering")->as_bool());
  EXPECT_EQ(s.Get("alternate")->as_string(), "non-ignorable");
  EXPECT_EQ(s.Get("maxVariable")->as_string(), "punct");
  EXPECT_FALSE(s.Get("normalization")->as_bool());
  EXPECT_FALSE(s.Get("backwards")->as_bool());
  EXPECT_TRUE(s.Has("version"));
}

struct CompareCase {
  const char* spec;
  const char* a;
  const char* b;
  int expected;  // sign
};

TEST(CollationTest, StringComparisons) {
  const std::vector<CompareCase> cases = {
      // strength 1: base letters only
      {"{locale: 'en', strength: 1}", "a", "A", 0},
      {"{locale: 'en', strength: 1}", "a", "á", 0},
      {"{locale: 'en', strength: 1}", "a", "b", -1},
      // strength 2: accents matter, case does not
      {"{locale: 'en', strength: 2}", "ping", "PING", 0},
      {"{locale: 'en', strength: 2}", "a", "á", -1},
      {"{locale: 'en_US', strength: 2}", "Straße", "STRASSE", 1},
      // strength 3 (default): case matters, lower first
      {"{locale: 'en'}", "a", "A", -1},
      {"{locale: 'en'}", "B", "a", 1},  // binary would put "B" first
      {"{locale: 'en', caseFirst: 'upper'}", "A", "a", -1},
      {"{locale: 'en', caseFirst: 'lower'}", "a", "A", -1},
      // caseLevel at strength 1: case distinguishes, accents do not
      {"{locale: 'en', strength: 1, caseLevel: true}", "a", "A", -1},
      {"{locale: 'en', strength: 1, caseLevel: true}", "a", "á", 0},
      // numericOrdering
      {"{locale: 'en'}", "10", "9", -1},
      {"{locale: 'en', numericOrdering: true}", "10", "9", 1},
      // alternate shifted: punctuation and spaces ignored (strength < 4)
      {"{locale: 'en', alternate: 'shifted'}", "a-b", "ab", 0},
      {"{locale: 'en'}", "a-b", "ab", -1},
      {"{locale: 'en', alternate: 'shifted', strength: 4}", "a-b", "ab", -1},
      // backwards (French secondary ordering): the last accent difference decides
      {"{locale: 'fr'}", "cote", "côte", -1},
      {"{locale: 'fr', backwards: true}", "côte", "coté", -1},
      {"{locale: 'fr'}", "côte", "coté", 1},
      // identical level distinguishes canonically equivalent forms only by code points
      {"{locale: 'en', strength: 5}", "a", "A", -1},
  };
  for (const CompareCase& c : cases) {
    CollatorPtr coll = C(c.spec);
    ASSERT_NE(coll, nullptr) << c.spec;
    int got = coll->CompareStrings(c.a, c.b);
    int sign = got < 0 ? -1 : (got > 0 ? 1 : 0);
    EXPECT_EQ(sign, c.expected) << c.spec << " " << c.a << " vs " << c.b;
    // Comparison keys agree with the direct comparison.
    std::string ka = coll->ComparisonKey(c.a), kb = coll->ComparisonKey(c.b);
    int ks = ka < kb ? -1 : (ka > kb ? 1 : 0);
    EXPECT_EQ(ks, c.expected) << "keys: " << c.spec << " " << c.a << " vs " << c.b;
  }
}

TEST(CollationTest, NestedValuesAndOtherTypes) {
  CollatorPtr c = C("{locale: 'en', strength: 2}");
  auto v = [](std::string_view json) { return bson::Value(J(json)); };
  EXPECT_EQ(CompareWithCollation(v("{a: 'X', b: ['Y']}"), v("{a: 'x', b: ['y']}"), c.get()), 0);
  // Field names stay binary.
  EXPECT_NE(CompareWithCollation(v("{A: 'x'}"), v("{a: 'x'}"), c.get()), 0);
  // Other types keep the BSON order: numbers before strings.
  EXPECT_LT(CompareWithCollation(v("{a: 5}"), v("{a: 'a'}"), c.get()), 0);
  EXPECT_EQ(CompareWithCollation(v("{a: 1}"), v("{a: 1.0}"), c.get()), 0);
  // Keys group equal strings together.
  EXPECT_TRUE(bson::Equal(CollationKeyOf(bson::Value("ABC"), c.get()),
                          CollationKeyOf(bson::Value("abc"), c.get())));
  EXPECT_TRUE(bson::Equal(CollationKeyOf(bson::Value(3), c.get()), bson::Value(3)));
}

struct ErrorCase {
  const char* spec;
  int code;
  const char* message;
};

TEST(CollationTest, SpecErrors) {
  const std::vector<ErrorCase> cases = {
      {"{}", 4, "Missing expected field \"locale\""},
      {"{strength: 2}", 4, "locale"},
      {"{locale: 1}", 14, "\"locale\" had the wrong type. Expected string, found int"},
      {"{locale: ''}", 2, "cannot be the empty string"},
      {"{locale: 'xx_bogus_locale'}", 2, "Field 'locale' is invalid in:"},
      {"{locale: 'en_US_POSIX_junk'}", 2, "Field 'locale' is invalid in:"},
      {"{locale: 'simple', strength: 2}", 9, "no other fields should be present"},
      {"{locale: 'en', strength: 0}", 9, "Field 'strength' must be an integer 1 through 5. Got: 0"},
      {"{locale: 'en', strength: 6}", 9, "must be an integer 1 through 5"},
      {"{locale: 'en', strength: 1.5}", 2, "exactly representable as a 64-bit integer"},
      {"{locale: 'en', strength: 'x'}", 14, "\"strength\" had the wrong type"},
      {"{locale: 'en', caseLevel: 1}", 14, "\"caseLevel\" had the wrong type. Expected boolean"},
      {"{locale: 'en', caseFirst: 'middle'}", 9, "Field 'caseFirst' must be 'upper', 'lower', or"},
      {"{locale: 'en', alternate: 'x'}", 9, "Field 'alternate' must be 'non-ignorable' or"},
      {"{locale: 'en', maxVariable: 'x'}", 9, "Field 'maxVariable' must be 'punct' or 'space'"},
      {"{locale: 'en', foo: 1}", 9, "Collation spec contains unknown field"},
      {"{locale: 'en', version: '1.0'}", 87, "Requested collation version 1.0"},
      {"{locale: 'en', strength: 1, backwards: true}", 2, "'backwards' is invalid with 'strength'"},
      {"{locale: 'en', strength: 2, caseFirst: 'upper'}", 2, "'caseFirst' is invalid unless"},
  };
  for (const ErrorCase& c : cases) {
    auto r = ParseCollation(J(c.spec));
    ASSERT_FALSE(r.ok()) << c.spec;
    EXPECT_EQ(r.status().code_number(), c.code) << c.spec << ": " << r.status().ToString();
    EXPECT_NE(std::string(r.status().message()).find(c.message), std::string::npos)
        << c.spec << ": " << r.status().ToString();
  }
  // caseFirst is fine with caseLevel on at strength 1.
  EXPECT_TRUE(ParseCollation(J("{locale: 'en', strength: 1, caseLevel: true, caseFirst: 'upper'}"))
                  .ok());
  auto field = ParseCollationField(nullptr, "find");
  ASSERT_TRUE(field.ok());
  EXPECT_EQ(*field, nullptr);
  bson::Value bad(int32_t{1});
  auto wrong = ParseCollationField(&bad, "find");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code_number(), 14);
  EXPECT_NE(std::string(wrong.status().message()).find("BSON field 'find.collation'"),
            std::string::npos);
}

struct CollatedMatch {
  const char* filter;
  const char* doc;
  bool simple;    // expected without a collation
  bool collated;  // expected with {locale: 'en', strength: 2}
};

TEST(CollationTest, MatcherHonoursCollation) {
  const std::vector<CollatedMatch> cases = {
      {"{x: 'PING'}", "{x: 'ping'}", false, true},
      {"{x: {$eq: 'PING'}}", "{x: 'ping'}", false, true},
      {"{x: {$ne: 'PING'}}", "{x: 'ping'}", true, false},
      {"{x: {$in: ['A', 'PING']}}", "{x: 'ping'}", false, true},
      {"{x: {$nin: ['A', 'PING']}}", "{x: 'ping'}", true, false},
      {"{x: {$in: [1, 'PING']}}", "{x: 1}", true, true},
      {"{x: {$gt: 'B'}}", "{x: 'a'}", true, false},  // binary 'a' > 'B'; collated a < B
      {"{x: {$gt: 'A'}}", "{x: 'b'}", true, true},
      {"{x: {$lt: 'b'}}", "{x: 'B'}", true, false},  // binary 'B' < 'b'; collated equal
      {"{x: {$lte: 'b'}}", "{x: 'B'}", true, true},
      {"{x: 'PING'}", "{x: ['pong', 'Ping']}", false, true},
      {"{x: {$all: ['A', 'b']}}", "{x: ['a', 'B']}", false, true},
      {"{x: {$elemMatch: {$eq: 'A'}}}", "{x: ['a']}", false, true},
      {"{x: {y: 'A'}}", "{x: {y: 'a'}}", false, true},
      {"{x: ['A', 'B']}", "{x: ['a', 'b']}", false, true},
      // regexes ignore the collation
      {"{x: /^PING$/}", "{x: 'ping'}", false, false},
      // numbers are unaffected
      {"{x: 5}", "{x: 5.0}", true, true},
      {"{x: {$gt: 5}}", "{x: 'a'}", false, false},
  };
  CollatorPtr c = C("{locale: 'en', strength: 2}");
  for (const CollatedMatch& m : cases) {
    auto plain = Matcher::Compile(J(m.filter));
    ASSERT_TRUE(plain.ok()) << m.filter;
    EXPECT_EQ(plain->Matches(J(m.doc)), m.simple) << "simple " << m.filter << " " << m.doc;
    MatchOptions mo;
    mo.collator = c;
    auto coll = Matcher::Compile(J(m.filter), mo);
    ASSERT_TRUE(coll.ok()) << m.filter;
    EXPECT_EQ(coll->Matches(J(m.doc)), m.collated) << "collated " << m.filter << " " << m.doc;
  }
}

TEST(CollationTest, SortHonoursCollation) {
  std::vector<bson::Document> docs = {J("{x: 'b'}"), J("{x: 'B'}"), J("{x: 'a'}"),
                                      J("{x: 'A'}"), J("{x: 10}"), J("{x: ['c', 'Z']}")};
  auto render = [](const std::vector<bson::Document>& d) {
    std::string out;
    for (const auto& x : d) out += bson::ToJson(*x.Get("x"), bson::JsonMode::kShell) + " ";
    return out;
  };
  auto plain = SortSpec::Compile(J("{x: 1}"));
  ASSERT_TRUE(plain.ok());
  std::vector<bson::Document> a = docs;
  ASSERT_TRUE(plain->Sort(&a).ok());
  EXPECT_EQ(render(a), "10 \"A\" \"B\" [\"c\", \"Z\"] \"a\" \"b\" ");
  auto coll = SortSpec::Compile(J("{x: 1}"), C("{locale: 'en'}"));
  ASSERT_TRUE(coll.ok());
  std::vector<bson::Document> b = docs;
  ASSERT_TRUE(coll->Sort(&b).ok());
  // Lowercase first at strength 3; the array sorts by its smallest element under the collation.
  EXPECT_EQ(render(b), "10 \"a\" \"A\" \"b\" \"B\" [\"c\", \"Z\"] ");
  auto desc = SortSpec::Compile(J("{x: -1}"), C("{locale: 'en'}"));
  ASSERT_TRUE(desc.ok());
  std::vector<bson::Document> d = docs;
  ASSERT_TRUE(desc->Sort(&d).ok());
  EXPECT_EQ(render(d), "[\"c\", \"Z\"] \"B\" \"b\" \"A\" \"a\" 10 ");
}

TEST(LetTest, VariablesInExprFilters) {
  auto vars = EvaluateCommandLet(J("{id: 1, name: {$concat: ['a', 'b']}, now: '$$NOW'}"),
                                 bson::DateTime{1000});
  ASSERT_TRUE(vars.ok()) << vars.status().ToString();
  ASSERT_EQ((*vars)->size(), 3u);
  MatchOptions mo;
  mo.variables = *vars;
  auto m = Matcher::Compile(J("{$expr: {$and: [{$eq: ['$_id', '$$id']}, {$eq: ['$n', '$$name']}]}}"),
                            mo);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->Matches(J("{_id: 1, n: 'ab'}")));
  EXPECT_FALSE(m->Matches(J("{_id: 2, n: 'ab'}")));
  auto now = Matcher::Compile(J("{$expr: {$eq: ['$t', '$$now']}}"), mo);
  ASSERT_TRUE(now.ok());
  EXPECT_TRUE(now->Matches(J("{t: {$date: 1000}}")));
  // Later variables see earlier ones.
  auto chained = EvaluateCommandLet(J("{a: 2, b: {$multiply: ['$$a', 3]}}"), bson::DateTime{0});
  ASSERT_TRUE(chained.ok());
  EXPECT_EQ((*chained)->at(1).second->ToInt64(), 6);
  // Without the variable in scope, the filter does not compile (17276).
  auto undefined = Matcher::Compile(J("{$expr: {$eq: ['$_id', '$$nope']}}"), mo);
  ASSERT_FALSE(undefined.ok());
  EXPECT_EQ(undefined.status().code_number(), 17276);
}

TEST(LetTest, Errors) {
  const std::vector<ErrorCase> cases = {
      {"{Upper: 1}", 16867, "'Upper' starts with an invalid character for a user variable name"},
      {"{'a-b': 1}", 16868, "contains an invalid character for a variable name"},
      {"{'': 1}", 16866, "empty variable names are not allowed"},
      {"{x: '$field'}", 4890500, "Command let Expression tries to access a field"},
      {"{x: {$add: ['$a', 1]}}", 4890500, "tries to access a field"},
      {"{x: '$$ROOT'}", 4890500, "tries to access a field"},
      {"{x: '$$undefinedVar'}", 17276, "Use of undefined variable"},
      {"{x: {$bogus: 1}}", 168, "Unrecognized expression '$bogus'"},
      {"{x: {$divide: [1, 0]}}", 2, "can't $divide by zero"},
  };
  for (const ErrorCase& c : cases) {
    auto r = EvaluateCommandLet(J(c.spec), bson::DateTime{0});
    ASSERT_FALSE(r.ok()) << c.spec;
    EXPECT_EQ(r.status().code_number(), c.code) << c.spec << ": " << r.status().ToString();
    EXPECT_NE(std::string(r.status().message()).find(c.message), std::string::npos)
        << c.spec << ": " << r.status().ToString();
  }
  // $literal hides field-path syntax.
  auto lit = EvaluateCommandLet(J("{x: {$literal: '$notAField'}}"), bson::DateTime{0});
  ASSERT_TRUE(lit.ok());
  EXPECT_EQ((*lit)->at(0).second->as_string(), "$notAField");
}

}  // namespace
}  // namespace eddy::query
