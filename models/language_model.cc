#include "models/language_model.h"

#include "absl/strings/str_format.h"

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

}  // namespace klab::models
