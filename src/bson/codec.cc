// A direct BSON encoder/decoder over the value tree. libbson is not on this path: going
// through bson_t would mean a second copy and a second validation pass for every document.
#include "bson/codec.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <string>

#include "base/check.h"
#include "bson/detail/utf8.h"

namespace eddy::bson {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the codec copies little-endian BSON integers directly");

// ---------------------------------------------------------------------------------------------
// Encoding

inline size_t CStrLen(const std::string& s) { return std::strlen(s.c_str()); }

inline size_t IndexKeyLen(size_t i) {
  size_t n = 1;
  while (i >= 10) {
    i /= 10;
    ++n;
  }
  return n;
}

bool SortedOptions(const std::string& o) {
  return std::is_sorted(o.begin(), o.end()) || !detail::AsciiOnly(o.data(), o.size());
}

size_t DocSize(const Document& d);
size_t ArraySize(const Array& a);

size_t ValueSize(const Value& v) {
  const auto& s = v.storage();
  switch (v.type()) {
    case Type::kDouble:
    case Type::kDateTime:
    case Type::kTimestamp:
    case Type::kInt64: return 8;
    case Type::kString: return 4 + std::get<std::string>(s).size() + 1;
    case Type::kSymbol: return 4 + std::get<Symbol>(s).symbol.size() + 1;
    case Type::kJavaScript: return 4 + std::get<Code>(s).code.size() + 1;
    case Type::kDocument:
      if (const auto* raw = std::get_if<RawDocument>(&s)) return raw->size;
      return DocSize(std::get<Document>(s));
    case Type::kArray: return ArraySize(std::get<Array>(s));
    case Type::kBinary: {
      const Binary& b = std::get<Binary>(s);
      return 4 + 1 + (b.subtype == 2 ? 4 : 0) + b.data.size();
    }
    case Type::kObjectId: return 12;
    case Type::kBool: return 1;
    case Type::kRegex: {
      const Regex& r = std::get<Regex>(s);
      return CStrLen(r.pattern) + 1 + CStrLen(r.options) + 1;
    }
    case Type::kDBPointer: return 4 + std::get<DBPointer>(s).ns.size() + 1 + 12;
    case Type::kJavaScriptWithScope: {
      const auto& c = std::get<std::shared_ptr<const CodeWithScope>>(s);
      size_t code = c ? c->code.size() : 0;
      return 4 + 4 + code + 1 + (c ? DocSize(c->scope) : 5);
    }
    case Type::kInt32: return 4;
    case Type::kDecimal128: return 16;
    case Type::kMinKey:
    case Type::kMaxKey:
    case Type::kNull:
    case Type::kUndefined:
    case Type::kEOO: return 0;
  }
  return 0;
}

size_t DocSize(const Document& d) {
  size_t n = 5;
  for (const Field& f : d) n += 1 + CStrLen(f.name) + 1 + ValueSize(f.value);
  return n;
}

size_t ArraySize(const Array& a) {
  size_t n = 5;
  for (size_t i = 0; i < a.size(); ++i) n += 1 + IndexKeyLen(i) + 1 + ValueSize(a[i]);
  return n;
}

inline char* Put32(char* p, int32_t v) {
  std::memcpy(p, &v, 4);
  return p + 4;
}
inline char* Put64(char* p, uint64_t v) {
  std::memcpy(p, &v, 8);
  return p + 8;
}
inline char* PutBytes(char* p, const void* s, size_t n) {
  if (n) std::memcpy(p, s, n);
  return p + n;
}
inline char* PutString(char* p, const std::string& s) {
  p = Put32(p, static_cast<int32_t>(s.size() + 1));
  p = PutBytes(p, s.data(), s.size());
  *p++ = 0;
  return p;
}
inline char* PutCString(char* p, const std::string& s) {
  p = PutBytes(p, s.data(), CStrLen(s));
  *p++ = 0;
  return p;
}

char* WriteDoc(char* p, const Document& d);
char* WriteArray(char* p, const Array& a);

char* WriteValue(char* p, const Value& v) {
  const auto& s = v.storage();
  switch (v.type()) {
    case Type::kDouble: {
      double d = std::get<double>(s);
      std::memcpy(p, &d, 8);
      return p + 8;
    }
    case Type::kString: return PutString(p, std::get<std::string>(s));
    case Type::kSymbol: return PutString(p, std::get<Symbol>(s).symbol);
    case Type::kJavaScript: return PutString(p, std::get<Code>(s).code);
    case Type::kDocument:
      if (const auto* raw = std::get_if<RawDocument>(&s)) {
        return PutBytes(p, raw->buffer->data() + raw->offset, raw->size);
      }
      return WriteDoc(p, std::get<Document>(s));
    case Type::kArray: return WriteArray(p, std::get<Array>(s));
    case Type::kBinary: {
      const Binary& b = std::get<Binary>(s);
      auto n = static_cast<int32_t>(b.data.size());
      if (b.subtype == 2) {
        // Subtype 2 ("old binary") carries its own inner length; the model holds the payload.
        p = Put32(p, n + 4);
        *p++ = 2;
        p = Put32(p, n);
      } else {
        p = Put32(p, n);
        *p++ = static_cast<char>(b.subtype);
      }
      return PutBytes(p, b.data.data(), b.data.size());
    }
    case Type::kObjectId: return PutBytes(p, std::get<ObjectId>(s).bytes.data(), 12);
    case Type::kBool: *p++ = std::get<bool>(s) ? 1 : 0; return p;
    case Type::kDateTime: return Put64(p, static_cast<uint64_t>(std::get<DateTime>(s).millis));
    case Type::kRegex: {
      const Regex& r = std::get<Regex>(s);
      p = PutCString(p, r.pattern);
      if (SortedOptions(r.options)) return PutCString(p, r.options);
      std::string sorted = r.options;
      detail::SortRegexOptions(&sorted);
      return PutCString(p, sorted);
    }
    case Type::kDBPointer: {
      const DBPointer& d = std::get<DBPointer>(s);
      p = PutString(p, d.ns);
      return PutBytes(p, d.id.bytes.data(), 12);
    }
    case Type::kJavaScriptWithScope: {
      const auto& c = std::get<std::shared_ptr<const CodeWithScope>>(s);
      char* start = p;
      p += 4;
      static const CodeWithScope kEmpty;
      const CodeWithScope& cws = c ? *c : kEmpty;
      p = PutString(p, cws.code);
      p = WriteDoc(p, cws.scope);
      Put32(start, static_cast<int32_t>(p - start));
      return p;
    }
    case Type::kInt32: return Put32(p, std::get<int32_t>(s));
    case Type::kTimestamp: return Put64(p, std::get<Timestamp>(s).AsUint64());
    case Type::kInt64: return Put64(p, static_cast<uint64_t>(std::get<int64_t>(s)));
    case Type::kDecimal128: {
      const Decimal128& d = std::get<Decimal128>(s);
      p = Put64(p, d.low);
      return Put64(p, d.high);
    }
    case Type::kMinKey:
    case Type::kMaxKey:
    case Type::kNull:
    case Type::kUndefined:
    case Type::kEOO: return p;
  }
  return p;
}

char* WriteDoc(char* p, const Document& d) {
  char* start = p;
  p += 4;
  for (const Field& f : d) {
    *p++ = static_cast<char>(f.value.type());
    p = PutCString(p, f.name);
    p = WriteValue(p, f.value);
  }
  *p++ = 0;
  Put32(start, static_cast<int32_t>(p - start));
  return p;
}

char* WriteArray(char* p, const Array& a) {
  char* start = p;
  p += 4;
  for (size_t i = 0; i < a.size(); ++i) {
    *p++ = static_cast<char>(a[i].type());
    if (i < 10) {
      *p++ = static_cast<char>('0' + i);
    } else {
      size_t len = IndexKeyLen(i);
      size_t v = i;
      for (size_t k = len; k > 0; --k) {
        p[k - 1] = static_cast<char>('0' + v % 10);
        v /= 10;
      }
      p += len;
    }
    *p++ = 0;
    p = WriteValue(p, a[i]);
  }
  *p++ = 0;
  Put32(start, static_cast<int32_t>(p - start));
  return p;
}

// ---------------------------------------------------------------------------------------------
// Decoding

inline int32_t Get32(const char* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t Get64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

std::string Hex2(uint8_t b) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("0x") + kHex[b >> 4] + kHex[b & 0xF];
}

class Decoder {
 public:
  Decoder(std::string_view bytes, const DecodeOptions& options)
      : base_(bytes.data()), options_(options) {}

