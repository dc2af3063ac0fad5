#include "models/generation.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "absl/strings/str_format.h"
#include "common/status_macros.h"

namespace klab::models {
namespace {

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Finite weights can still overflow float in the activations (a weight of 1e30 is finite):
// logits that are not all finite would be sampled into garbage, so generation stops with a status.
absl::Status CheckLogits(const float* logits, int n, int pos) {
  for (int i = 0; i < n; ++i) {
    if (!std::isfinite(logits[i])) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "the model's logit %d at position %d is %g: its activations overflow float, so its "
          "output would be garbage",
          i, pos, logits[i]));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<GenerationStats> Generate(LanguageModel& model, const std::vector<int>& prompt,
                                         const GenerateOptions& options, Sampler& sampler,
                                         std::vector<int>* sequence, TokenSink* sink) {
  const int positions = std::min(options.steps, model.context());
  const int p = static_cast<int>(prompt.size());
  if (p == 0) return absl::InvalidArgumentError("the prompt is empty");
  if (options.steps < 1) {
    return absl::InvalidArgumentError(absl::StrFormat("steps = %d must be >= 1", options.steps));
  }
  if (p > positions) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the prompt has %d tokens, more than the %d positions to run (steps %d, context %d)", p,
        positions, options.steps, model.context()));
  }
  // Token ids are checked by Forward (every call, every build).
  GenerationStats stats;
  stats.prompt_tokens = p;
  sequence->clear();
  sequence->reserve(positions + 1);
  sequence->assign(prompt.begin(), prompt.end());
  if (sink != nullptr) {
    for (int i = 1; i < p; ++i) sink->OnToken(prompt[i - 1], prompt[i]);
  }

  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  // The logits of the prompt's last position.
  absl::StatusOr<float*> logits;
  if (!options.kv_cache || options.prefill) {
    logits = model.Forward(sequence->data(), p, 0);
  } else {
    for (int pos = 0; pos < p && (pos == 0 || logits.ok()); ++pos) {
      logits = model.Forward(sequence->data() + pos, 1, pos);
    }
  }
  if (!logits.ok()) return logits.status();
  KLAB_RETURN_IF_ERROR(CheckLogits(*logits, model.vocab_size(), p - 1));
  const Clock::time_point prompt_done = Clock::now();
  stats.prompt_s = Seconds(start, prompt_done);

  for (int pos = p - 1;;) {
    const int next = sampler.Sample(*logits);
    if (stats.generated_tokens == 0) stats.first_token_s = Seconds(start, Clock::now());
    if (next == options.stop_token) break;
    const int prev = sequence->back();
    sequence->push_back(next);
    ++stats.generated_tokens;
    if (sink != nullptr) sink->OnToken(prev, next);
    if (++pos >= positions) break;
    logits = options.kv_cache ? model.Forward(sequence->data() + pos, 1, pos)
                              : model.Forward(sequence->data(), pos + 1, 0);
    if (!logits.ok()) return logits.status();
    KLAB_RETURN_IF_ERROR(CheckLogits(*logits, model.vocab_size(), pos));
    ++stats.decode_forwards;
  }
  const Clock::time_point end = Clock::now();
  stats.decode_s = Seconds(prompt_done, end);
  stats.total_s = Seconds(start, end);
  return stats;
}

}  // namespace klab::models
