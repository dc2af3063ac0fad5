#include "perf/child_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

namespace klab::perf {

namespace fs = std::filesystem;

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string SuiteBinary(const char* argv0, const std::string& suite) {
  std::vector<fs::path> candidates = {fs::path(argv0).parent_path() / suite,
                                      fs::path(std::string(argv0) + ".runfiles") / "kernel_lab" / "perf" / suite};
  if (const char* src = std::getenv("TEST_SRCDIR")) candidates.push_back(fs::path(src) / "kernel_lab" / "perf" / suite);
  for (const fs::path& p : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return "";
}

int RunChild(const std::vector<std::string>& argv, const std::string& log, double deadline) {
  const pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    if (std::freopen(log.c_str(), "w", stdout) == nullptr) _exit(126);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    std::fprintf(stderr, "cannot run %s\n", args[0]);
    _exit(127);
  }
  int status = 0;
  bool stopped = false;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (!stopped && Now() > deadline) {
      kill(pid, SIGTERM);
      stopped = true;
      std::thread([pid] {
        std::this_thread::sleep_for(std::chrono::seconds(5));
        kill(pid, SIGKILL);
      }).detach();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (stopped) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace klab::perf
