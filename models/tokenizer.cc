#include "models/tokenizer.h"

#include <cctype>
#include <cstdio>

#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "models/model_file.h"

namespace klab::models {
namespace {

// A token's bytes can be no longer than this (llama2.c's tokenizers use well under 100).
constexpr int kMaxTokenLength = 1 << 16;

}  // namespace

absl::StatusOr<Tokenizer> Tokenizer::FromBuffer(const char* data, size_t size, int vocab_size,
                                                const std::string& what) {
  if (vocab_size < kFirstByteToken + 256) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: a vocabulary of %d cannot hold the special and byte tokens (%d)", what, vocab_size,
        kFirstByteToken + 256));
  }
  ByteCursor in(data, size, what);
  Tokenizer t;
  KLAB_ASSIGN_OR_RETURN(t.max_token_length_, in.ReadInt32("max_token_length"));
  if (t.max_token_length_ < 1 || t.max_token_length_ > kMaxTokenLength) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: max_token_length = %d is outside [1, %d]", what, t.max_token_length_,
        kMaxTokenLength));
  }
  t.pieces_.reserve(vocab_size);
  t.scores_.reserve(vocab_size);
  for (int i = 0; i < vocab_size; ++i) {
    if (in.remaining() == 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s holds %d tokens, but the model's vocabulary has %d", what, i, vocab_size));
    }
    KLAB_ASSIGN_OR_RETURN(const float score, in.ReadFloat("token score"));
    KLAB_ASSIGN_OR_RETURN(const int32_t len, in.ReadInt32("token length"));
    if (len < 0 || len > t.max_token_length_) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: token %d has length %d, outside [0, max_token_length = %d]", what, i, len,
          t.max_token_length_));
    }
    KLAB_ASSIGN_OR_RETURN(const std::string_view bytes, in.ReadBytes("token bytes", len));
    t.pieces_.emplace_back(bytes);
    t.scores_.push_back(score);
    t.ids_.emplace(t.pieces_.back(), i);  // the first of duplicate pieces wins
  }
  if (in.remaining() != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s has %d bytes after the model's %d tokens: it belongs to a larger vocabulary", what,
        in.remaining(), vocab_size));
  }
  return t;
}

absl::StatusOr<Tokenizer> Tokenizer::FromFile(const std::string& path, int vocab_size) {
  KLAB_ASSIGN_OR_RETURN(std::vector<char> bytes, ReadFileBytes(path, int64_t{1} << 30));
  return FromBuffer(bytes.data(), bytes.size(), vocab_size, "'" + path + "'");
}

int Tokenizer::Lookup(std::string_view piece) const {
  auto it = ids_.find(std::string(piece));
  return it == ids_.end() ? -1 : it->second;
}

std::vector<int> Tokenizer::Encode(std::string_view text) const {
  std::vector<int> tokens = {kBos};
  if (text.empty()) return tokens;
  if (int space = Lookup(" "); space >= 0) tokens.push_back(space);
  // One token per UTF-8 character (a lead byte and its continuation bytes), or its byte tokens.
  for (size_t i = 0; i < text.size();) {
    size_t j = i + 1;
    while (j < text.size() && j - i < 4 && (static_cast<unsigned char>(text[j]) & 0xC0) == 0x80) {
      ++j;
    }
    const std::string_view ch = text.substr(i, j - i);
    if (int id = Lookup(ch); id >= 0) {
      tokens.push_back(id);
    } else {
      for (unsigned char b : ch) tokens.push_back(kFirstByteToken + b);
    }
    i = j;
  }
  // Merge the best-scoring adjacent pair until none merges.
  std::string merged;
  while (true) {
    float best_score = -1e10f;
    int best_id = -1;
    size_t best_at = 0;
    for (size_t i = 0; i + 1 < tokens.size(); ++i) {
      merged = pieces_[tokens[i]];
      merged += pieces_[tokens[i + 1]];
      const int id = Lookup(merged);
      if (id >= 0 && (best_id < 0 || scores_[id] > best_score)) {
        best_score = scores_[id];
        best_id = id;
        best_at = i;
      }
    }
    if (best_id < 0) break;
    tokens[best_at] = best_id;
    tokens.erase(tokens.begin() + best_at + 1);
  }
  return tokens;
}

std::string Tokenizer::Decode(int prev, int token) const {
  std::string_view piece = pieces_[token];
  if (prev == kBos && !piece.empty() && piece[0] == ' ') piece.remove_prefix(1);
  std::string out(piece);
  unsigned int byte = 0;
  char tail = 0;
  if (piece.size() == 6 && std::sscanf(out.c_str(), "<0x%02X>%c", &byte, &tail) == 1) {
    out.assign(1, static_cast<char>(byte));
  }
  if (out.size() == 1) {
    const unsigned char c = out[0];
    if (!(std::isprint(c) || std::isspace(c))) return "";
  }
  return out;
}

}  // namespace klab::models
