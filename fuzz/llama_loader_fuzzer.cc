// Fuzz target: the llama2.c model loader (LlamaModel::FromBuffer) and, for what it accepts,
// forward passes on ids in and out of range (exercise_model.h).
#include <cstddef>
#include <cstdint>

#include "fuzz/exercise_model.h"
#include "models/llama.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto model = klab::models::LlamaModel::FromBuffer(reinterpret_cast<const char*>(data), size,
                                            "fuzz", klab::fuzz::kFuzzLimits);
  if (model.ok()) klab::fuzz::ExerciseModel(**model, data, size);
  return 0;
}
