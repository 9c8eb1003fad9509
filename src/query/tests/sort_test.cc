#include "query/sort/sort.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bson/json.h"

namespace eddy::query {
namespace {

bson::Document Doc(std::string_view json) {
  Result<bson::Document> d = bson::ParseJson(json);
  EXPECT_TRUE(d.ok()) << json << ": " << d.status().ToString();
  return d.ok() ? *d : bson::Document();
}

std::vector<bson::Document> Docs(const std::vector<std::string>& jsons) {
  std::vector<bson::Document> out;
  for (const std::string& j : jsons) out.push_back(Doc(j));
  return out;
}

// Renders the _id of each document, in order: "3 1 2".
std::string Ids(const std::vector<bson::Document>& docs) {
  std::string out;
  for (const bson::Document& d : docs) {
    if (!out.empty()) out += ' ';
    const bson::Value* id = d.Get("_id");
    out += id ? bson::ToJson(*id, bson::JsonMode::kShell) : "?";
  }
  return out;
}

struct SortCase {
  std::string name;
  std::vector<std::string> docs;
  std::string sort;
  std::string expected_ids;
};

class SortOrderTest : public testing::TestWithParam<SortCase> {};

TEST_P(SortOrderTest, Orders) {
  const SortCase& c = GetParam();
  Result<SortSpec> spec = SortSpec::Compile(Doc(c.sort));
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  std::vector<bson::Document> docs = Docs(c.docs);
  Status s = spec->Sort(&docs);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Ids(docs), c.expected_ids) << "sort " << c.sort;

