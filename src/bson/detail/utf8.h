// Internal: UTF-8 validation shared by the codec and the JSON parser.
#pragma once
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <string>

namespace eddy::bson::detail {

// True when [s, s+n) is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF). NUL bytes are allowed (BSON strings may contain them). When false,
// *bad_offset (if given) is the offset of the first byte of the bad sequence.
bool ValidUtf8(const char* s, size_t n, size_t* bad_offset = nullptr);

// True when every byte is < 0x80; inline because most keys and strings are short ASCII.
inline bool AsciiOnly(const char* s, size_t n) {
  uint64_t acc = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, s + i, 8);
    acc |= w;
  }
  for (; i < n; ++i) acc |= static_cast<uint8_t>(s[i]);
  return (acc & 0x8080808080808080ull) == 0;
}

// Regex options are stored sorted (as mongod and libbson do). Only ASCII option strings are
// sorted: real flags are ASCII, and sorting bytes of a multi-byte character would corrupt it.
inline void SortRegexOptions(std::string* options) {
  if (AsciiOnly(options->data(), options->size())) std::sort(options->begin(), options->end());
}

}  // namespace eddy::bson::detail
