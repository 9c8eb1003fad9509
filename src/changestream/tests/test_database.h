// A fresh embedded Database in a temporary directory per test, for the change-stream tests.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "bson/json.h"
#include "query/exec/database.h"

namespace eddy::changestream {

inline bson::Document J(std::string_view s) { return *bson::ParseJson(s); }

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("eddy_cs_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->test_suite_name() + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    storage::EngineOptions o;
    o.path = dir_.string();
    o.sync = storage::SyncMode::kOff;
    db_ = std::move(query::Database::Open(o)).value();
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<query::Database> db_;
};

}  // namespace eddy::changestream
