#include "models/gpt2_train.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "absl/strings/str_format.h"
#include "kernels/activation/activation.h"
#include "kernels/elementwise/elementwise.h"
#include "kernels/gemm/gemm.h"
#include "kernels/gemm/gemm_backward.h"
#include "kernels/gemm/gemm_config.h"
#include "kernels/norm/norm.h"
#include "kernels/softmax/softmax.h"

namespace klab::models {
namespace {

constexpr float kLnEps = 1e-5f;  // GPT-2's LayerNorm epsilon, as the inference model uses
constexpr int kHeaderInts = 8;   // the GPT-2 file's header (docs/model-files.md)
// Attention's (sequence, head) pairs are shared over at most this many pool threads (each with
// its own 2 T x T scratch for the backward pass).
constexpr int kMaxAttentionParts = 16;

using kernels::Trans;

// y (rows x out) = x (rows x in) W^T + b, W stored (out, in); with `residual`, y = residual + ...
// (residual may be y itself). The GEMM's result is the same bits for any thread count.
void Linear(int64_t rows, int64_t in, int64_t out, const float* x, const float* w, const float* b,
            const float* residual, float* y) {
  if (residual != nullptr && residual != y) std::memcpy(y, residual, rows * out * sizeof(float));
  (void)kernels::Sgemm(Trans::kNo, Trans::kYes, rows, out, in, 1.0f, x, in, w, in,
                       residual != nullptr ? 1.0f : 0.0f, y, out);
  if (b != nullptr) kernels::BroadcastAdd(rows, out, y, out, b, y, out);
}

// Gradients of Linear: dW += dy^T x, db += sum dy, dx = dy W (dx may be null).
void LinearBackward(int64_t rows, int64_t in, int64_t out, const float* dy, const float* x,
                    const float* w, float* dw, float* db, float* dx) {
  const kernels::LinearDims dims{rows, in, out};
  (void)kernels::LinearBackwardWeight(dims, dy, x, dw);
  if (db != nullptr) (void)kernels::LinearBackwardBias(dims, dy, db);
  if (dx != nullptr) (void)kernels::LinearBackwardInput(dims, dy, w, dx);
}

// A GEMM through the variant Sgemm picks for one thread: attention runs many small ones on the
// pool's threads itself (the same bits as Sgemm's on any pool).
void SerialGemm(Trans ta, Trans tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc) {
  const kernels::SgemmArgs args{ta, tb, m, n, k, alpha, a, lda, b, ldb, 0.0f, c, ldc};
  kernels::ChooseSerialGemmVariant(args).fn(args);
}

// Runs work(begin, end) over [0, count) split in contiguous parts over the GEMM pool (at most
// `max_parts`); each index is done by one participant with the same code whatever the split.
template <class Work>
void OverPool(int64_t count, int max_parts, const Work& work) {
  const int parts = static_cast<int>(
      std::min<int64_t>({count, kernels::GemmThreadPool().threads(), max_parts}));
  if (parts <= 1) {
    work(0, count, 0);
    return;
  }
  kernels::GemmThreadPool().Run([&](int id) {
    if (id < parts) work(count * id / parts, count * (id + 1) / parts, id);
  });
}

// Time of a part of the step (a phase, or a kind of kernel), into `slot` of the profile when
// one is set; no clock is read otherwise.
class PartTimer {
 public:
  PartTimer(TrainProfile* profile, double* slot)
      : slot_(profile != nullptr ? slot : nullptr),
        start_(slot_ != nullptr ? std::chrono::steady_clock::now()
                                : std::chrono::steady_clock::time_point()) {}
  PartTimer(TrainProfile* profile, TrainProfile::Part part)
      : PartTimer(profile, profile != nullptr ? &profile->ns[part] : nullptr) {}
  PartTimer(TrainProfile* profile, TrainProfile::Kind kind)
      : PartTimer(profile, profile != nullptr ? &profile->kind_ns[kind] : nullptr) {}
  ~PartTimer() {
    if (slot_ == nullptr) return;
    *slot_ +=
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  double* slot_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

Gpt2Trainer::Tensors Gpt2Trainer::TensorsOf(float* p) const {
  const int64_t V = config_.vocab, T = config_.block, D = config_.d;
  Tensors t;
  auto take = [&p](int64_t n) {
    float* out = p;
    p += n;
    return out;
  };
  t.wte = take(V * D);
  t.wpe = take(T * D);
  for (int l = 0; l < config_.layers; ++l) {
    Tensors::Layer L;
    L.ln1_w = take(D), L.ln1_b = take(D), L.attn_w = take(3 * D * D), L.attn_b = take(3 * D);
    L.attnproj_w = take(D * D), L.attnproj_b = take(D), L.ln2_w = take(D), L.ln2_b = take(D);
    L.fc_w = take(4 * D * D), L.fc_b = take(4 * D), L.fcproj_w = take(D * 4 * D);
    L.fcproj_b = take(D);
    t.layers.push_back(L);
  }
  t.lnf_w = take(D), t.lnf_b = take(D), t.head_w = take(V * D);
  return t;
}

Gpt2Trainer::Gpt2Trainer(const Gpt2Config& config, int batch, int seq_len)
    : config_(config), B_(batch), T_(seq_len), N_(int64_t{batch} * seq_len),
      num_params_(config.Params()) {
  const int64_t D = config.d, V = config.vocab, H = config.heads, L = config.layers;
  const int64_t N = N_, BHTT = int64_t{batch} * H * seq_len * seq_len;
  // Every tensor in the order it is taken, counted first, then allocated once.
  const int64_t per_layer[] = {N * D, N * D, N, N, 3 * N * D, BHTT, N * D, N * D, N * D, N, N,
                               4 * N * D, 4 * N * D};
  const int64_t TT = int64_t{seq_len} * seq_len;
  const int64_t rest[] = {N * D, N * D, N, N, N * V, N * V, N * D, N * D, N * D, 3 * N * D,
                          N * D, 4 * N * D, 4 * N * D, 2 * TT * kMaxAttentionParts, N * D};
  size_t total = 4 * FloatArena::Rounded(num_params_);
  for (int64_t l = 0; l < L; ++l) {
    for (int64_t n : per_layer) total += FloatArena::Rounded(n);
  }
  for (int64_t n : rest) total += FloatArena::Rounded(n);
  arena_ = FloatArena(total);
  params_ = arena_.Take(num_params_);
  grads_ = arena_.Take(num_params_);
  m_ = arena_.Take(num_params_);
  v_ = arena_.Take(num_params_);
  for (int64_t l = 0; l < L; ++l) {
    LayerActs a;
    float** slots[] = {&a.x_in, &a.ln1, &a.ln1_mean, &a.ln1_rstd, &a.qkv, &a.att, &a.atty,
                       &a.x_mid, &a.ln2, &a.ln2_mean, &a.ln2_rstd, &a.fc, &a.fc_gelu};
    for (size_t i = 0; i < std::size(slots); ++i) *slots[i] = arena_.Take(per_layer[i]);
    acts_.push_back(a);
  }
  float** slots[] = {&x_final_, &lnf_, &lnf_mean_, &lnf_rstd_, &logits_, &dlogits_, &dlnf_,
                     &dx_, &dx2_, &dqkv_, &dln_, &dfc_, &dfc_gelu_, &datt_, &datty_};
  for (size_t i = 0; i < std::size(slots); ++i) *slots[i] = arena_.Take(rest[i]);
  p_ = TensorsOf(params_);
  g_ = TensorsOf(grads_);
  inputs_.resize(N);
  targets_.resize(N);
  // Weight decay: the matrices (embeddings, the four linear layers of each block, the head).
  auto range = [this](const float* t, int64_t n) {
    decayed_.push_back({t - params_, n});
  };
  range(p_.wte, V * D);
  range(p_.wpe, int64_t{config.block} * D);
  for (const Tensors::Layer& l : p_.layers) {
    range(l.attn_w, 3 * D * D);
    range(l.attnproj_w, D * D);
    range(l.fc_w, 4 * D * D);
    range(l.fcproj_w, 4 * D * D);
  }
  range(p_.head_w, V * D);
}

absl::StatusOr<std::unique_ptr<Gpt2Trainer>> Gpt2Trainer::Create(const Gpt2Model& weights,
                                                                 int batch, int seq_len) {
  const Gpt2Config& c = weights.config();
  if (batch < 1 || batch > 4096 || seq_len < 1 || seq_len > c.block) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "a training batch of %d x %d: batch must be in [1, 4096] and seq_len in [1, %d]", batch,
        seq_len, c.block));
  }
  std::unique_ptr<Gpt2Trainer> t;
  try {
    t.reset(new Gpt2Trainer(c, batch, seq_len));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("a %d x %d training batch of this GPT-2 does not fit in memory", batch,
                        seq_len));
  }
  // The weights, tensor by tensor, in file order.
  const Gpt2Weights& w = weights.weights();
  const int64_t V = c.vocab, T = c.block, D = c.d;
  auto copy = [](float* dst, const float* src, int64_t n) { std::memcpy(dst, src, n * 4); };
  copy(t->p_.wte, w.wte, V * D);
  copy(t->p_.wpe, w.wpe, T * D);
  for (int l = 0; l < c.layers; ++l) {
    const Gpt2Weights::Layer& s = w.layers[l];
    const Tensors::Layer& d = t->p_.layers[l];
    copy(d.ln1_w, s.ln1_w, D), copy(d.ln1_b, s.ln1_b, D);
    copy(d.attn_w, s.attn_w, 3 * D * D), copy(d.attn_b, s.attn_b, 3 * D);
    copy(d.attnproj_w, s.attnproj_w, D * D), copy(d.attnproj_b, s.attnproj_b, D);
    copy(d.ln2_w, s.ln2_w, D), copy(d.ln2_b, s.ln2_b, D);
    copy(d.fc_w, s.fc_w, 4 * D * D), copy(d.fc_b, s.fc_b, 4 * D);
    copy(d.fcproj_w, s.fcproj_w, 4 * D * D), copy(d.fcproj_b, s.fcproj_b, D);
  }
  copy(t->p_.lnf_w, w.lnf_w, D);
  copy(t->p_.lnf_b, w.lnf_b, D);
  copy(t->p_.head_w, w.head_w, V * D);
  return t;
}

