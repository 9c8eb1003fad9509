// Table-driven tests of the aggregation pipeline: (input documents, pipeline, expected output)
// rows compared type-strictly (int32 != int64 != double), in order or as multisets; error rows
// (pipeline, code, message substring). Other collections come from an in-memory AggSource.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "bson/compare.h"
#include "bson/json.h"
#include "query/agg/pipeline.h"
#include "query/match/matcher.h"

namespace eddy::query {
namespace {

using bson::Array;
using bson::Document;
using bson::Value;

Value JsonValue(const std::string& text) {
  auto r = bson::ParseJsonValue(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : Value();
}

std::vector<Document> Docs(const std::string& text) {
  Value v = JsonValue(text);
  std::vector<Document> out;
  if (!v.is_array()) return out;
  for (const Value& e : v.as_array()) out.push_back(e.as_document());
  return out;
}

std::string Show(const std::vector<Document>& docs) {
  std::string s = "[";
  for (size_t i = 0; i < docs.size(); ++i) {
    s += (i ? ", " : "") + bson::ToJson(docs[i], bson::JsonMode::kCanonical);
  }
  return s + "]";
}

// An in-memory database for $lookup/$unionWith/$out/$merge.
class MemSource : public AggSource {
 public:
  std::map<std::string, std::vector<Document>> colls;

  Result<std::vector<Document>> ReadCollection(std::string_view coll,
                                               const Document& filter) override {
    EDDY_ASSIGN_OR_RETURN(Matcher m, Matcher::Compile(filter));
    std::vector<Document> out;
    for (const Document& d : colls[std::string(coll)]) {
      if (m.Matches(d)) out.push_back(d);
    }
    return out;
  }
  Status ReplaceCollection(std::string_view db, std::string_view coll,
                           std::vector<Document> docs) override {
    colls[std::string(coll)] = std::move(docs);
    last_db = std::string(db);
    return Status::OK();
  }
  Status MergeInto(std::string_view db, std::string_view coll, const MergeSpec& spec,
                   std::vector<Document> docs) override {
    last_db = std::string(db);
    auto& target = colls[std::string(coll)];
    for (Document& d : docs) {
      Document* found = nullptr;
      for (Document& t : target) {
        bool all = true;
        for (const std::string& f : spec.on) {
          const Value* a = t.Get(f);
          const Value* b = d.Get(f);
          if (a == nullptr || b == nullptr || !bson::Equal(*a, *b)) all = false;
        }
        if (all) found = &t;
      }
      if (found != nullptr) {
        EDDY_ASSIGN_OR_RETURN(auto r, ApplyMergeWhenMatched(spec, *found, d));
        if (r) *found = std::move(*r);
      } else if (spec.when_not_matched == MergeSpec::WhenNotMatched::kInsert) {
        target.push_back(std::move(d));
      } else if (spec.when_not_matched == MergeSpec::WhenNotMatched::kFail) {
        return Status(static_cast<ErrorCode>(13113), "$merge could not find a matching document");
      }
    }
    return Status::OK();
  }
  std::string last_db;
};

MemSource DefaultSource() {
  MemSource s;
  s.colls["customers"] = Docs(R"([
      {_id: 1, name: "Ann", tier: "gold", email: "ann@x.io"},
      {_id: 2, name: "Bob", tier: "silver", email: "bob@x.io"},
      {_id: 3, name: "Cid", tier: "platinum", email: "cid@x.io"}])");
  s.colls["inventory"] = Docs(R"([
      {_id: 1, sku: "almonds", instock: 120},
      {_id: 2, sku: "bread", instock: 80},
      {_id: 3, sku: "cashews", instock: 60},
      {_id: 4, sku: "pecans", instock: 70},
      {_id: 5, sku: null},
      {_id: 6}])");
  s.colls["more"] = Docs("[{_id: 100, x: 1}, {_id: 101, x: 2}]");
  return s;
}

struct AggCase {
  const char* input;
  const char* pipeline;
  const char* expected;
  bool unordered = false;
};

Result<std::vector<Document>> RunPipeline(const std::string& input, const std::string& pipeline,
                                          MemSource* source, AggOptions opts = {}) {
  Value p = JsonValue(pipeline);
  if (!p.is_array()) return Status(ErrorCode::kBadValue, "pipeline is not an array");
  opts.db = "test";
  if (!opts.now) opts.now = bson::DateTime{1600000000000};
  EDDY_ASSIGN_OR_RETURN(Pipeline pl, Pipeline::Parse(p.as_array(), opts));
  EDDY_ASSIGN_OR_RETURN(auto stream, pl.Run(MakeVectorStream(Docs(input)), source));
  return DrainStream(*stream);
}

void RunCases(const std::vector<AggCase>& cases) {
  for (const AggCase& c : cases) {
    MemSource src = DefaultSource();
    Result<std::vector<Document>> r = RunPipeline(c.input, c.pipeline, &src);
    ASSERT_TRUE(r.ok()) << c.pipeline << ": " << r.status().ToString();
    std::vector<Document> got = *r;
    std::vector<Document> want = Docs(c.expected);
    if (c.unordered) {
      auto by_json = [](const Document& a, const Document& b) {
        return bson::ToJson(a, bson::JsonMode::kCanonical) <
               bson::ToJson(b, bson::JsonMode::kCanonical);
      };
      std::sort(got.begin(), got.end(), by_json);
      std::sort(want.begin(), want.end(), by_json);
    }
    EXPECT_TRUE(got == want) << c.pipeline << "\n  got  " << Show(got) << "\n  want "
                             << Show(want);
  }
}

struct ErrCase {
  const char* input;
  const char* pipeline;
  int code;
  const char* message;
};

void RunErrors(const std::vector<ErrCase>& cases) {
  for (const ErrCase& c : cases) {
    MemSource src = DefaultSource();
    Result<std::vector<Document>> r = RunPipeline(c.input, c.pipeline, &src);
    ASSERT_FALSE(r.ok()) << c.pipeline << " gave " << Show(*r);
    EXPECT_EQ(r.status().code_number(), c.code) << c.pipeline << ": " << r.status().ToString();
    EXPECT_NE(std::string(r.status().message()).find(c.message), std::string::npos)
        << c.pipeline << ": " << r.status().ToString();
  }
}

const char* kOrders = R"([
  {_id: 1, customer_id: 1, status: "A", amount: 50, items: ["a", "b"]},
  {_id: 2, customer_id: 2, status: "A", amount: 100, items: ["c"]},
  {_id: 3, customer_id: 1, status: "B", amount: 25.5, items: []},
  {_id: 4, customer_id: 3, status: "A", amount: NumberLong(10)},
  {_id: 5, customer_id: 9, status: "C", amount: null, items: null}])";

