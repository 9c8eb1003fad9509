// String operators: $regexMatch $regexFind $regexFindAll $split $trim $ltrim $rtrim $indexOfCP
// $indexOfBytes $strcasecmp $substr $substrBytes $strLenBytes $replaceOne $replaceAll.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cmath>

#include "query/expr/expression.h"
#include "query/expr/value_util.h"
#include "query/match/regex.h"

namespace eddy::query::expr_internal {
namespace {

using bson::Array;
using bson::Document;
using bson::Value;

std::string TN(const MaybeValue& v) { return std::string(TypeNameOf(v)); }
MaybeValue Null() { return MaybeValue(Value()); }
bool IsCont(unsigned char c) { return (c & 0xC0) == 0x80; }

void Register(const std::string& name, int min_args, int max_args, OperatorFn fn) {
  RegisterExpression(name, [name, min_args, max_args, fn](const Value& args,
                                                          const ParseContext& ctx)
                               -> Result<ExpressionPtr> {
    EDDY_ASSIGN_OR_RETURN(auto operands, ParseOperands(name, args, ctx, min_args, max_args));
    return MakeOperator(std::move(operands), fn);
  });
}

// ---- regex

// A PCRE2 pattern with capture support (query/match's CompiledRegex only answers yes/no).
class Pcre {
 public:
  static Result<std::shared_ptr<const Pcre>> Compile(const std::string& op,
                                                     const std::string& pattern,
                                                     const std::string& options) {
    // Validation and mongod's messages come from the matcher's regex.
    Result<std::shared_ptr<const CompiledRegex>> check = CompiledRegex::Compile(pattern, options);
    if (!check.ok()) {
      return Status(check.status().code(),
                    op + ": " + std::string(check.status().message()));
    }
    uint32_t flags = PCRE2_UTF;
    for (char c : options) {
      if (c == 'i') flags |= PCRE2_CASELESS;
      if (c == 'm') flags |= PCRE2_MULTILINE;
      if (c == 's') flags |= PCRE2_DOTALL;
      if (c == 'x') flags |= PCRE2_EXTENDED;
    }
    int err = 0;
    PCRE2_SIZE off = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                     flags, &err, &off, nullptr);
    if (code == nullptr) return Error(51111, op + ": Invalid regular expression");
    auto p = std::make_shared<Pcre>();
    p->code_ = code;
    uint32_t n = 0;
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &n);
    p->captures_ = n;
    return std::shared_ptr<const Pcre>(std::move(p));
  }
  ~Pcre() {
    if (code_) pcre2_code_free(code_);
  }

  struct Match {
    size_t begin, end;
    std::vector<std::optional<std::pair<size_t, size_t>>> groups;
  };
  // Next match at or after byte `start`; nullopt when none (or the subject is not UTF-8).
  std::optional<Match> Find(std::string_view s, size_t start) const {
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(code_, nullptr);
    int rc = pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), start, 0, md,
                         nullptr);
    std::optional<Match> out;
    if (rc > 0) {
      PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
      Match m{ov[0], ov[1], {}};
      for (uint32_t g = 1; g <= captures_; ++g) {
        if (static_cast<int>(g) < rc && ov[2 * g] != PCRE2_UNSET) {
          m.groups.emplace_back(std::make_pair(ov[2 * g], ov[2 * g + 1]));
        } else {
          m.groups.emplace_back(std::nullopt);
        }
      }
      out = std::move(m);
    }
    pcre2_match_data_free(md);
    return out;
  }

 private:
  pcre2_code* code_ = nullptr;
  uint32_t captures_ = 0;
};

enum class RegexOp { kMatch, kFind, kFindAll };

