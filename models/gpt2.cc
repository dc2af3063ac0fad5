#include "models/gpt2.h"

#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "kernels/activation/activation.h"
#include "kernels/attention/attention.h"
#include "kernels/elementwise/elementwise.h"
#include "kernels/linear/linear.h"
#include "kernels/norm/norm.h"
#include "models/layers.h"
#include "models/model_file.h"
#include "models/xorshift.h"

namespace klab::models {
namespace {

constexpr float kLayerNormEps = 1e-5f;
constexpr int kHeaderInts = 8;
// Header sanity limits: far above any model this lab runs, low enough that the activations and
// the KV cache of an accepted header can be allocated (T x T attention scores).
constexpr int kMaxVocab = 1 << 20;
constexpr int kMaxBlock = 8192;
constexpr int kMaxWidth = 16384;
constexpr int kMaxLayers = 256;
constexpr int64_t kMaxParams = int64_t{1} << 30;

// How the xorshift recipe scales a tensor (docs/model-files.md).
enum class Kind { kLinear, kNormWeight, kNormBias };

absl::Status CheckRange(const char* field, int64_t value, int64_t max) {
  return CheckInRange("GPT-2 config", field, value, max);
}

// The three arenas of a model, planned from its config alone (the constructor and
// PackLinearLayers take exactly these; MemoryBytes adds them up before anything is allocated).
ArenaPlan WeightPlan(const Gpt2Config& c) {
  const size_t V = c.vocab, T = c.block, D = c.d, L = c.layers;
  ArenaPlan weights;
  weights.Add(V * D).Add(T * D);
  for (size_t l = 0; l < L; ++l) {
    weights.Add(D).Add(D).Add(3 * D * D).Add(3 * D).Add(D * D).Add(D).Add(D).Add(D);
    weights.Add(4 * D * D).Add(4 * D).Add(D * 4 * D).Add(D);
  }
  weights.Add(D).Add(D).Add(V * D);
  return weights;
}

ArenaPlan StatePlan(const Gpt2Config& c) {
  const size_t V = c.vocab, T = c.block, D = c.d, L = c.layers;
  ArenaPlan state;
  state.Add(T * D).Add(T * D).Add(T * 3 * D).Add(T * D).Add(T * 4 * D);
  state.Add(kernels::AttentionScoresStride(T)).Add(V);
  for (size_t l = 0; l < 2 * L; ++l) state.Add(T * D);
  return state;
}

ArenaPlan PackedPlan(const Gpt2Config& c) {
  const int64_t D = c.d, V = c.vocab;
  ArenaPlan plan;
  for (int l = 0; l < c.layers; ++l) {
    plan.Add(kernels::PackedLinearSize(3 * D, D)).Add(kernels::PackedLinearSize(D, D));
    plan.Add(kernels::PackedLinearSize(4 * D, D)).Add(kernels::PackedLinearSize(D, 4 * D));
  }
  plan.Add(kernels::PackedLinearSize(V, D));
  return plan;
}

// The header's 8 int32 fields -> a validated config.
absl::StatusOr<Gpt2Config> ParseHeader(const char* data, size_t size, const std::string& what) {
  ByteCursor in(data, size, what);
  int32_t header[kHeaderInts];
  static constexpr const char* kFields[kHeaderInts] = {"magic", "version", "vocab", "block",
                                                       "d",     "layers",  "heads", "tied"};
  for (int i = 0; i < kHeaderInts; ++i) {
    KLAB_ASSIGN_OR_RETURN(header[i], in.ReadInt32(kFields[i]));
  }
  if (header[0] != Gpt2Model::kMagic) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: wrong magic 0x%08x (a GPT-2 file starts with 0x%08x, \"GPT2\")", what,
        static_cast<uint32_t>(header[0]), Gpt2Model::kMagic));
  }
  if (header[1] != 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: version %d is not supported (only 1)", what, header[1]));
  }
  if (header[7] != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: tied = %d; only untied heads (0) are supported", what, header[7]));
  }
  const Gpt2Config config{header[2], header[3], header[4], header[5], header[6]};
  absl::Status valid = config.Validate();
  if (!valid.ok()) return absl::InvalidArgumentError(what + ": " + std::string(valid.message()));
  return config;
}

