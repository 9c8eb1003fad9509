// A PCRE2 regular expression compiled once and shared: the matcher's $regex, /re/ literals and
// regexes inside $in/$all use it, and aggregation's $regexMatch family can too.
//
// Options are MongoDB's: i (caseless), m (multiline), s (dotall), x (extended), u (UTF; always
// on, as in mongod). Any other letter is an error.
// Thread-safety: Matches() may be called concurrently; the compiled code is immutable.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace eddy::query {

class CompiledRegex {
 public:
  // Errors: BadValue 51108 "invalid flag in regex options: z"; 51091 "Regular expression is
  // invalid: <pcre2 message>"; 51095/51096 for embedded NUL bytes.
  static Result<std::shared_ptr<const CompiledRegex>> Compile(std::string_view pattern,
                                                             std::string_view options);
  ~CompiledRegex();
  CompiledRegex(const CompiledRegex&) = delete;
  CompiledRegex& operator=(const CompiledRegex&) = delete;

  // True if the pattern matches anywhere in `subject` (unanchored search, as MongoDB does).
  // A subject that is not valid UTF-8 never matches.
  bool Matches(std::string_view subject) const;

  const std::string& pattern() const { return pattern_; }
  const std::string& options() const { return options_; }  // sorted, as BSON stores them

 private:
  CompiledRegex() = default;
  std::string pattern_;
  std::string options_;
  void* code_ = nullptr;  // pcre2_code_8*: kept out of this header so pcre2.h stays private
};

}  // namespace eddy::query
