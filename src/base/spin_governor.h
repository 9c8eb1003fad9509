// SpinGovernor: whether a thread that runs out of work should poll for more before it sleeps.
//
// Polling pays while polls keep finding work in time (each one saves a wake-up, which on a VM
// costs more than a small request). After kFailuresToStop polls in a row that did not pay,
// the thread sleeps at once, and tries polling again every kProbeEvery-th wait.
#pragma once

namespace eddy {

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