class RegexExpr : public Expression {
 public:
  RegexExpr(RegexOp kind, std::string op, ExpressionPtr input, ExpressionPtr regex,
            ExpressionPtr options, std::shared_ptr<const Pcre> constant)
      : kind_(kind), op_(std::move(op)), input_(std::move(input)), regex_(std::move(regex)),
        options_(std::move(options)), constant_(std::move(constant)) {}

  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    EDDY_ASSIGN_OR_RETURN(MaybeValue input, input_->Evaluate(ctx));
    std::shared_ptr<const Pcre> re = constant_;
    if (!re) {
      EDDY_ASSIGN_OR_RETURN(MaybeValue rv, regex_->Evaluate(ctx));
      MaybeValue ov;
      if (options_) {
        EDDY_ASSIGN_OR_RETURN(ov, options_->Evaluate(ctx));
      }
      EDDY_ASSIGN_OR_RETURN(auto compiled, Build(op_, rv, ov));
      if (!compiled) return Empty();
      re = compiled;
    }
    if (IsNullish(input)) return Empty();
    if (!input->is_string()) {
      return Error(51104, op_ + " needs 'input' to be of type string");
    }
    const std::string& s = input->as_string();
    if (kind_ == RegexOp::kMatch) return MaybeValue(Value(re->Find(s, 0).has_value()));
    Array all;
    size_t pos = 0;
    while (pos <= s.size()) {
      std::optional<Pcre::Match> m = re->Find(s, pos);
      if (!m) break;
      Document d;
      d.Append("match", Value(s.substr(m->begin, m->end - m->begin)));
      d.Append("idx", Value(CodePoints(s, m->begin)));
      Array caps;
      for (const auto& g : m->groups) {
        caps.push_back(g ? Value(s.substr(g->first, g->second - g->first)) : Value());
      }
      d.Append("captures", Value(std::move(caps)));
      if (kind_ == RegexOp::kFind) return MaybeValue(Value(std::move(d)));
      all.push_back(Value(std::move(d)));
      if (m->end > m->begin) {
        pos = m->end;
      } else {
        // An empty match: move past one code point.
        pos = m->end + 1;
        while (pos < s.size() && IsCont(static_cast<unsigned char>(s[pos]))) ++pos;
      }
    }
    if (kind_ == RegexOp::kFind) return Null();
    return MaybeValue(Value(std::move(all)));
  }

  // nullptr (no error) when the regex is null: the result is the "no match" value.
  static Result<std::shared_ptr<const Pcre>> Build(const std::string& op, const MaybeValue& rv,
                                                   const MaybeValue& ov) {
    std::string pattern, options;
    bool has_regex_options = false;
    if (IsNullish(rv)) return std::shared_ptr<const Pcre>();
    if (rv->is_string()) {
      pattern = rv->as_string();
    } else if (rv->type() == bson::Type::kRegex) {
      pattern = rv->as_regex().pattern;
      options = rv->as_regex().options;
      has_regex_options = !options.empty();
    } else {
      return Error(51105, op + " needs 'regex' to be of type string or regex");
    }
    if (ov && !ov->is_nullish()) {
      if (!ov->is_string()) return Error(51106, op + " needs 'options' to be of type string");
      if (has_regex_options && !ov->as_string().empty()) {
        return Error(51107, op + ": regex option(s) specified in both 'regex' and 'option' "
                                 "fields");
      }
      if (!ov->as_string().empty()) options = ov->as_string();
    }
    return Pcre::Compile(op, pattern, options);
  }

 private:
  static int32_t CodePoints(const std::string& s, size_t bytes) {
    int32_t n = 0;
    for (size_t i = 0; i < bytes && i < s.size(); ++i) n += !IsCont(static_cast<unsigned char>(s[i]));
    return n;
  }
  MaybeValue Empty() const {
    switch (kind_) {
      case RegexOp::kMatch: return MaybeValue(Value(false));
      case RegexOp::kFind: return Null();
      case RegexOp::kFindAll: return MaybeValue(Value(Array()));
    }
    return Null();
  }

  RegexOp kind_;
  std::string op_;
  ExpressionPtr input_, regex_, options_;
  std::shared_ptr<const Pcre> constant_;
};

