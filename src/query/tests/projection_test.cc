#include "query/projection/projection.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "bson/json.h"
#include "query/expr/expression.h"

namespace eddy::query {
namespace {

bson::Document Doc(std::string_view json) {
  Result<bson::Document> d = bson::ParseJson(json);
  EXPECT_TRUE(d.ok()) << json << ": " << d.status().ToString();
  return d.ok() ? *d : bson::Document();
}

std::string Shell(const bson::Document& d) { return bson::ToJson(d, bson::JsonMode::kShell); }

struct ProjectionCase {
  std::string name;
  std::string doc;
  std::string projection;
  std::string expected;                     // shell JSON of the result
  std::optional<size_t> positional = std::nullopt;
};

class ProjectionApplyTest : public testing::TestWithParam<ProjectionCase> {};

TEST_P(ProjectionApplyTest, Projects) {
  const ProjectionCase& c = GetParam();
  Result<Projection> p = Projection::Compile(Doc(c.projection));
  ASSERT_TRUE(p.ok()) << c.projection << ": " << p.status().ToString();
  Result<bson::Document> out = p->Apply(Doc(c.doc), c.positional);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // Compare exactly (types and field order), via the canonical rendering of both sides.
  EXPECT_EQ(Shell(*out), Shell(Doc(c.expected))) << "doc " << c.doc << " projection " << c.projection;
  EXPECT_TRUE(*out == Doc(c.expected)) << Shell(*out);
}

const ProjectionCase kApplyCases[] = {
    // Inclusion / exclusion and _id.
    {"IncludeOne", "{_id: 1, a: 1, b: 2}", "{a: 1}", "{_id: 1, a: 1}"},
    {"IncludeWithoutId", "{_id: 1, a: 1, b: 2}", "{a: 1, _id: 0}", "{a: 1}"},
    {"ExcludeOne", "{_id: 1, a: 1, b: 2}", "{a: 0}", "{_id: 1, b: 2}"},
    {"ExcludeIdOnly", "{_id: 1, a: 1, b: 2}", "{_id: 0}", "{a: 1, b: 2}"},
    {"IncludeIdOnly", "{_id: 1, a: 1}", "{_id: 1}", "{_id: 1}"},
    {"ExcludeWithIdIncluded", "{_id: 1, a: 1, b: 2}", "{_id: 1, a: 0}", "{_id: 1, b: 2}"},
    {"EmptyProjection", "{_id: 1, a: [1, {b: 2}]}", "{}", "{_id: 1, a: [1, {b: 2}]}"},
    {"DocumentOrderWins", "{b: 2, _id: 1, c: 3, a: 1}", "{a: 1, b: 1}", "{b: 2, _id: 1, a: 1}"},
    {"TruthyValues", "{_id: 1, a: 1, b: 2, c: 3, d: 4}",
     "{b: true, a: 5, c: NumberLong(-1), d: 0.5}", "{_id: 1, a: 1, b: 2, c: 3, d: 4}"},
    {"FalsyValues", "{_id: 1, a: 1, b: 2, c: 3, d: 4}",
     "{a: false, b: 0.0, c: NumberDecimal('0'), d: NumberLong(0)}", "{_id: 1}"},
    {"NaNIsTruthy", "{_id: 1, a: 1, b: 2}", "{a: {$numberDouble: 'NaN'}}", "{_id: 1, a: 1}"},
    {"MissingIncludedField", "{_id: 1, b: 2}", "{a: 1}", "{_id: 1}"},
    {"NoIdInDocument", "{a: 1, b: 2}", "{a: 1}", "{a: 1}"},
    {"NullKept", "{_id: 1, a: null}", "{a: 1}", "{_id: 1, a: null}"},
    {"WholeArrayIncluded", "{_id: 1, a: [1, [2], {b: 3}]}", "{a: 1}", "{_id: 1, a: [1, [2], {b: 3}]}"},

    // Dotted inclusion.
    {"DottedInDocument", "{_id: 1, a: {b: 1, c: 2}, d: 3}", "{'a.b': 1}", "{_id: 1, a: {b: 1}}"},
    {"NestedSpecSameAsDotted", "{_id: 1, a: {b: 1, c: 2}, d: 3}", "{a: {b: 1}}",
     "{_id: 1, a: {b: 1}}"},
    {"DottedMissingLeafKeepsEmptyDocument", "{_id: 1, a: {c: 2}}", "{'a.b': 1}", "{_id: 1, a: {}}"},
    {"DottedThroughScalarDropsField", "{_id: 1, a: 5}", "{'a.b': 1}", "{_id: 1}"},
    {"DottedThroughNull", "{_id: 1, a: null}", "{'a.b': 1}", "{_id: 1}"},
    {"DottedThroughArray", "{_id: 1, a: [{b: 1, c: 1}, 2, {c: 3}, [{b: 4, c: 5}, 6], []]}",
     "{'a.b': 1}", "{_id: 1, a: [{b: 1}, {}, [{b: 4}], []]}"},
    {"DottedArrayOfScalars", "{_id: 1, a: [5, 6]}", "{'a.0': 1}", "{_id: 1, a: []}"},
    {"DottedNumericFieldInDocuments", "{_id: 1, a: [{'0': 1, '1': 2}]}", "{'a.0': 1}",
     "{_id: 1, a: [{'0': 1}]}"},
    {"DeepDotted", "{_id: 1, a: {b: {c: 1, d: 2}, e: 3, f: 4}}", "{'a.b.c': 1, 'a.e': 1}",
     "{_id: 1, a: {b: {c: 1}, e: 3}}"},
    {"MergedSubSpecs", "{_id: 1, a: {b: 1, c: 2, d: 3}}", "{'a.c': 1, a: {b: 1}}",
     "{_id: 1, a: {b: 1, c: 2}}"},
    {"IdSubfield", "{_id: {x: 1, y: 2}, a: 1}", "{'_id.x': 1, a: 1}", "{_id: {x: 1}, a: 1}"},

    // Dotted exclusion.
    {"DottedExclusionThroughArray", "{_id: 1, a: [{b: 1, c: 1}, 2, [{b: 4, c: 5}]], d: 1}",
     "{'a.b': 0}", "{_id: 1, a: [{c: 1}, 2, [{c: 5}]], d: 1}"},
    {"DottedExclusionScalar", "{_id: 1, a: 5}", "{'a.b': 0}", "{_id: 1, a: 5}"},
    {"IdSubfieldExclusion", "{_id: {x: 1, y: 2}, a: 1}", "{'_id.x': 0}", "{_id: {y: 2}, a: 1}"},
    {"ExclusionKeepsOrder", "{b: 1, _id: 2, a: 3, c: 4}", "{a: 0}", "{b: 1, _id: 2, c: 4}"},

    // Computed fields.
    {"LiteralString", "{_id: 1, a: 1, b: 2}", "{c: 'hi', a: 1}", "{_id: 1, a: 1, c: 'hi'}"},
    {"FieldPath", "{_id: 1, a: {b: 5}, c: 1}", "{x: '$a.b'}", "{_id: 1, x: 5}"},
    {"FieldPathMissing", "{_id: 1}", "{x: '$nope'}", "{_id: 1}"},
    {"FieldPathThroughArray", "{_id: 1, a: [{b: 1}, {c: 2}, {b: 3}]}", "{x: '$a.b'}",
     "{_id: 1, x: [1, 3]}"},
    {"DollarLiteral", "{_id: 1}", "{x: {$literal: '$a'}, y: {$literal: 1}}",
     "{_id: 1, x: '$a', y: 1}"},
    {"Operator", "{_id: 1, a: 2, b: 3}", "{s: {$add: ['$a', '$b']}}", "{_id: 1, s: 5}"},
    {"ArrayLiteral", "{_id: 1, a: 1}", "{x: ['$a', 2, '$missing']}", "{_id: 1, x: [1, 2, null]}"},
    {"NullLiteral", "{_id: 1}", "{x: null}", "{_id: 1, x: null}"},
    {"ComputedAppendedAfterIncluded", "{_id: 1, a: 1, b: 2}", "{b: '$a', a: 1}",
     "{_id: 1, a: 1, b: 1}"},
    {"ComputedReplacesId", "{_id: 1, a: 7}", "{_id: '$a'}", "{_id: 7}"},
    {"ComputedWithIdExcluded", "{_id: 1, a: 7}", "{_id: 0, x: '$a'}", "{x: 7}"},
    {"ComputedInArrayElements", "{_id: 1, a: [{b: 1}, 2, {c: 3}, [{b: 4}]], x: 9}",
     "{'a.b': 1, 'a.d': '$x'}", "{_id: 1, a: [{b: 1, d: 9}, {d: 9}, {d: 9}, [{b: 4, d: 9}]]}"},
    {"ComputedReplacesScalar", "{_id: 1, a: 5, x: 9}", "{'a.d': '$x'}", "{_id: 1, a: {d: 9}}"},
    {"ComputedUnderMissingIsAppended", "{_id: 1, b: 1, x: 9}", "{'a.d': '$x', b: 1}",
     "{_id: 1, b: 1, a: {d: 9}}"},
    {"ComputedInsideExistingDocument", "{_id: 1, a: {e: 0, c: 1}, z: 0, x: 9}",
     "{'a.d': '$x', 'a.c': 1, z: 1}", "{_id: 1, a: {c: 1, d: 9}, z: 0}"},
    {"ComputedNestedSpec", "{_id: 1, a: {c: 1}, x: 9}", "{a: {c: 1, d: '$x'}}",
     "{_id: 1, a: {c: 1, d: 9}}"},

    // $slice.
    {"SliceFirst", "{_id: 1, a: [1, 2, 3, 4, 5], b: 1}", "{a: {$slice: 2}}",
     "{_id: 1, a: [1, 2], b: 1}"},
    {"SliceLast", "{_id: 1, a: [1, 2, 3, 4, 5]}", "{a: {$slice: -2}}", "{_id: 1, a: [4, 5]}"},
    {"SliceZero", "{_id: 1, a: [1, 2, 3]}", "{a: {$slice: 0}}", "{_id: 1, a: []}"},
    {"SliceMoreThanLength", "{_id: 1, a: [1, 2, 3]}", "{a: {$slice: -10}}", "{_id: 1, a: [1, 2, 3]}"},
    {"SliceSkipLimit", "{_id: 1, a: [1, 2, 3, 4, 5]}", "{a: {$slice: [1, 2]}}", "{_id: 1, a: [2, 3]}"},
    {"SliceNegativeSkip", "{_id: 1, a: [1, 2, 3, 4, 5]}", "{a: {$slice: [-2, 5]}}",
     "{_id: 1, a: [4, 5]}"},
    {"SliceSkipPastEnd", "{_id: 1, a: [1, 2, 3]}", "{a: {$slice: [10, 2]}}", "{_id: 1, a: []}"},
    {"SliceNegativeSkipPastStart", "{_id: 1, a: [1, 2, 3]}", "{a: {$slice: [-10, 2]}}",
     "{_id: 1, a: [1, 2]}"},
    {"SliceDoubleArgs", "{_id: 1, a: [1, 2, 3]}", "{a: {$slice: [1.9, 1.2]}}", "{_id: 1, a: [2]}"},
    {"SliceWithInclusion", "{_id: 1, a: [1, 2, 3], b: 1, c: 2}", "{a: {$slice: 1}, b: 1}",
     "{_id: 1, a: [1], b: 1}"},
    {"SliceWithIdIncluded", "{_id: 1, a: [1, 2, 3], b: 1}", "{_id: 1, a: {$slice: 1}}",
     "{_id: 1, a: [1]}"},
    {"SliceWithIdExcluded", "{_id: 1, a: [1, 2, 3], b: 1}", "{_id: 0, a: {$slice: 1}}",
     "{a: [1], b: 1}"},
    {"SliceWithExclusion", "{_id: 1, a: [1, 2, 3], b: 1, c: 2}", "{a: {$slice: 1}, b: 0}",
     "{_id: 1, a: [1], c: 2}"},
    {"SliceNonArray", "{_id: 1, a: 5, b: {c: 1}}", "{a: {$slice: 1}, b: {$slice: 1}}",
     "{_id: 1, a: 5, b: {c: 1}}"},
    {"SliceMissing", "{_id: 1, b: 1}", "{a: {$slice: 1}}", "{_id: 1, b: 1}"},
    {"SliceThroughArrayOfDocuments", "{_id: 1, a: [{b: [1, 2, 3]}, {b: [4, 5]}, 7, [{b: [8, 9]}]]}",
     "{'a.b': {$slice: 1}}", "{_id: 1, a: [{b: [1]}, {b: [4]}, 7, [{b: [8, 9]}]]}"},
    {"SliceNestedWithInclusion", "{_id: 1, a: {b: [1, 2, 3], c: 1}, d: 1, e: 2}",
     "{'a.b': {$slice: 1}, d: 1}", "{_id: 1, a: {b: [1]}, d: 1}"},
    {"SliceNestedArrayKept", "{_id: 1, a: [[1, 2], [3]]}", "{a: {$slice: 1}}",
     "{_id: 1, a: [[1, 2]]}"},

    // $elemMatch.
    {"ElemMatchDocuments", "{_id: 1, a: [{x: 1}, {x: 2}, {x: 2, y: 1}], b: 1}",
     "{a: {$elemMatch: {x: 2}}}", "{_id: 1, a: [{x: 2}]}"},
    {"ElemMatchScalars", "{_id: 1, a: [11, 21, 31]}", "{a: {$elemMatch: {$gt: 15}}}",
     "{_id: 1, a: [21]}"},
    {"ElemMatchNoMatchDropsField", "{_id: 1, a: [1], b: 1}", "{a: {$elemMatch: {$gt: 5}}, b: 1}",
     "{_id: 1, b: 1}"},
    {"ElemMatchAfterInclusions", "{_id: 1, a: [1, 2], b: 1}", "{a: {$elemMatch: {$gt: 1}}, b: 1}",
     "{_id: 1, b: 1, a: [2]}"},
    {"ElemMatchOnScalar", "{_id: 1, a: 5}", "{a: {$elemMatch: {$gt: 1}}}", "{_id: 1}"},
    {"ElemMatchWithIdExcluded", "{_id: 1, a: [1, 2]}", "{_id: 0, a: {$elemMatch: {$gt: 1}}}",
     "{a: [2]}"},
    {"ElemMatchInExclusion", "{_id: 1, a: [1, 2], b: 1, c: 2}", "{a: {$elemMatch: {$gt: 1}}, b: 0}",
     "{_id: 1, a: [2], c: 2}"},
    {"ElemMatchNested", "{_id: 1, f: [{g: [1, 2], h: 1}, {g: [30, 40], h: 2}]}",
     "{f: {$elemMatch: {g: {$elemMatch: {$gt: 25}}}}}", "{_id: 1, f: [{g: [30, 40], h: 2}]}"},

    // Positional.
    {"Positional", "{_id: 1, a: [{b: 1}, {b: 2}], c: 1}", "{'a.$': 1}", "{_id: 1, a: [{b: 2}]}", 1},
    {"PositionalWithOtherFields", "{_id: 1, a: [10, 20, 30], c: 1, d: 2}", "{c: 1, 'a.$': 1}",
     "{_id: 1, a: [30], c: 1}", 2},
    {"PositionalSubPath", "{_id: 1, a: [{b: 1, c: 1}, {b: 2, c: 2}]}", "{'a.b.$': 1}",
     "{_id: 1, a: [{b: 2}]}", 1},
    {"PositionalNestedDocument", "{_id: 1, a: {b: [1, 2, 3]}}", "{'a.b.$': 1}",
     "{_id: 1, a: {b: [3]}}", 2},
    {"PositionalNestedSpec", "{_id: 1, a: {b: [1, 2, 3]}}", "{a: {'b.$': 1}}",
     "{_id: 1, a: {b: [3]}}", 2},
    {"PositionalNoArray", "{_id: 1, a: 5}", "{'a.$': 1}", "{_id: 1, a: 5}"},
    {"PositionalMissing", "{_id: 1, b: [1]}", "{'a.$': 1}", "{_id: 1}"},
    {"PositionalSuffixIgnored", "{_id: 1, a: [{b: 1, c: 1}, {b: 2, c: 2}]}", "{'a.$.c': 1}",
     "{_id: 1, a: [{b: 2, c: 2}]}", 1},
};

INSTANTIATE_TEST_SUITE_P(Cases, ProjectionApplyTest, testing::ValuesIn(kApplyCases),
                         [](const testing::TestParamInfo<ProjectionCase>& info) {
                           return info.param.name;
                         });

struct CompileErrorCase {
  std::string projection;
  int code;  // 0: any error
  std::string message_part;
};

class ProjectionCompileErrorTest : public testing::TestWithParam<CompileErrorCase> {};

TEST_P(ProjectionCompileErrorTest, Fails) {
  const CompileErrorCase& c = GetParam();
  Result<Projection> p = Projection::Compile(Doc(c.projection));
  ASSERT_FALSE(p.ok()) << c.projection;
  if (c.code != 0) {
    EXPECT_EQ(p.status().code_number(), c.code) << p.status().ToString();
  }
  EXPECT_NE(p.status().message().find(c.message_part), std::string::npos) << p.status().ToString();
}

const CompileErrorCase kCompileErrors[] = {
    {"{a: 1, b: 0}", 31254, "Cannot do exclusion on field b in inclusion projection"},
    {"{a: 0, b: 1}", 31253, "Cannot do inclusion on field b in exclusion projection"},
    {"{a: 0, 'b.c': true}", 31253, "Cannot do inclusion on field b.c in exclusion projection"},
    {"{a: {b: 1, c: 0}}", 31254, "Cannot do exclusion on field c in inclusion projection"},
    {"{c: 'x', a: 0}", 31254, "Cannot do exclusion on field a in inclusion projection"},
    {"{a: 0, c: 'x'}", 31310, "Cannot use an expression c: \"x\" in an exclusion projection"},
    {"{a: 0, c: {$add: [1, 2]}}", 31252, "Cannot use expression other than $meta"},
    {"{a: 1, 'a.b': 1}", 31249, "Path collision at a.b remaining portion b"},
    {"{'a.b': 1, a: 1}", 31250, "Path collision at a"},
    {"{'a.b': 1, 'a.b.c': 1}", 31249, "Path collision at a.b.c remaining portion c"},
    {"{a: {b: 1}, 'a.b': 0}", 31250, "Path collision at a.b"},
    {"{a: {$slice: 1}, 'a.b': 1}", 31249, "Path collision"},
    {"{'a.$': 1, 'b.$': 1}", 31276, "Cannot specify more than one positional projection"},
    {"{a: {$elemMatch: {x: 1}}, 'b.$': 1}", 31256, "Cannot specify positional operator and $elemMatch."},
    {"{'b.$': 1, a: {$elemMatch: {x: 1}}}", 31255, "Cannot specify positional operator and $elemMatch."},
    {"{'a.b': {$elemMatch: {x: 1}}}", 31275, "Cannot use $elemMatch projection on a nested field."},
    {"{a: {b: {$elemMatch: {x: 1}}}}", 31275, "nested field"},
    {"{a: {$elemMatch: 1}}", 31274, "elemMatch: Invalid argument, object required, but got int"},
    {"{a: {$elemMatch: {$bogus: 1}}}", 0, "$bogus"},
    {"{'a.$.$': 1}", 31287, "Cannot use positional operator twice: a.$.$"},
    {"{'a.$': {x: 1}}", 31271, "positional projection cannot be used with an expression or sub object"},
    {"{'a.$': 'x'}", 31308, "positional projection cannot be used with a literal"},
    {"{'a.$': 0}", 16410, "may not start with '$'"},
    {"{$: 1}", 40352, "empty string"},
    {"{a: {}}", 51270, "An empty sub-projection is not a valid value. Found empty object at path a"},
    {"{a: {b: {}}}", 51270, "Found empty object at path a.b"},
    {"{a: {$foo: 1}}", 31325, "Unknown expression $foo"},
    {"{a: {$slice: 'x'}}", 0, "$slice"},
    {"{a: {$meta: 'textScore'}}", 238, "$meta"},
    {"{'': 1}", 40352, "FieldPath cannot be constructed with empty string"},
    {"{'a..b': 1}", 15998, "FieldPath field names may not be empty strings."},
    {"{'a.': 0}", 15998, "may not be empty strings"},
    {"{$foo: 1}", 16410, "may not start with '$'"},
    {"{'a.$b': 1}", 16410, "may not start with '$'"},
    {"{a: {$slice: 1, b: 1}}", 16410, "may not start with '$'"},
    {"{x: '$'}", 0, ""},
    {"{x: {$add: 1, $sub: 2}}", 16410, ""},
};

INSTANTIATE_TEST_SUITE_P(Cases, ProjectionCompileErrorTest, testing::ValuesIn(kCompileErrors));

TEST(ProjectionTest, Kinds) {
  struct KindCase {
    std::string projection;
    bool inclusion;
    bool positional;
    bool identity;
  };
  const KindCase cases[] = {
      {"{}", false, false, true},
      {"{_id: 0}", false, false, false},
      {"{_id: 1}", true, false, false},
      {"{_id: 1, a: 0}", false, false, false},
      {"{_id: 0, a: 1}", true, false, false},
      {"{a: {$slice: 1}}", false, false, false},
      {"{_id: 1, a: {$slice: 1}}", true, false, false},
      {"{a: {$elemMatch: {x: 1}}}", true, false, false},
      {"{_id: 0, a: {$elemMatch: {x: 1}}}", true, false, false},
      {"{'a.$': 1}", true, true, false},
      {"{x: '$a'}", true, false, false},
  };
  for (const KindCase& c : cases) {
    Result<Projection> p = Projection::Compile(Doc(c.projection));
    ASSERT_TRUE(p.ok()) << c.projection << ": " << p.status().ToString();
    EXPECT_EQ(p->is_inclusion(), c.inclusion) << c.projection;
    EXPECT_EQ(p->has_positional(), c.positional) << c.projection;
    EXPECT_EQ(p->is_identity(), c.identity) << c.projection;
  }
  Projection none;
  EXPECT_TRUE(none.is_identity());
  Result<bson::Document> same = none.Apply(Doc("{a: 1}"));
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(Shell(*same), "{a: 1}");
}

TEST(ProjectionTest, PositionalNeedsMatchingQuery) {
  bson::Document filter = Doc("{'a.b': 2, c: 1}");
  EXPECT_TRUE(Projection::Compile(Doc("{'a.$': 1}"), &filter).ok());
  bson::Document or_filter = Doc("{$or: [{x: 1}, {$and: [{a: {$gt: 1}}]}]}");
  EXPECT_TRUE(Projection::Compile(Doc("{'a.$': 1}"), &or_filter).ok());
  EXPECT_TRUE(Projection::Compile(Doc("{a: {'b.$': 1}}"), &filter).ok());

  bson::Document other = Doc("{b: 1, $expr: {$eq: ['$a', 1]}}");
  Result<Projection> p = Projection::Compile(Doc("{'a.$': 1}"), &other);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code_number(), 31277);
  EXPECT_EQ(p.status().message(), "Positional projection 'a.$' does not match the query document.");

