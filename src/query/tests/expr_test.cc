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


// ---- Operators added with the aggregation pipeline ----

TEST(ExprTest, ArrayOperators) {
  RunCases({
      {"{$filter: {input: '$a', cond: {$gt: ['$$this', 1]}}}", "{a: [1, 2, 3]}", "[2, 3]"},
      {"{$filter: {input: '$a', as: 'x', cond: {$gt: ['$$x', 1]}, limit: 1}}", "{a: [1, 2, 3]}",
       "[2]"},
      {"{$filter: {input: '$a', cond: true}}", "{}", "null"},
      {"{$filter: {input: '$a', cond: true}}", "{a: null}", "null"},
      {"{$filter: {input: [], cond: true}}", "{}", "[]"},
      {"{$map: {input: '$a', in: {$multiply: ['$$this', 2]}}}", "{a: [1, 2]}", "[2, 4]"},
      {"{$map: {input: '$a', as: 'v', in: '$$v.x'}}", "{a: [{x: 1}, {}]}", "[1, null]"},
      {"{$map: {input: '$a', in: 1}}", "{}", "null"},
      {"{$reduce: {input: '$a', initialValue: 0, in: {$add: ['$$value', '$$this']}}}",
       "{a: [1, 2, 3]}", "6"},
      {"{$reduce: {input: ['a', 'b'], initialValue: '', in: {$concat: ['$$value', '$$this']}}}",
       "{}", "'ab'"},
      {"{$reduce: {input: [], initialValue: 7, in: 0}}", "{}", "7"},
      {"{$reduce: {input: '$m', initialValue: 7, in: 0}}", "{}", "null"},
      {"{$slice: ['$a', 2]}", "{a: [1, 2, 3]}", "[1, 2]"},
      {"{$slice: ['$a', -2]}", "{a: [1, 2, 3]}", "[2, 3]"},
      {"{$slice: ['$a', -5]}", "{a: [1, 2, 3]}", "[1, 2, 3]"},
      {"{$slice: ['$a', 1, 1]}", "{a: [1, 2, 3]}", "[2]"},
      {"{$slice: ['$a', -2, 5]}", "{a: [1, 2, 3]}", "[2, 3]"},
      {"{$slice: ['$a', 10, 1]}", "{a: [1, 2, 3]}", "[]"},
      {"{$slice: ['$a', 1]}", "{}", "null"},
      {"{$reverseArray: '$a'}", "{a: [1, [2], 3]}", "[3, [2], 1]"},
      {"{$reverseArray: '$a'}", "{}", "null"},
      {"{$range: [0, 5]}", "{}", "[0, 1, 2, 3, 4]"},
      {"{$range: [0, 10, 3]}", "{}", "[0, 3, 6, 9]"},
      {"{$range: [5, 0, -2]}", "{}", "[5, 3, 1]"},
      {"{$range: [5, 0]}", "{}", "[]"},
      {"{$range: [NumberLong(1), 3.0]}", "{}", "[1, 2]"},
      {"{$indexOfArray: ['$a', 2]}", "{a: [1, 2, 2]}", "1"},
      {"{$indexOfArray: ['$a', 2, 2]}", "{a: [1, 2, 2]}", "2"},
      {"{$indexOfArray: ['$a', 2, 0, 1]}", "{a: [1, 2, 2]}", "-1"},
      {"{$indexOfArray: ['$a', 2.0]}", "{a: [1, NumberLong(2)]}", "1"},
      {"{$indexOfArray: ['$a', 1]}", "{}", "null"},
      {"{$first: '$a'}", "{a: [1, 2]}", "1"},
      {"{$last: '$a'}", "{a: [1, 2]}", "2"},
      {"{$first: '$a'}", "{a: []}", "MISSING"},
      {"{$first: '$a'}", "{}", "null"},
      {"{$zip: {inputs: ['$a', '$b']}}", "{a: [1, 2, 3], b: ['x', 'y']}", "[[1, 'x'], [2, 'y']]"},
      {"{$zip: {inputs: ['$a', '$b'], useLongestLength: true}}", "{a: [1, 2], b: ['x']}",
       "[[1, 'x'], [2, null]]"},
      {"{$zip: {inputs: ['$a', '$b'], useLongestLength: true, defaults: [0, 'd']}}",
       "{a: [1, 2], b: ['x']}", "[[1, 'x'], [2, 'd']]"},
      {"{$zip: {inputs: ['$a', '$b']}}", "{a: [1]}", "null"},
      {"{$arrayToObject: '$a'}", "{a: [['x', 1], ['y', 2]]}", "{x: 1, y: 2}"},
      {"{$arrayToObject: '$a'}", "{a: [{k: 'x', v: 1}, {k: 'x', v: 3}]}", "{x: 3}"},
      {"{$arrayToObject: '$a'}", "{a: []}", "{}"},
      {"{$arrayToObject: '$a'}", "{}", "null"},
      {"{$objectToArray: '$a'}", "{a: {x: 1, y: {z: 2}}}", "[{k: 'x', v: 1}, {k: 'y', v: {z: 2}}]"},
      {"{$objectToArray: '$a'}", "{a: null}", "null"},
      {"{$setUnion: ['$a', '$b']}", "{a: [3, 1, 1], b: [2, 1.0]}", "[1, 2, 3]"},
      {"{$setUnion: ['$a', '$b']}", "{a: [1]}", "null"},
      {"{$setUnion: []}", "{}", "[]"},
      {"{$setIntersection: ['$a', '$b']}", "{a: [1, 2, 3], b: [3, 2, 5]}", "[2, 3]"},
      {"{$setIntersection: [[1], []]}", "{}", "[]"},
      {"{$setDifference: ['$a', '$b']}", "{a: [3, 1, 2, 1], b: [2]}", "[3, 1]"},
      {"{$setDifference: ['$a', '$b']}", "{a: [1]}", "null"},
      {"{$setEquals: [[1, 2, 2], [2, 1], [1.0, 2]]}", "{}", "true"},
      {"{$setEquals: [[1], [1, 2]]}", "{}", "false"},
      {"{$setIsSubset: [[1, 1], [1, 2]]}", "{}", "true"},
      {"{$setIsSubset: [[1, 3], [1, 2]]}", "{}", "false"},
      {"{$anyElementTrue: [[0, null, 'x']]}", "{}", "true"},
      {"{$anyElementTrue: [[]]}", "{}", "false"},
      {"{$allElementTrue: [[1, true, [false]]]}", "{}", "true"},
      {"{$allElementTrue: [[1, 0]]}", "{}", "false"},
      {"{$allElementTrue: [[]]}", "{}", "true"},
      {"{$sortArray: {input: '$a', sortBy: 1}}", "{a: [3, 'b', 1, null, 2.5]}",
       "[null, 1, 2.5, 3, 'b']"},
      {"{$sortArray: {input: '$a', sortBy: -1}}", "{a: [3, 1, 2]}", "[3, 2, 1]"},
      {"{$sortArray: {input: '$a', sortBy: {x: -1}}}", "{a: [{x: 1}, {x: 3}, {y: 1}]}",
       "[{x: 3}, {x: 1}, {y: 1}]"},
      {"{$sortArray: {input: '$a', sortBy: 1}}", "{}", "null"},
      {"{$sum: '$a'}", "{a: [1, 2, 'x', null]}", "3"},
      {"{$sum: ['$a', '$b']}", "{a: 1, b: NumberLong(2)}", "NumberLong(3)"},
      {"{$sum: '$a'}", "{a: 5}", "5"},
      {"{$sum: '$a'}", "{}", "0"},
      {"{$sum: [1, 2.5]}", "{}", "3.5"},
      {"{$avg: '$a'}", "{a: [1, 2]}", "1.5"},
      {"{$avg: '$a'}", "{a: ['x']}", "null"},
      {"{$avg: [NumberDecimal('1'), 2]}", "{}", "NumberDecimal('1.5')"},
      {"{$max: '$a'}", "{a: [1, 'x', null]}", "'x'"},
      {"{$min: '$a'}", "{a: [4, 2, null]}", "2"},
      {"{$min: ['$x', '$y']}", "{}", "null"},
      {"{$max: [1, 5, 3]}", "{}", "5"},
      {"{$stdDevPop: [[1, 3]]}", "{}", "1.0"},
      {"{$stdDevSamp: [1, 3]}", "{}", "1.4142135623730951"},
      {"{$stdDevSamp: [1]}", "{}", "null"},
  });
}

