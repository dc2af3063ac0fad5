// Fuzz target: the GPT-2 model loader (Gpt2Model::FromBuffer) and, for what it accepts,
// forward passes on ids in and out of range (exercise_model.h).
#include <cstddef>
#include <cstdint>

#include "fuzz/exercise_model.h"
#include "models/gpt2.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto model = klab::models::Gpt2Model::FromBuffer(reinterpret_cast<const char*>(data), size,
                                            "fuzz", klab::fuzz::kFuzzLimits);
  if (model.ok()) klab::fuzz::ExerciseModel(**model, data, size);
  return 0;
}