  Result<Projection> none = Projection::Compile(Doc("{'a.$': 1}"), nullptr);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code_number(), 51050);
  // Without positional projections the filter does not matter.
  EXPECT_TRUE(Projection::Compile(Doc("{a: 1}"), nullptr).ok());
}

TEST(ProjectionTest, PositionalRuntimeErrors) {
  Result<Projection> p = Projection::Compile(Doc("{'a.$': 1}"));
  ASSERT_TRUE(p.ok());
  Result<bson::Document> no_index = p->Apply(Doc("{_id: 1, a: [1, 2]}"), std::nullopt);
  ASSERT_FALSE(no_index.ok());
  EXPECT_EQ(no_index.status().code_number(), 51246);
  EXPECT_EQ(no_index.status().message(),
            "positional operator '.$' couldn't find a matching element in the array");
  Result<bson::Document> out_of_range = p->Apply(Doc("{_id: 1, a: [1, 2]}"), 5);
  ASSERT_FALSE(out_of_range.ok());
  EXPECT_EQ(out_of_range.status().code_number(), 51247);
  EXPECT_EQ(out_of_range.status().message(), "positional operator '.$' element mismatch");
}

TEST(ProjectionTest, ComputedFieldRuntimeError) {
  // Not find()'s $slice (limit must be positive), so mongod parses it as the aggregation
  // $slice expression, which then fails on a non-array first argument when applied.
  Result<Projection> p = Projection::Compile(Doc("{a: {$slice: [1, 0]}}"));
  if (IsRegisteredExpression("$slice")) {
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_TRUE(p->is_inclusion());
    Result<bson::Document> out = p->Apply(Doc("{_id: 1, a: [1, 2]}"));
    EXPECT_FALSE(out.ok());
  } else {
    // Without the expression, find()'s own error stands.
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code_number(), 31259);
    EXPECT_EQ(p.status().message(), "$slice limit must be positive, got 0");
  }

  Result<Projection> div = Projection::Compile(Doc("{x: {$divide: [1, '$z']}}"));
  ASSERT_TRUE(div.ok()) << div.status().ToString();
  Result<bson::Document> fail = div->Apply(Doc("{_id: 1, z: 0}"));
  ASSERT_FALSE(fail.ok());
  Result<bson::Document> fine = div->Apply(Doc("{_id: 1, z: 2}"));
  ASSERT_TRUE(fine.ok()) << fine.status().ToString();
  EXPECT_EQ(Shell(*fine), "{_id: 1, x: 0.5}");
}