TEST(ExprTest, ObjectOperators) {
  RunCases({
      {"{$mergeObjects: ['$a', {y: 2}, null]}", "{a: {x: 1, y: 1}}", "{x: 1, y: 2}"},
      {"{$mergeObjects: '$a'}", "{a: {x: 1}}", "{x: 1}"},
      {"{$mergeObjects: []}", "{}", "{}"},
      {"{$getField: 'a.b'}", "{'a.b': 5, a: {b: 6}}", "5"},
      {"{$getField: {field: {$literal: '$x'}, input: '$s'}}", "{s: {'$x': 1}}", "1"},
      {"{$getField: {field: 'q', input: '$s'}}", "{s: {}}", "MISSING"},
      {"{$getField: {field: 'q', input: '$s'}}", "{}", "null"},
      {"{$getField: {field: 'q', input: 5}}", "{}", "MISSING"},
      {"{$getField: {field: {$literal: '$p'}, input: '$$ROOT'}}", "{'$p': 3}", "3"},
      {"{$setField: {field: 'a.b', input: '$s', value: 1}}", "{s: {x: 1}}", "{x: 1, 'a.b': 1}"},
      {"{$setField: {field: 'x', input: '$s', value: '$$REMOVE'}}", "{s: {x: 1, y: 2}}", "{y: 2}"},
      {"{$setField: {field: 'x', input: '$s', value: 2}}", "{}", "null"},
      {"{$unsetField: {field: 'x', input: '$s'}}", "{s: {x: 1, y: 2}}", "{y: 2}"},
  });
  auto r = Eval("{$rand: {}}", "{}");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value() && (*r)->is_double());
  EXPECT_GE((*r)->as_double_exact(), 0.0);
  EXPECT_LT((*r)->as_double_exact(), 1.0);
}

