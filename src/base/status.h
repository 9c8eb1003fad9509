// Status and Result<T>: errors are values carrying MongoDB's codes. Exceptions never cross a
// module boundary; every error ends up on the wire as {ok: 0, code, codeName, errmsg} plus
// the error's extra fields, if any (MongoDB's ErrorExtraInfo: DuplicateKey's keyPattern and
// keyValue, DocumentValidationFailure's errInfo).
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "base/error_codes.h"

namespace eddy {

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK: one null pointer, so returning OK costs nothing.
  Status(ErrorCode code, std::string message)
      : rep_(std::make_shared<const Rep>(Rep{code, std::move(message), {}})) {}
  static Status OK() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  ErrorCode code() const { return ok() ? ErrorCode::kOk : rep_->code; }
  int32_t code_number() const { return static_cast<int32_t>(code()); }
  std::string code_name() const { return ErrorCodeName(code()); }
  std::string_view message() const { return ok() ? std::string_view() : rep_->message; }
  // "DuplicateKey (11000): E11000 duplicate key ..." for logs and test failures.
  std::string ToString() const;

  // Returns a copy whose message is "<prefix><message>" (extra info kept).
  Status WithPrefix(std::string_view prefix) const;

  // Extra reply fields, as the bytes of one BSON document whose fields are appended to the
  // error reply or writeErrors entry beside code/errmsg ({keyPattern, keyValue} or {errInfo}).
  // base does not depend on bson, so the document travels encoded; empty when there is none
  // (the common case costs one empty string in the error's shared state, nothing when OK).
  std::string_view extra_info() const { return ok() ? std::string_view() : rep_->extra; }
  bool has_extra_info() const { return !extra_info().empty(); }
  // Returns a copy carrying `bson_document` as its extra info (replacing any). On an OK
  // status returns OK: success has no error fields.
  Status WithExtraInfo(std::string bson_document) const;

 private:
  struct Rep {
    ErrorCode code;
    std::string message;
    std::string extra;  // encoded BSON document or empty
  };
  std::shared_ptr<const Rep> rep_;  // immutable, so copies share it
};

// A T or a non-OK Status.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT; REQUIRES: !status.ok()
  Result(ErrorCode code, std::string message) : v_(Status(code, std::move(message))) {}

  bool ok() const { return v_.index() == 0; }
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  Status status() const { return ok() ? Status::OK() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

#define EDDY_CONCAT_INNER(a, b) a##b
#define EDDY_CONCAT(a, b) EDDY_CONCAT_INNER(a, b)

#define EDDY_RETURN_IF_ERROR(expr)                         \
  do {                                                     \
    if (::eddy::Status s_ = (expr); !s_.ok()) return s_;   \
  } while (0)

#define EDDY_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()

// EDDY_ASSIGN_OR_RETURN(auto x, F()); returns F()'s Status when it fails.
#define EDDY_ASSIGN_OR_RETURN(lhs, expr) \
  EDDY_ASSIGN_OR_RETURN_IMPL(EDDY_CONCAT(eddy_r_, __LINE__), lhs, expr)

}  // namespace eddy
