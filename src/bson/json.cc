// Extended JSON v2 and mongo-shell syntax. The parser is a single-pass recursive descent over
// the text; Extended JSON wrappers ({"$oid": ...}) are recognised after an object is parsed,
// only when its keys are exactly a wrapper's keys, so query operators ({$regex: ..}, {$type:
// ..}) and DBRefs ({$ref, $id}) stay documents.
#include "bson/json.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>

#include "bson/codec.h"
#include "bson/detail/utf8.h"

namespace eddy::bson {
namespace {

// ---------------------------------------------------------------------------------------------
// Shared helpers: dates, base64, hex.

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Year of a millisecond timestamp (floor division so pre-1970 dates land correctly).
int64_t YearOf(int64_t millis) {
  int64_t days = millis / 86400000;
  if (millis % 86400000 < 0) --days;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  return y;
}

// "2024-01-02T03:04:05.678Z" (millis only when non-zero). REQUIRES: year in [0, 9999].
std::string FormatIsoDate(int64_t millis) {
  int64_t days = millis / 86400000;
  int64_t rem = millis % 86400000;
  if (rem < 0) {
    rem += 86400000;
    --days;
  }
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  int ms = static_cast<int>(rem % 1000);
  int secs = static_cast<int>(rem / 1000);
  char buf[64];
  if (ms != 0) {
    std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(y), m,
                  d, secs / 3600, secs / 60 % 60, secs % 60, ms);
  } else {
    std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(y), m, d,
                  secs / 3600, secs / 60 % 60, secs % 60);
  }
  return buf;
}

// Parses YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|±HH[:]MM]; no zone means UTC.
bool ParseIsoDate(std::string_view s, int64_t* out) {
  size_t i = 0;
  auto digits = [&](int n, int* v) {
    if (s.size() - i < static_cast<size_t>(n)) return false;
    int r = 0;
    for (int k = 0; k < n; ++k) {
      char c = s[i + k];
      if (c < '0' || c > '9') return false;
      r = r * 10 + (c - '0');
    }
    i += n;
    *v = r;
    return true;
  };
  auto eat = [&](char c) {
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  int year, month, day, hour = 0, minute = 0, second = 0, millis = 0;
  if (!digits(4, &year) || !eat('-') || !digits(2, &month) || !eat('-') || !digits(2, &day)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || static_cast<unsigned>(day) > DaysInMonth(year, month)) {
    return false;
  }
  int64_t offset_minutes = 0;
  if (i < s.size()) {
    if (!eat('T') && !eat(' ')) return false;
    if (!digits(2, &hour) || !eat(':') || !digits(2, &minute)) return false;
    if (eat(':')) {
      if (!digits(2, &second)) return false;
      if (eat('.')) {
        int n = 0;
        int frac = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
          if (n < 3) frac = frac * 10 + (s[i] - '0');
          ++n;
          ++i;
        }
        if (n == 0) return false;
        for (int k = n; k < 3; ++k) frac *= 10;
        millis = frac;
      }
    }
    if (hour > 23 || minute > 59 || second > 59) return false;
    if (eat('Z')) {
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      int sign = s[i] == '-' ? -1 : 1;
      ++i;
      int oh, om;
      if (!digits(2, &oh)) return false;
      eat(':');
      if (!digits(2, &om)) return false;
      if (oh > 23 || om > 59) return false;
      offset_minutes = sign * (oh * 60 + om);
    }
    if (i != s.size()) return false;
  }
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  *out = ((days * 24 + hour) * 60 + minute - offset_minutes) * 60000 + second * 1000LL + millis;
  return true;
}

