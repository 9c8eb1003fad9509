#include "base/status.h"

namespace eddy {

std::string ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "OK";
#define EDDY_ERROR(name, number) \
  case ErrorCode::k##name:       \
    return #name;
#include "base/error_codes.def"
#undef EDDY_ERROR
  }
  return "Location" + std::to_string(static_cast<int32_t>(code));
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return code_name() + " (" + std::to_string(code_number()) + "): " + std::string(message());
}

Status Status::WithPrefix(std::string_view prefix) const {
  if (ok()) return *this;
  Status out(code(), std::string(prefix) + std::string(message()));
  if (has_extra_info()) return out.WithExtraInfo(rep_->extra);
  return out;
}

Status Status::WithExtraInfo(std::string bson_document) const {
  if (ok()) return *this;
  Status out;
  out.rep_ = std::make_shared<const Rep>(Rep{rep_->code, rep_->message, std::move(bson_document)});
  return out;
}

}  // namespace eddy