TEST(AggTest, MatchLimitSkip) {
  RunCases({
      {kOrders, "[{$match: {status: 'A'}}, {$project: {_id: 1}}]", "[{_id: 1}, {_id: 2}, {_id: 4}]"},
      {kOrders, "[{$match: {amount: {$gt: 30}}}, {$project: {_id: 1}}]", "[{_id: 1}, {_id: 2}]"},
      {kOrders, "[{$match: {$expr: {$gt: ['$amount', 40]}}}, {$project: {_id: 1}}]",
       "[{_id: 1}, {_id: 2}]"},
      {kOrders, "[{$match: {}}, {$skip: 3}, {$project: {_id: 1}}]", "[{_id: 4}, {_id: 5}]"},
      {kOrders, "[{$limit: 2}, {$project: {_id: 1}}]", "[{_id: 1}, {_id: 2}]"},
      {kOrders, "[{$skip: 1}, {$limit: 1}, {$project: {_id: 1}}]", "[{_id: 2}]"},
      {kOrders, "[{$skip: 10}]", "[]"},
      {kOrders, "[{$limit: NumberLong(1)}, {$project: {_id: 1}}]", "[{_id: 1}]"},
      {kOrders, "[{$limit: 2.0}, {$project: {_id: 1}}]", "[{_id: 1}, {_id: 2}]"},
      {kOrders, "[{$match: {items: 'c'}}, {$project: {_id: 1}}]", "[{_id: 2}]"},
      {kOrders, "[{$match: {amount: null}}, {$project: {_id: 1}}]", "[{_id: 5}]"},
      {"[]", "[{$match: {a: 1}}]", "[]"},
      {kOrders, "[]", kOrders},
  });
}

TEST(AggTest, Project) {
  RunCases({
      {"[{_id: 1, a: 1, b: 2, c: {d: 3, e: 4}}]", "[{$project: {a: 1}}]", "[{_id: 1, a: 1}]"},
      {"[{_id: 1, a: 1, b: 2}]", "[{$project: {a: 1, _id: 0}}]", "[{a: 1}]"},
      {"[{_id: 1, a: 1, b: 2}]", "[{$project: {b: true, a: 1}}]", "[{_id: 1, a: 1, b: 2}]"},
      {"[{_id: 1, a: 1, b: 2}]", "[{$project: {a: 0}}]", "[{_id: 1, b: 2}]"},
      {"[{_id: 1, a: 1, b: 2}]", "[{$project: {_id: 0}}]", "[{a: 1, b: 2}]"},
      {"[{_id: 1, c: {d: 3, e: 4}}]", "[{$project: {'c.d': 1}}]", "[{_id: 1, c: {d: 3}}]"},
      {"[{_id: 1, c: {d: 3, e: 4}}]", "[{$project: {c: {e: 1}}}]", "[{_id: 1, c: {e: 4}}]"},
      {"[{_id: 1, c: {d: 3, e: 4}}]", "[{$project: {'c.d': 0}}]", "[{_id: 1, c: {e: 4}}]"},
      {"[{_id: 1, c: [{d: 1, e: 2}, 5, {e: 3}, [{d: 4}]]}]", "[{$project: {'c.d': 1}}]",
       "[{_id: 1, c: [{d: 1}, {}, [{d: 4}]]}]"},
      {"[{_id: 1, c: [{d: 1, e: 2}, 5]}]", "[{$project: {'c.d': 0}}]",
       "[{_id: 1, c: [{e: 2}, 5]}]"},
      {"[{_id: 1, c: 5}]", "[{$project: {'c.d': 1}}]", "[{_id: 1}]"},
      // computed fields
      {"[{_id: 1, a: 2, b: 3}]", "[{$project: {s: {$add: ['$a', '$b']}}}]", "[{_id: 1, s: 5}]"},
      {"[{_id: 1, a: 2}]", "[{$project: {x: '$a', y: 'lit', z: {$literal: 1}, w: [1, '$a']}}]",
       "[{_id: 1, x: 2, y: 'lit', z: 1, w: [1, 2]}]"},
      {"[{_id: 1, a: 2}]", "[{$project: {x: '$missing'}}]", "[{_id: 1}]"},
      {"[{_id: 1, a: 2}]", "[{$project: {x: '$$REMOVE', a: 1}}]", "[{_id: 1, a: 2}]"},
      {"[{_id: 1, a: 2}]",
       "[{$project: {x: {$cond: [{$gt: ['$a', 1]}, '$a', '$$REMOVE']}}}]", "[{_id: 1, x: 2}]"},
      {"[{_id: 1, a: {b: 1}}]", "[{$project: {'a.c': {$literal: 5}}}]",
       "[{_id: 1, a: {c: 5}}]"},
      {"[{_id: 1, a: {b: 1}}]", "[{$project: {'a.b': 1, 'a.c': '$a.b'}}]",
       "[{_id: 1, a: {b: 1, c: 1}}]"},
      {"[{_id: 1}]", "[{$project: {'x.y': {$literal: 1}}}]", "[{_id: 1, x: {y: 1}}]"},
      {"[{_id: 1, b: 1, a: 2}]", "[{$project: {a: 1, b: 1}}]", "[{_id: 1, b: 1, a: 2}]"},
      {"[{_id: 1, b: 1, a: 2}]", "[{$project: {z: '$b', a: 1}}]", "[{_id: 1, a: 2, z: 1}]"},
      {"[{_id: 1, a: 1}]", "[{$project: {_id: '$a'}}]", "[{_id: 1}]"},
      {"[{_id: 1, a: 1}]", "[{$project: {_id: 1}}]", "[{_id: 1}]"},
  });
}