TEST(ProjectionTest, AggregationSliceFallback) {
  // Three arguments are not find()'s syntax; the $slice expression takes them.
  Result<Projection> p = Projection::Compile(Doc("{x: {$slice: ['$a', 1, 2]}}"));
  if (!IsRegisteredExpression("$slice")) {
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code_number(), 31272);
    EXPECT_EQ(p.status().message(), "$slice array argument should be of form [skip, limit]");
    GTEST_SKIP() << "the aggregation $slice expression is not registered yet";
  }
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  Result<bson::Document> out = p->Apply(Doc("{_id: 1, a: [1, 2, 3, 4]}"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Shell(*out), "{_id: 1, x: [2, 3]}");
}

TEST(ProjectionTest, ProjectionIsReusable) {
  Result<Projection> p = Projection::Compile(Doc("{'a.b': 1, c: {$slice: -1}}"));
  ASSERT_TRUE(p.ok());
  Projection copy = *p;
  for (int i = 0; i < 3; ++i) {
    Result<bson::Document> out = copy.Apply(Doc("{_id: 1, a: [{b: 1, x: 2}], c: [1, 2], d: 3}"));
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(Shell(*out), "{_id: 1, a: [{b: 1}], c: [2]}");
  }
}

}  // namespace
}  // namespace eddy::query