constexpr char kBase64Chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  auto b = [&](size_t k) { return static_cast<uint8_t>(in[k]); };
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = b(i) << 16 | b(i + 1) << 8 | b(i + 2);
    out += kBase64Chars[v >> 18];
    out += kBase64Chars[(v >> 12) & 63];
    out += kBase64Chars[(v >> 6) & 63];
    out += kBase64Chars[v & 63];
  }
  if (in.size() - i == 1) {
    uint32_t v = b(i) << 16;
    out += kBase64Chars[v >> 18];
    out += kBase64Chars[(v >> 12) & 63];
    out += "==";
  } else if (in.size() - i == 2) {
    uint32_t v = b(i) << 16 | b(i + 1) << 8;
    out += kBase64Chars[v >> 18];
    out += kBase64Chars[(v >> 12) & 63];
    out += kBase64Chars[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

bool Base64Decode(std::string_view in, std::string* out) {
  out->clear();
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+' || c == '-') v = 62;
    else if (c == '/' || c == '_') v = 63;
    else if (c == '=') {
      ++pad;
      continue;
    } else {
      return false;
    }
    if (pad) return false;  // data after padding
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (pad > 2) return false;
  // Leftover bits must be padding zeros of a whole final quantum.
  return bits < 6 && (acc & ((1u << bits) - 1)) == 0;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool HexDecode(std::string_view in, std::string* out) {
  if (in.size() % 2) return false;
  out->clear();
  for (size_t i = 0; i < in.size(); i += 2) {
    int hi = HexValue(in[i]), lo = HexValue(in[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi << 4 | lo));
  }
  return true;
}

std::string HexEncode(std::string_view in) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : in) {
    out += kHex[static_cast<uint8_t>(c) >> 4];
    out += kHex[static_cast<uint8_t>(c) & 15];
  }
  return out;
}

bool ParseUuid(std::string_view s, std::string* out) {
  std::string hex;
  for (char c : s) {
    if (c != '-') hex += c;
  }
  return hex.size() == 32 && HexDecode(hex, out);
}

std::string FormatUuid(std::string_view bytes) {
  std::string h = HexEncode(bytes);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

// Strict integers for $numberInt / $numberLong / NumberLong("..."): optional '-', digits.
template <class T>
bool ParseIntStrict(std::string_view s, T* out) {
  if (s.empty()) return false;
  const char* b = s.data();
  const char* e = b + s.size();
  if (*b == '+') ++b;
  auto r = std::from_chars(b, e, *out);
  return r.ec == std::errc() && r.ptr == e && b != e;
}

bool ParseDoubleText(std::string_view s, double* out) {
  if (s == "Infinity" || s == "+Infinity" || s == "inf") {
    *out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (s == "-Infinity" || s == "-inf") {
    *out = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (s == "NaN" || s == "-NaN" || s == "nan") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  const char* b = s.data();
  const char* e = b + s.size();
  if (b != e && *b == '+') ++b;
  if (b == e) return false;
  auto r = std::from_chars(b, e, *out, std::chars_format::general);
  if (r.ec == std::errc::result_out_of_range) {
    // from_chars reports overflow/underflow without a value; strtod gives inf / 0 as JSON wants.
    *out = std::strtod(std::string(s).c_str(), nullptr);
    return true;
  }
  return r.ec == std::errc() && r.ptr == e;
}

// ECMAScript Number::toString layout of the shortest round-trip digits, plus ".0" for
// integral values so a double never reads back as an integer. REQUIRES: finite.
std::string FormatDouble(double v) {
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(r.ptr - buf));
  bool neg = sci[0] == '-';
  if (neg) sci.remove_prefix(1);
  size_t epos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, epos)) {
    if (c != '.') digits += c;
  }
  int exp10 = 0;
  std::from_chars(sci.data() + epos + 1 + (sci[epos + 1] == '+'), sci.data() + sci.size(), exp10);
  const int k = static_cast<int>(digits.size());
  const int n = exp10 + 1;  // value = 0.digits * 10^n
  std::string out = neg ? "-" : "";
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
    out += ".0";
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<size_t>(n));
    out += '.';
    out += digits.substr(static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += n - 1 >= 0 ? '+' : '-';
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parser

bool IsIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Status SkipWs();
  bool AtEnd() const { return i_ >= s_.size(); }
  char Peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  size_t pos() const { return i_; }
  Status ParseValue(Value* out, int depth);
  Status Error(size_t pos, std::string_view expected) const;

 private:
  std::string Found(size_t pos) const;
  Status Expect(char c, std::string_view what);
  Status ParseObject(Value* out, int depth);
  Status ParseArray(Array* out, int depth);
  Status ParseString(std::string* out);
  Status ParseKey(std::string* out);
  Status ParseNumber(Value* out);
  Status ParseRegexLiteral(Value* out);
  Status ParseIdentifierValue(Value* out, int depth);
  std::string_view ReadIdentifier();
  // Constructor-call helpers: "(" args ")".
  Status ParseCallArgs(std::vector<Value>* args, std::vector<std::string>* raw, int depth);
  Status ConvertExtended(Document& d, size_t start, Value* out);

  std::string_view s_;
  size_t i_ = 0;
};

std::string Parser::Found(size_t pos) const {
  if (pos >= s_.size()) return "end of input";
  char c = s_[pos];
  if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "byte 0x%02x", static_cast<unsigned char>(c));
    return buf;
  }
  return std::string("'") + c + "'";
}

Status Parser::Error(size_t pos, std::string_view expected) const {
  size_t line = 1, col = 1;
  for (size_t k = 0; k < pos && k < s_.size(); ++k) {
    if (s_[k] == '\n') {
      ++line;
      col = 1;
    } else if ((static_cast<unsigned char>(s_[k]) & 0xC0) != 0x80) {
      ++col;
    }
  }
  return Status(ErrorCode::kFailedToParse, std::to_string(line) + ":" + std::to_string(col) +
                                               ": " + std::string(expected) + ", found " +
                                               Found(pos));
}

Status Parser::SkipWs() {
  while (i_ < s_.size()) {
    char c = s_[i_];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      ++i_;
    } else if (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '/') {
      while (i_ < s_.size() && s_[i_] != '\n') ++i_;
    } else if (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '*') {
      size_t end = s_.find("*/", i_ + 2);
      if (end == std::string_view::npos) return Error(s_.size(), "expected '*/' to close comment");
      i_ = end + 2;
    } else {
      break;
    }
  }
  return Status::OK();
}

Status Parser::Expect(char c, std::string_view what) {
  EDDY_RETURN_IF_ERROR(SkipWs());
  if (Peek() != c) return Error(i_, what);
  ++i_;
  return Status::OK();
}

std::string_view Parser::ReadIdentifier() {
  size_t start = i_;
  while (i_ < s_.size() && IsIdentChar(s_[i_])) ++i_;
  return s_.substr(start, i_ - start);
}

Status Parser::ParseValue(Value* out, int depth) {
  if (depth > kMaxDepth) {
    return Error(i_, "nesting deeper than " + std::to_string(kMaxDepth) + " levels; expected a value");
  }
  EDDY_RETURN_IF_ERROR(SkipWs());
  char c = Peek();
  switch (c) {
    case '{': return ParseObject(out, depth);
    case '[': {
      Array a;
      EDDY_RETURN_IF_ERROR(ParseArray(&a, depth));
      *out = Value(std::move(a));
      return Status::OK();
    }
    case '"':
    case '\'': {
      std::string s;
      EDDY_RETURN_IF_ERROR(ParseString(&s));
      *out = Value(std::move(s));
      return Status::OK();
    }
    case '/': return ParseRegexLiteral(out);
    default: break;
  }
  if (c == '-' || c == '+' || c == '.' || IsDigit(c)) return ParseNumber(out);
  if (IsIdentStart(c)) return ParseIdentifierValue(out, depth);
  return Error(i_, "expected a value");
}

