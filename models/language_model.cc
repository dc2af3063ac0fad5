#include "models/language_model.h"

#include "absl/strings/str_format.h"
#include "kernels/cpu/cpu.h"
#include "kernels/linear/linear.h"
#include "kernels/tuning/tuning.h"

namespace klab::models {

absl::StatusOr<float*> LanguageModel::Forward(const int* tokens, int n, int pos) {
  if (n < 1 || pos < 0 || pos > context() - n) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "Forward: %d tokens at position %d do not fit the context of %d", n, pos, context()));
  }
  const int vocab = vocab_size();
  for (int i = 0; i < n; ++i) {
    if (tokens[i] < 0 || tokens[i] >= vocab) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "Forward: token %d (at %d) is outside the vocabulary [0, %d)", tokens[i], pos + i,
          vocab));
    }
  }
  return ForwardChecked(tokens, n, pos);
}

int64_t LanguageModel::packed_weight_bytes() const {
  int64_t bytes = 0;
  for (const PackedLinear& l : linear_layers()) {
    bytes += 4 * static_cast<int64_t>(kernels::PackedLinearSize(l.out, l.in));
  }
  return bytes;
}

int LanguageModel::UsefulThreads(int requested, std::string* why) const {
  if (requested <= 1) return 1;
  const int64_t bytes = packed_weight_bytes();
  const kernels::TuningProfile* tuning = kernels::ActiveTuning();
  if (tuning != nullptr && tuning->decode_threads_above_weight_bytes >= 0) {
    if (bytes > tuning->decode_threads_above_weight_bytes) return requested;
    if (why != nullptr) {
      *why = absl::StrFormat("1 used: on this machine a second thread paid off only for models "
                             "with more than %d KiB of packed weights (%s), and it has %d KiB",
                             tuning->decode_threads_above_weight_bytes >> 10, tuning->source,
                             bytes >> 10);
    }
    return 1;
  }
  const int64_t l2 = kernels::GetCpuFeatures().l2_bytes;
  if (l2 > 0 && bytes <= l2) {
    if (why != nullptr) {
      *why = absl::StrFormat("1 used: its %d KiB of packed weights fit one core's %d KiB L2",
                             bytes >> 10, l2 >> 10);
    }
    return 1;
  }
  return requested;
}

}  // namespace klab::models
