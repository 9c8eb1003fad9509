#include "storage/key_encoding.h"

#include <bit>
#include <cmath>
#include <cstring>

#include "bson/compare.h"

namespace eddy::storage {
namespace {

// Rank bytes are CanonicalTypeRank + kRankBias so they never collide with the 0x00 end
// marker of documents and arrays (an end marker must sort below any element).
constexpr int kRankBias = 2;

uint8_t RankByte(bson::Type t) { return static_cast<uint8_t>(bson::CanonicalTypeRank(t) + kRankBias); }

// Strings: 0x00 is escaped as 00 FF and the string ends with 00 01, so a string sorts
// before every longer string it prefixes, and embedded NULs keep their order.
void AppendEscaped(std::string_view s, std::string* out) {
  for (char c : s) {
    out->push_back(c);
    if (c == '\0') out->push_back('\xFF');
  }
  out->push_back('\0');
  out->push_back('\x01');
}

void AppendOrderedDouble(double d, std::string* out) {
  uint64_t bits = std::bit_cast<uint64_t>(d);
  bits = (bits & (uint64_t{1} << 63)) ? ~bits : bits | (uint64_t{1} << 63);
  AppendBigEndian64(bits, out);
}

// Numbers of all types share one order. Key = double approximation, then the exact
// remainder for int64s that doubles cannot represent (so 2^53+1 > 2^53 as a double).
void AppendNumber(const bson::Value& v, std::string* out) {
  double d = v.ToDouble();
  if (std::isnan(d)) {  // NaN sorts below every other number, as in MongoDB
    out->push_back('\x00');
    return;
  }
  out->push_back('\x01');
  if (d == 0) d = 0;  // -0 == 0
  AppendOrderedDouble(d, out);
  int64_t remainder = 0;
  if (v.is_int64()) {
    __int128 exact = v.as_int64();
    remainder = static_cast<int64_t>(exact - static_cast<__int128>(d));
  }
  AppendBigEndian64(static_cast<uint64_t>(remainder) ^ (uint64_t{1} << 63), out);
}

void AppendDocumentBody(const bson::Document& doc, std::string* out);

void AppendValue(const bson::Value& v, std::string* out) {
  using bson::Type;
  Type t = v.type();
  out->push_back(static_cast<char>(RankByte(t)));
  switch (t) {
    case Type::kMinKey:
    case Type::kMaxKey:
    case Type::kNull:
    case Type::kUndefined:
    case Type::kEOO:
      return;
    case Type::kDouble:
    case Type::kInt32:
    case Type::kInt64:
    case Type::kDecimal128:
      AppendNumber(v, out);
      return;
    case Type::kString:
      AppendEscaped(v.as_string(), out);
      return;
    case Type::kSymbol:
      AppendEscaped(std::get<bson::Symbol>(v.storage()).symbol, out);
      return;
    case Type::kDocument:
      AppendDocumentBody(v.as_document(), out);
      return;
    case Type::kArray:
      for (const bson::Value& e : v.as_array()) AppendValue(e, out);
      out->push_back('\0');
      return;
    case Type::kBinary: {
      const bson::Binary& b = v.as_binary();
      AppendBigEndian32(static_cast<uint32_t>(b.data.size()), out);
      out->push_back(static_cast<char>(b.subtype));
      out->append(b.data);
      return;
    }
    case Type::kObjectId:
      out->append(reinterpret_cast<const char*>(v.as_object_id().bytes.data()), 12);
      return;
    case Type::kBool:
      out->push_back(v.as_bool() ? '\x01' : '\x00');
      return;
    case Type::kDateTime:
      AppendBigEndian64(static_cast<uint64_t>(v.as_date().millis) ^ (uint64_t{1} << 63), out);
      return;
    case Type::kTimestamp:
      AppendBigEndian64(v.as_timestamp().AsUint64(), out);
      return;
    case Type::kRegex:
      AppendEscaped(v.as_regex().pattern, out);
      AppendEscaped(v.as_regex().options, out);
      return;
    case Type::kDBPointer: {
      const auto& p = std::get<bson::DBPointer>(v.storage());
      AppendEscaped(p.ns, out);
      out->append(reinterpret_cast<const char*>(p.id.bytes.data()), 12);
      return;
    }
    case Type::kJavaScript:
      AppendEscaped(std::get<bson::Code>(v.storage()).code, out);
      return;
    case Type::kJavaScriptWithScope: {
      const auto& c = std::get<std::shared_ptr<const bson::CodeWithScope>>(v.storage());
      AppendEscaped(c->code, out);
      AppendDocumentBody(c->scope, out);
      return;
    }
  }
}

// MongoDB compares documents field by field: type rank, then name, then value.
void AppendDocumentBody(const bson::Document& doc, std::string* out) {
  for (const bson::Field& f : doc) {
    out->push_back(static_cast<char>(RankByte(f.value.type())));
    AppendEscaped(f.name, out);
    AppendValue(f.value, out);
  }
  out->push_back('\0');
}

}  // namespace

void AppendKeyString(const bson::Value& v, bool descending, std::string* out) {
  size_t start = out->size();
  AppendValue(v, out);
  if (descending) {
    for (size_t i = start; i < out->size(); ++i) (*out)[i] = static_cast<char>(~(*out)[i]);
  }
}

std::string KeyString(const bson::Value& v) {
  std::string out;
  AppendKeyString(v, false, &out);
  return out;
}

void AppendBigEndian32(uint32_t v, std::string* out) {
  char b[4];
  for (int i = 3; i >= 0; --i, v >>= 8) b[i] = static_cast<char>(v & 0xFF);
  out->append(b, 4);
}

void AppendBigEndian64(uint64_t v, std::string* out) {
  char b[8];
  for (int i = 7; i >= 0; --i, v >>= 8) b[i] = static_cast<char>(v & 0xFF);
  out->append(b, 8);
}

uint32_t ReadBigEndian32(std::string_view in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

uint64_t ReadBigEndian64(std::string_view in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    if (static_cast<uint8_t>(s.back()) != 0xFF) {
      s.back() = static_cast<char>(static_cast<uint8_t>(s.back()) + 1);
      return s;
    }
    s.pop_back();
  }
  return s;
}

}  // namespace eddy::storage