Status Parser::ParseObject(Value* out, int depth) {
  const size_t start = i_;
  ++i_;  // '{'
  Document doc;
  EDDY_RETURN_IF_ERROR(SkipWs());
  if (Peek() == '}') {
    ++i_;
  } else {
    while (true) {
      std::string key;
      EDDY_RETURN_IF_ERROR(ParseKey(&key));
      EDDY_RETURN_IF_ERROR(Expect(':', "expected ':' after field name"));
      Field& f = doc.mutable_fields().emplace_back();
      f.name = std::move(key);
      EDDY_RETURN_IF_ERROR(ParseValue(&f.value, depth + 1));
      EDDY_RETURN_IF_ERROR(SkipWs());
      if (Peek() == ',') {
        ++i_;
        EDDY_RETURN_IF_ERROR(SkipWs());
        if (Peek() == '}') {  // trailing comma
          ++i_;
          break;
        }
        continue;
      }
      if (Peek() == '}') {
        ++i_;
        break;
      }
      return Error(i_, "expected ',' or '}' after field value");
    }
  }
  if (!doc.empty() && !doc.at(0).name.empty() && doc.at(0).name[0] == '$' && doc.size() <= 3) {
    return ConvertExtended(doc, start, out);
  }
  *out = Value(std::move(doc));
  return Status::OK();
}