TEST(AggTest, AddFieldsSetUnset) {
  RunCases({
      {"[{_id: 1, a: 1}]", "[{$addFields: {b: {$multiply: ['$a', 10]}, c: 1}}]",
       "[{_id: 1, a: 1, b: 10, c: 1}]"},
      {"[{_id: 1, a: 1}]", "[{$set: {a: 'x'}}]", "[{_id: 1, a: 'x'}]"},
      {"[{_id: 1, a: 1, b: 2}]", "[{$set: {a: '$$REMOVE'}}]", "[{_id: 1, b: 2}]"},
      {"[{_id: 1, a: {x: 1}}]", "[{$addFields: {a: {y: 2}}}]", "[{_id: 1, a: {x: 1, y: 2}}]"},
      {"[{_id: 1, a: {x: 1}}]", "[{$addFields: {'a.y': 2}}]", "[{_id: 1, a: {x: 1, y: 2}}]"},
      {"[{_id: 1, a: [{x: 1}, 5]}]", "[{$addFields: {'a.y': 2}}]",
       "[{_id: 1, a: [{x: 1, y: 2}, {y: 2}]}]"},
      {"[{_id: 1, a: 3}]", "[{$addFields: {'a.y': 2}}]", "[{_id: 1, a: {y: 2}}]"},
      {"[{_id: 1, a: 1}]", "[{$addFields: {e: {}}}]", "[{_id: 1, a: 1, e: {}}]"},
      // expressions see the input document, not the fields being added
      {"[{_id: 1, a: 1}]", "[{$addFields: {a: 5, b: '$a'}}]", "[{_id: 1, a: 5, b: 1}]"},
      {"[{_id: 1, a: 1, b: {c: 1, d: 2}}]", "[{$unset: 'a'}]", "[{_id: 1, b: {c: 1, d: 2}}]"},
      {"[{_id: 1, a: 1, b: {c: 1, d: 2}}]", "[{$unset: ['a', 'b.c']}]", "[{_id: 1, b: {d: 2}}]"},
      {"[{_id: 1, a: 1}]", "[{$unset: '_id'}]", "[{a: 1}]"},
  });
}

TEST(AggTest, ReplaceRootRedactDocuments) {
  RunCases({
      {"[{_id: 1, a: {b: 1}}]", "[{$replaceRoot: {newRoot: '$a'}}]", "[{b: 1}]"},
      {"[{_id: 1, a: {b: 1}}]", "[{$replaceWith: {$mergeObjects: [{z: 0}, '$a']}}]",
       "[{z: 0, b: 1}]"},
      {"[{_id: 1, level: 1, sub: {level: 5, x: 1}, arr: [{level: 5}, {level: 1, y: 2}]}]",
       "[{$redact: {$cond: [{$gt: ['$level', 3]}, '$$PRUNE', '$$DESCEND']}}]",
       "[{_id: 1, level: 1, arr: [{level: 1, y: 2}]}]"},
      {"[{_id: 1, level: 5}, {_id: 2, level: 1}]",
       "[{$redact: {$cond: [{$gt: ['$level', 3]}, '$$KEEP', '$$PRUNE']}}]",
       "[{_id: 1, level: 5}]"},
      {"[{_id: 9}]", "[{$documents: [{a: 1}, {a: 2}]}]", "[{a: 1}, {a: 2}]"},
      {"[]", "[{$documents: {$map: {input: {$range: [0, 3]}, in: {n: '$$this'}}}}]",
       "[{n: 0}, {n: 1}, {n: 2}]"},
  });
}

TEST(AggTest, Unwind) {
  const char* in = R"([
    {_id: 1, a: [1, 2]}, {_id: 2, a: []}, {_id: 3, a: null}, {_id: 4}, {_id: 5, a: 7},
    {_id: 6, a: {b: [3]}}])";
  RunCases({
      {in, "[{$unwind: '$a'}]", "[{_id: 1, a: 1}, {_id: 1, a: 2}, {_id: 5, a: 7}, {_id: 6, a: {b: [3]}}]"},
      {in, "[{$unwind: {path: '$a', includeArrayIndex: 'i'}}]",
       "[{_id: 1, a: 1, i: NumberLong(0)}, {_id: 1, a: 2, i: NumberLong(1)}, {_id: 5, a: 7, i: null},"
       " {_id: 6, a: {b: [3]}, i: null}]"},
      {in, "[{$unwind: {path: '$a', preserveNullAndEmptyArrays: true}}]",
       "[{_id: 1, a: 1}, {_id: 1, a: 2}, {_id: 2}, {_id: 3, a: null}, {_id: 4}, {_id: 5, a: 7},"
       " {_id: 6, a: {b: [3]}}]"},
      {in, "[{$unwind: {path: '$a', preserveNullAndEmptyArrays: true, includeArrayIndex: 'i'}}, "
           "{$match: {_id: {$in: [2, 3, 4]}}}]",
       "[{_id: 2, i: null}, {_id: 3, a: null, i: null}, {_id: 4, i: null}]"},
      {in, "[{$unwind: '$a.b'}]", "[{_id: 6, a: {b: 3}}]"},
      {"[{_id: 1, a: [[1, 2], 3]}]", "[{$unwind: '$a'}]", "[{_id: 1, a: [1, 2]}, {_id: 1, a: 3}]"},
  });
}

