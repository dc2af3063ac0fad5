// Fuzz target: the llama2.c tokenizer loader, the encoder and the decoder. Input layout:
//   uint16 vocab_size - 259 (mod 1024) | uint16 text length n | n bytes of text | tokenizer file
// For an accepted tokenizer, the text is encoded with a context limit taken from the input and
// every token is decoded.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "models/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  uint16_t v, n;
  std::memcpy(&v, data, 2);
  std::memcpy(&n, data + 2, 2);
  const int vocab = klab::models::Tokenizer::kFirstByteToken + 256 + v % 1024;
  const size_t text_len = std::min<size_t>(n, size - 4);
  const std::string_view text(reinterpret_cast<const char*>(data + 4), text_len);
  const char* file = reinterpret_cast<const char*>(data + 4 + text_len);
  auto tok = klab::models::Tokenizer::FromBuffer(file, size - 4 - text_len, vocab, "fuzz");
  if (!tok.ok()) return 0;
  for (int max_tokens : {1 + static_cast<int>(n % 64), 1 << 20}) {
    auto ids = tok->Encode(text, max_tokens);
    if (!ids.ok()) continue;
    if (ids->empty() || (*ids)[0] != klab::models::Tokenizer::kBos) std::abort();
    if (static_cast<int>(ids->size()) > max_tokens) std::abort();
    for (size_t i = 1; i < ids->size(); ++i) {
      if ((*ids)[i] < 0 || (*ids)[i] >= tok->vocab_size()) std::abort();
      (void)tok->Decode((*ids)[i - 1], (*ids)[i]);
    }
  }
  return 0;
}
