#include "bson/compare.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <unordered_set>

#include "bson/json.h"

namespace eddy::bson {
namespace {

Decimal128 Dec(std::string_view s) {
  bool ok = false;
  Decimal128 d = Decimal128::FromString(s, &ok);
  EXPECT_TRUE(ok) << s;
  return d;
}

Value J(std::string_view text) {
  auto r = ParseJsonValue(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : Value();
}

int Sign(int c) { return c < 0 ? -1 : (c > 0 ? 1 : 0); }

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

struct NumCase {
  Value a;
  Value b;
  int expected;
};

TEST(CompareTest, MixedNumbers) {
  const int64_t kBig = (int64_t{1} << 53) + 1;  // not representable as a double
  const std::vector<NumCase> cases = {
      {int32_t{1}, 1.0, 0},
      {int32_t{1}, int64_t{1}, 0},
      {int64_t{1}, 1.0, 0},
      {int32_t{1}, Dec("1.0"), 0},
      {1.0, Dec("1"), 0},
      {int64_t{1}, Dec("1.000"), 0},
      {int32_t{1}, 1.5, -1},
      {2.5, int32_t{2}, 1},
      {int32_t{-1}, int64_t{0}, -1},
      {-0.0, 0.0, 0},
      {-0.0, int32_t{0}, 0},
      {Dec("-0"), int32_t{0}, 0},
      {Dec("0E+10"), 0.0, 0},
      {kNaN, kNaN, 0},
      {kNaN, -kInf, -1},
      {kNaN, int32_t{std::numeric_limits<int32_t>::min()}, -1},
      {kNaN, int64_t{std::numeric_limits<int64_t>::min()}, -1},
      {Dec("NaN"), kNaN, 0},
      {Dec("NaN"), Dec("-Infinity"), -1},
      {Dec("NaN"), int32_t{0}, -1},
      {-kInf, int64_t{std::numeric_limits<int64_t>::min()}, -1},
      {kInf, int64_t{std::numeric_limits<int64_t>::max()}, 1},
      {Dec("Infinity"), kInf, 0},
      {Dec("-Infinity"), -kInf, 0},
      {Dec("Infinity"), 1e308, 1},
      // int64 vs double beyond 2^53 must be exact.
      {int64_t{kBig}, static_cast<double>(kBig), 1},  // the double rounds down to 2^53
      {int64_t{kBig - 1}, static_cast<double>(kBig - 1), 0},
      {int64_t{std::numeric_limits<int64_t>::max()}, 9223372036854775808.0, -1},
      {int64_t{std::numeric_limits<int64_t>::min()}, -9223372036854775808.0, 0},
      {int64_t{std::numeric_limits<int64_t>::min()}, -9223372036854777856.0, 1},
      {int64_t{(int64_t{1} << 60) + 1}, std::ldexp(1.0, 60), 1},
      {int64_t{-(int64_t{1} << 60) - 1}, -std::ldexp(1.0, 60), -1},
      {int64_t{kBig}, Dec("9007199254740993"), 0},
      {int64_t{kBig}, Dec("9007199254740992.5"), 1},
      {int64_t{std::numeric_limits<int64_t>::max()}, Dec("9223372036854775807"), 0},
      {int64_t{std::numeric_limits<int64_t>::max()}, Dec("9223372036854775808"), -1},
      // Doubles vs decimals: the double is taken to 34 significant digits.
      {0.1, Dec("0.1"), 1},
      {0.1, Dec("0.1000000000000000055511151231257827"), 0},
      {0.5, Dec("0.5"), 0},
      {Dec("1E+400"), 1e308, 1},
      {Dec("-1E+400"), -1e308, -1},
      {Dec("1E-400"), 0.0, 1},
      {Dec("1E-400"), 5e-324, -1},
      {Dec("123.45"), Dec("1.2345E+2"), 0},
      {Dec("100"), Dec("1E+2"), 0},
      {Dec("99.99"), Dec("1E+2"), -1},
      {Dec("-99.99"), Dec("-1E+2"), 1},
      {Dec("1.00000000000000000000000000000001"), int32_t{1}, 1},
      {Dec("0.999999999999999999999999999999999"), int32_t{1}, -1},
      {1e300, int64_t{std::numeric_limits<int64_t>::max()}, 1},
      {-1e300, int32_t{0}, -1},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const NumCase& c = cases[i];
    SCOPED_TRACE("case " + std::to_string(i) + ": " + ToJson(c.a, JsonMode::kShell) + " vs " +
                 ToJson(c.b, JsonMode::kShell));
    EXPECT_EQ(Sign(Compare(c.a, c.b)), c.expected);
    EXPECT_EQ(Sign(Compare(c.b, c.a)), -c.expected);
    if (c.expected == 0) {
      EXPECT_EQ(Hash(c.a), Hash(c.b));
    }
  }
}

// One value per type, in MongoDB's BSON comparison order (equal-rank types adjacent).
std::vector<std::vector<Value>> TypeOrderTable() {
  ObjectId oid;
  ObjectId::FromHex("507f1f77bcf86cd799439011", &oid);
  return {
      {MinKey{}},
      {Null{}, Undefined{}},
      {int32_t{5}, int64_t{5}, 5.0, Dec("5")},
      {Value("abc"), Symbol{"abc"}},
      {Document{{"a", int32_t{1}}}},
      {Array{int32_t{1}}},
      {Binary{0, "xy"}},
      {oid},
      {false},
      {DateTime{0}},
      {Timestamp{1, 1}},
      {Regex{"a", "i"}},
      {DBPointer{"db.c", oid}},
      {Code{"f()"}},
      {std::make_shared<const CodeWithScope>(CodeWithScope{"f()", Document{}})},
      {MaxKey{}},
  };
}

TEST(CompareTest, TypeOrder) {
  auto table = TypeOrderTable();
  for (size_t i = 0; i < table.size(); ++i) {
    for (size_t j = 0; j < table.size(); ++j) {
      for (const Value& a : table[i]) {
        for (const Value& b : table[j]) {
          SCOPED_TRACE(ToJson(a, JsonMode::kShell) + " vs " + ToJson(b, JsonMode::kShell));
          int expected = i < j ? -1 : (i > j ? 1 : 0);
          EXPECT_EQ(Sign(Compare(a, b)), expected);
          EXPECT_EQ(Sign(CanonicalTypeRank(a.type()) - CanonicalTypeRank(b.type())), expected);
          if (expected == 0) {
            EXPECT_EQ(Hash(a), Hash(b));
          }
        }
      }
    }
  }
}

TEST(CompareTest, TypeOrderBeatsValue) {
  // A huge number is still below the empty string, a late date below a regex, etc.
  EXPECT_LT(Compare(Value(1e308), Value("")), 0);
  EXPECT_LT(Compare(Value(true), Value(DateTime{std::numeric_limits<int64_t>::min()})), 0);
  EXPECT_LT(Compare(Value(Document{}), Value(Array{})), 0);
  EXPECT_LT(Compare(Value(Array{}), Value(Binary{})), 0);
  EXPECT_LT(Compare(Value(Timestamp{0xFFFFFFFF, 0xFFFFFFFF}), Value(Regex{})), 0);
}

struct SameTypeCase {
  const char* a;
  const char* b;
  int expected;
};

TEST(CompareTest, SameTypeValues) {
  const std::vector<SameTypeCase> cases = {
      // strings: bytewise, shorter prefix first
      {"'a'", "'b'", -1},
      {"'ab'", "'a'", 1},
      {"''", "'a'", -1},
      {"'B'", "'a'", -1},
      {"'é'", "'z'", 1},
      // documents: type rank, then name, then value; shorter first
      {"{}", "{a: 1}", -1},
      {"{a: 1}", "{a: 1}", 0},
      {"{a: 1}", "{a: 1.0}", 0},
      {"{a: 1}", "{b: 1}", -1},
      {"{b: 1}", "{a: 'x'}", -1},  // type rank decides before the name
      {"{a: null}", "{a: 0}", -1},
      {"{a: 1, b: 2}", "{a: 1}", 1},
      {"{a: {b: 1}}", "{a: {b: 2}}", -1},
      {"{a: {b: 1}}", "{a: {c: 0}}", -1},
      {"{a: [1]}", "{a: {}}", 1},
      // arrays: element-wise, then length
      {"[]", "[1]", -1},
      {"[1, 2]", "[1, 3]", -1},
      {"[1, 2]", "[1]", 1},
      {"[2]", "[1, 5]", 1},
      {"[1, 'a']", "[1, 2]", 1},
      {"[[1, 2]]", "[[1, 2.0]]", 0},
      {"[null]", "[MinKey]", 1},
      // binData: length, subtype, bytes
      {"BinData(0, 'AAAA')", "BinData(0, 'AAA=')", 1},
      {"BinData(5, 'AA==')", "BinData(0, 'AAA=')", -1},
      {"BinData(1, 'AA==')", "BinData(0, 'AA==')", 1},
      {"BinData(0, 'AQ==')", "BinData(0, 'Ag==')", -1},
      // objectId: bytes
      {"ObjectId('000000000000000000000001')", "ObjectId('000000000000000000000002')", -1},
      {"ObjectId('ff0000000000000000000000')", "ObjectId('0fffffffffffffffffffffff')", 1},
      // bool, date (signed), timestamp (unsigned)
      {"false", "true", -1},
      {"new Date(-1)", "new Date(0)", -1},
      {"ISODate('2024-01-01')", "ISODate('2023-12-31T23:59:59.999Z')", 1},
      {"Timestamp(1, 2)", "Timestamp(2, 1)", -1},
      {"Timestamp(4294967295, 0)", "Timestamp(1, 0)", 1},
      {"Timestamp(1, 1)", "Timestamp(1, 2)", -1},
      // regex: pattern, then options
      {"/a/", "/b/", -1},
      {"/a/i", "/a/m", -1},
      {"/a/", "/a/i", -1},
      {"/ab/", "/a/x", 1},
      // minKey/maxKey/null/undefined
      {"MinKey", "MinKey", 0},
      {"MaxKey", "MaxKey", 0},
      {"null", "undefined", 0},
      // code
      {"Code('a')", "Code('b')", -1},
      {"Code('a', {x: 1})", "Code('a', {x: 2})", -1},
      {"Code('b', {})", "Code('a', {x: 2})", 1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.a) + " vs " + c.b);
    Value a = J(c.a), b = J(c.b);
    EXPECT_EQ(Sign(Compare(a, b)), c.expected);
    EXPECT_EQ(Sign(Compare(b, a)), -c.expected);
    if (c.expected == 0) {
      EXPECT_EQ(Hash(a), Hash(b));
    }
  }
}

TEST(CompareTest, DBPointerOrdersByNamespaceLengthFirst) {
  ObjectId lo, hi;
  ObjectId::FromHex("000000000000000000000000", &lo);
  ObjectId::FromHex("ffffffffffffffffffffffff", &hi);
  EXPECT_LT(Compare(Value(DBPointer{"zz", hi}), Value(DBPointer{"aaa", lo})), 0);
  EXPECT_LT(Compare(Value(DBPointer{"ab", hi}), Value(DBPointer{"ac", lo})), 0);
  EXPECT_LT(Compare(Value(DBPointer{"ab", lo}), Value(DBPointer{"ab", hi})), 0);
}

TEST(CompareTest, DocumentOverload) {
  Document a{{"x", int32_t{1}}, {"y", Value("s")}};
  Document b{{"x", int64_t{1}}, {"y", Value(Symbol{"s"})}};
  EXPECT_EQ(Compare(a, b), 0);
  EXPECT_EQ(Hash(Value(a)), Hash(Value(b)));
  EXPECT_TRUE(Equal(Value(a), Value(b)));
  EXPECT_FALSE(Value(a) == Value(b));  // exact equality still tells them apart
}

TEST(CompareTest, HashConsistency) {
  std::vector<Value> ones = {int32_t{1}, int64_t{1}, 1.0, Dec("1"), Dec("1.0"), Dec("1.00000"),
                             Dec("0.1E+1")};
  for (const Value& v : ones) EXPECT_EQ(Hash(v), Hash(ones[0])) << ToJson(v, JsonMode::kShell);
  EXPECT_EQ(Hash(Value(kNaN)), Hash(Value(Dec("NaN"))));
  EXPECT_EQ(Hash(Value(-0.0)), Hash(Value(int32_t{0})));
  EXPECT_EQ(Hash(Value(Dec("-0.00"))), Hash(Value(int32_t{0})));
  EXPECT_EQ(Hash(Value(Dec("1E+400"))), Hash(Value(Dec("10E+399"))));
  EXPECT_EQ(Hash(Value(int64_t{1} << 62)), Hash(Value(std::ldexp(1.0, 62))));
  EXPECT_EQ(Hash(J("{a: [1, {b: 2}]}")), Hash(J("{a: [1.0, {b: NumberLong(2)}]}")));
  EXPECT_NE(Hash(J("{a: 1}")), Hash(J("{b: 1}")));
  EXPECT_NE(Hash(Value(int32_t{1})), Hash(Value(int32_t{2})));
  EXPECT_NE(Hash(Value("1")), Hash(Value(int32_t{1})));

  std::unordered_set<Value, ValueHash, ValueEq> set;
  for (const Value& v : ones) set.insert(v);
  set.insert(Value(2.0));
  set.insert(Value(int64_t{2}));
  set.insert(Value("2"));
  EXPECT_EQ(set.size(), 3u);
}

TEST(CompareTest, SortWithValueLess) {
  std::vector<Value> v = {Value("b"), Value(int32_t{3}), Value(MaxKey{}), Value(), Value(1.5),
                          Value(MinKey{}), Value(Document{}), Value("a"), Value(false)};
  std::sort(v.begin(), v.end(), ValueLess());
  std::vector<std::string> got;
  for (const auto& x : v) got.push_back(ToJson(x, JsonMode::kShell));
  EXPECT_EQ(got, (std::vector<std::string>{"MinKey", "null", "1.5", "3", "\"a\"", "\"b\"", "{}",
                                           "false", "MaxKey"}));
}

TEST(CompareTest, TypeNames) {
  EXPECT_EQ(TypeName(Type::kDouble), "double");
  EXPECT_EQ(TypeName(Type::kDocument), "object");
  EXPECT_EQ(TypeName(Type::kBinary), "binData");
  EXPECT_EQ(TypeName(Type::kJavaScriptWithScope), "javascriptWithScope");
  EXPECT_EQ(TypeName(Type::kInt32), "int");
  EXPECT_EQ(TypeName(Type::kInt64), "long");
  EXPECT_EQ(TypeName(Type::kDecimal128), "decimal");
  EXPECT_EQ(TypeName(Type::kMinKey), "minKey");
  EXPECT_EQ(TypeName(Type::kMaxKey), "maxKey");
  EXPECT_EQ(TypeName(Type::kEOO), "unknown");
  EXPECT_EQ(TypeName(static_cast<Type>(0x42)), "unknown");
}

}  // namespace
}  // namespace eddy::bson
