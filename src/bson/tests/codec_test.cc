#include "bson/codec.h"

#include <bson/bson.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <cmath>
#include <limits>
#include <random>

#include "bson/compare.h"
#include "bson/json.h"

namespace eddy::bson {
namespace {

std::string Hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string ToHexString(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : bytes) {
    out += kHex[static_cast<uint8_t>(c) >> 4];
    out += kHex[static_cast<uint8_t>(c) & 15];
  }
  return out;
}

Document EveryType() {
  ObjectId oid;
  ObjectId::FromHex("507f1f77bcf86cd799439011", &oid);
  Document scope{{"x", int32_t{1}}};
  return Document{
      {"double", 1.5},
      {"nan", std::numeric_limits<double>::quiet_NaN()},
      {"negzero", -0.0},
      {"string", Value("héllo\0world")},
      {"embedded_nul", Value(std::string("a\0b", 3))},
      {"empty", Value("")},
      {"doc", Document{{"a", int32_t{1}}, {"b", Document{}}}},
      {"array", Array{int32_t{1}, Value("two"), Array{}, Document{{"x", Value()}}}},
      {"bin", Binary{0, std::string("\x00\x01\xff", 3)}},
      {"bin_old", Binary{2, "abc"}},
      {"uuid", Binary{4, std::string(16, 'u')}},
      {"undefined", Undefined{}},
      {"oid", oid},
      {"t", true},
      {"f", false},
      {"date", DateTime{1704067200123}},
      {"predate", DateTime{-1}},
      {"null", Value()},
      {"regex", Regex{"^a.*b$", "imx"}},
      {"dbpointer", DBPointer{"db.coll", oid}},
      {"code", Code{"function() { return 1; }"}},
      {"symbol", Symbol{"sym"}},
      {"cws", std::make_shared<const CodeWithScope>(CodeWithScope{"f(x)", scope})},
      {"int32", int32_t{-42}},
      {"ts", Timestamp{1700000000, 7}},
      {"int64", int64_t{1} << 40},
      {"dec", Decimal128::FromString("-1.25E+3")},
      {"min", MinKey{}},
      {"max", MaxKey{}},
  };
}

TEST(CodecTest, RoundTripEveryType) {
  Document doc = EveryType();
  std::string bytes = Encode(doc);
  EXPECT_EQ(bytes.size(), EncodedSize(doc));
  EXPECT_EQ(PeekLength(bytes), static_cast<int32_t>(bytes.size()));
  auto back = Decode(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(Compare(*back, doc), 0);
  EXPECT_EQ(Encode(*back), bytes);
  // Exact equality except for NaN (NaN != NaN under ==).
  ASSERT_EQ(back->size(), doc.size());
  for (size_t i = 0; i < doc.size(); ++i) {
    if (doc.at(i).name == "nan") {
      EXPECT_TRUE(std::isnan(back->at(i).value.as_double_exact()));
      continue;
    }
    EXPECT_EQ(back->at(i), doc.at(i)) << doc.at(i).name;
  }
}

TEST(CodecTest, AgreesWithLibbson) {
  // libbson must accept our encoding and see the same fields.
  std::string bytes = Encode(EveryType());
  bson_t b;
  ASSERT_TRUE(bson_init_static(&b, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  size_t err_offset = 0;
  EXPECT_TRUE(bson_validate(&b, BSON_VALIDATE_NONE, &err_offset)) << err_offset;
  EXPECT_EQ(bson_count_keys(&b), EveryType().size());
  bson_iter_t it;
  ASSERT_TRUE(bson_iter_init_find(&it, &b, "regex"));
  const char* opts = nullptr;
  EXPECT_STREQ(bson_iter_regex(&it, &opts), "^a.*b$");
  EXPECT_STREQ(opts, "imx");
  ASSERT_TRUE(bson_iter_init_find(&it, &b, "bin_old"));
  uint32_t len = 0;
  const uint8_t* data = nullptr;
  bson_subtype_t st;
  bson_iter_binary(&it, &st, &len, &data);
  EXPECT_EQ(st, BSON_SUBTYPE_BINARY_DEPRECATED);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(data), len), "abc");

  // And we decode what libbson builds.
  bson_t* lb = BCON_NEW("a", BCON_INT32(1), "b", "[", BCON_UTF8("x"), BCON_DOUBLE(2.5), "]", "c",
                        "{", "d", BCON_BOOL(true), "}", "e", BCON_REGEX("p", "xi"));
  auto doc = Decode(std::string_view(reinterpret_cast<const char*>(bson_get_data(lb)), lb->len));
  bson_destroy(lb);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(ToJson(*doc, JsonMode::kShell), "{a: 1, b: [\"x\", 2.5], c: {d: true}, e: /p/ix}");
}

struct GoldenCase {
  const char* name;
  Document doc;
  const char* hex;
};

TEST(CodecTest, GoldenBytes) {
  // Canonical encodings from the BSON corpus (bson-corpus/*.json).
  ObjectId oid;
  ObjectId::FromHex("56e1fc72e0c917e9c4714161", &oid);
  const std::vector<GoldenCase> cases = {
      {"empty", Document{}, "0500000000"},
      {"int32", Document{{"i", int32_t{-2147483648}}}, "0C0000001069000000008000"},
      {"int64", Document{{"a", int64_t{1}}}, "10000000126100010000000000000000"},
      {"double", Document{{"d", 1.0}}, "10000000016400000000000000F03F00"},
      {"string", Document{{"a", Value("b")}}, "0E00000002610002000000620000"},
      {"true", Document{{"b", true}}, "090000000862000100"},
      {"null", Document{{"a", Value()}}, "080000000A610000"},
      {"oid", Document{{"a", oid}}, "1400000007610056E1FC72E0C917E9C471416100"},
      {"date", Document{{"a", DateTime{1356351330501}}}, "10000000096100C5D8D6CC3B01000000"},
      {"ts", Document{{"a", Timestamp{123456789, 42}}}, "100000001161002A00000015CD5B0700"},
      {"regex", Document{{"a", Regex{"abc", "im"}}}, "0F0000000B610061626300696D0000"},
      {"array", Document{{"a", Array{int32_t{10}, int32_t{20}}}},
       "1B0000000461001300000010300" "00A000000103100140000000000"},
      {"minmax", Document{{"a", MinKey{}}, {"b", MaxKey{}}}, "0B000000FF61007F620000"},
      {"bin", Document{{"x", Binary{0x80, Hex("FFFF")}}}, "0F0000000578000200000080FFFF00"},
      {"bin2", Document{{"x", Binary{2, Hex("FFFF")}}}, "13000000057800060000000202000000FFFF00"},
      {"dec", Document{{"d", Decimal128::FromString("1")}},
       "180000001364000100000000000000000000000000403000"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::string bytes = Encode(c.doc);
    EXPECT_EQ(ToHexString(bytes), c.hex);
    auto back = Decode(Hex(c.hex));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, c.doc);
  }
}

TEST(CodecTest, ArrayKeysAreIgnoredOnDecodeAndRegeneratedOnEncode) {
  // {"a": ["x"]} with the element keyed "" instead of "0" (bson corpus degenerate case).
  auto doc = Decode(Hex("130000000461000B00000010000A0000000000"));
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(ToJson(*doc, JsonMode::kShell), "{a: [10]}");
  EXPECT_EQ(ToHexString(Encode(*doc)), "140000000461000C0000001030000A0000000000");
  // Many elements: keys "0".."11".
  Array a;
  for (int i = 0; i < 12; ++i) a.push_back(Value(int32_t{i}));
  Document d{{"a", a}};
  std::string bytes = Encode(d);
  EXPECT_EQ(bytes.size(), EncodedSize(d));
  EXPECT_NE(bytes.find(std::string("11\0", 3)), std::string::npos);
  auto back = Decode(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, d);
}

TEST(CodecTest, RegexOptionsAreStoredSorted) {
  auto doc = Decode(Hex("0F0000000B6100616263006D690000"));  // options "mi"
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->Get("a")->as_regex().options, "im");
  // The encoder sorts too.
  EXPECT_EQ(ToHexString(Encode(Document{{"a", Regex{"abc", "mi"}}})),
            "0F0000000B610061626300696D0000");
}

TEST(CodecTest, NulInNamesIsTruncatedConsistently) {
  Document d{{std::string("a\0b", 3), int32_t{1}}};
  std::string bytes = Encode(d);
  EXPECT_EQ(bytes.size(), EncodedSize(d));
  auto back = Decode(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->at(0).name, "a");
}

TEST(CodecTest, EncodeToAppends) {
  std::string out = "prefix";
  EncodeTo(Document{{"a", int32_t{1}}}, &out);
  EXPECT_EQ(out.substr(0, 6), "prefix");
  EXPECT_EQ(out.size(), 6 + 12u);
}

struct BadCase {
  const char* name;
  std::string bytes;
  ErrorCode code;
  const char* message_part;
};

TEST(CodecTest, ValidationErrors) {
  const std::vector<BadCase> cases = {
      {"too short", Hex("0500"), ErrorCode::kInvalidBSON, "too short"},
      {"length mismatch", Hex("0600000000"), ErrorCode::kInvalidBSON, "does not match"},
      {"length mismatch (bigger buffer)", Hex("050000000000"), ErrorCode::kInvalidBSON,
       "does not match"},
      {"negative length", Hex("FFFFFFFF00"), ErrorCode::kInvalidBSON, "does not match"},
      {"no terminator", Hex("0500000001"), ErrorCode::kInvalidBSON, "not terminated"},
      {"unknown type", Hex("0800000020610000"), ErrorCode::kInvalidBSON,
       "unknown BSON element type 0x20"},
      {"unknown type 0x14", Hex("0800000014610000"), ErrorCode::kInvalidBSON,
       "unknown BSON element type 0x14"},
      {"early EOO", Hex("0D000000106100010000000000"), ErrorCode::kInvalidBSON,
       "unexpected end of document"},
      {"key not terminated", Hex("0800000010616100"), ErrorCode::kInvalidBSON,
       "not NUL-terminated"},
      {"int32 truncated", Hex("0B00000010610001000000"), ErrorCode::kInvalidBSON,
       "truncated int value"},
      {"double truncated", Hex("0C0000000161000000F03F00"), ErrorCode::kInvalidBSON,
       "truncated double"},
      {"bool 2", Hex("090000000862000200"), ErrorCode::kInvalidBSON, "invalid boolean byte 0x02"},
      {"string length 0", Hex("0D000000026100000000000000"), ErrorCode::kInvalidBSON,
       "string length 0 is invalid"},
      {"string length negative", Hex("0D000000026100FFFFFFFF0000"), ErrorCode::kInvalidBSON,
       "string length -1"},
      {"string too long", Hex("0E00000002610005000000620000"), ErrorCode::kInvalidBSON,
       "exceeds"},
      {"string not NUL-terminated", Hex("0E00000002610002000000626200"), ErrorCode::kInvalidBSON,
       "not NUL-terminated"},
      {"invalid UTF-8 value", Hex("0E00000002610002000000FF0000"), ErrorCode::kInvalidBSON,
       "invalid UTF-8 in string"},
      {"overlong UTF-8", Hex("0F00000002610003000000C0AF0000"), ErrorCode::kInvalidBSON,
       "invalid UTF-8"},
      {"surrogate UTF-8", Hex("1000000002610004000000EDA0800000"), ErrorCode::kInvalidBSON,
       "invalid UTF-8"},
      {"invalid UTF-8 key", Hex("0D00000010FF00010000000000"), ErrorCode::kInvalidBSON,
       "invalid UTF-8 in field name"},
      {"sub-document too long", Hex("0D000000036100060000000000"), ErrorCode::kInvalidBSON,
       "exceeds"},
      {"sub-document too short", Hex("0D000000036100040000000000"), ErrorCode::kInvalidBSON,
       "at least 5"},
      {"sub-document unterminated", Hex("0D000000036100050000000100"), ErrorCode::kInvalidBSON,
       "not terminated"},
      {"binary negative", Hex("0D000000056100FFFFFFFF0000"), ErrorCode::kInvalidBSON,
       "negative"},
      {"binary too long", Hex("0D000000056100FF0000000000"), ErrorCode::kInvalidBSON, "exceeds"},
      {"binary subtype 2 inner too long", Hex("13000000057800060000000203000000FFFF00"),
       ErrorCode::kInvalidBSON, "inner length 3"},
      {"binary subtype 2 inner negative", Hex("130000000578000600000002FFFFFFFFFFFF00"),
       ErrorCode::kInvalidBSON, "inner length -1"},
      {"binary subtype 2 too short", Hex("0F0000000578000200000002FFFF00"),
       ErrorCode::kInvalidBSON, "too short"},
      {"regex pattern unterminated", Hex("0D0000000B6100616263006900"),
       ErrorCode::kInvalidBSON, "regex options are not NUL-terminated"},
      {"regex invalid UTF-8", Hex("0B0000000B6100FF000000"),
       ErrorCode::kInvalidBSON, "invalid UTF-8 in regex pattern"},
      {"dbpointer truncated oid", Hex("160000000C610002000000620056E1FC72E0C917E900"),
       ErrorCode::kInvalidBSON, "truncated dbPointer ObjectId"},
      {"cws too short", Hex("0C0000000F61000500000000"),
       ErrorCode::kInvalidBSON, "code-with-scope length 5"},
      {"cws length mismatch",
       Hex("180000000F61001000000002000000610005000000000000"),
       ErrorCode::kInvalidBSON, "does not match its contents"},
      {"oid truncated", Hex("0F0000000761000102030405060700"), ErrorCode::kInvalidBSON,
       "truncated objectId"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = Decode(c.bytes);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), c.code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.message_part), std::string_view::npos)
        << r.status().ToString();
    EXPECT_NE(r.status().message().find("offset"), std::string_view::npos)
        << r.status().ToString();
  }
}

