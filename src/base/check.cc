#include "base/check.h"

#include <cstdio>
#include <cstdlib>

namespace eddy::detail {
void CheckFailed(const char* file, int line, const char* condition) {
  std::fprintf(stderr, "eddy: check failed at %s:%d: %s\n", file, line, condition);
  std::abort();
}
}  // namespace eddy::detail
