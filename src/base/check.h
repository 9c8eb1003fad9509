// EDDY_CHECK: invariants that must hold in every build; a failure is a bug, so abort with
// the place and the condition. EDDY_DCHECK: the same, debug builds only.
#pragma once

namespace eddy::detail {
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition);
}  // namespace eddy::detail

#define EDDY_CHECK(cond) \
  ((cond) ? (void)0 : ::eddy::detail::CheckFailed(__FILE__, __LINE__, #cond))
#ifdef NDEBUG
#define EDDY_DCHECK(cond) ((void)0)
#else
#define EDDY_DCHECK(cond) EDDY_CHECK(cond)
#endif