TEST(CodecTest, Utf8CheckCanBeDisabled) {
  DecodeOptions opts;
  opts.validate_utf8 = false;
  auto r = Decode(Hex("0E00000002610002000000FF0000"), opts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->Get("a")->as_string(), "\xFF");
}

TEST(CodecTest, ValidUtf8Accepted) {
  for (std::string s : {"", "ascii", "é", "日本語", "😀", "\x7f", "mixed é 日 😀 text longer than eight"}) {
    Document d{{s, Value(s)}};
    auto r = Decode(Encode(d));
    ASSERT_TRUE(r.ok()) << s << ": " << r.status().ToString();
    EXPECT_EQ(*r, d);
  }
}

Document Nested(int depth) {
  Document d{{"leaf", int32_t{1}}};
  for (int i = 1; i < depth; ++i) d = Document{{"a", (i % 2) ? Value(d) : Value(Array{Value(d)})}};
  return d;
}

int DepthOf(const Value& v) {
  int inner = 0;
  if (v.is_document()) {
    for (const auto& f : v.as_document()) inner = std::max(inner, DepthOf(f.value));
    return 1 + inner;
  }
  if (v.is_array()) {
    for (const auto& e : v.as_array()) inner = std::max(inner, DepthOf(e));
    return 1 + inner;
  }
  return 0;
}

