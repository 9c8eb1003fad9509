#include "query/update/detail/arithmetic.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace eddy::query::update_detail {
namespace {

// A finite decimal as sign * digits * 10^exp, digits without leading zeros ("" is zero).
// Decimal128 has no arithmetic in bson/, so $inc/$mul on decimals go through exact digit
// strings and round once, which is what IEEE 754 decimal arithmetic specifies.
struct BigDec {
  bool negative = false;
  std::string digits;
  int64_t exp = 0;
};

enum class Special { kNone, kNaN, kPosInf, kNegInf };

Special Classify(const std::string& s) {
  if (s == "NaN" || s == "-NaN") return Special::kNaN;
  if (s == "Infinity" || s == "+Infinity") return Special::kPosInf;
  if (s == "-Infinity") return Special::kNegInf;
  return Special::kNone;
}

void StripLeadingZeros(std::string* d) {
  size_t i = 0;
  while (i < d->size() && (*d)[i] == '0') ++i;
  d->erase(0, i);
}

BigDec ParseDec(const std::string& s) {
  BigDec r;
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
    r.negative = s[i] == '-';
    ++i;
  }
  int64_t frac_digits = 0;
  bool after_dot = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      r.digits.push_back(c);
      if (after_dot) ++frac_digits;
    } else if (c == '.') {
      after_dot = true;
    } else if (c == 'E' || c == 'e') {
      r.exp = std::stoll(s.substr(i + 1));
      break;
    }
  }
  r.exp -= frac_digits;
  StripLeadingZeros(&r.digits);
  return r;
}

int CompareMagnitude(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
}

std::string AddMagnitude(const std::string& a, const std::string& b) {
  std::string r;
  int carry = 0;
  for (size_t i = 0; i < std::max(a.size(), b.size()) || carry; ++i) {
    int x = carry;
    if (i < a.size()) x += a[a.size() - 1 - i] - '0';
    if (i < b.size()) x += b[b.size() - 1 - i] - '0';
    r.push_back(static_cast<char>('0' + x % 10));
    carry = x / 10;
  }
  std::reverse(r.begin(), r.end());
  StripLeadingZeros(&r);
  return r;
}

// REQUIRES: a >= b in magnitude.
std::string SubMagnitude(const std::string& a, const std::string& b) {
  std::string r;
  int borrow = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    int x = (a[a.size() - 1 - i] - '0') - borrow;
    if (i < b.size()) x -= b[b.size() - 1 - i] - '0';
    borrow = x < 0 ? 1 : 0;
    if (x < 0) x += 10;
    r.push_back(static_cast<char>('0' + x));
  }
  std::reverse(r.begin(), r.end());
  StripLeadingZeros(&r);
  return r;
}

std::string MulMagnitude(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return "";
  std::vector<int> acc(a.size() + b.size(), 0);
  for (size_t i = 0; i < a.size(); ++i) {
    for (size_t j = 0; j < b.size(); ++j) {
      acc[i + j + 1] += (a[i] - '0') * (b[j] - '0');
    }
  }
  for (size_t k = acc.size() - 1; k > 0; --k) {
    acc[k - 1] += acc[k] / 10;
    acc[k] %= 10;
  }
  std::string r;
  for (int d : acc) r.push_back(static_cast<char>('0' + d));
  StripLeadingZeros(&r);
  return r;
}

bson::Decimal128 ToDecimal(BigDec d, bool zero_negative, int64_t zero_exp) {
  constexpr size_t kMaxDigits = 34;
  if (d.digits.empty()) {
    std::string s = std::string(zero_negative ? "-" : "") + "0E" + std::to_string(zero_exp);
    return bson::Decimal128::FromString(s);
  }
  if (d.digits.size() > kMaxDigits) {
    size_t drop = d.digits.size() - kMaxDigits;
    std::string kept = d.digits.substr(0, kMaxDigits);
    std::string rest = d.digits.substr(kMaxDigits);
    bool round_up = false;
    if (rest[0] > '5') {
      round_up = true;
    } else if (rest[0] == '5') {
      bool tail_nonzero = rest.find_first_not_of('0', 1) != std::string::npos;
      round_up = tail_nonzero || ((kept.back() - '0') % 2 == 1);
    }
    if (round_up) kept = AddMagnitude(kept, "1");
    if (kept.size() > kMaxDigits) {  // 999..9 rounded up to 1000..0
      kept.pop_back();
      ++drop;
    }
    d.digits = kept;
    d.exp += static_cast<int64_t>(drop);
  }
  std::string s = std::string(d.negative ? "-" : "") + d.digits + "E" + std::to_string(d.exp);
  return bson::Decimal128::FromString(s);
}

bson::Decimal128 NaN() { return bson::Decimal128::FromString("NaN"); }
bson::Decimal128 Inf(bool negative) {
  return bson::Decimal128::FromString(negative ? "-Infinity" : "Infinity");
}

