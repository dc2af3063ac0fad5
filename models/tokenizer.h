// The llama2.c byte-pair tokenizer (tok512.bin and its kin; docs/model-files.md).
//
// Encoding: BOS first; a space is prepended to non-empty text; each UTF-8 character becomes its
// token, or its bytes' byte tokens <0xXX> (ids 3 + byte) when it has none; then, repeatedly, the
// adjacent pair whose concatenation is a token with the highest score is merged (the leftmost of
// equal scores), until no pair merges.
// Decoding for display: right after BOS a piece's leading space is dropped; <0xXX> is that raw
// byte; a lone byte that is neither printable nor whitespace is not printed.
#ifndef KLAB_MODELS_TOKENIZER_H_
#define KLAB_MODELS_TOKENIZER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"

namespace klab::models {

class Tokenizer {
 public:
  static constexpr int kUnk = 0;
  static constexpr int kBos = 1;
  static constexpr int kEos = 2;
  static constexpr int kFirstByteToken = 3;

  // Reads `vocab_size` entries (the model's vocabulary): InvalidArgument if the file is
  // truncated, has more entries than that, or holds impossible lengths.
  static absl::StatusOr<Tokenizer> FromBuffer(const char* data, size_t size, int vocab_size,
                                              const std::string& what);
  static absl::StatusOr<Tokenizer> FromFile(const std::string& path, int vocab_size);

  int vocab_size() const { return static_cast<int>(pieces_.size()); }
  const std::string& piece(int id) const { return pieces_[id]; }
  float score(int id) const { return scores_[id]; }

  // BOS followed by the merged tokens of `text`, in O(n log n). InvalidArgument when they would
  // be more than `max_tokens`: checked from the text's length before any work (MinTokens) and
  // again on the result.
  absl::StatusOr<std::vector<int>> Encode(std::string_view text,
                                          int max_tokens = INT32_MAX) const;
  // A lower bound on the tokens of `text`: BOS, then no token covers more bytes than the longest
  // piece of the vocabulary.
  int64_t MinTokens(std::string_view text) const;
  // The bytes to print for `token` following `prev` (see above); empty when nothing prints.
  std::string Decode(int prev, int token) const;

 private:
  int Lookup(std::string_view piece) const;  // -1 if absent

  std::vector<std::string> pieces_;
  std::vector<float> scores_;
  std::unordered_map<std::string, int> ids_;
  int max_token_length_ = 0;
  int max_piece_bytes_ = 1;  // the longest piece (at least 1)
};

}  // namespace klab::models

#endif  // KLAB_MODELS_TOKENIZER_H_
