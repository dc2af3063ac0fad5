#include "perf/pytorch_peer.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

extern char** environ;

namespace klab::perf {

absl::StatusOr<std::unique_ptr<PyTorchPeer>> PyTorchPeer::Start(const std::string& python,
                                                                const std::string& script,
                                                                const std::string& model_path,
                                                                int threads,
                                                                const std::vector<int>& os_cpus) {
  int to_child[2], from_child[2];
  if (pipe(to_child) != 0 || pipe(from_child) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
  posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
  for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]}) {
    posix_spawn_file_actions_addclose(&actions, fd);
  }
  const std::string model_arg = "--model=" + model_path;
  const std::string threads_arg = absl::StrCat("--threads=", threads);
  const std::string cpus_arg = "--cpus=" + absl::StrJoin(os_cpus, ",");
  std::vector<char*> argv = {const_cast<char*>(python.c_str()), const_cast<char*>(script.c_str()),
                             const_cast<char*>(model_arg.c_str()),
                             const_cast<char*>(threads_arg.c_str()),
                             const_cast<char*>(cpus_arg.c_str()), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, python.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(to_child[0]);
  close(from_child[1]);
  if (rc != 0) {
    close(to_child[1]);
    close(from_child[0]);
    return absl::FailedPreconditionError(
        absl::StrFormat("cannot run %s: %s (apt-get install python3-torch)", python,
                        std::strerror(rc)));
  }
  std::unique_ptr<PyTorchPeer> peer(
      new PyTorchPeer(pid, fdopen(to_child[1], "w"), fdopen(from_child[0], "r")));
  auto ready = peer->ReadLine();
  if (!ready.ok()) return ready.status();
  if (ready->contains("error")) {
    return absl::FailedPreconditionError((*ready)["error"].get<std::string>());
  }
  peer->ready_ = *ready;
  return peer;
}

PyTorchPeer::~PyTorchPeer() {
  if (to_ != nullptr) {
    std::fputs("{\"cmd\": \"quit\"}\n", to_);
    std::fclose(to_);
  }
  if (from_ != nullptr) std::fclose(from_);
  int status = 0;
  if (pid_ > 0 && waitpid(pid_, &status, 0) < 0) kill(pid_, SIGKILL);
}

absl::StatusOr<harness::Json> PyTorchPeer::ReadLine() {
  std::string line;
  for (int c; (c = std::fgetc(from_)) != EOF && c != '\n';) line += static_cast<char>(c);
  if (line.empty()) {
    return absl::FailedPreconditionError(
        "the PyTorch peer ended without answering (see its error above)");
  }
  harness::Json j = harness::Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InternalError("the PyTorch peer answered something else than JSON: " + line);
  }
  return j;
}

absl::StatusOr<harness::Json> PyTorchPeer::Call(const harness::Json& command) {
  const std::string text = command.dump() + "\n";
  if (std::fputs(text.c_str(), to_) < 0 || std::fflush(to_) != 0) {
    return absl::FailedPreconditionError("the PyTorch peer stopped reading");
  }
  absl::StatusOr<harness::Json> answer = ReadLine();
  if (answer.ok() && answer->contains("error")) {
    return absl::InternalError("the PyTorch peer: " + (*answer)["error"].dump());
  }
  return answer;
}

absl::StatusOr<std::vector<double>> PyTorchPeer::CallForNumbers(const harness::Json& command,
                                                                 const char* key) {
  auto r = Call(command);
  if (!r.ok()) return r.status();
  if (!r->contains(key) || !(*r)[key].is_array()) {
    return absl::InternalError(
        absl::StrFormat("the PyTorch peer sent no '%s': %s", key, r->dump()));
  }
  std::vector<double> out;
  for (const harness::Json& v : (*r)[key]) {
    if (!v.is_number()) return absl::InternalError("the PyTorch peer sent " + r->dump());
    out.push_back(v.get<double>());
  }
  return out;
}

absl::StatusOr<std::vector<int>> PyTorchPeer::Ids(bool prefill, int tokens) {
  auto ids = CallForNumbers(
      {{"cmd", "ids"}, {"test", prefill ? "pp" : "tg"}, {"tokens", tokens}}, "ids");
  if (!ids.ok()) return ids.status();
  return std::vector<int>(ids->begin(), ids->end());
}

absl::StatusOr<std::vector<double>> PyTorchPeer::Time(bool prefill, int tokens, int reps) {
  return CallForNumbers(
      {{"cmd", "time"}, {"test", prefill ? "pp" : "tg"}, {"tokens", tokens}, {"reps", reps}},
      "ns");
}

std::string PyTorchPeerScript(const char* argv0, const char* name) {
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates;
  if (const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY")) {
    candidates.push_back(fs::path(ws) / "perf" / name);
  }
  if (const char* src = std::getenv("TEST_SRCDIR")) {
    candidates.push_back(fs::path(src) / "kernel_lab" / "perf" / name);
  }
  candidates.push_back(fs::path(std::string(argv0) + ".runfiles") / "kernel_lab" / "perf" / name);
  for (const fs::path& p : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  return "";
}

}  // namespace klab::perf