Result<ExpressionPtr> ParseRegex(RegexOp kind, const std::string& op, const Value& args,
                                 const ParseContext& ctx) {
  if (!args.is_document()) {
    return Error(51103, op + " expects an object of named arguments but found: " +
                            std::string(bson::TypeName(args.type())));
  }
  const Value* input = nullptr;
  const Value* regex = nullptr;
  const Value* options = nullptr;
  for (const bson::Field& f : args.as_document()) {
    if (f.name == "input") {
      input = &f.value;
    } else if (f.name == "regex") {
      regex = &f.value;
    } else if (f.name == "options") {
      options = &f.value;
    } else {
      return Error(31024, op + " found an unknown argument: " + f.name);
    }
  }
  if (input == nullptr) return Error(31022, op + " requires 'input' parameter");
  if (regex == nullptr) return Error(31023, op + " requires 'regex' parameter");
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr ie, ParseExpression(*input, ctx));
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr re, ParseExpression(*regex, ctx));
  ExpressionPtr oe;
  if (options != nullptr) {
    EDDY_ASSIGN_OR_RETURN(oe, ParseExpression(*options, ctx));
  }
  std::shared_ptr<const Pcre> constant;
  if (re->IsConstant() && (!oe || oe->IsConstant())) {
    Document empty;
    EvalContext ec(empty);
    EDDY_ASSIGN_OR_RETURN(MaybeValue rv, re->Evaluate(ec));
    MaybeValue ov;
    if (oe) {
      EDDY_ASSIGN_OR_RETURN(ov, oe->Evaluate(ec));
    }
    EDDY_ASSIGN_OR_RETURN(constant, RegexExpr::Build(op, rv, ov));
    if (!constant) {
      // A constant null regex: every input gives the "no match" value (inputs still checked).
    }
  }
  if (re->IsConstant() && !constant) {
    // Keep evaluating per document so a null regex yields the empty result.
  }
  return ExpressionPtr(std::make_shared<RegexExpr>(kind, op, ie, re, oe, constant));
}

// ---- $split

Result<MaybeValue> Split(const std::vector<MaybeValue>& a) {
  if (IsNullish(a[0])) return Null();
  if (!a[0]->is_string()) {
    return Error(40085, "$split requires an expression that evaluates to a string as a first "
                        "argument, found: " + TN(a[0]));
  }
  if (!a[1] || !a[1]->is_string()) {
    return Error(40086, "$split requires an expression that evaluates to a string as a second "
                        "argument, found: " + TN(a[1]));
  }
  const std::string& s = a[0]->as_string();
  const std::string& sep = a[1]->as_string();
  if (sep.empty()) return Error(40087, "$split requires a non-empty separator");
  Array out;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    if (p == std::string::npos) {
      out.push_back(Value(s.substr(start)));
      break;
    }
    out.push_back(Value(s.substr(start, p - start)));
    start = p + sep.size();
  }
  return MaybeValue(Value(std::move(out)));
}

// ---- $trim family

std::vector<std::string> SplitCodePoints(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t j = i + 1;
    while (j < s.size() && IsCont(static_cast<unsigned char>(s[j]))) ++j;
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

const std::vector<std::string>& DefaultTrimChars() {
  static const auto* chars = new std::vector<std::string>{
      std::string(1, '\0'), " ", "\t", "\n", "\v", "\f", "\r", "\u00A0", "\u1680", "\u2000",
      "\u2001", "\u2002", "\u2003", "\u2004", "\u2005", "\u2006", "\u2007", "\u2008", "\u2009",
      "\u200A", "\u2028", "\u2029", "\u202F", "\u205F", "\u3000"};
  return *chars;
}

class TrimExpr : public Expression {
 public:
  TrimExpr(std::string op, bool left, bool right, ExpressionPtr input, ExpressionPtr chars)
      : op_(std::move(op)), left_(left), right_(right), input_(std::move(input)),
        chars_(std::move(chars)) {}
  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    EDDY_ASSIGN_OR_RETURN(MaybeValue in, input_->Evaluate(ctx));
    if (IsNullish(in)) return Null();
    if (!in->is_string()) {
      return Error(50699, op_ + " requires its input to be a string, got " + DescribeForError(in) +
                              " (of type " + TN(in) + ") instead.");
    }
    std::vector<std::string> chars = DefaultTrimChars();
    if (chars_) {
      EDDY_ASSIGN_OR_RETURN(MaybeValue c, chars_->Evaluate(ctx));
      if (IsNullish(c)) return Null();
      if (!c->is_string()) {
        return Error(50700, op_ + " requires 'chars' to be a string, got " +
                                DescribeForError(c) + " (of type " + TN(c) + ") instead.");
      }
      chars = SplitCodePoints(c->as_string());
    }
    std::vector<std::string> cps = SplitCodePoints(in->as_string());
    auto trimmed = [&](const std::string& cp) {
      for (const std::string& c : chars) {
        if (c == cp) return true;
      }
      return false;
    };
    size_t b = 0, e = cps.size();
    if (left_) {
      while (b < e && trimmed(cps[b])) ++b;
    }
    if (right_) {
      while (e > b && trimmed(cps[e - 1])) --e;
    }
    std::string out;
    for (size_t i = b; i < e; ++i) out += cps[i];
    return MaybeValue(Value(std::move(out)));
  }

 private:
  std::string op_;
  bool left_, right_;
  ExpressionPtr input_, chars_;
};

