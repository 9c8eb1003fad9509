// The one conversion from rocksdb::Status to eddy's Status.
#pragma once
#include "base/status.h"

namespace rocksdb {
class Status;
}

namespace eddy::storage::detail {
Status ToStatus(const rocksdb::Status& s);
}
