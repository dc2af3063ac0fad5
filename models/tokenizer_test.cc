#include "models/tokenizer.h"

#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "models/model_file.h"
#include "models/test_models.h"

namespace klab::models {
namespace {

// Writes a tokenizer file: the 3 special tokens, the 256 byte tokens, then `extra` (piece,
// score) entries.
std::vector<char> TokenizerFile(const std::vector<std::pair<std::string, float>>& extra,
                                int32_t max_len = 16) {
  std::vector<std::pair<std::string, float>> entries = {{"<unk>", 0}, {"\n<s>\n", 0},
                                                        {"\n</s>\n", 0}};
  for (int b = 0; b < 256; ++b) {
    char piece[8];
    std::snprintf(piece, sizeof(piece), "<0x%02X>", b);
    entries.push_back({piece, 0});
  }
  entries.insert(entries.end(), extra.begin(), extra.end());
  std::vector<char> out(4);
  std::memcpy(out.data(), &max_len, 4);
  for (const auto& [piece, score] : entries) {
    const int32_t len = piece.size();
    const size_t at = out.size();
    out.resize(at + 8 + len);
    std::memcpy(out.data() + at, &score, 4);
    std::memcpy(out.data() + at + 4, &len, 4);
    std::memcpy(out.data() + at + 8, piece.data(), len);
  }
  return out;
}

constexpr int kFirst = 259;  // id of the first extra token

class HandTokenizer : public ::testing::Test {
 protected:
  void SetUp() override {
    //                      259       260       261       262        263         264       265
    extra_ = {{" ", -1}, {"a", -1}, {"b", -1}, {"c", -1}, {"ab", 1}, {"bc", 2}, {"abc", 3},
              //  266        267
              {"aa", 0.5}, {" a", 0.25}};
    auto t = Tokenizer::FromBuffer(file().data(), file().size(), kFirst + extra_.size(), "hand");
    ASSERT_TRUE(t.ok()) << t.status();
    tok_ = std::move(*t);
  }
  std::vector<char> file() const { return TokenizerFile(extra_); }
  std::vector<std::pair<std::string, float>> extra_;
  std::optional<Tokenizer> tok_;
};

// The highest-scoring pair merges first: "abc" -> [" ", a, b, c]; pairs " a" 0.25, ab 1, bc 2
// -> bc; then " a" 0.25, "abc" 3 -> abc; then " abc" is no token: [BOS, " ", abc].
TEST_F(HandTokenizer, MergesTheBestScoringPairFirst) {
  EXPECT_EQ(tok_->Encode("abc").value(), (std::vector<int>{1, kFirst, kFirst + 6}));
}

// Equal scores: the leftmost pair merges. " aaa": " a" 0.25 and aa 0.5 twice -> the left aa:
// [" ", aa, a]; then neither " aa" nor "aaa" is a token.
TEST_F(HandTokenizer, LeftmostOfEqualScores) {
  EXPECT_EQ(tok_->Encode("aaa").value(), (std::vector<int>{1, kFirst, kFirst + 7, kFirst + 1}));
}

// A character without a token becomes its UTF-8 bytes' byte tokens.
TEST_F(HandTokenizer, ByteFallback) {
  EXPECT_EQ(tok_->Encode("\xC3\xA9").value(),  // é
            (std::vector<int>{1, kFirst, 3 + 0xC3, 3 + 0xA9}));
  EXPECT_EQ(tok_->Encode("").value(), (std::vector<int>{1}));
}

TEST_F(HandTokenizer, DecodeDisplayRules) {
  EXPECT_EQ(tok_->Decode(1, kFirst + 8), "a");         // leading space dropped after BOS
  EXPECT_EQ(tok_->Decode(kFirst, kFirst + 8), " a");
  EXPECT_EQ(tok_->Decode(kFirst, 3 + '\n'), "\n");     // <0x0A> is a newline
  EXPECT_EQ(tok_->Decode(kFirst, 3 + 0x01), "");       // not printable, not whitespace
  EXPECT_EQ(tok_->Decode(kFirst, 3 + 'A'), "A");
}

TEST_F(HandTokenizer, MalformedFiles) {
  const std::vector<char> good = file();
  const int vocab = kFirst + extra_.size();
  auto parse = [&](const std::vector<char>& b, int v) {
    return Tokenizer::FromBuffer(b.data(), b.size(), v, "tok.bin").status();
  };
  for (size_t size : {size_t{0}, size_t{2}, size_t{4}, size_t{10}, good.size() - 1}) {
    EXPECT_FALSE(parse(std::vector<char>(good.begin(), good.begin() + size), vocab).ok()) << size;
  }
  // The model's vocabulary is larger / smaller than the file's.
  EXPECT_NE(parse(good, vocab + 1).message().find("holds"), std::string::npos);
  EXPECT_NE(parse(good, vocab - 1).message().find("larger vocabulary"), std::string::npos);
  // max_token_length 0, and a token longer than it.
  std::vector<char> zero = good;
  std::memset(zero.data(), 0, 4);
  EXPECT_NE(parse(zero, vocab).message().find("max_token_length"), std::string::npos);
  const std::vector<char> short_max = TokenizerFile(extra_, 4);
  EXPECT_NE(parse(short_max, vocab).message().find("length"), std::string::npos);
  // A negative length.
  std::vector<char> negative = good;
  const int32_t minus = -5;
  std::memcpy(negative.data() + 8, &minus, 4);  // the first token's length
  EXPECT_NE(parse(negative, vocab).message().find("length -5"), std::string::npos);
}

TEST(Tok512, RoundTripsText) {
  KLAB_MODEL_FILE_OR_SKIP(path, "tok512.bin");
  auto tok = Tokenizer::FromFile(path, 512);
  ASSERT_TRUE(tok.ok()) << tok.status();
  for (const std::string text :
       {"Once upon a time", "Lily and Tom went to the park. They saw a big dog!",
        "Caf\xC3\xA9 zq 123", "  two spaces\nand a newline"}) {
    const std::vector<int> ids = tok->Encode(text).value();
    ASSERT_EQ(ids[0], Tokenizer::kBos);
    std::string decoded;
    for (size_t i = 1; i < ids.size(); ++i) decoded += tok->Decode(ids[i - 1], ids[i]);
    EXPECT_EQ(decoded, text);
    // Merging stopped: no adjacent pair of the result is itself a token.
    for (size_t i = 1; i + 1 < ids.size(); ++i) {
      const std::string pair = tok->piece(ids[i]) + tok->piece(ids[i + 1]);
      for (int id = 0; id < tok->vocab_size(); ++id) EXPECT_NE(tok->piece(id), pair);
    }
  }
  // A character without a token (U+2713) is its three byte tokens, which the display rules do
  // not print one by one (llama2.c prints no lone non-printable byte).
  const std::vector<int> check = tok->Encode("\xE2\x9C\x93").value();
  EXPECT_EQ(std::vector<int>(check.end() - 3, check.end()),
            (std::vector<int>{3 + 0xE2, 3 + 0x9C, 3 + 0x93}));
  EXPECT_EQ(tok->Decode(3 + 0xE2, 3 + 0x9C), "");
  // The prompt of the README's example: "Once upon a time" is 4 tokens after BOS here.
  EXPECT_EQ(tok->Encode("Once upon a time").value().size(), 5u);
}

}  // namespace
}  // namespace klab::models