TEST(CodecTest, DepthLimit) {
  Document ok_doc;
  ok_doc = Document{{"leaf", int32_t{1}}};
  while (DepthOf(Value(ok_doc)) < kMaxDepth) ok_doc = Document{{"a", ok_doc}};
  ASSERT_EQ(DepthOf(Value(ok_doc)), kMaxDepth);
  EXPECT_TRUE(Decode(Encode(ok_doc)).ok());

  Document too_deep{{"a", ok_doc}};
  auto r = Decode(Encode(too_deep));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kOverflow);
  EXPECT_NE(r.status().message().find("180"), std::string_view::npos);

  // Arrays count as nesting too, and max_depth is configurable.
  DecodeOptions opts;
  opts.max_depth = 3;
  Document three = *ParseJson("{a: [{leaf: 1}]}");
  Document four = *ParseJson("{a: [{b: {}}]}");
  ASSERT_EQ(DepthOf(Value(three)), 3);
  ASSERT_EQ(DepthOf(Value(four)), 4);
  EXPECT_TRUE(Decode(Encode(three), opts).ok());
  auto r4 = Decode(Encode(four), opts);
  ASSERT_FALSE(r4.ok());
  EXPECT_EQ(r4.status().code(), ErrorCode::kOverflow);
  // The scope of code-with-scope is one level deeper.
  Document cws{{"c", std::make_shared<const CodeWithScope>(
                         CodeWithScope{"f", Document{{"x", Document{{"y", Document{}}}}}})}};
  EXPECT_FALSE(Decode(Encode(cws), opts).ok());
  opts.max_depth = 4;
  EXPECT_TRUE(Decode(Encode(cws), opts).ok());
}