Result<ExpressionPtr> ParseTrim(const std::string& op, bool left, bool right, const Value& args,
                                const ParseContext& ctx) {
  if (!args.is_document()) {
    return Error(50696, op + " only supports an object as an argument, found: " +
                            std::string(bson::TypeName(args.type())));
  }
  const Value* input = nullptr;
  const Value* chars = nullptr;
  for (const bson::Field& f : args.as_document()) {
    if (f.name == "input") {
      input = &f.value;
    } else if (f.name == "chars") {
      chars = &f.value;
    } else {
      return Error(50694, op + " found an unknown argument: " + f.name);
    }
  }
  if (input == nullptr) return Error(50695, op + " requires an 'input' field");
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr ie, ParseExpression(*input, ctx));
  ExpressionPtr ce;
  if (chars != nullptr) {
    EDDY_ASSIGN_OR_RETURN(ce, ParseExpression(*chars, ctx));
  }
  return ExpressionPtr(std::make_shared<TrimExpr>(op, left, right, ie, ce));
}

// ---- $indexOfBytes / $indexOfCP

Result<MaybeValue> IndexOf(const std::vector<MaybeValue>& a, bool cp) {
  std::string op = cp ? "$indexOfCP" : "$indexOfBytes";
  if (IsNullish(a[0])) return Null();
  if (!a[0]->is_string()) {
    return Error(cp ? 40093 : 40091, op + " requires a string as the first argument, found: " +
                                         TN(a[0]));
  }
  if (!a[1] || !a[1]->is_string()) {
    return Error(cp ? 40094 : 40092, op + " requires a string as the second argument, found: " +
                                         TN(a[1]));
  }
  std::vector<std::string> units;
  const std::string& s = a[0]->as_string();
  const std::string& sub = a[1]->as_string();
  int64_t len = cp ? static_cast<int64_t>(SplitCodePoints(s).size()) : static_cast<int64_t>(s.size());
  int64_t start = 0, end = len;
  for (size_t i = 2; i < a.size(); ++i) {
    const MaybeValue& v = a[i];
    double d = v && v->is_number() ? v->ToDouble() : 0.5;
    if (!v || !v->is_number() || d != std::trunc(d)) {
      return Error(40096, op + " requires an integral " + (i == 2 ? "starting" : "ending") +
                              " index, found a value of type: " + TN(v) + ", with value: " +
                              DescribeForError(v));
    }
    if (d < 0) {
      return Error(40097, op + " requires a nonnegative " + (i == 2 ? "start" : "ending") +
                              " index, found: " + DescribeForError(v));
    }
    if (i == 2) {
      start = v->ToInt64();
    } else {
      end = std::min(end, v->ToInt64());
    }
  }
  if (start > len || start > end) return MaybeValue(Value(-1));
  if (!cp) {
    size_t p = s.find(sub, static_cast<size_t>(start));
    if (p == std::string::npos || static_cast<int64_t>(p + sub.size()) > end) {
      return MaybeValue(Value(-1));
    }
    return MaybeValue(Value(static_cast<int32_t>(p)));
  }
  // Code point offsets.
  std::vector<size_t> offsets;  // byte offset of each code point, plus the end
  for (size_t i = 0; i < s.size(); ++i) {
    if (!IsCont(static_cast<unsigned char>(s[i]))) offsets.push_back(i);
  }
  offsets.push_back(s.size());
  for (int64_t i = start; i < end || (sub.empty() && i == end); ++i) {
    size_t b = offsets[static_cast<size_t>(i)];
    if (s.compare(b, sub.size(), sub) == 0) {
      // The match must end within [start, end).
      size_t e = b + sub.size();
      if (e <= offsets[static_cast<size_t>(end)]) return MaybeValue(Value(static_cast<int32_t>(i)));
      break;
    }
  }
  return MaybeValue(Value(-1));
}

