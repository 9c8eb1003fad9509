// The main() of a libmongoc test: start `eddy serve` (argv[1]) on a free port, connect a
// client, run the test body, stop the server by its PID and print the counts.
#pragma once
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "eddy_process.h"
#include "mongoc_test_util.h"

namespace eddy::testing {

struct TestMainOptions {
  const char* label;                 // "libmongoc: N passed, N failed"
  const char* app_name = nullptr;    // reported in the handshake when set
  bool check_clean_exit = false;     // also check the server survived and exits on SIGTERM
};

inline int RunLibmongocTest(int argc, char** argv, const TestMainOptions& options,
                            void (*run)(mongoc_client_t*)) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s path/to/eddy\n", argv[0]);
    return 2;
  }
  EddyProcess server(argv[1]);
  if (server.port() == 0) {
    std::fprintf(stderr, "%s\n", server.error().c_str());
    return 1;
  }
  mongoc_init();
  std::string uri = server.uri("serverSelectionTimeoutMS=5000");
  mongoc_client_t* client = mongoc_client_new(uri.c_str());
  if (!client) {
    std::fprintf(stderr, "bad URI %s\n", uri.c_str());
    return 1;
  }
  mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2);
  if (options.app_name) mongoc_client_set_appname(client, options.app_name);
  run(client);
  mongoc_client_destroy(client);
  mongoc_cleanup();
  if (options.check_clean_exit) {
    Check("server still running", server.alive());
    int status = server.Stop();
    Check("server exits cleanly on SIGTERM", WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "wait status " + std::to_string(status));
  }
  std::printf("%s: %d passed, %d failed\n", options.label, g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}

}  // namespace eddy::testing
