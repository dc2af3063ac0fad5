// Choosing the next token from logits: greedy (temperature 0), or sampling at a temperature,
// from the whole distribution or from its nucleus (top-p). Reproducible from a seed (llama2.c's
// xorshift64* stream); its buffers are allocated once, so sampling allocates nothing.
#ifndef KLAB_MODELS_SAMPLER_H_
#define KLAB_MODELS_SAMPLER_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace klab::models {

struct SamplerOptions {
  float temperature = 0.0f;  // 0: greedy (argmax); > 0 divides the logits
  float top_p = 0.9f;        // in (0, 1): sample from the smallest set with mass >= top_p;
                             // 0 or 1: from the whole distribution
  uint64_t seed = 42;
};

class Sampler {
 public:
  // The temperatures a sampler accepts besides 0. Logits of trained models are O(10); divided by
  // 1e-3 they stay far inside float's range, and 1 / 1e-3 is exact enough. 1e3 flattens any
  // logits to uniform already.
  static constexpr float kMinTemperature = 1e-3f;
  static constexpr float kMaxTemperature = 1e3f;

  // InvalidArgument for a temperature other than 0 or in [kMinTemperature, kMaxTemperature], or
  // top_p outside [0, 1].
  static absl::StatusOr<Sampler> Create(int vocab_size, const SamplerOptions& options);

  // The next token; may overwrite `logits` (vocab_size floats).
  int Sample(float* logits);

  static int Argmax(const float* x, int n);

 private:
  Sampler(int vocab_size, const SamplerOptions& options);
  float RandomF32();  // uniform in [0, 1)

  int vocab_size_;
  SamplerOptions options_;
  uint64_t state_;
  std::vector<std::pair<float, int>> candidates_;  // (probability, id), for top-p
};

}  // namespace klab::models

#endif  // KLAB_MODELS_SAMPLER_H_
