#include "bson/compare.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <string_view>

#include "bson/codec.h"
#include "bson/detail/decimal.h"

namespace eddy::bson {
namespace {

// Ranks from MongoDB's canonicalizeBSONType, except that undefined shares null's rank as
// compare.h promises (mongod ranks undefined 0 and null 5; both are "nullish" to queries).
constexpr int kRankMinKey = -1;
constexpr int kRankNull = 5;
constexpr int kRankNumber = 10;
constexpr int kRankString = 15;

template <class T>
int Cmp3(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

int CompareDoubles(double a, double b) {
  if (a < b) return -1;
  if (a > b) return 1;
  bool an = std::isnan(a), bn = std::isnan(b);
  if (an) return bn ? 0 : -1;
  if (bn) return 1;
  return 0;  // equal, including -0 == 0
}

// Exact int64 vs double, as mongod's compareLongToDouble.
int CompareLongToDouble(int64_t a, double b) {
  if (std::isnan(b)) return 1;
  constexpr int64_t kEndOfPreciseDoubles = int64_t{1} << 53;
  if (a <= kEndOfPreciseDoubles && a >= -kEndOfPreciseDoubles) {
    return CompareDoubles(static_cast<double>(a), b);
  }
  constexpr double kBoundOfLongRange = 9223372036854775808.0;  // 2^63
  if (b >= kBoundOfLongRange) return -1;
  if (b < -kBoundOfLongRange) return 1;
  // |a| > 2^53 here, so truncating b's fraction cannot turn a strict order into equality.
  return Cmp3(a, static_cast<int64_t>(b));
}

detail::DecimalParts ToParts(const Value& v) {
  switch (v.storage().index()) {
    case 1: return detail::PartsFromDouble34(std::get<double>(v.storage()));
    case 16: return detail::PartsFromInt64(std::get<int32_t>(v.storage()));
    case 18: return detail::PartsFromInt64(std::get<int64_t>(v.storage()));
    default: return detail::Unpack(std::get<Decimal128>(v.storage()));
  }
}

int CompareNumbers(const Value& a, const Value& b) {
  Type ta = a.type(), tb = b.type();
  if (ta == Type::kDecimal128 || tb == Type::kDecimal128) {
    return detail::CompareParts(ToParts(a), ToParts(b));
  }
  if (ta == Type::kDouble) {
    double x = a.as_double_exact();
    if (tb == Type::kDouble) return CompareDoubles(x, b.as_double_exact());
    if (tb == Type::kInt32) return CompareDoubles(x, b.as_int32());
    return -CompareLongToDouble(b.as_int64(), x);
  }
  int64_t x = ta == Type::kInt32 ? a.as_int32() : a.as_int64();
  if (tb == Type::kDouble) return CompareLongToDouble(x, b.as_double_exact());
  int64_t y = tb == Type::kInt32 ? b.as_int32() : b.as_int64();
  return Cmp3(x, y);
}

int CompareBytes(std::string_view a, std::string_view b) {
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

std::string_view StringOf(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v.storage())) return *s;
  return std::get<Symbol>(v.storage()).symbol;
}

int CompareArrays(const Array& a, const Array& b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (int c = Compare(a[i], b[i])) return c;
  }
  return Cmp3(a.size(), b.size());
}

// Binary order: data length (mongod counts subtype 2's inner length prefix), subtype, bytes.
int CompareBinary(const Binary& a, const Binary& b) {
  size_t la = a.data.size() + (a.subtype == 2 ? 4 : 0);
  size_t lb = b.data.size() + (b.subtype == 2 ? 4 : 0);
  if (la != lb) return la < lb ? -1 : 1;
  if (a.subtype != b.subtype) return a.subtype < b.subtype ? -1 : 1;
  return CompareBytes(a.data, b.data);
}

// C-string comparison (regex parts are NUL-terminated in BSON).
int CompareCString(const std::string& a, const std::string& b) {
  return CompareBytes(std::string_view(a.c_str()), std::string_view(b.c_str()));
}

inline void HashCombine(size_t& seed, size_t v) {
  seed ^= v + 0x9e3779b97f4a7c15ull + (seed << 6) + (seed >> 2);
}

size_t HashBytes(std::string_view s) { return std::hash<std::string_view>()(s); }

size_t HashDouble(double d) {
  if (std::isnan(d)) return 0x7ff8000000000000ull;
  if (d == 0) d = 0;  // -0 hashes as 0
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof(bits));
  return std::hash<uint64_t>()(bits);
}

size_t HashDocument(const Document& d);

