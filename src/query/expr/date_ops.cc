// Date operators: $year $month $dayOfMonth $hour $minute $second $millisecond $dayOfWeek
// $dayOfYear $week $isoWeek $isoWeekYear $isoDayOfWeek $dateToString $dateFromString $dateAdd
// $dateSubtract $dateDiff $dateTrunc, $dateToParts $dateFromParts.
//
// Time zones: "UTC"/"GMT"/"Z", fixed offsets ("+05:30", "-0800", "+03"), and Olson names
// ("Europe/Paris") read from the system tz database (/usr/share/zoneinfo, TZif files; g++ 12's
// <chrono> has no tzdb). An unknown name is 40485 "unrecognized time zone identifier".
#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>

#include "query/expr/expression.h"
#include "query/expr/value_util.h"

namespace eddy::query::expr_internal {
namespace {

using bson::Array;
using bson::Document;
using bson::Value;

std::string TN(const MaybeValue& v) { return std::string(TypeNameOf(v)); }
MaybeValue Null() { return MaybeValue(Value()); }

constexpr int64_t kMsPerDay = 86400000;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Howard Hinnant's civil calendar algorithms.
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int DaysInMonth(int64_t y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

struct Parts {
  int64_t year;
  int month, day, hour, minute, second, millis;
  int dow;  // 0 = Sunday
  int doy;  // 1-based
  int64_t days;  // days since epoch (local)
};

Parts Break(int64_t local_ms) {
  Parts p;
  p.days = FloorDiv(local_ms, kMsPerDay);
  int64_t rem = local_ms - p.days * kMsPerDay;
  CivilFromDays(p.days, &p.year, &p.month, &p.day);
  p.hour = static_cast<int>(rem / 3600000);
  p.minute = static_cast<int>(rem / 60000 % 60);
  p.second = static_cast<int>(rem / 1000 % 60);
  p.millis = static_cast<int>(rem % 1000);
  p.dow = static_cast<int>(((p.days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  p.doy = static_cast<int>(p.days - DaysFromCivil(p.year, 1, 1) + 1);
  return p;
}

int IsoDow(const Parts& p) { return p.dow == 0 ? 7 : p.dow; }
void IsoWeek(const Parts& p, int64_t* iso_year, int* week) {
  int64_t thursday = p.days + (4 - IsoDow(p));
  int64_t y;
  int m, d;
  CivilFromDays(thursday, &y, &m, &d);
  *iso_year = y;
  *week = static_cast<int>((thursday - DaysFromCivil(y, 1, 1)) / 7 + 1);
}
int SundayWeek(const Parts& p) { return (p.doy - 1 + 7 - p.dow) / 7; }

// ---- time zones

struct TzData {
  std::vector<int64_t> transitions;  // seconds
  std::vector<uint8_t> index;
  std::vector<int32_t> offsets;      // seconds, per type
  int first_std = 0;
};

uint32_t Be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

std::shared_ptr<const TzData> ParseTzif(const std::string& bytes) {
  auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  if (n < 44 || std::memcmp(b, "TZif", 4) != 0) return nullptr;
  auto counts = [&](size_t off, uint32_t c[6]) {
    for (int i = 0; i < 6; ++i) c[i] = Be32(b + off + 20 + 4 * i);
  };
  uint32_t c[6];  // isutcnt isstdcnt leapcnt timecnt typecnt charcnt
  counts(0, c);
  size_t off = 44;
  int tsize = 4;
  if (b[4] >= '2') {
    off += c[3] * 4 + c[3] + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
    if (off + 44 > n) return nullptr;
    counts(off, c);
    off += 44;
    tsize = 8;
  }
  size_t need = c[3] * tsize + c[3] + c[4] * 6;
  if (off + need > n || c[4] == 0) return nullptr;
  auto tz = std::make_shared<TzData>();
  for (uint32_t i = 0; i < c[3]; ++i) {
    const unsigned char* p = b + off + i * tsize;
    int64_t t = tsize == 8 ? static_cast<int64_t>((uint64_t{Be32(p)} << 32) | Be32(p + 4))
                           : static_cast<int32_t>(Be32(p));
    tz->transitions.push_back(t);
  }
  off += c[3] * tsize;
  for (uint32_t i = 0; i < c[3]; ++i) tz->index.push_back(std::min<uint8_t>(b[off + i], c[4] - 1));
  off += c[3];
  bool found_std = false;
  for (uint32_t i = 0; i < c[4]; ++i) {
    tz->offsets.push_back(static_cast<int32_t>(Be32(b + off + i * 6)));
    if (!found_std && b[off + i * 6 + 4] == 0) {
      tz->first_std = static_cast<int>(i);
      found_std = true;
    }
  }
  return tz;
}

class TimeZone {
 public:
  TimeZone() = default;  // UTC
  static TimeZone Fixed(int64_t offset_ms) {
    TimeZone z;
    z.fixed_ = offset_ms;
    return z;
  }
  static TimeZone Olson(std::shared_ptr<const TzData> d) {
    TimeZone z;
    z.data_ = std::move(d);
    return z;
  }
  bool is_utc() const { return !data_ && fixed_ == 0; }

  int64_t OffsetAt(int64_t utc_ms) const {
    if (!data_) return fixed_;
    int64_t s = FloorDiv(utc_ms, 1000);
    const auto& t = data_->transitions;
    auto it = std::upper_bound(t.begin(), t.end(), s);
    if (it == t.begin()) return int64_t{data_->offsets[data_->first_std]} * 1000;
    size_t i = static_cast<size_t>(it - t.begin()) - 1;
    return int64_t{data_->offsets[data_->index[i]]} * 1000;
  }
  int64_t ToLocal(int64_t utc_ms) const { return utc_ms + OffsetAt(utc_ms); }
  int64_t ToUtc(int64_t local_ms) const {
    int64_t guess = local_ms - OffsetAt(local_ms);
    return local_ms - OffsetAt(guess);
  }

 private:
  int64_t fixed_ = 0;
  std::shared_ptr<const TzData> data_;
};

bool ParseOffset(std::string_view s, int64_t* ms) {
  if (s.empty() || (s[0] != '+' && s[0] != '-')) return false;
  int sign = s[0] == '-' ? -1 : 1;
  std::string digits;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] == ':' && i == 3) continue;
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    digits += s[i];
  }
  if (digits.size() != 2 && digits.size() != 4) return false;
  int h = std::stoi(digits.substr(0, 2));
  int m = digits.size() == 4 ? std::stoi(digits.substr(2)) : 0;
  if (m >= 60) return false;
  *ms = sign * (h * 3600000LL + m * 60000LL);
  return true;
}

Result<TimeZone> LookupZone(const std::string& name) {
  if (name == "UTC" || name == "GMT" || name == "Z" || name == "Etc/UTC" || name == "Etc/GMT") {
    return TimeZone();
  }
  int64_t off;
  if (ParseOffset(name, &off)) return TimeZone::Fixed(off);
  bool valid = !name.empty() && name.find("..") == std::string::npos && name[0] != '/';
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' ||
          c == '+')) {
      valid = false;
    }
  }
  static std::mutex mu;
  static auto* cache = new std::map<std::string, std::shared_ptr<const TzData>>();
  if (valid) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache->find(name);
    if (it != cache->end()) return TimeZone::Olson(it->second);
    std::ifstream f("/usr/share/zoneinfo/" + name, std::ios::binary);
    if (f) {
      std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      if (auto d = ParseTzif(bytes)) {
        (*cache)[name] = d;
        return TimeZone::Olson(d);
      }
    }
  }
  return Error(40485, "unrecognized time zone identifier: \"" + name + "\"");
}

