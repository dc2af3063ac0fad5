// GPT-2: pre-LayerNorm transformer blocks with GELU (tanh) MLPs, causal multi-head attention,
// learned position embeddings and an untied LM head (docs/model-files.md), built from the
// lab's kernels. A model comes from a file (`gpt2_*_xorshift1.bin`) or is created in memory from
// a config and a seed with the same xorshift recipe, so a created model equals the file bit for
// bit.
#ifndef KLAB_MODELS_GPT2_H_
#define KLAB_MODELS_GPT2_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "models/arena.h"
#include "models/language_model.h"
#include "models/layers.h"
#include "models/model_file.h"

namespace klab::models {

struct Gpt2Config {
  int vocab = 0;   // V
  int block = 0;   // T, the context
  int d = 0;       // model width
  int layers = 0;  // L
  int heads = 0;   // H; head size d / H

  // The two configurations of the profiling report this lab started from, named by their size
  // (the report called them "Small" and "Medium"; GPT-2 Small elsewhere is 124 M parameters).
  static Gpt2Config Gpt2_0_5M() { return {256, 64, 128, 2, 4}; }   // 470,528 parameters
  static Gpt2Config Gpt2_3_5M() { return {512, 128, 256, 4, 8}; }  // 3,454,464 parameters
  // "gpt2-0.5M" / "gpt2-3.5M" (and the deprecated "gpt2-small" / "gpt2-medium", which set
  // *deprecated when given) -> the config; nullopt for another name.
  static std::optional<Gpt2Config> Named(std::string_view name, bool* deprecated = nullptr);

  int64_t Params() const;
  int64_t FileBytes() const;  // the size of its model file
  // What a model of this config holds: weights, packed weights, activations and KV cache.
  int64_t MemoryBytes() const;
  // Every value positive and bounded, heads divides d: InvalidArgument naming the field.
  absl::Status Validate() const;
};

// The tensors, in file order; pointers into the model's weight arena. Linear weights (out, in).
struct Gpt2Weights {
  struct Layer {
    const float* ln1_w;       // (d)
    const float* ln1_b;       // (d)
    const float* attn_w;      // (3d, d): rows [0, d) q, [d, 2d) k, [2d, 3d) v
    const float* attn_b;      // (3d)
    const float* attnproj_w;  // (d, d)
    const float* attnproj_b;  // (d)
    const float* ln2_w;       // (d)
    const float* ln2_b;       // (d)
    const float* fc_w;        // (4d, d)
    const float* fc_b;        // (4d)
    const float* fcproj_w;    // (d, 4d)
    const float* fcproj_b;    // (d)
  };
  const float* wte;  // (V, d)
  const float* wpe;  // (T, d)
  std::vector<Layer> layers;
  const float* lnf_w;   // (d)
  const float* lnf_b;   // (d)
  const float* head_w;  // (V, d)
};

class Gpt2Model final : public LanguageModel {
 public:
  // The file format's magic, "GPT2" little-endian.
  static constexpr int32_t kMagic = 0x32545047;

  // From a model file's bytes / path: InvalidArgument (with the field) for a wrong magic or
  // version, impossible header values, a size that does not match the header, or a non-finite
  // weight; ResourceExhausted when the model would need more memory than `limits` allow or the
  // allocation fails. FromFile checks the header and the memory before it reads the weights,
  // and never blocks on a FIFO.
  static absl::StatusOr<std::unique_ptr<Gpt2Model>> FromBuffer(const char* data, size_t size,
                                                               const std::string& what,
                                                               const LoadLimits& limits = {});
  static absl::StatusOr<std::unique_ptr<Gpt2Model>> FromFile(const std::string& path,
                                                             const LoadLimits& limits = {});
  // The README's xorshift recipe: state 0x9E3779B9 ^ seed, weights in file order.
  static absl::StatusOr<std::unique_ptr<Gpt2Model>> Create(const Gpt2Config& config,
                                                           uint32_t seed,
                                                           const LoadLimits& limits = {});

  // Writes the model as a GPT-2 file (the format FromFile reads; a model created from the seed
  // gives the published file byte for byte). For peers that read files.
  absl::Status Save(const std::string& path) const;

  const Gpt2Config& config() const { return config_; }
  const Gpt2Weights& weights() const { return w_; }
  const FloatArena& weight_arena() const { return weight_arena_; }

  std::string_view architecture() const override { return "gpt2"; }
  int vocab_size() const override { return config_.vocab; }
  int context() const override { return config_.block; }
  int64_t params() const override { return config_.Params(); }
  int64_t weight_bytes_per_token() const override;
  std::vector<PackedLinear> linear_layers() const override;
  int64_t flops_per_token(int pos) const override;
  int64_t kv_cache_bytes() const override;


 private:
  float* ForwardChecked(const int* tokens, int n, int pos) override;
  explicit Gpt2Model(const Gpt2Config& config);
  // Takes every weight tensor from the arena in file order, calling fill(ptr, count, kind, name).
  template <class Fill>
  void LayOutWeights(Fill&& fill);
  // Packs every linear layer's weights for kernels/linear (after the weights are filled).
  void PackLinearLayers();

  Gpt2Config config_;
  FloatArena weight_arena_;
  FloatArena state_arena_;
  Gpt2Weights w_{};
  FloatArena packed_arena_;
  struct PackedLayer {
    PackedLinear attn, attnproj, fc, fcproj;
  };
  std::vector<PackedLayer> packed_;
  PackedLinear head_;
  // Activations for up to T rows, and the KV cache: per layer T x d keys and T x d values.
  float* x_ = nullptr;       // (T, d) residual stream
  float* xn_ = nullptr;      // (T, d) normalised
  float* qkv_ = nullptr;     // (T, 3d)
  float* att_ = nullptr;     // (T, d) attention output
  float* hidden_ = nullptr;  // (T, 4d) MLP
  float* scores_ = nullptr;  // (T rounded up to 16): scores of one query row
  float* logits_ = nullptr;  // (V)
  std::vector<KvCacheLayer> kv_cache_;  // per layer: keys transposed, values as rows (layers.h)
};

}  // namespace klab::models

#endif  // KLAB_MODELS_GPT2_H_