absl::Status CheckFileSize(const Gpt2Config& c, int64_t size, const std::string& what) {
  if (size == c.FileBytes()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s: %d bytes, but its header (V %d, T %d, d %d, L %d, H %d) needs exactly %d", what, size,
      c.vocab, c.block, c.d, c.layers, c.heads, c.FileBytes()));
}

absl::Status OutOfMemory(const std::string& what, const Gpt2Config& c) {
  return absl::ResourceExhaustedError(absl::StrFormat(
      "%s: out of memory allocating the model's %.1f MiB", what, c.MemoryBytes() / 1048576.0));
}

// Everything the header alone decides: its fields, the file size it predicts (`file_size`),
// and the memory the model will need. FromBuffer and FromFile (before reading the weights) both
// go through it.
absl::StatusOr<Gpt2Config> CheckHeader(const char* header, size_t header_size, int64_t file_size,
                                       const std::string& what, const LoadLimits& limits) {
  KLAB_ASSIGN_OR_RETURN(const Gpt2Config c, ParseHeader(header, header_size, what));
  KLAB_RETURN_IF_ERROR(CheckFileSize(c, file_size, what));
  KLAB_RETURN_IF_ERROR(CheckMemory(what, c.MemoryBytes(), limits));
  return c;
}

}  // namespace

std::optional<Gpt2Config> Gpt2Config::Named(std::string_view name, bool* deprecated) {
  if (deprecated != nullptr) *deprecated = name == "gpt2-small" || name == "gpt2-medium";
  if (name == "gpt2-0.5M" || name == "gpt2-small") return Gpt2_0_5M();
  if (name == "gpt2-3.5M" || name == "gpt2-medium") return Gpt2_3_5M();
  return std::nullopt;
}

int64_t Gpt2Config::FileBytes() const { return kHeaderInts * 4 + Params() * 4; }

int64_t Gpt2Config::MemoryBytes() const {
  // Each plan is below 2^62 bytes under Validate's bounds; the sum cannot overflow.
  return WeightPlan(*this).bytes() + StatePlan(*this).bytes() + PackedPlan(*this).bytes();
}

int64_t Gpt2Config::Params() const {
  const int64_t V = vocab, T = block, D = d, L = layers;
  const int64_t per_layer = 2 * D + 3 * D * D + 3 * D + D * D + D + 2 * D + 4 * D * D + 4 * D +
                            4 * D * D + D;
  return V * D + T * D + L * per_layer + 2 * D + V * D;
}

absl::Status Gpt2Config::Validate() const {
  KLAB_RETURN_IF_ERROR(CheckRange("vocab", vocab, kMaxVocab));
  KLAB_RETURN_IF_ERROR(CheckRange("block", block, kMaxBlock));
  KLAB_RETURN_IF_ERROR(CheckRange("d", d, kMaxWidth));
  KLAB_RETURN_IF_ERROR(CheckRange("layers", layers, kMaxLayers));
  KLAB_RETURN_IF_ERROR(CheckRange("heads", heads, d));
  if (d % heads != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("GPT-2 config: heads = %d does not divide d = %d", heads, d));
  }
  if (Params() > kMaxParams) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "GPT-2 config: %d parameters is more than the %d this lab accepts", Params(),
        kMaxParams));
  }
  return absl::OkStatus();
}

