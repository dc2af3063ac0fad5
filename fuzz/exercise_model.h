// What the loader fuzzers do with a model they managed to load: a forward pass over ids taken
// from the input (the last may be out of range, and must then be refused by status), one more
// decode step, and two ids that are surely out of range, which must be refused.
#ifndef KLAB_FUZZ_EXERCISE_MODEL_H_
#define KLAB_FUZZ_EXERCISE_MODEL_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "models/language_model.h"
#include "models/model_file.h"

namespace klab::fuzz {

// 64 MiB: keeps every accepted model small enough to run a forward pass per input.
inline constexpr models::LoadLimits kFuzzLimits{int64_t{64} << 20};

inline void ExerciseModel(models::LanguageModel& m, const uint8_t* data, size_t size) {
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
}

}  // namespace klab::fuzz

#endif  // KLAB_FUZZ_EXERCISE_MODEL_H_