  // Parses the document (or array, into *arr) that starts at `pos` and must end at or before
  // `limit`. On success *end is the offset just past it.
  template <bool kIsArray>
  Status ParseDoc(size_t pos, size_t limit, int depth, Document* doc, Array* arr, size_t* end);

 private:
  Status Error(size_t offset, std::string what) const {
    return Status(ErrorCode::kInvalidBSON, what + " at offset " + std::to_string(offset));
  }
  Status FieldError(size_t offset, std::string_view key, std::string what) const {
    return Error(offset, what + " in field '" + std::string(key) + "'");
  }
  Status CheckUtf8(size_t offset, const char* s, size_t n, std::string_view key,
                   const char* what) const {
    if (!options_.validate_utf8 || detail::AsciiOnly(s, n)) return Status::OK();
    size_t bad = 0;
    if (detail::ValidUtf8(s, n, &bad)) return Status::OK();
    return FieldError(offset + bad, key, std::string("invalid UTF-8 in ") + what);
  }
  // A length-prefixed string at pos, ending at or before limit.
  Status ReadString(size_t pos, size_t limit, std::string_view key, const char* what,
                    std::string_view* out, size_t* end) const;
  Status ParseValue(uint8_t type, size_t pos, size_t limit, int depth, std::string_view key,
                    Value* out, size_t* end);