  // Compare() must agree with Sort() on neighbours.
  for (size_t i = 1; i < docs.size(); ++i) {
    EXPECT_LE(spec->Compare(docs[i - 1], docs[i]), 0) << Ids(docs);
  }
}

const SortCase kSortCases[] = {
    {"ScalarAscending",
     {"{_id: 1, a: 3}", "{_id: 2, a: 1}", "{_id: 3, a: 2}"},
     "{a: 1}",
     "2 3 1"},
    {"ScalarDescending",
     {"{_id: 1, a: 3}", "{_id: 2, a: 1}", "{_id: 3, a: 2}"},
     "{a: -1}",
     "1 3 2"},
    {"MixedNumericTypes",
     {"{_id: 1, a: 2.5}", "{_id: 2, a: NumberLong(2)}", "{_id: 3, a: NumberDecimal('3')}",
      "{_id: 4, a: 1}"},
     "{a: 1}",
     "4 2 1 3"},
    {"TypeOrder",
     {"{_id: 1, a: 'x'}", "{_id: 2, a: {b: 1}}", "{_id: 3, a: true}", "{_id: 4, a: null}",
      "{_id: 5, a: 5}", "{_id: 6, a: MinKey}", "{_id: 7, a: MaxKey}",
      "{_id: 8, a: ObjectId('5f0000000000000000000000')}", "{_id: 9, a: ISODate('2020-01-01T00:00:00Z')}"},
     "{a: 1}",
     "6 4 5 1 2 8 3 9 7"},
    {"MissingSortsAsNullAndTiesKeepInputOrder",
     {"{_id: 1, a: null}", "{_id: 2}", "{_id: 3, a: 0}", "{_id: 4, a: null}", "{_id: 5, b: 1}"},
     "{a: 1}",
     "1 2 4 5 3"},
    {"MissingSortsAsNullDescending",
     {"{_id: 1, a: null}", "{_id: 2}", "{_id: 3, a: 0}"},
     "{a: -1}",
     "3 1 2"},
    {"ArrayAscendingUsesSmallest",
     {"{_id: 1, a: [5, 1]}", "{_id: 2, a: 2}", "{_id: 3, a: [3, 0.5]}"},
     "{a: 1}",
     "3 1 2"},
    {"ArrayDescendingUsesLargest",
     {"{_id: 1, a: [5, 1]}", "{_id: 2, a: 6}", "{_id: 3, a: [3, 0.5]}"},
     "{a: -1}",
     "2 1 3"},
    {"EmptyArrayBeforeNullAscending",
     {"{_id: 1, a: null}", "{_id: 2, a: []}", "{_id: 3}", "{_id: 4, a: 1}"},
     "{a: 1}",
     "2 1 3 4"},
    {"EmptyArrayLastDescending",
     {"{_id: 1, a: null}", "{_id: 2, a: []}", "{_id: 3, a: 1}"},
     "{a: -1}",
     "3 1 2"},
    {"NestedArrayIsOneKey",
     // [[1], 9]: keys [1] (an array: ranks above numbers) and 9.
     {"{_id: 1, a: [[1], 9]}", "{_id: 2, a: 5}", "{_id: 3, a: 'z'}"},
     "{a: 1}",
     "2 1 3"},
    {"NestedArrayDescending",
     {"{_id: 1, a: [[1], 9]}", "{_id: 2, a: {x: 1}}", "{_id: 3, a: 'z'}"},
     "{a: -1}",
     "1 2 3"},
    {"DottedThroughDocuments",
     {"{_id: 1, a: {b: 2}}", "{_id: 2, a: {b: 1}}", "{_id: 3, a: {c: 0}}", "{_id: 4, a: 7}"},
     "{'a.b': 1}",
     "3 4 2 1"},
    {"DottedThroughArrayOfDocuments",
     {"{_id: 1, a: [{b: 5}, {b: 2}]}", "{_id: 2, a: [{b: 3}]}", "{_id: 3, a: {b: 1}}"},
     "{'a.b': 1}",
     "3 1 2"},
    {"ArrayElementWithoutFieldGivesNull",
     // {c: 1} in the array contributes null, which is smallest ascending.
     {"{_id: 1, a: [{b: 5}, {c: 1}]}", "{_id: 2, a: [{b: 3}]}", "{_id: 3, a: [7, {b: 4}]}"},
     "{'a.b': 1}",
     "1 3 2"},
    {"ArrayElementWithoutFieldDescending",
     {"{_id: 1, a: [{b: 5}, {c: 1}]}", "{_id: 2, a: [{b: 3}]}"},
     "{'a.b': -1}",
     "1 2"},
    {"DoublyNestedArraysExpandBothLevels",
     {"{_id: 1, a: [{b: [9, 1]}, {b: 4}]}", "{_id: 2, a: [{b: [2, 3]}]}"},
     "{'a.b': 1}",
     "1 2"},
    {"ArrayOfArraysOfDocumentsGivesNull",
     {"{_id: 1, a: [[{b: 1}]]}", "{_id: 2, a: [{b: 0}]}"},
     "{'a.b': 1}",
     "1 2"},
    {"NumericComponentSelectsElement",
     {"{_id: 1, a: [5, 1]}", "{_id: 2, a: [3, 9]}", "{_id: 3, a: [4]}"},
     "{'a.0': 1}",
     "2 3 1"},
    {"NumericComponentThenField",
     {"{_id: 1, a: [{b: 5}, {b: 0}]}", "{_id: 2, a: [{b: 3}, {b: 9}]}"},
     "{'a.1.b': 1}",
     "1 2"},
    {"NumericComponentIsFieldNameInDocuments",
     {"{_id: 1, a: {'0': 8}}", "{_id: 2, a: {'0': 2}}"},
     "{'a.0': 1}",
     "2 1"},
    {"CompoundKeys",
     {"{_id: 1, a: 1, b: 2}", "{_id: 2, a: 1, b: 1}", "{_id: 3, a: 0, b: 9}"},
     "{a: 1, b: -1}",
     "3 1 2"},
    {"CompoundWithOneArray",
     {"{_id: 1, a: [1, 3], b: 5}", "{_id: 2, a: 1, b: 4}", "{_id: 3, a: [2], b: 0}"},
     "{a: 1, b: 1}",
     "2 1 3"},
    {"CompoundPairsFieldsOfTheSameElement",
     // Tuples (1,5) and (2,0): the smallest tuple is (1,5), not (1,0).
     {"{_id: 1, a: [{x: 1, y: 5}, {x: 2, y: 0}]}", "{_id: 2, a: [{x: 1, y: 3}]}"},
     "{'a.x': 1, 'a.y': 1}",
     "2 1"},
    {"CompoundMixedDirectionsOnOneArray",
     // Under {x: 1, y: -1} doc 1's best tuple is (1, 5); doc 2's is (1, 7).
     {"{_id: 1, a: [{x: 1, y: 5}, {x: 1, y: 2}]}", "{_id: 2, a: [{x: 1, y: 7}]}"},
     "{'a.x': 1, 'a.y': -1}",
     "2 1"},
    {"StringsByBytes",
     {"{_id: 1, a: 'b'}", "{_id: 2, a: 'B'}", "{_id: 3, a: 'a'}", "{_id: 4, a: ''}"},
     "{a: 1}",
     "4 2 3 1"},
    {"DocumentsCompareFieldByField",
     {"{_id: 1, a: {x: 2}}", "{_id: 2, a: {x: 1, y: 1}}", "{_id: 3, a: {x: 1}}"},
     "{a: 1}",
     "3 2 1"},
    {"UndefinedBeforeNull",
     {"{_id: 1, a: null}", "{_id: 2, a: {$undefined: true}}", "{_id: 3, a: MinKey}"},
     "{a: 1}",
     "3 2 1"},
    {"NaNBeforeNumbers",
     {"{_id: 1, a: 1}", "{_id: 2, a: {$numberDouble: 'NaN'}}", "{_id: 3, a: {$numberDouble: '-Infinity'}}"},
     "{a: 1}",
     "2 3 1"},
    {"DirectionAsDoubleAndLong",
     {"{_id: 1, a: 1}", "{_id: 2, a: 2}"},
     "{a: -1.0, b: NumberLong(1)}",
     "2 1"},
    {"TruncatedDirection",
     {"{_id: 1, a: 1}", "{_id: 2, a: 2}"},
     "{a: -1.5}",
     "2 1"},
    {"EmptySpecKeepsOrder",
     {"{_id: 2}", "{_id: 1}"},
     "{}",
     "2 1"},
    {"NaturalKeepsOrder",
     {"{_id: 2, a: 1}", "{_id: 1, a: 0}"},
     "{$natural: -1}",
     "2 1"},
};

INSTANTIATE_TEST_SUITE_P(Cases, SortOrderTest, testing::ValuesIn(kSortCases),
                         [](const testing::TestParamInfo<SortCase>& info) { return info.param.name; });

struct SortErrorCase {
  std::string sort;
  int code;
  std::string message_part;
};

class SortCompileErrorTest : public testing::TestWithParam<SortErrorCase> {};

TEST_P(SortCompileErrorTest, Fails) {
  const SortErrorCase& c = GetParam();
  Result<SortSpec> spec = SortSpec::Compile(Doc(c.sort));
  ASSERT_FALSE(spec.ok()) << c.sort;
  EXPECT_EQ(spec.status().code_number(), c.code) << spec.status().ToString();
  EXPECT_NE(spec.status().message().find(c.message_part), std::string::npos)
      << spec.status().ToString();
}

const SortErrorCase kSortErrorCases[] = {
    {"{a: 2}", 15975, "$sort key ordering must be 1 (for ascending) or -1 (for descending)"},
    {"{a: 0}", 15975, "must be 1"},
    {"{a: 0.5}", 15975, "must be 1"},
    {"{a: {$numberDouble: 'NaN'}}", 15975, "must be 1"},
    {"{a: 'asc'}", 15974, "Illegal key in $sort specification: a: \"asc\""},
    {"{a: true}", 15974, "Illegal key in $sort specification"},
    {"{a: null}", 15974, "Illegal key in $sort specification"},
    {"{a: [1]}", 15974, "Illegal key in $sort specification"},
    {"{a: {}}", 17312, "$meta is the only expression"},
    {"{a: {$sum: 1}}", 17312, "$meta is the only expression"},
    {"{a: {$meta: 'textScore', x: 1}}", 9, "Cannot have additional keys"},
    {"{a: {$meta: 'bogus'}}", 31138, "Illegal $meta sort"},
    {"{a: {$meta: 1}}", 31138, "Illegal $meta sort"},
    {"{'': 1}", 40352, "empty string"},
    {"{'a..b': 1}", 15998, "may not be empty strings"},
    {"{'a.': 1}", 15998, "may not be empty strings"},
    {"{$a: 1}", 16410, "may not start with '$'"},
    {"{'a.$b': 1}", 16410, "may not start with '$'"},
    {"{$natural: 2}", 2, "$natural sort cannot be set to a value other than -1 or 1."},
    {"{$natural: 'x'}", 2, "$natural sort cannot be set"},
    {"{$natural: 1.5}", 2, "$natural sort cannot be set"},
    {"{$natural: 1, a: 1}", 2, "$natural sort cannot be set"},
    {"{a: 1, $natural: -1}", 2, "$natural sort cannot be set"},
    {"{a: 1, a: -1}", 7472500, "duplicate: 'a'"},
};

INSTANTIATE_TEST_SUITE_P(Cases, SortCompileErrorTest, testing::ValuesIn(kSortErrorCases));

TEST(SortSpecTest, CompileExposesKeys) {
  Result<SortSpec> spec = SortSpec::Compile(Doc("{a: 1, 'b.c': -1, s: {$meta: 'textScore'}}"));
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  ASSERT_EQ(spec->keys().size(), 3u);
  EXPECT_EQ(spec->keys()[0].path, "a");
  EXPECT_EQ(spec->keys()[0].direction, 1);
  EXPECT_FALSE(spec->keys()[0].is_meta);
  EXPECT_EQ(spec->keys()[1].path, "b.c");
  EXPECT_EQ(spec->keys()[1].direction, -1);
  EXPECT_TRUE(spec->keys()[2].is_meta);
  EXPECT_EQ(spec->keys()[2].meta, "textScore");
  EXPECT_EQ(spec->keys()[2].direction, -1);
  EXPECT_TRUE(spec->has_meta());
  EXPECT_FALSE(spec->empty());
  EXPECT_FALSE(spec->natural_direction().has_value());
}

TEST(SortSpecTest, Natural) {
  Result<SortSpec> spec = SortSpec::Compile(Doc("{$natural: -1}"));
  ASSERT_TRUE(spec.ok());
  EXPECT_TRUE(spec->empty());
  EXPECT_EQ(spec->natural_direction(), -1);
  Result<SortSpec> fwd = SortSpec::Compile(Doc("{$natural: 1.0}"));
  ASSERT_TRUE(fwd.ok());
  EXPECT_EQ(fwd->natural_direction(), 1);
  Result<SortSpec> dec = SortSpec::Compile(Doc("{$natural: NumberDecimal('-1')}"));
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(dec->natural_direction(), -1);
}

TEST(SortSpecTest, ParallelArraysFail) {
  Result<SortSpec> spec = SortSpec::Compile(Doc("{a: 1, b: 1}"));
  ASSERT_TRUE(spec.ok());
  std::vector<bson::Document> docs = Docs({"{_id: 1, a: [1, 2], b: [3, 4]}", "{_id: 2, a: 1}"});
  Status s = spec->Sort(&docs);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kBadValue);
  EXPECT_EQ(s.message(), "cannot sort with keys that are parallel arrays");
  EXPECT_EQ(Ids(docs), "1 2");  // untouched on error

