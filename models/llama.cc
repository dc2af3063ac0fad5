#include "models/llama.h"

#include <algorithm>
#include <cassert>
#include <cstdlib>

#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "kernels/activation/activation.h"
#include "kernels/attention/attention.h"
#include "kernels/linear/linear.h"
#include "kernels/norm/norm.h"
#include "models/layers.h"
#include "models/model_file.h"

namespace klab::models {
namespace {

constexpr int kHeaderInts = 7;
// Header sanity limits (as for GPT-2): far above any llama2.c model this lab runs, low enough
// that an accepted header's activations, T x T scores and KV cache can be allocated.
constexpr int kMaxWidth = 16384;
constexpr int kMaxLayers = 256;
constexpr int kMaxVocab = 1 << 20;
constexpr int kMaxSeqLen = 8192;
constexpr int64_t kMaxParams = int64_t{1} << 30;

absl::Status CheckRange(const char* field, int64_t value, int64_t max) {
  return CheckInRange("Llama header", field, value, max);
}

// The three arenas of a model, planned from its config alone: the constructor and FromBuffer
// take exactly these, and MemoryBytes adds them up before anything is allocated.
ArenaPlan WeightPlan(const LlamaConfig& c) {
  const size_t D = c.dim, H = c.hidden_dim, L = c.n_layers, V = c.vocab_size, KV = c.kv_dim();
  ArenaPlan weights;
  weights.Add(V * D).Add(L * D).Add(L * D * D).Add(L * KV * D).Add(L * KV * D).Add(L * D * D);
  weights.Add(L * D).Add(L * H * D).Add(L * D * H).Add(L * H * D).Add(D);
  if (!c.shared_classifier) weights.Add(V * D);
  return weights;
}

ArenaPlan StatePlan(const LlamaConfig& c) {
  const size_t D = c.dim, H = c.hidden_dim, L = c.n_layers, V = c.vocab_size, T = c.seq_len;
  const size_t KV = c.kv_dim(), half = c.head_size() / 2;
  const size_t group = c.n_heads / c.n_kv_heads;
  ArenaPlan state;
  state.Add(T * D).Add(T * D).Add(T * D).Add(T * D).Add(T * H).Add(T * H);
  state.Add(group * kernels::AttentionScoresStride(T)).Add(V).Add(T * half).Add(T * half);
  state.Add(T * KV).Add(T * KV);
  for (size_t l = 0; l < 2 * L; ++l) state.Add(T * KV);
  return state;
}

ArenaPlan PackedPlan(const LlamaConfig& c) {
  const size_t D = c.dim, H = c.hidden_dim, L = c.n_layers, V = c.vocab_size, KV = c.kv_dim();
  ArenaPlan plan;
  for (size_t l = 0; l < L; ++l) {
    plan.Add(kernels::PackedLinearSize(D, D)).Add(kernels::PackedLinearSize(KV, D));
    plan.Add(kernels::PackedLinearSize(KV, D)).Add(kernels::PackedLinearSize(D, D));
    plan.Add(kernels::PackedLinearSize(H, D)).Add(kernels::PackedLinearSize(D, H));
    plan.Add(kernels::PackedLinearSize(H, D));
  }
  plan.Add(kernels::PackedLinearSize(V, D));
  return plan;
}

// The header's 7 int32 fields -> a validated config.
absl::StatusOr<LlamaConfig> ParseHeader(const char* data, size_t size, const std::string& what) {
  ByteCursor in(data, size, what);
  static constexpr const char* kFields[kHeaderInts] = {
      "dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
  int32_t h[kHeaderInts];
  for (int i = 0; i < kHeaderInts; ++i) {
    KLAB_ASSIGN_OR_RETURN(h[i], in.ReadInt32(kFields[i]));
  }
  // A negative vocab_size marks a separate classifier; its absolute value is the vocabulary.
  const int64_t vocab = std::abs(static_cast<int64_t>(h[5]));
  LlamaConfig c{h[0], h[1], h[2], h[3], h[4],
                static_cast<int>(std::min<int64_t>(vocab, INT32_MAX)), h[6], h[5] > 0};
  absl::Status valid = c.Validate();
  if (!valid.ok()) return absl::InvalidArgumentError(what + ": " + std::string(valid.message()));
  return c;
}

absl::Status CheckFileSize(const LlamaConfig& c, int64_t size, const std::string& what) {
  if (size == c.FileBytes()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s: %d bytes, but its header (dim %d, hidden %d, layers %d, heads %d/%d, vocab %d, "
      "seq_len %d, %s classifier) needs exactly %d",
      what, size, c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size,
      c.seq_len, c.shared_classifier ? "shared" : "separate", c.FileBytes()));
}

// Everything the header alone decides: its fields, the file size it predicts (`file_size`),
// and the memory the model will need. FromBuffer and FromFile (before reading the weights) both
// go through it.
absl::StatusOr<LlamaConfig> CheckHeader(const char* header, size_t header_size, int64_t file_size,
                                 const std::string& what, const LoadLimits& limits) {
  KLAB_ASSIGN_OR_RETURN(const LlamaConfig c, ParseHeader(header, header_size, what));
  KLAB_RETURN_IF_ERROR(CheckFileSize(c, file_size, what));
  KLAB_RETURN_IF_ERROR(CheckMemory(what, c.MemoryBytes(), limits));
  return c;
}

}  // namespace

int64_t LlamaConfig::FileBytes() const {
  const int64_t rope_floats = int64_t{seq_len} * head_size();
  return kHeaderInts * 4 + (Params() + rope_floats) * 4;
}

int64_t LlamaConfig::MemoryBytes() const {
  // Each plan is below 2^62 bytes under Validate's bounds; the sum cannot overflow.
  return WeightPlan(*this).bytes() + StatePlan(*this).bytes() + PackedPlan(*this).bytes();
}

int64_t LlamaConfig::Params() const {
  const int64_t D = dim, H = hidden_dim, L = n_layers, V = vocab_size, KV = kv_dim();
  const int64_t per_layer = D + D * D + 2 * KV * D + D * D + D + 3 * H * D;
  return V * D + L * per_layer + D + (shared_classifier ? 0 : V * D);
}

absl::Status LlamaConfig::Validate() const {
  KLAB_RETURN_IF_ERROR(CheckRange("dim", dim, kMaxWidth));
  KLAB_RETURN_IF_ERROR(CheckRange("hidden_dim", hidden_dim, 4 * kMaxWidth));
  KLAB_RETURN_IF_ERROR(CheckRange("n_layers", n_layers, kMaxLayers));
  KLAB_RETURN_IF_ERROR(CheckRange("n_heads", n_heads, dim));
  KLAB_RETURN_IF_ERROR(CheckRange("n_kv_heads", n_kv_heads, n_heads));
  KLAB_RETURN_IF_ERROR(CheckRange("vocab_size", vocab_size, kMaxVocab));
  KLAB_RETURN_IF_ERROR(CheckRange("seq_len", seq_len, kMaxSeqLen));
  if (dim % n_heads != 0 || head_size() % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "Llama header: n_heads = %d must divide dim = %d into heads of an even size", n_heads,
        dim));
  }
  if (n_heads % n_kv_heads != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "Llama header: n_kv_heads = %d does not divide n_heads = %d", n_kv_heads, n_heads));
  }
  if (Params() > kMaxParams) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "Llama header: %d parameters is more than the %d this lab accepts", Params(),
        kMaxParams));
  }
  return absl::OkStatus();
}

