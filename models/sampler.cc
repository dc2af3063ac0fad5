#include "models/sampler.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"
#include "kernels/elementwise/elementwise.h"
#include "kernels/softmax/softmax.h"

namespace klab::models {

absl::StatusOr<Sampler> Sampler::Create(int vocab_size, const SamplerOptions& options) {
  // 0 is greedy. Otherwise logits are scaled by 1 / T: below kMinTemperature that factor (and
  // the scaled logits) would overflow float or make the softmax a one-hot argmax in disguise.
  if (!(options.temperature == 0.0f || (options.temperature >= kMinTemperature &&
                                        options.temperature <= kMaxTemperature))) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "temperature must be 0 (greedy) or in [%g, %g], not %g", kMinTemperature,
        kMaxTemperature, options.temperature));
  }
  if (!(options.top_p >= 0.0f && options.top_p <= 1.0f)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("top_p must be in [0, 1], not %g", options.top_p));
  }
  if (vocab_size < 1) return absl::InvalidArgumentError("vocab_size must be >= 1");
  return Sampler(vocab_size, options);
}

Sampler::Sampler(int vocab_size, const SamplerOptions& options)
    : vocab_size_(vocab_size),
      options_(options),
      // xorshift64* must not start at 0.
      state_(options.seed == 0 ? 0x9E3779B97F4A7C15ull : options.seed),
      candidates_(vocab_size) {}

int Sampler::Argmax(const float* x, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i) {
    if (x[i] > x[best]) best = i;
  }
  return best;
}

float Sampler::RandomF32() {
  state_ ^= state_ >> 12;
  state_ ^= state_ << 25;
  state_ ^= state_ >> 27;
  const uint32_t r = static_cast<uint32_t>((state_ * 0x2545F4914F6CDD1Dull) >> 32);
  return static_cast<float>(r >> 8) * 0x1p-24f;
}

int Sampler::Sample(float* logits) {
  const int n = vocab_size_;
  if (options_.temperature == 0.0f) return Argmax(logits, n);
  kernels::Scale(n, 1.0f / options_.temperature, logits, logits);
  kernels::Softmax(1, n, logits, n, logits, n);  // logits now hold probabilities
  const float coin = RandomF32();
  const float top_p = options_.top_p;
  if (top_p <= 0.0f || top_p >= 1.0f) {
    float cdf = 0.0f;
    for (int i = 0; i < n; ++i) {
      cdf += logits[i];
      if (coin < cdf) return i;
    }
    return n - 1;  // rounding: the cdf ended just below 1
  }
  // Nucleus: tokens below (1 - top_p) / (n - 1) cannot be in it (the rest would outweigh them),
  // so only the others are sorted.
  const float cutoff = (1.0f - top_p) / static_cast<float>(std::max(n - 1, 1));
  int count = 0;
  for (int i = 0; i < n; ++i) {
    if (logits[i] >= cutoff) candidates_[count++] = {logits[i], i};
  }
  if (count == 0) return Argmax(logits, n);  // top_p below 1 / n: the nucleus is the mode
  std::sort(candidates_.begin(), candidates_.begin() + count,
            [](const auto& a, const auto& b) { return a.first > b.first; });
  float mass = 0.0f;
  int last = count - 1;
  for (int i = 0; i < count; ++i) {
    mass += candidates_[i].first;
    if (mass > top_p) {
      last = i;
      break;
    }
  }
  const float r = coin * mass;
  float cdf = 0.0f;
  for (int i = 0; i <= last; ++i) {
    cdf += candidates_[i].first;
    if (r < cdf) return candidates_[i].second;
  }
  return candidates_[last].second;
}

}  // namespace klab::models
