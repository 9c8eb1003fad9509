#include "storage/detail/rocksdb_status.h"

#include <rocksdb/status.h>

namespace eddy::storage::detail {

Status ToStatus(const rocksdb::Status& s) {
  if (s.ok()) return Status::OK();
  // Storage failures are internal errors to clients; the message keeps RocksDB's detail.
  return Status(ErrorCode::kInternalError, "storage error: " + s.ToString());
}

}  // namespace eddy::storage::detail
