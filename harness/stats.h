// Summary statistics of timing samples.
//
// Medians and MAD (median absolute deviation) are the robust pair the suites report: a shared,
// virtualised machine produces occasional slow outliers (steal time, another tenant), and one
// outlier moves a mean and a standard deviation but not a median. Percentiles use linear
// interpolation between order statistics (type 7, as numpy's default), so p50 == median.
#ifndef KLAB_HARNESS_STATS_H_
#define KLAB_HARNESS_STATS_H_

#include <vector>

namespace klab::harness {

struct Summary {
  int count = 0;
  double min = 0, max = 0, median = 0, p95 = 0, mean = 0;
  double stddev = 0;  // sample standard deviation (n - 1); 0 for fewer than two samples
  double mad = 0;     // median of |x - median|, unscaled
};

// Percentile q in [0, 1] of `sorted` (ascending, non-empty), interpolated linearly.
double Percentile(const std::vector<double>& sorted, double q);

// The summary of `samples` (any order). An empty input gives a zero Summary with count 0.
Summary Summarize(std::vector<double> samples);

// A 95% confidence interval of the median by the percentile bootstrap: `resamples` resamples
// of the samples with replacement (a fixed-seed generator, so a run's interval is reproducible),
// the 2.5th and 97.5th percentiles of their medians. Distribution-free, which timing samples
// (skewed by outliers) need. {0, 0} for no samples.
struct Interval {
  double lo = 0, hi = 0;
};
Interval BootstrapMedianCi(const std::vector<double>& samples, int resamples = 1000,
                           unsigned seed = 1);

}  // namespace klab::harness

#endif  // KLAB_HARNESS_STATS_H_
