#include "bson/raw.h"

#include <cstring>

#include "bson/codec.h"

namespace eddy::bson {
namespace {

int32_t Get32(const char* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

void Put32At(std::string* out, size_t at, int32_t v) { std::memcpy(out->data() + at, &v, 4); }

// Bytes of a value of `type` starting at `p` with `avail` bytes left, or -1 when it cannot fit.
int64_t ValueLength(Type type, const char* p, size_t avail) {
  auto fixed = [&](size_t n) -> int64_t { return avail >= n ? static_cast<int64_t>(n) : -1; };
  auto prefixed = [&](int64_t extra, int64_t min_len) -> int64_t {
    if (avail < 4) return -1;
    int64_t len = Get32(p);
    if (len < min_len) return -1;
    int64_t total = len + extra;
    return static_cast<uint64_t>(total) <= avail ? total : -1;
  };
  switch (type) {
    case Type::kDouble:
    case Type::kDateTime:
    case Type::kTimestamp:
    case Type::kInt64: return fixed(8);
    case Type::kInt32: return fixed(4);
    case Type::kBool: return fixed(1);
    case Type::kObjectId: return fixed(12);
    case Type::kDecimal128: return fixed(16);
    case Type::kNull:
    case Type::kUndefined:
    case Type::kMinKey:
    case Type::kMaxKey: return 0;
    case Type::kString:
    case Type::kSymbol:
    case Type::kJavaScript: {
      int64_t n = prefixed(4, 1);
      return n >= 0 && p[n - 1] == '\0' ? n : -1;
    }
    case Type::kDocument:
    case Type::kArray: {
      int64_t n = prefixed(0, 5);
      return n >= 0 && p[n - 1] == '\0' ? n : -1;
    }
    case Type::kJavaScriptWithScope: return prefixed(0, 14);
    case Type::kBinary: return prefixed(5, 0);
    case Type::kDBPointer: {
      int64_t n = prefixed(4, 1);
      return n >= 0 && static_cast<uint64_t>(n) + 12 <= avail ? n + 12 : -1;
    }
    case Type::kRegex: {
      const void* a = std::memchr(p, 0, avail);
      if (!a) return -1;
      size_t first = static_cast<const char*>(a) - p + 1;
      const void* b = std::memchr(p + first, 0, avail - first);
      if (!b) return -1;
      return static_cast<const char*>(b) - p + 1;
    }
    case Type::kEOO: break;
  }
  return -1;
}

}  // namespace

int64_t RawElement::int64_bits() const {
  int64_t v;
  std::memcpy(&v, value.data(), 8);
  return v;
}

RawIterator::RawIterator(std::string_view doc) : doc_(doc) {
  if (doc.size() < 5 || Get32(doc.data()) != static_cast<int32_t>(doc.size()) ||
      doc.back() != '\0') {
    Fail("document length does not match its " + std::to_string(doc.size()) + " bytes");
  }
}

bool RawIterator::Fail(std::string what) {
  if (status_.ok()) status_ = Status(ErrorCode::kInvalidBSON, "malformed BSON: " + what);
  pos_ = doc_.size();
  return false;
}

bool RawIterator::Next(RawElement* e) {
  if (!status_.ok() || pos_ + 1 >= doc_.size()) return false;  // the last byte is the EOO
  const char* base = doc_.data();
  const size_t end = doc_.size() - 1;
  auto type = static_cast<Type>(static_cast<uint8_t>(base[pos_]));
  if (type == Type::kEOO) return Fail("element type 0 before the end at offset " + std::to_string(pos_));
  size_t name_at = pos_ + 1;
  size_t name_end = name_at;  // names are short: a loop beats a memchr call
  while (name_end < end && base[name_end] != '\0') ++name_end;
  if (name_end == end) return Fail("field name is not NUL-terminated at offset " + std::to_string(name_at));
  size_t name_len = name_end - name_at;
  size_t value_at = name_at + name_len + 1;
  int64_t len = ValueLength(type, base + value_at, end - value_at);
  if (len < 0) {
    return Fail("element '" + std::string(base + name_at, name_len) + "' of type " +
                std::to_string(static_cast<int>(type)) + " does not fit at offset " +
                std::to_string(value_at));
  }
  e->type = type;
  e->name = std::string_view(base + name_at, name_len);
  e->value = std::string_view(base + value_at, static_cast<size_t>(len));
  pos_ = value_at + static_cast<size_t>(len);
  return true;
}

bool FindRawElement(std::string_view doc, std::string_view name, RawElement* out, Status* status) {
  RawIterator it(doc);
  while (it.Next(out)) {
    if (out->name == name) return true;
  }
  if (status) *status = it.status();
  return false;
}

bool FindRawPath(std::string_view doc, std::string_view path, RawElement* out) {
  for (;;) {
    const size_t dot = path.find('.');
    if (!FindRawElement(doc, path.substr(0, dot), out)) return false;
    if (dot == std::string_view::npos) return true;
    if (out->type != Type::kDocument) return false;
    doc = out->value;
    path = path.substr(dot + 1);
  }
}

RawBuilder::RawBuilder(std::string* out) : out_(out), start_(out->size()) {
  out_->append(4, '\0');
}

void RawBuilder::Header(Type type, std::string_view name) {
  // One append per header (a change event is a dozen elements, built per event).
  char buf[64];
  if (name.size() + 2 > sizeof(buf)) {
    out_->push_back(static_cast<char>(type));
    out_->append(name);
    out_->push_back('\0');
    return;
  }
  buf[0] = static_cast<char>(type);
  std::memcpy(buf + 1, name.data(), name.size());
  buf[name.size() + 1] = '\0';
  out_->append(buf, name.size() + 2);
}

char* RawBuilder::Element(Type type, std::string_view name, size_t value_size) {
  Header(type, name);
  const size_t at = out_->size();
  out_->resize(at + value_size);
  return out_->data() + at;
}

char* RawBuilder::AppendStringUninitialized(std::string_view name, size_t size) {
  char* p = Element(Type::kString, name, 4 + size + 1);
  auto len = static_cast<int32_t>(size + 1);
  std::memcpy(p, &len, 4);
  p[4 + size] = '\0';
  return p + 4;
}

void RawBuilder::AppendString(std::string_view name, std::string_view value) {
  Header(Type::kString, name);
  auto len = static_cast<int32_t>(value.size() + 1);
  out_->append(reinterpret_cast<const char*>(&len), 4);
  out_->append(value);
  out_->push_back('\0');
}

void RawBuilder::AppendTimestamp(std::string_view name, Timestamp ts) {
  uint64_t v = ts.AsUint64();
  Header(Type::kTimestamp, name);
  out_->append(reinterpret_cast<const char*>(&v), 8);
}

void RawBuilder::AppendNull(std::string_view name) { Header(Type::kNull, name); }

void RawBuilder::AppendEncoded(std::string_view name, Type type, std::string_view value) {
  Header(type, name);
  out_->append(value);
}

void RawBuilder::AppendValue(std::string_view name, const Value& v) {
  Header(v.type(), name);
  AppendValueTo(v, out_);
}

size_t RawBuilder::Open(std::string_view name, Type type) {
  char* p = Element(type, name, 4);
  return static_cast<size_t>(p - out_->data());
}

void RawBuilder::Close(size_t start) {
  out_->push_back('\0');
  Put32At(out_, start, static_cast<int32_t>(out_->size() - start));
}

size_t RawBuilder::Finish() {
  Close(start_);
  return out_->size() - start_;
}

}  // namespace eddy::bson