Status Parser::ParseArray(Array* out, int depth) {
  ++i_;  // '['
  EDDY_RETURN_IF_ERROR(SkipWs());
  if (Peek() == ']') {
    ++i_;
    return Status::OK();
  }
  while (true) {
    EDDY_RETURN_IF_ERROR(ParseValue(&out->emplace_back(), depth + 1));
    EDDY_RETURN_IF_ERROR(SkipWs());
    if (Peek() == ',') {
      ++i_;
      EDDY_RETURN_IF_ERROR(SkipWs());
      if (Peek() == ']') {
        ++i_;
        return Status::OK();
      }
      continue;
    }
    if (Peek() == ']') {
      ++i_;
      return Status::OK();
    }
    return Error(i_, "expected ',' or ']' after array element");
  }
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

Status Parser::ParseString(std::string* out) {
  const char quote = s_[i_];
  const size_t start = ++i_;
  out->clear();
  auto hex4 = [&](size_t at, uint32_t* v) {
    if (s_.size() - at < 4) return false;
    uint32_t r = 0;
    for (size_t k = 0; k < 4; ++k) {
      int h = HexValue(s_[at + k]);
      if (h < 0) return false;
      r = r << 4 | static_cast<uint32_t>(h);
    }
    *v = r;
    return true;
  };
  while (true) {
    if (i_ >= s_.size()) return Error(i_, std::string("expected closing ") + quote + " of string");
    char c = s_[i_];
    if (c == quote) {
      ++i_;
      break;
    }
    if (static_cast<unsigned char>(c) < 0x20) {
      return Error(i_, "expected a character (control characters must be escaped in strings)");
    }
    if (c != '\\') {
      // Copy a run of plain bytes at once.
      size_t run = i_;
      while (run < s_.size() && s_[run] != quote && s_[run] != '\\' &&
             static_cast<unsigned char>(s_[run]) >= 0x20) {
        ++run;
      }
      size_t bad = 0;
      if (!detail::ValidUtf8(s_.data() + i_, run - i_, &bad)) {
        return Error(i_ + bad, "expected valid UTF-8 in string");
      }
      out->append(s_.data() + i_, run - i_);
      i_ = run;
      continue;
    }
    if (i_ + 1 >= s_.size()) return Error(i_ + 1, "expected an escape character after '\\'");
    char e = s_[i_ + 1];
    i_ += 2;
    switch (e) {
      case '"': out->push_back('"'); break;
      case '\'': out->push_back('\''); break;
      case '\\': out->push_back('\\'); break;
      case '/': out->push_back('/'); break;
      case 'b': out->push_back('\b'); break;
      case 'f': out->push_back('\f'); break;
      case 'n': out->push_back('\n'); break;
      case 'r': out->push_back('\r'); break;
      case 't': out->push_back('\t'); break;
      case 'u': {
        uint32_t cp;
        if (!hex4(i_, &cp)) return Error(i_, "expected 4 hex digits after '\\u'");
        i_ += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t lo;
          if (i_ + 1 < s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u' && hex4(i_ + 2, &lo) &&
              lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i_ += 6;
          } else {
            return Error(i_, "expected a low surrogate '\\uDC00'-'\\uDFFF' after a high surrogate");
          }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return Error(i_ - 6, "expected a character, not an unpaired low surrogate");
        }
        AppendUtf8(cp, out);
        break;
      }
      default:
        return Error(i_ - 1, "expected a valid escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
    }
  }
  (void)start;
  return Status::OK();
}

Status Parser::ParseKey(std::string* out) {
  EDDY_RETURN_IF_ERROR(SkipWs());
  const size_t start = i_;
  char c = Peek();
  if (c == '"' || c == '\'') {
    EDDY_RETURN_IF_ERROR(ParseString(out));
    if (out->find('\0') != std::string::npos) {
      return Error(start, "expected a field name without NUL characters");
    }
    return Status::OK();
  }
  // Unquoted keys: identifier characters, plus '.' so dotted paths can be typed bare.
  while (i_ < s_.size() && (IsIdentChar(s_[i_]) || s_[i_] == '.')) ++i_;
  if (i_ == start) return Error(i_, "expected a field name");
  out->assign(s_.substr(start, i_ - start));
  return Status::OK();
}

Status Parser::ParseNumber(Value* out) {
  const size_t start = i_;
  if (Peek() == '-' || Peek() == '+') {
    ++i_;
    if (s_.substr(i_, 8) == "Infinity") {
      i_ += 8;
      double inf = std::numeric_limits<double>::infinity();
      *out = Value(s_[start] == '-' ? -inf : inf);
      return Status::OK();
    }
  }
  bool is_double = false;
  size_t digits = 0;
  while (IsDigit(Peek())) ++i_, ++digits;
  if (Peek() == '.') {
    is_double = true;
    ++i_;
    while (IsDigit(Peek())) ++i_, ++digits;
  }
  if (digits == 0) return Error(start, "expected a number");
  if (Peek() == 'e' || Peek() == 'E') {
    is_double = true;
    ++i_;
    if (Peek() == '+' || Peek() == '-') ++i_;
    if (!IsDigit(Peek())) return Error(i_, "expected exponent digits");
    while (IsDigit(Peek())) ++i_;
  }
  if (IsIdentChar(Peek())) return Error(i_, "expected a delimiter after the number");
  std::string_view text = s_.substr(start, i_ - start);
  if (!is_double) {
    int64_t v;
    if (ParseIntStrict(text, &v)) {
      if (v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max()) {
        *out = Value(static_cast<int32_t>(v));
      } else {
        *out = Value(v);
      }
      return Status::OK();
    }
  }
  double d;
  if (!ParseDoubleText(text, &d)) return Error(start, "expected a number");
  *out = Value(d);
  return Status::OK();
}

Status Parser::ParseRegexLiteral(Value* out) {
  const size_t start = i_;
  ++i_;  // '/'
  std::string pattern;
  bool in_class = false;
  while (true) {
    if (i_ >= s_.size() || s_[i_] == '\n') {
      return Error(i_, "expected '/' to close the regular expression");
    }
    char c = s_[i_];
    if (c == '\0' || (c == '\\' && i_ + 1 < s_.size() && s_[i_ + 1] == '\0')) {
      return Error(i_, "expected a regular expression character (patterns cannot hold NUL)");
    }
    if (c == '\\') {
      if (i_ + 1 >= s_.size()) return Error(i_ + 1, "expected a character after '\\'");
      // "\/" only exists to get '/' past the literal's delimiters; PCRE reads '/' the same, so
      // store the bare '/' and printing /a\/b/ reads back as the same pattern "a/b".
      if (s_[i_ + 1] != '/') pattern += c;
      pattern += s_[i_ + 1];
      i_ += 2;
      continue;
    }
    if (c == '[') in_class = true;
    if (c == ']') in_class = false;
    if (c == '/' && !in_class) {
      ++i_;
      break;
    }
    pattern += c;
    ++i_;
  }
  size_t bad = 0;
  if (!detail::ValidUtf8(pattern.data(), pattern.size(), &bad)) {
    return Error(start + 1 + bad, "expected valid UTF-8 in regular expression");
  }
  std::string options;
  while (i_ < s_.size() && IsIdentChar(s_[i_])) {
    char o = s_[i_];
    if (std::strchr("imxslu", o) == nullptr || o == '\0') {
      return Error(i_, "expected regular expression flags from 'imxslu'");
    }
    options += o;
    ++i_;
  }
  std::sort(options.begin(), options.end());
  *out = Value(Regex{std::move(pattern), std::move(options)});
  return Status::OK();
}

Status Parser::ParseCallArgs(std::vector<Value>* args, std::vector<std::string>* raw, int depth) {
  EDDY_RETURN_IF_ERROR(Expect('(', "expected '('"));
  EDDY_RETURN_IF_ERROR(SkipWs());
  if (Peek() == ')') {
    ++i_;
    return Status::OK();
  }
  while (true) {
    EDDY_RETURN_IF_ERROR(SkipWs());
    size_t start = i_;
    EDDY_RETURN_IF_ERROR(ParseValue(&args->emplace_back(), depth + 1));
    raw->emplace_back(s_.substr(start, i_ - start));
    EDDY_RETURN_IF_ERROR(SkipWs());
    if (Peek() == ',') {
      ++i_;
      continue;
    }
    if (Peek() == ')') {
      ++i_;
      return Status::OK();
    }
    return Error(i_, "expected ',' or ')' after argument");
  }
}

// Integral value of a numeric Value that is exactly an integer, for constructor arguments.
bool IntegralOf(const Value& v, int64_t* out) {
  if (v.is_int32()) {
    *out = v.as_int32();
    return true;
  }
  if (v.is_int64()) {
    *out = v.as_int64();
    return true;
  }
  if (v.is_double()) {
    double d = v.as_double_exact();
    if (std::isfinite(d) && std::trunc(d) == d && d >= -9.2233720368547758e18 &&
        d < 9.2233720368547758e18) {
      *out = static_cast<int64_t>(d);
      return true;
    }
  }
  return false;
}

Status Parser::ParseIdentifierValue(Value* out, int depth) {
  const size_t start = i_;
  std::string_view id = ReadIdentifier();
  if (id == "true") return *out = Value(true), Status::OK();
  if (id == "false") return *out = Value(false), Status::OK();
  if (id == "null") return *out = Value(), Status::OK();
  if (id == "undefined") return *out = Value(Undefined{}), Status::OK();
  if (id == "NaN") return *out = Value(std::numeric_limits<double>::quiet_NaN()), Status::OK();
  if (id == "Infinity") {
    *out = Value(std::numeric_limits<double>::infinity());
    return Status::OK();
  }
  if (id == "MinKey" || id == "MaxKey") {
    // MinKey and MinKey() both appear in shell output.
    size_t save = i_;
    EDDY_RETURN_IF_ERROR(SkipWs());
    if (Peek() == '(') {
      ++i_;
      EDDY_RETURN_IF_ERROR(Expect(')', "expected ')'"));
    } else {
      i_ = save;
    }
    *out = id == "MinKey" ? Value(MinKey{}) : Value(MaxKey{});
    return Status::OK();
  }
  if (id == "new") {
    EDDY_RETURN_IF_ERROR(SkipWs());
    if (!IsIdentStart(Peek())) return Error(i_, "expected a constructor name after 'new'");
    return ParseIdentifierValue(out, depth);
  }
  static constexpr std::string_view kCalls[] = {
      "ObjectId", "ISODate", "Date", "NumberLong", "NumberInt", "NumberDecimal", "Timestamp",
      "BinData", "UUID", "HexData", "Code", "DBPointer", "Symbol"};
  if (std::find(std::begin(kCalls), std::end(kCalls), id) == std::end(kCalls)) {
    return Error(start, "expected a value (unknown identifier '" + std::string(id) + "')");
  }
  std::vector<Value> args;
  std::vector<std::string> raw;
  EDDY_RETURN_IF_ERROR(ParseCallArgs(&args, &raw, depth));
  const std::string name(id);
  auto bad = [&](std::string_view what) {
    return Error(start, "expected " + name + "(" + std::string(what) + ")");
  };
  auto string_arg = [&](size_t k) -> const std::string* {
    return k < args.size() && args[k].is_string() ? &args[k].as_string() : nullptr;
  };
  if (id == "ObjectId") {
    if (args.empty()) return *out = Value(ObjectId::Generate()), Status::OK();
    ObjectId oid;
    if (args.size() != 1 || !string_arg(0) || !ObjectId::FromHex(*string_arg(0), &oid)) {
      return bad("\"<24 hex digits>\"");
    }
    *out = Value(oid);
    return Status::OK();
  }
  if (id == "ISODate" || id == "Date") {
    if (args.empty()) {
      auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch());
      *out = Value(DateTime{now.count()});
      return Status::OK();
    }
    int64_t ms;
    if (args.size() == 1 && string_arg(0) && ParseIsoDate(*string_arg(0), &ms)) {
      *out = Value(DateTime{ms});
      return Status::OK();
    }
    if (args.size() == 1 && IntegralOf(args[0], &ms)) {
      *out = Value(DateTime{ms});
      return Status::OK();
    }
    return bad("\"YYYY-MM-DDTHH:MM:SS[.mmm]Z\" or milliseconds");
  }
  if (id == "NumberLong" || id == "NumberInt") {
    int64_t v;
    bool ok = false;
    if (args.size() == 1 && string_arg(0)) {
      ok = ParseIntStrict(*string_arg(0), &v);
    } else if (args.size() == 1) {
      ok = IntegralOf(args[0], &v);
    }
    if (id == "NumberInt") {
      if (!ok || v < std::numeric_limits<int32_t>::min() ||
          v > std::numeric_limits<int32_t>::max()) {
        return bad("<32-bit integer>");
      }
      *out = Value(static_cast<int32_t>(v));
      return Status::OK();
    }
    if (!ok) return bad("<64-bit integer>");
    *out = Value(v);
    return Status::OK();
  }
  if (id == "NumberDecimal") {
    // A bare number argument is taken by its literal text (NumberDecimal(1.1) is 1.1).
    if (args.size() == 1 && (string_arg(0) || args[0].is_number())) {
      bool ok = false;
      Decimal128 d = Decimal128::FromString(string_arg(0) ? *string_arg(0) : raw[0], &ok);
      if (ok) return *out = Value(d), Status::OK();
    }
    return bad("\"<decimal>\"");
  }
  if (id == "Timestamp") {
    int64_t t = -1, inc = -1;
    if (args.size() == 2) {
      if (!IntegralOf(args[0], &t) || !IntegralOf(args[1], &inc)) t = -1;
    } else if (args.size() == 1 && args[0].is_document()) {
      const Document& d = args[0].as_document();
      const Value* tv = d.Get("t");
      const Value* iv = d.Get("i");
      if (d.size() != 2 || !tv || !iv || !IntegralOf(*tv, &t) || !IntegralOf(*iv, &inc)) t = -1;
    }
    if (t < 0 || inc < 0 || t > 0xFFFFFFFFLL || inc > 0xFFFFFFFFLL) {
      return bad("<seconds>, <increment>");
    }
    *out = Value(Timestamp{static_cast<uint32_t>(t), static_cast<uint32_t>(inc)});
    return Status::OK();
  }
  if (id == "BinData" || id == "HexData") {
    int64_t subtype;
    std::string data;
    if (args.size() != 2 || !IntegralOf(args[0], &subtype) || subtype < 0 || subtype > 255 ||
        !string_arg(1) ||
        !(id == "BinData" ? Base64Decode(*string_arg(1), &data) : HexDecode(*string_arg(1), &data))) {
      return bad(id == "BinData" ? "<subtype>, \"<base64>\"" : "<subtype>, \"<hex>\"");
    }
    *out = Value(Binary{static_cast<uint8_t>(subtype), std::move(data)});
    return Status::OK();
  }
  if (id == "UUID") {
    std::string data;
    if (args.size() != 1 || !string_arg(0) || !ParseUuid(*string_arg(0), &data)) {
      return bad("\"<32 hex digits>\"");
    }
    *out = Value(Binary{4, std::move(data)});
    return Status::OK();
  }
  if (id == "Code") {
    if (args.size() == 1 && string_arg(0)) return *out = Value(Code{*string_arg(0)}), Status::OK();
    if (args.size() == 2 && string_arg(0) && args[1].is_document()) {
      *out = Value(std::make_shared<const CodeWithScope>(
          CodeWithScope{*string_arg(0), args[1].as_document()}));
      return Status::OK();
    }
    return bad("\"<code>\"[, <scope>]");
  }
  if (id == "Symbol") {
    if (args.size() == 1 && string_arg(0)) {
      *out = Value(Symbol{*string_arg(0)});
      return Status::OK();
    }
    return bad("\"<symbol>\"");
  }
  // DBPointer("ns", ObjectId("..."))
  if (args.size() == 2 && string_arg(0) && args[1].type() == Type::kObjectId) {
    *out = Value(DBPointer{*string_arg(0), args[1].as_object_id()});
    return Status::OK();
  }
  return bad("\"<namespace>\", ObjectId(...)");
}

