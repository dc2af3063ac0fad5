// The GPT-2 trainer against independent references: its forward logits against the inference
// model's, every parameter's gradient against fp64 central finite differences of the fp64
// reference forward (models/reference.h), learning on a fixed corpus, the same bits on 1 and 2
// threads, and hostile ids refused.
#include "models/gpt2_train.h"

#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/gemm/gemm_config.h"
#include "models/gpt2.h"
#include "models/llama.h"
#include "models/reference.h"
#include "models/test_models.h"
#include "models/tokenizer.h"
#include "models/training_data.h"

namespace klab::models {
namespace {

// Small enough for a finite difference of every parameter (7,232 of them), with every part of
// the architecture present: two layers, two heads, a vocabulary wider than the width.
const Gpt2Config kTiny{16, 8, 16, 2, 2};
constexpr int kBatch = 2, kSeq = 8;

std::vector<int> RandomIds(int n, int vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int> ids(n);
  for (int& id : ids) id = static_cast<int>(rng() % vocab);
  return ids;
}

std::unique_ptr<Gpt2Trainer> NewTrainer(const Gpt2Config& c, int batch, int seq) {
  auto model = Gpt2Model::Create(c, 1);
  EXPECT_TRUE(model.ok()) << model.status();
  auto trainer = Gpt2Trainer::Create(**model, batch, seq);
  EXPECT_TRUE(trainer.ok()) << trainer.status();
  return std::move(*trainer);
}

// The mean cross-entropy of a model file, every sum in double (reference::Gpt2Logits).
double ReferenceLoss(const std::string& file, const std::vector<int>& in,
                     const std::vector<int>& target) {
  auto model = Gpt2Model::FromBuffer(file.data(), file.size(), "trainer");
  if (!model.ok()) return NAN;
  double loss = 0;
  for (int b = 0; b < kBatch; ++b) {
    const std::vector<int> seq(in.begin() + b * kSeq, in.begin() + (b + 1) * kSeq);
    const auto logits = reference::Gpt2Logits(**model, seq);
    for (int t = 0; t < kSeq; ++t) {
      double m = -INFINITY, sum = 0;
      for (double z : logits[t]) m = std::max(m, z);
      for (double z : logits[t]) sum += std::exp(z - m);
      loss += m + std::log(sum) - logits[t][target[b * kSeq + t]];
    }
  }
  return loss / (kBatch * kSeq);
}

TEST(Gpt2TrainerTest, ForwardMatchesTheInferenceModelAndTheFp64Loss) {
  auto trainer = NewTrainer(kTiny, kBatch, kSeq);
  const std::vector<int> in = RandomIds(kBatch * kSeq, kTiny.vocab, 1);
  const std::vector<int> target = RandomIds(kBatch * kSeq, kTiny.vocab, 2);
  const absl::StatusOr<float> loss = trainer->Forward(in.data(), target.data());
  ASSERT_TRUE(loss.ok()) << loss.status();
  const double ref = ReferenceLoss(trainer->FileBytes(), in, target);
  // The loss is a mean of log-sum-exps of logits held within 1e-4 of their largest (the models'
  // forward contract, docs/design.md); at this size the float forward is far closer.
  EXPECT_NEAR(*loss, ref, 1e-4 * std::fabs(ref));
  EXPECT_NEAR(ref, std::log(16.0), 0.5) << "a fresh model predicts about uniformly";
}

// Every parameter: the analytic float gradient against (L(w + h) - L(w - h)) / (w+ - w-) with
// L the fp64 reference loss, evaluated exactly at the two float points w+ and w-. The finite
// difference is then accurate to its truncation, h^2 |L'''| / 6 (h = 1e-2 max(|w|, 0.1): ~1e-7
// here), so the comparison measures the float backward pass: sums of up to K = B T V = 256
// terms per gradient entry through two layers, each rounding relative 2^-24, bounded by
// 1e-3 |g| + 1e-5 max|g| (K 2^-24 = 1.5e-5 of the largest term, with a factor of ten for the
// depth).
TEST(Gpt2TrainerTest, EveryGradientMatchesFp64FiniteDifferences) {
  auto trainer = NewTrainer(kTiny, kBatch, kSeq);
  // At a generic point, not the initialisation: there the weights are so small (2^-5) that the
  // attention is nearly uniform and the gradients of the keys nearly vanish, which would hide an
  // error in their path under the bound's absolute term.
  std::mt19937 rng(8);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  for (int64_t i = 0; i < trainer->num_params(); ++i) trainer->params()[i] = u(rng);
  const std::vector<int> in = RandomIds(kBatch * kSeq, kTiny.vocab, 3);
  const std::vector<int> target = RandomIds(kBatch * kSeq, kTiny.vocab, 4);
  ASSERT_TRUE(trainer->Forward(in.data(), target.data()).ok());
  trainer->Backward();
  const int64_t n = trainer->num_params();
  std::string file = trainer->FileBytes();
  const size_t header = file.size() - n * sizeof(float);
  std::vector<double> fd(n);
  double gmax = 0;
  for (int64_t i = 0; i < n; ++i) {
    float w;
    std::memcpy(&w, file.data() + header + 4 * i, 4);
    const float h = 1e-2f * std::max(std::fabs(w), 0.1f);
    const float up = w + h, down = w - h;
    std::memcpy(file.data() + header + 4 * i, &up, 4);
    const double lu = ReferenceLoss(file, in, target);
    std::memcpy(file.data() + header + 4 * i, &down, 4);
    const double ld = ReferenceLoss(file, in, target);
    std::memcpy(file.data() + header + 4 * i, &w, 4);
    fd[i] = (lu - ld) / (static_cast<double>(up) - static_cast<double>(down));
    gmax = std::max(gmax, std::fabs(fd[i]));
  }
  int bad = 0;
  double worst = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double g = trainer->grads()[i];
    const double bound = 1e-3 * std::fabs(fd[i]) + 1e-5 * gmax;
    worst = std::max(worst, std::fabs(g - fd[i]) / bound);
    if (std::fabs(g - fd[i]) > bound && ++bad <= 10) {
      ADD_FAILURE() << "parameter " << i << ": analytic " << g << ", finite difference " << fd[i];
    }
  }
  EXPECT_EQ(bad, 0);
  RecordProperty("worst_error_over_bound", std::to_string(worst));
  std::printf("largest |analytic - fd| / bound over %lld parameters: %.3g (max |g| %.3g)\n",
              static_cast<long long>(n), worst, gmax);
}

// A corpus with structure to learn: each sequence counts up from a random start with a random
// stride (mod V), so the next token follows from the last two. 60 AdamW steps at lr 1e-2 on the
// same 4 sequences must take the loss from about ln 16 = 2.77 to below half of it.
TEST(Gpt2TrainerTest, LossFallsOnAFixedCorpus) {
  auto trainer = NewTrainer(kTiny, 4, kSeq);
  std::vector<int> tokens(4 * (kSeq + 1));
  std::mt19937 rng(5);
  for (int b = 0; b < 4; ++b) {
    const int start = rng() % 16, stride = 1 + rng() % 3;
    for (int t = 0; t <= kSeq; ++t) tokens[b * (kSeq + 1) + t] = (start + stride * t) % 16;
  }
  std::vector<int> in, target;
  for (int b = 0; b < 4; ++b) {
    in.insert(in.end(), tokens.begin() + b * (kSeq + 1), tokens.begin() + b * (kSeq + 1) + kSeq);
    target.insert(target.end(), tokens.begin() + b * (kSeq + 1) + 1,
                  tokens.begin() + (b + 1) * (kSeq + 1));
  }
  const AdamW opt{.lr = 1e-2f, .weight_decay = 0.0f};
  float first = 0, last = 0;
  for (int step = 1; step <= 60; ++step) {
    const absl::StatusOr<float> loss = trainer->Step(in.data(), target.data(), opt, step);
    ASSERT_TRUE(loss.ok()) << loss.status();
    if (step == 1) first = *loss;
    last = *loss;
  }
  EXPECT_NEAR(first, std::log(16.0), 0.5);
  EXPECT_LT(last, 0.5 * first) << "first " << first << ", last " << last;
}

// The data: stories sampled from stories260K, the same for a seed, as token ids (V 512)
// and as bytes (V 256). gpt2-0.5M (V 256) trained on the bytes for 30 steps of 4 x 64 at lr 3e-3
// must fall from about ln 256 = 5.55 by at least 1.5 nats (the bytes of English text repeat
// their letters' frequencies within the first steps: a unigram fit alone is about 3 nats).
TEST(Gpt2TrainerTest, LearnsStoriesSampledFromStories260K) {
  KLAB_MODEL_FILE_OR_SKIP(model_path, "stories260K.bin");
  KLAB_MODEL_FILE_OR_SKIP(tok_path, "tok512.bin");
  auto llama = LlamaModel::FromFile(model_path);
  ASSERT_TRUE(llama.ok()) << llama.status();
  auto tok = Tokenizer::FromFile(tok_path, (*llama)->vocab_size());
  ASSERT_TRUE(tok.ok()) << tok.status();
  auto corpus = SampleStories(**llama, *tok, 4 * 65 * 30, 1);
  ASSERT_TRUE(corpus.ok()) << corpus.status();
  auto again = SampleStories(**llama, *tok, 4 * 65 * 30, 1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(corpus->tokens, again->tokens) << "the corpus is deterministic by seed";
  for (int id : corpus->tokens) ASSERT_TRUE(id >= 0 && id < 512);
  for (int id : corpus->bytes) ASSERT_TRUE(id >= 0 && id < 256);
  const std::string text(corpus->bytes.begin(), corpus->bytes.begin() + 40);
  RecordProperty("first_bytes", text);

  auto trainer = NewTrainer(Gpt2Config::Gpt2_0_5M(), 4, 64);
  std::vector<int> in(4 * 64), target(4 * 64);
  float first = 0, last = 0;
  for (int step = 1; step <= 30; ++step) {
    CorpusBatch(corpus->bytes, 4, 64, (step - 1) * 4 * 64, in.data(), target.data());
    const absl::StatusOr<float> loss =
        trainer->Step(in.data(), target.data(), AdamW{.lr = 3e-3f, .weight_decay = 0.0f}, step);
    ASSERT_TRUE(loss.ok()) << loss.status();
    if (step == 1) first = *loss;
    last = *loss;
  }
  EXPECT_NEAR(first, std::log(256.0), 0.5);
  EXPECT_LT(last, first - 1.5) << "first " << first << ", last " << last << "; text: " << text;
}

TEST(Gpt2TrainerTest, SameBitsOnOneAndTwoThreads) {
  const Gpt2Config c{32, 16, 32, 2, 4};
  const std::vector<int> in = RandomIds(4 * 16, c.vocab, 6);
  const std::vector<int> target = RandomIds(4 * 16, c.vocab, 7);
  std::vector<std::vector<float>> params;
  for (int threads : {1, 2}) {
    const kernels::ScopedGemmThreads scoped(threads);
    auto trainer = NewTrainer(c, 4, 16);
    for (int step = 1; step <= 3; ++step) {
      ASSERT_TRUE(trainer->Step(in.data(), target.data(), AdamW{.lr = 1e-3f, .weight_decay = 0.1f},
                                step).ok());
    }
    params.emplace_back(trainer->params(), trainer->params() + trainer->num_params());
  }
  EXPECT_EQ(0, std::memcmp(params[0].data(), params[1].data(), params[0].size() * sizeof(float)));
}

TEST(Gpt2TrainerTest, RefusesIdsOutsideTheVocabularyAndBadShapes) {
  auto trainer = NewTrainer(kTiny, 1, 4);
  const int good[4] = {1, 2, 3, 4}, bad[4] = {1, 2, 16, 4}, negative[4] = {0, -1, 0, 0};
  EXPECT_TRUE(trainer->Forward(good, good).ok());
  EXPECT_EQ(trainer->Forward(bad, good).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(trainer->Forward(good, negative).status().code(), absl::StatusCode::kInvalidArgument);
  auto model = Gpt2Model::Create(kTiny, 1);
  ASSERT_TRUE(model.ok());
  EXPECT_FALSE(Gpt2Trainer::Create(**model, 1, kTiny.block + 1).ok());
  EXPECT_FALSE(Gpt2Trainer::Create(**model, 0, 4).ok());
}

}  // namespace
}  // namespace klab::models
