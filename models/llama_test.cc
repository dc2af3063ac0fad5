#include "models/llama.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "models/generation.h"
#include "models/model_file.h"
#include "models/reference.h"
#include "models/sampler.h"
#include "models/test_models.h"
#include "models/tokenizer.h"

namespace klab::models {
namespace {

using testing::kLogitRelTol;
using testing::MaxRelError;

std::vector<char> ReadOrDie(const std::string& path) {
  auto bytes = ReadFileBytes(path);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : std::vector<char>{};
}

TEST(LlamaModel, Stories260KHeader) {
  KLAB_MODEL_FILE_OR_SKIP(path, "stories260K.bin");
  auto m = LlamaModel::FromFile(path);
  ASSERT_TRUE(m.ok()) << m.status();
  const LlamaConfig& c = (*m)->config();
  EXPECT_EQ(c.dim, 64);
  EXPECT_EQ(c.hidden_dim, 172);
  EXPECT_EQ(c.n_layers, 5);
  EXPECT_EQ(c.n_heads, 8);
  EXPECT_EQ(c.n_kv_heads, 4);
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.seq_len, 512);
  EXPECT_TRUE(c.shared_classifier);
  EXPECT_EQ((*m)->params(), 260032);
}

TEST(LlamaModel, DecodeAndPrefillLogitsMatchFp64Reference) {
  KLAB_MODEL_FILE_OR_SKIP(path, "stories260K.bin");
  auto m = LlamaModel::FromFile(path);
  ASSERT_TRUE(m.ok()) << m.status();
  std::vector<int> tokens = {1};
  for (int i = 1; i < 48; ++i) tokens.push_back((i * 131 + 7) % 512);
  const auto ref = reference::LlamaLogits(**m, tokens);
  for (int pos = 0; pos < 48; ++pos) {
    const float* logits = (*m)->Forward(&tokens[pos], 1, pos).value();
    EXPECT_LE(MaxRelError(logits, ref[pos]), kLogitRelTol) << "decode, position " << pos;
  }
  const float* logits = (*m)->Forward(tokens.data(), 40, 0).value();
  EXPECT_LE(MaxRelError(logits, ref[39]), kLogitRelTol) << "prefill of 40";
  for (int pos = 40; pos < 48; ++pos) {
    logits = (*m)->Forward(&tokens[pos], 1, pos).value();
    EXPECT_LE(MaxRelError(logits, ref[pos]), kLogitRelTol) << "after prefill, position " << pos;
  }
}

// A separate classifier (negative vocab_size in the header, wcls after the RoPE tables) is read
// and used: the file is rewritten here from stories260K with wcls = 2 x token_embedding.
TEST(LlamaModel, SeparateClassifier) {
  KLAB_MODEL_FILE_OR_SKIP(path, "stories260K.bin");
  std::vector<char> bytes = ReadOrDie(path);
  int32_t vocab;
  std::memcpy(&vocab, bytes.data() + 20, 4);
  const int32_t negative = -vocab;
  std::memcpy(bytes.data() + 20, &negative, 4);
  const size_t emb = static_cast<size_t>(vocab) * 64;
  std::vector<float> wcls(emb);
  std::memcpy(wcls.data(), bytes.data() + 28, emb * 4);
  for (float& v : wcls) v *= 2;
  const size_t at = bytes.size();
  bytes.resize(at + emb * 4);
  std::memcpy(bytes.data() + at, wcls.data(), emb * 4);
  auto m = LlamaModel::FromBuffer(bytes.data(), bytes.size(), "unshared");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_FALSE((*m)->config().shared_classifier);
  EXPECT_EQ((*m)->params(), 260032 + static_cast<int64_t>(emb));
  const std::vector<int> tokens = {1, 403, 407, 9};
  const auto ref = reference::LlamaLogits(**m, tokens);
  const float* logits = (*m)->Forward(tokens.data(), 4, 0).value();
  EXPECT_LE(MaxRelError(logits, ref[3]), kLogitRelTol);
}

// The models README: greedy decoding of "Once upon a time" prints this sentence first.
TEST(LlamaModel, Stories260KGreedyStory) {
  KLAB_MODEL_FILE_OR_SKIP(model_path, "stories260K.bin");
  KLAB_MODEL_FILE_OR_SKIP(tok_path, "tok512.bin");
  auto m = LlamaModel::FromFile(model_path);
  ASSERT_TRUE(m.ok()) << m.status();
  auto tok = Tokenizer::FromFile(tok_path, (*m)->vocab_size());
  ASSERT_TRUE(tok.ok()) << tok.status();
  auto sampler = Sampler::Create((*m)->vocab_size(), SamplerOptions{.temperature = 0});
  ASSERT_TRUE(sampler.ok());
  struct Text : TokenSink {
    const Tokenizer* tok;
    std::string text;
    void OnToken(int prev, int token) override { text += tok->Decode(prev, token); }
  };
  std::vector<std::string> texts;
  for (const auto& [prefill, cache] : {std::pair{true, true}, std::pair{false, true},
                                       std::pair{true, false}}) {
    Text sink;
    sink.tok = &*tok;
    std::vector<int> seq;
    GenerateOptions options{.steps = 64, .prefill = prefill, .kv_cache = cache,
                            .stop_token = Tokenizer::kBos};
    auto stats = Generate(**m, tok->Encode("Once upon a time").value(), options, *sampler, &seq, &sink);
    ASSERT_TRUE(stats.ok()) << stats.status();
    texts.push_back(sink.text);
  }
  EXPECT_EQ(texts[0].rfind("Once upon a time, there was a little girl named Lily. She loved to "
                           "play outside",
                           0),
            0u)
      << texts[0];
  // Prefilled, fed one position at a time, and without a cache: the same greedy story.
  EXPECT_EQ(texts[1], texts[0]);
  EXPECT_EQ(texts[2], texts[0]);
}

class LlamaMalformedFile : public ::testing::Test {
 protected:
  void SetUp() override {
    // A small valid header: dim 16, hidden 24, 2 layers, 4 heads, 2 kv heads, vocab 300, T 32.
    const int32_t header[7] = {16, 24, 2, 4, 2, 300, 32};
    LlamaConfig c{16, 24, 2, 4, 2, 300, 32, true};
    good_.resize(28 + (c.Params() + 32 * 4) * 4);
    std::memcpy(good_.data(), header, sizeof(header));
  }
  absl::Status Parse(const std::vector<char>& b) {
    return LlamaModel::FromBuffer(b.data(), b.size(), "test.bin").status();
  }
  std::vector<char> WithHeader(int index, int32_t value) {
    std::vector<char> b = good_;
    std::memcpy(b.data() + 4 * index, &value, 4);
    return b;
  }
  std::vector<char> good_;
};

TEST_F(LlamaMalformedFile, GoodFileParses) { EXPECT_TRUE(Parse(good_).ok()) << Parse(good_); }

TEST_F(LlamaMalformedFile, TruncatedOrTrailing) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{27}, size_t{28}, good_.size() - 1}) {
    std::vector<char> b(good_.begin(), good_.begin() + size);
    EXPECT_FALSE(Parse(b).ok()) << size;
  }
  std::vector<char> longer = good_;
  longer.resize(longer.size() + 4);
  EXPECT_NE(Parse(longer).message().find("needs exactly"), std::string::npos);
}

TEST_F(LlamaMalformedFile, ImpossibleHeaderValues) {
  const char* fields[] = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size",
                          "seq_len"};
  for (int i = 0; i < 7; ++i) {
    for (int32_t bad : {0, 2147483647}) {
      const absl::Status s = Parse(WithHeader(i, bad));
      EXPECT_NE(s.message().find(fields[i]), std::string::npos) << fields[i] << "=" << bad << " " << s;
    }
  }
  // Negative values (vocab_size's sign has a meaning; -2^31 has no absolute value in int32).
  EXPECT_NE(Parse(WithHeader(0, -16)).message().find("dim"), std::string::npos);
  EXPECT_NE(Parse(WithHeader(5, -2147483647 - 1)).message().find("vocab_size"), std::string::npos);
  // A separate classifier the file does not hold.
  EXPECT_NE(Parse(WithHeader(5, -300)).message().find("needs exactly"), std::string::npos);
  EXPECT_NE(Parse(WithHeader(4, 3)).message().find("does not divide"), std::string::npos);
  EXPECT_NE(Parse(WithHeader(3, 16)).message().find("even size"), std::string::npos);  // hs 1
}

}  // namespace
}  // namespace klab::models
