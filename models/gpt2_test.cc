#include "models/gpt2.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/cpu.h"
#include "kernels/tuning/tuning.h"
#include "models/model_file.h"
#include "models/reference.h"
#include "models/test_models.h"

namespace klab::models {
namespace {

using testing::kLogitRelTol;
using testing::MaxRelError;

int Argmax(const float* x, int n) { return static_cast<int>(std::max_element(x, x + n) - x); }

TEST(Gpt2Config, ParamsMatchTheReport) {
  EXPECT_EQ(Gpt2Config::Gpt2_0_5M().Params(), 470528);
  EXPECT_EQ(Gpt2Config::Gpt2_3_5M().Params(), 3454464);
}

// Save writes the file format: read back, the weights are the same bit for bit. That a model
// created from the seed is the published file byte for byte is checked by its SHA-256
// (models/generate_cli_test.sh, digests in docs/model-files.md).
TEST(Gpt2Model, SaveRoundTrips) {
  auto created = Gpt2Model::Create(Gpt2Config::Gpt2_0_5M(), 1);
  ASSERT_TRUE(created.ok());
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(tmp != nullptr ? tmp : "/tmp") + "/saved.bin";
  ASSERT_TRUE((*created)->Save(path).ok());
  auto loaded = Gpt2Model::FromFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const FloatArena& a = (*loaded)->weight_arena();
  const FloatArena& b = (*created)->weight_arena();
  ASSERT_EQ(a.capacity(), b.capacity());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.bytes()), 0);
  EXPECT_FALSE((*created)->Save("/proc/klab/none.bin").ok());
}

// Decoding token by token with the KV cache, every position's logits match the fp64 forward.
TEST(Gpt2Model, DecodeLogitsMatchFp64Reference) {
  auto model = Gpt2Model::Create(Gpt2Config::Gpt2_0_5M(), 1);
  ASSERT_TRUE(model.ok());
  std::vector<int> tokens;
  for (int i = 0; i < 40; ++i) tokens.push_back((i * 37 + 11) % 256);
  const auto ref = reference::Gpt2Logits(**model, tokens);
  for (int pos = 0; pos < static_cast<int>(tokens.size()); ++pos) {
    const float* logits = (*model)->Forward(&tokens[pos], 1, pos).value();
    EXPECT_LE(MaxRelError(logits, ref[pos]), kLogitRelTol) << "position " << pos;
  }
}

// Prefill (M = n GEMMs, causal softmax over the block) gives the reference's last logits, and
// decoding on from the prefilled cache continues to match.
TEST(Gpt2Model, PrefillLogitsMatchFp64Reference) {
  auto model = Gpt2Model::Create(Gpt2Config::Gpt2_3_5M(), 7);
  ASSERT_TRUE(model.ok());
  std::vector<int> tokens;
  for (int i = 0; i < 37; ++i) tokens.push_back((i * 101 + 3) % 512);
  const auto ref = reference::Gpt2Logits(**model, tokens);
  const float* logits = (*model)->Forward(tokens.data(), 33, 0).value();
  EXPECT_LE(MaxRelError(logits, ref[32]), kLogitRelTol);
  for (int pos = 33; pos < 37; ++pos) {
    logits = (*model)->Forward(&tokens[pos], 1, pos).value();
    EXPECT_LE(MaxRelError(logits, ref[pos]), kLogitRelTol) << "position " << pos;
  }
}

// Greedy decoding gives the same tokens with the cache, without it (the whole prefix recomputed
// every step), and after a prefill of the prompt.
TEST(Gpt2Model, CachedUncachedAndPrefillGiveTheSameGreedyTokens) {
  auto model = Gpt2Model::Create(Gpt2Config::Gpt2_0_5M(), 1);
  ASSERT_TRUE(model.ok());
  Gpt2Model& m = **model;
  const std::vector<int> prompt = {5, 17, 200, 3};
  const int steps = 48;
  auto run = [&](int mode) {
    std::vector<int> seq = prompt;
    const float* logits = nullptr;
    if (mode == 2) logits = m.Forward(seq.data(), seq.size(), 0).value();
    int pos = mode == 2 ? static_cast<int>(seq.size()) : 0;
    while (static_cast<int>(seq.size()) < steps) {
      if (mode == 0) {
        for (; pos < static_cast<int>(seq.size()); ++pos) logits = m.Forward(&seq[pos], 1, pos).value();
      } else if (mode == 1) {
        logits = m.Forward(seq.data(), seq.size(), 0).value();
      } else {
        for (; pos < static_cast<int>(seq.size()); ++pos) logits = m.Forward(&seq[pos], 1, pos).value();
      }
      seq.push_back(Argmax(logits, m.vocab_size()));
    }
    return seq;
  };
  const std::vector<int> cached = run(0);
  EXPECT_EQ(run(1), cached);
  EXPECT_EQ(run(2), cached);
}

// Malformed files, written here from the good one: each is refused with an error that says what
// is wrong, and nothing is read past the end of the buffer (ASan checks that under --config=asan).
class Gpt2MalformedFile : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = Gpt2Model::Create(Gpt2Config::Gpt2_0_5M(), 1);
    ASSERT_TRUE(created.ok());
    const Gpt2Config c = Gpt2Config::Gpt2_0_5M();
    const int32_t header[8] = {Gpt2Model::kMagic, 1, c.vocab, c.block, c.d, c.layers, c.heads, 0};
    good_.resize(sizeof(header) + c.Params() * 4);
    std::memcpy(good_.data(), header, sizeof(header));
    // The weights' values do not matter for parsing.
  }
  absl::Status Parse(const std::vector<char>& bytes) {
    return Gpt2Model::FromBuffer(bytes.data(), bytes.size(), "test.bin").status();
  }
  std::vector<char> WithHeader(int index, int32_t value) {
    std::vector<char> b = good_;
    std::memcpy(b.data() + 4 * index, &value, 4);
    return b;
  }
  std::vector<char> good_;
};

