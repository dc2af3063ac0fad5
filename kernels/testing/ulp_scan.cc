#include "kernels/testing/ulp_scan.h"

#include <algorithm>
#include <bit>
#include <thread>
#include <vector>

#include "kernels/testing/ulp.h"

namespace klab::kernels::testing {
namespace {

constexpr size_t kChunk = 4096;

// One signed half of the range: magnitudes with bit patterns [0, last], every stride-th.
struct Half {
  uint32_t sign;  // 0 or 0x80000000
  uint32_t last;  // bit pattern of the largest magnitude
};

void ScanPart(ArrayFn fn, ExactFn exact, const Half& half, uint32_t stride, uint64_t first_step,
              uint64_t end_step, double abs_floor, UlpScanResult* out) {
  std::vector<float> x(kChunk), y(kChunk);
  UlpScanResult r;
  for (uint64_t step = first_step; step < end_step;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, end_step - step));
    for (size_t i = 0; i < n; ++i) {
      const uint32_t bits = static_cast<uint32_t>((step + i) * stride);
      x[i] = std::bit_cast<float>(bits | half.sign);
    }
    fn(n, x.data(), y.data());
    for (size_t i = 0; i < n; ++i) {
      const double e = exact(static_cast<double>(x[i]));
      const double err = UlpError(y[i], e, abs_floor);
      if (err > r.max_ulp || (err != err)) {
        r.max_ulp = err;
        r.worst_x = x[i];
        r.worst_y = y[i];
        r.worst_exact = e;
      }
    }
    r.points += n;
    step += n;
  }
  *out = r;
}

}  // namespace

UlpScanResult UlpScan(ArrayFn fn, ExactFn exact, UlpScanRange range, uint32_t stride, int threads,
                      double abs_floor) {
  std::vector<Half> halves;
  if (range.max_abs_pos >= 0) halves.push_back({0u, std::bit_cast<uint32_t>(range.max_abs_pos)});
  if (range.max_abs_neg > 0) {
    halves.push_back({0x80000000u, std::bit_cast<uint32_t>(range.max_abs_neg)});
  }
  threads = std::max(1, threads);
  UlpScanResult total;
  for (const Half& half : halves) {
    const uint64_t steps = uint64_t{half.last} / stride + 1;
    std::vector<UlpScanResult> parts(threads);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      const uint64_t begin = steps * t / threads, end = steps * (t + 1) / threads;
      workers.emplace_back(ScanPart, fn, exact, std::cref(half), stride, begin, end, abs_floor,
                           &parts[t]);
    }
    for (std::thread& w : workers) w.join();
    for (const UlpScanResult& p : parts) {
      total.points += p.points;
      if (p.max_ulp > total.max_ulp) {
        const uint64_t points = total.points;
        total = p;
        total.points = points;
      }
    }
  }
  return total;
}

}  // namespace klab::kernels::testing