Gpt2Model::Gpt2Model(const Gpt2Config& config) : config_(config) {
  const size_t V = config.vocab, T = config.block, D = config.d, L = config.layers;
  weight_arena_ = FloatArena(WeightPlan(config).total());
  state_arena_ = FloatArena(StatePlan(config).total());
  x_ = state_arena_.Take(T * D);
  xn_ = state_arena_.Take(T * D);
  qkv_ = state_arena_.Take(T * 3 * D);
  att_ = state_arena_.Take(T * D);
  hidden_ = state_arena_.Take(T * 4 * D);
  scores_ = state_arena_.Take(kernels::AttentionScoresStride(T));  // one query row at a time
  logits_ = state_arena_.Take(V);
  for (size_t l = 0; l < L; ++l) {
    float* keys_t = state_arena_.Take(T * D);
    float* values = state_arena_.Take(T * D);
    kv_cache_.push_back({keys_t, values, config.block, static_cast<int64_t>(D)});
  }
}

template <class Fill>
void Gpt2Model::LayOutWeights(Fill&& fill) {
  const size_t V = config_.vocab, T = config_.block, D = config_.d;
  auto take = [&](const char* name, size_t count, Kind kind) -> const float* {
    float* p = weight_arena_.Take(count);
    fill(p, count, kind, name);
    return p;
  };
  w_.wte = take("wte", V * D, Kind::kLinear);
  w_.wpe = take("wpe", T * D, Kind::kLinear);
  w_.layers.resize(config_.layers);
  for (Gpt2Weights::Layer& layer : w_.layers) {
    layer.ln1_w = take("ln1_w", D, Kind::kNormWeight);
    layer.ln1_b = take("ln1_b", D, Kind::kNormBias);
    layer.attn_w = take("attn_w", 3 * D * D, Kind::kLinear);
    layer.attn_b = take("attn_b", 3 * D, Kind::kLinear);
    layer.attnproj_w = take("attnproj_w", D * D, Kind::kLinear);
    layer.attnproj_b = take("attnproj_b", D, Kind::kLinear);
    layer.ln2_w = take("ln2_w", D, Kind::kNormWeight);
    layer.ln2_b = take("ln2_b", D, Kind::kNormBias);
    layer.fc_w = take("fc_w", 4 * D * D, Kind::kLinear);
    layer.fc_b = take("fc_b", 4 * D, Kind::kLinear);
    layer.fcproj_w = take("fcproj_w", D * 4 * D, Kind::kLinear);
    layer.fcproj_b = take("fcproj_b", D, Kind::kLinear);
  }
  w_.lnf_w = take("lnf_w", D, Kind::kNormWeight);
  w_.lnf_b = take("lnf_b", D, Kind::kNormBias);
  w_.head_w = take("head_w", V * D, Kind::kLinear);
}

void Gpt2Model::PackLinearLayers() {
  const int64_t D = config_.d, V = config_.vocab;
  packed_arena_ = FloatArena(PackedPlan(config_).total());
  auto pack = [&](const float* w, int64_t out, int64_t in) {
    return PackLinear(packed_arena_, w, out, in);
  };
  packed_.clear();
  for (const Gpt2Weights::Layer& w : w_.layers) {
    packed_.push_back({pack(w.attn_w, 3 * D, D), pack(w.attnproj_w, D, D), pack(w.fc_w, 4 * D, D),
                       pack(w.fcproj_w, D, 4 * D)});
  }
  head_ = pack(w_.head_w, V, D);
}

absl::StatusOr<std::unique_ptr<Gpt2Model>> Gpt2Model::FromBuffer(const char* data, size_t size,
                                                                 const std::string& what,
                                                                 const LoadLimits& limits) {
  KLAB_ASSIGN_OR_RETURN(const Gpt2Config config,
                        CheckHeader(data, size, static_cast<int64_t>(size), what, limits));
  ByteCursor in(data, size, what);
  KLAB_RETURN_IF_ERROR(in.Skip("header", kHeaderInts * 4));
  try {
    std::unique_ptr<Gpt2Model> model(new Gpt2Model(config));
    absl::Status status;
    model->LayOutWeights([&](float* p, size_t count, Kind, const char* name) {
      if (status.ok()) status = in.ReadFloats(name, count, p);
      if (status.ok()) status = CheckFinite(what, name, p, count);
    });
    KLAB_RETURN_IF_ERROR(status);
    model->PackLinearLayers();
    return model;
  } catch (const std::bad_alloc&) {
    return OutOfMemory(what, config);
  }
}

