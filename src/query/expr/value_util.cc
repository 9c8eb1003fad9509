#include "query/expr/value_util.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace eddy::query::expr_internal {

using bson::Value;

Status Error(int code, std::string message) {
  return Status(static_cast<ErrorCode>(code), std::move(message));
}

long double DecimalToLongDouble(const bson::Decimal128& d) {
  std::string s = d.ToString();
  if (s == "NaN" || s == "-NaN") return std::numeric_limits<long double>::quiet_NaN();
  if (s == "Infinity") return std::numeric_limits<long double>::infinity();
  if (s == "-Infinity") return -std::numeric_limits<long double>::infinity();
  return std::strtold(s.c_str(), nullptr);
}

bson::Decimal128 DecimalFromLongDouble(long double v) {
  if (std::isnan(v)) return bson::Decimal128::FromString("NaN");
  if (std::isinf(v)) return bson::Decimal128::FromString(v > 0 ? "Infinity" : "-Infinity");
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.18Lg", v);
  return bson::Decimal128::FromString(buf);
}

long double ToLongDouble(const Value& v) {
  if (v.is_int32()) return v.as_int32();
  if (v.is_int64()) return static_cast<long double>(v.as_int64());
  if (v.is_double()) return v.as_double_exact();
  return DecimalToLongDouble(v.as_decimal());
}

NumKind KindOf(const Value& v) {
  if (v.is_int32()) return NumKind::kInt;
  if (v.is_int64()) return NumKind::kLong;
  if (v.is_double()) return NumKind::kDouble;
  return NumKind::kDecimal;
}

Value IntegralResult(int64_t v, bool allow_int32) {
  if (allow_int32 && v >= INT32_MIN && v <= INT32_MAX) return Value(static_cast<int32_t>(v));
  return Value(v);
}

std::string FormatDouble(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), d);
  return std::string(buf, r.ptr);
}

namespace {
// Howard Hinnant's days <-> civil date algorithms.
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}
}  // namespace

std::string FormatDate(bson::DateTime dt) {
  int64_t ms = dt.millis;
  int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
  int64_t rem = ms - days * 86400000;
  int64_t y;
  unsigned mo, d;
  CivilFromDays(days, &y, &mo, &d);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<long long>(y), mo, d, static_cast<long long>(rem / 3600000),
                static_cast<long long>(rem / 60000 % 60), static_cast<long long>(rem / 1000 % 60),
                static_cast<long long>(rem % 1000));
  return buf;
}

bool ParseIsoDate(std::string_view s, int64_t* millis) {
  size_t pos = 0;
  auto digits = [&](int n, int64_t* out) {
    if (pos + n > s.size()) return false;
    int64_t v = 0;
    for (int i = 0; i < n; ++i) {
      char c = s[pos + i];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    pos += n;
    *out = v;
    return true;
  };
  auto expect = [&](char c) {
    if (pos < s.size() && s[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  };
  int64_t y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
  if (!digits(4, &y) || !expect('-') || !digits(2, &mo) || !expect('-') || !digits(2, &d)) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return false;
  int64_t offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == ' ')) {
    ++pos;
    if (!digits(2, &h) || !expect(':') || !digits(2, &mi)) return false;
    if (expect(':')) {
      if (!digits(2, &sec)) return false;
      if (expect('.')) {
        size_t start = pos;
        int64_t frac = 0;
        int n = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          if (n < 3) {
            frac = frac * 10 + (s[pos] - '0');
            ++n;
          }
          ++pos;
        }
        if (pos == start) return false;
        while (n < 3) {
          frac *= 10;
          ++n;
        }
        ms = frac;
      }
    }
    if (h > 23 || mi > 59 || sec > 59) return false;
    if (expect('Z')) {
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
      int sign = s[pos] == '-' ? -1 : 1;
      ++pos;
      int64_t oh, om = 0;
      if (!digits(2, &oh)) return false;
      expect(':');
      if (pos < s.size() && !digits(2, &om)) return false;
      offset_minutes = sign * (oh * 60 + om);
    }
  }
  if (pos != s.size()) return false;
  int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  *millis = ((days * 24 + h) * 60 + mi - offset_minutes) * 60000 + sec * 1000 + ms;
  return true;
}

Result<std::string> CoerceToString(const MaybeValue& mv) {
  if (IsNullish(mv)) return std::string();
  const Value& v = *mv;
  switch (v.type()) {
    case bson::Type::kString: return v.as_string();
    case bson::Type::kSymbol: return std::get<bson::Symbol>(v.storage()).symbol;
    case bson::Type::kInt32: return std::to_string(v.as_int32());
    case bson::Type::kInt64: return std::to_string(v.as_int64());
    case bson::Type::kDouble: return FormatDouble(v.as_double_exact());
    case bson::Type::kDecimal128: return v.as_decimal().ToString();
    case bson::Type::kDateTime: return FormatDate(v.as_date());
    case bson::Type::kTimestamp: {
      bson::Timestamp t = v.as_timestamp();
      return "Timestamp(" + std::to_string(t.seconds) + ", " + std::to_string(t.increment) + ")";
    }
    case bson::Type::kJavaScript: return std::get<bson::Code>(v.storage()).code;
    default:
      return Error(16007, "can't convert from BSON type " +
                              std::string(bson::TypeName(v.type())) + " to String");
  }
}

}  // namespace eddy::query::expr_internal
