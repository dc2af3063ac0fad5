// //lab/models:decode_kernels_bench — the two kernels a decode step spends its time in, each
// against the alternative it replaced, on the shapes of the lab's three models:
//   1. The linear layers of one token, in model order: Sgemm's GEMV (dot form on W stored
//      (out, in)) vs kernels/linear on packed weights, 1 thread and the pool's 2.
//   2. Decode attention of one kv head: the fused kernels/attention call vs the same through
//      Sgemm (scores = q K^T, softmax, P V).
// Each case is timed with the harness (warm-up, repetitions, median) in rounds, so the two sides
// of a comparison see the same machine. Prints a table; writes nothing.
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "harness/aligned_buffer.h"
#include "harness/measure.h"
#include "kernels/attention/attention.h"
#include "kernels/gemm/gemm.h"
#include "kernels/gemm/gemm_config.h"
#include "kernels/linear/linear.h"
#include "kernels/peak/bandwidth.h"
#include "kernels/softmax/softmax.h"

namespace klab::lab {
namespace {

using harness::AlignedBuffer;
using kernels::Trans;

struct Shape {
  int out, in;
};

// The linear layers of one decode step (out x in), in the order a forward runs them.
std::vector<Shape> Gpt2Layers(int d, int layers, int vocab) {
  std::vector<Shape> s;
  for (int l = 0; l < layers; ++l) {
    s.insert(s.end(), {{3 * d, d}, {d, d}, {4 * d, d}, {d, 4 * d}});
  }
  s.push_back({vocab, d});
  return s;
}
std::vector<Shape> LlamaLayers(int d, int kv, int hidden, int layers, int vocab) {
  std::vector<Shape> s;
  for (int l = 0; l < layers; ++l) {
    s.insert(s.end(), {{d, d}, {kv, d}, {kv, d}, {d, d}, {hidden, d}, {hidden, d}, {d, hidden}});
  }
  s.push_back({vocab, d});
  return s;
}

AlignedBuffer Filled(size_t n, float v) {
  AlignedBuffer b(n);
  for (size_t i = 0; i < n; ++i) b[i] = v * static_cast<float>((i * 7919) % 97) / 97.0f;
  return b;
}

// Interleaves the bodies in rounds and returns each one's median ns.
std::vector<double> MedianNs(const std::vector<std::function<void()>>& bodies) {
  harness::MeasureOptions options;
  options.min_reps = 31;
  options.min_time_s = 0.2;
  options.min_sample_s = 0.0005;
  std::vector<std::unique_ptr<harness::Sampler>> samplers;
  for (const auto& b : bodies) {
    samplers.push_back(std::make_unique<harness::Sampler>(b, options));
    samplers.back()->Warmup();
  }
  for (bool any = true; any;) {
    any = false;
    for (auto& s : samplers) {
      if (s->Done()) continue;
      s->TakeSample();
      any = true;
    }
  }
  std::vector<double> out;
  for (auto& s : samplers) out.push_back(s->Finish().summary.median);
  return out;
}

void LinearSets() {
  struct Set {
    const char* model;
    std::vector<Shape> shapes;
  };
  const Set sets[] = {{"gpt2-small", Gpt2Layers(128, 2, 256)},
                      {"gpt2-medium", Gpt2Layers(256, 4, 512)},
                      {"stories260K", LlamaLayers(64, 32, 172, 5, 512)}};
  std::printf("## Linear layers of one decode step (M = 1)\n\n");
  std::printf("| model | weights | threads | Sgemm (dot form) µs | GB/s | packed µs | GB/s | "
              "packed / Sgemm |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Set& set : sets) {
    std::vector<AlignedBuffer> w, packed;
    double bytes = 0;
    for (const Shape& s : set.shapes) {
      w.push_back(Filled(size_t(s.out) * s.in, 0.01f));
      packed.emplace_back(kernels::PackedLinearSize(s.out, s.in));
      kernels::PackLinearWeights(s.out, s.in, w.back().data(), s.in, packed.back().data());
      bytes += 4.0 * s.out * s.in;
    }
    AlignedBuffer x = Filled(4096, 1.0f), y(4096);
    for (int threads : {1, 2}) {
      kernels::SetGemmThreads(threads);
      auto sgemm = [&] {
        for (size_t i = 0; i < set.shapes.size(); ++i) {
          const Shape& s = set.shapes[i];
          (void)kernels::Sgemm(Trans::kNo, Trans::kYes, 1, s.out, s.in, 1.0f, x.data(), s.in,
                               w[i].data(), s.in, 0.0f, y.data(), s.out);
        }
      };
      auto linear = [&] {
        for (size_t i = 0; i < set.shapes.size(); ++i) {
          const Shape& s = set.shapes[i];
          kernels::LinearThreaded(1, s.out, s.in, x.data(), s.in, packed[i].data(), nullptr,
                                  y.data(), s.out, false);
        }
      };
      const std::vector<double> ns = MedianNs({sgemm, linear});
      std::printf("| %s | %.0f KiB | %d | %.2f | %.1f | %.2f | %.1f | %.2fx |\n", set.model,
                  bytes / 1024, threads, ns[0] / 1e3, bytes / ns[0], ns[1] / 1e3, bytes / ns[1],
                  ns[0] / ns[1]);
    }
  }
  kernels::SetGemmThreads(1);
}

void Attention() {
  std::printf("\n## Decode attention of one kv head (1 thread)\n\n");
  std::printf("| shape | len | through Sgemm µs | fused µs | Sgemm / fused |\n"
              "|---|---:|---:|---:|---:|\n");
  struct Case {
    const char* name;
    int group, hs;
  };
  const int T = 512;
  for (const Case c : {Case{"stories260K (2 query heads, hs 8)", 2, 8},
                       Case{"GPT-2 (1 query head, hs 32)", 1, 32}}) {
    const int kv = 4 * c.hs;  // values rows of 4 kv heads, as in a model
    AlignedBuffer q = Filled(c.group * c.hs, 0.5f), keys_t = Filled(size_t(c.hs) * T, 0.7f),
                  values = Filled(size_t(T) * kv, 0.3f), scores(c.group * T),
                  out(c.group * c.hs);
    const float scale = 1.0f / std::sqrt(float(c.hs));
    for (int len : {16, 64, 256}) {
      auto gemm = [&] {
        (void)kernels::Sgemm(Trans::kNo, Trans::kNo, c.group, len, c.hs, scale, q.data(), c.hs,
                             keys_t.data(), T, 0.0f, scores.data(), len);
        kernels::Softmax(c.group, len, scores.data(), len, scores.data(), len);
        (void)kernels::Sgemm(Trans::kNo, Trans::kNo, c.group, c.hs, len, 1.0f, scores.data(), len,
                             values.data(), kv, 0.0f, out.data(), c.hs);
      };
      auto fused = [&] {
        kernels::AttentionDecode(c.group, c.hs, len, scale, q.data(), c.hs, keys_t.data(), T,
                                 values.data(), kv, scores.data(), out.data(), c.hs);
      };
      const std::vector<double> ns = MedianNs({gemm, fused});
      std::printf("| %s | %d | %.3f | %.3f | %.2fx |\n", c.name, len, ns[0] / 1e3, ns[1] / 1e3,
                  ns[0] / ns[1]);
    }
  }
}

// One packed GEMV (k = 128) against the read kernel on the same bytes, as the matrix grows
// through the 2 MiB L2: where the decode of a model that nearly fills L2 stands.
void L2Cliff() {
  std::printf("\n## One GEMV (M = 1, k = 128) vs reading the same bytes, 1 thread\n\n");
  std::printf("| weights | GEMV GB/s | read GB/s | GEMV / read |\n|---:|---:|---:|---:|\n");
  for (int n : {2048, 3072, 3328, 3584, 3840, 4096}) {
    const int k = 128;
    AlignedBuffer w = Filled(size_t(n) * k, 0.01f), packed(kernels::PackedLinearSize(n, k));
    kernels::PackLinearWeights(n, k, w.data(), k, packed.data());
    AlignedBuffer x = Filled(k, 1.0f), y(n);
    volatile float sink = 0;
    auto gemv = [&] {
      kernels::Linear(1, n, k, x.data(), k, packed.data(), nullptr, y.data(), n, false);
    };
    auto read = [&] { sink = sink + kernels::ReadF32(size_t(n) * k, packed.data()); };
    const std::vector<double> ns = MedianNs({gemv, read});
    const double bytes = 4.0 * n * k;
    std::printf("| %.0f KiB | %.1f | %.1f | %.2f |\n", bytes / 1024, bytes / ns[0], bytes / ns[1],
                ns[1] / ns[0]);
  }
}

}  // namespace
}  // namespace klab::lab

int main() {
  klab::lab::LinearSets();
  klab::lab::Attention();
  klab::lab::L2Cliff();
  return 0;
}
