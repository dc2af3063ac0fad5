#include "models/test_models.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <vector>

namespace klab::models::testing {

std::optional<std::string> FindModelFile(const std::string& name, std::string* why) {
  // Tests list //models/data as data, so the files are in the runfiles tree (the test's working
  // directory); under `bazel run`, in the workspace.
  std::vector<std::filesystem::path> dirs = {"models/data"};
  if (const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY"); ws != nullptr) {
    dirs.push_back(std::filesystem::path(ws) / "models" / "data");
  }
  for (const auto& dir : dirs) {
    std::error_code ec;
    const auto path = dir / name;
    if (std::filesystem::is_regular_file(path, ec)) return path.string();
  }
  *why = "model file '" + name + "' not found in models/data (list //models/data as data)";
  return std::nullopt;
}

double MaxRelError(const float* logits, const std::vector<double>& ref) {
  double scale = 0, err = 0;
  for (size_t j = 0; j < ref.size(); ++j) {
    scale = std::max(scale, std::abs(ref[j]));
    err = std::max(err, std::abs(logits[j] - ref[j]));
  }
  return err / scale;
}

}  // namespace klab::models::testing