  // One array reached by two paths is not parallel.
  Result<SortSpec> same = SortSpec::Compile(Doc("{'a.x': 1, 'a.y': 1}"));
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->ExtractSortKey(Doc("{a: [{x: 1, y: 2}, {x: 0}]}")).ok());
  // Arrays at different depths of different paths are parallel.
  Result<SortSpec> deep = SortSpec::Compile(Doc("{'a.b': 1, c: 1}"));
  ASSERT_TRUE(deep.ok());
  EXPECT_FALSE(deep->ExtractSortKey(Doc("{a: {b: [1]}, c: [2]}")).ok());
  EXPECT_TRUE(deep->ExtractSortKey(Doc("{a: {b: [1]}, c: 2}")).ok());
}

TEST(SortSpecTest, ExtractSortKey) {
  struct KeyCase {
    std::string sort;
    std::string doc;
    std::string key;  // the key as a shell-syntax array
  };
  const KeyCase cases[] = {
      {"{a: 1}", "{a: [3, 1, 2]}", "[1]"},
      {"{a: -1}", "{a: [3, 1, 2]}", "[3]"},
      {"{a: 1}", "{}", "[null]"},
      {"{a: 1}", "{a: []}", "[{$undefined: true}]"},
      {"{'a.b': 1}", "{a: []}", "[null]"},
      {"{'a.b': 1}", "{a: [{b: []}]}", "[{$undefined: true}]"},
      {"{'a.b': -1}", "{a: [{b: 1}, 5]}", "[1]"},
      {"{'a.b': 1}", "{a: [{b: 1}, 5]}", "[null]"},
      {"{a: 1, b: -1}", "{a: 'x', b: [1, 4]}", "['x', 4]"},
      {"{'a.1': 1}", "{a: [[1, 2], [3, 4]]}", "[[3, 4]]"},
      {"{'a.0': -1}", "{a: [{'0': 1}]}", ""},  // ambiguous field: error
  };
  for (const KeyCase& c : cases) {
    Result<SortSpec> spec = SortSpec::Compile(Doc(c.sort));
    ASSERT_TRUE(spec.ok()) << c.sort;
    Result<std::vector<bson::Value>> key = spec->ExtractSortKey(Doc(c.doc));
    if (c.key.empty()) {
      ASSERT_FALSE(key.ok()) << c.sort << " " << c.doc;
      EXPECT_EQ(key.status().code_number(), 16746);
      continue;
    }
    ASSERT_TRUE(key.ok()) << c.sort << " " << c.doc << ": " << key.status().ToString();
    Result<bson::Value> expected = bson::ParseJsonValue(c.key);
    ASSERT_TRUE(expected.ok()) << c.key;
    EXPECT_EQ(bson::Value(*key), *expected)
        << c.sort << " " << c.doc << " got " << bson::ToJson(bson::Value(*key), bson::JsonMode::kShell);
  }
}

