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

// How a series is drawn. Within one chart no two series share a look: the colour comes from the
// series' index in a 20-colour palette unless it names its own, and a series whose colour another
// already has gets the next marker shape (circle, square, triangle, diamond). Dashed series (the
// peers) keep their dash and are drawn with hollow markers, so they never read as ours.
struct SeriesLook {
  std::string color;
  std::string marker;  // "circle", "square", "triangle", "diamond"
  bool dashed = false;
  bool operator==(const SeriesLook& o) const {
    return color == o.color && marker == o.marker && dashed == o.dashed;
  }
};
std::vector<SeriesLook> SeriesLooks(const std::vector<PlotSeries>& series);

// A horizontal bar per named row (change charts, ratios to a peer): the row names stand at the
// left, so each bar says which case it is.
struct Bar {
  std::string label;
  double value = 0;
  std::string color = "#1f77b4";
  std::string note;  // printed after the bar, e.g. "1.07x" or "faster"
};
std::string BarChartSvg(const std::string& title, const std::string& x_label,
                        const std::vector<Bar>& bars,
                        const std::vector<std::pair<std::string, double>>& references = {});

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