LlamaModel::LlamaModel(const LlamaConfig& c) : config_(c) {
  const size_t D = c.dim, H = c.hidden_dim, L = c.n_layers, V = c.vocab_size, T = c.seq_len;
  const size_t KV = c.kv_dim(), half = c.head_size() / 2;
  const size_t group = c.n_heads / c.n_kv_heads;
  weight_arena_ = FloatArena(WeightPlan(c).total());
  // Taken in file order; FromBuffer fills them the same way.
  w_.token_embedding = weight_arena_.Take(V * D);
  w_.rms_att = weight_arena_.Take(L * D);
  w_.wq = weight_arena_.Take(L * D * D);
  w_.wk = weight_arena_.Take(L * KV * D);
  w_.wv = weight_arena_.Take(L * KV * D);
  w_.wo = weight_arena_.Take(L * D * D);
  w_.rms_ffn = weight_arena_.Take(L * D);
  w_.w1 = weight_arena_.Take(L * H * D);
  w_.w2 = weight_arena_.Take(L * D * H);
  w_.w3 = weight_arena_.Take(L * H * D);
  w_.rms_final = weight_arena_.Take(D);
  w_.wcls = c.shared_classifier ? w_.token_embedding : weight_arena_.Take(V * D);

  state_arena_ = FloatArena(StatePlan(c).total());
  x_ = state_arena_.Take(T * D);
  xn_ = state_arena_.Take(T * D);
  q_ = state_arena_.Take(T * D);
  att_ = state_arena_.Take(T * D);
  h1_ = state_arena_.Take(T * H);
  h3_ = state_arena_.Take(T * H);
  // The query heads of one kv head.
  scores_ = state_arena_.Take(group * kernels::AttentionScoresStride(T));
  logits_ = state_arena_.Take(V);
  rope_cos_ = state_arena_.Take(T * half);
  rope_sin_ = state_arena_.Take(T * half);
  k_ = state_arena_.Take(T * KV);
  v_ = state_arena_.Take(T * KV);
  for (size_t l = 0; l < L; ++l) {
    float* keys_t = state_arena_.Take(T * KV);
    float* values = state_arena_.Take(T * KV);
    kv_cache_.push_back({keys_t, values, c.seq_len, static_cast<int64_t>(KV)});
  }
  RopeTables(c.seq_len, c.head_size(), kRopeTheta, rope_cos_, rope_sin_);
}