Result<MaybeValue> StrCaseCmp(const std::vector<MaybeValue>& a) {
  EDDY_ASSIGN_OR_RETURN(std::string x, CoerceToString(a[0]));
  EDDY_ASSIGN_OR_RETURN(std::string y, CoerceToString(a[1]));
  for (char& c : x) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (char& c : y) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  int c = x.compare(y);
  return MaybeValue(Value(c < 0 ? -1 : c > 0 ? 1 : 0));
}

Result<MaybeValue> SubstrBytes(const std::vector<MaybeValue>& a, const std::string& op) {
  if (!a[1] || !a[1]->is_number()) {
    return Error(16034, op + ": starting index must be a numeric type (is BSON type " + TN(a[1]) +
                            ")");
  }
  if (!a[2] || !a[2]->is_number()) {
    return Error(16035, op + ": length must be a numeric type (is BSON type " + TN(a[2]) + ")");
  }
  EDDY_ASSIGN_OR_RETURN(std::string s, CoerceToString(a[0]));
  int64_t start = a[1]->ToInt64();
  int64_t len = a[2]->ToInt64();
  if (start < 0 || static_cast<size_t>(start) >= s.size()) return MaybeValue(Value(""));
  size_t b = static_cast<size_t>(start);
  if (IsCont(static_cast<unsigned char>(s[b]))) {
    return Error(28656, op + ":  Invalid range, starting index is a UTF-8 continuation byte.");
  }
  size_t e = len < 0 ? s.size() : std::min(s.size(), b + static_cast<size_t>(len));
  if (e < s.size() && IsCont(static_cast<unsigned char>(s[e]))) {
    return Error(28657, op + ":  Invalid range, ending index is in the middle of a UTF-8 "
                             "character.");
  }
  return MaybeValue(Value(s.substr(b, e - b)));
}

Result<MaybeValue> StrLenBytes(const std::vector<MaybeValue>& a) {
  if (!a[0] || !a[0]->is_string()) {
    return Error(34473, "$strLenBytes requires a string argument, found: " + TN(a[0]));
  }
  size_t n = a[0]->as_string().size();
  if (n > INT32_MAX) return Error(34470, "string length could not be represented as an int.");
  return MaybeValue(Value(static_cast<int32_t>(n)));
}

// ---- $replaceOne / $replaceAll

class ReplaceExpr : public Expression {
 public:
  ReplaceExpr(bool all, ExpressionPtr input, ExpressionPtr find, ExpressionPtr repl)
      : all_(all), input_(std::move(input)), find_(std::move(find)), repl_(std::move(repl)) {}
  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    std::string op = all_ ? "$replaceAll" : "$replaceOne";
    EDDY_ASSIGN_OR_RETURN(MaybeValue in, input_->Evaluate(ctx));
    EDDY_ASSIGN_OR_RETURN(MaybeValue find, find_->Evaluate(ctx));
    EDDY_ASSIGN_OR_RETURN(MaybeValue repl, repl_->Evaluate(ctx));
    const char* names[] = {"input", "find", "replacement"};
    const MaybeValue* vals[] = {&in, &find, &repl};
    bool any_null = false;
    for (int i = 0; i < 3; ++i) {
      if (IsNullish(*vals[i])) {
        any_null = true;
      } else if (!(*vals[i])->is_string()) {
        return Error(51746 - i, op + " requires that '" + names[i] + "' be a string, found: " +
                                    DescribeForError(*vals[i]));
      }
    }
    if (any_null) return Null();
    const std::string& s = in->as_string();
    const std::string& f = find->as_string();
    const std::string& r = repl->as_string();
    std::string out;
    if (f.empty()) {
      if (!all_) return MaybeValue(Value(r + s));
      for (const std::string& cp : SplitCodePoints(s)) out += r + cp;
      out += r;
      return MaybeValue(Value(std::move(out)));
    }
    size_t pos = 0;
    while (true) {
      size_t p = s.find(f, pos);
      if (p == std::string::npos) break;
      out.append(s, pos, p - pos);
      out += r;
      pos = p + f.size();
      if (!all_) break;
    }
    out.append(s, pos, std::string::npos);
    return MaybeValue(Value(std::move(out)));
  }

 private:
  bool all_;
  ExpressionPtr input_, find_, repl_;
};