Status Parser::ConvertExtended(Document& d, size_t start, Value* out) {
  const std::string& k0 = d.at(0).name;
  Value& v0 = d.at(0).value;
  auto has_keys = [&](std::initializer_list<std::string_view> keys) {
    if (d.size() != keys.size()) return false;
    for (std::string_view k : keys) {
      if (!d.Has(k)) return false;
    }
    return true;
  };
  auto bad = [&](std::string_view what) { return Error(start, "expected " + std::string(what)); };
  auto keep = [&]() {
    *out = Value(std::move(d));
    return Status::OK();
  };
  if (d.size() == 1) {
    if (k0 == "$oid") {
      ObjectId oid;
      if (!v0.is_string() || !ObjectId::FromHex(v0.as_string(), &oid)) {
        return bad("{\"$oid\": \"<24 hex digits>\"}");
      }
      *out = Value(oid);
      return Status::OK();
    }
    if (k0 == "$numberInt") {
      int32_t v;
      if (!v0.is_string() || !ParseIntStrict(v0.as_string(), &v)) {
        return bad("{\"$numberInt\": \"<32-bit integer>\"}");
      }
      *out = Value(v);
      return Status::OK();
    }
    if (k0 == "$numberLong") {
      int64_t v;
      if (!v0.is_string() || !ParseIntStrict(v0.as_string(), &v)) {
        return bad("{\"$numberLong\": \"<64-bit integer>\"}");
      }
      *out = Value(v);
      return Status::OK();
    }
    if (k0 == "$numberDouble") {
      double v;
      if (!v0.is_string() || !ParseDoubleText(v0.as_string(), &v)) {
        return bad("{\"$numberDouble\": \"<double>\"}");
      }
      *out = Value(v);
      return Status::OK();
    }
    if (k0 == "$numberDecimal") {
      bool ok = false;
      Decimal128 dec;
      if (v0.is_string()) dec = Decimal128::FromString(v0.as_string(), &ok);
      if (!ok) return bad("{\"$numberDecimal\": \"<decimal>\"}");
      *out = Value(dec);
      return Status::OK();
    }
    if (k0 == "$binary") {
      const Value* b64 = v0.is_document() ? v0.as_document().Get("base64") : nullptr;
      const Value* st = v0.is_document() ? v0.as_document().Get("subType") : nullptr;
      std::string data, sub;
      if (!b64 || !st || v0.as_document().size() != 2 || !b64->is_string() || !st->is_string() ||
          st->as_string().empty() || st->as_string().size() > 2 ||
          !HexDecode(st->as_string().size() == 1 ? "0" + st->as_string() : st->as_string(),
                     &sub) ||
          !Base64Decode(b64->as_string(), &data)) {
        return bad("{\"$binary\": {\"base64\": \"<payload>\", \"subType\": \"<hex byte>\"}}");
      }
      *out = Value(Binary{static_cast<uint8_t>(sub[0]), std::move(data)});
      return Status::OK();
    }
    if (k0 == "$uuid") {
      std::string data;
      if (!v0.is_string() || !ParseUuid(v0.as_string(), &data)) {
        return bad("{\"$uuid\": \"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\"}");
      }
      *out = Value(Binary{4, std::move(data)});
      return Status::OK();
    }
    if (k0 == "$code") {
      if (!v0.is_string()) return bad("{\"$code\": \"<code>\"}");
      *out = Value(Code{v0.as_string()});
      return Status::OK();
    }
    if (k0 == "$symbol") {
      if (!v0.is_string()) return bad("{\"$symbol\": \"<string>\"}");
      *out = Value(Symbol{v0.as_string()});
      return Status::OK();
    }
    if (k0 == "$timestamp") {
      const Document* td = v0.is_document() ? &v0.as_document() : nullptr;
      int64_t t = -1, i = -1;
      if (!td || td->size() != 2 || !td->Get("t") || !td->Get("i") ||
          td->Get("t")->is_double() || td->Get("i")->is_double() ||
          !IntegralOf(*td->Get("t"), &t) || !IntegralOf(*td->Get("i"), &i) || t < 0 || i < 0 ||
          t > 0xFFFFFFFFLL || i > 0xFFFFFFFFLL) {
        return bad("{\"$timestamp\": {\"t\": <uint32>, \"i\": <uint32>}}");
      }
      *out = Value(Timestamp{static_cast<uint32_t>(t), static_cast<uint32_t>(i)});
      return Status::OK();
    }
    if (k0 == "$regularExpression") {
      const Document* rd = v0.is_document() ? &v0.as_document() : nullptr;
      const Value* p = rd ? rd->Get("pattern") : nullptr;
      const Value* o = rd ? rd->Get("options") : nullptr;
      if (!rd || rd->size() != 2 || !p || !o || !p->is_string() || !o->is_string() ||
          p->as_string().find('\0') != std::string::npos ||
          o->as_string().find('\0') != std::string::npos) {
        return bad("{\"$regularExpression\": {\"pattern\": \"<string>\", \"options\": \"<flags>\"}}");
      }
      std::string opts = o->as_string();
      detail::SortRegexOptions(&opts);
      *out = Value(Regex{p->as_string(), std::move(opts)});
      return Status::OK();
    }
    if (k0 == "$dbPointer") {
      const Document* pd = v0.is_document() ? &v0.as_document() : nullptr;
      const Value* ref = pd ? pd->Get("$ref") : nullptr;
      const Value* id = pd ? pd->Get("$id") : nullptr;
      if (!pd || pd->size() != 2 || !ref || !id || !ref->is_string() ||
          id->type() != Type::kObjectId) {
        return bad("{\"$dbPointer\": {\"$ref\": \"<namespace>\", \"$id\": {\"$oid\": \"...\"}}}");
      }
      *out = Value(DBPointer{ref->as_string(), id->as_object_id()});
      return Status::OK();
    }
    if (k0 == "$date") {
      int64_t ms;
      if (v0.is_string() && ParseIsoDate(v0.as_string(), &ms)) {
        *out = Value(DateTime{ms});
        return Status::OK();
      }
      if ((v0.is_int32() || v0.is_int64() || v0.is_double()) && IntegralOf(v0, &ms)) {
        *out = Value(DateTime{ms});
        return Status::OK();
      }
      return bad("{\"$date\": \"<ISO-8601>\"} or {\"$date\": {\"$numberLong\": \"<millis>\"}}");
    }
    if (k0 == "$minKey" || k0 == "$maxKey") {
      if (!(v0.is_int32() && v0.as_int32() == 1)) return bad("{\"" + k0 + "\": 1}");
      *out = k0 == "$minKey" ? Value(MinKey{}) : Value(MaxKey{});
      return Status::OK();
    }
    if (k0 == "$undefined") {
      if (!(v0.is_bool() && v0.as_bool())) return bad("{\"$undefined\": true}");
      *out = Value(Undefined{});
      return Status::OK();
    }
    return keep();
  }
  if (has_keys({"$code", "$scope"})) {
    const Value* code = d.Get("$code");
    const Value* scope = d.Get("$scope");
    if (!code->is_string() || !scope->is_document()) {
      return bad("{\"$code\": \"<code>\", \"$scope\": {...}}");
    }
    *out = Value(std::make_shared<const CodeWithScope>(
        CodeWithScope{code->as_string(), scope->as_document()}));
    return Status::OK();
  }
  if (has_keys({"$binary", "$type"}) && d.Get("$binary")->is_string()) {
    // Legacy {"$binary": "<base64>", "$type": "<hex>"}.
    const Value* t = d.Get("$type");
    std::string data, sub;
    if (!t->is_string() || t->as_string().empty() || t->as_string().size() > 2 ||
        !HexDecode(t->as_string().size() == 1 ? "0" + t->as_string() : t->as_string(), &sub) ||
        !Base64Decode(d.Get("$binary")->as_string(), &data)) {
      return bad("{\"$binary\": \"<base64>\", \"$type\": \"<hex byte>\"}");
    }
    *out = Value(Binary{static_cast<uint8_t>(sub[0]), std::move(data)});
    return Status::OK();
  }
  return keep();
}