bool IsNegativeZeroString(const std::string& s) { return !s.empty() && s[0] == '-'; }

}  // namespace

bson::Decimal128 DecimalAdd(const bson::Decimal128& a, const bson::Decimal128& b) {
  std::string sa = a.ToString(), sb = b.ToString();
  Special ca = Classify(sa), cb = Classify(sb);
  if (ca == Special::kNaN || cb == Special::kNaN) return NaN();
  if (ca != Special::kNone || cb != Special::kNone) {
    if (ca != Special::kNone && cb != Special::kNone && ca != cb) return NaN();
    return ca != Special::kNone ? a : b;
  }
  BigDec x = ParseDec(sa), y = ParseDec(sb);
  int64_t e = std::min(x.exp, y.exp);
  x.digits.append(static_cast<size_t>(x.exp - e), '0');
  y.digits.append(static_cast<size_t>(y.exp - e), '0');
  StripLeadingZeros(&x.digits);
  StripLeadingZeros(&y.digits);
  BigDec r;
  r.exp = e;
  if (x.negative == y.negative) {
    r.negative = x.negative;
    r.digits = AddMagnitude(x.digits, y.digits);
  } else if (CompareMagnitude(x.digits, y.digits) >= 0) {
    r.negative = x.negative;
    r.digits = SubMagnitude(x.digits, y.digits);
  } else {
    r.negative = y.negative;
    r.digits = SubMagnitude(y.digits, x.digits);
  }
  bool zero_negative = IsNegativeZeroString(sa) && IsNegativeZeroString(sb);
  return ToDecimal(r, zero_negative, e);
}

bson::Decimal128 DecimalMultiply(const bson::Decimal128& a, const bson::Decimal128& b) {
  std::string sa = a.ToString(), sb = b.ToString();
  Special ca = Classify(sa), cb = Classify(sb);
  bool neg = IsNegativeZeroString(sa) != IsNegativeZeroString(sb);
  if (ca == Special::kNaN || cb == Special::kNaN) return NaN();
  BigDec x = ParseDec(sa), y = ParseDec(sb);
  if (ca != Special::kNone || cb != Special::kNone) {
    bool other_zero = (ca == Special::kNone && x.digits.empty()) ||
                      (cb == Special::kNone && y.digits.empty());
    return other_zero ? NaN() : Inf(neg);
  }
  BigDec r;
  r.negative = neg;
  r.exp = x.exp + y.exp;
  r.digits = MulMagnitude(x.digits, y.digits);
  return ToDecimal(r, neg, r.exp);
}

namespace {

enum class Rank { kInt32, kInt64, kDouble, kDecimal };

Rank RankOf(const bson::Value& v) {
  if (v.is_decimal()) return Rank::kDecimal;
  if (v.is_double()) return Rank::kDouble;
  if (v.is_int64()) return Rank::kInt64;
  return Rank::kInt32;
}

}  // namespace

std::optional<bson::Value> Add(const bson::Value& a, const bson::Value& b) {
  Rank r = std::max(RankOf(a), RankOf(b));
  switch (r) {
    case Rank::kDecimal:
      return bson::Value(DecimalAdd(a.ToDecimal(), b.ToDecimal()));
    case Rank::kDouble:
      return bson::Value(a.ToDouble() + b.ToDouble());
    case Rank::kInt64: {
      int64_t out;
      if (__builtin_add_overflow(a.ToInt64(), b.ToInt64(), &out)) return std::nullopt;
      return bson::Value(out);
    }
    case Rank::kInt32: {
      int64_t out = int64_t{a.as_int32()} + int64_t{b.as_int32()};
      if (out >= std::numeric_limits<int32_t>::min() &&
          out <= std::numeric_limits<int32_t>::max()) {
        return bson::Value(static_cast<int32_t>(out));
      }
      return bson::Value(out);
    }
  }
  return std::nullopt;
}

std::optional<bson::Value> Multiply(const bson::Value& a, const bson::Value& b) {
  Rank r = std::max(RankOf(a), RankOf(b));
  switch (r) {
    case Rank::kDecimal:
      return bson::Value(DecimalMultiply(a.ToDecimal(), b.ToDecimal()));
    case Rank::kDouble:
      return bson::Value(a.ToDouble() * b.ToDouble());
    case Rank::kInt64: {
      int64_t out;
      if (__builtin_mul_overflow(a.ToInt64(), b.ToInt64(), &out)) return std::nullopt;
      return bson::Value(out);
    }
    case Rank::kInt32: {
      int64_t out = int64_t{a.as_int32()} * int64_t{b.as_int32()};
      if (out >= std::numeric_limits<int32_t>::min() &&
          out <= std::numeric_limits<int32_t>::max()) {
        return bson::Value(static_cast<int32_t>(out));
      }
      return bson::Value(out);
    }
  }
  return std::nullopt;
}

}  // namespace eddy::query::update_detail