absl::StatusOr<std::unique_ptr<LlamaModel>> LlamaModel::FromBuffer(const char* data,
                                                                   size_t size,
                                                                   const std::string& what,
                                                                   const LoadLimits& limits) {
  KLAB_ASSIGN_OR_RETURN(const LlamaConfig c,
                        CheckHeader(data, size, static_cast<int64_t>(size), what, limits));
  ByteCursor in(data, size, what);
  KLAB_RETURN_IF_ERROR(in.Skip("header", kHeaderInts * 4));
  const int64_t rope_floats = int64_t{c.seq_len} * c.head_size();
  std::unique_ptr<LlamaModel> m;
  try {
    m.reset(new LlamaModel(c));
    const size_t D = c.dim, H = c.hidden_dim, L = c.n_layers, V = c.vocab_size;
    const size_t KV = c.kv_dim();
    const LlamaWeights& w = m->w_;
    struct Tensor {
      const char* name;
      const float* data;
      size_t count;
    };
    const Tensor tensors[] = {
        {"token_embedding", w.token_embedding, V * D},
        {"rms_att", w.rms_att, L * D},
        {"wq", w.wq, L * D * D},
        {"wk", w.wk, L * KV * D},
        {"wv", w.wv, L * KV * D},
        {"wo", w.wo, L * D * D},
        {"rms_ffn", w.rms_ffn, L * D},
        {"w1", w.w1, L * H * D},
        {"w2", w.w2, L * D * H},
        {"w3", w.w3, L * H * D},
        {"rms_final", w.rms_final, D}};
    for (const Tensor& t : tensors) {
      KLAB_RETURN_IF_ERROR(in.ReadFloats(t.name, t.count, const_cast<float*>(t.data)));
      KLAB_RETURN_IF_ERROR(CheckFinite(what, t.name, t.data, t.count));
    }
    KLAB_RETURN_IF_ERROR(in.Skip("rope tables", rope_floats * 4));  // computed, not read
    if (!c.shared_classifier) {
      KLAB_RETURN_IF_ERROR(in.ReadFloats("wcls", V * D, const_cast<float*>(w.wcls)));
      KLAB_RETURN_IF_ERROR(CheckFinite(what, "wcls", w.wcls, V * D));
    }
    // Every linear layer packed for kernels/linear.
    m->packed_arena_ = FloatArena(PackedPlan(c).total());
    auto pack = [&](const float* weights, size_t out, size_t in) {
      return PackLinear(m->packed_arena_, weights, out, in);
    };
    for (size_t l = 0; l < L; ++l) {
      m->packed_.push_back({pack(w.wq + l * D * D, D, D), pack(w.wk + l * KV * D, KV, D),
                            pack(w.wv + l * KV * D, KV, D), pack(w.wo + l * D * D, D, D),
                            pack(w.w1 + l * H * D, H, D), pack(w.w2 + l * D * H, D, H),
                            pack(w.w3 + l * H * D, H, D)});
    }
    m->wcls_ = pack(w.wcls, V, D);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "%s: out of memory allocating the model's %.1f MiB", what, c.MemoryBytes() / 1048576.0));
  }
  return m;
}

absl::StatusOr<std::unique_ptr<LlamaModel>> LlamaModel::FromFile(const std::string& path,
                                                                 const LoadLimits& limits) {
  const std::string what = "'" + path + "'";
  KLAB_ASSIGN_OR_RETURN(
      const std::vector<char> bytes,
      ReadModelFile(path, kHeaderInts * 4, [&](const std::vector<char>& header, int64_t size) {
        return CheckHeader(header.data(), header.size(), size, what, limits).status();
      }));
  return FromBuffer(bytes.data(), bytes.size(), what, limits);
}