size_t HashNumber(const Value& v) {
  // Every number hashes as its double value, so equal numbers of any type hash alike (equal
  // values round to the same double). Decimals beyond the double range hash normalized.
  if (v.is_decimal()) {
    detail::DecimalParts p = detail::Unpack(v.as_decimal());
    double d = v.as_decimal().ToDouble();
    if (p.kind == detail::DecimalParts::kFinite && std::isinf(d)) {
      p = detail::Normalize(p);
      size_t h = p.negative;
      HashCombine(h, static_cast<size_t>(static_cast<uint64_t>(p.coefficient)));
      HashCombine(h, static_cast<size_t>(static_cast<uint64_t>(p.coefficient >> 64)));
      HashCombine(h, static_cast<size_t>(p.exponent));
      return h;
    }
    return HashDouble(d);
  }
  return HashDouble(v.ToDouble());
}

}  // namespace

int CanonicalTypeRank(Type t) {
  switch (t) {
    case Type::kMinKey: return kRankMinKey;
    case Type::kMaxKey: return 127;
    case Type::kEOO: return 0;
    case Type::kUndefined:
    case Type::kNull: return kRankNull;
    case Type::kDouble:
    case Type::kInt32:
    case Type::kInt64:
    case Type::kDecimal128: return kRankNumber;
    case Type::kString:
    case Type::kSymbol: return kRankString;
    case Type::kDocument: return 20;
    case Type::kArray: return 25;
    case Type::kBinary: return 30;
    case Type::kObjectId: return 35;
    case Type::kBool: return 40;
    case Type::kDateTime: return 45;
    case Type::kTimestamp: return 47;
    case Type::kRegex: return 50;
    case Type::kDBPointer: return 55;
    case Type::kJavaScript: return 60;
    case Type::kJavaScriptWithScope: return 65;
  }
  return 0;
}

namespace {

// Documents of which one or both are encoded (RawDocument): compared decoded. (Undecodable
// bytes compare as an empty document: RawDocument requires valid bytes.)
int CompareRaw(const Value& a, const Value& b) {
  auto doc = [](const Value& v) -> Document {
    if (!v.is_raw_document()) return v.as_document();
    Result<Document> d = DecodeRaw(v.as_raw_document());
    return d.ok() ? std::move(d).value() : Document();
  };
  return Compare(doc(a), doc(b));
}

}  // namespace