Result<ExpressionPtr> ParseReplace(bool all, const Value& args, const ParseContext& ctx) {
  std::string op = all ? "$replaceAll" : "$replaceOne";
  if (!args.is_document()) {
    return Error(51751, op + " requires an object as an argument, found: " +
                            std::string(bson::TypeName(args.type())));
  }
  const Value* parts[3] = {nullptr, nullptr, nullptr};
  for (const bson::Field& f : args.as_document()) {
    if (f.name == "input") {
      parts[0] = &f.value;
    } else if (f.name == "find") {
      parts[1] = &f.value;
    } else if (f.name == "replacement") {
      parts[2] = &f.value;
    } else {
      return Error(51750, op + " found an unknown argument: " + f.name);
    }
  }
  const char* names[] = {"input", "find", "replacement"};
  ExpressionPtr e[3];
  for (int i = 0; i < 3; ++i) {
    if (parts[i] == nullptr) {
      return Error(51749 - i, op + " requires '" + names[i] + "' to be specified");
    }
    EDDY_ASSIGN_OR_RETURN(e[i], ParseExpression(*parts[i], ctx));
  }
  return ExpressionPtr(std::make_shared<ReplaceExpr>(all, e[0], e[1], e[2]));
}

}  // namespace

void RegisterStringOps() {
  RegisterExpression("$regexMatch", [](const Value& a, const ParseContext& c) {
    return ParseRegex(RegexOp::kMatch, "$regexMatch", a, c);
  });
  RegisterExpression("$regexFind", [](const Value& a, const ParseContext& c) {
    return ParseRegex(RegexOp::kFind, "$regexFind", a, c);
  });
  RegisterExpression("$regexFindAll", [](const Value& a, const ParseContext& c) {
    return ParseRegex(RegexOp::kFindAll, "$regexFindAll", a, c);
  });
  Register("$split", 2, 2, Split);
  RegisterExpression("$trim", [](const Value& a, const ParseContext& c) {
    return ParseTrim("$trim", true, true, a, c);
  });
  RegisterExpression("$ltrim", [](const Value& a, const ParseContext& c) {
    return ParseTrim("$ltrim", true, false, a, c);
  });
  RegisterExpression("$rtrim", [](const Value& a, const ParseContext& c) {
    return ParseTrim("$rtrim", false, true, a, c);
  });
  Register("$indexOfBytes", 2, 4,
           [](const std::vector<MaybeValue>& a) { return IndexOf(a, false); });
  Register("$indexOfCP", 2, 4, [](const std::vector<MaybeValue>& a) { return IndexOf(a, true); });
  Register("$strcasecmp", 2, 2, StrCaseCmp);
  Register("$substr", 3, 3,
           [](const std::vector<MaybeValue>& a) { return SubstrBytes(a, "$substrBytes"); });
  Register("$substrBytes", 3, 3,
           [](const std::vector<MaybeValue>& a) { return SubstrBytes(a, "$substrBytes"); });
  Register("$strLenBytes", 1, 1, StrLenBytes);
  RegisterExpression("$replaceOne", [](const Value& a, const ParseContext& c) {
    return ParseReplace(false, a, c);
  });
  RegisterExpression("$replaceAll", [](const Value& a, const ParseContext& c) {
    return ParseReplace(true, a, c);
  });
}

}  // namespace eddy::query::expr_internal
