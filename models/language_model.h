// What every model of the lab offers the generation loop, the CLI and the model bench: a forward
// pass over a run of tokens that extends a preallocated KV cache and returns the logits of the
// last one. The three forward paths of the models issue are this one call:
//   decode   Forward(&token, 1, pos)                   one token, attends to the cached positions
//   prefill  Forward(prompt, n, 0)                      n tokens at once: every linear layer is
//                                                       a GEMM with M = n
//   no cache Forward(sequence, len, 0) at every step    recomputes keys and values of the whole
//                                                       prefix each time (the cache is scratch)
#ifndef KLAB_MODELS_LANGUAGE_MODEL_H_
#define KLAB_MODELS_LANGUAGE_MODEL_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "models/layers.h"

namespace klab::models {

// Time of one or more forward passes by kind of work, for the bench's "hot paths". Filled only
// when a model has a profile attached (two clock reads per kernel call; off by default).
struct ForwardProfile {
  enum Part { kGemm, kAttention, kNorm, kActivation, kOther, kCount };
  static constexpr std::string_view kNames[kCount] = {"gemm", "attention", "norm", "activation",
                                                       "other"};
  double ns[kCount] = {};
  void Clear() {
    for (double& v : ns) v = 0;
  }
};

// Adds the time of its scope to profile->ns[part]; does nothing when profile is null.
class ProfileScope {
 public:
  ProfileScope(ForwardProfile* profile, ForwardProfile::Part part)
      : profile_(profile), part_(part) {
    if (profile_ != nullptr) start_ = std::chrono::steady_clock::now();
  }
  ~ProfileScope() {
    if (profile_ != nullptr) {
      profile_->ns[part_] +=
          std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start_)
              .count();
    }
  }
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;

 private:
  ForwardProfile* profile_;
  ForwardProfile::Part part_;
  std::chrono::steady_clock::time_point start_;
};

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;

  virtual std::string_view architecture() const = 0;  // "gpt2" or "llama"
  virtual int vocab_size() const = 0;
  virtual int context() const = 0;  // positions the KV cache holds
  virtual int64_t params() const = 0;
  // Bytes of weights one decode step reads (everything but the unused embedding rows).
  virtual int64_t weight_bytes_per_token() const = 0;
  // Multiply-adds x 2 of one decode step at position `pos` (linear layers and attention).
  virtual int64_t flops_per_token(int pos) const = 0;
  virtual int64_t kv_cache_bytes() const = 0;
  // The linear layers one decode step applies, in order: the bulk of the bytes it reads. The
  // model bench reads them as the layers would (kernels::LinearReadThreaded) for the bandwidth
  // ceiling of the model's own working set.
  virtual std::vector<PackedLinear> linear_layers() const = 0;

  // Runs tokens[0, n) at positions pos .. pos + n - 1, writing their keys and values into the
  // cache (which must already hold positions [0, pos)), and returns the logits of the last one:
  // vocab_size() floats, valid until the next call (the caller may overwrite them, as the
  // sampler does). Token ids are input: InvalidArgument, in every build, unless n >= 1,
  // 0 <= pos, pos + n <= context() and every token is in [0, vocab_size()) (n comparisons: free
  // beside a forward pass). Allocates nothing.
  absl::StatusOr<float*> Forward(const int* tokens, int n, int pos);

  // The threads worth giving this model when `requested` are offered: 1 when its packed linear
  // weights are at most the tuning profile's decode.threads_above_weight_bytes (measured on the
  // machine by //perf:tune), else, with no profile, when they fit one core's L2; else `requested`.
  // A forward pass streams those weights once per token; a second core pays off by adding L2
  // capacity and bandwidth, which a small model does not need, while it still pays a fork-join
  // per layer (stories260K, 1023 KiB in a 1 MiB L2: 0.98-1.00x on 2 threads of Zen 4, run
  // 20261204-233635). `why` (optional) says so.
  int UsefulThreads(int requested, std::string* why = nullptr) const;
  int64_t packed_weight_bytes() const;

  void set_profile(ForwardProfile* profile) { profile_ = profile; }

 protected:
  // Forward on arguments Forward has checked.
  virtual float* ForwardChecked(const int* tokens, int n, int pos) = 0;

  ForwardProfile* profile_ = nullptr;
};

}  // namespace klab::models

#endif  // KLAB_MODELS_LANGUAGE_MODEL_H_
