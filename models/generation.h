// The generation loop shared by the CLI (//models:generate) and the model bench: llama2.c's
// loop, with the prompt either fed one position at a time or prefilled in one batch, and with or
// without the KV cache.
//
// The sequence starts with the prompt. Positions 0 .. min(steps, context) - 1 are run through
// the model; the logits of each position past the prompt's last are sampled into the next token,
// so a run generates positions - prompt + 1 tokens. Generation stops early when `stop_token`
// (BOS for Llama) is sampled; that token is not added.
#ifndef KLAB_MODELS_GENERATION_H_
#define KLAB_MODELS_GENERATION_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "models/language_model.h"
#include "models/sampler.h"

namespace klab::models {

struct GenerateOptions {
  int steps = 256;       // forward positions including the prompt, capped at the context
  bool prefill = true;   // the prompt as one Forward of n tokens (else one position at a time)
  bool kv_cache = true;  // false: every step recomputes the whole sequence (Forward from 0)
  int stop_token = -1;   // -1: none
};

struct GenerationStats {
  int prompt_tokens = 0;
  int generated_tokens = 0;  // sampled and appended
  int decode_forwards = 0;   // Forward calls after the prompt
  double prompt_s = 0;       // processing the prompt (its last position's logits ready)
  double first_token_s = 0;  // start to the first sampled token
  double decode_s = 0;       // the decode forwards and their sampling
  double total_s = 0;
  double prompt_tokens_per_s() const { return prompt_s > 0 ? prompt_tokens / prompt_s : 0; }
  double decode_tokens_per_s() const { return decode_s > 0 ? decode_forwards / decode_s : 0; }
};

// Callback for each token appended to the sequence, with the one before it (for Decode).
class TokenSink {
 public:
  virtual ~TokenSink() = default;
  virtual void OnToken(int prev, int token) = 0;
};

// Runs the loop; `sequence` receives the prompt and the generated tokens (its capacity is
// reserved up front, so nothing allocates after the first token). InvalidArgument when the
// prompt is empty, longer than the positions to run, or holds a token outside the vocabulary
// (Forward's check), or when the model's logits stop being finite.
absl::StatusOr<GenerationStats> Generate(LanguageModel& model, const std::vector<int>& prompt,
                                         const GenerateOptions& options, Sampler& sampler,
                                         std::vector<int>* sequence, TokenSink* sink = nullptr);

}  // namespace klab::models

#endif  // KLAB_MODELS_GENERATION_H_
