// Table-driven tests of the filter language: (filter, document, expected) rows per operator,
// then error rows (filter, code, message substring), MatchDetails and the planner extraction.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "bson/json.h"
#include "query/match/matcher.h"

namespace eddy::query {
namespace {

struct MatchCase {
  const char* filter;
  const char* doc;
  bool expected;
};

bson::Document Json(const char* text) {
  auto r = bson::ParseJson(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : bson::Document();
}

void RunCases(const std::vector<MatchCase>& cases) {
  for (const MatchCase& c : cases) {
    auto m = Matcher::Compile(Json(c.filter));
    ASSERT_TRUE(m.ok()) << c.filter << ": " << m.status().ToString();
    EXPECT_EQ(m->Matches(Json(c.doc)), c.expected)
        << "filter " << c.filter << " doc " << c.doc;
  }
}

TEST(MatchTest, EqualityAndPaths) {
  RunCases({
      {"{}", "{a: 1}", true},
      {"{a: 1}", "{a: 1}", true},
      {"{a: 1}", "{a: 1.0}", true},
      {"{a: 1}", "{a: NumberLong(1)}", true},
      {"{a: 1}", "{a: NumberDecimal('1')}", true},
      {"{a: 1}", "{a: '1'}", false},
      {"{a: 1}", "{b: 1}", false},
      {"{a: 1, b: 2}", "{a: 1, b: 2}", true},
      {"{a: 1, b: 2}", "{a: 1, b: 3}", false},
      {"{'a.b': 1}", "{a: {b: 1}}", true},
      {"{'a.b': 1}", "{a: {b: 2}}", false},
      {"{'a.b.c': 1}", "{a: {b: {c: 1}}}", true},
      {"{'a.b': 1}", "{a: 5}", false},
      // implicit array traversal
      {"{tags: 'x'}", "{tags: ['x', 'y']}", true},
      {"{tags: 'z'}", "{tags: ['x', 'y']}", false},
      {"{'a.b': 1}", "{a: [{b: 2}, {b: 1}]}", true},
      {"{'a.b': 1}", "{a: [{b: [0, 1]}]}", true},
      {"{'a.b': 1}", "{a: [[{b: 1}]]}", false},   // nested arrays are not entered
      {"{a: 1}", "{a: [[1]]}", false},
      {"{a: [1]}", "{a: [[1]]}", true},
      // whole-array equality
      {"{a: [1, 2]}", "{a: [1, 2]}", true},
      {"{a: [1, 2]}", "{a: [[1, 2], 3]}", true},
      {"{a: [1, 2]}", "{a: [2, 1]}", false},
      {"{a: [1, 2]}", "{a: [1, 2, 3]}", false},
      {"{a: []}", "{a: []}", true},
      {"{a: []}", "{a: [[]]}", true},
      {"{a: []}", "{a: 1}", false},
      // numeric path components: array index and field name
      {"{'a.0': 1}", "{a: [1, 2]}", true},
      {"{'a.1': 1}", "{a: [1, 2]}", false},
      {"{'a.1': 2}", "{a: [1, 2]}", true},
      {"{'a.0.b': 1}", "{a: [{b: 1}, {b: 2}]}", true},
      {"{'a.1.b': 1}", "{a: [{b: 1}, {b: 2}]}", false},
      {"{'a.0': 5}", "{a: {'0': 5}}", true},
      {"{'a.0': 5}", "{a: [{'0': 5}]}", true},
      {"{'a.0.0': 1}", "{a: [[1, 2]]}", true},
      {"{'a.0.1': 1}", "{a: [[1, 2]]}", false},
      {"{'a.0': 1}", "{a: [[1, 2]]}", false},
      {"{'a.0': [1, 2]}", "{a: [[1, 2]]}", true},
      {"{'a.01': 1}", "{a: [1]}", false},
      {"{'a.1.0': 2}", "{a: [[1], [2, 3]]}", true},
      {"{'a.1.b': null}", "{a: [{b: 1}, {b: 2}]}", true},  // mongod: element 0 lacks field "1"
      {"{'a.b.0': 1}", "{a: [{b: [1]}, {b: [2]}]}", true},
      {"{'a.b.1': 1}", "{a: [{b: [1]}, {b: [2]}]}", false},
      {"{'a.b': [1]}", "{a: [{b: [1]}, {b: [2]}]}", true},
      {"{'a.2': 1}", "{a: [1]}", false},
      // documents compare field by field, in order
      {"{a: {b: 1, c: 2}}", "{a: {b: 1, c: 2}}", true},
      {"{a: {b: 1, c: 2}}", "{a: {c: 2, b: 1}}", false},
      {"{a: {b: 1}}", "{a: {b: 1, c: 2}}", false},
      {"{a: {b: 1}}", "{a: [{b: 1}]}", true},
      {"{a: {}}", "{a: {}}", true},
      {"{a: {$ref: 'c', $id: 1}}", "{a: {$ref: 'c', $id: 1}}", true},
      {"{a: {$id: 1, $ref: 'c'}}", "{a: {$id: 1, $ref: 'c'}}", true},
      {"{a: {$ref: 'c', $id: 1}}", "{a: {$id: 1, $ref: 'c'}}", false},
      // other types
      {"{a: true}", "{a: true}", true},
      {"{a: true}", "{a: 1}", false},
      {"{a: 'x'}", "{a: 'x'}", true},
      {"{a: ObjectId('5f0000000000000000000001')}", "{a: ObjectId('5f0000000000000000000001')}", true},
      {"{a: ISODate('2020-01-01T00:00:00Z')}", "{a: ISODate('2020-01-01T00:00:00Z')}", true},
      {"{a: MinKey}", "{a: MinKey}", true},
      {"{a: MaxKey}", "{a: MaxKey}", true},
      {"{a: MaxKey}", "{a: 1}", false},
      {"{'': 1}", "{'': 1}", true},
  });
}

TEST(MatchTest, NullAndMissing) {
  RunCases({
      {"{a: null}", "{a: null}", true},
      {"{a: null}", "{}", true},
      {"{a: null}", "{a: {$undefined: true}}", true},
      {"{a: null}", "{a: 0}", false},
      {"{a: null}", "{a: [1, null]}", true},
      {"{a: null}", "{a: [1, 2]}", false},
      {"{a: null}", "{a: []}", false},
      {"{'a.b': null}", "{a: 1}", true},
      {"{'a.b': null}", "{a: {}}", true},
      {"{'a.b': null}", "{a: [{b: 5}]}", false},
      {"{'a.b': null}", "{a: [{}]}", true},
      {"{'a.b': null}", "{a: []}", false},
      {"{'a.b': null}", "{a: [{}, {b: 5}]}", true},
      {"{'a.b': null}", "{a: [5, {b: 5}]}", false},
      {"{'a.b': null}", "{a: [5]}", false},
      {"{'a.b.c': null}", "{a: [{b: []}, {b: {c: 1}}]}", false},
      {"{a: {$eq: null}}", "{}", true},
      {"{a: {$ne: null}}", "{}", false},
      {"{a: {$ne: null}}", "{a: 1}", true},
      {"{a: {$ne: null}}", "{a: [1, null]}", false},
      {"{a: {$gte: null}}", "{}", true},
      {"{a: {$lte: null}}", "{a: null}", true},
      {"{a: {$gt: null}}", "{a: null}", false},
      {"{a: {$lt: null}}", "{}", false},
      {"{a: {$gt: null}}", "{a: 1}", false},
      {"{a: {$in: [null]}}", "{}", true},
      {"{a: {$in: [null]}}", "{a: null}", true},
      {"{a: {$in: [null, 1]}}", "{a: 1}", true},
      {"{a: {$in: [1]}}", "{}", false},
      {"{a: {$nin: [null]}}", "{}", false},
      {"{a: {$nin: [null]}}", "{a: 2}", true},
      {"{'a.b': {$in: [null]}}", "{a: [{}, {b: 5}]}", true},
      {"{'a.b': {$in: [null]}}", "{a: [{b: 5}]}", false},
  });
}

TEST(MatchTest, Comparisons) {
  RunCases({
      {"{a: {$gt: 5}}", "{a: 6}", true},
      {"{a: {$gt: 5}}", "{a: 5}", false},
      {"{a: {$gte: 5}}", "{a: 5}", true},
      {"{a: {$lt: 5}}", "{a: 4.5}", true},
      {"{a: {$lte: 5}}", "{a: NumberLong(5)}", true},
      {"{a: {$gt: 5}}", "{a: NumberDecimal('5.1')}", true},
      {"{a: {$gt: 5}}", "{a: 'six'}", false},      // type bracketing
      {"{a: {$lt: 'b'}}", "{a: 'a'}", true},
      {"{a: {$lt: 'b'}}", "{a: 1}", false},
      {"{a: {$gt: 5}}", "{a: [1, 10]}", true},
      {"{a: {$gt: 5}}", "{a: [1, 2]}", false},
      {"{a: {$gt: 5, $lt: 10}}", "{a: [1, 20]}", true},  // each bound on its own
      {"{a: {$gt: 5, $lt: 10}}", "{a: 20}", false},
      {"{a: {$gt: 5}}", "{}", false},
      {"{a: {$gt: [1]}}", "{a: [2]}", true},
      {"{a: {$gt: [1]}}", "{a: [[2]]}", true},
      {"{a: {$lt: {b: 2}}}", "{a: {b: 1}}", true},
      {"{a: {$gt: ISODate('2020-01-01T00:00:00Z')}}", "{a: ISODate('2021-01-01T00:00:00Z')}", true},
      {"{a: {$gt: ISODate('2020-01-01T00:00:00Z')}}", "{a: 99999999999999}", false},
      {"{a: {$gt: true}}", "{a: false}", false},
      {"{a: {$gte: false}}", "{a: true}", true},
      // MinKey / MaxKey bounds cross brackets
      {"{a: {$lt: MaxKey}}", "{a: 'x'}", true},
      {"{a: {$lt: MaxKey}}", "{a: {b: 1}}", true},
      {"{a: {$lte: MaxKey}}", "{a: MaxKey}", true},
      {"{a: {$lt: MaxKey}}", "{a: MaxKey}", false},
      {"{a: {$gt: MinKey}}", "{a: null}", true},
      {"{a: {$gt: MinKey}}", "{a: MinKey}", false},
      {"{a: {$gte: MinKey}}", "{a: MinKey}", true},
      {"{a: {$gt: MaxKey}}", "{a: 5}", false},
      {"{a: {$lt: MinKey}}", "{a: 5}", false},
      {"{a: {$eq: MaxKey}}", "{a: 5}", false},
      // NaN equals NaN only
      {"{a: {$eq: NaN}}", "{a: NaN}", true},
      {"{a: {$gte: NaN}}", "{a: NaN}", true},
      {"{a: {$gt: NaN}}", "{a: NaN}", false},
      {"{a: {$lt: 5}}", "{a: NaN}", false},
      {"{a: {$gt: 5}}", "{a: NaN}", false},
      {"{a: {$eq: 5}}", "{a: NaN}", false},
      {"{a: {$in: [NaN]}}", "{a: NaN}", true},
      {"{a: {$in: [NaN]}}", "{a: 1}", false},
      // $eq with regex is regex equality, not a match
      {"{a: {$eq: /x/}}", "{a: 'x'}", false},
      {"{a: {$eq: /x/}}", "{a: /x/}", true},
      {"{a: {$eq: [1, 2]}}", "{a: [1, 2]}", true},
      {"{a: {$eq: {b: 1}}}", "{a: {b: 1}}", true},
      // $ne
      {"{a: {$ne: 1}}", "{a: 2}", true},
      {"{a: {$ne: 1}}", "{a: 1}", false},
      {"{a: {$ne: 1}}", "{}", true},
      {"{a: {$ne: 1}}", "{a: [1, 2]}", false},
      {"{a: {$ne: 1}}", "{a: [2, 3]}", true},
      {"{a: {$ne: [1, 2]}}", "{a: [1, 2]}", false},
      {"{'a.b': {$ne: 1}}", "{a: [{b: 1}, {b: 2}]}", false},
      {"{a: {$ne: 'x'}}", "{a: 1}", true},
  });
}

TEST(MatchTest, InAndNin) {
  RunCases({
      {"{a: {$in: [1, 2]}}", "{a: 2}", true},
      {"{a: {$in: [1, 2]}}", "{a: 2.0}", true},
      {"{a: {$in: [1, 2]}}", "{a: 3}", false},
      {"{a: {$in: []}}", "{a: 3}", false},
      {"{a: {$in: [1, 2]}}", "{a: [3, 2]}", true},
      {"{a: {$in: [[1, 2]]}}", "{a: [1, 2]}", true},
      {"{a: {$in: ['x', 1]}}", "{a: 'x'}", true},
      {"{a: {$in: [/^ab/, 5]}}", "{a: 'abc'}", true},
      {"{a: {$in: [/^ab/, 5]}}", "{a: 'cab'}", false},
      {"{a: {$in: [/^ab/i]}}", "{a: ['x', 'ABx']}", true},
      {"{a: {$in: [/^ab/]}}", "{a: /^ab/}", true},
      {"{a: {$in: [{b: 1}]}}", "{a: {b: 1}}", true},
      {"{a: {$in: [{b: 1}]}}", "{a: [{b: 1}]}", true},
      {"{'a.b': {$in: [1, 5]}}", "{a: [{b: 2}, {b: 5}]}", true},
      {"{a: {$nin: [1, 2]}}", "{a: 3}", true},
      {"{a: {$nin: [1, 2]}}", "{a: 1}", false},
      {"{a: {$nin: [1, 2]}}", "{}", true},
      {"{a: {$nin: [1, 2]}}", "{a: [3, 1]}", false},
      {"{a: {$nin: []}}", "{a: 3}", true},
      {"{a: {$nin: [/x/]}}", "{a: 'xyz'}", false},
  });
}

TEST(MatchTest, Logical) {
  RunCases({
      {"{$and: [{a: 1}, {b: 2}]}", "{a: 1, b: 2}", true},
      {"{$and: [{a: 1}, {b: 2}]}", "{a: 1, b: 3}", false},
      {"{$and: [{a: {$gt: 1}}, {a: {$lt: 3}}]}", "{a: 2}", true},
      {"{$or: [{a: 1}, {b: 2}]}", "{b: 2}", true},
      {"{$or: [{a: 1}, {b: 2}]}", "{a: 2}", false},
      {"{$nor: [{a: 1}, {b: 2}]}", "{a: 2}", true},
      {"{$nor: [{a: 1}, {b: 2}]}", "{a: 1}", false},
      {"{$nor: [{a: 1}]}", "{}", true},
      {"{$or: [{a: 1}, {$and: [{b: 1}, {c: 1}]}]}", "{b: 1, c: 1}", true},
      {"{$or: [{a: 1}, {$and: [{b: 1}, {c: 1}]}]}", "{b: 1, c: 2}", false},
      {"{a: 1, $or: [{b: 1}, {c: 1}]}", "{a: 1, c: 1}", true},
      {"{a: 1, $or: [{b: 1}, {c: 1}]}", "{a: 2, c: 1}", false},
      {"{$and: [{}]}", "{a: 1}", true},
      // $not
      {"{a: {$not: {$gt: 5}}}", "{a: 3}", true},
      {"{a: {$not: {$gt: 5}}}", "{a: 7}", false},
      {"{a: {$not: {$gt: 5}}}", "{}", true},
      {"{a: {$not: {$gt: 5}}}", "{a: 'x'}", true},
      {"{a: {$not: {$gt: 5}}}", "{a: [1, 7]}", false},
      {"{a: {$not: {$gt: 1, $lt: 5}}}", "{a: 3}", false},
      {"{a: {$not: {$gt: 1, $lt: 5}}}", "{a: 7}", true},
      {"{a: {$not: /^x/}}", "{a: 'xy'}", false},
      {"{a: {$not: /^x/}}", "{a: 'yx'}", true},
      {"{a: {$not: /^x/}}", "{}", true},
      {"{a: {$not: {$regex: '^x'}}}", "{a: 'xy'}", false},
      {"{a: {$not: {$not: {$eq: 1}}}}", "{a: 1}", true},
      {"{a: {$not: {$in: [1, 2]}}}", "{a: 3}", true},
      {"{a: {$not: {$size: 2}}}", "{a: [1]}", true},
      {"{$alwaysTrue: 1}", "{}", true},
      {"{$alwaysFalse: 1}", "{}", false},
      {"{$comment: 'hi', a: 1}", "{a: 1}", true},
      {"{$comment: 'hi'}", "{a: 2}", true},
  });
}

TEST(MatchTest, ExistsAndType) {
  RunCases({
      {"{a: {$exists: true}}", "{a: null}", true},
      {"{a: {$exists: true}}", "{}", false},
      {"{a: {$exists: false}}", "{}", true},
      {"{a: {$exists: false}}", "{a: 1}", false},
      {"{a: {$exists: 1}}", "{a: 1}", true},
      {"{a: {$exists: 0}}", "{a: 1}", false},
      {"{a: {$exists: true}}", "{a: []}", true},
      {"{'a.b': {$exists: true}}", "{a: [{b: 1}]}", true},
      {"{'a.b': {$exists: true}}", "{a: [1]}", false},
      {"{'a.b': {$exists: true}}", "{a: [{}]}", false},
      {"{'a.b': {$exists: false}}", "{a: [{c: 1}]}", true},
      {"{'a.0': {$exists: true}}", "{a: [5]}", true},
      {"{'a.1': {$exists: true}}", "{a: [5]}", false},
      {"{a: {$type: 'string'}}", "{a: 'x'}", true},
      {"{a: {$type: 2}}", "{a: 'x'}", true},
      {"{a: {$type: 2.0}}", "{a: 'x'}", true},
      {"{a: {$type: NumberLong(2)}}", "{a: 'x'}", true},
      {"{a: {$type: 'string'}}", "{a: 1}", false},
      {"{a: {$type: 'number'}}", "{a: 1}", true},
      {"{a: {$type: 'number'}}", "{a: NumberDecimal('1')}", true},
      {"{a: {$type: 'number'}}", "{a: '1'}", false},
      {"{a: {$type: 'int'}}", "{a: 1}", true},
      {"{a: {$type: 'int'}}", "{a: 1.0}", false},
      {"{a: {$type: 'double'}}", "{a: 1.5}", true},
      {"{a: {$type: 'long'}}", "{a: NumberLong(1)}", true},
      {"{a: {$type: 'decimal'}}", "{a: NumberDecimal('1')}", true},
      {"{a: {$type: 'array'}}", "{a: []}", true},
      {"{a: {$type: 'array'}}", "{a: [1]}", true},
      {"{a: {$type: 'array'}}", "{a: 1}", false},
      {"{a: {$type: 4}}", "{a: [[1]]}", true},
      {"{a: {$type: 'int'}}", "{a: ['x', 1]}", true},
      {"{a: {$type: 'object'}}", "{a: {}}", true},
      {"{a: {$type: 'null'}}", "{a: null}", true},
      {"{a: {$type: 'null'}}", "{}", false},
      {"{a: {$type: 10}}", "{a: null}", true},
      {"{a: {$type: 'undefined'}}", "{a: {$undefined: true}}", true},
      {"{a: {$type: 'bool'}}", "{a: false}", true},
      {"{a: {$type: 'date'}}", "{a: ISODate('2020-01-01T00:00:00Z')}", true},
      {"{a: {$type: 'objectId'}}", "{a: ObjectId('5f0000000000000000000001')}", true},
      {"{a: {$type: 'regex'}}", "{a: /x/}", true},
      {"{a: {$type: 'timestamp'}}", "{a: Timestamp(1, 2)}", true},
      {"{a: {$type: 'minKey'}}", "{a: MinKey}", true},
      {"{a: {$type: -1}}", "{a: MinKey}", true},
      {"{a: {$type: 'maxKey'}}", "{a: MaxKey}", true},
      {"{a: {$type: 127}}", "{a: MaxKey}", true},
      {"{a: {$type: 'binData'}}", "{a: {$binary: {base64: 'AA==', subType: '00'}}}", true},
      {"{a: {$type: ['string', 'int']}}", "{a: 1}", true},
      {"{a: {$type: ['string', 'int']}}", "{a: 1.5}", false},
      {"{'a.b': {$type: 'int'}}", "{a: [{b: 'x'}, {b: 1}]}", true},
  });
}

TEST(MatchTest, Regex) {
  RunCases({
      {"{a: /^ab/}", "{a: 'abc'}", true},
      {"{a: /^ab/}", "{a: 'cab'}", false},
      {"{a: /ab/}", "{a: 'cab'}", true},
      {"{a: /^AB/i}", "{a: 'abc'}", true},
      {"{a: /^b/m}", "{a: 'a\\nb'}", true},
      {"{a: /^b/}", "{a: 'a\\nb'}", false},
      {"{a: /a.b/s}", "{a: 'a\\nb'}", true},
      {"{a: /a.b/}", "{a: 'a\\nb'}", false},
      {"{a: /a b/x}", "{a: 'ab'}", true},
      {"{a: /^ab/}", "{a: ['x', 'abc']}", true},
      {"{a: /^ab/}", "{a: 1}", false},
      {"{a: /^ab/}", "{}", false},
      {"{a: /^ab/}", "{a: /^ab/}", true},
      {"{a: /^ab/}", "{a: /^ab/i}", false},
      {"{a: /^ab/}", "{a: {$symbol: 'abc'}}", true},
      {"{a: {$regex: '^ab'}}", "{a: 'abc'}", true},
      {"{a: {$regex: '^AB', $options: 'i'}}", "{a: 'abc'}", true},
      {"{a: {$options: 'i', $regex: '^AB'}}", "{a: 'abc'}", true},
      {"{a: {$regex: /^AB/i}}", "{a: 'abc'}", true},
      {"{a: {$regex: /^AB/}}", "{a: 'abc'}", false},
      {"{a: {$regex: 'é'}}", "{a: 'café'}", true},
      {"{a: {$regex: '^.$'}}", "{a: 'é'}", true},       // UTF-8 mode: one code point
      {"{'a.b': /x/}", "{a: [{b: 'y'}, {b: 'x'}]}", true},
      {"{a: {$regex: 'x', $in: ['y']}}", "{a: 'y'}", false},
  });
}

TEST(MatchTest, ElemMatch) {
  RunCases({
      {"{a: {$elemMatch: {$gt: 1, $lt: 5}}}", "{a: [0, 3, 9]}", true},
      {"{a: {$elemMatch: {$gt: 1, $lt: 5}}}", "{a: [0, 9]}", false},
      {"{a: {$elemMatch: {$gt: 1}}}", "{a: 5}", false},
      {"{a: {$elemMatch: {$gt: 1}}}", "{}", false},
      {"{a: {$elemMatch: {$eq: 1}}}", "{a: [[1]]}", false},
      {"{a: {$elemMatch: {$eq: [1]}}}", "{a: [[1]]}", true},
      {"{a: {$elemMatch: {$ne: 1}}}", "{a: [1, 2]}", true},
      {"{a: {$elemMatch: {$ne: 1}}}", "{a: [1, 1]}", false},
      {"{a: {$elemMatch: {$not: {$gt: 1}}}}", "{a: [2, 0]}", true},
      {"{a: {$elemMatch: {$in: [1, 2]}}}", "{a: [3, 2]}", true},
      {"{a: {$elemMatch: {$regex: '^x'}}}", "{a: ['y', 'xy']}", true},
      {"{a: {$elemMatch: {$type: 'string'}}}", "{a: [1, 'x']}", true},
      {"{a: {$elemMatch: {$exists: true}}}", "{a: []}", false},
      {"{a: {$elemMatch: {$exists: true}}}", "{a: [1]}", true},
      {"{a: {$elemMatch: {$elemMatch: {$gt: 2}}}}", "{a: [[1], [3]]}", true},
      {"{a: {$elemMatch: {$elemMatch: {$gt: 2}}}}", "{a: [[1], [2]]}", false},
      {"{a: {$elemMatch: {$size: 2}}}", "{a: [[1, 2]]}", true},
      // object form
      {"{a: {$elemMatch: {b: 1, c: 2}}}", "{a: [{b: 1, c: 2}]}", true},
      {"{a: {$elemMatch: {b: 1, c: 2}}}", "{a: [{b: 1}, {c: 2}]}", false},
      {"{a: {$elemMatch: {b: 1}}}", "{a: {b: 1}}", false},
      {"{a: {$elemMatch: {b: {$gt: 1}}}}", "{a: [{b: 0}, {b: 2}]}", true},
      {"{a: {$elemMatch: {b: {$gt: 1}}}}", "{a: [1, 2]}", false},
      {"{a: {$elemMatch: {}}}", "{a: [1, {}]}", true},
      {"{a: {$elemMatch: {}}}", "{a: [1, 2]}", false},
      {"{a: {$elemMatch: {$or: [{b: 1}, {c: 1}]}}}", "{a: [{c: 1}]}", true},
      {"{a: {$elemMatch: {$and: [{b: 1}, {c: 1}]}}}", "{a: [{b: 1}, {c: 1}]}", false},
      {"{a: {$elemMatch: {'b.c': 1}}}", "{a: [{b: [{c: 1}]}]}", true},
      {"{a: {$elemMatch: {'0': 1}}}", "{a: [[1, 2]]}", true},
      {"{'a.b': {$elemMatch: {$gt: 5}}}", "{a: [{b: [1]}, {b: [6]}]}", true},
      {"{'a.b': {$elemMatch: {c: 1}}}", "{a: {b: [{c: 1}]}}", true},
      {"{a: {$elemMatch: {b: null}}}", "{a: [{c: 1}]}", true},
      {"{a: {$elemMatch: {b: {$exists: false}}}}", "{a: [{b: 1}, {c: 1}]}", true},
  });
}

TEST(MatchTest, SizeAllMod) {
  RunCases({
      {"{a: {$size: 2}}", "{a: [1, 2]}", true},
      {"{a: {$size: 2}}", "{a: [1]}", false},
      {"{a: {$size: 0}}", "{a: []}", true},
      {"{a: {$size: 0}}", "{}", false},
      {"{a: {$size: 1}}", "{a: 'x'}", false},
      {"{a: {$size: 1}}", "{a: [[1, 2]]}", true},
      {"{a: {$size: 2}}", "{a: [[1, 2]]}", false},
      {"{a: {$size: 2.0}}", "{a: [1, 2]}", true},
      {"{a: {$size: NumberLong(2)}}", "{a: [1, 2]}", true},
      {"{'a.b': {$size: 1}}", "{a: [{b: [1, 2]}, {b: [3]}]}", true},
      {"{a: {$all: [1, 2]}}", "{a: [2, 3, 1]}", true},
      {"{a: {$all: [1, 2]}}", "{a: [2, 3]}", false},
      {"{a: {$all: [1]}}", "{a: 1}", true},
      {"{a: {$all: []}}", "{a: [1]}", false},
      {"{a: {$all: [[1, 2]]}}", "{a: [1, 2]}", true},
      {"{a: {$all: [[1, 2]]}}", "{a: [[1, 2], 3]}", true},
      {"{a: {$all: [/^x/, /y$/]}}", "{a: ['xa', 'by']}", true},
      {"{a: {$all: [/^x/, /y$/]}}", "{a: ['xa', 'b']}", false},
      {"{a: {$all: [null]}}", "{}", true},
      {"{a: {$all: [{$foo: 1}]}}", "{a: [{$foo: 1}]}", true},   // not an operator: equality
      {"{a: {$all: [{$elemMatch: {b: 1}}, {$elemMatch: {c: 2}}]}}", "{a: [{b: 1}, {c: 2}]}", true},
      {"{a: {$all: [{$elemMatch: {b: 1}}, {$elemMatch: {c: 2}}]}}", "{a: [{b: 1}]}", false},
      {"{a: {$all: [{$elemMatch: {$gt: 1, $lt: 3}}]}}", "{a: [0, 2]}", true},
      {"{a: {$mod: [4, 0]}}", "{a: 8}", true},
      {"{a: {$mod: [4, 0]}}", "{a: 9}", false},
      {"{a: {$mod: [4, 1]}}", "{a: 9.5}", true},        // truncated
      {"{a: {$mod: [4, -1]}}", "{a: -9}", true},
      {"{a: {$mod: [4, 1]}}", "{a: NumberLong(9)}", true},
      {"{a: {$mod: [4, 1]}}", "{a: NumberDecimal('9')}", true},
      {"{a: {$mod: [4.5, 1]}}", "{a: 9}", true},        // divisor truncated to 4
      {"{a: {$mod: [4, 0]}}", "{a: 'x'}", false},
      {"{a: {$mod: [4, 0]}}", "{}", false},
      {"{a: {$mod: [4, 0]}}", "{a: NaN}", false},
      {"{a: {$mod: [4, 0]}}", "{a: [1, 8]}", true},
      {"{a: {$mod: [-1, 0]}}", "{a: NumberLong('-9223372036854775808')}", true},
  });
}

TEST(MatchTest, Expr) {
  RunCases({
      {"{$expr: {$eq: ['$a', '$b']}}", "{a: 1, b: 1}", true},
      {"{$expr: {$eq: ['$a', '$b']}}", "{a: 1, b: 2}", false},
      {"{$expr: {$gt: ['$a', 5]}}", "{a: 6}", true},
      {"{$expr: {$gt: ['$a', 5]}}", "{a: 'x'}", true},   // aggregation order: strings > numbers
      {"{$expr: {$lt: ['$missing', null]}}", "{}", true},
      {"{$expr: true}", "{}", true},
      {"{$expr: 0}", "{}", false},
      {"{$expr: '$a'}", "{a: 1}", true},
      {"{$expr: '$a'}", "{}", false},
      {"{$expr: {$and: [{$gt: ['$a', 1]}, {$lt: ['$a', 5]}]}}", "{a: 3}", true},
      {"{a: 1, $expr: {$eq: ['$a', 1]}}", "{a: 1}", true},
  });
}

struct ErrorCase {
  const char* filter;
  int code;
  const char* message;  // substring
};

TEST(MatchTest, CompileErrors) {
  std::vector<ErrorCase> cases = {
      {"{a: {$foo: 1}}", 2, "unknown operator: $foo"},
      {"{a: {$gt: 1, b: 2}}", 2, "unknown operator: b"},
      {"{$foo: 1}", 2, "unknown top level operator: $foo"},
      {"{a: {$and: [{a: 1}]}}", 2, "unknown operator: $and"},
      {"{a: {$expr: 1}}", 2, "unknown operator: $expr"},
      {"{$not: {a: 1}}", 2, "unknown top level operator: $not"},
      {"{a: {$in: 5}}", 2, "$in needs an array"},
      {"{a: {$nin: 5}}", 2, "$nin needs an array"},
      {"{a: {$in: [{$gt: 1}]}}", 2, "cannot nest $ under $in"},
      {"{$and: []}", 2, "$and/$or/$nor must be a nonempty array"},
      {"{$or: {a: 1}}", 2, "$or must be an array"},
      {"{$and: 1}", 2, "$and must be an array"},
      {"{a: {$where: 'x'}}", 2, "$where cannot be applied to a field"},
      {"{a: {$id: 1}}", 2, "unknown operator: $id"},
      {"{a: {$type: []}}", 9, "a must match at least one type"},
      {"{$nor: [1]}", 2, "$or/$and/$nor entries need to be full objects"},
      {"{$and: [{a: {$foo: 1}}]}", 2, "unknown operator: $foo"},
      {"{a: {$not: 1}}", 2, "$not needs a regex or a document"},
      {"{a: {$not: {}}}", 2, "$not cannot be empty"},
      {"{a: {$not: {b: 1}}}", 2, "unknown operator: b"},
      {"{a: {$type: 'foo'}}", 2, "Unknown type name alias: foo"},
      {"{a: {$type: 100}}", 2, "Invalid numerical type code: 100"},
      {"{a: {$type: 0}}", 2, "Invalid numerical type code: 0. Instead use {$exists:false}."},
      {"{a: {$type: 1.5}}", 2, "Invalid numerical type code"},
      {"{a: {$type: ['int', 'foo']}}", 2, "Unknown type name alias: foo"},
      {"{a: {$type: {}}}", 14, "type must be represented as a number or a string"},
      {"{a: {$size: 'x'}}", 2, "$size needs a number"},
      {"{a: {$size: -1}}", 2, "$size may not be negative"},
      {"{a: {$size: 1.5}}", 2, "$size must be a whole number"},
      {"{a: {$mod: 4}}", 2, "malformed mod, needs to be an array"},
      {"{a: {$mod: [4]}}", 2, "malformed mod, not enough elements"},
      {"{a: {$mod: [4, 1, 2]}}", 2, "malformed mod, too many elements"},
      {"{a: {$mod: ['x', 1]}}", 2, "malformed mod, divisor not a number"},
      {"{a: {$mod: [4, 'x']}}", 2, "malformed mod, remainder not a number"},
      {"{a: {$mod: [0, 1]}}", 2, "divisor cannot be 0"},
      {"{a: {$mod: [0.5, 1]}}", 2, "divisor cannot be 0"},
      {"{a: {$mod: [NaN, 1]}}", 2, "divisor value is invalid"},
      {"{a: {$all: 1}}", 2, "$all needs an array"},
      {"{a: {$all: [{$elemMatch: {b: 1}}, 1]}}", 2, "$all/$elemMatch has to be consistent"},
      {"{a: {$all: [{$gt: 1}]}}", 2, "no $ expressions in $all"},
      {"{a: {$elemMatch: 1}}", 2, "$elemMatch needs an Object"},
      {"{a: {$elemMatch: {$foo: 1}}}", 2, "unknown operator: $foo"},
      {"{a: {$elemMatch: {$expr: {$eq: [1, 1]}}}}", 2,
       "$expr can only be applied to the top-level document"},
      {"{a: {$options: 'i'}}", 2, "$options needs a $regex"},
      {"{a: {$regex: 1}}", 2, "$regex has to be a string"},
      {"{a: {$regex: /x/i, $options: 'm'}}", 51075, "options set in both $regex and $options"},
      {"{a: {$options: 'm', $regex: /x/i}}", 51074, "options set in both $regex and $options"},
      {"{a: {$regex: 'x', $options: 'z'}}", 51108, "invalid flag in regex options: z"},
      {"{a: {$regex: '('}}", 51091, "Regular expression is invalid"},
      {"{a: {$ne: /x/}}", 2, "Can't have regex as arg to $ne."},
      {"{a: {$gt: /x/}}", 2, "Can't have RegEx as arg to predicate over field 'a'."},
      {"{a: {$undefined: true}}", 2, "cannot compare to undefined"},
      {"{a: {$eq: {$undefined: true}}}", 2, "cannot compare to undefined"},
      {"{$where: 'this.a == 1'}", 2, "$where is not supported"},
      {"{$text: {$search: 'x'}}", 2, "$text is not supported"},
      {"{a: {$near: [0, 0]}}", 2, "$near is not supported"},
      {"{$alwaysTrue: 2}", 9, "$alwaysTrue must be an integer value of 1"},
      {"{$expr: {$foo: 1}}", 168, "Unrecognized expression '$foo'"},
      {"{$expr: '$$nope'}", 17276, "Use of undefined variable: nope"},
  };
  for (const ErrorCase& c : cases) {
    auto m = Matcher::Compile(Json(c.filter));
    ASSERT_FALSE(m.ok()) << c.filter;
    EXPECT_EQ(m.status().code_number(), c.code) << c.filter << ": " << m.status().ToString();
    EXPECT_NE(m.status().message().find(c.message), std::string_view::npos)
        << c.filter << ": got '" << m.status().message() << "', want '" << c.message << "'";
  }
}

TEST(MatchTest, ExprRuntimeErrors) {
  auto m = Matcher::Compile(Json("{$expr: {$eq: [{$divide: ['$a', 0]}, 1]}}"));
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->HasExpr());
  EXPECT_FALSE(m->Matches(Json("{a: 1}")));
  auto r = m->MatchesOrError(Json("{a: 1}"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code_number(), 2);
  EXPECT_EQ(r.status().message(), "can't $divide by zero");
  auto ok = m->MatchesOrError(Json("{}"));  // null / 0 is null, no error
  ASSERT_TRUE(ok.ok());
  EXPECT_FALSE(*ok);
}

TEST(MatchTest, MatchesAllAndFilter) {
  auto m = Matcher::Compile(Json("{}"));
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->MatchesAll());
  auto c = Matcher::Compile(Json("{$comment: 'x'}"));
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->MatchesAll());
  auto n = Matcher::Compile(Json("{a: 1}"));
  ASSERT_TRUE(n.ok());
  EXPECT_FALSE(n->MatchesAll());
  EXPECT_FALSE(n->HasExpr());
  EXPECT_EQ(n->filter(), Json("{a: 1}"));
  Matcher copy = *n;  // cheap copy sharing the tree
  EXPECT_TRUE(copy.Matches(Json("{a: 1}")));
  Matcher everything;
  EXPECT_TRUE(everything.MatchesAll());
  EXPECT_TRUE(everything.Matches(Json("{x: 1}")));
  EXPECT_TRUE(everything.filter().empty());
}

struct DetailsCase {
  const char* filter;
  const char* doc;
  int index;  // -1: unset
};

TEST(MatchTest, MatchDetailsArrayIndex) {
  std::vector<DetailsCase> cases = {
      {"{a: 2}", "{a: [1, 2, 3]}", 1},
      {"{a: 2}", "{a: 2}", -1},
      {"{'a.b': 5}", "{a: [{b: 1}, {b: 5}]}", 1},
      {"{'a.b': 5}", "{a: [{b: 1}, {b: [4, 5]}]}", 1},  // outermost array wins
      {"{a: {$gt: 2}}", "{a: [1, 2, 3]}", 2},
      {"{a: {$elemMatch: {b: 2}}}", "{a: [{b: 1}, {b: 2}]}", 1},
      {"{a: {$elemMatch: {$gt: 1}}}", "{a: [0, 5]}", 1},
      {"{'a.b': {$elemMatch: {$gt: 1}}}", "{a: [{b: [0]}, {b: [5]}]}", 1},
      {"{a: [1, 2]}", "{a: [1, 2]}", -1},
      {"{a: {$in: [7, 3]}}", "{a: [1, 2, 3]}", 2},
      {"{a: 1, b: 3}", "{a: [1], b: [1, 2, 3]}", 2},   // the last predicate wins
      {"{'a.1': 5}", "{a: [4, 5]}", -1},  // explicit index, no implicit traversal
      {"{'a.1.b': 5}", "{a: [{b: 4}, {b: 5}]}", -1},
  };
  for (const DetailsCase& c : cases) {
    auto m = Matcher::Compile(Json(c.filter));
    ASSERT_TRUE(m.ok()) << c.filter;
    MatchDetails d;
    ASSERT_TRUE(m->Matches(Json(c.doc), &d)) << c.filter << " " << c.doc;
    if (c.index < 0) {
      EXPECT_FALSE(d.array_index.has_value()) << c.filter << " " << c.doc;
    } else {
      ASSERT_TRUE(d.array_index.has_value()) << c.filter << " " << c.doc;
      EXPECT_EQ(*d.array_index, static_cast<size_t>(c.index)) << c.filter << " " << c.doc;
    }
  }
}

TEST(MatchTest, ConcurrentMatches) {
  auto m = Matcher::Compile(Json("{a: {$regex: '^x[0-9]+$'}, b: {$in: [1, 2, 3]}}"));
  ASSERT_TRUE(m.ok());
  bson::Document yes = Json("{a: 'x123', b: 2}");
  bson::Document no = Json("{a: 'y123', b: 2}");
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        if (!m->Matches(yes) || m->Matches(no)) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(MatchTest, ExtractIndexablePredicates) {
  auto preds = ExtractIndexablePredicates(Json(
      "{a: 5, b: {$in: [1, 'x']}, c: {$gte: 1, $lt: 9}, d: {$gt: 'a'}, e: null, f: /x/, "
      "g: {h: 1}, i: [1], $or: [{j: 1}], k: {$ne: 1}, $and: [{l: 2}, {$and: [{m: {$eq: 3}}]}], "
      "n: {$in: [1, null]}, o: {$gt: 1, $lt: 'z'}, p: {$gt: 1, $gte: 2, $lt: 8, $lte: 8}}"));
  ASSERT_EQ(preds.size(), 8u);
  EXPECT_EQ(preds[0].path, "a");
  EXPECT_EQ(preds[0].kind, PathPredicate::kEq);
  EXPECT_EQ(preds[0].eq, bson::Value(5));
  EXPECT_EQ(preds[1].path, "b");
  EXPECT_EQ(preds[1].kind, PathPredicate::kIn);
  EXPECT_EQ(preds[1].in.size(), 2u);
  EXPECT_EQ(preds[2].path, "c");
  EXPECT_EQ(preds[2].kind, PathPredicate::kRange);
  EXPECT_EQ(*preds[2].lower, bson::Value(1));
  EXPECT_TRUE(preds[2].lower_inclusive);
  EXPECT_EQ(*preds[2].upper, bson::Value(9));
  EXPECT_FALSE(preds[2].upper_inclusive);
  EXPECT_EQ(preds[3].path, "d");
  EXPECT_FALSE(preds[3].upper.has_value());
  EXPECT_EQ(preds[4].path, "l");
  EXPECT_EQ(preds[5].path, "m");
  EXPECT_EQ(preds[5].kind, PathPredicate::kEq);
  EXPECT_EQ(preds[6].path, "o");  // mixed brackets: lower bound only
  EXPECT_TRUE(preds[6].lower.has_value());
  EXPECT_FALSE(preds[6].upper.has_value());
  EXPECT_EQ(preds[7].path, "p");  // tightest bounds
  EXPECT_EQ(*preds[7].lower, bson::Value(2));
  EXPECT_TRUE(preds[7].lower_inclusive);
  EXPECT_EQ(*preds[7].upper, bson::Value(8));
  EXPECT_FALSE(preds[7].upper_inclusive);
}

// mongod's jstests/core/null_query_semantics.js, as a table: each query and the _ids of the
// documents it must return.
TEST(MatchTest, NullQuerySemanticsCollection) {
  std::vector<bson::Document> docs = {
      Json("{_id: 'a_empty_subobject', a: {}}"),
      Json("{_id: 'a_null', a: null}"),
      Json("{_id: 'a_number', a: 4}"),
      Json("{_id: 'a_subobject_b_not_null', a: {b: 'hi'}}"),
      Json("{_id: 'a_subobject_b_null', a: {b: null}}"),
      Json("{_id: 'a_subobject_b_undefined', a: {b: {$undefined: true}}}"),
      Json("{_id: 'a_undefined', a: {$undefined: true}}"),
      Json("{_id: 'no_a'}"),
      Json("{_id: 'a_double_array', a: [[]]}"),
      Json("{_id: 'a_empty_array', a: []}"),
      Json("{_id: 'a_object_array_all_b_nulls', a: [{b: null}, {b: {$undefined: true}}, "
           "{b: null}, {}]}"),
      Json("{_id: 'a_object_array_no_b_nulls', a: [{b: 1}, {b: 3}, {b: 'string'}]}"),
      Json("{_id: 'a_object_array_some_b_nulls', a: [{b: null}, {b: 3}, {b: null}]}"),
      Json("{_id: 'a_object_array_some_b_undefined', a: [{b: {$undefined: true}}, {b: 3}]}"),
      Json("{_id: 'a_object_array_some_b_missing', a: [{b: 3}, {}]}"),
      Json("{_id: 'a_value_array_all_nulls', a: [null, null]}"),
      Json("{_id: 'a_value_array_no_nulls', a: [1, 'string', 4]}"),
      Json("{_id: 'a_value_array_with_null', a: [1, 'string', null, 4]}"),
      Json("{_id: 'a_value_array_with_undefined', a: [1, 'string', {$undefined: true}, 4]}"),
  };
  struct QueryCase {
    const char* filter;
    std::vector<std::string> ids;
  };
  const std::vector<std::string> kNotNull = {
      "a_empty_subobject", "a_number", "a_subobject_b_not_null", "a_subobject_b_null",
      "a_subobject_b_undefined", "a_double_array", "a_empty_array",
      "a_object_array_all_b_nulls", "a_object_array_no_b_nulls", "a_object_array_some_b_nulls",
      "a_object_array_some_b_undefined", "a_object_array_some_b_missing",
      "a_value_array_no_nulls"};
  const std::vector<std::string> kDottedNull = {
      "a_empty_subobject", "a_null", "a_number", "a_subobject_b_null", "a_subobject_b_undefined",
      "a_undefined", "no_a", "a_object_array_all_b_nulls", "a_object_array_some_b_nulls",
      "a_object_array_some_b_undefined", "a_object_array_some_b_missing"};
  const std::vector<std::string> kDottedNotNull = {
      "a_subobject_b_not_null", "a_double_array", "a_empty_array", "a_object_array_no_b_nulls",
      "a_value_array_all_nulls", "a_value_array_no_nulls", "a_value_array_with_null",
      "a_value_array_with_undefined"};
  std::vector<QueryCase> cases = {
      {"{a: {$eq: null}}",
       {"a_null", "a_undefined", "no_a", "a_value_array_all_nulls", "a_value_array_with_null",
        "a_value_array_with_undefined"}},
      {"{a: {$ne: null}}", kNotNull},
      {"{a: {$not: {$gte: null}}}", kNotNull},
      {"{a: {$in: [null, 75]}}",
       {"a_null", "a_undefined", "no_a", "a_value_array_all_nulls", "a_value_array_with_null",
        "a_value_array_with_undefined"}},
      {"{$or: [{a: null}, {a: 75}]}",
       {"a_null", "a_undefined", "no_a", "a_value_array_all_nulls", "a_value_array_with_null",
        "a_value_array_with_undefined"}},
      {"{a: {$nin: [null, 75]}}", kNotNull},
      {"{a: {$nin: [null, /^str.*/]}}",
       {"a_empty_subobject", "a_number", "a_subobject_b_not_null", "a_subobject_b_null",
        "a_subobject_b_undefined", "a_double_array", "a_empty_array",
        "a_object_array_all_b_nulls", "a_object_array_no_b_nulls",
        "a_object_array_some_b_nulls", "a_object_array_some_b_undefined",
        "a_object_array_some_b_missing"}},
      {"{a: {$exists: false}}", {"no_a"}},
      {"{a: {$elemMatch: {$eq: null}}}",
       {"a_value_array_all_nulls", "a_value_array_with_null", "a_value_array_with_undefined"}},
      {"{a: {$elemMatch: {$ne: null}}}",
       {"a_double_array", "a_object_array_all_b_nulls", "a_object_array_no_b_nulls",
        "a_object_array_some_b_nulls", "a_object_array_some_b_undefined",
        "a_object_array_some_b_missing", "a_value_array_no_nulls",
        "a_value_array_with_undefined", "a_value_array_with_null"}},
      {"{'a.b': {$eq: null}}", kDottedNull},
      {"{'a.b': {$in: [null, 75]}}", kDottedNull},
      {"{$or: [{'a.b': null}, {'a.b': 75}]}", kDottedNull},
      {"{'a.b': {$ne: null}}", kDottedNotNull},
      {"{'a.b': {$nin: [null, 75]}}", kDottedNotNull},
      {"{'a.b': {$nin: [null, /^str.*/]}}",
       {"a_subobject_b_not_null", "a_double_array", "a_empty_array", "a_value_array_all_nulls",
        "a_value_array_no_nulls", "a_value_array_with_null", "a_value_array_with_undefined"}},
      {"{'a.b': {$exists: false}}",
       {"no_a", "a_empty_subobject", "a_null", "a_number", "a_undefined", "a_double_array",
        "a_empty_array", "a_value_array_all_nulls", "a_value_array_no_nulls",
        "a_value_array_with_null", "a_value_array_with_undefined"}},
      {"{'a.b': {$elemMatch: {$eq: null}}}", {}},
      {"{'a.b': {$elemMatch: {$ne: null}}}", {}},
      {"{a: {$elemMatch: {b: {$eq: null}}}}",
       {"a_double_array", "a_object_array_all_b_nulls", "a_object_array_some_b_nulls",
        "a_object_array_some_b_undefined", "a_object_array_some_b_missing"}},
      {"{a: {$elemMatch: {b: {$ne: null}}}}",
       {"a_object_array_no_b_nulls", "a_object_array_some_b_nulls",
        "a_object_array_some_b_undefined", "a_object_array_some_b_missing"}},
  };
  for (const QueryCase& c : cases) {
    auto m = Matcher::Compile(Json(c.filter));
    ASSERT_TRUE(m.ok()) << c.filter << ": " << m.status().ToString();
    std::vector<std::string> got;
    for (const auto& d : docs) {
      if (m->Matches(d)) got.push_back(d.Get("_id")->as_string());
    }
    std::vector<std::string> want = c.ids;
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want) << c.filter;
  }
}

// Every operator with every kind of argument, against documents of every shape: compiling
// may fail but must never crash, and a compiled matcher must answer for any document.
TEST(MatchTest, NoCrashOnOddInput) {
  const char* ops[] = {"$eq",   "$ne",   "$gt",        "$gte",  "$lt",     "$lte",
                       "$in",   "$nin",  "$exists",    "$type", "$regex",  "$options",
                       "$size", "$all",  "$elemMatch", "$mod",  "$not",    "$foo"};
  const char* args[] = {"1",      "-1",    "2.5",        "NaN",      "'x'",     "null",
                        "[]",     "[1]",   "[1, 2, 3]",  "[[1]]",    "{}",      "{$gt: 1}",
                        "{b: 1}", "/x/i",  "true",       "MinKey",   "MaxKey",  "[null]",
                        "[/x/]",  "[{$elemMatch: {b: 1}}]", "['int', 'string']", "[0, 0]",
                        "NumberLong('-9223372036854775808')", "NumberDecimal('NaN')"};
  std::vector<bson::Document> docs = {
      Json("{}"), Json("{a: 1}"), Json("{a: null}"), Json("{a: []}"), Json("{a: [1, 'x', null]}"),
      Json("{a: [[1], [2, [3]]]}"), Json("{a: {b: 1}}"), Json("{a: [{b: 1}, {b: [1, 2]}, 3]}"),
      Json("{a: NaN}"), Json("{a: 'xyz'}"), Json("{a: /x/}"), Json("{a: MinKey}"),
      Json("{a: NumberDecimal('1.5')}")};
  int compiled = 0;
  for (const char* op : ops) {
    for (const char* arg : args) {
      for (const char* path : {"a", "a.b", "a.0", "a.0.b"}) {
        std::string filter = std::string("{'") + path + "': {" + op + ": " + arg + "}}";
        auto m = Matcher::Compile(Json(filter.c_str()));
        if (!m.ok()) {
          EXPECT_FALSE(m.status().message().empty()) << filter;
          continue;
        }
        ++compiled;
        for (const auto& d : docs) {
          MatchDetails details;
          (void)m->Matches(d, &details);
        }
      }
    }
  }
  EXPECT_GT(compiled, 300);
}

}  // namespace
}  // namespace eddy::query
