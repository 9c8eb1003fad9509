// Table-driven tests of the aggregation expression core: (expression, document, expected)
// rows compared type-strictly (int32 != int64 != double), "MISSING" for the missing marker,
// then error rows (expression, document, code, message substring).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "bson/json.h"
#include "query/expr/expression.h"

namespace eddy::query {
namespace {

bson::Document Json(const std::string& text) {
  auto r = bson::ParseJson(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : bson::Document();
}

bson::Value Spec(const std::string& text) { return *Json("{e: " + text + "}").Get("e"); }

struct ExprCase {
  const char* expr;
  const char* doc;
  const char* expected;  // JSON value, or "MISSING"
};

constexpr bson::DateTime kNow{1600000000000};

Result<MaybeValue> Eval(const std::string& expr, const std::string& doc) {
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr e, ParseExpression(Spec(expr), ParseContext()));
  bson::Document d = Json(doc);
  EvalContext ctx(d, kNow);
  return e->Evaluate(ctx);
}

void RunCases(const std::vector<ExprCase>& cases) {
  for (const ExprCase& c : cases) {
    Result<MaybeValue> r = Eval(c.expr, c.doc);
    ASSERT_TRUE(r.ok()) << c.expr << " on " << c.doc << ": " << r.status().ToString();
    if (std::string(c.expected) == "MISSING") {
      EXPECT_FALSE(r->has_value()) << c.expr << " on " << c.doc << " gave "
                                   << DescribeForError(*r);
      continue;
    }
    bson::Value want = Spec(c.expected);
    ASSERT_TRUE(r->has_value()) << c.expr << " on " << c.doc << " gave missing";
    bool nan_pair = (*r)->is_double() && want.is_double() &&
                    std::isnan((*r)->as_double_exact()) && std::isnan(want.as_double_exact());
    EXPECT_TRUE(**r == want || nan_pair) << c.expr << " on " << c.doc << ": got "
                             << bson::ToJson(**r, bson::JsonMode::kCanonical) << " want "
                             << bson::ToJson(want, bson::JsonMode::kCanonical);
  }
}

TEST(ExprTest, FieldPathsVariablesLiterals) {
  RunCases({
      {"'$a'", "{a: 1}", "1"},
      {"'$a'", "{}", "MISSING"},
      {"'$a'", "{a: null}", "null"},
      {"'$a.b'", "{a: {b: 2}}", "2"},
      {"'$a.b'", "{a: 5}", "MISSING"},
      {"'$a.b'", "{a: [{b: 1}, {b: 2}]}", "[1, 2]"},
      {"'$a.b'", "{a: [{b: 1}, {c: 2}, 5, {b: [3]}]}", "[1, [3]]"},
      {"'$a.b'", "{a: [[{b: 1}], {b: 2}]}", "[[1], 2]"},
      {"'$a.b'", "{a: []}", "[]"},
      {"'$a.b.c'", "{a: [{b: [{c: 1}, {c: 2}]}]}", "[[1, 2]]"},
      {"'$a.0'", "{a: [1, 2]}", "[]"},   // no positional paths in aggregation
      {"'$$ROOT'", "{a: 1}", "{a: 1}"},
      {"'$$CURRENT.a'", "{a: 1}", "1"},
      {"'$$ROOT.a.b'", "{a: [{b: 1}]}", "[1]"},
      {"'$$NOW'", "{}", "new Date(1600000000000)"},
      {"'$$REMOVE'", "{}", "MISSING"},
      {"5", "{}", "5"},
      {"'abc'", "{}", "'abc'"},
      {"null", "{}", "null"},
      {"{$literal: '$a'}", "{a: 1}", "'$a'"},
      {"{$literal: {$add: [1, 2]}}", "{}", "{$add: [1, 2]}"},
      {"{x: '$a', y: {z: '$b'}}", "{a: 1, b: 2}", "{x: 1, y: {z: 2}}"},
      {"{x: '$missing', y: 1}", "{}", "{y: 1}"},
      {"{x: '$$REMOVE'}", "{}", "{}"},
      {"{}", "{}", "{}"},
      {"['$a', '$missing', 3]", "{a: 1}", "[1, null, 3]"},
      {"[]", "{}", "[]"},
      {"{$let: {vars: {x: 2, y: '$a'}, in: {$add: ['$$x', '$$y']}}}", "{a: 3}", "5"},
      {"{$let: {vars: {x: {b: 1}}, in: '$$x.b'}}", "{}", "1"},
      {"{$let: {vars: {x: 1}, in: {$let: {vars: {x: 2}, in: '$$x'}}}}", "{}", "2"},
      {"{$let: {vars: {x: 1}, in: {$let: {vars: {y: '$$x'}, in: '$$y'}}}}", "{}", "1"},
      {"{$let: {vars: {x: '$missing'}, in: '$$x'}}", "{}", "MISSING"},
      {"{$let: {vars: {}, in: 7}}", "{}", "7"},
  });
}

TEST(ExprTest, Comparison) {
  RunCases({
      {"{$eq: [1, 1.0]}", "{}", "true"},
      {"{$eq: [1, NumberLong(1)]}", "{}", "true"},
      {"{$eq: [1, '1']}", "{}", "false"},
      {"{$eq: ['$a', '$b']}", "{}", "true"},
      {"{$eq: ['$a', null]}", "{}", "false"},
      {"{$eq: [null, null]}", "{}", "true"},
      {"{$ne: [1, 2]}", "{}", "true"},
      {"{$gt: ['a', 1]}", "{}", "true"},
      {"{$gt: [null, '$missing']}", "{}", "true"},
      {"{$lt: [MinKey, '$missing']}", "{}", "true"},
      {"{$gte: [2, 2]}", "{}", "true"},
      {"{$lt: [[1], [2]]}", "{}", "true"},
      {"{$lte: [{a: 1}, {a: 1}]}", "{}", "true"},
      {"{$cmp: [1, 2]}", "{}", "-1"},
      {"{$cmp: [2, 2]}", "{}", "0"},
      {"{$cmp: ['b', 'a']}", "{}", "1"},
      {"{$cmp: [NaN, 1]}", "{}", "-1"},
  });
}

TEST(ExprTest, Boolean) {
  RunCases({
      {"{$and: [true, 1]}", "{}", "true"},
      {"{$and: [true, 0]}", "{}", "false"},
      {"{$and: []}", "{}", "true"},
      {"{$and: ['$missing']}", "{}", "false"},
      {"{$and: [null]}", "{}", "false"},
      {"{$and: [[]]}", "{}", "true"},
      {"{$and: ['']}", "{}", "true"},
      {"{$and: [false, {$divide: [1, 0]}]}", "{}", "false"},   // short-circuit
      {"{$or: [false, 0, null]}", "{}", "false"},
      {"{$or: [false, 'x']}", "{}", "true"},
      {"{$or: []}", "{}", "false"},
      {"{$or: [true, {$divide: [1, 0]}]}", "{}", "true"},
      {"{$not: [true]}", "{}", "false"},
      {"{$not: 0}", "{}", "true"},
      {"{$not: ['$missing']}", "{}", "true"},
      {"{$not: [NumberDecimal('0')]}", "{}", "true"},
  });
}

TEST(ExprTest, Arithmetic) {
  RunCases({
      {"{$add: [1, 2]}", "{}", "3"},
      {"{$add: [1, NumberLong(2)]}", "{}", "NumberLong(3)"},
      {"{$add: [1, 2.5]}", "{}", "3.5"},
      {"{$add: [1, NumberDecimal('2.5')]}", "{}", "NumberDecimal('3.5')"},
      {"{$add: [NumberDecimal('0.1'), NumberDecimal('0.2')]}", "{}", "NumberDecimal('0.3')"},
      {"{$add: [2147483647, 1]}", "{}", "NumberLong(2147483648)"},
      {"{$add: [NumberLong('9223372036854775807'), 1]}", "{}", "9223372036854775808.0"},
      {"{$add: []}", "{}", "0"},
      {"{$add: [1, null]}", "{}", "null"},
      {"{$add: [1, '$missing']}", "{}", "null"},
      {"{$add: [ISODate('2020-01-01T00:00:00Z'), 1000]}", "{}",
       "ISODate('2020-01-01T00:00:01Z')"},
      {"{$add: [1000, ISODate('2020-01-01T00:00:00Z')]}", "{}",
       "ISODate('2020-01-01T00:00:01Z')"},
      {"{$add: [ISODate('2020-01-01T00:00:00Z'), 1.6]}", "{}",
       "new Date(1577836800002)"},
      {"{$subtract: [5, 3]}", "{}", "2"},
      {"{$subtract: [5, 3.5]}", "{}", "1.5"},
      {"{$subtract: [NumberLong(5), 3]}", "{}", "NumberLong(2)"},
      {"{$subtract: [-2147483648, 1]}", "{}", "NumberLong(-2147483649)"},
      {"{$subtract: [NumberLong('-9223372036854775808'), 1]}", "{}", "-9223372036854775808.0"},
      {"{$subtract: [ISODate('2020-01-01T00:00:01Z'), ISODate('2020-01-01T00:00:00Z')]}", "{}",
       "NumberLong(1000)"},
      {"{$subtract: [ISODate('2020-01-01T00:00:01Z'), 1000]}", "{}",
       "ISODate('2020-01-01T00:00:00Z')"},
      {"{$subtract: [null, 1]}", "{}", "null"},
      {"{$subtract: [NumberDecimal('1.5'), 1]}", "{}", "NumberDecimal('0.5')"},
      {"{$multiply: [2, 3]}", "{}", "6"},
      {"{$multiply: [2, 1.5]}", "{}", "3.0"},
      {"{$multiply: [65536, 65536]}", "{}", "NumberLong(4294967296)"},
      {"{$multiply: [NumberLong('4611686018427387904'), 4]}", "{}", "1.8446744073709552e19"},
      {"{$multiply: []}", "{}", "1"},
      {"{$multiply: [2, null]}", "{}", "null"},
      {"{$multiply: [NumberDecimal('1.1'), 2]}", "{}", "NumberDecimal('2.2')"},
      {"{$divide: [6, 3]}", "{}", "2.0"},
      {"{$divide: [1, 4]}", "{}", "0.25"},
      {"{$divide: [NumberDecimal('1'), 4]}", "{}", "NumberDecimal('0.25')"},
      {"{$divide: [null, 0]}", "{}", "null"},
      {"{$mod: [7, 3]}", "{}", "1"},
      {"{$mod: [-7, 3]}", "{}", "-1"},
      {"{$mod: [7, NumberLong(3)]}", "{}", "NumberLong(1)"},
      {"{$mod: [7.5, 2]}", "{}", "1.5"},
      {"{$mod: [-2147483648, -1]}", "{}", "0"},
      {"{$mod: [null, 2]}", "{}", "null"},
      {"{$abs: -5}", "{}", "5"},
      {"{$abs: [-5.5]}", "{}", "5.5"},
      {"{$abs: NumberLong(-5)}", "{}", "NumberLong(5)"},
      {"{$abs: -2147483648}", "{}", "NumberLong(2147483648)"},
      {"{$abs: NumberDecimal('-1.5')}", "{}", "NumberDecimal('1.5')"},
      {"{$abs: null}", "{}", "null"},
      {"{$abs: '$missing'}", "{}", "null"},
      {"{$ceil: 1.2}", "{}", "2.0"},
      {"{$ceil: -1.2}", "{}", "-1.0"},
      {"{$ceil: 5}", "{}", "5"},
      {"{$floor: 1.8}", "{}", "1.0"},
      {"{$floor: NumberLong(3)}", "{}", "NumberLong(3)"},
      {"{$floor: NumberDecimal('-1.5')}", "{}", "NumberDecimal('-2')"},
      {"{$round: 2.5}", "{}", "2.0"},
      {"{$round: 3.5}", "{}", "4.0"},
      {"{$round: [-2.5]}", "{}", "-2.0"},
      {"{$round: [1.2345, 2]}", "{}", "1.23"},
      {"{$round: [1234, -2]}", "{}", "1200"},
      {"{$round: [1250, -2]}", "{}", "1200"},
      {"{$round: [NumberLong(1350), -2]}", "{}", "NumberLong(1400)"},
      {"{$round: [5, 2]}", "{}", "5"},
      {"{$round: [null, 2]}", "{}", "null"},
      {"{$round: [1.5, null]}", "{}", "null"},
      {"{$trunc: 1.9}", "{}", "1.0"},
      {"{$trunc: -1.9}", "{}", "-1.0"},
      {"{$trunc: [1.999, 1]}", "{}", "1.9"},
      {"{$trunc: [1999, -3]}", "{}", "1000"},
      {"{$sqrt: 16}", "{}", "4.0"},
      {"{$sqrt: NumberDecimal('2.25')}", "{}", "NumberDecimal('1.5')"},
      {"{$sqrt: null}", "{}", "null"},
      {"{$pow: [2, 10]}", "{}", "1024"},
      {"{$pow: [2, 31]}", "{}", "NumberLong(2147483648)"},
      {"{$pow: [2, 63]}", "{}", "9.223372036854776e18"},
      {"{$pow: [NumberLong(2), 3]}", "{}", "NumberLong(8)"},
      {"{$pow: [2, -1]}", "{}", "0.5"},
      {"{$pow: [-1, -3]}", "{}", "-1"},
      {"{$pow: [1, -3]}", "{}", "1"},
      {"{$pow: [2.0, 2]}", "{}", "4.0"},
      {"{$pow: [4, 0.5]}", "{}", "2.0"},
      {"{$pow: [0, 0]}", "{}", "1"},
      {"{$pow: [null, 2]}", "{}", "null"},
      {"{$exp: 0}", "{}", "1.0"},
      {"{$ln: 1}", "{}", "0.0"},
      {"{$log10: 1000}", "{}", "3.0"},
      {"{$log10: null}", "{}", "null"},
  });
}

// Decimal arithmetic is exact IEEE 754 decimal128 (34 digits, preferred exponents).
TEST(ExprTest, DecimalArithmetic) {
  RunCases({
      {"{$add: [NumberDecimal('1.5'), NumberDecimal('1.50')]}", "{}", "NumberDecimal('3.00')"},
      {"{$add: [NumberDecimal('0.1'), 0.2]}", "{}", "NumberDecimal('0.300000000000000')"},  // doubles: 15 digits
      {"{$add: [NumberDecimal('9999999999999999999999999999999999'), 1]}", "{}",
       "NumberDecimal('1.000000000000000000000000000000000E+34')"},
      {"{$add: [NumberDecimal('1E+20'), NumberDecimal('1E-20')]}", "{}",
       "NumberDecimal('100000000000000000000.0000000000000')"},
      {"{$add: [NumberDecimal('-1.5'), NumberDecimal('1.5')]}", "{}", "NumberDecimal('0.0')"},
      {"{$subtract: [NumberDecimal('0.3'), NumberDecimal('0.1')]}", "{}", "NumberDecimal('0.2')"},
      {"{$multiply: [NumberDecimal('1.10'), NumberDecimal('2')]}", "{}", "NumberDecimal('2.20')"},
      {"{$multiply: [NumberDecimal('-0.5'), 3]}", "{}", "NumberDecimal('-1.5')"},
      {"{$divide: [NumberDecimal('1'), NumberDecimal('3')]}", "{}",
       "NumberDecimal('0.3333333333333333333333333333333333')"},
      {"{$divide: [NumberDecimal('2'), NumberDecimal('3')]}", "{}",
       "NumberDecimal('0.6666666666666666666666666666666667')"},
      {"{$divide: [NumberDecimal('10'), 4]}", "{}", "NumberDecimal('2.5')"},
      {"{$divide: [NumberDecimal('1.00'), NumberDecimal('1')]}", "{}", "NumberDecimal('1.00')"},
      {"{$divide: [NumberDecimal('100'), NumberDecimal('10')]}", "{}", "NumberDecimal('10')"},
      {"{$mod: [NumberDecimal('7.5'), 2]}", "{}", "NumberDecimal('1.5')"},
      {"{$mod: [NumberDecimal('-7'), 3]}", "{}", "NumberDecimal('-1')"},
      {"{$round: [NumberDecimal('1.2345'), 2]}", "{}", "NumberDecimal('1.23')"},
      {"{$round: [NumberDecimal('1.235'), 2]}", "{}", "NumberDecimal('1.24')"},
      {"{$round: [NumberDecimal('1.245'), 2]}", "{}", "NumberDecimal('1.24')"},
      {"{$round: [NumberDecimal('1.5'), 2]}", "{}", "NumberDecimal('1.50')"},
      {"{$round: [NumberDecimal('1234'), -2]}", "{}", "NumberDecimal('1.2E+3')"},
      {"{$round: NumberDecimal('2.5')}", "{}", "NumberDecimal('2')"},
      {"{$trunc: [NumberDecimal('-1.99'), 1]}", "{}", "NumberDecimal('-1.9')"},
      {"{$ceil: NumberDecimal('1.2')}", "{}", "NumberDecimal('2')"},
      {"{$ceil: NumberDecimal('-1.2')}", "{}", "NumberDecimal('-1')"},
      {"{$floor: NumberDecimal('12E+1')}", "{}", "NumberDecimal('12E+1')"},
      // mongod's $mod typing: an integral double divisor keeps integer arithmetic
      {"{$mod: [7, 2.0]}", "{}", "1"},
      {"{$mod: [NumberLong(7), 2.0]}", "{}", "NumberLong(1)"},
      {"{$mod: [7, 2.5]}", "{}", "2.0"},
      {"{$round: [2.675, 2]}", "{}", "2.67"},
      // jstests/aggregation/expressions/round_trunc.js
      {"{$trunc: 0.9}", "{}", "0.0"},
      {"{$round: 0.9}", "{}", "1.0"},
      {"{$round: NaN}", "{}", "NaN"},
      {"{$trunc: -Infinity}", "{}", "-Infinity"},
      {"{$round: [Infinity, 0]}", "{}", "Infinity"},
      {"{$trunc: NumberDecimal('-1.6')}", "{}", "NumberDecimal('-1')"},
      {"{$round: NumberDecimal('-1.6')}", "{}", "NumberDecimal('-2')"},
      {"{$trunc: [1.298, 1]}", "{}", "1.2"},
      {"{$trunc: [23.298, -1]}", "{}", "20.0"},
      {"{$round: [1.298, 1]}", "{}", "1.3"},
      {"{$round: [1.298, 0]}", "{}", "1.0"},
      {"{$trunc: [NumberDecimal('23.298'), -1]}", "{}", "NumberDecimal('2E+1')"},
      {"{$trunc: [1.298, 100]}", "{}", "1.298"},
      {"{$trunc: [NumberDecimal('1.298912343250054252245154325'), NumberLong(20)]}", "{}",
       "NumberDecimal('1.29891234325005425224')"},
      {"{$round: [NumberDecimal('1.298912343250054252245154325'), NumberLong(20)]}", "{}",
       "NumberDecimal('1.29891234325005425225')"},
      {"{$round: [NumberDecimal('1.298'), NumberDecimal('100')]}", "{}",
       "NumberDecimal('1.298000000000000000000000000000000')"},
      {"{$round: [2147483647, -1]}", "{}", "NumberLong(2147483650)"},
      {"{$round: [NumberDecimal('NaN'), 0]}", "{}", "NumberDecimal('NaN')"},
      {"{$round: [-2.5]}", "{}", "-2.0"},
      {"{$round: [0.5]}", "{}", "0.0"},
      {"{$round: [1.5]}", "{}", "2.0"},
      {"{$trunc: [-0.5]}", "{}", "-0.0"},
  });
}

TEST(ExprTest, Conditionals) {
  RunCases({
      {"{$cond: [true, 1, 2]}", "{}", "1"},
      {"{$cond: [0, 1, 2]}", "{}", "2"},
      {"{$cond: ['$missing', 1, 2]}", "{}", "2"},
      {"{$cond: {if: {$gt: ['$a', 1]}, then: 'big', else: 'small'}}", "{a: 5}", "'big'"},
      {"{$cond: {else: 'e', if: false, then: 't'}}", "{}", "'e'"},
      {"{$cond: [true, 1, {$divide: [1, 0]}]}", "{}", "1"},
      {"{$cond: [true, '$missing', 2]}", "{}", "MISSING"},
      {"{$ifNull: ['$a', 'd']}", "{}", "'d'"},
      {"{$ifNull: ['$a', 'd']}", "{a: null}", "'d'"},
      {"{$ifNull: ['$a', 'd']}", "{a: 0}", "0"},
      {"{$ifNull: ['$a', '$b', 'd']}", "{b: 2}", "2"},
      {"{$ifNull: ['$a', '$b']}", "{}", "MISSING"},
      {"{$ifNull: ['$a', null]}", "{}", "null"},
      {"{$switch: {branches: [{case: {$eq: ['$a', 1]}, then: 'one'}, "
       "{case: {$eq: ['$a', 2]}, then: 'two'}], default: 'other'}}",
       "{a: 2}", "'two'"},
      {"{$switch: {branches: [{case: {$eq: ['$a', 1]}, then: 'one'}], default: 'other'}}",
       "{a: 5}", "'other'"},
      {"{$switch: {branches: [{case: true, then: 1}, {case: {$divide: [1, 0]}, then: 2}]}}",
       "{}", "1"},
  });
}

TEST(ExprTest, ArraysAndStrings) {
  RunCases({
      {"{$in: [2, [1, 2, 3]]}", "{}", "true"},
      {"{$in: [2.0, [1, 2, 3]]}", "{}", "true"},
      {"{$in: [5, [1, 2, 3]]}", "{}", "false"},
      {"{$in: [null, [null]]}", "{}", "true"},
      {"{$in: ['$missing', [null]]}", "{}", "false"},
      {"{$in: [[1], [[1], 2]]}", "{}", "true"},
      {"{$in: ['$a', '$b']}", "{a: 'x', b: ['x']}", "true"},
      {"{$size: [[1, 2, 3]]}", "{}", "3"},
      {"{$size: '$a'}", "{a: []}", "0"},
      {"{$size: '$a.b'}", "{a: [{b: 1}, {b: 2}]}", "2"},
      {"{$arrayElemAt: [[1, 2, 3], 0]}", "{}", "1"},
      {"{$arrayElemAt: [[1, 2, 3], -1]}", "{}", "3"},
      {"{$arrayElemAt: [[1, 2, 3], 3]}", "{}", "MISSING"},
      {"{$arrayElemAt: [[1, 2, 3], -4]}", "{}", "MISSING"},
      {"{$arrayElemAt: [[1, 2, 3], 1.0]}", "{}", "2"},
      {"{$arrayElemAt: [[1, 2, 3], NumberLong(1)]}", "{}", "2"},
      {"{$arrayElemAt: [null, 1]}", "{}", "null"},
      {"{$arrayElemAt: ['$missing', 1]}", "{}", "null"},
      {"{$arrayElemAt: [[1], null]}", "{}", "null"},
      {"{$concatArrays: [[1], [2, 3], []]}", "{}", "[1, 2, 3]"},
      {"{$concatArrays: []}", "{}", "[]"},
      {"{$concatArrays: [[1], null]}", "{}", "null"},
      {"{$concatArrays: [[1], '$missing']}", "{}", "null"},
      {"{$isArray: [[1]]}", "{}", "true"},
      {"{$isArray: ['$a']}", "{a: [1]}", "true"},
      {"{$isArray: [1]}", "{}", "false"},
      {"{$isArray: '$missing'}", "{}", "false"},
      {"{$concat: ['a', 'b', 'c']}", "{}", "'abc'"},
      {"{$concat: []}", "{}", "''"},
      {"{$concat: ['a', null]}", "{}", "null"},
      {"{$concat: ['a', '$missing']}", "{}", "null"},
      {"{$toUpper: 'abC1é'}", "{}", "'ABC1é'"},
      {"{$toLower: ['ABc']}", "{}", "'abc'"},
      {"{$toUpper: null}", "{}", "''"},
      {"{$toUpper: '$missing'}", "{}", "''"},
      {"{$toUpper: 12}", "{}", "'12'"},
      {"{$toLower: 1.5}", "{}", "'1.5'"},
      {"{$strLenCP: 'abc'}", "{}", "3"},
      {"{$strLenCP: 'café'}", "{}", "4"},
      {"{$strLenCP: ''}", "{}", "0"},
      {"{$substrCP: ['hello', 1, 3]}", "{}", "'ell'"},
      {"{$substrCP: ['café au lait', 3, 2]}", "{}", "'é '"},
      {"{$substrCP: ['abc', 5, 1]}", "{}", "''"},
      {"{$substrCP: ['abc', 1, 100]}", "{}", "'bc'"},
      {"{$substrCP: [null, 0, 1]}", "{}", "''"},
      {"{$substrCP: [123, 0, 2]}", "{}", "'12'"},
      {"{$substrCP: ['abc', 1.0, NumberLong(1)]}", "{}", "'b'"},
      {"{$type: 1}", "{}", "'int'"},
      {"{$type: '$missing'}", "{}", "'missing'"},
      {"{$type: [[1]]}", "{}", "'array'"},
      {"{$type: {$literal: [1]}}", "{}", "'array'"},
      {"{$type: null}", "{}", "'null'"},
      {"{$type: NumberLong(1)}", "{}", "'long'"},
      {"{$type: 1.5}", "{}", "'double'"},
      {"{$type: NumberDecimal('1')}", "{}", "'decimal'"},
      {"{$type: '$a'}", "{a: {b: 1}}", "'object'"},
      {"{$type: ISODate('2020-01-01T00:00:00Z')}", "{}", "'date'"},
  });
}

TEST(ExprTest, Conversion) {
  RunCases({
      {"{$toString: 1}", "{}", "'1'"},
      {"{$toString: NumberLong(123)}", "{}", "'123'"},
      {"{$toString: 1.5}", "{}", "'1.5'"},
      {"{$toString: 3.0}", "{}", "'3'"},
      {"{$toString: 0.1}", "{}", "'0.1'"},
      {"{$toString: NumberDecimal('1.50')}", "{}", "'1.50'"},
      {"{$toString: true}", "{}", "'true'"},
      {"{$toString: 'x'}", "{}", "'x'"},
      {"{$toString: ObjectId('5f0000000000000000000001')}", "{}", "'5f0000000000000000000001'"},
      {"{$toString: ISODate('2020-03-04T05:06:07.089Z')}", "{}", "'2020-03-04T05:06:07.089Z'"},
      {"{$toString: new Date(-1)}", "{}", "'1969-12-31T23:59:59.999Z'"},
      {"{$toString: null}", "{}", "null"},
      {"{$toString: '$missing'}", "{}", "null"},
      {"{$toInt: '42'}", "{}", "42"},
      {"{$toInt: '-42'}", "{}", "-42"},
      {"{$toInt: 4.9}", "{}", "4"},
      {"{$toInt: -4.9}", "{}", "-4"},
      {"{$toInt: true}", "{}", "1"},
      {"{$toInt: NumberLong(7)}", "{}", "7"},
      {"{$toInt: NumberDecimal('7.9')}", "{}", "7"},
      {"{$toLong: '42'}", "{}", "NumberLong(42)"},
      {"{$toLong: 5}", "{}", "NumberLong(5)"},
      {"{$toLong: ISODate('1970-01-01T00:00:01Z')}", "{}", "NumberLong(1000)"},
      {"{$toDouble: '1.5'}", "{}", "1.5"},
      {"{$toDouble: '1e3'}", "{}", "1000.0"},
      {"{$toDouble: 2}", "{}", "2.0"},
      {"{$toDouble: false}", "{}", "0.0"},
      {"{$toDouble: new Date(5)}", "{}", "5.0"},
      {"{$toDecimal: 2}", "{}", "NumberDecimal('2')"},
      {"{$toDecimal: '2.5'}", "{}", "NumberDecimal('2.5')"},
      {"{$toBool: 0}", "{}", "false"},
      {"{$toBool: 2}", "{}", "true"},
      {"{$toBool: ''}", "{}", "true"},
      {"{$toBool: 'false'}", "{}", "true"},
      {"{$toBool: NumberDecimal('0')}", "{}", "false"},
      {"{$toBool: null}", "{}", "null"},
      {"{$toDate: NumberLong(1000)}", "{}", "new Date(1000)"},
      {"{$toDate: 1000.7}", "{}", "new Date(1000)"},
      {"{$toDate: '2020-01-01T00:00:00Z'}", "{}", "ISODate('2020-01-01T00:00:00Z')"},
      {"{$toDate: '2020-01-01'}", "{}", "ISODate('2020-01-01T00:00:00Z')"},
      {"{$toDate: '2020-01-01T01:00:00+01:00'}", "{}", "ISODate('2020-01-01T00:00:00Z')"},
      {"{$toDate: ObjectId('5f0000000000000000000001')}", "{}", "new Date(1593835520000)"},
      {"{$toObjectId: '5f0000000000000000000001'}", "{}", "ObjectId('5f0000000000000000000001')"},
      {"{$convert: {input: '42', to: 'int'}}", "{}", "42"},
      {"{$convert: {input: '42', to: 16}}", "{}", "42"},
      {"{$convert: {input: 'x', to: 'int', onError: -1}}", "{}", "-1"},
      {"{$convert: {input: null, to: 'int', onNull: 'n'}}", "{}", "'n'"},
      {"{$convert: {input: '$missing', to: 'int', onNull: 'n'}}", "{}", "'n'"},
      {"{$convert: {input: 1, to: null}}", "{}", "null"},
      {"{$convert: {input: {a: 1}, to: 'string', onError: 'bad'}}", "{}", "'bad'"},
      {"{$convert: {input: 5, to: 'bool'}}", "{}", "true"},
  });
}

struct ErrorCase {
  const char* expr;
  const char* doc;
  int code;
  const char* message;  // substring
};

TEST(ExprTest, Errors) {
  std::vector<ErrorCase> cases = {
      // parse errors
      {"{$foo: 1}", "{}", 168, "Unrecognized expression '$foo'"},
      {"{$add: [1], $sub: 2}", "{}", 15983, "must have exactly one field"},
      {"'$'", "{}", 16872, "'$' by itself is not a valid FieldPath"},
      {"'$a..b'", "{}", 15998, "FieldPath field names may not be empty strings."},
      {"'$a.$b'", "{}", 16410, "FieldPath field names may not start with '$'"},
      {"'$$'", "{}", 16869, "empty variable names are not allowed"},
      {"'$$foo'", "{}", 17276, "Use of undefined variable: foo"},
      {"{a: 1, $b: 2}", "{}", 16410, "may not start with '$'"},
      {"{'a.b': 1}", "{}", 16412, "FieldPath field names may not contain '.'."},
      {"{$eq: [1]}", "{}", 16020, "Expression $eq takes exactly 2 arguments. 1 were passed in."},
      {"{$subtract: [1, 2, 3]}", "{}", 16020, "takes exactly 2 arguments. 3 were passed in."},
      {"{$not: [1, 2]}", "{}", 16020, "Expression $not takes exactly 1 arguments"},
      {"{$round: [1, 2, 3]}", "{}", 28667, "takes at least 1 arguments, and at most 2, but 3"},
      {"{$trunc: []}", "{}", 28667, "but 0 were passed in."},
      {"{$concat: {$literal: [1]}}", "{}", 16702, "$concat only supports strings, not array"},
      {"{$let: 1}", "{}", 16874, "$let only supports an object as its argument"},
      {"{$let: {vars: {}}}", "{}", 16877, "Missing 'in' parameter to $let"},
      {"{$let: {in: 1}}", "{}", 16876, "Missing 'vars' parameter to $let"},
      {"{$let: {vars: {}, in: 1, x: 2}}", "{}", 16875, "Unrecognized parameter to $let: x"},
      {"{$let: {vars: {X: 1}, in: 1}}", "{}", 16867, "'X' starts with an invalid character"},
      {"{$let: {vars: {'a-b': 1}, in: 1}}", "{}", 16868, "contains an invalid character"},
      {"{$let: {vars: {x: '$$x'}, in: 1}}", "{}", 17276, "Use of undefined variable: x"},
      {"{$cond: {if: true, then: 1}}", "{}", 17082, "Missing 'else' parameter to $cond"},
      {"{$cond: {then: 1, else: 1}}", "{}", 17080, "Missing 'if' parameter to $cond"},
      {"{$cond: {if: 1, else: 1}}", "{}", 17081, "Missing 'then' parameter to $cond"},
      {"{$cond: {if: 1, then: 1, else: 1, x: 1}}", "{}", 17083, "Unrecognized parameter to $cond: x"},
      {"{$cond: [1, 2]}", "{}", 16020, "takes exactly 3 arguments"},
      {"{$ifNull: ['$a']}", "{}", 1257300, "$ifNull needs at least two arguments, had: 1"},
      {"{$switch: 1}", "{}", 40060, "$switch requires an object as an argument"},
      {"{$switch: {branches: 1}}", "{}", 40061, "$switch expected an array for 'branches'"},
      {"{$switch: {branches: [1]}}", "{}", 40062, "expected each branch to be an object"},
      {"{$switch: {branches: [{case: 1, then: 1, x: 1}]}}", "{}", 40063, "unknown argument to a branch: x"},
      {"{$switch: {branches: [{then: 1}]}}", "{}", 40064, "have a 'case' expression"},
      {"{$switch: {branches: [{case: 1}]}}", "{}", 40065, "have a 'then' expression"},
      {"{$switch: {branches: [], default: 1}}", "{}", 40068, "$switch requires at least one branch."},
      {"{$switch: {branches: [{case: 1, then: 1}], x: 1}}", "{}", 40067, "$switch found an unknown argument: x"},
      {"{$convert: 1}", "{}", 9, "$convert expects an object of named arguments"},
      {"{$convert: {input: 1}}", "{}", 9, "Missing 'to' parameter to $convert"},
      {"{$convert: {to: 'int'}}", "{}", 9, "Missing 'input' parameter to $convert"},
      {"{$convert: {input: 1, to: 'int', foo: 1}}", "{}", 9, "$convert found an unknown argument: foo"},
      // runtime errors
      {"{$switch: {branches: [{case: false, then: 1}]}}", "{}", 40066, "could not find a matching branch"},
      {"{$divide: [1, 0]}", "{}", 2, "can't $divide by zero"},
      {"{$divide: [1, 0.0]}", "{}", 2, "can't $divide by zero"},
      {"{$divide: [1, NumberDecimal('0')]}", "{}", 2, "can't $divide by zero"},
      {"{$divide: ['a', 1]}", "{}", 16609, "$divide only supports numeric types, not string and int"},
      {"{$mod: [1, 0]}", "{}", 16610, "can't $mod by zero"},
      {"{$mod: [1, 'a']}", "{}", 16611, "$mod only supports numeric types, not int and string"},
      {"{$add: [1, 'a']}", "{}", 16554, "$add only supports numeric or date types, not string"},
      {"{$add: [new Date(1), new Date(2)]}", "{}", 16612, "only one date allowed in an $add expression"},
      {"{$subtract: ['a', 1]}", "{}", 16556, "can't $subtract int from string"},
      {"{$subtract: [1, new Date(1)]}", "{}", 16556, "can't $subtract date from int"},
      {"{$subtract: [new Date(1), 'a']}", "{}", 16613, "can't $subtract string from a date"},
      {"{$multiply: [2, true]}", "{}", 16555, "$multiply only supports numeric types, not bool"},
      {"{$abs: 'x'}", "{}", 28765, "$abs only supports numeric types, not string"},
      {"{$abs: NumberLong('-9223372036854775808')}", "{}", 28680, "can't take $abs of long long min"},
      {"{$ceil: 'x'}", "{}", 28765, "$ceil only supports numeric types, not string"},
      {"{$sqrt: -1}", "{}", 28714, "$sqrt's argument must be greater than or equal to 0"},
      {"{$ln: 0}", "{}", 28766, "$ln's argument must be a positive number"},
      {"{$log10: -1}", "{}", 28761, "$log10's argument must be a positive number"},
      {"{$pow: ['a', 1]}", "{}", 28762, "$pow's base must be numeric, not string"},
      {"{$pow: [1, 'a']}", "{}", 28763, "$pow's exponent must be numeric, not string"},
      {"{$pow: [0, -1]}", "{}", 28764, "$pow cannot take a base of 0 and a negative exponent"},
      {"{$round: [1.5, 101]}", "{}", 51083, "must be in [-20, 100]"},
      {"{$round: [1.5, 1.5]}", "{}", 51082, "integral value"},
      {"{$round: ['x', 1]}", "{}", 51081, "$round only supports numeric types, not string"},
      {"{$trunc: 'x'}", "{}", 51081, "$trunc only supports numeric types, not string"},
      {"{$round: [1, 'x']}", "{}", 51082, "\"place\" argument to be a number"},
      {"{$trunc: [1, 10.5]}", "{}", 51082, "integral value"},
      {"{$round: [1, -21]}", "{}", 51083, "must be in [-20, 100]"},
      {"{$round: [1, NumberDecimal('101')]}", "{}", 51083, "must be in [-20, 100]"},
      {"{$round: [NumberLong('9223372036854775806'), -1]}", "{}", 51080, "invalid conversion"},
      {"{$size: 1}", "{}", 17124, "The argument to $size must be an array. Type of argument was: int"},
      {"{$size: '$missing'}", "{}", 17124, "Type of argument was: missing"},
      {"{$in: [1, 2]}", "{}", 40081, "$in requires an array as a second argument, found: int"},
      {"{$in: [1, '$missing']}", "{}", 40081, "found: missing"},
      {"{$arrayElemAt: [1, 0]}", "{}", 28689, "$arrayElemAt's first argument must be an array, but is int"},
      {"{$arrayElemAt: [[1], 'a']}", "{}", 28690, "second argument must be a numeric value, but is string"},
      {"{$arrayElemAt: [[1], 1.5]}", "{}", 28691, "must be representable as a 32-bit integer"},
      {"{$concatArrays: [[1], 1]}", "{}", 28664, "$concatArrays only supports arrays, not int"},
      {"{$concat: ['a', 1]}", "{}", 16702, "$concat only supports strings, not int"},
      {"{$toUpper: {$literal: [1]}}", "{}", 16007, "can't convert from BSON type array to String"},
      {"{$strLenCP: 1}", "{}", 34471, "$strLenCP requires a string argument, found: int"},
      {"{$strLenCP: '$missing'}", "{}", 34471, "found: missing"},
      {"{$substrCP: ['abc', 'x', 1]}", "{}", 34450, "starting index must be a numeric type (is BSON type string)"},
      {"{$substrCP: ['abc', 1.5, 1]}", "{}", 34451, "starting index cannot be represented as a 32-bit integral value"},
      {"{$substrCP: ['abc', 0, 'x']}", "{}", 34452, "length must be a numeric type"},
      {"{$substrCP: ['abc', 0, 1.5]}", "{}", 34453, "length cannot be represented"},
      {"{$substrCP: ['abc', 0, -1]}", "{}", 34454, "length must be a nonnegative integer."},
      {"{$substrCP: ['abc', -1, 1]}", "{}", 34455, "the starting index must be nonnegative integer."},
      {"{$toInt: 'abc'}", "{}", 241, "Failed to parse number 'abc' in $convert with no onError value"},
      {"{$toInt: '1.5'}", "{}", 241, "Did not consume whole string."},
      {"{$toInt: ' 1'}", "{}", 241, "Failed to parse number"},
      {"{$toInt: NumberLong('3000000000')}", "{}", 241, "Conversion would overflow target type"},
      {"{$toInt: 3e10}", "{}", 241, "Conversion would overflow target type"},
      {"{$toInt: NaN}", "{}", 241, "Attempt to convert NaN value to integer type"},
      {"{$toLong: Infinity}", "{}", 241, "Attempt to convert infinity value to integer type"},
      {"{$toInt: new Date(1)}", "{}", 241, "Unsupported conversion from date to int"},
      {"{$toString: {$literal: {a: 1}}}", "{}", 241, "Unsupported conversion from object to string"},
      {"{$toObjectId: 'abc'}", "{}", 241, "Invalid string length for parsing to OID"},
      {"{$toDate: 'not a date'}", "{}", 241, "Error parsing date string"},
      {"{$toDouble: 'x1'}", "{}", 241, "Failed to parse number 'x1'"},
      {"{$convert: {input: 1, to: 'foo'}}", "{}", 2, "Unknown type name: foo"},
      {"{$convert: {input: 1, to: 100}}", "{}", 9, "does not correspond to a BSON type"},
      {"{$convert: {input: 1, to: 'foo', onError: 0}}", "{}", 2, "Unknown type name: foo"},
      {"{$let: {vars: {x: 1}, in: {$divide: ['$$x', 0]}}}", "{}", 2, "can't $divide by zero"},
      {"{a: {$divide: [1, 0]}}", "{}", 2, "can't $divide by zero"},
      {"[{$divide: [1, 0]}]", "{}", 2, "can't $divide by zero"},
  };
  for (const ErrorCase& c : cases) {
    Result<MaybeValue> r = Eval(c.expr, c.doc);
    ASSERT_FALSE(r.ok()) << c.expr << " unexpectedly gave " << DescribeForError(*r);
    EXPECT_EQ(r.status().code_number(), c.code) << c.expr << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.message), std::string_view::npos)
        << c.expr << ": got '" << r.status().message() << "', want '" << c.message << "'";
  }
}