  // Number of elements in [pos, last) by skipping over values without validating them; 0 when
  // anything looks off (the real pass reports the error).
  size_t CountElements(size_t pos, size_t last) const;

  const char* base_;
  const DecodeOptions& options_;
};

size_t Decoder::CountElements(size_t q, size_t last) const {
  size_t n = 0;
  while (q < last) {
    auto type = static_cast<uint8_t>(base_[q++]);
    while (q < last && base_[q] != '\0') ++q;
    if (q == last) return 0;
    ++q;
    const size_t avail = last - q;
    size_t size;
    switch (static_cast<Type>(type)) {
      case Type::kDouble:
      case Type::kDateTime:
      case Type::kTimestamp:
      case Type::kInt64: size = 8; break;
      case Type::kInt32: size = 4; break;
      case Type::kBool: size = 1; break;
      case Type::kObjectId: size = 12; break;
      case Type::kDecimal128: size = 16; break;
      case Type::kNull:
      case Type::kUndefined:
      case Type::kMinKey:
      case Type::kMaxKey: size = 0; break;
      case Type::kString:
      case Type::kSymbol:
      case Type::kJavaScript:
      case Type::kDocument:
      case Type::kArray:
      case Type::kJavaScriptWithScope:
      case Type::kBinary: {
        if (avail < 4) return 0;
        int32_t len = Get32(base_ + q);
        if (len < 0) return 0;
        size = static_cast<size_t>(len);
        if (type == static_cast<uint8_t>(Type::kString) ||
            type == static_cast<uint8_t>(Type::kSymbol) ||
            type == static_cast<uint8_t>(Type::kJavaScript)) {
          size += 4;
        } else if (type == static_cast<uint8_t>(Type::kBinary)) {
          size += 5;
        }
        break;
      }
      default: return 0;  // regex, dbPointer, unknown: rare; do not bother
    }
    if (size > avail) return 0;
    q += size;
    ++n;
  }
  return n;
}

Status Decoder::ReadString(size_t pos, size_t limit, std::string_view key, const char* what,
                           std::string_view* out, size_t* end) const {
  if (limit - pos < 4) return FieldError(pos, key, std::string("truncated ") + what + " length");
  int32_t len = Get32(base_ + pos);
  if (len < 1) {
    return FieldError(pos, key, std::string(what) + " length " + std::to_string(len) +
                                    " is invalid (must be at least 1)");
  }
  if (static_cast<size_t>(len) > limit - pos - 4) {
    return FieldError(pos, key, std::string(what) + " length " + std::to_string(len) +
                                    " exceeds the " + std::to_string(limit - pos - 4) +
                                    " bytes remaining");
  }
  const char* s = base_ + pos + 4;
  if (s[len - 1] != '\0') {
    return FieldError(pos, key, std::string(what) + " is not NUL-terminated");
  }
  EDDY_RETURN_IF_ERROR(CheckUtf8(pos + 4, s, static_cast<size_t>(len - 1), key, what));
  *out = std::string_view(s, static_cast<size_t>(len - 1));
  *end = pos + 4 + static_cast<size_t>(len);
  return Status::OK();
}

template <bool kIsArray>
Status Decoder::ParseDoc(size_t pos, size_t limit, int depth, Document* doc, Array* arr,
                         size_t* end) {
  if (depth > options_.max_depth) {
    return Status(ErrorCode::kOverflow, "BSON nesting depth exceeds the maximum of " +
                                            std::to_string(options_.max_depth) + " at offset " +
                                            std::to_string(pos));
  }
  const char* what = kIsArray ? "array" : "document";
  if (limit - pos < 5) return Error(pos, std::string("truncated ") + what);
  int32_t len = Get32(base_ + pos);
  if (len < 5) {
    return Error(pos, std::string(what) + " length " + std::to_string(len) +
                          " is invalid (must be at least 5)");
  }
  if (static_cast<size_t>(len) > limit - pos) {
    return Error(pos, std::string(what) + " length " + std::to_string(len) + " exceeds the " +
                          std::to_string(limit - pos) + " bytes available");
  }
  const size_t last = pos + static_cast<size_t>(len) - 1;  // offset of the terminating NUL
  if (base_[last] != '\0') {
    return Error(last, std::string(what) + " is not terminated by a NUL byte");
  }
  // Reserve exactly: regrowing the vector would move every Value (a wide variant) again.
  if (size_t n = CountElements(pos + 4, last)) {
    if constexpr (kIsArray) {
      arr->reserve(n);
    } else {
      doc->mutable_fields().reserve(n);
    }
  }
  size_t q = pos + 4;
  while (q < last) {
    const size_t elem_offset = q;
    auto type = static_cast<uint8_t>(base_[q++]);
    if (type == 0) {
      return Error(elem_offset, std::string("unexpected end of ") + what + " (" +
                                    std::to_string(last - elem_offset) +
                                    " bytes before the declared end)");
    }
    // Keys are short: a plain loop beats memchr's call overhead, and it collects the high
    // bits so pure-ASCII keys skip UTF-8 validation.
    size_t k = q;
    uint8_t high = 0;
    while (k < last && base_[k] != '\0') high |= static_cast<uint8_t>(base_[k++]);
    if (k == last) return Error(q, "field name is not NUL-terminated");
    const size_t klen = k - q;
    std::string_view key(base_ + q, klen);
    if ((high & 0x80) && options_.validate_utf8) {
      EDDY_RETURN_IF_ERROR(CheckUtf8(q, key.data(), klen, key, "field name"));
    }
    q += klen + 1;
    Value* slot;
    if constexpr (kIsArray) {
      slot = &arr->emplace_back();
    } else {
      Field& f = doc->mutable_fields().emplace_back();
      f.name.append(key.data(), key.size());
      slot = &f.value;
    }
    size_t value_end = 0;
    EDDY_RETURN_IF_ERROR(ParseValue(type, q, last, depth, key, slot, &value_end));
    q = value_end;
  }
  *end = last + 1;
  return Status::OK();
}

Status Decoder::ParseValue(uint8_t type, size_t pos, size_t limit, int depth,
                           std::string_view key, Value* out, size_t* end) {
  auto& st = out->mutable_storage();
  const size_t avail = limit - pos;
  auto need = [&](size_t n) -> Status {
    if (avail >= n) return Status::OK();
    return FieldError(pos, key, "truncated " + std::string(TypeName(static_cast<Type>(type))) +
                                    " value (needs " + std::to_string(n) + " bytes, " +
                                    std::to_string(avail) + " remain)");
  };
  const char* p = base_ + pos;
  switch (static_cast<Type>(type)) {
    case Type::kDouble: {
      EDDY_RETURN_IF_ERROR(need(8));
      double d;
      std::memcpy(&d, p, 8);
      st.emplace<double>(d);
      *end = pos + 8;
      return Status::OK();
    }
    case Type::kString:
    case Type::kSymbol:
    case Type::kJavaScript: {
      std::string_view s;
      EDDY_RETURN_IF_ERROR(ReadString(pos, limit, key, "string", &s, end));
      if (type == static_cast<uint8_t>(Type::kString)) {
        st.emplace<std::string>(s);
      } else if (type == static_cast<uint8_t>(Type::kSymbol)) {
        st.emplace<Symbol>(Symbol{std::string(s)});
      } else {
        st.emplace<Code>(Code{std::string(s)});
      }
      return Status::OK();
    }
    case Type::kDocument: {
      Document& d = st.emplace<Document>();
      return ParseDoc<false>(pos, limit, depth + 1, &d, nullptr, end);
    }
    case Type::kArray: {
      Array& a = st.emplace<Array>();
      return ParseDoc<true>(pos, limit, depth + 1, nullptr, &a, end);
    }
    case Type::kBinary: {
      EDDY_RETURN_IF_ERROR(need(5));
      int32_t len = Get32(p);
      auto subtype = static_cast<uint8_t>(p[4]);
      if (len < 0) {
        return FieldError(pos, key, "binary length " + std::to_string(len) + " is negative");
      }
      if (static_cast<size_t>(len) > avail - 5) {
        return FieldError(pos, key, "binary length " + std::to_string(len) + " exceeds the " +
                                        std::to_string(avail - 5) + " bytes remaining");
      }
      const char* data = p + 5;
      size_t n = static_cast<size_t>(len);
      if (subtype == 2) {
        if (len < 4) {
          return FieldError(pos, key, "binary subtype 2 length " + std::to_string(len) +
                                          " is too short for its inner length");
        }
        int32_t inner = Get32(data);
        if (inner != len - 4) {
          return FieldError(pos, key, "binary subtype 2 inner length " +
                                          std::to_string(inner) + " does not match outer length " +
                                          std::to_string(len));
        }
        data += 4;
        n -= 4;
      }
      Binary& b = st.emplace<Binary>();
      b.subtype = subtype;
      b.data.assign(data, n);
      *end = pos + 5 + static_cast<size_t>(len);
      return Status::OK();
    }
    case Type::kUndefined:
      st.emplace<Undefined>();
      *end = pos;
      return Status::OK();
    case Type::kObjectId: {
      EDDY_RETURN_IF_ERROR(need(12));
      ObjectId& o = st.emplace<ObjectId>();
      std::memcpy(o.bytes.data(), p, 12);
      *end = pos + 12;
      return Status::OK();
    }
    case Type::kBool: {
      EDDY_RETURN_IF_ERROR(need(1));
      auto b = static_cast<uint8_t>(p[0]);
      if (b > 1) {
        return FieldError(pos, key, "invalid boolean byte " + Hex2(b) + " (must be 0 or 1)");
      }
      st.emplace<bool>(b == 1);
      *end = pos + 1;
      return Status::OK();
    }
    case Type::kDateTime:
      EDDY_RETURN_IF_ERROR(need(8));
      st.emplace<DateTime>(DateTime{static_cast<int64_t>(Get64(p))});
      *end = pos + 8;
      return Status::OK();
    case Type::kNull:
      st.emplace<Null>();
      *end = pos;
      return Status::OK();
    case Type::kRegex: {
      const void* n1 = std::memchr(p, 0, avail);
      if (!n1) return FieldError(pos, key, "regex pattern is not NUL-terminated");
      size_t plen = static_cast<size_t>(static_cast<const char*>(n1) - p);
      const char* opts = p + plen + 1;
      const void* n2 = std::memchr(opts, 0, avail - plen - 1);
      if (!n2) return FieldError(pos + plen + 1, key, "regex options are not NUL-terminated");
      size_t olen = static_cast<size_t>(static_cast<const char*>(n2) - opts);
      EDDY_RETURN_IF_ERROR(CheckUtf8(pos, p, plen, key, "regex pattern"));
      EDDY_RETURN_IF_ERROR(CheckUtf8(pos + plen + 1, opts, olen, key, "regex options"));
      Regex& r = st.emplace<Regex>();
      r.pattern.assign(p, plen);
      r.options.assign(opts, olen);
      detail::SortRegexOptions(&r.options);  // stored sorted, as mongod/libbson do
      *end = pos + plen + 1 + olen + 1;
      return Status::OK();
    }
    case Type::kDBPointer: {
      std::string_view ns;
      size_t after = 0;
      EDDY_RETURN_IF_ERROR(ReadString(pos, limit, key, "dbPointer namespace", &ns, &after));
      if (limit - after < 12) return FieldError(after, key, "truncated dbPointer ObjectId");
      DBPointer& d = st.emplace<DBPointer>();
      d.ns.assign(ns);
      std::memcpy(d.id.bytes.data(), base_ + after, 12);
      *end = after + 12;
      return Status::OK();
    }
    case Type::kJavaScriptWithScope: {
      EDDY_RETURN_IF_ERROR(need(4));
      int32_t total = Get32(p);
      // 4 (total) + 4 (string length) + 1 (NUL) + 5 (empty scope).
      if (total < 14) {
        return FieldError(pos, key, "code-with-scope length " + std::to_string(total) +
                                        " is invalid (must be at least 14)");
      }
      if (static_cast<size_t>(total) > avail) {
        return FieldError(pos, key, "code-with-scope length " + std::to_string(total) +
                                        " exceeds the " + std::to_string(avail) +
                                        " bytes remaining");
      }
      const size_t cws_end = pos + static_cast<size_t>(total);
      std::string_view code;
      size_t after = 0;
      EDDY_RETURN_IF_ERROR(ReadString(pos + 4, cws_end, key, "code", &code, &after));
      auto cws = std::make_shared<CodeWithScope>();
      cws->code.assign(code);
      size_t scope_end = 0;
      EDDY_RETURN_IF_ERROR(
          ParseDoc<false>(after, cws_end, depth + 1, &cws->scope, nullptr, &scope_end));
      if (scope_end != cws_end) {
        return FieldError(pos, key, "code-with-scope length " + std::to_string(total) +
                                        " does not match its contents (" +
                                        std::to_string(scope_end - pos) + " bytes)");
      }
      st.emplace<std::shared_ptr<const CodeWithScope>>(std::move(cws));
      *end = cws_end;
      return Status::OK();
    }
    case Type::kInt32: {
      EDDY_RETURN_IF_ERROR(need(4));
      st.emplace<int32_t>(Get32(p));
      *end = pos + 4;
      return Status::OK();
    }
    case Type::kTimestamp:
      EDDY_RETURN_IF_ERROR(need(8));
      st.emplace<Timestamp>(Timestamp::FromUint64(Get64(p)));
      *end = pos + 8;
      return Status::OK();
    case Type::kInt64:
      EDDY_RETURN_IF_ERROR(need(8));
      st.emplace<int64_t>(static_cast<int64_t>(Get64(p)));
      *end = pos + 8;
      return Status::OK();
    case Type::kDecimal128: {
      EDDY_RETURN_IF_ERROR(need(16));
      Decimal128& d = st.emplace<Decimal128>();
      d.low = Get64(p);
      d.high = Get64(p + 8);
      *end = pos + 16;
      return Status::OK();
    }
    case Type::kMinKey:
      st.emplace<MinKey>();
      *end = pos;
      return Status::OK();
    case Type::kMaxKey:
      st.emplace<MaxKey>();
      *end = pos;
      return Status::OK();
    case Type::kEOO: break;
  }
  return FieldError(pos - key.size() - 2, key, "unknown BSON element type " + Hex2(type));
}

}  // namespace

