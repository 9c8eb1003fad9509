#include "base/idle_spin.h"

#include <sched.h>

#include <thread>

namespace eddy {

void SetIdlePolicy(bool idle) {
  sched_param p{};
  sched_setscheduler(0, idle ? SCHED_IDLE : SCHED_OTHER, &p);
}

// Probed on a thread of its own, so that a failure to come back leaves no thread behind in
// SCHED_IDLE.
bool IdleSpinAvailable() {
  static const bool available = [] {
    bool ok = false;
    std::thread probe([&ok] {
      sched_param p{};
      if (sched_setscheduler(0, SCHED_IDLE, &p) != 0) return;
      ok = sched_setscheduler(0, SCHED_OTHER, &p) == 0;
    });
    probe.join();
    return ok;
  }();
  return available;
}

}  // namespace eddy
