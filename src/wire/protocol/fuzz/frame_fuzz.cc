// libFuzzer target for the whole inbound protocol path (ParseInbound: header, OP_MSG, OP_QUERY,
// OP_COMPRESSED with every compressor) and the reply serializers. Not built by CMake:
//   clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -I src
//     -I /usr/include/libbson-1.0 src/wire/protocol/fuzz/frame_fuzz.cc src/wire/protocol/*.cc
//     src/bson/*.cc src/base/*.cc -lbson-1.0 -lz -lsnappy -lzstd -o frame_fuzz
// (one command line; run from the repository root)
//   mkdir -p corpus && ./frame_fuzz -max_len=65536 corpus src/wire/protocol/fuzz/seeds
// seeds/ holds one valid message of each kind (OP_MSG with a document sequence and with a
// checksum, OP_QUERY plain and $query-wrapped, OP_COMPRESSED noop/zlib around OP_MSG and
// OP_QUERY) so the fuzzer starts past the framing checks of every opcode.
// The input is one message. When it holds a whole header, its length field is overwritten with
// the input's size so the fuzzer explores message bodies instead of length mismatches (those are
// unit-tested, and inputs under 16 bytes still exercise the truncated-header path).
// Checks: no crash/UB/leak on any input; every non-dispatch outcome names a problem; every
// dispatched request re-serializes to a message that parses to an equal command.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "bson/compare.h"
#include "wire/protocol/frame.h"
#include "wire/protocol/inbound.h"
#include "wire/protocol/op_msg.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace eddy::wire;
  std::string message(reinterpret_cast<const char*>(data), size);
  if (message.size() >= kHeaderSize) {
    PatchInt32LE(static_cast<int32_t>(message.size()), 0, &message);
  }
  Inbound in = ParseInbound(message, /*max_message_bytes=*/1 << 20);
  if (in.action != Inbound::Action::kDispatch) {
    if (in.error.ok() || in.error.message().empty()) std::abort();
    if (in.action == Inbound::Action::kReply) (void)SerializeError(in, 1);
    return 0;
  }
  std::string reply = SerializeResponse(in, 1, in.request.command);
  Inbound echoed = ParseInbound(reply);
  (void)echoed;  // OP_REPLY/OP_COMPRESSED replies are not requests; only OP_MSG round-trips
  if (in.op_code == static_cast<int32_t>(OpCode::kMsg) && !in.compressor) {
    auto again = ParseOpMsg(SerializeOpMsg(2, 0, in.request.command));
    if (!again.ok() || eddy::bson::Compare(again->body, in.request.command) != 0) std::abort();
  }
  return 0;
}