int64_t LlamaModel::weight_bytes_per_token() const {
  // A shared classifier reads all of token_embedding; otherwise one row of it.
  const int64_t unused = config_.shared_classifier
                             ? 0
                             : int64_t{config_.vocab_size - 1} * config_.dim;
  return (params() - unused) * 4;
}

std::vector<PackedLinear> LlamaModel::linear_layers() const {
  std::vector<PackedLinear> layers;
  for (const PackedLayer& l : packed_) {
    layers.insert(layers.end(), {l.wq, l.wk, l.wv, l.wo, l.w1, l.w3, l.w2});
  }
  layers.push_back(wcls_);
  return layers;
}

int64_t LlamaModel::flops_per_token(int pos) const {
  const int64_t D = config_.dim, H = config_.hidden_dim, L = config_.n_layers;
  const int64_t KV = config_.kv_dim();
  const int64_t linear = L * (2 * D * D + 2 * KV * D + 3 * H * D) + int64_t{config_.vocab_size} * D;
  const int64_t attention = L * 2 * (pos + 1) * D;
  return 2 * (linear + attention);
}

int64_t LlamaModel::kv_cache_bytes() const {
  return int64_t{2} * config_.n_layers * config_.seq_len * config_.kv_dim() * 4;
}

float* LlamaModel::ForwardChecked(const int* tokens, int n, int pos) {
  assert(n >= 1 && pos >= 0 && pos + n <= config_.seq_len);
  const int64_t D = config_.dim, H = config_.hidden_dim, KV = config_.kv_dim();
  const int hs = config_.head_size();
  const AttentionShape shape{config_.n_heads, config_.n_kv_heads, hs};
  {
    ProfileScope p(profile_, ForwardProfile::kOther);
    for (int i = 0; i < n; ++i) {
      assert(tokens[i] >= 0 && tokens[i] < config_.vocab_size);
      std::copy_n(w_.token_embedding + tokens[i] * D, D, x_ + i * D);
    }
  }
  for (int l = 0; l < config_.n_layers; ++l) {
    {
      ProfileScope p(profile_, ForwardProfile::kNorm);
      kernels::RmsNorm(n, D, x_, D, w_.rms_att + l * D, kRmsNormEps, xn_, D);
    }
    const PackedLayer& pw = packed_[l];
    {
      ProfileScope p(profile_, ForwardProfile::kGemm);
      Apply(pw.wq, n, xn_, D, nullptr, q_, D);
      Apply(pw.wk, n, xn_, D, nullptr, k_, KV);
      Apply(pw.wv, n, xn_, D, nullptr, v_, KV);
    }
    {
      ProfileScope p(profile_, ForwardProfile::kOther);
      ApplyRope(n, pos, config_.n_heads, hs, rope_cos_, rope_sin_, q_, D);
      ApplyRope(n, pos, config_.n_kv_heads, hs, rope_cos_, rope_sin_, k_, KV);
      StoreKv(shape, n, pos, k_, KV, v_, KV, kv_cache_[l]);
    }
    {
      ProfileScope p(profile_, ForwardProfile::kAttention);
      CausalAttention(shape, n, pos, q_, D, kv_cache_[l], scores_, att_, D);
    }
    {
      ProfileScope p(profile_, ForwardProfile::kGemm);
      Apply(pw.wo, n, att_, D, nullptr, x_, D, /*accumulate=*/true);
    }
    {
      ProfileScope p(profile_, ForwardProfile::kNorm);
      kernels::RmsNorm(n, D, x_, D, w_.rms_ffn + l * D, kRmsNormEps, xn_, D);
    }
    {
      ProfileScope p(profile_, ForwardProfile::kGemm);
      Apply(pw.w1, n, xn_, D, nullptr, h1_, H);
      Apply(pw.w3, n, xn_, D, nullptr, h3_, H);
    }
    {
      ProfileScope p(profile_, ForwardProfile::kActivation);
      kernels::Swiglu(n * H, h1_, h3_, h1_);
    }
    {
      ProfileScope p(profile_, ForwardProfile::kGemm);
      Apply(pw.w2, n, h1_, H, nullptr, x_, D, /*accumulate=*/true);
    }
  }
  {
    ProfileScope p(profile_, ForwardProfile::kNorm);
    kernels::RmsNorm(1, D, x_ + (n - 1) * D, D, w_.rms_final, kRmsNormEps, xn_, D);
  }
  {
    ProfileScope p(profile_, ForwardProfile::kGemm);
    Apply(wcls_, 1, xn_, D, nullptr, logits_, config_.vocab_size);
  }
  return logits_;
}

}  // namespace klab::models
