// Training the GPT-2 architecture on the lab's kernels: a forward pass that keeps what the
// backward pass needs, the backward pass through every layer, and AdamW.
//
//   x0 = wte[token] + wpe[pos]
//   per layer:  x1 = x0 + proj(attention(ln1(x0)))      x2 = x1 + fcproj(gelu(fc(ln2(x1))))
//   logits = ln_f(x_L) head^T (untied head, no bias);   loss = mean over B x T of -log p[target]
//
// Everything is allocated once at creation for a (batch, seq_len): the parameters in the GPT-2
// file's order (so FileBytes() is a model file the inference model and the PyTorch peer read),
// their gradients in the same layout, AdamW's two moments, and every activation. A step
// allocates nothing. GEMMs go through kernels::Sgemm and the linear-backward GEMMs, whose
// results are bitwise identical for any thread count; everything else runs on the calling
// thread in a fixed order, so a step gives the same bits on 1 or N threads.
#ifndef KLAB_MODELS_GPT2_TRAIN_H_
#define KLAB_MODELS_GPT2_TRAIN_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "models/arena.h"
#include "models/gpt2.h"

namespace klab::models {

struct AdamW {
  float lr = 1e-3f;
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  float weight_decay = 0.0f;  // applied to the weight matrices only (not biases, norms)
};

// Where a step's time goes (nanoseconds, summed over the steps it was set for): by phase, and
// across the phases by kind of kernel (what no kind claims — the loss, the embeddings, residual
// adds and copies — is the phases' total minus the kinds').
struct TrainProfile {
  enum Part { kForward, kBackward, kOptimizer, kCount };
  static constexpr const char* kNames[kCount] = {"forward", "backward", "optimizer"};
  enum Kind { kGemm, kAttention, kNorm, kActivation, kKinds };
  static constexpr const char* kKindNames[kKinds] = {"gemm (linear layers, head)",
                                                     "attention", "layernorm", "gelu"};
  double ns[kCount] = {};
  double kind_ns[kKinds] = {};
};

class Gpt2Trainer {
 public:
  // A trainer for batches of `batch` sequences of `seq_len` tokens (1 <= seq_len <= block),
  // starting from `weights` (copied). InvalidArgument for a bad shape; ResourceExhausted when
  // the activations would not fit.
  static absl::StatusOr<std::unique_ptr<Gpt2Trainer>> Create(const Gpt2Model& weights, int batch,
                                                             int seq_len);

  // Forward pass over batch x seq_len `inputs`, returning the mean cross-entropy against
  // `targets` (same shape) and keeping the activations for Backward(). InvalidArgument (naming
  // the first) for an id outside the vocabulary.
  absl::StatusOr<float> Forward(const int* inputs, const int* targets);
  // Gradients of the last Forward's loss with respect to every parameter (overwritten).
  void Backward();
  // One AdamW update from the gradients; `step` counts from 1 (bias correction).
  void Update(const AdamW& opt, int step);
  // Forward, Backward and Update; returns the loss before the update.
  absl::StatusOr<float> Step(const int* inputs, const int* targets, const AdamW& opt, int step);

  // The parameters and their gradients, in the GPT-2 file's order.
  float* params() { return params_; }
  const float* params() const { return params_; }
  const float* grads() const { return grads_; }
  int64_t num_params() const { return num_params_; }
  // The logits of the last Forward, (batch x seq_len) x vocab.
  const float* logits() const { return logits_; }
  // A GPT-2 model file of the current parameters (header + weights).
  std::string FileBytes() const;
  // The bytes allocated at creation (parameters, gradients, moments, activations).
  int64_t allocated_bytes() const;
  // FLOPs of one training step: 6 per parameter per token (forward 2, backward 4, the
  // embeddings' lookup counted as if it were a matmul) plus attention's scores and weighted
  // sums (forward 4 B H T^2 hs / 2 with the causal half, backward twice that).
  double flops_per_step() const;

  const Gpt2Config& config() const { return config_; }
  int batch() const { return B_; }
  int seq_len() const { return T_; }
  void set_profile(TrainProfile* profile) { profile_ = profile; }

 private:
  Gpt2Trainer(const Gpt2Config& config, int batch, int seq_len);
  // Pointers to every parameter tensor of a block of memory laid out in file order.
  struct Tensors {
    float *wte, *wpe;
    struct Layer {
      float *ln1_w, *ln1_b, *attn_w, *attn_b, *attnproj_w, *attnproj_b;
      float *ln2_w, *ln2_b, *fc_w, *fc_b, *fcproj_w, *fcproj_b;
    };
    std::vector<Layer> layers;
    float *lnf_w, *lnf_b, *head_w;
  };
  Tensors TensorsOf(float* base) const;
  // Activations of one layer, kept for its backward pass.
  struct LayerActs {
    float *x_in;       // (N, d) the layer's input (residual stream)
    float *ln1, *ln1_mean, *ln1_rstd;
    float *qkv;        // (N, 3d)
    float *att;        // (B, H, T, T) attention probabilities
    float *atty;       // (N, d) attention output before the projection
    float *x_mid;      // (N, d) after the attention residual
    float *ln2, *ln2_mean, *ln2_rstd;
    float *fc;         // (N, 4d) before GELU
    float *fc_gelu;    // (N, 4d)
  };
  void AttentionForward(const LayerActs& a);
  void AttentionBackward(const LayerActs& a, const float* datty, float* dqkv);
  void LayerForward(const Tensors::Layer& w, const LayerActs& a, float* x_out);
  void LayerBackward(const Tensors::Layer& w, const Tensors::Layer& g, const LayerActs& a,
                     float* dx);

  Gpt2Config config_;
  int B_, T_;
  int64_t N_;  // B x T rows
  int64_t num_params_;
  FloatArena arena_;
  float *params_, *grads_, *m_, *v_;
  Tensors p_, g_;
  std::vector<LayerActs> acts_;
  float *x_final_, *lnf_, *lnf_mean_, *lnf_rstd_, *logits_;
  float *dlogits_;  // the probabilities after Forward, their gradient after Backward
  float *dx_, *dx2_, *dln_, *dqkv_, *datty_, *dfc_, *dfc_gelu_, *datt_, *dlnf_;
  // Parameter ranges of the weight matrices, which weight decay applies to: (offset, count).
  std::vector<std::pair<int64_t, int64_t>> decayed_;
  std::vector<int> inputs_, targets_;
  TrainProfile* profile_ = nullptr;
};

}  // namespace klab::models

#endif  // KLAB_MODELS_GPT2_TRAIN_H_
