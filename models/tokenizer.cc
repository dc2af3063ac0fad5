#include "models/tokenizer.h"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <queue>

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
    if (!std::isfinite(score)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: token %d has the score %g; scores must be finite", what, i, score));
    }
    KLAB_ASSIGN_OR_RETURN(const std::string_view bytes, in.ReadBytes("token bytes", len));
    t.max_piece_bytes_ = std::max<int>(t.max_piece_bytes_, len);
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
  KLAB_ASSIGN_OR_RETURN(const InputFile file, InputFile::Open(path));
  // The largest file `vocab_size` entries can make, from the header's max_token_length: a file
  // larger than that is refused before it is read.
  KLAB_ASSIGN_OR_RETURN(const std::vector<char> header, file.ReadPrefix(4));
  ByteCursor in(header.data(), header.size(), "'" + path + "'");
  KLAB_ASSIGN_OR_RETURN(const int32_t max_len, in.ReadInt32("max_token_length"));
  const int64_t limit = 4 + int64_t{std::max(vocab_size, 0)} *
                                (8 + std::clamp<int64_t>(max_len, 0, kMaxTokenLength));
  KLAB_ASSIGN_OR_RETURN(std::vector<char> bytes, file.ReadAll(limit));
  return FromBuffer(bytes.data(), bytes.size(), vocab_size, "'" + path + "'");
}

int Tokenizer::Lookup(std::string_view piece) const {
  auto it = ids_.find(std::string(piece));
  return it == ids_.end() ? -1 : it->second;
}

int64_t Tokenizer::MinTokens(std::string_view text) const {
  if (text.empty()) return 1;
  // BOS, then the space and the text's bytes, no token covering more than the longest piece.
  const int64_t bytes = static_cast<int64_t>(text.size()) + 1;
  return 1 + (bytes + max_piece_bytes_ - 1) / max_piece_bytes_;
}

absl::StatusOr<std::vector<int>> Tokenizer::Encode(std::string_view text, int max_tokens) const {
  if (MinTokens(text) > max_tokens) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the prompt (%d bytes) makes at least %d tokens, more than the %d the model can run",
        text.size(), MinTokens(text), max_tokens));
  }
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
  // Merge the best-scoring adjacent pair (the leftmost of equal scores) until none merges — the
  // llama2.c rule — in O(n log n): the tokens form a linked list, every adjacent pair that is a
  // token waits in a heap ordered by (score, leftness), and a popped pair is used only if both
  // of its tokens are still there, unchanged and adjacent (a version counts each token's
  // changes). After a merge only the two new neighbour pairs are looked up.
  const size_t n = tokens.size();
  constexpr size_t kNone = SIZE_MAX;
  std::vector<size_t> prev(n), next(n);
  std::vector<uint32_t> version(n, 0);
  std::vector<bool> alive(n, true);
  for (size_t i = 0; i < n; ++i) {
    prev[i] = i == 0 ? kNone : i - 1;
    next[i] = i + 1 == n ? kNone : i + 1;
  }
  struct Pair {
    float score;
    size_t left, right;
    uint32_t left_version, right_version;
    int id;
  };
  auto worse = [](const Pair& a, const Pair& b) {
    return a.score != b.score ? a.score < b.score : a.left > b.left;
  };
  std::priority_queue<Pair, std::vector<Pair>, decltype(worse)> heap(worse);
  std::string merged;
  auto consider = [&](size_t left, size_t right) {
    merged = pieces_[tokens[left]];
    merged += pieces_[tokens[right]];
    if (const int id = Lookup(merged); id >= 0) {
      heap.push({scores_[id], left, right, version[left], version[right], id});
    }
  };
  for (size_t i = 0; i + 1 < n; ++i) consider(i, i + 1);
  while (!heap.empty()) {
    const Pair p = heap.top();
    heap.pop();
    if (!alive[p.left] || !alive[p.right] || next[p.left] != p.right ||
        version[p.left] != p.left_version || version[p.right] != p.right_version) {
      continue;  // stale: one of its tokens merged since
    }
    tokens[p.left] = p.id;
    ++version[p.left];
    alive[p.right] = false;
    next[p.left] = next[p.right];
    if (next[p.right] != kNone) prev[next[p.right]] = p.left;
    if (prev[p.left] != kNone) consider(prev[p.left], p.left);
    if (next[p.left] != kNone) consider(p.left, next[p.left]);
  }
  std::vector<int> out;
  for (size_t i = 0; i != kNone; i = next[i]) out.push_back(tokens[i]);
  if (static_cast<int64_t>(out.size()) > max_tokens) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the prompt makes %d tokens, more than the %d the model can run", out.size(),
        max_tokens));
  }
  return out;
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
