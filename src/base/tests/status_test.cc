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

TEST(StatusTest, ExtraInfoIsAbsentByDefault) {
  EXPECT_FALSE(Status().has_extra_info());
  EXPECT_TRUE(Status().extra_info().empty());
  EXPECT_FALSE(Status(ErrorCode::kBadValue, "x").has_extra_info());
}

TEST(StatusTest, ExtraInfoTravelsWithCopiesAndPrefixes) {
  const std::string extra("\x05\x00\x00\x00\x00", 5);  // the empty BSON document
  Status base(ErrorCode::kDuplicateKey, "dup");
  Status e = base.WithExtraInfo(extra);
  EXPECT_FALSE(base.has_extra_info());  // the original is unchanged (shared, immutable)
  EXPECT_EQ(e.extra_info(), extra);
  EXPECT_EQ(e.code(), ErrorCode::kDuplicateKey);
  EXPECT_EQ(e.message(), "dup");
  Status copy = e;
  EXPECT_EQ(copy.extra_info(), extra);
  Status prefixed = e.WithPrefix("while inserting: ");
  EXPECT_EQ(prefixed.message(), "while inserting: dup");
  EXPECT_EQ(prefixed.extra_info(), extra);
  Result<int> r = e;
  EXPECT_EQ(r.status().extra_info(), extra);
}

TEST(StatusTest, OkCarriesNoExtraInfo) {
  Status s = Status::OK().WithExtraInfo("abc");
  EXPECT_TRUE(s.ok());
  EXPECT_FALSE(s.has_extra_info());
}

}  // namespace
}  // namespace eddy
