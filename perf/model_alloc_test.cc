// After the first token, generating a token performs zero heap allocations: the harness's
// allocation counter (a hook on global operator new) watches Generate() from the first sampled
// token to the last, for both architectures, every forward path and both samplers.
#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "harness/alloc_counter.h"
#include "models/generation.h"
#include "models/gpt2.h"
#include "models/llama.h"
#include "models/sampler.h"
#include "models/test_models.h"

namespace klab::perf {
namespace {

using models::GenerateOptions;
using models::LanguageModel;

// Snapshots the allocation counter at the first generated token and at every later one.
class AllocWatch : public models::TokenSink {
 public:
  explicit AllocWatch(int prompt) : prompt_(prompt) {}
  void OnToken(int, int) override {
    if (++seen_ == prompt_) first_ = harness::AllocSnapshot();  // the first generated token
    last_ = harness::AllocSnapshot();
  }
  harness::AllocStats after_first() const { return last_ - first_; }
  int generated() const { return seen_ - prompt_ + 1; }

 private:
  int prompt_;
  int seen_ = 0;  // tokens appended after the first of the prompt
  harness::AllocStats first_{}, last_{};
};

void ExpectNoAllocationsAfterFirstToken(LanguageModel& model, const std::vector<int>& prompt) {
  for (const auto& [prefill, cache] :
       {std::pair{true, true}, std::pair{false, true}, std::pair{true, false}}) {
    for (float temperature : {0.0f, 0.8f}) {
      auto sampler = models::Sampler::Create(model.vocab_size(),
                                             {.temperature = temperature, .top_p = 0.9f, .seed = 1});
      ASSERT_TRUE(sampler.ok());
      std::vector<int> sequence;
      AllocWatch watch(static_cast<int>(prompt.size()));
      const GenerateOptions options{.steps = 48, .prefill = prefill, .kv_cache = cache};
      auto stats = models::Generate(model, prompt, options, *sampler, &sequence, &watch);
      ASSERT_TRUE(stats.ok()) << stats.status();
      ASSERT_GT(watch.generated(), 40);
      EXPECT_EQ(watch.after_first().count, 0)
          << model.architecture() << " prefill " << prefill << " cache " << cache << " T "
          << temperature << ": " << watch.after_first().bytes << " bytes";
    }
  }
}

TEST(ModelAllocations, ZeroPerGeneratedToken) {
  if (!harness::AllocCounterActive()) {
    GTEST_SKIP() << "the allocation counter is not in effect (a sanitizer replaces operator new)";
  }
  auto gpt2 = models::Gpt2Model::Create(models::Gpt2Config::Gpt2_0_5M(), 1);
  ASSERT_TRUE(gpt2.ok());
  ExpectNoAllocationsAfterFirstToken(**gpt2, {3, 14, 15});
  KLAB_MODEL_FILE_OR_SKIP(path, "stories260K.bin");
  auto llama = models::LlamaModel::FromFile(path);
  ASSERT_TRUE(llama.ok()) << llama.status();
  ExpectNoAllocationsAfterFirstToken(**llama, {1, 403, 407});
}

}  // namespace
}  // namespace klab::perf