TEST(SortSpecTest, MetaNeedsProvider) {
  Result<SortSpec> spec = SortSpec::Compile(Doc("{s: {$meta: 'textScore'}, a: 1}"));
  ASSERT_TRUE(spec.ok());
  Result<std::vector<bson::Value>> key = spec->ExtractSortKey(Doc("{a: 1}"));
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code_number(), 40218);
  EXPECT_EQ(key.status().message(), "query requires text score metadata, but it is not available");

  // Scores sort descending, then a ascending.
  std::vector<bson::Document> docs =
      Docs({"{_id: 1, a: 2, score: 1.5}", "{_id: 2, a: 1, score: 3}", "{_id: 3, a: 0, score: 1.5}"});
  std::vector<SortMetaProvider> providers;
  for (const bson::Document& d : docs) {
    bson::Value score = *d.Get("score");
    providers.push_back([score](std::string_view) -> Result<bson::Value> { return score; });
  }
  Status s = spec->Sort(&docs, std::nullopt, [&](size_t i) { return &providers[i]; });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Ids(docs), "2 3 1");
}

TEST(SortSpecTest, LimitKeepsTopKStably) {
  Result<SortSpec> spec = SortSpec::Compile(Doc("{a: 1}"));
  ASSERT_TRUE(spec.ok());
  std::vector<bson::Document> docs = Docs({"{_id: 1, a: 2}", "{_id: 2, a: 1}", "{_id: 3, a: 2}",
                                           "{_id: 4, a: 1}", "{_id: 5, a: 0}"});
  ASSERT_TRUE(spec->Sort(&docs, 3).ok());
  EXPECT_EQ(Ids(docs), "5 2 4");
  std::vector<bson::Document> more = Docs({"{_id: 1, a: 2}", "{_id: 2, a: 1}"});
  ASSERT_TRUE(spec->Sort(&more, 10).ok());
  EXPECT_EQ(Ids(more), "2 1");
  std::vector<bson::Document> none = Docs({"{_id: 1}", "{_id: 2}"});
  ASSERT_TRUE(spec->Sort(&none, 0).ok());
  EXPECT_TRUE(none.empty());
}

