// Backward pass of a linear layer  Y = X W^T + b,  expressed through the transposed GEMMs.
//
//   X  (rows x in)    W  (out x in), stored as a linear layer stores it    b (out)
//   Y  (rows x out)   dY (rows x out), the gradient arriving from above
//
//   dX  = dY W         (rows x in)   LinearBackwardInput:  Sgemm(N, N), overwrites dX
//   dW += dY^T X       (out x in)    LinearBackwardWeight: Sgemm(T, N), accumulates (beta = 1)
//   db += sum_r dY[r]  (out)         LinearBackwardBias:   accumulates
//
// All matrices are dense row-major (leading dimension = row length). dW and db accumulate so a
// training step can sum gradients over micro-batches; zero them first for a fresh gradient.
// Errors: InvalidArgument for negative dimensions or null pointers with nonzero sizes. The error
// bound is Sgemm's, with K = out for dX and K = rows for dW.
#ifndef KLAB_KERNELS_GEMM_GEMM_BACKWARD_H_
#define KLAB_KERNELS_GEMM_GEMM_BACKWARD_H_

#include <cstdint>

#include "absl/status/status.h"

namespace klab::kernels {

struct LinearDims {
  int64_t rows = 0;  // batch x sequence positions
  int64_t in = 0;    // input features
  int64_t out = 0;   // output features
};

absl::Status LinearBackwardInput(const LinearDims& d, const float* dy, const float* w, float* dx);
absl::Status LinearBackwardWeight(const LinearDims& d, const float* dy, const float* x, float* dw);
absl::Status LinearBackwardBias(const LinearDims& d, const float* dy, float* db);

}  // namespace klab::kernels

#endif  // KLAB_KERNELS_GEMM_GEMM_BACKWARD_H_