TEST(CodecTest, SizeLimit) {
  Document big{{"s", Value(std::string(1000, 'x'))}};
  std::string bytes = Encode(big);
  DecodeOptions opts;
  opts.max_size = 1000;
  auto r = Decode(bytes, opts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kBSONObjectTooLarge);
  opts.max_size = static_cast<int32_t>(bytes.size());
  EXPECT_TRUE(Decode(bytes, opts).ok());
  // Default: 16 MiB + 16 KiB decodes, more does not.
  Document huge{{"s", Value(std::string(kMaxUserSize + 1000, 'x'))}};
  EXPECT_TRUE(Decode(Encode(huge)).ok());
  Document too_huge{{"s", Value(std::string(kMaxInternalSize, 'x'))}};
  auto r2 = Decode(Encode(too_huge));
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.status().code(), ErrorCode::kBSONObjectTooLarge);
}

TEST(CodecTest, PeekLength) {
  EXPECT_EQ(PeekLength(""), -1);
  EXPECT_EQ(PeekLength(Hex("050000")), -1);
  EXPECT_EQ(PeekLength(Hex("05000000")), 5);
  EXPECT_EQ(PeekLength(Hex("FFFFFFFF")), -1);  // negative lengths read as written
}

// Every truncation and many random mutations of valid documents must decode or fail cleanly
// (run under ASan/UBSan to catch out-of-bounds reads).
TEST(CodecTest, TruncationsAndMutationsNeverCrash) {
  std::vector<std::string> seeds = {Encode(EveryType()), Encode(Nested(20)),
                                    Encode(Document{{"a", Array{Value("x"), Document{}}}})};
  for (const std::string& seed : seeds) {
    for (size_t n = 0; n < seed.size(); ++n) {
      std::string t = seed.substr(0, n);
      EXPECT_FALSE(Decode(t).ok()) << n;
      // Fix the length prefix so the decoder has to find the truncation inside.
      if (n >= 4) {
        auto len = static_cast<int32_t>(n);
        std::memcpy(t.data(), &len, 4);
        auto r = Decode(t);
        if (r.ok()) {
          EXPECT_TRUE(Decode(Encode(*r)).ok());
        }
      }
    }
  }
  std::mt19937 rng(12345);
  int decoded_ok = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string m = seeds[iter % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % m.size();
      switch (rng() % 4) {
        case 0: m[pos] = static_cast<char>(rng()); break;
        case 1: m[pos] ^= static_cast<char>(1 << (rng() % 8)); break;
        case 2: m[pos] = static_cast<char>(std::vector<int>{0, 1, 0x7f, 0x80, 0xff}[rng() % 5]); break;
        case 3: m.erase(pos, 1 + rng() % 3); break;
      }
      if (m.empty()) m = seeds[0];
    }
    auto r = Decode(m);
    if (r.ok()) {
      ++decoded_ok;
      std::string again = Encode(*r);
      auto r2 = Decode(again);
      ASSERT_TRUE(r2.ok()) << r2.status().ToString();
      EXPECT_EQ(Encode(*r2), again);
      EXPECT_EQ(Compare(*r2, *r), 0);
    } else {
      EXPECT_FALSE(r.status().message().empty());
    }
  }
  EXPECT_GT(decoded_ok, 0);
}