absl::StatusOr<std::unique_ptr<Gpt2Model>> Gpt2Model::FromFile(const std::string& path,
                                                               const LoadLimits& limits) {
  const std::string what = "'" + path + "'";
  KLAB_ASSIGN_OR_RETURN(
      const std::vector<char> bytes,
      ReadModelFile(path, kHeaderInts * 4, [&](const std::vector<char>& header, int64_t size) {
        return CheckHeader(header.data(), header.size(), size, what, limits).status();
      }));
  return FromBuffer(bytes.data(), bytes.size(), what, limits);
}

absl::StatusOr<std::unique_ptr<Gpt2Model>> Gpt2Model::Create(const Gpt2Config& config,
                                                             uint32_t seed,
                                                             const LoadLimits& limits) {
  KLAB_RETURN_IF_ERROR(config.Validate());
  KLAB_RETURN_IF_ERROR(CheckMemory("GPT-2 config", config.MemoryBytes(), limits));
  try {
    std::unique_ptr<Gpt2Model> model(new Gpt2Model(config));
    XorshiftWeights stream(seed);
    model->LayOutWeights([&](float* p, size_t count, Kind kind, const char*) {
      switch (kind) {
        case Kind::kLinear: stream.Fill(p, count, 0x1p-5f, 0.0f); break;
        case Kind::kNormWeight: stream.Fill(p, count, 0x1p-3f, 1.0f); break;
        case Kind::kNormBias: stream.Fill(p, count, 0x1p-3f, 0.0f); break;
      }
    });
    model->PackLinearLayers();
    return model;
  } catch (const std::bad_alloc&) {
    return OutOfMemory("GPT-2 config", config);
  }
}

absl::Status Gpt2Model::Save(const std::string& path) const {
  const Gpt2Config& c = config_;
  const size_t V = c.vocab, T = c.block, D = c.d;
  std::vector<std::pair<const float*, size_t>> tensors = {{w_.wte, V * D}, {w_.wpe, T * D}};
  for (const Gpt2Weights::Layer& l : w_.layers) {
    tensors.insert(tensors.end(), {{l.ln1_w, D}, {l.ln1_b, D}, {l.attn_w, 3 * D * D},
                                   {l.attn_b, 3 * D}, {l.attnproj_w, D * D}, {l.attnproj_b, D},
                                   {l.ln2_w, D}, {l.ln2_b, D}, {l.fc_w, 4 * D * D},
                                   {l.fc_b, 4 * D}, {l.fcproj_w, D * 4 * D}, {l.fcproj_b, D}});
  }
  tensors.insert(tensors.end(), {{w_.lnf_w, D}, {w_.lnf_b, D}, {w_.head_w, V * D}});
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (f == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrFormat("cannot write '%s': %s", path, std::strerror(errno)));
  }
  const int32_t header[kHeaderInts] = {kMagic, 1, c.vocab, c.block, c.d, c.layers, c.heads, 0};
  bool ok = std::fwrite(header, sizeof(header), 1, f.get()) == 1;
  for (const auto& [p, n] : tensors) ok = ok && std::fwrite(p, 4, n, f.get()) == n;
  if (!ok || std::fflush(f.get()) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat("writing '%s' failed", path));
  }
  return absl::OkStatus();
}

int64_t Gpt2Model::weight_bytes_per_token() const {
  // Everything but the V - 1 unused rows of wte and the T - 1 unused rows of wpe.
  const int64_t D = config_.d;
  return (params() - (config_.vocab - 1) * D - (config_.block - 1) * D) * 4;
}