// ---------------------------------------------------------------------------------------------
// Printer

void AppendQuoted(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned char>(c));
          *out += buf;
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

bool IsShellIdentifier(std::string_view s) {
  if (s.empty() || !IsIdentStart(s[0])) return false;
  return std::all_of(s.begin(), s.end(), IsIdentChar);
}

class Printer {
 public:
  Printer(JsonMode mode, std::string* out) : mode_(mode), out_(*out) {}

  void Doc(const Document& d) {
    if (d.empty()) {
      out_ += "{}";
      return;
    }
    out_ += '{';
    bool first = true;
    for (const Field& f : d) {
      if (!first) out_ += ", ";
      first = false;
      Key(f.name);
      Val(f.value);
    }
    out_ += '}';
  }

  void Val(const Value& v) {
    const auto& s = v.storage();
    const bool shell = mode_ == JsonMode::kShell;
    const bool canonical = mode_ == JsonMode::kCanonical;
    switch (v.type()) {
      case Type::kDouble: {
        double d = std::get<double>(s);
        if (shell) {
          out_ += std::isnan(d) ? "NaN" : std::isinf(d) ? (d < 0 ? "-Infinity" : "Infinity")
                                                        : FormatDouble(d);
        } else if (canonical || !std::isfinite(d)) {
          Wrap("$numberDouble");
          AppendQuoted(std::isnan(d)   ? "NaN"
                       : std::isinf(d) ? (d < 0 ? "-Infinity" : "Infinity")
                                       : FormatDouble(d),
                       &out_);
          out_ += '}';
        } else {
          out_ += FormatDouble(d);
        }
        return;
      }
      case Type::kString: AppendQuoted(std::get<std::string>(s), &out_); return;
      case Type::kDocument:
        if (v.is_raw_document()) {
          Result<Document> d = DecodeRaw(v.as_raw_document());
          Doc(d.ok() ? *d : Document());
          return;
        }
        Doc(std::get<Document>(s));
        return;
      case Type::kArray: {
        const Array& a = std::get<Array>(s);
        out_ += '[';
        for (size_t i = 0; i < a.size(); ++i) {
          if (i) out_ += ", ";
          Val(a[i]);
        }
        out_ += ']';
        return;
      }
      case Type::kBinary: {
        const Binary& b = std::get<Binary>(s);
        if (shell) {
          if (b.subtype == 4 && b.data.size() == 16) {
            out_ += "UUID(\"" + FormatUuid(b.data) + "\")";
          } else {
            out_ += "BinData(" + std::to_string(b.subtype) + ", \"" + Base64Encode(b.data) + "\")";
          }
          return;
        }
        Wrap("$binary");
        out_ += '{';
        Key("base64");
        AppendQuoted(Base64Encode(b.data), &out_);
        out_ += ", ";
        Key("subType");
        AppendQuoted(HexEncode(std::string(1, static_cast<char>(b.subtype))), &out_);
        out_ += "}}";
        return;
      }
      case Type::kUndefined:
        out_ += shell ? "undefined" : "{\"$undefined\": true}";
        return;
      case Type::kObjectId: {
        const std::string hex = std::get<ObjectId>(s).ToHex();
        if (shell) {
          out_ += "ObjectId(\"" + hex + "\")";
        } else {
          out_ += "{\"$oid\": \"" + hex + "\"}";
        }
        return;
      }
      case Type::kBool: out_ += std::get<bool>(s) ? "true" : "false"; return;
      case Type::kDateTime: {
        int64_t ms = std::get<DateTime>(s).millis;
        int64_t year = YearOf(ms);
        if (shell) {
          if (year >= 0 && year <= 9999) {
            out_ += "ISODate(\"" + FormatIsoDate(ms) + "\")";
          } else {
            out_ += "new Date(" + std::to_string(ms) + ")";
          }
        } else if (!canonical && year >= 1970 && year <= 9999) {
          out_ += "{\"$date\": \"" + FormatIsoDate(ms) + "\"}";
        } else {
          out_ += "{\"$date\": {\"$numberLong\": \"" + std::to_string(ms) + "\"}}";
        }
        return;
      }
      case Type::kNull: out_ += "null"; return;
      case Type::kRegex: {
        const Regex& r = std::get<Regex>(s);
        // Shell regex literals cannot hold an empty pattern ("//" is a comment) or a newline.
        if (shell && ShellRegexLiteral(r, &literal_)) {
          out_ += literal_;
          return;
        }
        Wrap("$regularExpression");
        out_ += '{';
        Key("pattern");
        AppendQuoted(r.pattern, &out_);
        out_ += ", ";
        Key("options");
        AppendQuoted(r.options, &out_);
        out_ += "}}";
        return;
      }
      case Type::kDBPointer: {
        const DBPointer& p = std::get<DBPointer>(s);
        Wrap("$dbPointer");
        out_ += '{';
        Key("$ref");
        AppendQuoted(p.ns, &out_);
        out_ += ", ";
        Key("$id");
        Val(Value(p.id));
        out_ += "}}";
        return;
      }
      case Type::kJavaScript:
        Wrap("$code");
        AppendQuoted(std::get<Code>(s).code, &out_);
        out_ += '}';
        return;
      case Type::kSymbol:
        Wrap("$symbol");
        AppendQuoted(std::get<Symbol>(s).symbol, &out_);
        out_ += '}';
        return;
      case Type::kJavaScriptWithScope: {
        const auto& c = std::get<std::shared_ptr<const CodeWithScope>>(s);
        Wrap("$code");
        AppendQuoted(c ? c->code : std::string(), &out_);
        out_ += ", ";
        Key("$scope");
        Doc(c ? c->scope : Document());
        out_ += '}';
        return;
      }
      case Type::kInt32: {
        std::string n = std::to_string(std::get<int32_t>(s));
        if (canonical) {
          out_ += "{\"$numberInt\": \"" + n + "\"}";
        } else {
          out_ += n;
        }
        return;
      }
      case Type::kTimestamp: {
        Timestamp t = std::get<Timestamp>(s);
        if (shell) {
          out_ += "Timestamp(" + std::to_string(t.seconds) + ", " + std::to_string(t.increment) + ")";
        } else {
          out_ += "{\"$timestamp\": {\"t\": " + std::to_string(t.seconds) +
                  ", \"i\": " + std::to_string(t.increment) + "}}";
        }
        return;
      }
      case Type::kInt64: {
        std::string n = std::to_string(std::get<int64_t>(s));
        if (shell) {
          out_ += "NumberLong(" + n + ")";
        } else if (canonical) {
          out_ += "{\"$numberLong\": \"" + n + "\"}";
        } else {
          out_ += n;
        }
        return;
      }
      case Type::kDecimal128: {
        std::string d = std::get<Decimal128>(s).ToString();
        if (shell) {
          out_ += "NumberDecimal(\"" + d + "\")";
        } else {
          out_ += "{\"$numberDecimal\": \"" + d + "\"}";
        }
        return;
      }
      case Type::kMinKey: out_ += shell ? "MinKey" : "{\"$minKey\": 1}"; return;
      case Type::kMaxKey: out_ += shell ? "MaxKey" : "{\"$maxKey\": 1}"; return;
      case Type::kEOO: out_ += "null"; return;
    }
  }