TEST(ExprTest, StringOperators) {
  RunCases({
      {"{$regexMatch: {input: '$s', regex: 'b+'}}", "{s: 'abbc'}", "true"},
      {"{$regexMatch: {input: '$s', regex: '^B', options: 'i'}}", "{s: 'bc'}", "true"},
      {"{$regexMatch: {input: '$s', regex: /^B/i}}", "{s: 'bc'}", "true"},
      {"{$regexMatch: {input: '$s', regex: 'x'}}", "{}", "false"},
      {"{$regexMatch: {input: '$s', regex: '$r'}}", "{s: 'abc', r: 'c$'}", "true"},
      {"{$regexMatch: {input: '$s', regex: null}}", "{s: 'abc'}", "false"},
      {"{$regexFind: {input: '$s', regex: '(b+)(x)?'}}", "{s: 'abbc'}",
       "{match: 'bb', idx: 1, captures: ['bb', null]}"},
      {"{$regexFind: {input: '$s', regex: 'é(.)'}}", "{s: 'caféx'}",
       "{match: 'éx', idx: 3, captures: ['x']}"},
      {"{$regexFind: {input: '$s', regex: 'z'}}", "{s: 'abc'}", "null"},
      {"{$regexFind: {input: '$s', regex: 'z'}}", "{}", "null"},
      {"{$regexFindAll: {input: '$s', regex: '[0-9]+'}}", "{s: 'a1b22'}",
       "[{match: '1', idx: 1, captures: []}, {match: '22', idx: 3, captures: []}]"},
      {"{$regexFindAll: {input: '$s', regex: 'x*'}}", "{s: 'ab'}",
       "[{match: '', idx: 0, captures: []}, {match: '', idx: 1, captures: []}, "
       "{match: '', idx: 2, captures: []}]"},
      {"{$regexFindAll: {input: '$s', regex: 'z'}}", "{}", "[]"},
      {"{$split: ['$s', ',']}", "{s: 'a,b,,c'}", "['a', 'b', '', 'c']"},
      {"{$split: ['$s', 'ab']}", "{s: 'ab'}", "['', '']"},
      {"{$split: ['$s', ',']}", "{}", "null"},
      {"{$trim: {input: '$s'}}", "{s: '  \\t hi \\n'}", "'hi'"},
      {"{$ltrim: {input: '$s'}}", "{s: '  hi  '}", "'hi  '"},
      {"{$rtrim: {input: '$s'}}", "{s: '  hi  '}", "'  hi'"},
      {"{$trim: {input: '$s', chars: 'xé'}}", "{s: 'éxhixé'}", "'hi'"},
      {"{$trim: {input: '$s'}}", "{}", "null"},
      {"{$indexOfBytes: ['$s', 'b']}", "{s: 'abcb'}", "1"},
      {"{$indexOfBytes: ['$s', 'b', 2]}", "{s: 'abcb'}", "3"},
      {"{$indexOfBytes: ['$s', 'b', 2, 3]}", "{s: 'abcb'}", "-1"},
      {"{$indexOfBytes: ['$s', '']}", "{s: 'abc'}", "0"},
      {"{$indexOfBytes: ['$s', 'b', 10]}", "{s: 'abc'}", "-1"},
      {"{$indexOfBytes: ['$s', 'é']}", "{s: 'aéb'}", "1"},
      {"{$indexOfCP: ['$s', 'b']}", "{s: 'aéb'}", "2"},
      {"{$indexOfCP: ['$s', 'b', 0, 2]}", "{s: 'aéb'}", "-1"},
      {"{$indexOfCP: ['$s', 'x']}", "{}", "null"},
      {"{$strcasecmp: ['$s', 'ABC']}", "{s: 'abc'}", "0"},
      {"{$strcasecmp: ['a', 'B']}", "{}", "-1"},
      {"{$strcasecmp: ['b', null]}", "{}", "1"},
      {"{$substrBytes: ['$s', 1, 2]}", "{s: 'abcd'}", "'bc'"},
      {"{$substr: ['$s', 1, -1]}", "{s: 'abcd'}", "'bcd'"},
      {"{$substrBytes: ['$s', 9, 2]}", "{s: 'abcd'}", "''"},
      {"{$substrBytes: [12345, 1, 2]}", "{}", "'23'"},
      {"{$strLenBytes: '$s'}", "{s: 'aé'}", "3"},
      {"{$replaceOne: {input: '$s', find: 'a', replacement: 'X'}}", "{s: 'banana'}", "'bXnana'"},
      {"{$replaceAll: {input: '$s', find: 'a', replacement: 'X'}}", "{s: 'banana'}", "'bXnXnX'"},
      {"{$replaceAll: {input: '$s', find: 'zz', replacement: 'X'}}", "{s: 'ab'}", "'ab'"},
      {"{$replaceAll: {input: '$s', find: 'a', replacement: 'X'}}", "{}", "null"},
      {"{$replaceOne: {input: 'ab', find: null, replacement: 'X'}}", "{}", "null"},
  });
}

