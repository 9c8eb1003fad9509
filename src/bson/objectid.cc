#include <atomic>
#include <chrono>
#include <random>

#include "bson/value.h"

namespace eddy::bson {
namespace {

// Per-process state, as the ObjectId spec asks: 5 random bytes fixed for the process and a
// counter starting at a random value, so ids from concurrent processes do not collide.
struct OidState {
  std::array<uint8_t, 5> process{};
  std::atomic<uint32_t> counter{0};
  OidState() {
    std::random_device rd;
    std::mt19937_64 gen((uint64_t{rd()} << 32) ^ rd() ^
                        static_cast<uint64_t>(
                            std::chrono::steady_clock::now().time_since_epoch().count()));
    uint64_t r = gen();
    for (int i = 0; i < 5; ++i) process[i] = static_cast<uint8_t>(r >> (8 * i));
    counter.store(static_cast<uint32_t>(gen()) & 0xFFFFFF);
  }
};

OidState& State() {
  static OidState state;
  return state;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

ObjectId ObjectId::Generate() {
  OidState& s = State();
  ObjectId id;
  auto secs = static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
  uint32_t c = s.counter.fetch_add(1, std::memory_order_relaxed) & 0xFFFFFF;
  id.bytes[0] = static_cast<uint8_t>(secs >> 24);
  id.bytes[1] = static_cast<uint8_t>(secs >> 16);
  id.bytes[2] = static_cast<uint8_t>(secs >> 8);
  id.bytes[3] = static_cast<uint8_t>(secs);
  for (int i = 0; i < 5; ++i) id.bytes[4 + i] = s.process[i];
  id.bytes[9] = static_cast<uint8_t>(c >> 16);
  id.bytes[10] = static_cast<uint8_t>(c >> 8);
  id.bytes[11] = static_cast<uint8_t>(c);
  return id;
}

bool ObjectId::FromHex(std::string_view hex, ObjectId* out) {
  if (hex.size() != 24) return false;
  ObjectId id;
  for (size_t i = 0; i < 12; ++i) {
    int hi = HexDigit(hex[2 * i]);
    int lo = HexDigit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    id.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  if (out) *out = id;
  return true;
}

std::string ObjectId::ToHex() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(24, '0');
  for (size_t i = 0; i < 12; ++i) {
    s[2 * i] = kHex[bytes[i] >> 4];
    s[2 * i + 1] = kHex[bytes[i] & 0xF];
  }
  return s;
}

uint32_t ObjectId::seconds() const {
  return uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 | uint32_t{bytes[2]} << 8 |
         uint32_t{bytes[3]};
}

}  // namespace eddy::bson