void EncodeTo(const Document& doc, std::string* out) {
  const size_t size = DocSize(doc);
  const size_t old = out->size();
  out->resize(old + size);
  char* end = WriteDoc(out->data() + old, doc);
  EDDY_CHECK(end == out->data() + old + size);
}

std::string Encode(const Document& doc) {
  std::string out;
  EncodeTo(doc, &out);
  return out;
}

size_t EncodedSize(const Document& doc) { return DocSize(doc); }

size_t EncodedValueSize(const Value& v) { return ValueSize(v); }

void AppendValueTo(const Value& v, std::string* out) {
  const size_t size = ValueSize(v);
  const size_t old = out->size();
  out->resize(old + size);
  char* end = WriteValue(out->data() + old, v);
  EDDY_CHECK(end == out->data() + old + size);
}

Result<Document> DecodeRaw(const RawDocument& raw) {
  DecodeOptions o;
  o.max_size = std::numeric_limits<int32_t>::max();
  return Decode(raw.bytes(), o);
}

Result<Document> Decode(std::string_view bytes, const DecodeOptions& options) {
  if (bytes.size() > static_cast<size_t>(std::max(options.max_size, 0))) {
    return Status(ErrorCode::kBSONObjectTooLarge,
                  "BSON document of " + std::to_string(bytes.size()) +
                      " bytes exceeds the maximum of " + std::to_string(options.max_size));
  }
  if (bytes.size() < 5) {
    return Status(ErrorCode::kInvalidBSON, "BSON document of " + std::to_string(bytes.size()) +
                                               " bytes is too short (minimum 5) at offset 0");
  }
  int32_t declared = PeekLength(bytes);
  if (declared < 0 || static_cast<size_t>(declared) != bytes.size()) {
    return Status(ErrorCode::kInvalidBSON,
                  "BSON document length " + std::to_string(declared) +
                      " does not match the " + std::to_string(bytes.size()) +
                      " bytes given at offset 0");
  }
  Decoder decoder(bytes, options);
  Document doc;
  size_t end = 0;
  EDDY_RETURN_IF_ERROR(decoder.ParseDoc<false>(0, bytes.size(), 1, &doc, nullptr, &end));
  return doc;
}

int32_t PeekLength(std::string_view bytes) {
  if (bytes.size() < 4) return -1;
  return Get32(bytes.data());
}

}  // namespace eddy::bson