TEST(AggTest, GroupAccumulators) {
  RunCases({
      // the seed article's shape: $match + $group by status with $sum/$avg
      {kOrders,
       "[{$match: {status: {$in: ['A', 'B']}}}, {$group: {_id: '$status', total: {$sum: "
       "'$amount'}, avg: {$avg: '$amount'}, n: {$sum: 1}}}, {$sort: {_id: 1}}]",
       "[{_id: 'A', total: NumberLong(160), avg: 53.333333333333336, n: 3},"
       " {_id: 'B', total: 25.5, avg: 25.5, n: 1}]"},
      {kOrders, "[{$group: {_id: null, c: {$count: {}}, mx: {$max: '$amount'}, mn: {$min: '$amount'}}}]",
       "[{_id: null, c: 5, mx: 100, mn: NumberLong(10)}]"},
      {kOrders, "[{$group: {_id: '$status', f: {$first: '$items'}, l: {$last: '$items'}}}]",
       "[{_id: 'A', f: ['a', 'b'], l: null}, {_id: 'B', f: [], l: []}, {_id: 'C', f: null, l: null}]",
       true},
      {kOrders, "[{$group: {_id: '$status', ids: {$push: '$_id'}}}]",
       "[{_id: 'A', ids: [1, 2, 4]}, {_id: 'B', ids: [3]}, {_id: 'C', ids: [5]}]", true},
      {kOrders, "[{$group: {_id: null, s: {$addToSet: '$customer_id'}}}]",
       "[{_id: null, s: [1, 2, 3, 9]}]"},
      {"[{a: 1}, {a: 1.0}, {a: NumberLong(1)}, {b: 1}]", "[{$group: {_id: '$a', n: {$sum: 1}}}]",
       "[{_id: 1, n: 3}, {_id: null, n: 1}]", true},
      {"[{a: {x: 1, y: 2}}, {a: {x: 1, y: 2}}, {a: {y: 2, x: 1}}]",
       "[{$group: {_id: '$a', n: {$sum: 1}}}]",
       "[{_id: {x: 1, y: 2}, n: 2}, {_id: {y: 2, x: 1}, n: 1}]", true},
      {"[{a: 1, b: 2}, {a: 1, b: 3}, {a: 2}]",
       "[{$group: {_id: {a: '$a', b: '$b'}, n: {$sum: 1}}}]",
       "[{_id: {a: 1, b: 2}, n: 1}, {_id: {a: 1, b: 3}, n: 1}, {_id: {a: 2}, n: 1}]", true},
      {"[]", "[{$group: {_id: null, n: {$sum: 1}}}]", "[]"},
      {"[{v: 2147483647}, {v: 1}]", "[{$group: {_id: 0, s: {$sum: '$v'}}}]",
       "[{_id: 0, s: NumberLong(2147483648)}]"},
      {"[{v: 1}, {v: NumberDecimal('0.1')}]", "[{$group: {_id: 0, s: {$sum: '$v'}}}]",
       "[{_id: 0, s: NumberDecimal('1.1')}]"},
      {"[{v: 'x'}, {v: null}, {}]", "[{$group: {_id: 0, s: {$sum: '$v'}, a: {$avg: '$v'}, "
       "mx: {$max: '$v'}, mn: {$min: '$q'}}}]", "[{_id: 0, s: 0, a: null, mx: 'x', mn: null}]"},
      {"[{v: 2}, {v: 4}, {v: 4}, {v: 4}, {v: 5}, {v: 5}, {v: 7}, {v: 9}]",
       "[{$group: {_id: 0, p: {$stdDevPop: '$v'}}}]", "[{_id: 0, p: 2.0}]"},
      {"[{v: 1}]", "[{$group: {_id: 0, s: {$stdDevSamp: '$v'}}}]", "[{_id: 0, s: null}]"},
      {"[{v: {a: 1}}, {v: null}, {v: {b: 2, a: 3}}]",
       "[{$group: {_id: 0, m: {$mergeObjects: '$v'}}}]", "[{_id: 0, m: {a: 3, b: 2}}]"},
      {"[{k: 1, s: 3, v: 'c'}, {k: 1, s: 1, v: 'a'}, {k: 1, s: 2, v: 'b'}]",
       "[{$group: {_id: '$k', t: {$top: {sortBy: {s: 1}, output: '$v'}}, "
       "b: {$bottom: {sortBy: {s: 1}, output: '$v'}}, "
       "tn: {$topN: {sortBy: {s: -1}, output: '$v', n: 2}}, "
       "bn: {$bottomN: {sortBy: {s: -1}, output: ['$v', '$s'], n: 2}}, "
       "fn: {$firstN: {input: '$v', n: 2}}, ln: {$lastN: {input: '$v', n: 2}}, "
       "mxn: {$maxN: {input: '$s', n: 2}}, mnn: {$minN: {input: '$s', n: 5}}}}]",
       "[{_id: 1, t: 'a', b: 'c', tn: ['c', 'b'], bn: [['b', 2], ['a', 1]], fn: ['c', 'a'],"
       " ln: ['a', 'b'], mxn: [3, 2], mnn: [1, 2, 3]}]"},
  });
}

TEST(AggTest, SortAndTopK) {
  const char* in = "[{_id: 1, a: 3}, {_id: 2, a: 1}, {_id: 3}, {_id: 4, a: [0, 5]}, {_id: 5, a: 'x'}, "
                   "{_id: 6, a: 1}]";
  RunCases({
      {in, "[{$sort: {a: 1, _id: 1}}, {$project: {_id: 1}}]",
       "[{_id: 3}, {_id: 4}, {_id: 2}, {_id: 6}, {_id: 1}, {_id: 5}]"},
      {in, "[{$sort: {a: -1}}, {$project: {_id: 1}}]",
       "[{_id: 5}, {_id: 4}, {_id: 1}, {_id: 2}, {_id: 6}, {_id: 3}]"},
      {in, "[{$sort: {a: 1}}, {$limit: 3}, {$project: {_id: 1}}]",
       "[{_id: 3}, {_id: 4}, {_id: 2}]"},
      {in, "[{$sort: {a: -1}}, {$limit: 1}, {$project: {_id: 1}}]", "[{_id: 5}]"},
      {in, "[{$sort: {a: 1}}, {$skip: 1}, {$limit: 2}, {$project: {_id: 1}}]",
       "[{_id: 4}, {_id: 2}]"},
      // ties stay in input order under top-k too
      {"[{_id: 1, k: 1}, {_id: 2, k: 1}, {_id: 3, k: 0}, {_id: 4, k: 1}]",
       "[{$sort: {k: -1}}, {$limit: 2}]", "[{_id: 1, k: 1}, {_id: 2, k: 1}]"},
      {kOrders, "[{$sortByCount: '$status'}]",
       "[{_id: 'A', count: 3}, {_id: 'B', count: 1}, {_id: 'C', count: 1}]", true},
      {kOrders, "[{$sortByCount: '$status'}, {$limit: 1}]", "[{_id: 'A', count: 3}]"},
      {kOrders, "[{$count: 'n'}]", "[{n: 5}]"},
      {kOrders, "[{$match: {status: 'Z'}}, {$count: 'n'}]", "[]"},
  });
}

