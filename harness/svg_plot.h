// Small SVG charts for result files: a line chart (GFLOP/s vs size per variant, with reference
// lines such as the measured peak) and a roofline (arithmetic intensity vs GFLOP/s under the
// measured compute and bandwidth ceilings). Plain SVG 1.1 text, no dependencies; any browser or
// `rsvg-convert -o chart.png chart.svg` renders it.
#ifndef KLAB_HARNESS_SVG_PLOT_H_
#define KLAB_HARNESS_SVG_PLOT_H_

#include <string>
#include <utility>
#include <vector>

namespace klab::harness {

struct PlotSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), drawn in x order
  bool dashed = false;        // e.g. peer libraries
  bool markers_only = false;  // a scatter: points without a connecting line
  std::string color = {};     // "#rrggbb"; empty: the palette's colour for the series' index
};

struct ReferenceLine {
  std::string label;
  double y = 0;
};

struct PlotOptions {
  std::string title, x_label, y_label;
  bool log_x = false;  // log2 axis (sizes)
  bool log_y = false;  // log10 axis
};

// Lines with markers, a legend, axes with ticks; horizontal reference lines labelled at the right.
std::string LineChartSvg(const PlotOptions& options, const std::vector<PlotSeries>& series,
                         const std::vector<ReferenceLine>& references = {});

// Roofline on log-log axes: the compute ceiling `peak_gflops` (flat), each bandwidth ceiling
// (label, GB/s) as the line GFLOP/s = GB/s x intensity up to the ridge, and the points of each
// series (x = FLOP per byte, y = GFLOP/s).
std::string RooflineSvg(const std::string& title, double peak_gflops,
                        const std::vector<std::pair<std::string, double>>& bandwidths_gbs,
                        const std::vector<PlotSeries>& points);

}  // namespace klab::harness

#endif  // KLAB_HARNESS_SVG_PLOT_H_
