// After the first token, generating a token performs zero heap allocations: the harness's
// allocation counter (a hook on global operator new) watches Generate() from the first sampled
// token to the last, for both architectures, every forward path and both samplers. A GPT-2
// training step (forward, backward, AdamW) allocates nothing either, on 1 and 2 threads.
#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "harness/alloc_counter.h"
#include "models/generation.h"
#include "kernels/gemm/gemm_config.h"
#include "models/gpt2.h"
#include "models/gpt2_train.h"
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

TEST(ModelAllocations, ZeroPerTrainingStep) {
  if (!harness::AllocCounterActive()) {
    GTEST_SKIP() << "the allocation counter is not in effect (a sanitizer replaces operator new)";
  }
  auto model = models::Gpt2Model::Create(models::Gpt2Config::Gpt2_0_5M(), 1);
  ASSERT_TRUE(model.ok());
  auto trainer = models::Gpt2Trainer::Create(**model, 4, 32);
  ASSERT_TRUE(trainer.ok());
  std::vector<int> in(4 * 32), target(4 * 32);
  for (size_t i = 0; i < in.size(); ++i) in[i] = (i * 7) % 256, target[i] = (i * 13 + 1) % 256;
  for (int threads : {1, 2}) {
    const kernels::ScopedGemmThreads scoped(threads);
    ASSERT_TRUE((*trainer)->Step(in.data(), target.data(), {}, 1).ok());  // pool warm
    const harness::AllocStats before = harness::AllocSnapshot();
    for (int step = 2; step <= 4; ++step) {
      ASSERT_TRUE((*trainer)->Step(in.data(), target.data(), {}, step).ok());
    }
    const harness::AllocStats used = harness::AllocSnapshot() - before;
    EXPECT_EQ(used.count, 0) << threads << " threads: " << used.bytes << " bytes in 3 steps";
  }
}

}  // namespace
}  // namespace klab::perf
