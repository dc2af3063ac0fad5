#include "models/training_data.h"

#include "models/generation.h"
#include "models/sampler.h"

namespace klab::models {

absl::StatusOr<StoryCorpus> SampleStories(LanguageModel& model, const Tokenizer& tokenizer,
                                          int64_t min_tokens, uint64_t seed) {
  constexpr int kBos = 1;
  StoryCorpus corpus;
  std::vector<int> sequence;
  for (uint64_t story = 0; static_cast<int64_t>(corpus.tokens.size()) < min_tokens ||
                           static_cast<int64_t>(corpus.bytes.size()) < min_tokens;
       ++story) {
    absl::StatusOr<Sampler> sampler = Sampler::Create(
        model.vocab_size(), {.temperature = 1.0f, .top_p = 0.9f, .seed = seed + story});
    if (!sampler.ok()) return sampler.status();
    const GenerateOptions options{.steps = 256, .stop_token = kBos};
    absl::StatusOr<GenerationStats> stats = Generate(model, {kBos}, options, *sampler, &sequence);
    if (!stats.ok()) return stats.status();
    for (size_t i = 0; i < sequence.size(); ++i) {
      corpus.tokens.push_back(sequence[i]);
      if (i == 0) continue;
      for (unsigned char c : tokenizer.Decode(sequence[i - 1], sequence[i])) {
        corpus.bytes.push_back(c);
      }
    }
  }
  return corpus;
}

void CorpusBatch(const std::vector<int>& corpus, int batch, int seq_len, int64_t offset,
                 int* inputs, int* targets) {
  const int64_t n = static_cast<int64_t>(corpus.size());
  for (int b = 0; b < batch; ++b) {
    const int64_t start = offset + static_cast<int64_t>(b) * seq_len;
    for (int t = 0; t < seq_len; ++t) {
      inputs[b * seq_len + t] = corpus[(start + t) % n];
      targets[b * seq_len + t] = corpus[(start + t + 1) % n];
    }
  }
}

}  // namespace klab::models
