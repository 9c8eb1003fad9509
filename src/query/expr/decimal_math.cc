#include "query/expr/decimal_math.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

namespace eddy::query::expr_internal {
namespace {

using bson::Decimal128;

constexpr int kPrecision = 34;
constexpr int kMinExp = -6176;  // smallest exponent (subnormals included)
constexpr int kMaxExp = 6111;   // largest exponent of a 34-digit coefficient
constexpr int kBias = 6176;

// A decimal as sign, decimal digit string (no leading zeros; "0" for zero) and exponent.
struct Dec {
  enum Kind { kFinite, kInf, kNaN };
  Kind kind = kFinite;
  bool neg = false;
  std::string digits = "0";
  int exp = 0;
};

std::string U128ToString(unsigned __int128 v) {
  if (v == 0) return "0";
  std::string s;
  while (v > 0) {
    s.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  std::reverse(s.begin(), s.end());
  return s;
}

Dec Unpack(const Decimal128& d) {
  Dec r;
  r.neg = (d.high >> 63) != 0;
  uint64_t comb = (d.high >> 58) & 0x1F;
  if (comb == 0x1F) {
    r.kind = Dec::kNaN;
    return r;
  }
  if (comb == 0x1E) {
    r.kind = Dec::kInf;
    return r;
  }
  if (((d.high >> 61) & 0x3) == 0x3) {  // large-coefficient form: always non-canonical
    r.exp = static_cast<int>((d.high >> 47) & 0x3FFF) - kBias;
    return r;  // zero
  }
  r.exp = static_cast<int>((d.high >> 49) & 0x3FFF) - kBias;
  unsigned __int128 coef =
      (static_cast<unsigned __int128>(d.high & 0x1FFFFFFFFFFFFULL) << 64) | d.low;
  static const unsigned __int128 kMaxCoef = [] {
    unsigned __int128 v = 1;
    for (int i = 0; i < kPrecision; ++i) v *= 10;
    return v;
  }();
  if (coef >= kMaxCoef) coef = 0;  // non-canonical
  r.digits = U128ToString(coef);
  return r;
}

bool IsZeroDigits(const std::string& s) { return s == "0"; }

std::string StripLeadingZeros(std::string s) {
  size_t i = 0;
  while (i + 1 < s.size() && s[i] == '0') ++i;
  return s.substr(i);
}

// Magnitude helpers on digit strings.
int CmpMag(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
}

std::string AddMag(const std::string& a, const std::string& b) {
  std::string r;
  int carry = 0;
  for (size_t i = 0; i < std::max(a.size(), b.size()) || carry; ++i) {
    int s = carry;
    if (i < a.size()) s += a[a.size() - 1 - i] - '0';
    if (i < b.size()) s += b[b.size() - 1 - i] - '0';
    r.push_back(static_cast<char>('0' + s % 10));
    carry = s / 10;
  }
  std::reverse(r.begin(), r.end());
  return StripLeadingZeros(r);
}

std::string SubMag(const std::string& a, const std::string& b) {  // REQUIRES: a >= b
  std::string r;
  int borrow = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    int s = (a[a.size() - 1 - i] - '0') - borrow;
    if (i < b.size()) s -= b[b.size() - 1 - i] - '0';
    borrow = s < 0;
    if (s < 0) s += 10;
    r.push_back(static_cast<char>('0' + s));
  }
  std::reverse(r.begin(), r.end());
  return StripLeadingZeros(r);
}

std::string MulMag(const std::string& a, const std::string& b) {
  if (IsZeroDigits(a) || IsZeroDigits(b)) return "0";
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
  return StripLeadingZeros(r);
}

std::string Shift(const std::string& a, int zeros) {
  if (IsZeroDigits(a) || zeros <= 0) return a;
  return a + std::string(static_cast<size_t>(zeros), '0');
}

// Long division of magnitudes: quotient and remainder.
void DivMag(const std::string& a, const std::string& b, std::string* q, std::string* r) {
  std::string rem = "0";
  std::string quot;
  for (char c : a) {
    rem = IsZeroDigits(rem) ? std::string(1, c) : rem + c;
    rem = StripLeadingZeros(rem);
    int d = 0;
    while (CmpMag(rem, b) >= 0) {
      rem = SubMag(rem, b);
      ++d;
    }
    quot.push_back(static_cast<char>('0' + d));
  }
  *q = StripLeadingZeros(quot.empty() ? "0" : quot);
  *r = rem;
}

// Drops the last `drop` digits, rounding by `mode`; `sticky` says nonzero digits were already
// dropped further right.
std::string RoundDrop(const std::string& digits, int drop, DecRound mode, bool neg, bool sticky) {
  if (drop <= 0) return digits;
  std::string kept;
  std::string gone;
  if (static_cast<size_t>(drop) >= digits.size()) {
    kept = "0";
    gone = std::string(static_cast<size_t>(drop) - digits.size(), '0') + digits;
  } else {
    kept = digits.substr(0, digits.size() - static_cast<size_t>(drop));
    gone = digits.substr(digits.size() - static_cast<size_t>(drop));
  }
  bool rest_nonzero = sticky || gone.find_first_not_of('0', 1) != std::string::npos;
  int first = gone[0] - '0';
  bool inexact = first != 0 || rest_nonzero;
  bool up = false;
  switch (mode) {
    case DecRound::kHalfEven:
      if (first > 5 || (first == 5 && rest_nonzero)) {
        up = true;
      } else if (first == 5) {
        up = (kept.back() - '0') % 2 == 1;
      }
      break;
    case DecRound::kTowardZero: up = false; break;
    case DecRound::kCeiling: up = inexact && !neg; break;
    case DecRound::kFloor: up = inexact && neg; break;
  }
  return up ? AddMag(kept, "1") : StripLeadingZeros(kept);
}

Decimal128 PackRaw(bool neg, const std::string& digits, int exp) {
  unsigned __int128 coef = 0;
  for (char c : digits) coef = coef * 10 + static_cast<unsigned>(c - '0');
  Decimal128 d;
  d.low = static_cast<uint64_t>(coef);
  d.high = (neg ? (uint64_t{1} << 63) : 0) | (static_cast<uint64_t>(exp + kBias) << 49) |
           static_cast<uint64_t>(coef >> 64);
  return d;
}

Decimal128 NaN() {
  Decimal128 d;
  d.high = 0x7C00000000000000ULL;
  return d;
}

Decimal128 Inf(bool neg) {
  Decimal128 d;
  d.high = (neg ? (uint64_t{1} << 63) : 0) | 0x7800000000000000ULL;
  return d;
}

// Rounds to 34 digits and the exponent range, then encodes.
Decimal128 Pack(Dec v, bool sticky = false) {
  if (v.kind == Dec::kNaN) return NaN();
  if (v.kind == Dec::kInf) return Inf(v.neg);
  v.digits = StripLeadingZeros(v.digits);
  int drop = std::max(static_cast<int>(v.digits.size()) - kPrecision, kMinExp - v.exp);
  if (drop > 0 || sticky) {
    v.digits = RoundDrop(v.digits, std::max(drop, 0), DecRound::kHalfEven, v.neg, sticky);
    v.exp += std::max(drop, 0);
    if (static_cast<int>(v.digits.size()) > kPrecision) {  // carry made 10^34
      v.digits.pop_back();
      ++v.exp;
    }
  }
  if (IsZeroDigits(v.digits)) {
    v.exp = std::clamp(v.exp, kMinExp, kMaxExp);
    return PackRaw(v.neg, "0", v.exp);
  }
  if (v.exp > kMaxExp) {
    int room = kPrecision - static_cast<int>(v.digits.size());
    if (v.exp - kMaxExp > room) return Inf(v.neg);
    v.digits = Shift(v.digits, v.exp - kMaxExp);  // fold down (clamped exponent)
    v.exp = kMaxExp;
  }
  return PackRaw(v.neg, v.digits, v.exp);
}

Dec Negated(Dec d) {
  d.neg = !d.neg;
  return d;
}

Decimal128 AddDec(const Dec& a, const Dec& b) {
  if (a.kind == Dec::kNaN || b.kind == Dec::kNaN) return NaN();
  if (a.kind == Dec::kInf || b.kind == Dec::kInf) {
    if (a.kind == Dec::kInf && b.kind == Dec::kInf && a.neg != b.neg) return NaN();
    return Inf(a.kind == Dec::kInf ? a.neg : b.neg);
  }
  int e = std::min(a.exp, b.exp);
  std::string am = Shift(a.digits, a.exp - e);
  std::string bm = Shift(b.digits, b.exp - e);
  Dec r;
  r.exp = e;
  if (a.neg == b.neg) {
    r.digits = AddMag(am, bm);
    r.neg = a.neg;
  } else {
    int c = CmpMag(am, bm);
    if (c == 0) {
      r.digits = "0";
      r.neg = false;  // x + -x is +0 under round-half-even
    } else if (c > 0) {
      r.digits = SubMag(am, bm);
      r.neg = a.neg;
    } else {
      r.digits = SubMag(bm, am);
      r.neg = b.neg;
    }
  }
  return Pack(r);
}

}  // namespace

Decimal128 DecAdd(const Decimal128& a, const Decimal128& b) { return AddDec(Unpack(a), Unpack(b)); }

Decimal128 DecSub(const Decimal128& a, const Decimal128& b) {
  return AddDec(Unpack(a), Negated(Unpack(b)));
}

Decimal128 DecMul(const Decimal128& a, const Decimal128& b) {
  Dec x = Unpack(a), y = Unpack(b);
  bool neg = x.neg != y.neg;
  if (x.kind == Dec::kNaN || y.kind == Dec::kNaN) return NaN();
  if (x.kind == Dec::kInf || y.kind == Dec::kInf) {
    if ((x.kind == Dec::kFinite && IsZeroDigits(x.digits)) ||
        (y.kind == Dec::kFinite && IsZeroDigits(y.digits))) {
      return NaN();
    }
    return Inf(neg);
  }
  Dec r;
  r.neg = neg;
  r.digits = MulMag(x.digits, y.digits);
  r.exp = x.exp + y.exp;
  return Pack(r);
}

Decimal128 DecDiv(const Decimal128& a, const Decimal128& b) {
  Dec x = Unpack(a), y = Unpack(b);
  bool neg = x.neg != y.neg;
  if (x.kind == Dec::kNaN || y.kind == Dec::kNaN) return NaN();
  if (x.kind == Dec::kInf) return y.kind == Dec::kInf ? NaN() : Inf(neg);
  if (y.kind == Dec::kInf) return PackRaw(neg, "0", kMinExp);
  if (IsZeroDigits(y.digits)) return IsZeroDigits(x.digits) ? NaN() : Inf(neg);
  int ideal = x.exp - y.exp;
  Dec r;
  r.neg = neg;
  if (IsZeroDigits(x.digits)) {
    r.exp = ideal;
    return Pack(r);
  }
  // Scale the dividend so the quotient has at least 35 digits (34 + a rounding digit).
  int k = std::max(0, kPrecision + 1 + static_cast<int>(y.digits.size()) -
                          static_cast<int>(x.digits.size()));
  std::string q, rem;
  DivMag(Shift(x.digits, k), y.digits, &q, &rem);
  r.digits = q;
  r.exp = ideal - k;
  bool exact = IsZeroDigits(rem);
  if (exact) {
    // Exact: use the exponent closest to the ideal one.
    while (r.exp < ideal && r.digits.size() > 1 && r.digits.back() == '0') {
      r.digits.pop_back();
      ++r.exp;
    }
    return Pack(r);
  }
  return Pack(r, /*sticky=*/true);
}

Decimal128 DecMod(const Decimal128& a, const Decimal128& b) {
  Dec x = Unpack(a), y = Unpack(b);
  if (x.kind != Dec::kFinite || y.kind == Dec::kNaN) return NaN();
  if (y.kind == Dec::kInf) return a;
  if (IsZeroDigits(y.digits)) return NaN();
  int e = std::min(x.exp, y.exp);
  std::string q, rem;
  DivMag(Shift(x.digits, x.exp - e), Shift(y.digits, y.exp - e), &q, &rem);
  Dec r;
  r.neg = x.neg;
  r.digits = rem;
  r.exp = e;
  return Pack(r);
}

Decimal128 DecQuantize(const Decimal128& a, int exponent, DecRound mode, bool clamp) {
  Dec x = Unpack(a);
  if (x.kind != Dec::kFinite) return NaN();
  if (clamp && x.exp > exponent && !IsZeroDigits(x.digits)) {
    int room = kPrecision - static_cast<int>(x.digits.size());
    exponent = std::max(exponent, x.exp - room);
  }
  Dec r;
  r.neg = x.neg;
  r.exp = exponent;
  if (x.exp >= exponent) {
    r.digits = Shift(x.digits, x.exp - exponent);
  } else {
    r.digits = RoundDrop(x.digits, exponent - x.exp, mode, x.neg, false);
  }
  if (static_cast<int>(r.digits.size()) > kPrecision) return NaN();
  return PackRaw(r.neg, r.digits, std::clamp(r.exp, kMinExp, kMaxExp));
}

Decimal128 DecToIntegral(const Decimal128& a, DecRound mode) {
  Dec x = Unpack(a);
  if (x.kind != Dec::kFinite || x.exp >= 0) return a;
  return DecQuantize(a, 0, mode);
}

bool DecIsZero(const Decimal128& a) {
  Dec x = Unpack(a);
  return x.kind == Dec::kFinite && IsZeroDigits(x.digits);
}
bool DecIsNaN(const Decimal128& a) { return Unpack(a).kind == Dec::kNaN; }
bool DecIsInf(const Decimal128& a) { return Unpack(a).kind == Dec::kInf; }

Decimal128 DecFromDouble34(double v) {
  if (v != v) return NaN();
  if (v == std::numeric_limits<double>::infinity()) return Inf(false);
  if (v == -std::numeric_limits<double>::infinity()) return Inf(true);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.33e", v);  // exactly 34 significant digits
  // "-d.ddd...e+XX" -> digits and exponent.
  std::string s(buf);
  Dec d;
  size_t i = 0;
  if (s[0] == '-') {
    d.neg = true;
    i = 1;
  }
  size_t epos = s.find('e');
  std::string mant = s.substr(i, epos - i);
  mant.erase(std::remove(mant.begin(), mant.end(), '.'), mant.end());
  int e10 = std::atoi(s.c_str() + epos + 1);
  d.digits = StripLeadingZeros(mant);
  d.exp = e10 - (kPrecision - 1);
  if (IsZeroDigits(d.digits)) d.exp = 0;
  return Pack(d);
}

Decimal128 DecFromNumber(const bson::Value& v) {
  if (v.is_decimal()) return v.as_decimal();
  if (v.is_double()) return v.ToDecimal();  // 15 significant digits, as mongod's coercion
  Dec d;
  int64_t x = v.ToInt64();
  d.neg = x < 0;
  unsigned __int128 m = x < 0 ? static_cast<unsigned __int128>(-(x + 1)) + 1
                              : static_cast<unsigned __int128>(x);
  d.digits = U128ToString(m);
  return Pack(d);
}

}  // namespace eddy::query::expr_internal
