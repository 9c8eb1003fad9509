// Encoded BSON without the value tree: reading a document's elements in place (RawIterator)
// and writing a document element by element (RawBuilder). For hot paths that move documents
// through the server without looking inside them, e.g. change events built straight from
// change-log entries, whose documents are copied as bytes.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "bson/value.h"

namespace eddy::bson {

// One element of an encoded document.
struct RawElement {
  Type type = Type::kEOO;
  std::string_view name;
  std::string_view value;  // the value's bytes (a document or array: its whole encoding)

  // Typed reads. REQUIRES: the matching type (the iterator checked the value's length).
  std::string_view string_value() const { return value.substr(4, value.size() - 5); }
  int64_t int64_bits() const;  // the 8 bytes of a double/date/timestamp/int64, little-endian
  Timestamp timestamp_value() const { return Timestamp::FromUint64(static_cast<uint64_t>(int64_bits())); }
};

// The top-level elements of one encoded document, in order. Checks bounds (the document's and
// each value's length, NUL-terminated names and strings) but not nested documents' contents
// nor UTF-8: for bytes this server encoded itself (its change log, its own events), where a
// check failing means corruption, reported as InvalidBSON instead of being read past.
class RawIterator {
 public:
  explicit RawIterator(std::string_view doc);
  // The next element into *e; false at the end or on malformed bytes (then !status().ok()).
  bool Next(RawElement* e);
  const Status& status() const { return status_; }

 private:
  bool Fail(std::string what);
  std::string_view doc_;
  size_t pos_ = 4;
  Status status_;
};

// The first element named `name` of an encoded document; false when there is none or the
// bytes are malformed (*status says which, if given).
bool FindRawElement(std::string_view doc, std::string_view name, RawElement* out,
                    Status* status = nullptr);
// The element at a dotted path through embedded documents ("doc.region"); false when a step
// is missing or not a document (arrays are not entered) or the bytes are malformed.
bool FindRawPath(std::string_view doc, std::string_view path, RawElement* out);

// Appends one document to a string, element by element (names must not contain NUL).
//   RawBuilder b(&out);
//   b.AppendString("op", "insert");
//   size_t ns = b.OpenDocument("ns"); b.AppendString("db", "a"); b.CloseDocument(ns);
//   b.Finish();
class RawBuilder {
 public:
  // Starts a document at the end of *out.
  explicit RawBuilder(std::string* out);
  RawBuilder(const RawBuilder&) = delete;
  RawBuilder& operator=(const RawBuilder&) = delete;

  void AppendString(std::string_view name, std::string_view value);
  // A string of `size` bytes whose contents the caller writes at the returned pointer (valid
  // until the next append).
  char* AppendStringUninitialized(std::string_view name, size_t size);
  void AppendTimestamp(std::string_view name, Timestamp ts);
  void AppendNull(std::string_view name);
  // An encoded document (or, with kArray, array) under `name`, copied as-is.
  void AppendEncoded(std::string_view name, Type type, std::string_view value);
  // Another document's element, value copied as-is, under its own name or `name`.
  void AppendElement(const RawElement& e) { AppendEncoded(e.name, e.type, e.value); }
  void AppendElement(std::string_view name, const RawElement& e) {
    AppendEncoded(name, e.type, e.value);
  }
  void AppendValue(std::string_view name, const Value& v);
  // A nested document or array: Open returns its start, Close finishes it (LIFO).
  size_t OpenDocument(std::string_view name) { return Open(name, Type::kDocument); }
  size_t OpenArray(std::string_view name) { return Open(name, Type::kArray); }
  void CloseDocument(size_t start) { Close(start); }
  void CloseArray(size_t start) { Close(start); }
  // Finishes the top-level document; returns its size. No append may follow.
  size_t Finish();

 private:
  void Header(Type type, std::string_view name);
  // Appends the element's type and name and room for its value; returns where the value goes.
  char* Element(Type type, std::string_view name, size_t value_size);
  size_t Open(std::string_view name, Type type);
  void Close(size_t start);
  std::string* out_;
  size_t start_;
};

}  // namespace eddy::bson