 private:
  void Key(std::string_view k) {
    if (mode_ == JsonMode::kShell && IsShellIdentifier(k)) {
      out_ += k;
    } else {
      AppendQuoted(k, &out_);
    }
    out_ += ": ";
  }
  // Opens {"<key>": (the caller writes the value and the closing brace).
  void Wrap(std::string_view key) {
    out_ += '{';
    Key(key);
  }

  // The /pattern/flags form of r when it reads back as exactly r (an unbalanced '[' or a
  // pattern ending in '\\' cannot be written that way; those use $regularExpression).
  static bool ShellRegexLiteral(const Regex& r, std::string* lit) {
    if (r.pattern.empty() || r.pattern.find('\n') != std::string::npos) return false;
    lit->assign("/");
    bool escaped = false, in_class = false;
    for (char c : r.pattern) {
      if (!escaped && c == '/' && !in_class) *lit += '\\';
      if (!escaped && c == '[') in_class = true;
      if (!escaped && c == ']') in_class = false;
      escaped = !escaped && c == '\\';
      *lit += c;
    }
    *lit += '/';
    *lit += r.options;
    Parser p(*lit);
    Value v;
    if (!p.ParseValue(&v, 1).ok() || !p.AtEnd() || v.type() != Type::kRegex) return false;
    return v.as_regex() == r;
  }

