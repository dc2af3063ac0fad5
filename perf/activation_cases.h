// The cases of //perf:activation_sweep: every op of the elementwise, activation, softmax and norm
// families at the requested sizes, each with its inputs, its output, the implementations that
// write it (every supported variant of the family, and libmvec where it has the op) and the check
// of an output against the fp64 reference as a fraction of the bound in the kernel's header.
// The op table in activation_cases.cc is the one place an op is added to the sweep.
#ifndef KLAB_PERF_ACTIVATION_CASES_H_
#define KLAB_PERF_ACTIVATION_CASES_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/name_filter.h"
#include "harness/aligned_buffer.h"
#include "harness/json.h"

namespace klab::perf {

struct ActivationImpl {
  std::string variant, impl, isa;  // impl: "kernel-lab", "std" (the scalar variant) or "libmvec"
  std::function<void()> call;
};

struct ActivationCase {
  std::string op, label;
  harness::Json shape;
  double elements = 0, bytes = 0;  // bytes: each input and output byte once
  int inputs = 1;                  // array streams read (the output is the one written): 1 or 2
  std::vector<std::shared_ptr<harness::AlignedBuffer>> keep;  // inputs and output
  float* y = nullptr;
  size_t y_size = 0;
  // The largest error of an output as a fraction of the op's documented bound (<= 1 passes).
  std::function<double(const float*)> check;
  std::vector<ActivationImpl> impls;
};

struct ActivationSizes {
  std::vector<int64_t> sizes;         // array lengths of the elementwise ops
  std::vector<int64_t> softmax_cols;  // softmax row lengths (32 rows each)
};

// The cases of the ops `ops` matches, in the table's order, inputs drawn from `seed`.
std::vector<ActivationCase> BuildActivationCases(const ActivationSizes& sizes,
                                                 const NameFilter& ops, uint32_t seed);

}  // namespace klab::perf

#endif  // KLAB_PERF_ACTIVATION_CASES_H_