TEST(CodecTest, SpeedSmoke) {
  // A ~200-byte document, typical of an order record.
  auto parsed = ParseJson(R"({_id: ObjectId("507f1f77bcf86cd799439011"), customer: "alice",
      status: "shipped", total: 129.95, qty: 3, created: ISODate("2024-01-02T03:04:05Z"),
      tags: ["a", "b", "c"], address: {city: "Paris", zip: "75001"}, flags: NumberLong(7)})");
  ASSERT_TRUE(parsed.ok());
  const Document doc = *parsed;
  const std::string bytes = Encode(doc);
  EXPECT_GT(bytes.size(), 150u);
  const int kIters = 20000;
  auto t0 = std::chrono::steady_clock::now();
  size_t sink = 0;
  for (int i = 0; i < kIters; ++i) sink += Decode(bytes)->size();
  auto t1 = std::chrono::steady_clock::now();
  for (int i = 0; i < kIters; ++i) sink += Encode(doc).size();
  auto t2 = std::chrono::steady_clock::now();
  double decode_ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / kIters;
  double encode_ns = std::chrono::duration<double, std::nano>(t2 - t1).count() / kIters;
  std::printf("doc %zu bytes: decode %.0f ns, encode %.0f ns\n", bytes.size(), decode_ns,
              encode_ns);
  EXPECT_GT(sink, 0u);
  // Generous bounds so a loaded CI machine or a debug build does not flake.
  EXPECT_LT(decode_ns, 20000);
  EXPECT_LT(encode_ns, 20000);
}

}  // namespace
}  // namespace eddy::bson