TEST(AggTest, Lookup) {
  RunCases({
      // the seed article's shape: enrich orders with customer data
      {"[{_id: 10, user_id: 1}, {_id: 11, user_id: 7}]",
       "[{$lookup: {from: 'customers', localField: 'user_id', foreignField: '_id', as: "
       "'customer_data', pipeline: [{$project: {email: 1, tier: 1}}]}}]",
       "[{_id: 10, user_id: 1, customer_data: [{_id: 1, tier: 'gold', email: 'ann@x.io'}]},"
       " {_id: 11, user_id: 7, customer_data: []}]"},
      {"[{_id: 1, item: 'almonds'}, {_id: 2, item: 'pecans'}, {_id: 3}]",
       "[{$lookup: {from: 'inventory', localField: 'item', foreignField: 'sku', as: 'inv'}}, "
       "{$project: {ids: '$inv._id'}}]",
       "[{_id: 1, ids: [1]}, {_id: 2, ids: [4]}, {_id: 3, ids: [5, 6]}]"},
      // an array localField matches any element
      {"[{_id: 1, items: ['bread', 'cashews', 'nope']}]",
       "[{$lookup: {from: 'inventory', localField: 'items', foreignField: 'sku', as: 'inv'}}, "
       "{$project: {ids: '$inv._id'}}]",
       "[{_id: 1, ids: [2, 3]}]"},
      {"[{_id: 1, o: [{s: 'bread'}, {s: 'pecans'}]}]",
       "[{$lookup: {from: 'inventory', localField: 'o.s', foreignField: 'sku', as: 'inv'}}, "
       "{$project: {ids: '$inv._id'}}]",
       "[{_id: 1, ids: [2, 4]}]"},
      // pipeline form with let and $expr
      {"[{_id: 1, need: 75}]",
       "[{$lookup: {from: 'inventory', let: {n: '$need'}, pipeline: [{$match: {$expr: "
       "{$gte: ['$instock', '$$n']}}}, {$project: {_id: 1}}], as: 'ok'}}]",
       "[{_id: 1, need: 75, ok: [{_id: 1}, {_id: 2}]}]"},
      {"[{_id: 1, need: 75}]",
       "[{$lookup: {from: 'inventory', let: {n: '$need'}, pipeline: [{$match: {$and: [{$expr: "
       "{$gte: ['$instock', '$$n']}}, {sku: {$ne: 'bread'}}]}}, {$project: {_id: 1}}], "
       "as: 'ok'}}]",
       "[{_id: 1, need: 75, ok: [{_id: 1}]}]"},
      // uncorrelated pipeline
      {"[{_id: 1}, {_id: 2}]",
       "[{$lookup: {from: 'more', pipeline: [{$group: {_id: null, s: {$sum: '$x'}}}], as: 'm'}}]",
       "[{_id: 1, m: [{_id: null, s: 3}]}, {_id: 2, m: [{_id: null, s: 3}]}]"},
      {"[{_id: 1}]", "[{$lookup: {from: 'nothere', localField: 'a', foreignField: 'b', as: 'x'}}]",
       "[{_id: 1, x: []}]"},
      {"[{_id: 1, k: 2}]",
       "[{$lookup: {pipeline: [{$documents: [{k: 1}, {k: 2}]}], localField: 'k', "
       "foreignField: 'k', as: 'x'}}]",
       "[{_id: 1, k: 2, x: [{k: 1}, {k: 2}]}]"},
      {"[{_id: 1, k: 2}]",
       "[{$lookup: {from: 'more', let: {k: '$k'}, pipeline: [{$match: {$expr: {$eq: ['$x', '$$k']}}},"
       " {$lookup: {from: 'more', let: {y: '$x'}, pipeline: [{$project: {_id: 1, z: {$add: "
       "['$$k', '$$y']}}}], as: 'in'}}], as: 'out'}}]",
       "[{_id: 1, k: 2, out: [{_id: 101, x: 2, in: [{_id: 100, z: 4}, {_id: 101, z: 4}]}]}]"},
      {"[{_id: 1, a: {b: 1}}]",
       "[{$lookup: {from: 'more', localField: 'a.b', foreignField: 'x', as: 'a.c'}}]",
       "[{_id: 1, a: {b: 1, c: [{_id: 100, x: 1}]}}]"},
  });
}

TEST(AggTest, FacetBucketUnionWith) {
  const char* in = "[{_id: 1, p: 5}, {_id: 2, p: 15}, {_id: 3, p: 25}, {_id: 4, p: 150}, {_id: 5}]";
  RunCases({
      {in, "[{$facet: {cnt: [{$count: 'n'}], top: [{$sort: {p: -1}}, {$limit: 1}]}}]",
       "[{cnt: [{n: 5}], top: [{_id: 4, p: 150}]}]"},
      {"[]", "[{$facet: {cnt: [{$count: 'n'}], all: [{$match: {}}]}}]", "[{cnt: [], all: []}]"},
      {in, "[{$bucket: {groupBy: '$p', boundaries: [0, 10, 100], default: 'other'}}]",
       "[{_id: 0, count: 1}, {_id: 10, count: 2}, {_id: 'other', count: 2}]"},
      {in, "[{$bucket: {groupBy: '$p', boundaries: [0, 10, 200], output: {ids: {$push: '$_id'}, "
           "t: {$sum: '$p'}}, default: -1}}]",
       "[{_id: -1, ids: [5], t: 0}, {_id: 0, ids: [1], t: 5}, {_id: 10, ids: [2, 3, 4], t: 190}]"},
      {in, "[{$match: {p: {$exists: true}}}, {$bucketAuto: {groupBy: '$p', buckets: 2}}]",
       "[{_id: {min: 5, max: 25}, count: 2}, {_id: {min: 25, max: 150}, count: 2}]"},
      {"[{_id: 1}]", "[{$unionWith: 'more'}]", "[{_id: 1}, {_id: 100, x: 1}, {_id: 101, x: 2}]"},
      {"[{_id: 1}]", "[{$unionWith: {coll: 'more', pipeline: [{$match: {x: 2}}]}}, {$count: 'n'}]",
       "[{n: 2}]"},
      {"[{_id: 1}]", "[{$unionWith: {pipeline: [{$documents: [{z: 1}]}]}}]",
       "[{_id: 1}, {z: 1}]"},
  });
}

TEST(AggTest, SetWindowFields) {
  const char* in = R"([
    {_id: 1, g: 'a', t: 1, v: 10}, {_id: 2, g: 'a', t: 2, v: 20}, {_id: 3, g: 'a', t: 3, v: 30},
    {_id: 4, g: 'b', t: 1, v: 5}, {_id: 5, g: 'b', t: 2, v: 5}, {_id: 6, g: 'b', t: 4, v: 1}])";
  RunCases({
      {in, "[{$setWindowFields: {partitionBy: '$g', sortBy: {t: 1}, output: {"
           "run: {$sum: '$v', window: {documents: ['unbounded', 'current']}}, "
           "tot: {$sum: '$v'}, mov: {$avg: '$v', window: {documents: [-1, 0]}}, "
           "n: {$documentNumber: {}}}}}, {$project: {run: 1, tot: 1, mov: 1, n: 1}}]",
       "[{_id: 1, run: 10, tot: 60, mov: 10.0, n: 1}, {_id: 2, run: 30, tot: 60, mov: 15.0, n: 2},"
       " {_id: 3, run: 60, tot: 60, mov: 25.0, n: 3}, {_id: 4, run: 5, tot: 11, mov: 5.0, n: 1},"
       " {_id: 5, run: 10, tot: 11, mov: 5.0, n: 2}, {_id: 6, run: 11, tot: 11, mov: 3.0, n: 3}]"},
      {in, "[{$match: {g: 'b'}}, {$setWindowFields: {sortBy: {v: -1}, output: {"
           "r: {$rank: {}}, d: {$denseRank: {}}}}}, {$project: {r: 1, d: 1}}]",
       "[{_id: 4, r: 1, d: 1}, {_id: 5, r: 1, d: 1}, {_id: 6, r: 3, d: 2}]"},
      {in, "[{$match: {g: 'b'}}, {$setWindowFields: {sortBy: {t: 1}, output: {"
           "prev: {$shift: {output: '$v', by: -1, default: 'none'}}, "
           "next: {$shift: {output: '$_id', by: 1}}}}}, {$project: {prev: 1, next: 1}}]",
       "[{_id: 4, prev: 'none', next: 5}, {_id: 5, prev: 5, next: 6}, {_id: 6, prev: 5, next: null}]"},
      {in, "[{$match: {g: 'b'}}, {$setWindowFields: {sortBy: {t: 1}, output: {"
           "r: {$push: '$_id', window: {range: [-1, 0]}}, "
           "c: {$count: {}, window: {range: ['unbounded', 'current']}}, "
           "f: {$first: '$_id', window: {documents: [1, 'unbounded']}}}}}, "
           "{$project: {r: 1, c: 1, f: 1}}]",
       "[{_id: 4, r: [4], c: 1, f: 5}, {_id: 5, r: [4, 5], c: 2, f: 6}, {_id: 6, r: [6], c: 3, f: null}]"},
      {"[{_id: 1, t: 1, v: 1}, {_id: 2, t: 2}, {_id: 3, t: 3, v: null}, {_id: 4, t: 4, v: 4}]",
       "[{$setWindowFields: {sortBy: {t: 1}, output: {v: {$locf: '$v'}}}}]",
       "[{_id: 1, t: 1, v: 1}, {_id: 2, t: 2, v: 1}, {_id: 3, t: 3, v: 1}, {_id: 4, t: 4, v: 4}]"},
  });
}