// Causal self-attention of every (sequence, head): scores = Q K^T / sqrt(hs) (the full T x T
// product; the causal softmax zeroes what lies above the diagonal), P = softmax, Y = P V. The
// (sequence, head) pairs are independent: shared over the GEMM pool.
void Gpt2Trainer::AttentionForward(const LayerActs& a) {
  const int64_t D = config_.d, H = config_.heads, hs = D / H, T = T_;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hs)));
  OverPool(B_ * H, kMaxAttentionParts, [&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t b = i / H, h = i % H;
      const float* q = a.qkv + b * T * 3 * D + h * hs;
      float* p = a.att + i * T * T;
      SerialGemm(Trans::kNo, Trans::kYes, T, T, hs, scale, q, 3 * D, q + D, 3 * D, p, T);
      kernels::SoftmaxCausal(T, T, 0, p, T, p, T);
      SerialGemm(Trans::kNo, Trans::kNo, T, hs, T, 1.0f, p, T, q + 2 * D, 3 * D,
                 a.atty + b * T * D + h * hs, D);
    }
  });
}

// dP = dY V^T, dV = P^T dY, dS = softmax'(P) dP, dQ = dS K / sqrt(hs), dK = dS^T Q / sqrt(hs);
// each (sequence, head) writes its own slices of dqkv.
void Gpt2Trainer::AttentionBackward(const LayerActs& a, const float* datty, float* dqkv) {
  const int64_t D = config_.d, H = config_.heads, hs = D / H, T = T_;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hs)));
  OverPool(B_ * H, kMaxAttentionParts, [&](int64_t begin, int64_t end, int part) {
    float* dp = datt_ + part * 2 * T * T;  // (T, T): dP, this participant's
    float* ds = dp + T * T;                // (T, T): dS
    for (int64_t i = begin; i < end; ++i) {
      const int64_t b = i / H, h = i % H;
      const float* q = a.qkv + b * T * 3 * D + h * hs;
      const float* p = a.att + i * T * T;
      const float* dy = datty + b * T * D + h * hs;
      float* dq = dqkv + b * T * 3 * D + h * hs;
      SerialGemm(Trans::kNo, Trans::kYes, T, T, hs, 1.0f, dy, D, q + 2 * D, 3 * D, dp, T);
      SerialGemm(Trans::kYes, Trans::kNo, T, hs, T, 1.0f, p, T, dy, D, dq + 2 * D, 3 * D);
      kernels::SoftmaxBackward(T, T, p, T, dp, T, ds, T);
      SerialGemm(Trans::kNo, Trans::kNo, T, hs, T, scale, ds, T, q + D, 3 * D, dq, 3 * D);
      SerialGemm(Trans::kYes, Trans::kNo, T, hs, T, scale, ds, T, q, 3 * D, dq + D, 3 * D);
    }
  });
}