  JsonMode mode_;
  std::string& out_;
  std::string literal_;
};

}  // namespace

Result<Value> ParseJsonValue(std::string_view text) {
  Parser p(text);
  Value v;
  EDDY_RETURN_IF_ERROR(p.ParseValue(&v, 1));
  EDDY_RETURN_IF_ERROR(p.SkipWs());
  if (!p.AtEnd()) return p.Error(p.pos(), "expected end of input after the value");
  return v;
}

Result<Document> ParseJson(std::string_view text) {
  Parser p(text);
  EDDY_RETURN_IF_ERROR(p.SkipWs());
  if (p.Peek() != '{') return p.Error(p.pos(), "expected '{' to start a document");
  Value v;
  EDDY_RETURN_IF_ERROR(p.ParseValue(&v, 1));
  if (!v.is_document()) {
    return p.Error(0, "expected a document, not an Extended JSON " +
                          std::string(TypeName(v.type())) + " value");
  }
  EDDY_RETURN_IF_ERROR(p.SkipWs());
  if (!p.AtEnd()) return p.Error(p.pos(), "expected end of input after the document");
  return std::move(v.as_document());
}

Result<std::vector<Document>> ParseJsonSequence(std::string_view text) {
  Parser p(text);
  std::vector<Document> docs;
  while (true) {
    EDDY_RETURN_IF_ERROR(p.SkipWs());
    if (p.AtEnd()) break;
    const size_t start = p.pos();
    if (p.Peek() != '{') return p.Error(start, "expected '{' to start a document");
    Value v;
    EDDY_RETURN_IF_ERROR(p.ParseValue(&v, 1));
    if (!v.is_document()) {
      return p.Error(start, "expected a document, not an Extended JSON " +
                                std::string(TypeName(v.type())) + " value");
    }
    docs.push_back(std::move(v.as_document()));
  }
  return docs;
}

std::string ToJson(const Document& doc, JsonMode mode) {
  std::string out;
  Printer(mode, &out).Doc(doc);
  return out;
}

std::string ToJson(const Value& value, JsonMode mode) {
  std::string out;
  Printer(mode, &out).Val(value);
  return out;
}

}  // namespace eddy::bson
