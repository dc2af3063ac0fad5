#include "models/sampler.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace klab::models {
namespace {

TEST(Sampler, GreedyIsArgmax) {
  auto s = Sampler::Create(5, {.temperature = 0});
  ASSERT_TRUE(s.ok());
  std::vector<float> logits = {0.1f, 3.0f, -1.0f, 2.9f, 3.0f};
  EXPECT_EQ(s->Sample(logits.data()), 1);  // the first of equal maxima
}

TEST(Sampler, SameSeedSameTokens) {
  auto draw = [](uint64_t seed, float top_p) {
    auto s = Sampler::Create(64, {.temperature = 1.0f, .top_p = top_p, .seed = seed});
    std::vector<int> out;
    for (int i = 0; i < 200; ++i) {
      std::vector<float> logits(64);
      for (int j = 0; j < 64; ++j) logits[j] = std::sin(j * 0.7f + i);
      out.push_back(s->Sample(logits.data()));
    }
    return out;
  };
  EXPECT_EQ(draw(7, 0.9f), draw(7, 0.9f));
  EXPECT_EQ(draw(7, 0.0f), draw(7, 0.0f));
  EXPECT_NE(draw(7, 0.0f), draw(8, 0.0f));
}

// At temperature 1 the frequencies follow softmax(logits): 20,000 draws over 4 tokens with
// probabilities 0.1, 0.2, 0.3, 0.4; each frequency within 5 standard deviations
// (sqrt(p (1 - p) / n) <= 0.0035).
TEST(Sampler, FrequenciesFollowTheDistribution) {
  const std::vector<double> p = {0.1, 0.2, 0.3, 0.4};
  auto s = Sampler::Create(4, {.temperature = 1.0f, .top_p = 0.0f, .seed = 3});
  ASSERT_TRUE(s.ok());
  std::vector<int> count(4);
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    std::vector<float> logits(4);
    for (int j = 0; j < 4; ++j) logits[j] = std::log(p[j]);
    ++count[s->Sample(logits.data())];
  }
  for (int j = 0; j < 4; ++j) {
    EXPECT_NEAR(count[j] / double{n}, p[j], 5 * std::sqrt(p[j] * (1 - p[j]) / n)) << j;
  }
}

// top_p = 0.5 over 0.4, 0.3, 0.2, 0.1: the nucleus is {0.4, 0.3} (mass 0.7 > 0.5), so tokens 0
// and 1 never appear and 3 : 2 is 4 : 3.
TEST(Sampler, TopPSamplesOnlyTheNucleus) {
  const std::vector<double> p = {0.1, 0.2, 0.3, 0.4};
  auto s = Sampler::Create(4, {.temperature = 1.0f, .top_p = 0.5f, .seed = 5});
  std::vector<int> count(4);
  for (int i = 0; i < 7000; ++i) {
    std::vector<float> logits(4);
    for (int j = 0; j < 4; ++j) logits[j] = std::log(p[j]);
    ++count[s->Sample(logits.data())];
  }
  EXPECT_EQ(count[0], 0);
  EXPECT_EQ(count[1], 0);
  EXPECT_NEAR(count[3] / 7000.0, 4.0 / 7, 0.03);
}

TEST(Sampler, RejectsBadOptions) {
  EXPECT_FALSE(Sampler::Create(4, {.temperature = -1}).ok());
  EXPECT_FALSE(Sampler::Create(4, {.temperature = NAN}).ok());
  EXPECT_FALSE(Sampler::Create(4, {.temperature = INFINITY}).ok());
  // Issue 13: 1e-40 passed and 1 / T overflowed to Inf; tiny and huge temperatures are refused.
  EXPECT_FALSE(Sampler::Create(4, {.temperature = 1e-40f}).ok());
  EXPECT_FALSE(Sampler::Create(4, {.temperature = 1e-4f}).ok());
  EXPECT_FALSE(Sampler::Create(4, {.temperature = 1e4f}).ok());
  EXPECT_TRUE(Sampler::Create(4, {.temperature = Sampler::kMinTemperature}).ok());
  EXPECT_TRUE(Sampler::Create(4, {.temperature = Sampler::kMaxTemperature}).ok());
  EXPECT_FALSE(Sampler::Create(4, {.top_p = 1.5f}).ok());
  EXPECT_FALSE(Sampler::Create(4, {.top_p = -0.1f}).ok());
  EXPECT_FALSE(Sampler::Create(0, {}).ok());
}

}  // namespace
}  // namespace klab::models
