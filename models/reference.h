// Naive fp64 forward passes of both architectures, straight from the formulas of
// docs/model-files.md with no cache, no kernels and no cleverness: every position of a
// sequence recomputed from scratch, every sum in double. Tests compare the kernel models'
// logits with these (docs/design.md: within 1e-4 relative).
#ifndef KLAB_MODELS_REFERENCE_H_
#define KLAB_MODELS_REFERENCE_H_

#include <vector>

#include "models/gpt2.h"
#include "models/llama.h"

namespace klab::models::reference {

// Logits of every position of `tokens` (tokens.size() rows of vocab values).
std::vector<std::vector<double>> Gpt2Logits(const Gpt2Model& model, const std::vector<int>& tokens);
std::vector<std::vector<double>> LlamaLogits(const LlamaModel& model,
                                             const std::vector<int>& tokens);

}  // namespace klab::models::reference

#endif  // KLAB_MODELS_REFERENCE_H_
