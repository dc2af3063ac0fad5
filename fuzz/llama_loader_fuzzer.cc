// Fuzz target: the llama2.c model loader (LlamaModel::FromBuffer) and, for what it accepts, a
// forward pass over ids taken from the input — in range and out of range — which must be refused
// by status, never read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "models/llama.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // 64 MiB: keeps every accepted model small enough to run a forward pass per input.
  const klab::models::LoadLimits limits{int64_t{64} << 20};
  auto model = klab::models::LlamaModel::FromBuffer(reinterpret_cast<const char*>(data), size,
                                                    "fuzz", limits);
  if (!model.ok()) return 0;
  klab::models::LanguageModel& m = **model;
  const int vocab = m.vocab_size();
  const int tokens[3] = {static_cast<int>(data[size - 1]) % vocab, vocab - 1,
                         static_cast<int>(data[size / 2])};  // the last may be out of range
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