// Evaluates an optional timezone expression; *null set when it is null/missing.
Result<TimeZone> EvalZone(const ExpressionPtr& e, EvalContext& ctx, const std::string& op,
                          bool* null) {
  *null = false;
  if (!e) return TimeZone();
  EDDY_ASSIGN_OR_RETURN(MaybeValue v, e->Evaluate(ctx));
  if (IsNullish(v)) {
    *null = true;
    return TimeZone();
  }
  if (!v->is_string()) {
    return Error(40517, "timezone must evaluate to a string, found " + TN(v));
  }
  return LookupZone(v->as_string());
}

// Date, Timestamp or ObjectId as milliseconds; 16006 otherwise.
Result<int64_t> ToMillis(const Value& v, const std::string& op) {
  switch (v.type()) {
    case bson::Type::kDateTime: return v.as_date().millis;
    case bson::Type::kTimestamp: return int64_t{v.as_timestamp().seconds} * 1000;
    case bson::Type::kObjectId: return int64_t{v.as_object_id().seconds()} * 1000;
    default:
      return Error(16006, "can't convert from BSON type " +
                              std::string(bson::TypeName(v.type())) + " to Date");
  }
}

// ---- $year and friends

enum class Field {
  kYear, kMonth, kDayOfMonth, kHour, kMinute, kSecond, kMillisecond, kDayOfWeek, kDayOfYear,
  kWeek, kIsoWeek, kIsoWeekYear, kIsoDayOfWeek
};

class DatePartExpr : public Expression {
 public:
  DatePartExpr(std::string op, Field f, ExpressionPtr date, ExpressionPtr tz)
      : op_(std::move(op)), f_(f), date_(std::move(date)), tz_(std::move(tz)) {}
  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    EDDY_ASSIGN_OR_RETURN(MaybeValue d, date_->Evaluate(ctx));
    bool tz_null;
    EDDY_ASSIGN_OR_RETURN(TimeZone tz, EvalZone(tz_, ctx, op_, &tz_null));
    if (IsNullish(d) || tz_null) return Null();
    EDDY_ASSIGN_OR_RETURN(int64_t ms, ToMillis(*d, op_));
    Parts p = Break(tz.ToLocal(ms));
    int64_t v = 0;
    switch (f_) {
      case Field::kYear: v = p.year; break;
      case Field::kMonth: v = p.month; break;
      case Field::kDayOfMonth: v = p.day; break;
      case Field::kHour: v = p.hour; break;
      case Field::kMinute: v = p.minute; break;
      case Field::kSecond: v = p.second; break;
      case Field::kMillisecond: v = p.millis; break;
      case Field::kDayOfWeek: v = p.dow + 1; break;
      case Field::kDayOfYear: v = p.doy; break;
      case Field::kWeek: v = SundayWeek(p); break;
      case Field::kIsoWeek: {
        int64_t y;
        int w;
        IsoWeek(p, &y, &w);
        v = w;
        break;
      }
      case Field::kIsoWeekYear: {
        int64_t y;
        int w;
        IsoWeek(p, &y, &w);
        v = y;
        break;
      }
      case Field::kIsoDayOfWeek: v = IsoDow(p); break;
    }
    if (f_ == Field::kIsoWeekYear) return MaybeValue(Value(v));  // mongod returns a long
    return MaybeValue(Value(static_cast<int32_t>(v)));
  }

 private:
  std::string op_;
  Field f_;
  ExpressionPtr date_, tz_;
};

Result<ExpressionPtr> ParseDatePart(const std::string& op, Field f, const Value& args,
                                    const ParseContext& ctx) {
  const Value* date = &args;
  const Value* tz = nullptr;
  if (args.is_array()) {
    if (args.as_array().size() != 1) {
      return Error(40536, op + " accepts exactly one argument if given an array, but was given " +
                              std::to_string(args.as_array().size()));
    }
    date = &args.as_array()[0];
  } else if (args.is_document() && !args.as_document().empty() &&
             args.as_document().at(0).name[0] != '$') {
    date = nullptr;
    for (const bson::Field& fl : args.as_document()) {
      if (fl.name == "date") {
        date = &fl.value;
      } else if (fl.name == "timezone") {
        tz = &fl.value;
      } else {
        return Error(40535, "unrecognized option to " + op + ": \"" + fl.name + "\"");
      }
    }
    if (date == nullptr) {
      return Error(40539, "missing 'date' argument to " + op + ", provided: " +
                              DescribeForError(args));
    }
  }
  EDDY_ASSIGN_OR_RETURN(ExpressionPtr de, ParseExpression(*date, ctx));
  ExpressionPtr te;
  if (tz != nullptr) {
    EDDY_ASSIGN_OR_RETURN(te, ParseExpression(*tz, ctx));
  }
  return ExpressionPtr(std::make_shared<DatePartExpr>(op, f, de, te));
}

// ---- named-argument helper

Result<std::vector<const Value*>> Named(const std::string& op, const Value& args,
                                        const std::vector<std::string>& names, int not_obj,
                                        int unknown) {
  if (!args.is_document()) {
    return Error(not_obj, op + " only supports an object as its argument");
  }
  std::vector<const Value*> out(names.size(), nullptr);
  for (const bson::Field& f : args.as_document()) {
    auto it = std::find(names.begin(), names.end(), f.name);
    if (it == names.end()) return Error(unknown, "Unrecognized argument to " + op + ": " + f.name);
    out[static_cast<size_t>(it - names.begin())] = &f.value;
  }
  return out;
}

