#include "models/reference.h"

#include <cmath>

namespace klab::models::reference {
namespace {

using Vec = std::vector<double>;
using Mat = std::vector<Vec>;

// y = W x (+ b), W stored (out, in) as floats.
Vec Matvec(const float* w, const float* b, const Vec& x, int out) {
  const size_t in = x.size();
  Vec y(out);
  for (int o = 0; o < out; ++o) {
    double s = b != nullptr ? b[o] : 0.0;
    for (size_t i = 0; i < in; ++i) s += static_cast<double>(w[o * in + i]) * x[i];
    y[o] = s;
  }
  return y;
}

Vec LayerNorm(const Vec& x, const float* w, const float* b, double eps) {
  double mean = 0, var = 0;
  for (double v : x) mean += v;
  mean /= x.size();
  for (double v : x) var += (v - mean) * (v - mean);
  var /= x.size();
  const double rstd = 1.0 / std::sqrt(var + eps);
  Vec y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = (x[i] - mean) * rstd * w[i] + b[i];
  return y;
}

double GeluTanh(double x) {
  return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

// Causal attention of all rows: q, k, v are n x (heads * hs); query head h uses kv head
// h / (heads / kv_heads).
Mat Attention(const Mat& q, const Mat& k, const Mat& v, int heads, int kv_heads, int hs) {
  const size_t n = q.size();
  Mat out(n, Vec(static_cast<size_t>(heads) * hs, 0.0));
  for (size_t t = 0; t < n; ++t) {
    for (int h = 0; h < heads; ++h) {
      const int g = h / (heads / kv_heads);
      Vec s(t + 1);
      double mx = -INFINITY;
      for (size_t j = 0; j <= t; ++j) {
        double dot = 0;
        for (int e = 0; e < hs; ++e) dot += q[t][h * hs + e] * k[j][g * hs + e];
        s[j] = dot / std::sqrt(static_cast<double>(hs));
        mx = std::max(mx, s[j]);
      }
      double sum = 0;
      for (double& x : s) sum += (x = std::exp(x - mx));
      for (size_t j = 0; j <= t; ++j) {
        for (int e = 0; e < hs; ++e) out[t][h * hs + e] += s[j] / sum * v[j][g * hs + e];
      }
    }
  }
  return out;
}

}  // namespace

Mat Gpt2Logits(const Gpt2Model& model, const std::vector<int>& tokens) {
  const Gpt2Config& c = model.config();
  const Gpt2Weights& w = model.weights();
  const size_t n = tokens.size();
  const int D = c.d;
  Mat x(n, Vec(D));
  for (size_t t = 0; t < n; ++t) {
    for (int i = 0; i < D; ++i) x[t][i] = double{w.wte[tokens[t] * D + i]} + w.wpe[t * D + i];
  }
  for (const Gpt2Weights::Layer& l : w.layers) {
    Mat q(n), k(n), v(n);
    for (size_t t = 0; t < n; ++t) {
      const Vec qkv = Matvec(l.attn_w, l.attn_b, LayerNorm(x[t], l.ln1_w, l.ln1_b, 1e-5), 3 * D);
      q[t].assign(qkv.begin(), qkv.begin() + D);
      k[t].assign(qkv.begin() + D, qkv.begin() + 2 * D);
      v[t].assign(qkv.begin() + 2 * D, qkv.end());
    }
    const Mat att = Attention(q, k, v, c.heads, c.heads, D / c.heads);
    for (size_t t = 0; t < n; ++t) {
      const Vec proj = Matvec(l.attnproj_w, l.attnproj_b, att[t], D);
      for (int i = 0; i < D; ++i) x[t][i] += proj[i];
      Vec h = Matvec(l.fc_w, l.fc_b, LayerNorm(x[t], l.ln2_w, l.ln2_b, 1e-5), 4 * D);
      for (double& e : h) e = GeluTanh(e);
      const Vec mlp = Matvec(l.fcproj_w, l.fcproj_b, h, D);
      for (int i = 0; i < D; ++i) x[t][i] += mlp[i];
    }
  }
  Mat logits(n);
  for (size_t t = 0; t < n; ++t) {
    logits[t] = Matvec(w.head_w, nullptr, LayerNorm(x[t], w.lnf_w, w.lnf_b, 1e-5), c.vocab);
  }
  return logits;
}

Mat LlamaLogits(const LlamaModel& model, const std::vector<int>& tokens) {
  const LlamaConfig& c = model.config();
  const LlamaWeights& w = model.weights();
  const size_t n = tokens.size();
  const int D = c.dim, H = c.hidden_dim, KV = c.kv_dim(), hs = c.head_size();
  auto rmsnorm = [&](const Vec& x, const float* g) {
    double ss = 0;
    for (double v : x) ss += v * v;
    const double r = 1.0 / std::sqrt(ss / x.size() + 1e-5);
    Vec y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * r * g[i];
    return y;
  };
  // Rotates pairs (2i, 2i + 1) of each head by pos * 10000^(-2i / hs).
  auto rope = [&](Vec& x, size_t pos) {
    for (size_t h = 0; h < x.size() / hs; ++h) {
      for (int i = 0; i < hs / 2; ++i) {
        const double angle = pos * std::pow(10000.0, -2.0 * i / hs);
        double& a = x[h * hs + 2 * i];
        double& b = x[h * hs + 2 * i + 1];
        const double a0 = a, b0 = b;
        a = a0 * std::cos(angle) - b0 * std::sin(angle);
        b = a0 * std::sin(angle) + b0 * std::cos(angle);
      }
    }
  };
  Mat x(n, Vec(D));
  for (size_t t = 0; t < n; ++t) {
    for (int i = 0; i < D; ++i) x[t][i] = w.token_embedding[tokens[t] * D + i];
  }
  for (int l = 0; l < c.n_layers; ++l) {
    Mat q(n), k(n), v(n);
    for (size_t t = 0; t < n; ++t) {
      const Vec xn = rmsnorm(x[t], w.rms_att + l * D);
      q[t] = Matvec(w.wq + int64_t{l} * D * D, nullptr, xn, D);
      k[t] = Matvec(w.wk + int64_t{l} * KV * D, nullptr, xn, KV);
      v[t] = Matvec(w.wv + int64_t{l} * KV * D, nullptr, xn, KV);
      rope(q[t], t);
      rope(k[t], t);
    }
    const Mat att = Attention(q, k, v, c.n_heads, c.n_kv_heads, hs);
    for (size_t t = 0; t < n; ++t) {
      const Vec o = Matvec(w.wo + int64_t{l} * D * D, nullptr, att[t], D);
      for (int i = 0; i < D; ++i) x[t][i] += o[i];
      const Vec xn = rmsnorm(x[t], w.rms_ffn + l * D);
      Vec h1 = Matvec(w.w1 + int64_t{l} * H * D, nullptr, xn, H);
      const Vec h3 = Matvec(w.w3 + int64_t{l} * H * D, nullptr, xn, H);
      for (int i = 0; i < H; ++i) h1[i] = h1[i] / (1.0 + std::exp(-h1[i])) * h3[i];
      const Vec down = Matvec(w.w2 + int64_t{l} * D * H, nullptr, h1, D);
      for (int i = 0; i < D; ++i) x[t][i] += down[i];
    }
  }
  Mat logits(n);
  for (size_t t = 0; t < n; ++t) {
    logits[t] = Matvec(w.wcls, nullptr, rmsnorm(x[t], w.rms_final), c.vocab_size);
  }
  return logits;
}

}  // namespace klab::models::reference
