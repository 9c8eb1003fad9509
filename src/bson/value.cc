#include "bson/value.h"

#include <cmath>
#include <limits>

namespace eddy::bson {

Document::Document(std::initializer_list<Field> fields) : fields_(fields) {}

std::vector<Field>::const_iterator Document::begin() const { return fields_.begin(); }
std::vector<Field>::const_iterator Document::end() const { return fields_.end(); }
std::vector<Field>::iterator Document::begin() { return fields_.begin(); }
std::vector<Field>::iterator Document::end() { return fields_.end(); }
const Field& Document::at(size_t i) const { return fields_[i]; }
Field& Document::at(size_t i) { return fields_[i]; }

const Value* Document::Get(std::string_view name) const {
  for (const Field& f : fields_) {
    if (f.name == name) return &f.value;
  }
  return nullptr;
}

Value* Document::GetMutable(std::string_view name) {
  for (Field& f : fields_) {
    if (f.name == name) return &f.value;
  }
  return nullptr;
}

Document& Document::Append(std::string name, Value value) {
  fields_.push_back(Field{std::move(name), std::move(value)});
  return *this;
}

Document& Document::Set(std::string_view name, Value value) {
  if (Value* v = GetMutable(name)) {
    *v = std::move(value);
  } else {
    fields_.push_back(Field{std::string(name), std::move(value)});
  }
  return *this;
}

bool Document::Remove(std::string_view name) {
  size_t before = fields_.size();
  std::erase_if(fields_, [&](const Field& f) { return f.name == name; });
  return fields_.size() != before;
}

void Document::Clear() { fields_.clear(); }

bool Document::operator==(const Document& other) const { return fields_ == other.fields_; }

Type Value::type() const {
  static constexpr Type kTypes[] = {
      Type::kMinKey,   Type::kDouble,    Type::kString,   Type::kDocument,  Type::kArray,
      Type::kBinary,   Type::kUndefined, Type::kObjectId, Type::kBool,      Type::kDateTime,
      Type::kNull,     Type::kRegex,     Type::kDBPointer, Type::kJavaScript, Type::kSymbol,
      Type::kJavaScriptWithScope, Type::kInt32, Type::kTimestamp, Type::kInt64,
      Type::kDecimal128, Type::kMaxKey, Type::kDocument /* RawDocument */};
  static_assert(std::size(kTypes) == std::variant_size_v<Storage>);
  return kTypes[v_.index()];
}

bool Value::is_number() const {
  return is_int32() || is_int64() || is_double() || is_decimal();
}

double Value::ToDouble() const {
  if (is_double()) return as_double_exact();
  if (is_int32()) return as_int32();
  if (is_int64()) return static_cast<double>(as_int64());
  if (is_decimal()) return as_decimal().ToDouble();
  return 0;
}

int64_t Value::ToInt64() const {
  if (is_int32()) return as_int32();
  if (is_int64()) return as_int64();
  double d = ToDouble();
  if (std::isnan(d)) return 0;
  if (d >= 9.2233720368547758e18) return std::numeric_limits<int64_t>::max();
  if (d <= -9.2233720368547758e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(d);
}

Decimal128 Value::ToDecimal() const {
  if (is_decimal()) return as_decimal();
  if (is_int32()) return Decimal128::FromInt64(as_int32());
  if (is_int64()) return Decimal128::FromInt64(as_int64());
  return Decimal128::FromDouble(ToDouble());
}

bool Value::Truthy() const {
  if (is_bool()) return as_bool();
  if (is_nullish()) return false;
  if (is_int32()) return as_int32() != 0;
  if (is_int64()) return as_int64() != 0;
  if (is_double()) return as_double_exact() != 0;
  if (is_decimal()) {
    double d = as_decimal().ToDouble();
    return d != 0;
  }
  return true;
}

bool Value::operator==(const Value& other) const {
  // Code-with-scope is held by pointer; compare what it points to, not the pointer.
  using Cws = std::shared_ptr<const CodeWithScope>;
  if (const Cws* a = std::get_if<Cws>(&v_)) {
    const Cws* b = std::get_if<Cws>(&other.v_);
    if (b == nullptr) return false;
    if (*a == *b) return true;
    static const CodeWithScope kEmpty;
    return (*a ? **a : kEmpty) == (*b ? **b : kEmpty);
  }
  return v_ == other.v_;
}

}  // namespace eddy::bson