Result<std::vector<ExpressionPtr>> ParseAll(const std::vector<const Value*>& vals,
                                            const ParseContext& ctx) {
  std::vector<ExpressionPtr> out;
  for (const Value* v : vals) {
    if (v == nullptr) {
      out.push_back(nullptr);
      continue;
    }
    EDDY_ASSIGN_OR_RETURN(ExpressionPtr e, ParseExpression(*v, ctx));
    out.push_back(std::move(e));
  }
  return out;
}

// ---- $dateToString

const char* kMonthAbbr[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
const char* kMonthFull[] = {"January", "February", "March",     "April",   "May",      "June",
                            "July",    "August",   "September", "October", "November", "December"};

std::string Pad(int64_t v, int width) {
  std::string s = std::to_string(v < 0 ? -v : v);
  while (static_cast<int>(s.size()) < width) s = "0" + s;
  return v < 0 ? "-" + s : s;
}

Status ValidateFormat(const std::string& op, const std::string& fmt) {
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') continue;
    if (i + 1 == fmt.size()) return Error(18535, "Unmatched '%' at end of format string");
    char c = fmt[++i];
    if (std::strchr("dGHjLmMSwuUVYzZ%bB", c) == nullptr) {
      return Error(18536, std::string("Invalid format character '%") + c + "' in format string");
    }
  }
  return Status::OK();
}

Result<std::string> FormatDateWith(const std::string& fmt, int64_t utc_ms, const TimeZone& tz) {
  int64_t offset = tz.OffsetAt(utc_ms);
  Parts p = Break(utc_ms + offset);
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%' || i + 1 >= fmt.size()) {
      out += fmt[i];
      continue;
    }
    char c = fmt[++i];
    switch (c) {
      case 'd': out += Pad(p.day, 2); break;
      case 'H': out += Pad(p.hour, 2); break;
      case 'j': out += Pad(p.doy, 3); break;
      case 'L': out += Pad(p.millis, 3); break;
      case 'm': out += Pad(p.month, 2); break;
      case 'M': out += Pad(p.minute, 2); break;
      case 'S': out += Pad(p.second, 2); break;
      case 'w': out += std::to_string(p.dow + 1); break;
      case 'u': out += std::to_string(IsoDow(p)); break;
      case 'U': out += Pad(SundayWeek(p), 2); break;
      case 'b': out += kMonthAbbr[p.month - 1]; break;
      case 'B': out += kMonthFull[p.month - 1]; break;
      case 'Y':
      case 'G': {
        int64_t y = p.year;
        if (c == 'G') {
          int w;
          IsoWeek(p, &y, &w);
        }
        if (y < 0 || y > 9999) {
          return Error(18537, "$dateToString is only defined on year 0-9999, tried to use year " +
                                  std::to_string(y));
        }
        out += Pad(y, 4);
        break;
      }
      case 'V': {
        int64_t y;
        int w;
        IsoWeek(p, &y, &w);
        out += Pad(w, 2);
        break;
      }
      case 'z': {
        int64_t m = offset / 60000;
        out += (m < 0 ? "-" : "+") + Pad(std::abs(m) / 60, 2) + Pad(std::abs(m) % 60, 2);
        break;
      }
      case 'Z': {
        int64_t m = offset / 60000;
        out += (m < 0 ? "-" : "+") + Pad(std::abs(m), 3);
        break;
      }
      case '%': out += '%'; break;
      default: out += '%'; out += c;
    }
  }
  return out;
}

class DateToStringExpr : public Expression {
 public:
  DateToStringExpr(std::vector<ExpressionPtr> e) : e_(std::move(e)) {}
  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    // date, format, timezone, onNull
    EDDY_ASSIGN_OR_RETURN(MaybeValue d, e_[0]->Evaluate(ctx));
    std::string fmt = e_[2] ? "%Y-%m-%dT%H:%M:%S.%L" : "%Y-%m-%dT%H:%M:%S.%LZ";
    if (e_[1]) {
      EDDY_ASSIGN_OR_RETURN(MaybeValue f, e_[1]->Evaluate(ctx));
      if (IsNullish(f)) return Null();
      if (!f->is_string()) {
        return Error(18533, "$dateToString requires that 'format' be a string, found: " + TN(f) +
                                " with value " + DescribeForError(f));
      }
      fmt = f->as_string();
      EDDY_RETURN_IF_ERROR(ValidateFormat("$dateToString", fmt));
    }
    bool tz_null;
    EDDY_ASSIGN_OR_RETURN(TimeZone tz, EvalZone(e_[2], ctx, "$dateToString", &tz_null));
    if (tz_null) return Null();
    if (IsNullish(d)) {
      if (e_[3]) return e_[3]->Evaluate(ctx);
      return Null();
    }
    EDDY_ASSIGN_OR_RETURN(int64_t ms, ToMillis(*d, "$dateToString"));
    EDDY_ASSIGN_OR_RETURN(std::string s, FormatDateWith(fmt, ms, tz));
    return MaybeValue(Value(std::move(s)));
  }

 private:
  std::vector<ExpressionPtr> e_;
};

Result<ExpressionPtr> ParseDateToString(const Value& args, const ParseContext& ctx) {
  EDDY_ASSIGN_OR_RETURN(auto a, Named("$dateToString", args, {"date", "format", "timezone",
                                                              "onNull"}, 18629, 18534));
  if (a[0] == nullptr) return Error(18628, "Missing 'date' parameter to $dateToString");
  if (a[1] != nullptr && a[1]->is_string()) {
    EDDY_RETURN_IF_ERROR(ValidateFormat("$dateToString", a[1]->as_string()));
  }
  EDDY_ASSIGN_OR_RETURN(auto e, ParseAll(a, ctx));
  return ExpressionPtr(std::make_shared<DateToStringExpr>(std::move(e)));
}

// ---- $dateFromString

struct ParsedDate {
  int64_t year = -1;
  int month = 1, day = 1, hour = 0, minute = 0, second = 0, millis = 0;
  std::optional<int64_t> offset_ms;
  std::optional<int> doy;
  std::optional<int64_t> iso_year;
  std::optional<int> iso_week, iso_dow;
};

