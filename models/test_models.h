// Where tests find model files: models/data (stories260K and tok512, in the repository). A test
// whose file is absent skips with a message saying so.
#ifndef KLAB_MODELS_TEST_MODELS_H_
#define KLAB_MODELS_TEST_MODELS_H_

#include <optional>
#include <string>
#include <vector>

namespace klab::models::testing {

// The path of `name` in the models folder, or nullopt (with the reason in *why) if absent.
std::optional<std::string> FindModelFile(const std::string& name, std::string* why);

// docs/design.md: logits within 1e-4 relative of the fp64 forward. A logit near zero has no relative
// precision of its own (it is a sum of terms of either sign), so "relative" is to the largest
// logit of that position: |y - ref| <= 1e-4 max_j |ref_j|.
inline constexpr double kLogitRelTol = 1e-4;

// max_j |logits_j - ref_j| / max_j |ref_j|.
double MaxRelError(const float* logits, const std::vector<double>& ref);

}  // namespace klab::models::testing

// Skips the current test when the model file is absent.
#define KLAB_MODEL_FILE_OR_SKIP(var, name)                                       \
  std::string var;                                                               \
  {                                                                              \
    std::string why_;                                                            \
    std::optional<std::string> found_ = ::klab::models::testing::FindModelFile(name, &why_); \
    if (!found_) GTEST_SKIP() << why_;                                           \
    var = *found_;                                                               \
  }

#endif  // KLAB_MODELS_TEST_MODELS_H_
