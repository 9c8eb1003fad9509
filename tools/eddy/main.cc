// eddy: the single binary. Subcommands live one per file.
#include <CLI/CLI.hpp>

#include "subcommands.h"

int main(int argc, char** argv) {
  CLI::App app{"eddy: a document database whose first-class feature is the change stream"};
  app.require_subcommand(1);
  eddy::tools::RegisterServe(app);
  eddy::tools::RegisterDemo(app);
  eddy::tools::RegisterCrash(app);
  eddy::tools::RegisterBench(app);
  eddy::tools::RegisterSql(app);
  eddy::tools::RegisterWatch(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