bool ReadInt(std::string_view s, size_t* pos, int min_digits, int max_digits, int64_t* out) {
  size_t start = *pos;
  int64_t v = 0;
  while (*pos < s.size() && static_cast<int>(*pos - start) < max_digits &&
         std::isdigit(static_cast<unsigned char>(s[*pos]))) {
    v = v * 10 + (s[*pos] - '0');
    ++*pos;
  }
  if (static_cast<int>(*pos - start) < min_digits) return false;
  *out = v;
  return true;
}

bool ReadOffset(std::string_view s, size_t* pos, int64_t* ms) {
  if (*pos < s.size() && (s[*pos] == 'Z' || s[*pos] == 'z')) {
    ++*pos;
    *ms = 0;
    return true;
  }
  if (*pos >= s.size() || (s[*pos] != '+' && s[*pos] != '-')) return false;
  int sign = s[*pos] == '-' ? -1 : 1;
  ++*pos;
  int64_t h, m = 0;
  if (!ReadInt(s, pos, 2, 2, &h)) return false;
  if (*pos < s.size() && s[*pos] == ':') ++*pos;
  if (*pos < s.size() && std::isdigit(static_cast<unsigned char>(s[*pos]))) {
    if (!ReadInt(s, pos, 2, 2, &m)) return false;
  }
  *ms = sign * (h * 3600000 + m * 60000);
  return true;
}

// ISO-8601-like strings: date, optional time (T or space), optional fraction and offset.
bool ParseDefault(std::string_view s, ParsedDate* pd) {
  size_t pos = 0;
  int64_t v;
  if (!ReadInt(s, &pos, 4, 4, &pd->year)) return false;
  bool dashes = pos < s.size() && s[pos] == '-';
  if (dashes) ++pos;
  if (!ReadInt(s, &pos, 2, 2, &v)) return false;
  pd->month = static_cast<int>(v);
  if (dashes) {
    if (pos >= s.size() || s[pos] != '-') return false;
    ++pos;
  }
  if (!ReadInt(s, &pos, 2, 2, &v)) return false;
  pd->day = static_cast<int>(v);
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == ' ')) {
    ++pos;
    if (!ReadInt(s, &pos, 2, 2, &v)) return false;
    pd->hour = static_cast<int>(v);
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!ReadInt(s, &pos, 2, 2, &v)) return false;
      pd->minute = static_cast<int>(v);
      if (pos < s.size() && s[pos] == ':') {
        ++pos;
        if (!ReadInt(s, &pos, 2, 2, &v)) return false;
        pd->second = static_cast<int>(v);
        if (pos < s.size() && s[pos] == '.') {
          ++pos;
          size_t start = pos;
          int64_t frac = 0;
          if (!ReadInt(s, &pos, 1, 9, &frac)) return false;
          int digits = static_cast<int>(pos - start);
          while (digits > 3) {
            frac /= 10;
            --digits;
          }
          while (digits < 3) {
            frac *= 10;
            ++digits;
          }
          pd->millis = static_cast<int>(frac);
        }
      }
    }
  }
  if (pos < s.size()) {
    int64_t off;
    if (!ReadOffset(s, &pos, &off)) return false;
    pd->offset_ms = off;
  }
  return pos == s.size();
}

bool ParseWithFormat(std::string_view s, const std::string& fmt, ParsedDate* pd) {
  size_t pos = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      if (pos >= s.size() || s[pos] != fmt[i]) return false;
      ++pos;
      continue;
    }
    char c = fmt[++i];
    int64_t v;
    switch (c) {
      case 'Y': if (!ReadInt(s, &pos, 4, 4, &pd->year)) return false; break;
      case 'G': if (!ReadInt(s, &pos, 4, 4, &v)) return false; pd->iso_year = v; break;
      case 'm': if (!ReadInt(s, &pos, 1, 2, &v)) return false; pd->month = static_cast<int>(v); break;
      case 'd': if (!ReadInt(s, &pos, 1, 2, &v)) return false; pd->day = static_cast<int>(v); break;
      case 'H': if (!ReadInt(s, &pos, 1, 2, &v)) return false; pd->hour = static_cast<int>(v); break;
      case 'M': if (!ReadInt(s, &pos, 1, 2, &v)) return false; pd->minute = static_cast<int>(v); break;
      case 'S': if (!ReadInt(s, &pos, 1, 2, &v)) return false; pd->second = static_cast<int>(v); break;
      case 'L': if (!ReadInt(s, &pos, 1, 3, &v)) return false; pd->millis = static_cast<int>(v); break;
      case 'j': if (!ReadInt(s, &pos, 1, 3, &v)) return false; pd->doy = static_cast<int>(v); break;
      case 'V': if (!ReadInt(s, &pos, 1, 2, &v)) return false; pd->iso_week = static_cast<int>(v); break;
      case 'u': if (!ReadInt(s, &pos, 1, 1, &v)) return false; pd->iso_dow = static_cast<int>(v); break;
      case 'z': {
        int64_t off;
        if (!ReadOffset(s, &pos, &off)) return false;
        pd->offset_ms = off;
        break;
      }
      case 'Z': {
        int sign = 1;
        if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) sign = s[pos++] == '-' ? -1 : 1;
        if (!ReadInt(s, &pos, 1, 4, &v)) return false;
        pd->offset_ms = sign * v * 60000;
        break;
      }
      case 'b':
      case 'B': {
        bool ok = false;
        for (int m = 0; m < 12 && !ok; ++m) {
          for (const char* name : {kMonthFull[m], kMonthAbbr[m]}) {
            size_t len = std::strlen(name);
            if (s.size() - pos >= len && strncasecmp(s.data() + pos, name, len) == 0) {
              pd->month = m + 1;
              pos += len;
              ok = true;
              break;
            }
          }
        }
        if (!ok) return false;
        break;
      }
      case '%':
        if (pos >= s.size() || s[pos] != '%') return false;
        ++pos;
        break;
      default: return false;
    }
  }
  return pos == s.size();
}

