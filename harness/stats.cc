#include "harness/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace klab::harness {

double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.size() == 1) return sorted[0];
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + frac * (sorted[hi] - sorted[lo]);
}

Summary Summarize(std::vector<double> x) {
  Summary s;
  if (x.empty()) return s;
  std::sort(x.begin(), x.end());
  s.count = static_cast<int>(x.size());
  s.min = x.front();
  s.max = x.back();
  s.median = Percentile(x, 0.5);
  s.p95 = Percentile(x, 0.95);
  s.mean = std::accumulate(x.begin(), x.end(), 0.0) / s.count;
  if (s.count > 1) {
    double ss = 0;
    for (double v : x) ss += (v - s.mean) * (v - s.mean);
    s.stddev = std::sqrt(ss / (s.count - 1));
  }
  std::vector<double> dev(x.size());
  for (size_t i = 0; i < x.size(); ++i) dev[i] = std::fabs(x[i] - s.median);
  std::sort(dev.begin(), dev.end());
  s.mad = Percentile(dev, 0.5);
  return s;
}

Interval BootstrapMedianCi(const std::vector<double>& samples, int resamples, unsigned seed) {
  if (samples.empty()) return {};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, samples.size() - 1);
  std::vector<double> medians, resample(samples.size());
  medians.reserve(resamples);
  for (int r = 0; r < resamples; ++r) {
    for (double& v : resample) v = samples[pick(rng)];
    // The median without a full sort: the middle order statistic (and, for an even count, the
    // largest value below it), as Percentile(sorted, 0.5) would give.
    const size_t mid = resample.size() / 2;
    std::nth_element(resample.begin(), resample.begin() + mid, resample.end());
    double median = resample[mid];
    if (resample.size() % 2 == 0) {
      median = (median + *std::max_element(resample.begin(), resample.begin() + mid)) / 2;
    }
    medians.push_back(median);
  }
  std::sort(medians.begin(), medians.end());
  return {Percentile(medians, 0.025), Percentile(medians, 0.975)};
}

}  // namespace klab::harness
