// Any model file the lab reads, its architecture told by its first bytes: a GPT-2 file starts
// with the GPT-2 magic; anything else is read as a llama2.c version-0 file (whose loader refuses
// what it is not). Used by //models:generate and //perf:model_bench.
#ifndef KLAB_MODELS_LOAD_MODEL_H_
#define KLAB_MODELS_LOAD_MODEL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "models/language_model.h"
#include "models/model_file.h"

namespace klab::models {

absl::StatusOr<std::unique_ptr<LanguageModel>> LoadModelFile(const std::string& path,
                                                             const LoadLimits& limits = {});

}  // namespace klab::models

#endif  // KLAB_MODELS_LOAD_MODEL_H_
