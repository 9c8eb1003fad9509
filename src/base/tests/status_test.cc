#include "base/status.h"

#include <gtest/gtest.h>

namespace eddy {
namespace {

Result<int> Half(int x) {
  if (x % 2) return Status(ErrorCode::kBadValue, "odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  EDDY_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(StatusTest, OkIsCheapAndNamed) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kOk);
  Status e(ErrorCode::kDuplicateKey, "dup");
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.code_number(), 11000);
  EXPECT_EQ(e.code_name(), "DuplicateKey");
  EXPECT_EQ(e.ToString(), "DuplicateKey (11000): dup");
  EXPECT_EQ(ErrorCodeName(static_cast<ErrorCode>(16550)), "Location16550");
}

TEST(StatusTest, ResultPropagates) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kBadValue);
}

}  // namespace
}  // namespace eddy