TEST(AggTest, OutAndMerge) {
  MemSource src = DefaultSource();
  auto r = RunPipeline("[{_id: 1, a: 1}, {_id: 2, a: 2}]", "[{$match: {a: 2}}, {$out: 'dest'}]",
                       &src);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->empty());
  EXPECT_EQ(Show(src.colls["dest"]), Show(Docs("[{_id: 2, a: 2}]")));
  EXPECT_EQ(src.last_db, "test");

  r = RunPipeline("[{_id: 1, x: 10}, {_id: 100, x: 5, y: 1}]",
                  "[{$merge: {into: 'more', whenMatched: 'merge', whenNotMatched: 'insert'}}]", &src);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Show(src.colls["more"]),
            Show(Docs("[{_id: 100, x: 5, y: 1}, {_id: 101, x: 2}, {_id: 1, x: 10}]")));

  r = RunPipeline("[{_id: 101, x: 7}]",
                  "[{$merge: {into: {db: 'other', coll: 'more'}, whenMatched: [{$set: {x: {$add: "
                  "['$x', '$$new.x']}}}]}}]", &src);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(src.last_db, "other");
  EXPECT_EQ(Show(src.colls["more"]),
            Show(Docs("[{_id: 100, x: 5, y: 1}, {_id: 101, x: 9}, {_id: 1, x: 10}]")));

  r = RunPipeline("[{_id: 101}]", "[{$merge: {into: 'more', whenMatched: 'fail'}}]", &src);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code_number(), 11000);

  r = RunPipeline("[{_id: 555, k: 1}]",
                  "[{$merge: {into: 'more', whenMatched: 'keepExisting', whenNotMatched: 'discard'}}]",
                  &src);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(src.colls["more"].size(), 3u);

  // Documents without _id get one.
  r = RunPipeline("[{a: 1}]", "[{$project: {_id: 0}}, {$out: 'gen'}]", &src);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(src.colls["gen"].size(), 1u);
  EXPECT_EQ(src.colls["gen"][0].Get("_id")->type(), bson::Type::kObjectId);
}

TEST(AggTest, Sample) {
  MemSource src;
  std::string in = "[";
  for (int i = 0; i < 50; ++i) in += (i ? "," : "") + std::string("{_id: ") + std::to_string(i) + "}";
  in += "]";
  auto r = RunPipeline(in, "[{$sample: {size: 5}}]", &src);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 5u);
  r = RunPipeline(in, "[{$sample: {size: 500}}]", &src);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 50u);
}

TEST(AggTest, Pushdown) {
  AggOptions opts;
  auto p = Pipeline::Parse(
      JsonValue("[{$match: {a: 1}}, {$match: {b: 2}}, {$sort: {c: -1}}, {$skip: 2}, {$limit: 5}, "
                "{$project: {a: 1}}]").as_array(), opts);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(bson::ToJson(p->leading_match(), bson::JsonMode::kShell),
            bson::ToJson(JsonValue("{$and: [{a: 1}, {b: 2}]}"), bson::JsonMode::kShell));
  EXPECT_EQ(p->pushdown().skip, 2);
  EXPECT_EQ(p->pushdown().limit, 5);
  EXPECT_EQ(p->pushdown().stages, 5u);
  // Running the rest over pre-filtered input applies only $project.
  auto s = p->Run(MakeVectorStream(Docs("[{_id: 1, a: 1, z: 2}]")), nullptr, true);
  ASSERT_TRUE(s.ok());
  auto docs = DrainStream(**s);
  ASSERT_TRUE(docs.ok());
  EXPECT_EQ(Show(*docs), Show(Docs("[{_id: 1, a: 1}]")));

  p = Pipeline::Parse(JsonValue("[{$limit: 5}, {$skip: 5}, {$group: {_id: 1}}]").as_array(), opts);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->pushdown().stages, 1u);  // a find limit of 0 would mean "no limit"
  EXPECT_EQ(p->pushdown().limit, 5);
}

// A cursor's stream outlives the Pipeline that opened it (getMore runs after the aggregate
// command returned): every stage kind must keep working once the Pipeline is gone.
TEST(AggTest, StreamOutlivesPipeline) {
  MemSource src = DefaultSource();
  const char* pipelines[] = {
      "[{$sort: {x: 1}}, {$match: {_id: {$gt: 1}}}]",
      "[{$match: {x: {$gte: 22}}}, {$project: {x: 1}}, {$skip: 1}, {$limit: 3}]",
      "[{$addFields: {y: {$multiply: ['$x', 2]}}}, {$unset: 'x'}, {$match: {y: {$gt: 50}}}]",
      "[{$group: {_id: {$mod: ['$x', 2]}, n: {$sum: 1}}}, {$sort: {_id: 1}}]",
      "[{$lookup: {from: 'more', localField: '_id', foreignField: 'x', as: 'm'}}, "
      "{$unwind: '$m'}, {$replaceRoot: {newRoot: '$m'}}]",
      "[{$facet: {a: [{$count: 'n'}], b: [{$match: {x: 11}}]}}]",
  };
  std::string input = "[{_id: 1, x: 11}, {_id: 2, x: 22}, {_id: 3, x: 33}, {_id: 4, x: 44}]";
  for (const char* text : pipelines) {
    SCOPED_TRACE(text);
    auto want = RunPipeline(input, text, &src);
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    std::unique_ptr<DocStream> stream;
    {
      AggOptions opts;
      opts.db = "test";
      opts.now = bson::DateTime{1600000000000};
      auto p = Pipeline::Parse(JsonValue(text).as_array(), opts);
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      auto s = p->Run(MakeVectorStream(Docs(input)), &src);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      stream = std::move(*s);
    }  // the Pipeline is destroyed here
    auto got = DrainStream(*stream);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(Show(*got), Show(*want));
  }
}