TEST(ExprTest, DateOperators) {
  const char* d = "{d: ISODate('2021-03-04T05:06:07.089Z')}";
  RunCases({
      {"{$year: '$d'}", d, "2021"},
      {"{$month: '$d'}", d, "3"},
      {"{$dayOfMonth: '$d'}", d, "4"},
      {"{$hour: '$d'}", d, "5"},
      {"{$minute: '$d'}", d, "6"},
      {"{$second: '$d'}", d, "7"},
      {"{$millisecond: '$d'}", d, "89"},
      {"{$dayOfWeek: '$d'}", d, "5"},
      {"{$dayOfYear: '$d'}", d, "63"},
      {"{$week: '$d'}", d, "9"},
      {"{$isoWeek: '$d'}", d, "9"},
      {"{$isoWeekYear: '$d'}", d, "NumberLong(2021)"},
      {"{$isoDayOfWeek: '$d'}", d, "4"},
      {"{$isoWeekYear: ISODate('2021-01-01T00:00:00Z')}", "{}", "NumberLong(2020)"},
      {"{$isoWeek: ISODate('2021-01-01T00:00:00Z')}", "{}", "53"},
      {"{$week: ISODate('2021-01-01T00:00:00Z')}", "{}", "0"},
      {"{$year: ['$d']}", d, "2021"},
      {"{$year: '$x'}", d, "null"},
      {"{$hour: {date: '$d', timezone: 'America/New_York'}}", d, "0"},
      {"{$dayOfMonth: {date: '$d', timezone: 'America/New_York'}}", d, "4"},
      {"{$hour: {date: ISODate('2021-07-04T05:00:00Z'), timezone: 'America/New_York'}}", "{}", "1"},
      {"{$hour: {date: '$d', timezone: '+05:30'}}", d, "10"},
      {"{$minute: {date: '$d', timezone: '+0530'}}", d, "36"},
      {"{$hour: {date: '$d', timezone: '-03'}}", d, "2"},
      {"{$hour: {date: '$d', timezone: 'UTC'}}", d, "5"},
      {"{$hour: {date: '$d', timezone: '$tz'}}", d, "null"},
      {"{$year: Timestamp(1609459200, 1)}", "{}", "2021"},
      {"{$year: ObjectId('5ff00000aaaaaaaaaaaaaaaa')}", "{}", "2021"},
      {"{$year: ISODate('1969-12-31T23:59:59.999Z')}", "{}", "1969"},
      {"{$dateToString: {date: '$d'}}", d, "'2021-03-04T05:06:07.089Z'"},
      {"{$dateToString: {date: '$d', format: '%Y/%m/%d %H:%M:%S.%L %j %w %u %U %V %G %%'}}", d,
       "'2021/03/04 05:06:07.089 063 5 4 09 09 2021 %'"},
      {"{$dateToString: {date: '$d', format: '%H:%M %z %Z', timezone: 'America/New_York'}}", d,
       "'00:06 -0500 -300'"},
      {"{$dateToString: {date: '$d', timezone: '+01:00'}}", d, "'2021-03-04T06:06:07.089'"},
      {"{$dateToString: {date: '$d', format: '%b %B'}}", d, "'Mar March'"},
      {"{$dateToString: {date: '$x', onNull: 'none'}}", d, "'none'"},
      {"{$dateToString: {date: '$x'}}", d, "null"},
      {"{$dateFromString: {dateString: '2017-02-08T12:10:40.787'}}", "{}",
       "ISODate('2017-02-08T12:10:40.787Z')"},
      {"{$dateFromString: {dateString: '2017-02-08'}}", "{}", "ISODate('2017-02-08T00:00:00Z')"},
      {"{$dateFromString: {dateString: '2017-02-08T12:10:40Z'}}", "{}",
       "ISODate('2017-02-08T12:10:40Z')"},
      {"{$dateFromString: {dateString: '2017-02-08T12:10:40+02:00'}}", "{}",
       "ISODate('2017-02-08T10:10:40Z')"},
      {"{$dateFromString: {dateString: '2017-02-08 12:10', timezone: 'America/New_York'}}", "{}",
       "ISODate('2017-02-08T17:10:00Z')"},
      {"{$dateFromString: {dateString: '08/02/2017', format: '%d/%m/%Y'}}", "{}",
       "ISODate('2017-02-08T00:00:00Z')"},
      {"{$dateFromString: {dateString: 'nope', onError: 'bad'}}", "{}", "'bad'"},
      {"{$dateFromString: {dateString: '$x', onNull: 'n'}}", "{}", "'n'"},
      {"{$dateAdd: {startDate: '$d', unit: 'day', amount: 1}}", d,
       "ISODate('2021-03-05T05:06:07.089Z')"},
      {"{$dateAdd: {startDate: ISODate('2021-01-31T00:00:00Z'), unit: 'month', amount: 1}}", "{}",
       "ISODate('2021-02-28T00:00:00Z')"},
      {"{$dateAdd: {startDate: ISODate('2020-02-29T00:00:00Z'), unit: 'year', amount: 1}}", "{}",
       "ISODate('2021-02-28T00:00:00Z')"},
      {"{$dateAdd: {startDate: '$d', unit: 'quarter', amount: -1}}", d,
       "ISODate('2020-12-04T05:06:07.089Z')"},
      {"{$dateAdd: {startDate: '$d', unit: 'hour', amount: NumberLong(25)}}", d,
       "ISODate('2021-03-05T06:06:07.089Z')"},
      {"{$dateSubtract: {startDate: '$d', unit: 'millisecond', amount: 90}}", d,
       "ISODate('2021-03-04T05:06:06.999Z')"},
      {"{$dateAdd: {startDate: ISODate('2021-03-13T12:00:00Z'), unit: 'day', amount: 1, "
       "timezone: 'America/New_York'}}", "{}", "ISODate('2021-03-14T11:00:00Z')"},
      {"{$dateAdd: {startDate: '$x', unit: 'day', amount: 1}}", "{}", "null"},
      {"{$dateDiff: {startDate: ISODate('2020-12-31T23:00:00Z'), endDate: "
       "ISODate('2021-01-01T01:00:00Z'), unit: 'year'}}", "{}", "NumberLong(1)"},
      {"{$dateDiff: {startDate: ISODate('2020-12-31T23:00:00Z'), endDate: "
       "ISODate('2021-01-01T01:00:00Z'), unit: 'day'}}", "{}", "NumberLong(1)"},
      {"{$dateDiff: {startDate: ISODate('2020-12-31T23:00:00Z'), endDate: "
       "ISODate('2021-01-01T01:00:00Z'), unit: 'hour'}}", "{}", "NumberLong(2)"},
      {"{$dateDiff: {startDate: ISODate('2021-01-01T00:00:00Z'), endDate: "
       "ISODate('2020-11-15T00:00:00Z'), unit: 'month'}}", "{}", "NumberLong(-2)"},
      {"{$dateDiff: {startDate: ISODate('2021-01-01T00:00:00Z'), endDate: "
       "ISODate('2021-04-01T00:00:00Z'), unit: 'quarter'}}", "{}", "NumberLong(1)"},
      // 2021-03-06 is a Saturday, 2021-03-07 a Sunday
      {"{$dateDiff: {startDate: ISODate('2021-03-06T00:00:00Z'), endDate: "
       "ISODate('2021-03-07T00:00:00Z'), unit: 'week'}}", "{}", "NumberLong(1)"},
      {"{$dateDiff: {startDate: ISODate('2021-03-06T00:00:00Z'), endDate: "
       "ISODate('2021-03-07T00:00:00Z'), unit: 'week', startOfWeek: 'mon'}}", "{}",
       "NumberLong(0)"},
      {"{$dateDiff: {startDate: ISODate('2021-03-06T00:00:00Z'), endDate: "
       "ISODate('2021-03-06T00:00:01.5Z'), unit: 'millisecond'}}", "{}", "NumberLong(1500)"},
      {"{$dateDiff: {startDate: '$x', endDate: '$d', unit: 'day'}}", d, "null"},
      {"{$dateTrunc: {date: '$d', unit: 'hour'}}", d, "ISODate('2021-03-04T05:00:00Z')"},
      {"{$dateTrunc: {date: '$d', unit: 'hour', binSize: 2}}", d, "ISODate('2021-03-04T04:00:00Z')"},
      {"{$dateTrunc: {date: '$d', unit: 'day'}}", d, "ISODate('2021-03-04T00:00:00Z')"},
      {"{$dateTrunc: {date: '$d', unit: 'week'}}", d, "ISODate('2021-02-28T00:00:00Z')"},
      {"{$dateTrunc: {date: '$d', unit: 'week', startOfWeek: 'Monday'}}", d,
       "ISODate('2021-03-01T00:00:00Z')"},
      {"{$dateTrunc: {date: '$d', unit: 'month'}}", d, "ISODate('2021-03-01T00:00:00Z')"},
      {"{$dateTrunc: {date: '$d', unit: 'quarter'}}", d, "ISODate('2021-01-01T00:00:00Z')"},
      {"{$dateTrunc: {date: '$d', unit: 'year'}}", d, "ISODate('2021-01-01T00:00:00Z')"},
      {"{$dateTrunc: {date: '$d', unit: 'month', binSize: 5}}", d,
       "ISODate('2020-11-01T00:00:00Z')"},
      {"{$dateTrunc: {date: '$d', unit: 'day', timezone: 'America/New_York'}}", d,
       "ISODate('2021-03-04T05:00:00Z')"},
      {"{$dateTrunc: {date: '$x', unit: 'day'}}", d, "null"},
      {"{$dateToParts: {date: '$d'}}", d,
       "{year: 2021, month: 3, day: 4, hour: 5, minute: 6, second: 7, millisecond: 89}"},
      {"{$dateFromParts: {year: 2021, month: 14, day: 1}}", "{}", "ISODate('2022-02-01T00:00:00Z')"},
      {"{$dateFromParts: {isoWeekYear: 2021, isoWeek: 9, isoDayOfWeek: 4, hour: 5}}", "{}",
       "ISODate('2021-03-04T05:00:00Z')"},
  });
}

