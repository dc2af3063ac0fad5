// Training text for the GPT-2 trainer, with no data file to ship: stories sampled from the real
// stories260K model (models/data, the TinyStories model published with llama2.c) with its
// tokenizer, deterministic by seed. The same text two ways: the model's own token ids
// (vocabulary 512, that of gpt2-3.5M) and the bytes of the decoded text (vocabulary 256, that of
// gpt2-0.5M).
#ifndef KLAB_MODELS_TRAINING_DATA_H_
#define KLAB_MODELS_TRAINING_DATA_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "models/language_model.h"
#include "models/tokenizer.h"

namespace klab::models {

struct StoryCorpus {
  std::vector<int> tokens;  // ids of the model's vocabulary; each story starts with BOS (1)
  std::vector<int> bytes;   // the decoded text, one id per byte (0-255)
};

// Stories of up to 256 positions from BOS, sampled at temperature 1 with top-p 0.9 (the i-th
// story with seed + i), until both views hold at least `min_tokens`. InvalidArgument when the
// model's logits stop being finite (Generate's check).
absl::StatusOr<StoryCorpus> SampleStories(LanguageModel& model, const Tokenizer& tokenizer,
                                          int64_t min_tokens, uint64_t seed);

// A training batch from a corpus: `batch` windows of seq_len + 1 consecutive ids starting at
// `offset`, `offset + seq_len`, ... (wrapping around the corpus), inputs the first seq_len of
// each, targets the last seq_len. `inputs` and `targets` hold batch x seq_len ids.
void CorpusBatch(const std::vector<int>& corpus, int batch, int seq_len, int64_t offset,
                 int* inputs, int* targets);

}  // namespace klab::models

#endif  // KLAB_MODELS_TRAINING_DATA_H_
