// Fuzz target: the GPT-2 model loader (Gpt2Model::FromBuffer) and, for what it accepts, a
// forward pass over ids taken from the input; out-of-range ids must be refused by status.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "models/gpt2.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const klab::models::LoadLimits limits{int64_t{64} << 20};  // see llama_loader_fuzzer.cc
  auto model = klab::models::Gpt2Model::FromBuffer(reinterpret_cast<const char*>(data), size,
                                                   "fuzz", limits);
  if (!model.ok()) return 0;
  klab::models::LanguageModel& m = **model;
  const int vocab = m.vocab_size();
  const int tokens[3] = {static_cast<int>(data[size - 1]) % vocab, vocab - 1,
                         static_cast<int>(data[size / 2])};
  const int n = std::min(3, m.context());
  auto logits = m.Forward(tokens, n, 0);
  if (logits.ok() && m.context() > n) {
    const int next = 0;
    (void)m.Forward(&next, 1, n);
  }
  const int bad[2] = {vocab, -1};
  if (m.Forward(bad, 1, 0).ok() || m.Forward(bad + 1, 1, 0).ok()) std::abort();
  return 0;
}