TEST(ExprTest, NewOperatorErrors) {
  std::vector<ErrorCase> cases = {
      {"{$filter: {input: '$a'}}", "{}", 28650, "Missing 'cond' parameter to $filter"},
      {"{$filter: {input: 5, cond: true}}", "{}", 28651, "input to $filter must be an array"},
      {"{$filter: {input: [], cond: true, as: 'X'}}", "{}", 16867, "starts with an invalid"},
      {"{$map: {input: 5, in: 1}}", "{}", 16883, "input to $map must be an array not int"},
      {"{$map: {input: [], in: '$$nope'}}", "{}", 17276, "Use of undefined variable: nope"},
      {"{$reduce: {input: 5, initialValue: 0, in: 1}}", "{}", 40080, "$reduce requires an array"},
      {"{$slice: [5, 1]}", "{}", 28724, "First argument to $slice must be an array"},
      {"{$slice: [[1], 'a']}", "{}", 28725, "Second argument to $slice"},
      {"{$slice: [[1], 0, 0]}", "{}", 28729, "must be positive"},
      {"{$reverseArray: 5}", "{}", 34435, "must be an array"},
      {"{$range: ['a', 5]}", "{}", 34443, "$range requires a numeric starting value"},
      {"{$range: [0, 5, 0]}", "{}", 34449, "non-zero step value"},
      {"{$range: [0, 1.5]}", "{}", 34446, "32-bit integer"},
      {"{$range: [0, 2147483647]}", "{}", 146, "$range would use too much memory"},
      {"{$indexOfArray: [5, 1]}", "{}", 40090, "$indexOfArray requires an array"},
      {"{$indexOfArray: [[1], 1, -1]}", "{}", 40097, "nonnegative"},
      {"{$first: 5}", "{}", 28689, "$first's argument must be an array"},
      {"{$zip: {inputs: [[1], 5]}}", "{}", 34468, "non-array expression"},
      {"{$zip: {inputs: [[1]], defaults: [1]}}", "{}", 34466, "useLongestLength"},
      {"{$arrayToObject: [[['a', 1, 2]]]}", "{}", 40397, "size 2 arrays"},
      {"{$arrayToObject: [[[1, 2]]]}", "{}", 40395, "key must be of type string"},
      {"{$arrayToObject: [[{k: 'a'}]]}", "{}", 40392, "incorrect number of keys"},
      {"{$arrayToObject: [[5]]}", "{}", 40398, "Unrecognised input type"},
      {"{$arrayToObject: 5}", "{}", 40386, "requires an array input"},
      {"{$objectToArray: 5}", "{}", 40390, "requires a document input"},
      {"{$setUnion: [[1], 5]}", "{}", 17043, "must be arrays"},
      {"{$setEquals: [[1], null]}", "{}", 17044, "must be arrays"},
      {"{$setIsSubset: [5, [1]]}", "{}", 17046, "First argument"},
      {"{$setDifference: [[1], 5]}", "{}", 17049, "Second argument"},
      {"{$anyElementTrue: 5}", "{}", 17041, "must be an array"},
      {"{$sortArray: {input: [1], sortBy: 2}}", "{}", 2942505, "sortBy"},
      {"{$sortArray: {input: 5, sortBy: 1}}", "{}", 2942504, "must be an array"},
      {"{$mergeObjects: [5]}", "{}", 40400, "requires object inputs"},
      {"{$getField: {field: '$x', input: {}}}", "{}", 5654601, "constant"},
      {"{$setField: {field: 'x', input: 5, value: 1}}", "{}", 4161105, "Object"},
      {"{$rand: 1}", "{}", 3040501, "does not currently accept arguments"},
      {"{$regexMatch: {input: 5, regex: 'a'}}", "{}", 51104, "needs 'input' to be of type string"},
      {"{$regexMatch: {input: 'a', regex: 5}}", "{}", 51105, "'regex' to be of type string"},
      {"{$regexMatch: {input: 'a', regex: /a/i, options: 'm'}}", "{}", 51107, "both"},
      {"{$regexMatch: {input: 'a', regex: 'a', options: 'z'}}", "{}", 51108, "invalid flag"},
      {"{$regexMatch: {input: 'a', regex: '('}}", "{}", 51091, "invalid"},
      {"{$regexMatch: {regex: 'a'}}", "{}", 31022, "requires 'input'"},
      {"{$regexFind: {input: 'a', regex: 'a', x: 1}}", "{}", 31024, "unknown argument: x"},
      {"{$split: [5, ',']}", "{}", 40085, "first argument"},
      {"{$split: ['a', '']}", "{}", 40087, "non-empty separator"},
      {"{$trim: {input: 5}}", "{}", 50699, "requires its input to be a string"},
      {"{$trim: {chars: 'a'}}", "{}", 50695, "requires an 'input' field"},
      {"{$trim: {input: 'a', x: 1}}", "{}", 50694, "unknown argument"},
      {"{$indexOfBytes: [5, 'a']}", "{}", 40091, "first argument"},
      {"{$indexOfCP: ['a', 5]}", "{}", 40094, "second argument"},
      {"{$indexOfCP: ['a', 'a', 1.5]}", "{}", 40096, "integral"},
      {"{$substrBytes: ['aé', 2, 1]}", "{}", 28656, "continuation byte"},
      {"{$substrBytes: ['aé', 0, 2]}", "{}", 28657, "UTF-8"},
      {"{$strLenBytes: 5}", "{}", 34473, "requires a string argument"},
      {"{$replaceOne: {input: 5, find: 'a', replacement: 'b'}}", "{}", 51746, "'input' be a string"},
      {"{$replaceAll: {input: 'a', find: 'a'}}", "{}", 51747, "'replacement'"},
      {"{$year: 'x'}", "{}", 16006, "can't convert from BSON type string to Date"},
      {"{$year: {date: '$d', foo: 1}}", "{}", 40535, "unrecognized option to $year"},
      {"{$year: {timezone: 'UTC'}}", "{}", 40539, "missing 'date' argument"},
      {"{$hour: {date: ISODate('2021-01-01T00:00:00Z'), timezone: 'Mars/Base'}}", "{}", 40485,
       "unrecognized time zone identifier: \"Mars/Base\""},
      {"{$hour: {date: ISODate('2021-01-01T00:00:00Z'), timezone: '../../etc/passwd'}}", "{}",
       40485, "unrecognized time zone identifier"},
      {"{$dateToString: {date: '$$NOW', format: '%Q'}}", "{}", 18536, "Invalid format character"},
      {"{$dateToString: {date: '$$NOW', format: 'abc%'}}", "{}", 18535, "Unmatched '%'"},
      {"{$dateToString: {format: '%Y'}}", "{}", 18628, "Missing 'date'"},
      {"{$dateToString: {date: 5}}", "{}", 16006, "can't convert"},
      {"{$dateFromString: {dateString: 'nope'}}", "{}", 241, "Error parsing date string 'nope'"},
      {"{$dateFromString: {dateString: '2017-02-30'}}", "{}", 241, "out of range"},
      {"{$dateFromString: {dateString: 5}}", "{}", 241, "'dateString' be a string"},
      {"{$dateFromString: {dateString: '2017-02-08Z', timezone: 'UTC'}}", "{}", 40554, "GMT offset"},
      {"{$dateAdd: {startDate: '$$NOW', unit: 'day'}}", "{}", 5166402, "requires startDate, unit"},
      {"{$dateAdd: {startDate: '$$NOW', unit: 'eon', amount: 1}}", "{}", 9, "unknown time unit"},
      {"{$dateAdd: {startDate: '$$NOW', unit: 'day', amount: 1.5}}", "{}", 5166405, "integer"},
      {"{$dateAdd: {startDate: 5, unit: 'day', amount: 1}}", "{}", 5166403, "convertible"},
      {"{$dateDiff: {startDate: '$$NOW', unit: 'day'}}", "{}", 5166304, "endDate"},
      {"{$dateDiff: {startDate: '$$NOW', endDate: '$$NOW', unit: 'week', startOfWeek: 'x'}}",
       "{}", 5439016, "startOfWeek"},
      {"{$dateTrunc: {date: '$$NOW', unit: 'day', binSize: 0}}", "{}", 5439018, "greater than 0"},
      {"{$dateTrunc: {unit: 'day'}}", "{}", 5439009, "Missing 'date'"},
  };
  for (const ErrorCase& c : cases) {
    Result<MaybeValue> r = Eval(c.expr, c.doc);
    ASSERT_FALSE(r.ok()) << c.expr << " unexpectedly gave " << DescribeForError(*r);
    EXPECT_EQ(r.status().code_number(), c.code) << c.expr << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.message), std::string_view::npos)
        << c.expr << ": got '" << r.status().message() << "', want '" << c.message << "'";
  }
}