void Gpt2Trainer::LayerForward(const Tensors::Layer& w, const LayerActs& a, float* x_out) {
  const int64_t D = config_.d, N = N_;
  using P = TrainProfile;
  {
    PartTimer t(profile_, P::kNorm);
    kernels::LayerNorm(N, D, a.x_in, D, w.ln1_w, w.ln1_b, kLnEps, a.ln1, D, a.ln1_mean, a.ln1_rstd);
  }
  {
    PartTimer t(profile_, P::kGemm);
    Linear(N, D, 3 * D, a.ln1, w.attn_w, w.attn_b, nullptr, a.qkv);
  }
  {
    PartTimer t(profile_, P::kAttention);
    AttentionForward(a);
  }
  {
    PartTimer t(profile_, P::kGemm);
    Linear(N, D, D, a.atty, w.attnproj_w, w.attnproj_b, a.x_in, a.x_mid);
  }
  {
    PartTimer t(profile_, P::kNorm);
    kernels::LayerNorm(N, D, a.x_mid, D, w.ln2_w, w.ln2_b, kLnEps, a.ln2, D, a.ln2_mean, a.ln2_rstd);
  }
  {
    PartTimer t(profile_, P::kGemm);
    Linear(N, D, 4 * D, a.ln2, w.fc_w, w.fc_b, nullptr, a.fc);
  }
  {
    PartTimer t(profile_, P::kActivation);
    kernels::GeluTanh(N * 4 * D, a.fc, a.fc_gelu);
  }
  PartTimer t(profile_, P::kGemm);
  Linear(N, 4 * D, D, a.fc_gelu, w.fcproj_w, w.fcproj_b, a.x_mid, x_out);
}