class DateFromStringExpr : public Expression {
 public:
  explicit DateFromStringExpr(std::vector<ExpressionPtr> e) : e_(std::move(e)) {}
  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    // dateString, format, timezone, onError, onNull
    EDDY_ASSIGN_OR_RETURN(MaybeValue s, e_[0]->Evaluate(ctx));
    std::optional<std::string> fmt;
    if (e_[1]) {
      EDDY_ASSIGN_OR_RETURN(MaybeValue f, e_[1]->Evaluate(ctx));
      if (IsNullish(f)) return Null();
      if (!f->is_string()) {
        return Error(40684, "$dateFromString requires that 'format' be a string, found: " +
                                TN(f) + " with value " + DescribeForError(f));
      }
      EDDY_RETURN_IF_ERROR(ValidateFormat("$dateFromString", f->as_string()));
      fmt = f->as_string();
    }
    bool tz_null;
    EDDY_ASSIGN_OR_RETURN(TimeZone tz, EvalZone(e_[2], ctx, "$dateFromString", &tz_null));
    if (tz_null) return Null();
    if (IsNullish(s)) {
      if (e_[4]) return e_[4]->Evaluate(ctx);
      return Null();
    }
    Result<MaybeValue> r = Parse(*s, fmt, tz, e_[2] != nullptr);
    if (!r.ok() && e_[3] && r.status().code_number() == 241) return e_[3]->Evaluate(ctx);
    return r;
  }

 private:
  static Result<MaybeValue> Parse(const Value& sv, const std::optional<std::string>& fmt,
                                  const TimeZone& tz, bool has_tz) {
    if (!sv.is_string()) {
      return Error(241, "$dateFromString requires that 'dateString' be a string, found: " +
                            std::string(bson::TypeName(sv.type())) + " with value " +
                            DescribeForError(sv));
    }
    const std::string& s = sv.as_string();
    ParsedDate pd;
    bool ok = fmt ? ParseWithFormat(s, *fmt, &pd) : ParseDefault(s, &pd);
    auto fail = [&](const std::string& why) {
      return Error(241, "Error parsing date string '" + s + "'; " + why);
    };
    if (!ok) return fail("the string does not match the expected format");
    if (pd.iso_year && pd.iso_week) {
      // ISO week date: Monday of week 1 is the Monday of the week containing January 4.
      int64_t jan4 = DaysFromCivil(*pd.iso_year, 1, 4);
      int jan4_iso = static_cast<int>(((jan4 % 7) + 10) % 7) + 1;  // 1 = Monday
      int64_t days = jan4 - (jan4_iso - 1) + (*pd.iso_week - 1) * 7 + (pd.iso_dow.value_or(1) - 1);
      CivilFromDays(days, &pd.year, &pd.month, &pd.day);
    } else if (pd.year < 0) {
      return fail("no year was given");
    }
    if (pd.doy) {
      int64_t days = DaysFromCivil(pd.year, 1, 1) + *pd.doy - 1;
      CivilFromDays(days, &pd.year, &pd.month, &pd.day);
    }
    if (pd.month < 1 || pd.month > 12 || pd.day < 1 || pd.day > DaysInMonth(pd.year, pd.month) ||
        pd.hour > 23 || pd.minute > 59 || pd.second > 59) {
      return fail("a date or time component is out of range");
    }
    if (pd.offset_ms && has_tz) {
      return Error(40554, "you cannot pass in a date/time string with GMT offset together with "
                          "a timezone argument");
    }
    int64_t local = DaysFromCivil(pd.year, pd.month, pd.day) * kMsPerDay + pd.hour * 3600000LL +
                    pd.minute * 60000LL + pd.second * 1000LL + pd.millis;
    int64_t utc = pd.offset_ms ? local - *pd.offset_ms : tz.ToUtc(local);
    return MaybeValue(Value(bson::DateTime{utc}));
  }

  std::vector<ExpressionPtr> e_;
};

Result<ExpressionPtr> ParseDateFromString(const Value& args, const ParseContext& ctx) {
  EDDY_ASSIGN_OR_RETURN(auto a, Named("$dateFromString", args, {"dateString", "format",
                                                                "timezone", "onError", "onNull"},
                                      40540, 40541));
  if (a[0] == nullptr) return Error(40542, "Missing 'dateString' parameter to $dateFromString");
  if (a[1] != nullptr && a[1]->is_string()) {
    EDDY_RETURN_IF_ERROR(ValidateFormat("$dateFromString", a[1]->as_string()));
  }
  EDDY_ASSIGN_OR_RETURN(auto e, ParseAll(a, ctx));
  return ExpressionPtr(std::make_shared<DateFromStringExpr>(std::move(e)));
}

// ---- units

enum class Unit { kYear, kQuarter, kMonth, kWeek, kDay, kHour, kMinute, kSecond, kMillisecond };

Result<Unit> ParseUnit(const MaybeValue& v, const std::string& op) {
  if (!v || !v->is_string()) {
    return Error(5439013, op + " requires 'unit' to be a string, but got " + TN(v));
  }
  static const std::map<std::string, Unit> kUnits = {
      {"year", Unit::kYear},     {"quarter", Unit::kQuarter}, {"month", Unit::kMonth},
      {"week", Unit::kWeek},     {"day", Unit::kDay},         {"hour", Unit::kHour},
      {"minute", Unit::kMinute}, {"second", Unit::kSecond},   {"millisecond", Unit::kMillisecond}};
  auto it = kUnits.find(v->as_string());
  if (it == kUnits.end()) {
    return Error(9, "unknown time unit value: " + v->as_string());
  }
  return it->second;
}

int64_t UnitMillis(Unit u) {
  switch (u) {
    case Unit::kWeek: return 7 * kMsPerDay;
    case Unit::kDay: return kMsPerDay;
    case Unit::kHour: return 3600000;
    case Unit::kMinute: return 60000;
    case Unit::kSecond: return 1000;
    default: return 1;
  }
}

// 0 = Sunday ... 6 = Saturday.
Result<int> ParseStartOfWeek(const MaybeValue& v, const std::string& op) {
  if (!v || !v->is_string()) {
    return Error(5439015, op + " requires 'startOfWeek' to be a string, but got " + TN(v));
  }
  static const char* kFull[] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday",
                                "saturday"};
  std::string s = v->as_string();
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (int i = 0; i < 7; ++i) {
    if (s == kFull[i] || s == std::string(kFull[i], 3)) return i;
  }
  return Error(5439016, op + " parameter 'startOfWeek' must be a valid day of the week, but got " +
                            v->as_string());
}

int64_t AddMonthsLocal(int64_t local_ms, int64_t months) {
  Parts p = Break(local_ms);
  int64_t total = p.year * 12 + (p.month - 1) + months;
  int64_t y = FloorDiv(total, 12);
  int m = static_cast<int>(total - y * 12) + 1;
  int d = std::min(p.day, DaysInMonth(y, m));
  int64_t time = local_ms - p.days * kMsPerDay;
  return DaysFromCivil(y, m, d) * kMsPerDay + time;
}

// ---- $dateAdd / $dateSubtract