TEST_F(Gpt2MalformedFile, GoodFileParses) { EXPECT_TRUE(Parse(good_).ok()); }

TEST_F(Gpt2MalformedFile, Truncated) {
  for (size_t size : {size_t{0}, size_t{3}, size_t{4}, size_t{31}, size_t{32}, good_.size() / 2,
                      good_.size() - 1}) {
    std::vector<char> b(good_.begin(), good_.begin() + size);
    const absl::Status s = Parse(b);
    EXPECT_FALSE(s.ok()) << size;
    EXPECT_TRUE(s.message().find("truncated") != std::string::npos ||
                s.message().find("needs exactly") != std::string::npos)
        << s;
  }
}

TEST_F(Gpt2MalformedFile, TrailingBytes) {
  std::vector<char> b = good_;
  b.resize(b.size() + 4);
  EXPECT_NE(Parse(b).message().find("needs exactly"), std::string::npos);
}

TEST_F(Gpt2MalformedFile, WrongMagicAndVersion) {
  EXPECT_NE(Parse(WithHeader(0, 0x12345678)).message().find("wrong magic"), std::string::npos);
  EXPECT_NE(Parse(WithHeader(1, 2)).message().find("version"), std::string::npos);
  EXPECT_NE(Parse(WithHeader(7, 1)).message().find("tied"), std::string::npos);
}

TEST_F(Gpt2MalformedFile, ImpossibleHeaderValues) {
  const char* fields[] = {"vocab", "block", "d", "layers", "heads"};
  for (int i = 0; i < 5; ++i) {
    for (int32_t bad : {0, -1, -2147483647 - 1, 2147483647}) {
      const absl::Status s = Parse(WithHeader(2 + i, bad));
      EXPECT_NE(s.message().find(fields[i]), std::string::npos) << fields[i] << "=" << bad << ": " << s;
    }
  }
  EXPECT_NE(Parse(WithHeader(6, 3)).message().find("does not divide"), std::string::npos);
  // Plausible values that disagree with the file size.
  EXPECT_NE(Parse(WithHeader(5, 3)).message().find("needs exactly"), std::string::npos);
}

TEST(Gpt2Model, MissingFileIsNotFound) {
  auto m = Gpt2Model::FromFile("/nonexistent/model.bin");
  EXPECT_EQ(m.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace klab::models

namespace klab::models {
namespace {

// Analytic rule (no profile): a model whose packed weights fit one core's L2 takes one thread (a
// second adds a fork-join per layer and no bandwidth), a larger one what it is offered; the
// reason is said.
TEST(LanguageModelThreads, OneThreadWhenThePackedWeightsFitOneL2) {
  const int64_t l2 = kernels::GetCpuFeatures().l2_bytes;
  if (l2 == 0) GTEST_SKIP() << "cpuid gives no L2 size here";
  auto tiny = Gpt2Model::Create({64, 16, 32, 1, 2}, 1);
  auto big = Gpt2Model::Create(Gpt2Config::Gpt2_3_5M(), 1);
  ASSERT_TRUE(tiny.ok() && big.ok());
  ASSERT_LT((*tiny)->packed_weight_bytes(), l2);
  ASSERT_GT((*big)->packed_weight_bytes(), l2);
  kernels::SetTuningForTesting(nullptr);
  std::string why;
  EXPECT_EQ((*tiny)->UsefulThreads(2, &why), 1);
  EXPECT_NE(why.find("fit one core's"), std::string::npos) << why;
  EXPECT_EQ((*big)->UsefulThreads(2), 2);
  EXPECT_EQ((*big)->UsefulThreads(1), 1);
  kernels::RestoreTuning();
}

// With a profile's decode threshold, more threads go to models whose packed weights exceed it.
TEST(LanguageModelThreads, TheProfileThresholdDecides) {
  auto tiny = Gpt2Model::Create({64, 16, 32, 1, 2}, 1);
  auto big = Gpt2Model::Create(Gpt2Config::Gpt2_3_5M(), 1);
  ASSERT_TRUE(tiny.ok() && big.ok());
  kernels::TuningProfile p;
  p.source = "test profile";
  p.decode_threads_above_weight_bytes = (*tiny)->packed_weight_bytes();
  kernels::SetTuningForTesting(&p);
  std::string why;
  EXPECT_EQ((*tiny)->UsefulThreads(2, &why), 1);
  EXPECT_NE(why.find("test profile"), std::string::npos) << why;
  EXPECT_EQ((*big)->UsefulThreads(2), 2);
  p.decode_threads_above_weight_bytes = (*big)->packed_weight_bytes();
  EXPECT_EQ((*big)->UsefulThreads(2), 1);
  p.decode_threads_above_weight_bytes = 0;
  EXPECT_EQ((*tiny)->UsefulThreads(2), 2);
  kernels::RestoreTuning();
}

}  // namespace
}  // namespace klab::models
