// The workloads of //perf:train_bench, ours: the profiling report's MLP training step and its
// matmul backward pass, written on the lab's kernels with every buffer allocated once, and the
// GPT-2 trainer's step on stories sampled from stories260K. Each has a check against a
// reference that runs before anything is timed.
#ifndef KLAB_PERF_TRAIN_WORKLOADS_H_
#define KLAB_PERF_TRAIN_WORKLOADS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "harness/aligned_buffer.h"
#include "kernels/gemm/gemm.h"
#include "perf/measuring.h"

namespace klab::perf {

// x (32 x 256) -> Linear(256, 256) -> GELU (tanh) -> Linear(256, 256), mean squared error
// against a fixed target, SGD at lr 0.01: the report's "training workload" taken literally.
class MlpWorkload {
 public:
  static constexpr int kBatch = 32, kWidth = 256;
  static constexpr float kLr = 0.01f;
  explicit MlpWorkload(uint64_t seed);
  float Step();  // forward, backward, SGD; returns the loss before the update
  // The first step's loss and gradients against the same computed in double.
  CheckResult Check();
  // 2 forward GEMMs, 3 backward (dW2, dH, dW1; the input needs no gradient), 2 B W^2 FLOP each.
  static double FlopsPerStep() { return 5.0 * 2 * kBatch * kWidth * kWidth; }
  void Reset();  // back to the initial weights

 private:
  harness::AlignedBuffer x_, target_, w1_, b1_, w2_, b2_, w1_0_, b1_0_, w2_0_, b2_0_;
  harness::AlignedBuffer h_, g_, y_, dy_, dg_, dh_, dw1_, db1_, dw2_, db2_;
};

// dA = dC B^T and dB = A^T dC for C = A B, A 128 x 256, B 256 x 128: the report's matmul
// backward pass. `gemm` runs one SgemmArgs (ours: kernels::Sgemm; a peer library's Sgemm).
class MatmulBackward {
 public:
  static constexpr int kM = 128, kK = 256, kN = 128;
  explicit MatmulBackward(uint64_t seed);
  void Run(void (*gemm)(const kernels::SgemmArgs&, void*), void* context);
  CheckResult Check() const;  // dA and dB against the fp64 reference
  void PoisonOutputs();       // NaN in dA and dB, so a call that writes nothing fails its check
  static double Flops() { return 2.0 * 2 * kM * kK * kN; }

 private:
  harness::AlignedBuffer a_, b_, dc_, da_, db_;
};

}  // namespace klab::perf

#endif  // KLAB_PERF_TRAIN_WORKLOADS_H_