TEST(SortSpecTest, CompareDocuments) {
  Result<SortSpec> spec = SortSpec::Compile(Doc("{a: -1}"));
  ASSERT_TRUE(spec.ok());
  EXPECT_LT(spec->Compare(Doc("{a: 2}"), Doc("{a: 1}")), 0);
  EXPECT_GT(spec->Compare(Doc("{a: 1}"), Doc("{a: [0, 2]}")), 0);
  EXPECT_EQ(spec->Compare(Doc("{a: 1}"), Doc("{a: 1.0}")), 0);
  EXPECT_EQ(spec->Compare(Doc("{}"), Doc("{a: null}")), 0);
  SortSpec empty;
  EXPECT_EQ(empty.Compare(Doc("{a: 1}"), Doc("{a: 2}")), 0);
}

TEST(SortSpecTest, SortsManyDocuments) {
  Result<SortSpec> spec = SortSpec::Compile(Doc("{'k.v': -1, i: 1}"));
  ASSERT_TRUE(spec.ok());
  std::vector<bson::Document> docs;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    bson::Document inner;
    inner.Append("v", bson::Value(static_cast<int32_t>((i * 7919) % 1000)));
    bson::Document d;
    d.Append("i", bson::Value(static_cast<int32_t>(i)));
    d.Append("k", bson::Value(std::move(inner)));
    docs.push_back(std::move(d));
  }
  ASSERT_TRUE(spec->Sort(&docs).ok());
  for (size_t i = 1; i < docs.size(); ++i) {
    int prev_v = docs[i - 1].Get("k")->as_document().Get("v")->as_int32();
    int v = docs[i].Get("k")->as_document().Get("v")->as_int32();
    ASSERT_GE(prev_v, v);
    if (prev_v == v) {
      ASSERT_LT(docs[i - 1].Get("i")->as_int32(), docs[i].Get("i")->as_int32());
    }
  }
}

}  // namespace
}  // namespace eddy::query