absl::StatusOr<float> Gpt2Trainer::Forward(const int* inputs, const int* targets) {
  const int64_t D = config_.d, V = config_.vocab, N = N_;
  for (int64_t i = 0; i < N; ++i) {
    for (const int id : {inputs[i], targets[i]}) {
      if (id < 0 || id >= V) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "token %d at position %d of the batch is outside the vocabulary [0, %d)", id, i, V));
      }
    }
  }
  PartTimer timer(profile_, TrainProfile::kForward);
  std::copy(inputs, inputs + N, inputs_.begin());
  std::copy(targets, targets + N, targets_.begin());
  // x0 = wte[token] + wpe[position].
  float* x0 = acts_.empty() ? x_final_ : acts_[0].x_in;
  for (int64_t r = 0; r < N; ++r) {
    kernels::Add(D, p_.wte + inputs[r] * D, p_.wpe + (r % T_) * D, x0 + r * D);
  }
  for (size_t l = 0; l < acts_.size(); ++l) {
    float* x_out = l + 1 < acts_.size() ? acts_[l + 1].x_in : x_final_;
    LayerForward(p_.layers[l], acts_[l], x_out);
  }
  {
    PartTimer t(profile_, TrainProfile::kNorm);
    kernels::LayerNorm(N, D, x_final_, D, p_.lnf_w, p_.lnf_b, kLnEps, lnf_, D, lnf_mean_, lnf_rstd_);
  }
  {
    PartTimer t(profile_, TrainProfile::kGemm);
    Linear(N, D, V, lnf_, p_.head_w, nullptr, nullptr, logits_);
  }
  kernels::Softmax(N, V, logits_, V, dlogits_, V);
  // -log p[target] from the softmax's probability (relative error ~1e-6, so ~1e-6 absolute in
  // the loss), summed in double; a probability too small for float to hold precisely (below
  // 2^-100) takes the exact log-sum-exp of its row instead.
  double loss = 0;
  for (int64_t r = 0; r < N; ++r) {
    const float p = dlogits_[r * V + targets[r]];
    if (p > 0x1p-100f) {
      loss -= std::log(static_cast<double>(p));
      continue;
    }
    const float* z = logits_ + r * V;
    const double m = *std::max_element(z, z + V);
    double sum = 0;
    for (int64_t j = 0; j < V; ++j) sum += std::exp(static_cast<double>(z[j]) - m);
    loss += m + std::log(sum) - z[targets[r]];
  }
  return static_cast<float>(loss / N);
}