int Compare(const Value& a, const Value& b) {
  const Type ta = a.type(), tb = b.type();
  const int ra = CanonicalTypeRank(ta), rb = CanonicalTypeRank(tb);
  if (ra != rb) return ra < rb ? -1 : 1;
  const auto& sa = a.storage();
  const auto& sb = b.storage();
  switch (ta) {
    case Type::kMinKey:
    case Type::kMaxKey:
    case Type::kNull:
    case Type::kUndefined:
    case Type::kEOO: return 0;
    case Type::kDouble:
    case Type::kInt32:
    case Type::kInt64:
    case Type::kDecimal128: return CompareNumbers(a, b);
    case Type::kString:
    case Type::kSymbol: return CompareBytes(StringOf(a), StringOf(b));
    case Type::kDocument:
      if (a.is_raw_document() || b.is_raw_document()) return CompareRaw(a, b);
      return Compare(std::get<Document>(sa), std::get<Document>(sb));
    case Type::kArray: return CompareArrays(std::get<Array>(sa), std::get<Array>(sb));
    case Type::kBinary: return CompareBinary(std::get<Binary>(sa), std::get<Binary>(sb));
    case Type::kObjectId: {
      int c = std::memcmp(std::get<ObjectId>(sa).bytes.data(), std::get<ObjectId>(sb).bytes.data(),
                          12);
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case Type::kBool: return Cmp3(std::get<bool>(sa), std::get<bool>(sb));
    case Type::kDateTime: return Cmp3(std::get<DateTime>(sa).millis, std::get<DateTime>(sb).millis);
    case Type::kTimestamp: return Cmp3(std::get<Timestamp>(sa), std::get<Timestamp>(sb));
    case Type::kRegex: {
      const Regex& x = std::get<Regex>(sa);
      const Regex& y = std::get<Regex>(sb);
      if (int c = CompareCString(x.pattern, y.pattern)) return c;
      return CompareCString(x.options, y.options);
    }
    case Type::kDBPointer: {
      // mongod: value size (namespace length) first, then the raw bytes.
      const DBPointer& x = std::get<DBPointer>(sa);
      const DBPointer& y = std::get<DBPointer>(sb);
      if (x.ns.size() != y.ns.size()) return x.ns.size() < y.ns.size() ? -1 : 1;
      if (int c = CompareBytes(x.ns, y.ns)) return c;
      int c = std::memcmp(x.id.bytes.data(), y.id.bytes.data(), 12);
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case Type::kJavaScript:
      return CompareBytes(std::get<Code>(sa).code, std::get<Code>(sb).code);
    case Type::kJavaScriptWithScope: {
      const auto& x = std::get<std::shared_ptr<const CodeWithScope>>(sa);
      const auto& y = std::get<std::shared_ptr<const CodeWithScope>>(sb);
      static const CodeWithScope kEmpty;
      const CodeWithScope& cx = x ? *x : kEmpty;
      const CodeWithScope& cy = y ? *y : kEmpty;
      if (int c = CompareBytes(cx.code, cy.code)) return c;
      return Compare(cx.scope, cy.scope);
    }
  }
  return 0;
}

int Compare(const Document& a, const Document& b) {
  const auto& fa = a.fields();
  const auto& fb = b.fields();
  size_t n = std::min(fa.size(), fb.size());
  for (size_t i = 0; i < n; ++i) {
    int ra = CanonicalTypeRank(fa[i].value.type());
    int rb = CanonicalTypeRank(fb[i].value.type());
    if (ra != rb) return ra < rb ? -1 : 1;
    // Field names compare as C strings, as mongod's strcmp on the BSON key.
    if (int c = CompareCString(fa[i].name, fb[i].name)) return c;
    if (int c = Compare(fa[i].value, fb[i].value)) return c;
  }
  return Cmp3(fa.size(), fb.size());
}

namespace {

size_t HashDocument(const Document& d) {
  size_t h = 0x2545F4914F6CDD1Dull;
  for (const Field& f : d) {
    HashCombine(h, HashBytes(std::string_view(f.name.c_str())));
    HashCombine(h, Hash(f.value));
  }
  return h;
}

}  // namespace

size_t Hash(const Value& v) {
  const Type t = v.type();
  size_t h = static_cast<size_t>(CanonicalTypeRank(t) + 1000);
  const auto& s = v.storage();
  switch (t) {
    case Type::kMinKey:
    case Type::kMaxKey:
    case Type::kNull:
    case Type::kUndefined:
    case Type::kEOO: break;
    case Type::kDouble:
    case Type::kInt32:
    case Type::kInt64:
    case Type::kDecimal128: HashCombine(h, HashNumber(v)); break;
    case Type::kString:
    case Type::kSymbol: HashCombine(h, HashBytes(StringOf(v))); break;
    case Type::kDocument:
      if (v.is_raw_document()) {
        Result<Document> d = DecodeRaw(v.as_raw_document());
        HashCombine(h, HashDocument(d.ok() ? *d : Document()));
      } else {
        HashCombine(h, HashDocument(std::get<Document>(s)));
      }
      break;
    case Type::kArray:
      for (const Value& e : std::get<Array>(s)) HashCombine(h, Hash(e));
      break;
    case Type::kBinary: {
      const Binary& b = std::get<Binary>(s);
      HashCombine(h, b.subtype);
      HashCombine(h, HashBytes(b.data));
      break;
    }
    case Type::kObjectId: {
      const auto& o = std::get<ObjectId>(s);
      HashCombine(h, HashBytes(std::string_view(reinterpret_cast<const char*>(o.bytes.data()), 12)));
      break;
    }
    case Type::kBool: HashCombine(h, std::get<bool>(s)); break;
    case Type::kDateTime: HashCombine(h, std::hash<int64_t>()(std::get<DateTime>(s).millis)); break;
    case Type::kTimestamp:
      HashCombine(h, std::hash<uint64_t>()(std::get<Timestamp>(s).AsUint64()));
      break;
    case Type::kRegex: {
      const Regex& r = std::get<Regex>(s);
      HashCombine(h, HashBytes(std::string_view(r.pattern.c_str())));
      HashCombine(h, HashBytes(std::string_view(r.options.c_str())));
      break;
    }
    case Type::kDBPointer: {
      const DBPointer& p = std::get<DBPointer>(s);
      HashCombine(h, HashBytes(p.ns));
      HashCombine(h, HashBytes(std::string_view(reinterpret_cast<const char*>(p.id.bytes.data()), 12)));
      break;
    }
    case Type::kJavaScript: HashCombine(h, HashBytes(std::get<Code>(s).code)); break;
    case Type::kJavaScriptWithScope: {
      const auto& c = std::get<std::shared_ptr<const CodeWithScope>>(s);
      static const CodeWithScope kEmpty;  // a null pointer compares as empty code and scope
      const CodeWithScope& cws = c ? *c : kEmpty;
      HashCombine(h, HashBytes(cws.code));
      HashCombine(h, HashDocument(cws.scope));
      break;
    }
  }
  return h;
}

}  // namespace eddy::bson
