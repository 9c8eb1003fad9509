#include <bson/bson.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "bson/detail/decimal.h"
#include "bson/value.h"

namespace eddy::bson {
namespace detail {
namespace {

constexpr int kExponentBias = 6176;

unsigned __int128 Pow10(int n) {
  unsigned __int128 r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

const unsigned __int128 kMaxCoefficient = Pow10(34) - 1;

int DigitCount(unsigned __int128 c) {
  int n = 1;
  while (c >= 10) {
    c /= 10;
    ++n;
  }
  return n;
}

// Parses "d.ddddde±x" as printed by %.Ne into parts.
DecimalParts PartsFromScientific(const char* s) {
  DecimalParts p;
  if (*s == '-') {
    p.negative = true;
    ++s;
  }
  int frac_digits = 0;
  bool in_frac = false;
  for (; *s && *s != 'e'; ++s) {
    if (*s == '.') {
      in_frac = true;
      continue;
    }
    p.coefficient = p.coefficient * 10 + static_cast<unsigned>(*s - '0');
    if (in_frac) ++frac_digits;
  }
  int exp = 0;
  if (*s == 'e') exp = std::atoi(s + 1);
  p.exponent = exp - frac_digits;
  return p;
}

}  // namespace

DecimalParts Unpack(const Decimal128& d) {
  DecimalParts p;
  p.negative = (d.high >> 63) != 0;
  uint64_t combination = (d.high >> 58) & 0x1F;
  if (combination == 0x1F) {
    p.kind = DecimalParts::kNaN;
    return p;
  }
  if (combination == 0x1E) {
    p.kind = DecimalParts::kInfinity;
    return p;
  }
  if (((d.high >> 61) & 3) == 3) {
    // The "11" form implies a coefficient >= 2^113 > 10^34 - 1: non-canonical, value zero.
    p.exponent = static_cast<int>((d.high >> 47) & 0x3FFF) - kExponentBias;
    p.coefficient = 0;
    return p;
  }
  p.exponent = static_cast<int>((d.high >> 49) & 0x3FFF) - kExponentBias;
  p.coefficient = (static_cast<unsigned __int128>(d.high & 0x1FFFFFFFFFFFFull) << 64) | d.low;
  if (p.coefficient > kMaxCoefficient) p.coefficient = 0;
  return p;
}

Decimal128 Pack(const DecimalParts& p) {
  Decimal128 d;
  uint64_t sign = p.negative ? (uint64_t{1} << 63) : 0;
  if (p.kind == DecimalParts::kNaN) {
    d.high = 0x7C00000000000000ull;
    return d;
  }
  if (p.kind == DecimalParts::kInfinity) {
    d.high = sign | 0x7800000000000000ull;
    return d;
  }
  auto biased = static_cast<uint64_t>(p.exponent + kExponentBias);
  d.high = sign | (biased << 49) | static_cast<uint64_t>(p.coefficient >> 64);
  d.low = static_cast<uint64_t>(p.coefficient);
  return d;
}

DecimalParts PartsFromInt64(int64_t v) {
  DecimalParts p;
  p.negative = v < 0;
  p.coefficient = v < 0 ? (~static_cast<uint64_t>(v) + 1) : static_cast<uint64_t>(v);
  return p;
}

DecimalParts PartsFromDouble34(double v) {
  DecimalParts p;
  if (std::isnan(v)) {
    p.kind = DecimalParts::kNaN;
    return p;
  }
  if (std::isinf(v)) {
    p.kind = DecimalParts::kInfinity;
    p.negative = v < 0;
    return p;
  }
  if (v == 0) {
    p.negative = std::signbit(v);
    return p;
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.33e", v);
  return PartsFromScientific(buf);
}

DecimalParts Normalize(DecimalParts p) {
  if (p.kind != DecimalParts::kFinite) return p;
  if (p.coefficient == 0) {
    p.exponent = 0;
    p.negative = false;
    return p;
  }
  while (p.coefficient % 10 == 0) {
    p.coefficient /= 10;
    ++p.exponent;
  }
  return p;
}

int CompareParts(const DecimalParts& a, const DecimalParts& b) {
  bool a_nan = a.kind == DecimalParts::kNaN;
  bool b_nan = b.kind == DecimalParts::kNaN;
  if (a_nan || b_nan) return a_nan && b_nan ? 0 : (a_nan ? -1 : 1);
  auto cls = [](const DecimalParts& p) {
    int mag = p.kind == DecimalParts::kInfinity ? 2 : (p.coefficient == 0 ? 0 : 1);
    return p.negative ? -mag : mag;
  };
  int ca = cls(a), cb = cls(b);
  if (ca != cb) return ca < cb ? -1 : 1;
  if (ca == 0 || ca == 2 || ca == -2) return 0;
  // Same sign, both finite and non-zero: compare magnitudes.
  int da = DigitCount(a.coefficient), db = DigitCount(b.coefficient);
  int adj_a = a.exponent + da - 1, adj_b = b.exponent + db - 1;
  int mag;
  if (adj_a != adj_b) {
    mag = adj_a < adj_b ? -1 : 1;
  } else {
    unsigned __int128 x = a.coefficient, y = b.coefficient;
    if (da < db) x *= Pow10(db - da);
    if (db < da) y *= Pow10(da - db);
    mag = x < y ? -1 : (x > y ? 1 : 0);
  }
  return a.negative ? -mag : mag;
}

}  // namespace detail

namespace {

bson_decimal128_t ToLib(const Decimal128& d) {
  bson_decimal128_t r;
  r.low = d.low;
  r.high = d.high;
  return r;
}

}  // namespace

Decimal128 Decimal128::FromString(std::string_view s, bool* ok) {
  bson_decimal128_t dec;
  bool good = bson_decimal128_from_string_w_len(s.data(), static_cast<int>(s.size()), &dec);
  if (ok) *ok = good;
  Decimal128 r;
  if (!good) {
    r.high = 0x7C00000000000000ull;  // NaN
    return r;
  }
  r.low = dec.low;
  r.high = dec.high;
  return r;
}

Decimal128 Decimal128::FromInt64(int64_t v) { return detail::Pack(detail::PartsFromInt64(v)); }

Decimal128 Decimal128::FromDouble(double v) {
  detail::DecimalParts p;
  if (std::isnan(v)) {
    p.kind = detail::DecimalParts::kNaN;
    return detail::Pack(p);
  }
  if (std::isinf(v)) {
    p.kind = detail::DecimalParts::kInfinity;
    p.negative = v < 0;
    return detail::Pack(p);
  }
  if (v == 0) {
    p.negative = std::signbit(v);
    return detail::Pack(p);
  }
  // MongoDB's Decimal128(double) default rounds to 15 significant digits and keeps all 15
  // (1.5 -> 1.50000000000000), so the decimal shows no binary noise.
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.14e", v);
  return detail::Pack(detail::PartsFromScientific(buf));
}

std::string Decimal128::ToString() const {
  bson_decimal128_t dec = ToLib(*this);
  char buf[BSON_DECIMAL128_STRING];
  bson_decimal128_to_string(&dec, buf);
  return buf;
}

double Decimal128::ToDouble() const {
  detail::DecimalParts p = detail::Unpack(*this);
  if (p.kind == detail::DecimalParts::kNaN) return std::nan("");
  if (p.kind == detail::DecimalParts::kInfinity) {
    return p.negative ? -HUGE_VAL : HUGE_VAL;
  }
  // Fast exact path: both the coefficient and the power of ten are exact doubles, so one
  // IEEE multiply/divide rounds correctly.
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  if (p.coefficient < (static_cast<unsigned __int128>(1) << 53) && p.exponent >= -22 &&
      p.exponent <= 22) {
    double c = static_cast<double>(static_cast<uint64_t>(p.coefficient));
    double r = p.exponent >= 0 ? c * kPow10[p.exponent] : c / kPow10[-p.exponent];
    return p.negative ? -r : r;
  }
  return std::strtod(ToString().c_str(), nullptr);
}

bool Decimal128::IsNaN() const { return ((high >> 58) & 0x1F) == 0x1F; }

}  // namespace eddy::bson