void Gpt2Trainer::LayerBackward(const Tensors::Layer& w, const Tensors::Layer& g,
                                const LayerActs& a, float* dx) {
  const int64_t D = config_.d, N = N_;
  using P = TrainProfile;
  // MLP: x_out = x_mid + fcproj(gelu(fc(ln2(x_mid)))).
  {
    PartTimer t(profile_, P::kGemm);
    LinearBackward(N, 4 * D, D, dx, a.fc_gelu, w.fcproj_w, g.fcproj_w, g.fcproj_b, dfc_gelu_);
  }
  {
    PartTimer t(profile_, P::kActivation);
    kernels::GeluTanhBackward(N * 4 * D, a.fc, dfc_gelu_, dfc_);
  }
  {
    PartTimer t(profile_, P::kGemm);
    LinearBackward(N, D, 4 * D, dfc_, a.ln2, w.fc_w, g.fc_w, g.fc_b, dln_);
  }
  {
    PartTimer t(profile_, P::kNorm);
    kernels::LayerNormBackward(N, D, dln_, D, a.x_mid, D, w.ln2_w, a.ln2_mean, a.ln2_rstd, dx2_, D,
                               g.ln2_w, g.ln2_b);
  }
  kernels::Add(N * D, dx, dx2_, dx);  // + the residual path: dx is now d x_mid
  // Attention: x_mid = x_in + attnproj(attention(ln1(x_in))).
  {
    PartTimer t(profile_, P::kGemm);
    LinearBackward(N, D, D, dx, a.atty, w.attnproj_w, g.attnproj_w, g.attnproj_b, datty_);
  }
  {
    PartTimer t(profile_, P::kAttention);
    AttentionBackward(a, datty_, dqkv_);
  }
  {
    PartTimer t(profile_, P::kGemm);
    LinearBackward(N, D, 3 * D, dqkv_, a.ln1, w.attn_w, g.attn_w, g.attn_b, dln_);
  }
  {
    PartTimer t(profile_, P::kNorm);
    kernels::LayerNormBackward(N, D, dln_, D, a.x_in, D, w.ln1_w, a.ln1_mean, a.ln1_rstd, dx2_, D,
                               g.ln1_w, g.ln1_b);
  }
  kernels::Add(N * D, dx, dx2_, dx);  // d x_in
}

