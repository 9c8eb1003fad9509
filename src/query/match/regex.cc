#include "query/match/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>

namespace eddy::query {

Result<std::shared_ptr<const CompiledRegex>> CompiledRegex::Compile(std::string_view pattern,
                                                                   std::string_view options) {
  if (pattern.find('\0') != std::string_view::npos) {
    return Status(static_cast<ErrorCode>(51095),
                  "Regular expression cannot contain an embedded null byte");
  }
  if (options.find('\0') != std::string_view::npos) {
    return Status(static_cast<ErrorCode>(51096),
                  "Regular expression options string cannot contain an embedded null byte");
  }
  uint32_t flags = PCRE2_UTF;
  for (char c : options) {
    switch (c) {
      case 'i': flags |= PCRE2_CASELESS; break;
      case 'm': flags |= PCRE2_MULTILINE; break;
      case 's': flags |= PCRE2_DOTALL; break;
      case 'x': flags |= PCRE2_EXTENDED; break;
      case 'u': break;
      default:
        return Status(static_cast<ErrorCode>(51108),
                      std::string("invalid flag in regex options: ") + c);
    }
  }
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   flags, &error_code, &error_offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(error_code, buf, sizeof(buf));
    return Status(static_cast<ErrorCode>(51091),
                  "Regular expression is invalid: " + std::string(reinterpret_cast<char*>(buf)));
  }
  // JIT is an optimisation only; the interpreter is used when it is unavailable.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  std::shared_ptr<CompiledRegex> re(new CompiledRegex());
  re->pattern_ = std::string(pattern);
  re->options_ = std::string(options);
  std::sort(re->options_.begin(), re->options_.end());
  re->code_ = code;
  return std::shared_ptr<const CompiledRegex>(std::move(re));
}

CompiledRegex::~CompiledRegex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

bool CompiledRegex::Matches(std::string_view subject) const {
  auto* code = static_cast<pcre2_code*>(code_);
  // Match data is per call: the compiled code is shared between threads, match data is not.
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
  if (md == nullptr) return false;
  int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0,
                       md, nullptr);
  pcre2_match_data_free(md);
  return rc >= 0;
}

}  // namespace eddy::query