// The registry is open: later modules add operators.
TEST(ExprTest, RegisterCustomOperator) {
  RegisterExpression("$testTwice", [](const bson::Value& args, const ParseContext& ctx)
                                       -> Result<ExpressionPtr> {
    EDDY_ASSIGN_OR_RETURN(auto ops, ParseOperands("$testTwice", args, ctx, 1, 1));
    return MakeOperator(std::move(ops), [](const std::vector<MaybeValue>& a) -> Result<MaybeValue> {
      if (!a[0] || !a[0]->is_int32()) return MaybeValue(bson::Value());
      return MaybeValue(bson::Value(a[0]->as_int32() * 2));
    });
  });
  EXPECT_TRUE(IsRegisteredExpression("$testTwice"));
  EXPECT_TRUE(IsRegisteredExpression("$add"));
  EXPECT_FALSE(IsRegisteredExpression("$nope"));
  RunCases({{"{$testTwice: {$add: ['$a', 1]}}", "{a: 20}", "42"}});
}

TEST(ExprTest, ConstantsAreMarked) {
  auto c = ParseExpression(Spec("5"), ParseContext());
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE((*c)->IsConstant());
  auto f = ParseExpression(Spec("'$a'"), ParseContext());
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE((*f)->IsConstant());
}

TEST(ExprTest, CompareValuesOrdersMissingFirst) {
  EXPECT_EQ(CompareValues(std::nullopt, std::nullopt), 0);
  EXPECT_LT(CompareValues(std::nullopt, bson::Value()), 0);
  EXPECT_EQ(CompareValues(std::nullopt, bson::Value(bson::Undefined{})), 0);
  EXPECT_GT(CompareValues(std::nullopt, bson::Value(bson::MinKey{})), 0);
  EXPECT_LT(CompareValues(bson::Value(1), bson::Value("a")), 0);
}