void Gpt2Trainer::Backward() {
  PartTimer timer(profile_, TrainProfile::kBackward);
  const int64_t D = config_.d, V = config_.vocab, N = N_;
  std::memset(grads_, 0, num_params_ * sizeof(float));
  // d loss / d logits = (softmax - onehot) / N.
  const float inv_n = 1.0f / static_cast<float>(N);
  for (int64_t r = 0; r < N; ++r) {
    float* d = dlogits_ + r * V;
    d[targets_[r]] -= 1.0f;
    kernels::Scale(V, inv_n, d, d);
  }
  {
    PartTimer t(profile_, TrainProfile::kGemm);
    LinearBackward(N, D, V, dlogits_, lnf_, p_.head_w, g_.head_w, nullptr, dlnf_);
  }
  {
    PartTimer t(profile_, TrainProfile::kNorm);
    kernels::LayerNormBackward(N, D, dlnf_, D, x_final_, D, p_.lnf_w, lnf_mean_, lnf_rstd_, dx_,
                               D, g_.lnf_w, g_.lnf_b);
  }
  for (size_t l = acts_.size(); l-- > 0;) LayerBackward(p_.layers[l], g_.layers[l], acts_[l], dx_);
  // Embeddings: every position adds its row to its token's and its position's gradient, in row
  // order (the same order whatever the thread count).
  for (int64_t r = 0; r < N; ++r) {
    kernels::AddInPlace(D, dx_ + r * D, g_.wte + inputs_[r] * D);
    kernels::AddInPlace(D, dx_ + r * D, g_.wpe + (r % T_) * D);
  }
}

void Gpt2Trainer::Update(const AdamW& opt, int step) {
  PartTimer timer(profile_, TrainProfile::kOptimizer);
  const float c1 = 1.0f / (1.0f - std::pow(opt.beta1, static_cast<float>(step)));
  const float c2 = 1.0f / (1.0f - std::pow(opt.beta2, static_cast<float>(step)));
  auto update = [&](int64_t begin, int64_t end, float decay) {
    for (int64_t i = begin; i < end; ++i) {
      const float g = grads_[i];
      m_[i] = opt.beta1 * m_[i] + (1.0f - opt.beta1) * g;
      v_[i] = opt.beta2 * v_[i] + (1.0f - opt.beta2) * g * g;
      const float mhat = m_[i] * c1, vhat = v_[i] * c2;
      params_[i] -= opt.lr * (mhat / (std::sqrt(vhat) + opt.eps) + decay * params_[i]);
    }
  };
  int64_t at = 0;
  for (const auto& [offset, count] : decayed_) {  // in file order
    update(at, offset, 0.0f);
    update(offset, offset + count, opt.weight_decay);
    at = offset + count;
  }
  update(at, num_params_, 0.0f);
}

absl::StatusOr<float> Gpt2Trainer::Step(const int* inputs, const int* targets, const AdamW& opt,
                                        int step) {
  absl::StatusOr<float> loss = Forward(inputs, targets);
  if (!loss.ok()) return loss;
  Backward();
  Update(opt, step);
  return loss;
}

std::string Gpt2Trainer::FileBytes() const {
  const Gpt2Config& c = config_;
  const int32_t header[kHeaderInts] = {Gpt2Model::kMagic, 1, c.vocab, c.block, c.d, c.layers,
                                       c.heads, 0};
  std::string out(sizeof(header) + num_params_ * sizeof(float), '\0');
  std::memcpy(out.data(), header, sizeof(header));
  std::memcpy(out.data() + sizeof(header), params_, num_params_ * sizeof(float));
  return out;
}

int64_t Gpt2Trainer::allocated_bytes() const { return static_cast<int64_t>(arena_.bytes()); }

double Gpt2Trainer::flops_per_step() const {
  // PaLM's count per token: 6 N + 12 L H hs T (attention's two T-long products per head, forward
  // and backward, over the full T: we compute the whole square and the mask zeroes half).
  const double per_token = 6.0 * num_params_ + 12.0 * config_.layers * config_.d * T_;
  return per_token * static_cast<double>(N_);
}

}  // namespace klab::models
