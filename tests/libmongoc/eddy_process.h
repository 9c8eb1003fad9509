// Starts `eddy serve --port 0` on loopback with a fresh data directory, reads the bound port
// from its first output line, and stops it by its own PID (SIGTERM, then SIGKILL after 20 s).
// Header-only; used by the libmongoc integration test and the libmongoc benchmark.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace eddy::testing {

class EddyProcess {
 public:
  // Starts `eddy_binary serve --port 0 --data <temp dir> extra_args...`. On failure, error()
  // says why and port() is 0.
  EddyProcess(const std::string& eddy_binary, std::vector<std::string> extra_args = {}) {
    char tmpl[] = "/tmp/eddy-libmongoc-XXXXXX";
    if (!mkdtemp(tmpl)) {
      error_ = std::string("mkdtemp: ") + std::strerror(errno);
      return;
    }
    data_ = tmpl;
    int fds[2];
    if (pipe(fds) != 0) {
      error_ = std::string("pipe: ") + std::strerror(errno);
      return;
    }
    std::vector<std::string> args = {eddy_binary, "serve", "--port", "0", "--data", data_};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      std::fprintf(stderr, "exec %s: %s\n", argv[0], std::strerror(errno));
      _exit(127);
    }
    close(fds[1]);
    if (pid_ < 0) {
      error_ = std::string("fork: ") + std::strerror(errno);
      close(fds[0]);
      return;
    }
    // Read output until "listening on HOST:PORT" (the server prints it once bound).
    std::string out;
    char c;
    while (read(fds[0], &c, 1) == 1) {
      out.push_back(c);
      if (c != '\n') continue;
      size_t at = out.find("listening on ");
      if (at != std::string::npos) {
        size_t colon = out.find(':', at + 13);
        size_t comma = out.find(',', colon);
        if (colon != std::string::npos) {
          port_ = std::atoi(out.substr(colon + 1, comma - colon - 1).c_str());
        }
        break;
      }
    }
    // Keep draining the pipe so the server never blocks writing to it.
    int fd = fds[0];
    drain_ = std::thread([fd] {
      char buf[4096];
      while (read(fd, buf, sizeof buf) > 0) {
      }
      close(fd);
    });
    if (port_ == 0) error_ = "eddy serve did not report a port; output: " + out;
  }

  ~EddyProcess() { Stop(); }
  EddyProcess(const EddyProcess&) = delete;
  EddyProcess& operator=(const EddyProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& error() const { return error_; }
  std::string uri(const std::string& options = "") const {
    return "mongodb://127.0.0.1:" + std::to_string(port_) + "/?replicaSet=rs0" +
           (options.empty() ? "" : "&" + options);
  }
  // Whether the server process is still running (it has not crashed).
  bool alive() const { return pid_ > 0 && kill(pid_, 0) == 0 && !Reaped(); }

  // SIGTERM, wait up to 20 s, then SIGKILL. Returns the exit status (waitpid form), or -1.
  int Stop() {
    int status = -1;
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
          kill(pid_, SIGKILL);
          waitpid(pid_, &status, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      pid_ = -1;
    }
    if (drain_.joinable()) drain_.join();
    if (!data_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(data_, ec);
      data_.clear();
    }
    return status;
  }

 private:
  bool Reaped() const {
    int status;
    return waitpid(pid_, &status, WNOHANG) == pid_;
  }

  std::string data_;
  std::string error_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::thread drain_;
};

}  // namespace eddy::testing
