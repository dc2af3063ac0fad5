// The model bench's PyTorch peer: perf/pytorch_peer.py (the same model in plain PyTorch with a KV
// cache) as a subprocess, one per thread count, pinned to the bench's cores with every thread
// pool of its own set to that count. It answers the bench's tests: the greedy ids (checked
// against ours before any of its times count) and timings taken inside it around each test.
#ifndef KLAB_PERF_PYTORCH_PEER_H_
#define KLAB_PERF_PYTORCH_PEER_H_

#include <sys/types.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/json.h"

namespace klab::perf {

class PyTorchPeer {
 public:
  // Starts `python` on `script` with the model file; returns once it said it is ready (its
  // "ready" line, kept in ready()). FailedPrecondition with the script's own words (how to install
  // PyTorch) when it cannot run.
  static absl::StatusOr<std::unique_ptr<PyTorchPeer>> Start(const std::string& python,
                                                            const std::string& script,
                                                            const std::string& model_path,
                                                            int threads,
                                                            const std::vector<int>& os_cpus);
  ~PyTorchPeer();

  const harness::Json& ready() const { return ready_; }
  // The ids of a test (tg: the prompt's token and every greedy token; pp: the argmax).
  absl::StatusOr<std::vector<int>> Ids(bool prefill, int tokens);
  // `reps` timings of the test in ns, measured inside the peer.
  absl::StatusOr<std::vector<double>> Time(bool prefill, int tokens, int reps);

  // Any command of the script's protocol (one JSON line each way); an answer with "error" is
  // returned as that error.
  absl::StatusOr<harness::Json> Call(const harness::Json& command);
  // Call, then the answer's array `key` of numbers.
  absl::StatusOr<std::vector<double>> CallForNumbers(const harness::Json& command,
                                                     const char* key);

 private:
  PyTorchPeer(pid_t pid, FILE* to, FILE* from) : pid_(pid), to_(to), from_(from) {}
  absl::StatusOr<harness::Json> ReadLine();

  pid_t pid_;
  FILE* to_;
  FILE* from_;
  harness::Json ready_;
};

// Where a peer script is (perf/pytorch_peer.py, or `name` in perf/): the workspace's under
// `bazel run`, the test's runfiles under `bazel test`, else beside the binary in its runfiles.
// "" if none exists.
std::string PyTorchPeerScript(const char* argv0, const char* name = "pytorch_peer.py");

}  // namespace klab::perf

#endif  // KLAB_PERF_PYTORCH_PEER_H_
