// Internal: UTF-8 validation shared by the codec and the JSON parser.
#pragma once
#include <cstddef>

namespace eddy::bson::detail {

// True when [s, s+n) is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF). NUL bytes are allowed (BSON strings may contain them). When false,
// *bad_offset (if given) is the offset of the first byte of the bad sequence.
bool ValidUtf8(const char* s, size_t n, size_t* bad_offset = nullptr);

}  // namespace eddy::bson::detail