class DateAddExpr : public Expression {
 public:
  DateAddExpr(std::string op, int sign, std::vector<ExpressionPtr> e)
      : op_(std::move(op)), sign_(sign), e_(std::move(e)) {}
  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    // startDate, unit, amount, timezone
    EDDY_ASSIGN_OR_RETURN(MaybeValue start, e_[0]->Evaluate(ctx));
    EDDY_ASSIGN_OR_RETURN(MaybeValue unit_v, e_[1]->Evaluate(ctx));
    EDDY_ASSIGN_OR_RETURN(MaybeValue amount, e_[2]->Evaluate(ctx));
    bool tz_null;
    EDDY_ASSIGN_OR_RETURN(TimeZone tz, EvalZone(e_[3], ctx, op_, &tz_null));
    if (IsNullish(start) || IsNullish(unit_v) || IsNullish(amount) || tz_null) return Null();
    Result<int64_t> ms = ToMillis(*start, op_);
    if (!ms.ok()) {
      return Error(5166403, op_ + " requires startDate to be convertible to a date");
    }
    EDDY_ASSIGN_OR_RETURN(Unit unit, ParseUnit(unit_v, op_));
    double d = amount->is_number() ? amount->ToDouble() : 0.5;
    if (!amount->is_number() || d != std::trunc(d) || std::fabs(d) > 9.2e18) {
      return Error(5166405, op_ + " expects integer amount of time units");
    }
    int64_t n = amount->ToInt64() * sign_;
    int64_t r;
    switch (unit) {
      case Unit::kYear: r = tz.ToUtc(AddMonthsLocal(tz.ToLocal(*ms), n * 12)); break;
      case Unit::kQuarter: r = tz.ToUtc(AddMonthsLocal(tz.ToLocal(*ms), n * 3)); break;
      case Unit::kMonth: r = tz.ToUtc(AddMonthsLocal(tz.ToLocal(*ms), n)); break;
      case Unit::kWeek:
      case Unit::kDay: r = tz.ToUtc(tz.ToLocal(*ms) + n * UnitMillis(unit)); break;
      default: {
        int64_t delta;
        if (__builtin_mul_overflow(n, UnitMillis(unit), &delta) ||
            __builtin_add_overflow(*ms, delta, &r)) {
          return Error(5166406, op_ + " overflowed");
        }
      }
    }
    return MaybeValue(Value(bson::DateTime{r}));
  }

 private:
  std::string op_;
  int sign_;
  std::vector<ExpressionPtr> e_;
};

Result<ExpressionPtr> ParseDateAdd(const std::string& op, int sign, const Value& args,
                                   const ParseContext& ctx) {
  EDDY_ASSIGN_OR_RETURN(auto a, Named(op, args, {"startDate", "unit", "amount", "timezone"},
                                      5166400, 5166401));
  if (a[0] == nullptr || a[1] == nullptr || a[2] == nullptr) {
    return Error(5166402, op + " requires startDate, unit, and amount to be present");
  }
  EDDY_ASSIGN_OR_RETURN(auto e, ParseAll(a, ctx));
  return ExpressionPtr(std::make_shared<DateAddExpr>(op, sign, std::move(e)));
}

// ---- $dateDiff

class DateDiffExpr : public Expression {
 public:
  explicit DateDiffExpr(std::vector<ExpressionPtr> e) : e_(std::move(e)) {}
  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    // startDate, endDate, unit, timezone, startOfWeek
    const std::string op = "$dateDiff";
    EDDY_ASSIGN_OR_RETURN(MaybeValue s, e_[0]->Evaluate(ctx));
    EDDY_ASSIGN_OR_RETURN(MaybeValue en, e_[1]->Evaluate(ctx));
    EDDY_ASSIGN_OR_RETURN(MaybeValue u, e_[2]->Evaluate(ctx));
    bool tz_null;
    EDDY_ASSIGN_OR_RETURN(TimeZone tz, EvalZone(e_[3], ctx, op, &tz_null));
    if (IsNullish(s) || IsNullish(en) || IsNullish(u) || tz_null) return Null();
    Result<int64_t> a = ToMillis(*s, op);
    if (!a.ok()) {
      return Error(5166307, "$dateDiff requires 'startDate' to be a date, but got " + TN(s));
    }
    Result<int64_t> b = ToMillis(*en, op);
    if (!b.ok()) {
      return Error(5166307, "$dateDiff requires 'endDate' to be a date, but got " + TN(en));
    }
    EDDY_ASSIGN_OR_RETURN(Unit unit, ParseUnit(u, op));
    int sow = 0;
    if (e_[4] && unit == Unit::kWeek) {
      EDDY_ASSIGN_OR_RETURN(MaybeValue w, e_[4]->Evaluate(ctx));
      if (IsNullish(w)) return Null();
      EDDY_ASSIGN_OR_RETURN(sow, ParseStartOfWeek(w, op));
    }
    int64_t la = tz.ToLocal(*a), lb = tz.ToLocal(*b);
    Parts pa = Break(la), pb = Break(lb);
    int64_t r = 0;
    switch (unit) {
      case Unit::kYear: r = pb.year - pa.year; break;
      case Unit::kQuarter:
        r = FloorDiv(pb.year * 12 + pb.month - 1, 3) - FloorDiv(pa.year * 12 + pa.month - 1, 3);
        break;
      case Unit::kMonth: r = (pb.year * 12 + pb.month) - (pa.year * 12 + pa.month); break;
      case Unit::kWeek: {
        // Days since the most recent start-of-week on or before the epoch's week.
        auto week = [sow](const Parts& p) { return FloorDiv(p.days - ((sow - 4 + 7) % 7), 7); };
        r = week(pb) - week(pa);
        break;
      }
      case Unit::kDay: r = pb.days - pa.days; break;
      case Unit::kMillisecond: r = *b - *a; break;
      default: r = FloorDiv(lb, UnitMillis(unit)) - FloorDiv(la, UnitMillis(unit));
    }
    return MaybeValue(Value(r));
  }

 private:
  std::vector<ExpressionPtr> e_;
};

Result<ExpressionPtr> ParseDateDiff(const Value& args, const ParseContext& ctx) {
  EDDY_ASSIGN_OR_RETURN(auto a, Named("$dateDiff", args, {"startDate", "endDate", "unit",
                                                          "timezone", "startOfWeek"},
                                      5166301, 5166302));
  if (a[0] == nullptr) return Error(5166303, "Missing 'startDate' parameter to $dateDiff");
  if (a[1] == nullptr) return Error(5166304, "Missing 'endDate' parameter to $dateDiff");
  if (a[2] == nullptr) return Error(5166305, "Missing 'unit' parameter to $dateDiff");
  EDDY_ASSIGN_OR_RETURN(auto e, ParseAll(a, ctx));
  return ExpressionPtr(std::make_shared<DateDiffExpr>(std::move(e)));
}