// Every operator with odd operands: parse or evaluation may fail, never crash.
TEST(ExprTest, NoCrashOnOddInput) {
  const char* ops[] = {"$eq",       "$cmp",     "$and",     "$not",        "$add",
                       "$subtract", "$multiply", "$divide", "$mod",        "$abs",
                       "$ceil",     "$floor",   "$round",   "$trunc",      "$sqrt",
                       "$pow",      "$exp",     "$ln",      "$log10",      "$cond",
                       "$ifNull",   "$switch",  "$in",      "$size",       "$arrayElemAt",
                       "$concatArrays", "$isArray", "$concat", "$toUpper", "$strLenCP",
                       "$substrCP", "$type",    "$toString", "$toInt",     "$toLong",
                       "$toDouble", "$toDecimal", "$toBool", "$toDate",    "$toObjectId",
                       "$convert",  "$let",     "$literal"};
  const char* args[] = {"1", "[]", "[1]", "[1, 2]", "[1, 2, 3]", "['a', 'b']", "null", "'$a'",
                        "['$a', '$b']", "[NaN, 0]", "[NumberDecimal('1E+6144'), 10]",
                        "[NumberDecimal('NaN'), NumberDecimal('Infinity')]",
                        "[NumberLong('-9223372036854775808'), -1]", "[2147483647, 2147483647]",
                        "{}", "{if: 1}", "{input: '$a', to: 'int'}", "{vars: {x: 1}, in: '$$x'}",
                        "[new Date(0), 1]", "[[1], 0]", "['abc', -1, 2]", "[1e308, 1e308]",
                        "[0, -1]", "[-8, 0.5]", "[1.5, 200]", "['$a.b', '$$ROOT']"};
  std::vector<std::string> docs = {"{}", "{a: 1, b: 2}", "{a: 'x', b: [1]}",
                                   "{a: [{b: 1}, {b: 2}], b: null}", "{a: NaN, b: -0.0}"};
  int evaluated = 0;
  for (const char* op : ops) {
    for (const char* arg : args) {
      std::string expr = std::string("{") + op + ": " + arg + "}";
      for (const auto& d : docs) {
        Result<MaybeValue> r = Eval(expr, d);
        if (r.ok()) {
          ++evaluated;
        } else {
          EXPECT_FALSE(r.status().message().empty()) << expr;
        }
      }
    }
  }
  EXPECT_GT(evaluated, 1000);
}

}  // namespace
}  // namespace eddy::query
