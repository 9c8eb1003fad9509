#include "base/spin_governor.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace eddy