TEST(AggTest, LetAndNow) {
  MemSource src;
  AggOptions opts;
  opts.let = JsonValue("{x: {$add: [1, 2]}}").as_document();
  auto r = RunPipeline("[{_id: 1}]", "[{$project: {v: '$$x', n: '$$NOW'}}]", &src, opts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Show(*r), Show(Docs("[{_id: 1, v: 3, n: new Date(1600000000000)}]")));
  r = RunPipeline("[{_id: 1, a: 3}, {_id: 2, a: 4}]", "[{$match: {$expr: {$eq: ['$a', '$$x']}}}]",
                  &src, opts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Show(*r), Show(Docs("[{_id: 1, a: 3}]")));
}

TEST(AggTest, MemoryLimit) {
  MemSource src;
  std::string big(1000, 'x');
  std::vector<Document> docs;
  for (int i = 0; i < 200; ++i) {
    Document d;
    d.Append("_id", Value(i));
    d.Append("s", Value(big));
    docs.push_back(d);
  }
  for (const char* stage : {"{$sort: {s: 1}}", "{$group: {_id: '$_id', a: {$push: '$s'}}}"}) {
    AggOptions opts;
    opts.max_memory_bytes = 50000;
    auto p = Pipeline::Parse(JsonValue(std::string("[") + stage + "]").as_array(), opts);
    ASSERT_TRUE(p.ok());
    auto s = p->Run(MakeVectorStream(docs), &src);
    Result<std::vector<Document>> out = s.ok() ? DrainStream(**s) : Result<std::vector<Document>>(s.status());
    ASSERT_FALSE(out.ok()) << stage;
    EXPECT_EQ(out.status().code_number(), 292) << stage;
    opts.allow_disk_use = true;
    p = Pipeline::Parse(JsonValue(std::string("[") + stage + "]").as_array(), opts);
    s = p->Run(MakeVectorStream(docs), &src);
    ASSERT_TRUE(s.ok());
    out = DrainStream(**s);
    ASSERT_TRUE(out.ok()) << stage << out.status().ToString();
    EXPECT_EQ(out->size(), 200u);
  }
}

// A generated source: streams n documents without holding them.
class CountingStream : public DocStream {
 public:
  explicit CountingStream(int64_t n) : n_(n) {}
  Result<bool> Next(Document* out) override {
    if (i_ >= n_) return false;
    out->Clear();
    out->Append("_id", Value(i_));
    out->Append("g", Value(static_cast<int32_t>(i_ % 7)));
    out->Append("arr", Value(Array{Value(1), Value(2)}));
    ++i_;
    return true;
  }

 private:
  int64_t n_;
  int64_t i_ = 0;
};

TEST(AggTest, StreamsLargeInput) {
  AggOptions opts;
  opts.max_memory_bytes = 1 << 20;  // streaming stages never hit it
  auto p = Pipeline::Parse(
      JsonValue("[{$match: {g: {$ne: 3}}}, {$unwind: '$arr'}, {$project: {g: 1, arr: 1}}, "
                "{$group: {_id: '$g', n: {$sum: '$arr'}}}, {$sort: {_id: 1}}]").as_array(),
      opts);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto s = p->Run(std::make_unique<CountingStream>(200000), nullptr);
  ASSERT_TRUE(s.ok());
  auto out = DrainStream(**s);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 6u);
  EXPECT_EQ(Show({(*out)[0]}), Show(Docs("[{_id: 0, n: 85716}]")));
}

