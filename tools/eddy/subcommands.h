// One function per subcommand; main.cc only parses argv and dispatches.
#pragma once
#include <CLI/CLI.hpp>

namespace eddy::tools {
void RegisterDemo(CLI::App& app);
void RegisterCrash(CLI::App& app);
void RegisterBench(CLI::App& app);
void RegisterServe(CLI::App& app);
void RegisterSql(CLI::App& app);
void RegisterWatch(CLI::App& app);
}  // namespace eddy::tools
