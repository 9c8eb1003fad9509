// CRC-32C (Castagnoli), the optional OP_MSG checksum. No client observed sets checksumPresent,
// so a portable table implementation is enough.
#pragma once
#include <cstdint>
#include <string_view>

namespace eddy::wire {

// CRC-32C of `data` (reflected, init/xorout 0xFFFFFFFF; "123456789" -> 0xE3069283).
uint32_t Crc32c(std::string_view data);

}  // namespace eddy::wire