TEST(AggTest, ParseErrors) {
  RunErrors({
      {"[]", "[{$foo: 1}]", 40324, "Unrecognized pipeline stage name: '$foo'"},
      {"[]", "[{$match: {}, $limit: 1}]", 40323, "exactly one field"},
      {"[]", "[{}]", 40323, "exactly one field"},
      {"[]", "[5]", 14, "must be an object"},
      {"[]", "[{$out: 'x'}, {$match: {}}]", 40601, "$out can only be the final stage"},
      {"[]", "[{$merge: 'x'}, {$match: {}}]", 40601, "$merge can only be the final stage"},
      {"[]", "[{$facet: {a: [{$out: 'x'}]}}]", 40600, "$out is not allowed to be used within a $facet"},
      {"[]", "[{$facet: {a: [{$facet: {b: [{$match: {}}]}}]}}]", 40600, "$facet"},
      {"[]", "[{$lookup: {from: 'x', pipeline: [{$out: 'y'}], as: 'z'}}]", 51047, "$out"},
      {"[]", "[{$match: {}}, {$documents: []}]", 40602, "first stage"},
      {"[]", "[{$limit: 0}]", 15958, "the limit must be positive"},
      {"[]", "[{$limit: 'a'}]", 15957, "must be specified as a number"},
      {"[]", "[{$limit: 1.5}]", 2, "Cannot represent as a 64-bit integer"},
      {"[]", "[{$skip: -1}]", 15956, "non-negative"},
      {"[]", "[{$match: 1}]", 15959, "the match filter must be an expression in an object"},
      {"[]", "[{$match: {a: {$bad: 1}}}]", 2, "unknown operator: $bad"},
      {"[]", "[{$project: {}}]", 51272, "at least one field"},
      {"[]", "[{$project: {a: 1, b: 0}}]", 31254, "Cannot do exclusion on field b in inclusion"},
      {"[]", "[{$project: {a: 0, b: 1}}]", 31253, "Cannot do inclusion on field b in exclusion"},
      {"[]", "[{$project: {a: 0, b: '$x'}}]", 31252, "exclusion projection"},
      {"[]", "[{$project: {'a.b': 1, a: 1}}]", 31250, "Path collision at a"},
      {"[]", "[{$project: {'$a': 1}}]", 16410, "may not start with '$'"},
      {"[]", "[{$project: {a: {$foo: 1}}}]", 168, "Unrecognized expression '$foo'"},
      {"[]", "[{$project: {a: '$$undefinedvar'}}]", 17276, "Use of undefined variable"},
      {"[]", "[{$unset: 5}]", 31002, "must be a string or an array"},
      {"[]", "[{$unset: [1]}]", 31120, "only string values"},
      {"[]", "[{$group: {n: {$sum: 1}}}]", 15955, "must include an _id"},
      {"[]", "[{$group: {_id: null, n: {$foo: 1}}}]", 15952, "unknown group operator '$foo'"},
      {"[]", "[{$group: {_id: null, n: 1}}]", 40234, "must be an accumulator object"},
      {"[]", "[{$group: {_id: null, n: {$sum: 1, $max: 1}}}]", 40238, "must specify one accumulator"},
      {"[]", "[{$group: {_id: null, 'a.b': {$sum: 1}}}]", 40235, "cannot contain '.'"},
      {"[]", "[{$group: {_id: null, c: {$count: 1}}}]", 40237, "$count takes no arguments"},
      {"[]", "[{$group: {_id: null, c: {$topN: {output: 1, n: 1}}}}]", 5788005, "sortBy"},
      {"[]", "[{$group: 1}]", 15947, "must be specified in an object"},
      {"[]", "[{$sort: {}}]", 15976, "at least one sort key"},
      {"[]", "[{$sort: {a: 2}}]", 15975, ""},
      {"[]", "[{$sort: 1}]", 15973, "must be an object"},
      {"[]", "[{$unwind: 'a'}]", 28818, "should be prefixed with a '$'"},
      {"[]", "[{$unwind: {path: '$a', foo: 1}}]", 28811, "unrecognized option"},
      {"[]", "[{$unwind: {includeArrayIndex: 'i'}}]", 28812, "no path specified"},
      {"[]", "[{$unwind: {path: '$a', includeArrayIndex: '$i'}}]", 28822, "should not be prefixed"},
      {"[]", "[{$unwind: {path: '$a', preserveNullAndEmptyArrays: 1}}]", 28809, "boolean"},
      {"[]", "[{$unwind: 5}]", 15981, "string or an object"},
      {"[]", "[{$count: ''}]", 40156, "non-empty string"},
      {"[]", "[{$count: '$x'}]", 40158, "$-prefixed"},
      {"[]", "[{$count: 'a.b'}]", 40160, "cannot contain '.'"},
      {"[]", "[{$lookup: {from: 'x', localField: 'a', as: 'b'}}]", 9, "foreignField"},
      {"[]", "[{$lookup: {from: 'x', localField: 'a', foreignField: 'b'}}]", 9, "'as'"},
      {"[]", "[{$lookup: {from: 'x', as: 'b', bogus: 1}}]", 9, "unknown argument to $lookup: bogus"},
      {"[]", "[{$lookup: {localField: 'a', foreignField: 'b', as: 'c'}}]", 9, "'from'"},
      {"[]", "[{$facet: {}}]", 40169, "non-empty object"},
      {"[]", "[{$facet: {a: 1}}]", 40170, "must be arrays"},
      {"[]", "[{$bucket: {groupBy: '$a'}}]", 40198, "requires 'groupBy' and 'boundaries'"},
      {"[]", "[{$bucket: {groupBy: '$a', boundaries: [1]}}]", 40192, "at least 2 values"},
      {"[]", "[{$bucket: {groupBy: '$a', boundaries: [1, 'a']}}]", 40193, "same type"},
      {"[]", "[{$bucket: {groupBy: '$a', boundaries: [2, 1]}}]", 40194, "ascending order"},
      {"[]", "[{$bucket: {groupBy: '$a', boundaries: [1, 5], default: 3}}]", 40199, "default"},
      {"[]", "[{$bucket: {groupBy: 'a', boundaries: [1, 5]}}]", 40202, "$-prefixed path"},
      {"[]", "[{$sortByCount: 'a'}]", 40148, "$-prefixed path"},
      {"[]", "[{$replaceRoot: {}}]", 40414, "newRoot"},
      {"[]", "[{$replaceRoot: {newRoot: '$a', x: 1}}]", 40415, "unknown field"},
      {"[]", "[{$merge: {into: 'x', whenMatched: 'bogus'}}]", 2, "whenMatched"},
      {"[]", "[{$merge: {whenMatched: 'merge'}}]", 40414, "into"},
      {"[]", "[{$merge: {into: 'x', let: {a: 1}, whenMatched: 'merge'}}]", 51199, "let"},
      {"[]", "[{$sample: {}}]", 28749, "must specify a size"},
      {"[]", "[{$sample: {size: -1}}]", 28747, "must not be negative"},
      {"[]", "[{$setWindowFields: {sortBy: {a: 1}}}]", 40414, "output"},
      {"[]", "[{$setWindowFields: {output: {r: {$rank: {}}}}}]", 5371602, "sortBy"},
      {"[]", "[{$setWindowFields: {sortBy: {a: 1}, output: {r: {$foo: 1}}}}]", 5397500,
       "Unrecognized window function"},
      {"[]", "[{$setWindowFields: {sortBy: {a: 1}, output: {r: {$sum: 1, window: {documents: "
             "[1, -1]}}}}}]", 5339900, "Lower bound"},
      {"[]", "[{$setWindowFields: {output: {r: {$sum: 1, window: {documents: [-1, 1]}}}}}]",
       5339901, "sortBy"},
  });
}

TEST(AggTest, RuntimeErrors) {
  RunErrors({
      {"[{a: 1}]", "[{$replaceRoot: {newRoot: '$a'}}]", 40228, "must evaluate to an object"},
      {"[{}]", "[{$replaceWith: '$a'}]", 40228, "missing"},
      {"[{a: 0}]", "[{$project: {x: {$divide: [1, '$a']}}}]", 2, "can't $divide by zero"},
      {"[{a: 0}]", "[{$match: {$expr: {$divide: [1, '$a']}}}]", 2, "can't $divide by zero"},
      {"[{a: 5}]", "[{$bucket: {groupBy: '$a', boundaries: [1, 2]}}]", 40066, "no default"},
      {"[{a: 1}]", "[{$redact: 5}]", 17053, "$redact's expression"},
      {"[{v: 1}]", "[{$group: {_id: 0, m: {$mergeObjects: '$v'}}}]", 40400, "requires object inputs"},
      {"[{a: [1]}, {a: [2]}]", "[{$sort: {a: 1, b: 1}}, {$addFields: {b: [1]}}, {$sort: {a: 1, b: 1}}]",
       2, "parallel arrays"},
      {"[{_id: 1}, {_id: 1}]", "[{$out: 'x'}]", 11000, "duplicate key"},
      {"[{_id: 1}]", "[{$merge: {into: 'x', on: 'k'}}]", 51132, "'on' field"},
  });
}

}  // namespace
}  // namespace eddy::query