// ---- $dateTrunc

class DateTruncExpr : public Expression {
 public:
  explicit DateTruncExpr(std::vector<ExpressionPtr> e) : e_(std::move(e)) {}
  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    // date, unit, binSize, timezone, startOfWeek
    const std::string op = "$dateTrunc";
    EDDY_ASSIGN_OR_RETURN(MaybeValue d, e_[0]->Evaluate(ctx));
    EDDY_ASSIGN_OR_RETURN(MaybeValue u, e_[1]->Evaluate(ctx));
    int64_t bin = 1;
    if (e_[2]) {
      EDDY_ASSIGN_OR_RETURN(MaybeValue b, e_[2]->Evaluate(ctx));
      if (IsNullish(b)) return Null();
      double bd = b->is_number() ? b->ToDouble() : 0.5;
      if (!b->is_number() || bd != std::trunc(bd)) {
        return Error(5439017, "$dateTrunc requires 'binSize' to be a 64-bit integer, but got "
                              "value '" + DescribeForError(b) + "' of type " + TN(b));
      }
      bin = b->ToInt64();
      if (bin <= 0) {
        return Error(5439018, "$dateTrunc requires 'binSize' to be greater than 0, but got value " +
                                  std::to_string(bin));
      }
    }
    bool tz_null;
    EDDY_ASSIGN_OR_RETURN(TimeZone tz, EvalZone(e_[3], ctx, op, &tz_null));
    if (IsNullish(d) || IsNullish(u) || tz_null) return Null();
    Result<int64_t> ms = ToMillis(*d, op);
    if (!ms.ok()) {
      return Error(5439012, "$dateTrunc requires 'date' to be a date, but got " + TN(d));
    }
    EDDY_ASSIGN_OR_RETURN(Unit unit, ParseUnit(u, op));
    int sow = 0;
    if (e_[4] && unit == Unit::kWeek) {
      EDDY_ASSIGN_OR_RETURN(MaybeValue w, e_[4]->Evaluate(ctx));
      if (IsNullish(w)) return Null();
      EDDY_ASSIGN_OR_RETURN(sow, ParseStartOfWeek(w, op));
    }
    int64_t local = tz.ToLocal(*ms);
    int64_t ref = DaysFromCivil(2000, 1, 1) * kMsPerDay;
    int64_t out_local;
    switch (unit) {
      case Unit::kYear:
      case Unit::kQuarter:
      case Unit::kMonth: {
        Parts p = Break(local);
        int64_t per = unit == Unit::kYear ? 12 : unit == Unit::kQuarter ? 3 : 1;
        int64_t months = (p.year - 2000) * 12 + (p.month - 1);
        int64_t start = FloorDiv(months, per * bin) * per * bin;
        int64_t y = 2000 + FloorDiv(start, 12);
        int m = static_cast<int>(start - FloorDiv(start, 12) * 12) + 1;
        out_local = DaysFromCivil(y, m, 1) * kMsPerDay;
        break;
      }
      case Unit::kWeek: {
        // The reference is the first start-of-week day on or after 2000-01-01 (a Saturday).
        int64_t ref_days = DaysFromCivil(2000, 1, 1) + ((sow - 6 + 7) % 7);
        int64_t days = FloorDiv(local, kMsPerDay);
        int64_t start = ref_days + FloorDiv(days - ref_days, 7 * bin) * 7 * bin;
        out_local = start * kMsPerDay;
        break;
      }
      default: {
        int64_t size = UnitMillis(unit) * bin;
        out_local = ref + FloorDiv(local - ref, size) * size;
      }
    }
    return MaybeValue(Value(bson::DateTime{tz.ToUtc(out_local)}));
  }

 private:
  std::vector<ExpressionPtr> e_;
};

Result<ExpressionPtr> ParseDateTrunc(const Value& args, const ParseContext& ctx) {
  EDDY_ASSIGN_OR_RETURN(auto a, Named("$dateTrunc", args, {"date", "unit", "binSize", "timezone",
                                                           "startOfWeek"}, 5439007, 5439008));
  if (a[0] == nullptr) return Error(5439009, "Missing 'date' parameter to $dateTrunc");
  if (a[1] == nullptr) return Error(5439010, "Missing 'unit' parameter to $dateTrunc");
  EDDY_ASSIGN_OR_RETURN(auto e, ParseAll(a, ctx));
  return ExpressionPtr(std::make_shared<DateTruncExpr>(std::move(e)));
}

// ---- $dateToParts / $dateFromParts

class DateToPartsExpr : public Expression {
 public:
  explicit DateToPartsExpr(std::vector<ExpressionPtr> e) : e_(std::move(e)) {}
  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    EDDY_ASSIGN_OR_RETURN(MaybeValue d, e_[0]->Evaluate(ctx));
    bool tz_null;
    EDDY_ASSIGN_OR_RETURN(TimeZone tz, EvalZone(e_[1], ctx, "$dateToParts", &tz_null));
    bool iso = false;
    if (e_[2]) {
      EDDY_ASSIGN_OR_RETURN(MaybeValue i, e_[2]->Evaluate(ctx));
      if (IsNullish(i)) return Null();
      if (!i->is_bool()) {
        return Error(40521, "iso8601 must evaluate to a bool, found " + TN(i));
      }
      iso = i->as_bool();
    }
    if (IsNullish(d) || tz_null) return Null();
    EDDY_ASSIGN_OR_RETURN(int64_t ms, ToMillis(*d, "$dateToParts"));
    Parts p = Break(tz.ToLocal(ms));
    Document out;
    if (iso) {
      int64_t y;
      int w;
      IsoWeek(p, &y, &w);
      out.Append("isoWeekYear", Value(static_cast<int32_t>(y)));
      out.Append("isoWeek", Value(w));
      out.Append("isoDayOfWeek", Value(IsoDow(p)));
    } else {
      out.Append("year", Value(static_cast<int32_t>(p.year)));
      out.Append("month", Value(p.month));
      out.Append("day", Value(p.day));
    }
    out.Append("hour", Value(p.hour));
    out.Append("minute", Value(p.minute));
    out.Append("second", Value(p.second));
    out.Append("millisecond", Value(p.millis));
    return MaybeValue(Value(std::move(out)));
  }

 private:
  std::vector<ExpressionPtr> e_;
};

