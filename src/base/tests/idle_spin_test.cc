#include "base/idle_spin.h"

#include <gtest/gtest.h>

#include <sched.h>

#include <thread>

namespace eddy {
namespace {

// Polling stops after two polls in a row that did not pay, is retried every 16th wait, and
// one poll that pays restores it.
TEST(SpinGovernorTest, StopsAfterTwoFailuresAndProbes) {
  SpinGovernor g;
  EXPECT_TRUE(g.ShouldSpin());
  g.Record(false);
  EXPECT_TRUE(g.ShouldSpin());
  g.Record(false);
  int probes = 0;
  for (int i = 0; i < 64; ++i) probes += g.ShouldSpin() ? 1 : 0;
  EXPECT_EQ(probes, 4);
  g.Record(true);
  EXPECT_TRUE(g.ShouldSpin());
  EXPECT_TRUE(g.ShouldSpin());
}

// Where SCHED_IDLE is usable, a thread enters it and comes back to the normal policy.
TEST(IdleSpinTest, IdlePolicyRoundTrip) {
  if (!IdleSpinAvailable()) GTEST_SKIP() << "this process may not leave SCHED_IDLE";
  std::thread t([] {
    SetIdlePolicy(true);
    EXPECT_EQ(sched_getscheduler(0), SCHED_IDLE);
    SetIdlePolicy(false);
    EXPECT_EQ(sched_getscheduler(0), SCHED_OTHER);
  });
  t.join();
}

}  // namespace
}  // namespace eddy