// The operators added with the pipeline, with odd operands: errors are fine, crashes are not.
TEST(ExprTest, NewOperatorsNoCrashOnOddInput) {
  const char* ops[] = {"$filter", "$map", "$reduce", "$slice", "$reverseArray", "$range",
                       "$indexOfArray", "$first", "$last", "$zip", "$arrayToObject",
                       "$objectToArray", "$setUnion", "$setIntersection", "$setDifference",
                       "$setEquals", "$setIsSubset", "$anyElementTrue", "$allElementTrue",
                       "$sortArray", "$sum", "$avg", "$max", "$min", "$stdDevPop", "$mergeObjects",
                       "$getField", "$setField", "$unsetField", "$regexMatch", "$regexFind",
                       "$regexFindAll", "$split", "$trim", "$ltrim", "$indexOfCP", "$indexOfBytes",
                       "$strcasecmp", "$substrBytes", "$strLenBytes", "$replaceOne", "$replaceAll",
                       "$year", "$week", "$isoWeek", "$dateToString", "$dateFromString",
                       "$dateAdd", "$dateDiff", "$dateTrunc", "$dateToParts", "$dateFromParts"};
  const char* args[] = {"1", "[]", "[1]", "[1, 2]", "['a', 'b', 'c']", "null", "'$a'",
                        "['$a', '$b']", "[[1, 2], [2]]", "[[], -1]", "[[1], 2147483647, 1]",
                        "['aé', 1, 1]", "[new Date(-62198755200001), 1]", "{}",
                        "{input: '$a', cond: '$$this', in: '$$this', as: 'x'}",
                        "{input: '$a', regex: '$b', options: 'i'}", "{input: [[1]], sortBy: {a: 1}}",
                        "{inputs: ['$a', '$b'], useLongestLength: true}",
                        "{field: 'a', input: '$b', value: '$$REMOVE'}", "{input: '$a', chars: ''}",
                        "{input: 'x', find: '', replacement: ''}",
                        "{date: '$a', format: '%Y%G%V%j', timezone: '$b'}",
                        "{dateString: '$a', format: '%Y-%m', timezone: 'Europe/Paris'}",
                        "{startDate: '$a', endDate: '$b', unit: 'week', amount: '$b', binSize: 3}",
                        "{date: new Date(253402300800000), unit: 'year', timezone: 'Asia/Kolkata'}",
                        "{year: 10000, month: -5, day: 400, isoWeek: 1}"};
  std::vector<std::string> docs = {"{}", "{a: [1, 'x', null], b: [2]}", "{a: 'abc', b: 'b*'}",
                                   "{a: new Date(0), b: 'UTC'}", "{a: {x: 1}, b: NaN}",
                                   "{a: '2021-02-03', b: new Date(9e15)}"};
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
  EXPECT_GT(evaluated, 500);
}

}  // namespace
}  // namespace eddy::query