class DateFromPartsExpr : public Expression {
 public:
  DateFromPartsExpr(std::vector<ExpressionPtr> e, bool iso) : e_(std::move(e)), iso_(iso) {}
  Result<MaybeValue> Evaluate(EvalContext& ctx) const override {
    // year|isoWeekYear, month|isoWeek, day|isoDayOfWeek, hour, minute, second, millisecond, tz
    static const char* kNames[] = {"year", "month", "day", "hour", "minute", "second",
                                   "millisecond"};
    static const char* kIsoNames[] = {"isoWeekYear", "isoWeek", "isoDayOfWeek"};
    int64_t v[7] = {1970, 1, 1, 0, 0, 0, 0};
    for (int i = 0; i < 7; ++i) {
      if (!e_[i]) continue;
      EDDY_ASSIGN_OR_RETURN(MaybeValue x, e_[i]->Evaluate(ctx));
      if (IsNullish(x)) return Null();
      double d = x->is_number() ? x->ToDouble() : 0.5;
      std::string name = iso_ && i < 3 ? kIsoNames[i] : kNames[i];
      if (!x->is_number() || d != std::trunc(d)) {
        return Error(40515, "'" + name + "' must evaluate to an integer, found " + TN(x) +
                                " with value " + DescribeForError(x));
      }
      v[i] = x->ToInt64();
      if (i == 0 && (v[0] < 1 || v[0] > 9999)) {
        return Error(40523, "'" + name + "' must evaluate to an integer in the range 1 to 9999, "
                                "found " + std::to_string(v[0]));
      }
    }
    bool tz_null;
    EDDY_ASSIGN_OR_RETURN(TimeZone tz, EvalZone(e_[7], ctx, "$dateFromParts", &tz_null));
    if (tz_null) return Null();
    int64_t days;
    if (iso_) {
      int64_t jan4 = DaysFromCivil(v[0], 1, 4);
      int jan4_iso = static_cast<int>(((jan4 % 7) + 10) % 7) + 1;
      days = jan4 - (jan4_iso - 1) + (v[1] - 1) * 7 + (v[2] - 1);
    } else {
      // Months and days overflow into the next unit, as mongod allows.
      int64_t months = v[0] * 12 + (v[1] - 1);
      int64_t y = FloorDiv(months, 12);
      int m = static_cast<int>(months - y * 12) + 1;
      days = DaysFromCivil(y, m, 1) + (v[2] - 1);
    }
    int64_t local = days * kMsPerDay + v[3] * 3600000 + v[4] * 60000 + v[5] * 1000 + v[6];
    return MaybeValue(Value(bson::DateTime{tz.ToUtc(local)}));
  }

 private:
  std::vector<ExpressionPtr> e_;
  bool iso_;
};

Result<ExpressionPtr> ParseDateFromParts(const Value& args, const ParseContext& ctx) {
  EDDY_ASSIGN_OR_RETURN(
      auto a, Named("$dateFromParts", args,
                    {"year", "month", "day", "hour", "minute", "second", "millisecond",
                     "timezone", "isoWeekYear", "isoWeek", "isoDayOfWeek"},
                    40519, 40518));
  bool iso = a[8] != nullptr;
  if (iso && (a[0] || a[1] || a[2])) {
    return Error(40489, "$dateFromParts does not allow mixing natural dates with ISO dates");
  }
  if (!iso && a[0] == nullptr) {
    return Error(40516, "$dateFromParts requires either 'year' or 'isoWeekYear' to be present");
  }
  if (!iso && (a[9] || a[10])) {
    return Error(40489, "$dateFromParts does not allow mixing natural dates with ISO dates");
  }
  std::vector<const Value*> order = {iso ? a[8] : a[0], iso ? a[9] : a[1], iso ? a[10] : a[2],
                                     a[3], a[4], a[5], a[6], a[7]};
  EDDY_ASSIGN_OR_RETURN(auto e, ParseAll(order, ctx));
  return ExpressionPtr(std::make_shared<DateFromPartsExpr>(std::move(e), iso));
}

}  // namespace

void RegisterDateOps() {
  const std::pair<const char*, Field> parts[] = {
      {"$year", Field::kYear},           {"$month", Field::kMonth},
      {"$dayOfMonth", Field::kDayOfMonth}, {"$hour", Field::kHour},
      {"$minute", Field::kMinute},       {"$second", Field::kSecond},
      {"$millisecond", Field::kMillisecond}, {"$dayOfWeek", Field::kDayOfWeek},
      {"$dayOfYear", Field::kDayOfYear}, {"$week", Field::kWeek},
      {"$isoWeek", Field::kIsoWeek},     {"$isoWeekYear", Field::kIsoWeekYear},
      {"$isoDayOfWeek", Field::kIsoDayOfWeek}};
  for (const auto& [name, f] : parts) {
    std::string op = name;
    Field field = f;
    RegisterExpression(op, [op, field](const Value& a, const ParseContext& c) {
      return ParseDatePart(op, field, a, c);
    });
  }
  RegisterExpression("$dateToString", ParseDateToString);
  RegisterExpression("$dateFromString", ParseDateFromString);
  RegisterExpression("$dateAdd", [](const Value& a, const ParseContext& c) {
    return ParseDateAdd("$dateAdd", 1, a, c);
  });
  RegisterExpression("$dateSubtract", [](const Value& a, const ParseContext& c) {
    return ParseDateAdd("$dateSubtract", -1, a, c);
  });
  RegisterExpression("$dateDiff", ParseDateDiff);
  RegisterExpression("$dateTrunc", ParseDateTrunc);
  RegisterExpression("$dateToParts", [](const Value& args, const ParseContext& ctx)
                                         -> Result<ExpressionPtr> {
    EDDY_ASSIGN_OR_RETURN(auto a, Named("$dateToParts", args, {"date", "timezone", "iso8601"},
                                        40524, 40520));
    if (a[0] == nullptr) return Error(40522, "Missing 'date' parameter to $dateToParts");
    EDDY_ASSIGN_OR_RETURN(auto e, ParseAll(a, ctx));
    return ExpressionPtr(std::make_shared<DateToPartsExpr>(std::move(e)));
  });
  RegisterExpression("$dateFromParts", ParseDateFromParts);
}

}  // namespace eddy::query::expr_internal
