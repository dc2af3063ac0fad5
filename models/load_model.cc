#include "models/load_model.h"

#include <cstring>

#include "models/gpt2.h"
#include "models/llama.h"

namespace klab::models {

absl::StatusOr<std::unique_ptr<LanguageModel>> LoadModelFile(const std::string& path,
                                                             const LoadLimits& limits) {
  absl::StatusOr<InputFile> file = InputFile::Open(path);  // never blocks (a FIFO is refused)
  if (!file.ok()) return file.status();
  absl::StatusOr<std::vector<char>> head = file->ReadPrefix(4);
  if (!head.ok()) return head.status();
  int32_t magic = 0;
  if (head->size() == 4) std::memcpy(&magic, head->data(), 4);
  if (magic == Gpt2Model::kMagic) {
    auto m = Gpt2Model::FromFile(path, limits);
    if (!m.ok()) return m.status();
    return std::unique_ptr<LanguageModel>(std::move(*m));
  }
  auto m = LlamaModel::FromFile(path, limits);
  if (!m.ok()) return m.status();
  return std::unique_ptr<LanguageModel>(std::move(*m));
}

}  // namespace klab::models