std::vector<PackedLinear> Gpt2Model::linear_layers() const {
  std::vector<PackedLinear> layers;
  for (const PackedLayer& l : packed_) {
    layers.insert(layers.end(), {l.attn, l.attnproj, l.fc, l.fcproj});
  }
  layers.push_back(head_);
  return layers;
}

int64_t Gpt2Model::flops_per_token(int pos) const {
  const int64_t D = config_.d, L = config_.layers;
  const int64_t linear = L * (3 * D * D + D * D + 8 * D * D) + int64_t{config_.vocab} * D;
  const int64_t attention = L * 2 * (pos + 1) * D;  // q.k and p.v over pos + 1 positions
  return 2 * (linear + attention);
}

int64_t Gpt2Model::kv_cache_bytes() const {
  return int64_t{2} * config_.layers * config_.block * config_.d * 4;
}

float* Gpt2Model::ForwardChecked(const int* tokens, int n, int pos) {
  assert(n >= 1 && pos >= 0 && pos + n <= config_.block);
  const int64_t D = config_.d;
  const AttentionShape shape{config_.heads, config_.heads, config_.d / config_.heads};
  {
    ProfileScope p(profile_, ForwardProfile::kOther);
    for (int i = 0; i < n; ++i) {
      assert(tokens[i] >= 0 && tokens[i] < config_.vocab);
      kernels::Add(D, w_.wte + tokens[i] * D, w_.wpe + (pos + i) * D, x_ + i * D);
    }
  }
  for (int l = 0; l < config_.layers; ++l) {
    const Gpt2Weights::Layer& w = w_.layers[l];
    const PackedLayer& pw = packed_[l];
    {
      ProfileScope p(profile_, ForwardProfile::kNorm);
      kernels::LayerNorm(n, D, x_, D, w.ln1_w, w.ln1_b, kLayerNormEps, xn_, D);
    }
    {
      ProfileScope p(profile_, ForwardProfile::kGemm);
      Apply(pw.attn, n, xn_, D, w.attn_b, qkv_, 3 * D);
    }
    {
      ProfileScope p(profile_, ForwardProfile::kOther);
      StoreKv(shape, n, pos, qkv_ + D, 3 * D, qkv_ + 2 * D, 3 * D, kv_cache_[l]);
    }
    {
      ProfileScope p(profile_, ForwardProfile::kAttention);
      CausalAttention(shape, n, pos, qkv_, 3 * D, kv_cache_[l], scores_, att_, D);
    }
    {
      ProfileScope p(profile_, ForwardProfile::kGemm);
      Apply(pw.attnproj, n, att_, D, w.attnproj_b, x_, D, /*accumulate=*/true);
    }
    {
      ProfileScope p(profile_, ForwardProfile::kNorm);
      kernels::LayerNorm(n, D, x_, D, w.ln2_w, w.ln2_b, kLayerNormEps, xn_, D);
    }
    {
      ProfileScope p(profile_, ForwardProfile::kGemm);
      Apply(pw.fc, n, xn_, D, w.fc_b, hidden_, 4 * D);
    }
    {
      ProfileScope p(profile_, ForwardProfile::kActivation);
      kernels::GeluTanh(n * 4 * D, hidden_, hidden_);
    }
    {
      ProfileScope p(profile_, ForwardProfile::kGemm);
      Apply(pw.fcproj, n, hidden_, 4 * D, w.fcproj_b, x_, D, /*accumulate=*/true);
    }
  }
  const float* last = x_ + (n - 1) * D;
  {
    ProfileScope p(profile_, ForwardProfile::kNorm);
    kernels::LayerNorm(1, D, last, D, w_.lnf_w, w_.lnf_b, kLayerNormEps, xn_, D);
  }
  {
    ProfileScope p(profile_, ForwardProfile::kGemm);
    Apply(head_, 1, xn_, D, nullptr, logits_, config_.vocab);
  }
  return logits_;
}

}  // namespace klab::models
