// The BSON value model: an owned document tree (Document, Array, Value) used by the query,
// update and aggregation code. Bytes <-> tree lives in codec.h, the type order in compare.h,
// Extended JSON in json.h.
//
// Field order is preserved (BSON documents are ordered); duplicate names are representable
// because the wire can carry them, but Set() keeps the first. Values are plain data: copyable,
// movable, no shared state, safe to use from any thread as long as one thread writes.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace eddy::bson {

// BSON element type bytes (bsonspec.org). Persistent format: do not renumber.
enum class Type : uint8_t {
  kEOO = 0x00,
  kDouble = 0x01,
  kString = 0x02,
  kDocument = 0x03,
  kArray = 0x04,
  kBinary = 0x05,
  kUndefined = 0x06,
  kObjectId = 0x07,
  kBool = 0x08,
  kDateTime = 0x09,
  kNull = 0x0A,
  kRegex = 0x0B,
  kDBPointer = 0x0C,
  kJavaScript = 0x0D,
  kSymbol = 0x0E,
  kJavaScriptWithScope = 0x0F,
  kInt32 = 0x10,
  kTimestamp = 0x11,
  kInt64 = 0x12,
  kDecimal128 = 0x13,
  kMinKey = 0xFF,
  kMaxKey = 0x7F,
};

// MongoDB's $type alias ("double", "string", "object", ...) for a type; "unknown" if none.
std::string_view TypeName(Type t);

struct MinKey {
  bool operator==(const MinKey&) const = default;
};
struct MaxKey {
  bool operator==(const MaxKey&) const = default;
};
struct Null {
  bool operator==(const Null&) const = default;
};
struct Undefined {
  bool operator==(const Undefined&) const = default;
};

struct ObjectId {
  std::array<uint8_t, 12> bytes{};
  // A new id: 4-byte big-endian seconds, 5 random bytes per process, 3-byte counter.
  static ObjectId Generate();
  static bool FromHex(std::string_view hex, ObjectId* out);  // false unless 24 hex digits
  std::string ToHex() const;
  uint32_t seconds() const;  // the embedded creation time
  auto operator<=>(const ObjectId&) const = default;
};

// MongoDB's internal timestamp (cluster time): ordered by seconds, then increment.
struct Timestamp {
  uint32_t seconds = 0;
  uint32_t increment = 0;
  uint64_t AsUint64() const { return (uint64_t{seconds} << 32) | increment; }
  static Timestamp FromUint64(uint64_t v) {
    return {static_cast<uint32_t>(v >> 32), static_cast<uint32_t>(v)};
  }
  auto operator<=>(const Timestamp&) const = default;
};

// Milliseconds since the Unix epoch (BSON UTC datetime).
struct DateTime {
  int64_t millis = 0;
  auto operator<=>(const DateTime&) const = default;
};

// IEEE 754-2008 decimal128, BID encoding, as stored in BSON (little-endian low/high words).
struct Decimal128 {
  uint64_t low = 0;
  uint64_t high = 0;
  static Decimal128 FromString(std::string_view s, bool* ok = nullptr);  // NaN when invalid
  static Decimal128 FromInt64(int64_t v);
  static Decimal128 FromDouble(double v);  // 15 significant digits, as MongoDB converts
  std::string ToString() const;            // e.g. "1.5", "NaN", "-Infinity", "1E+3"
  double ToDouble() const;
  bool IsNaN() const;
  bool operator==(const Decimal128&) const = default;  // bitwise; use Compare for numeric
};

struct Binary {
  uint8_t subtype = 0;
  std::string data;
  bool operator==(const Binary&) const = default;
};

struct Regex {
  std::string pattern;
  std::string options;  // stored sorted, as libbson and mongod do
  bool operator==(const Regex&) const = default;
};

struct Code {
  std::string code;
  bool operator==(const Code&) const = default;
};

struct Symbol {
  std::string symbol;
  bool operator==(const Symbol&) const = default;
};

struct DBPointer {
  std::string ns;
  ObjectId id;
  bool operator==(const DBPointer&) const = default;
};

class Value;
struct Field;
struct CodeWithScope;

// A document carried as its BSON encoding: `size` bytes at `offset` of a shared buffer (e.g.
// a change event built straight from the change log, in a buffer shared by its reply batch).
// type() is kDocument and the codec writes the bytes verbatim, so a reply can carry documents
// that were never a Document. Only the codec (EncodeTo, EncodedSize, DecodeRaw), Compare, Hash
// and ToJson look inside; is_document() is false for it (DecodeRaw in codec.h gives a Document).
// REQUIRES: the bytes are one valid BSON document.
struct RawDocument {
  std::shared_ptr<const std::string> buffer;
  size_t offset = 0;
  size_t size = 0;
  std::string_view bytes() const { return std::string_view(*buffer).substr(offset, size); }
  bool operator==(const RawDocument& other) const { return bytes() == other.bytes(); }
};

// An ordered list of (name, value) fields.
class Document {
 public:
  Document() = default;
  Document(std::initializer_list<Field> fields);
  // Declared here, defaulted below Field, so Field need not be complete yet (clang).
  ~Document();
  Document(const Document&);
  Document(Document&&) noexcept;
  Document& operator=(const Document&);
  Document& operator=(Document&&) noexcept;

  size_t size() const;  // defined below Field: clang needs Field complete here
  bool empty() const;
  std::vector<Field>::const_iterator begin() const;
  std::vector<Field>::const_iterator end() const;
  std::vector<Field>::iterator begin();
  std::vector<Field>::iterator end();
  const Field& at(size_t i) const;
  Field& at(size_t i);
  const std::vector<Field>& fields() const { return fields_; }
  std::vector<Field>& mutable_fields() { return fields_; }

