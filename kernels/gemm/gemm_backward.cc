#include "kernels/gemm/gemm_backward.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "kernels/gemm/gemm.h"

namespace klab::kernels {
namespace {
absl::Status CheckDims(const LinearDims& d) {
  if (d.rows < 0 || d.in < 0 || d.out < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "linear backward: negative dimension (rows %d, in %d, out %d)", d.rows, d.in, d.out));
  }
  return absl::OkStatus();
}
}  // namespace

absl::Status LinearBackwardInput(const LinearDims& d, const float* dy, const float* w, float* dx) {
  absl::Status s = CheckDims(d);
  if (!s.ok()) return s;
  // dX (rows x in) = dY (rows x out) * W (out x in)
  return Sgemm(Trans::kNo, Trans::kNo, d.rows, d.in, d.out, 1.0f, dy, std::max<int64_t>(d.out, 1),
               w, std::max<int64_t>(d.in, 1), 0.0f, dx, std::max<int64_t>(d.in, 1));
}

absl::Status LinearBackwardWeight(const LinearDims& d, const float* dy, const float* x, float* dw) {
  absl::Status s = CheckDims(d);
  if (!s.ok()) return s;
  // dW (out x in) += dY^T (out x rows, dY stored rows x out) * X (rows x in)
  return Sgemm(Trans::kYes, Trans::kNo, d.out, d.in, d.rows, 1.0f, dy, std::max<int64_t>(d.out, 1),
               x, std::max<int64_t>(d.in, 1), 1.0f, dw, std::max<int64_t>(d.in, 1));
}

absl::Status LinearBackwardBias(const LinearDims& d, const float* dy, float* db) {
  absl::Status s = CheckDims(d);
  if (!s.ok()) return s;
  if (d.out == 0) return absl::OkStatus();
  if (db == nullptr || (d.rows > 0 && dy == nullptr)) {
    return absl::InvalidArgumentError("linear backward: null dy or db");
  }
  for (int64_t r = 0; r < d.rows; ++r) {
    const float* row = dy + r * d.out;
    for (int64_t j = 0; j < d.out; ++j) db[j] += row[j];
  }
  return absl::OkStatus();
}

}  // namespace klab::kernels
