// Polling for work under SCHED_IDLE instead of sleeping, for threads whose wake-up costs more
// than their work (on a VM, waking an idle vCPU).
//
// A thread that polls under SCHED_IDLE leaves its core counted as idle: the scheduler places
// woken threads there and any of them preempts the poller at once, so polling only uses time
// nobody else wants. Leaving SCHED_IDLE again needs CAP_SYS_NICE or an RLIMIT_NICE that allows
// nice 0; where a thread could not, IdleSpinAvailable() is false and nothing should poll.
//
// SpinGovernor decides whether polling pays: it does while polls keep finding work; after
// kFailuresToStop polls in a row that did not, the thread sleeps at once and tries polling
// again every kProbeEvery-th wait.
#pragma once

namespace eddy {

// Whether this process's threads may enter SCHED_IDLE and return (probed once).
bool IdleSpinAvailable();
// Puts the calling thread under SCHED_IDLE (true) or back under SCHED_OTHER (false).
void SetIdlePolicy(bool idle);

class SpinGovernor {
 public:
  // Whether the next wait should poll first.
  bool ShouldSpin() {
    if (failures_ < kFailuresToStop) return true;
    return ++waits_ % kProbeEvery == 0;
  }
  // How the poll went: it paid (found work in time) or not.
  void Record(bool paid) { failures_ = paid ? 0 : failures_ + 1; }

 private:
  static constexpr int kFailuresToStop = 2;
  static constexpr unsigned kProbeEvery = 16;
  int failures_ = 0;
  unsigned waits_ = 0;
};

}  // namespace eddy