  // The first field with this name, or nullptr. Linear: documents are small.
  const Value* Get(std::string_view name) const;
  Value* GetMutable(std::string_view name);
  bool Has(std::string_view name) const { return Get(name) != nullptr; }

  // Appends without checking for an existing name.
  Document& Append(std::string name, Value value);
  // Replaces the first field with this name in place, or appends.
  Document& Set(std::string_view name, Value value);
  // Removes every field with this name; returns whether one existed.
  bool Remove(std::string_view name);
  void Clear();

  bool operator==(const Document& other) const;  // exact: names, order, types, values

 private:
  std::vector<Field> fields_;
};

using Array = std::vector<Value>;

class Value {
 public:
  using Storage = std::variant<MinKey, double, std::string, Document, Array, Binary, Undefined,
                               ObjectId, bool, DateTime, Null, Regex, DBPointer, Code, Symbol,
                               std::shared_ptr<const CodeWithScope>, int32_t, Timestamp, int64_t,
                               Decimal128, MaxKey, RawDocument>;

  Value() : v_(Null{}) {}  // null
  Value(double d) : v_(d) {}
  Value(int32_t i) : v_(i) {}
  Value(int64_t i) : v_(i) {}
  Value(bool b) : v_(b) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(std::string_view s) : v_(std::string(s)) {}
  Value(Document d) : v_(std::move(d)) {}
  Value(Array a) : v_(std::move(a)) {}
  Value(Binary b) : v_(std::move(b)) {}
  Value(ObjectId o) : v_(o) {}
  Value(DateTime d) : v_(d) {}
  Value(Timestamp t) : v_(t) {}
  Value(Decimal128 d) : v_(d) {}
  Value(Regex r) : v_(std::move(r)) {}
  Value(Code c) : v_(std::move(c)) {}
  Value(Symbol s) : v_(std::move(s)) {}
  Value(DBPointer p) : v_(std::move(p)) {}
  Value(std::shared_ptr<const CodeWithScope> c) : v_(std::move(c)) {}
  Value(Null n) : v_(n) {}
  Value(Undefined u) : v_(u) {}
  Value(MinKey k) : v_(k) {}
  Value(MaxKey k) : v_(k) {}
  Value(RawDocument r) : v_(std::move(r)) {}

  Type type() const;
  const Storage& storage() const { return v_; }
  Storage& mutable_storage() { return v_; }

  bool is_null() const { return std::holds_alternative<Null>(v_); }
  bool is_undefined() const { return std::holds_alternative<Undefined>(v_); }
  bool is_nullish() const { return is_null() || is_undefined(); }
  bool is_number() const;  // int32, int64, double, decimal128
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_document() const { return std::holds_alternative<Document>(v_); }
  bool is_array() const { return std::holds_alternative<Array>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_int32() const { return std::holds_alternative<int32_t>(v_); }
  bool is_int64() const { return std::holds_alternative<int64_t>(v_); }
  bool is_double() const { return std::holds_alternative<double>(v_); }
  bool is_decimal() const { return std::holds_alternative<Decimal128>(v_); }
  // An encoded document (RawDocument); type() is kDocument but is_document() is false.
  bool is_raw_document() const { return std::holds_alternative<RawDocument>(v_); }

  // Typed access. REQUIRES: the matching is_*() is true.
  double as_double_exact() const { return std::get<double>(v_); }
  int32_t as_int32() const { return std::get<int32_t>(v_); }
  int64_t as_int64() const { return std::get<int64_t>(v_); }
  bool as_bool() const { return std::get<bool>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  std::string& as_string() { return std::get<std::string>(v_); }
  const Document& as_document() const { return std::get<Document>(v_); }
  Document& as_document() { return std::get<Document>(v_); }
  const Array& as_array() const { return std::get<Array>(v_); }
  Array& as_array() { return std::get<Array>(v_); }
  const ObjectId& as_object_id() const { return std::get<ObjectId>(v_); }
  DateTime as_date() const { return std::get<DateTime>(v_); }
  Timestamp as_timestamp() const { return std::get<Timestamp>(v_); }
  const Decimal128& as_decimal() const { return std::get<Decimal128>(v_); }
  const Binary& as_binary() const { return std::get<Binary>(v_); }
  const Regex& as_regex() const { return std::get<Regex>(v_); }
  const RawDocument& as_raw_document() const { return std::get<RawDocument>(v_); }

  // Numeric conversions. REQUIRES: is_number().
  double ToDouble() const;
  int64_t ToInt64() const;  // truncates doubles/decimals; saturates out of range; NaN -> 0
  Decimal128 ToDecimal() const;

  // BSON truthiness as in aggregation: false, null, undefined, 0 (any numeric type) are false.
  bool Truthy() const;

  // Exact equality: same type and same value (1 != 1.0). For MongoDB equality use Compare().
  bool operator==(const Value& other) const;

 private:
  Storage v_;
};

struct Field {
  std::string name;
  Value value;
  bool operator==(const Field& other) const = default;
};

inline Document::~Document() = default;
inline Document::Document(const Document&) = default;
inline Document::Document(Document&&) noexcept = default;
inline Document& Document::operator=(const Document&) = default;
inline Document& Document::operator=(Document&&) noexcept = default;
inline size_t Document::size() const { return fields_.size(); }
inline bool Document::empty() const { return fields_.empty(); }

struct CodeWithScope {
  std::string code;
  Document scope;
  bool operator==(const CodeWithScope& other) const = default;
};

// Convenience builders for tests and code that assembles replies.
inline Document& operator<<(Document& d, Field f) { return d.Append(std::move(f.name), std::move(f.value)); }

}  // namespace eddy::bson
