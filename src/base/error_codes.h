// MongoDB's error codes, one list (error_codes.def) for the enum and the codeName strings.
#pragma once
#include <cstdint>
#include <string>

namespace eddy {

// Any int32 is a valid ErrorCode: MongoDB reports many assertions by bare number
// (codeName "Location<N>"), so the enum names only the codes eddy refers to by name.
enum class ErrorCode : int32_t {
  kOk = 0,
#define EDDY_ERROR(name, number) k##name = number,
#include "base/error_codes.def"
#undef EDDY_ERROR
};

// kDuplicateKey -> "DuplicateKey"; an unnamed code N -> "Location<N>", as mongod does.
std::string ErrorCodeName(ErrorCode code);

}  // namespace eddy
