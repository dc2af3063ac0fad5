// Llama (llama2.c "version 0" files, docs/model-files.md): RMSNorm, rotary position
// embedding, grouped-query attention, SwiGLU MLP, a classifier shared with the token embedding
// or stored separately — built from the lab's kernels.
#ifndef KLAB_MODELS_LLAMA_H_
#define KLAB_MODELS_LLAMA_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "models/arena.h"
#include "models/language_model.h"
#include "models/layers.h"
#include "models/model_file.h"

namespace klab::models {

struct LlamaConfig {
  int dim = 0;         // d
  int hidden_dim = 0;  // h, the SwiGLU width
  int n_layers = 0;    // L
  int n_heads = 0;     // query heads; head size d / n_heads (even, for RoPE's pairs)
  int n_kv_heads = 0;  // divides n_heads
  int vocab_size = 0;  // V
  int seq_len = 0;     // T, the context
  bool shared_classifier = true;

  int head_size() const { return dim / n_heads; }
  int kv_dim() const { return n_kv_heads * head_size(); }
  int64_t Params() const;  // including a separate classifier, excluding the RoPE tables
  int64_t FileBytes() const;    // the size of its llama2.c file
  // What a model of this config holds: weights, packed weights, activations and KV cache.
  int64_t MemoryBytes() const;
  absl::Status Validate() const;
};

// Pointers into the weight arena; per-layer tensors are stacked (L, ...) as in the file.
struct LlamaWeights {
  const float* token_embedding;  // (V, d)
  const float* rms_att;          // (L, d)
  const float* wq;               // (L, d, d)
  const float* wk;               // (L, kv, d)
  const float* wv;               // (L, kv, d)
  const float* wo;               // (L, d, d)
  const float* rms_ffn;          // (L, d)
  const float* w1;               // (L, h, d)
  const float* w2;               // (L, d, h)
  const float* w3;               // (L, h, d)
  const float* rms_final;        // (d)
  const float* wcls;             // (V, d): token_embedding when shared
};

class LlamaModel final : public LanguageModel {
 public:
  static constexpr float kRmsNormEps = 1e-5f;
  static constexpr double kRopeTheta = 10000.0;

  // InvalidArgument (naming the file and field) for an impossible header, a size the header
  // does not predict or a non-finite weight; ResourceExhausted when the model would need more
  // memory than `limits` allow or the allocation fails. FromFile checks the header and the
  // memory before it reads the weights, and never blocks on a FIFO.
  static absl::StatusOr<std::unique_ptr<LlamaModel>> FromBuffer(const char* data, size_t size,
                                                                const std::string& what,
                                                                const LoadLimits& limits = {});
  static absl::StatusOr<std::unique_ptr<LlamaModel>> FromFile(const std::string& path,
                                                              const LoadLimits& limits = {});

  const LlamaConfig& config() const { return config_; }
  const LlamaWeights& weights() const { return w_; }

  std::string_view architecture() const override { return "llama"; }
  int vocab_size() const override { return config_.vocab_size; }
  int context() const override { return config_.seq_len; }
  int64_t params() const override { return config_.Params(); }
  int64_t weight_bytes_per_token() const override;
  std::vector<PackedLinear> linear_layers() const override;
  int64_t flops_per_token(int pos) const override;
  int64_t kv_cache_bytes() const override;


 private:
  float* ForwardChecked(const int* tokens, int n, int pos) override;
  explicit LlamaModel(const LlamaConfig& config);

  LlamaConfig config_;
  FloatArena weight_arena_;
  FloatArena state_arena_;
  LlamaWeights w_{};
  FloatArena packed_arena_;
  struct PackedLayer {
    PackedLinear wq, wk, wv, wo, w1, w2, w3;
  };
  std::vector<PackedLayer> packed_;
  PackedLinear wcls_;
  float* x_ = nullptr;       // (T, d) residual stream
  float* xn_ = nullptr;      // (T, d)
  float* q_ = nullptr;       // (T, d)
  float* att_ = nullptr;     // (T, d)
  float* h1_ = nullptr;      // (T, h)
  float* h3_ = nullptr;      // (T, h)
  float* scores_ = nullptr;  // (n_heads / n_kv_heads, T rounded up to 16)
  float* logits_ = nullptr;  // (V)
  float* rope_cos_ = nullptr;  // (T, head_size / 2)
  float* rope_sin_ = nullptr;  // (T, head_size / 2)
  float* k_ = nullptr;       // (T, kv) this run's keys, before they go to the cache
  float* v_ = nullptr;       // (T, kv)
  std::vector<KvCacheLayer> kv_cache_;  // per layer: keys transposed, values as rows (layers.h)
};

}  // namespace klab::models

#endif  // KLAB_MODELS_LLAMA_H_
