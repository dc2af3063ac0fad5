#include "harness/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "absl/strings/str_format.h"

namespace klab::harness {
namespace {

constexpr double kWidth = 860, kHeight = 480;
constexpr double kLeft = 70, kRight = 230, kTop = 40, kBottom = 60;  // plot margins; legend right
// Twenty distinguishable colours (the "tab20" palette: each hue dark, then light).
constexpr const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                   "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22",
                                   "#aec7e8", "#ff9896", "#98df8a", "#ffbb78", "#c5b0d5",
                                   "#c49c94", "#f7b6d2", "#9edae5", "#393b79", "#637939"};

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// A linear or logarithmic map from data to pixels.
struct Axis {
  double lo, hi;  // data range (already positive for log axes)
  bool log;
  double p0, p1;  // pixel range
  double T(double v) const { return log ? std::log(v) : v; }
  double operator()(double v) const {
    return p0 + (T(v) - T(lo)) / (T(hi) - T(lo)) * (p1 - p0);
  }
};

std::string Number(double v) {
  if (v != 0 && (std::abs(v) >= 1e5 || std::abs(v) < 1e-2)) return absl::StrFormat("%.0e", v);
  if (std::abs(v - std::round(v)) < 1e-9) return absl::StrFormat("%.0f", v);
  return absl::StrFormat("%.3g", v);
}

// Tick values: powers of 2 (log_x), 1-2-5 decades (log y), or ~6 round steps (linear).
std::vector<double> Ticks(double lo, double hi, bool log, bool base2) {
  std::vector<double> t;
  if (log && base2) {
    for (double v = std::exp2(std::floor(std::log2(lo))); v <= hi * 1.0001; v *= 2) {
      if (v >= lo * 0.9999) t.push_back(v);
    }
  } else if (log) {
    for (double d = std::pow(10, std::floor(std::log10(lo))); d <= hi * 1.0001; d *= 10) {
      for (double m : {1.0, 2.0, 5.0}) {
        if (d * m >= lo * 0.9999 && d * m <= hi * 1.0001) t.push_back(d * m);
      }
    }
  } else {
    const double raw = (hi - lo) / 6, mag = std::pow(10, std::floor(std::log10(raw)));
    const double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
    for (double v = std::ceil(lo / step) * step; v <= hi + 1e-9; v += step) t.push_back(v);
  }
  return t;
}

void Frame(std::ostringstream& svg, const PlotOptions& o, const Axis& x, const Axis& y) {
  svg << absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      "<text x=\"%.0f\" y=\"24\" font-size=\"15\" font-weight=\"bold\">%s</text>\n",
      kWidth, kHeight, kLeft, Escape(o.title));
  for (double t : Ticks(x.lo, x.hi, x.log, true)) {
    const double px = x(t);
    svg << absl::StrFormat(
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>\n"
        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
        px, y.p1, px, y.p0, px, y.p0 + 16, Number(t));
  }
  for (double t : Ticks(y.lo, y.hi, y.log, false)) {
    const double py = y(t);
    svg << absl::StrFormat(
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>\n"
        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
        x.p0, py, x.p1, py, x.p0 - 6, py + 4, Number(t));
  }
  svg << absl::StrFormat(
      "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"black\"/>\n"
      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n"
      "<text transform=\"translate(18,%.1f) rotate(-90)\" text-anchor=\"middle\">%s</text>\n",
      x.p0, y.p1, x.p1 - x.p0, y.p0 - y.p1, (x.p0 + x.p1) / 2, kHeight - 18, Escape(o.x_label),
      (y.p0 + y.p1) / 2, Escape(o.y_label));
}

constexpr const char* kMarkers[] = {"circle", "square", "triangle", "diamond"};

void Marker(std::ostringstream& svg, const SeriesLook& look, double cx, double cy) {
  const std::string paint = look.dashed
      ? absl::StrFormat("fill=\"white\" stroke=\"%s\" stroke-width=\"1.5\"", look.color)
      : absl::StrFormat("fill=\"%s\"", look.color);
  const double r = 3.5;
  if (look.marker == "square") {
    svg << absl::StrFormat("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" %s/>\n",
                           cx - r, cy - r, 2 * r, 2 * r, paint);
  } else if (look.marker == "triangle") {
    svg << absl::StrFormat("<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" %s/>\n", cx,
                           cy - r - 1, cx - r - 1, cy + r, cx + r + 1, cy + r, paint);
  } else if (look.marker == "diamond") {
    svg << absl::StrFormat("<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f\" %s/>\n",
                           cx, cy - r - 1, cx + r + 1, cy, cx, cy + r + 1, cx - r - 1, cy, paint);
  } else {
    svg << absl::StrFormat("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" %s/>\n", cx, cy, r, paint);
  }
}

void Series(std::ostringstream& svg, const std::vector<PlotSeries>& series, const Axis& x,
            const Axis& y, bool lines) {
  const std::vector<SeriesLook> looks = SeriesLooks(series);
  for (size_t i = 0; i < series.size(); ++i) {
    const PlotSeries& s = series[i];
    const SeriesLook& look = looks[i];
    std::vector<std::pair<double, double>> pts = s.points;
    std::sort(pts.begin(), pts.end());
    if (lines && !s.markers_only && pts.size() > 1) {
      svg << "<polyline fill=\"none\" stroke=\"" << look.color << "\" stroke-width=\"2\""
          << (s.dashed ? " stroke-dasharray=\"6,4\"" : "") << " points=\"";
      for (const auto& [px, py] : pts) svg << absl::StrFormat("%.1f,%.1f ", x(px), y(py));
      svg << "\"/>\n";
    }
    for (const auto& [px, py] : pts) Marker(svg, look, x(px), y(py));
    const double ly = kTop + 14 + 18 * i;
    svg << absl::StrFormat(
        "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s/>\n",
        kWidth - kRight + 10, ly, kWidth - kRight + 38, ly, look.color,
        s.dashed ? " stroke-dasharray=\"6,4\"" : "");
    Marker(svg, look, kWidth - kRight + 24, ly);
    svg << absl::StrFormat("<text x=\"%.0f\" y=\"%.1f\">%s</text>\n", kWidth - kRight + 44,
                           ly + 4, Escape(s.name));
  }
}

// Data range with a margin; positive for log axes.
std::pair<double, double> Range(std::vector<double> v, bool log, bool from_zero) {
  if (v.empty()) return {1, 10};
  double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
  if (log) {
    lo = std::max(lo, 1e-12);
    return {lo / 1.3, hi * 1.3};
  }
  if (hi == lo) hi = lo + 1;
  const double margin = 0.06 * (hi - lo);
  if (from_zero && lo >= 0) return {0.0, hi + margin};
  return {lo - margin, hi + margin};
}

}  // namespace

std::vector<SeriesLook> SeriesLooks(const std::vector<PlotSeries>& series) {
  std::vector<SeriesLook> looks;
  for (size_t i = 0; i < series.size(); ++i) {
    SeriesLook look;
    look.color = series[i].color.empty() ? kColors[i % std::size(kColors)] : series[i].color;
    look.dashed = series[i].dashed;
    // The first marker no earlier series with this colour and dash has.
    for (size_t m = 0;; ++m) {
      look.marker = kMarkers[m % std::size(kMarkers)];
      if (m >= std::size(kMarkers)) look.color = kColors[(i + m) % std::size(kColors)];
      if (std::find(looks.begin(), looks.end(), look) == looks.end()) break;
    }
    looks.push_back(look);
  }
  return looks;
}

std::string BarChartSvg(const std::string& title, const std::string& x_label,
                        const std::vector<Bar>& bars,
                        const std::vector<std::pair<std::string, double>>& references) {
  constexpr double kLabelWidth = 330, kRowHeight = 18, kNoteWidth = 110;
  const double height = kTop + 30 + kRowHeight * std::max<size_t>(bars.size(), 1) + kBottom;
  std::vector<double> xs = {0};
  for (const Bar& b : bars) xs.push_back(b.value);
  for (const auto& r : references) xs.push_back(r.second);
  auto [lo, hi] = Range(xs, false, false);
  const Axis x{lo, hi, false, kLabelWidth, kWidth - kNoteWidth};
  std::ostringstream svg;
  svg << absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      "<text x=\"10\" y=\"24\" font-size=\"15\" font-weight=\"bold\">%s</text>\n",
      kWidth, height, Escape(title));
  const double top = kTop + 10, bottom = top + kRowHeight * bars.size();
  for (double t : Ticks(lo, hi, false, false)) {
    svg << absl::StrFormat(
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>\n"
        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
        x(t), top, x(t), bottom, x(t), bottom + 16, Number(t));
  }
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    const double y0 = top + kRowHeight * i, x0 = x(0), x1 = x(b.value);
    svg << absl::StrFormat(
        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%s</text>\n"
        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n"
        "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">%s</text>\n",
        kLabelWidth - 6, y0 + 12, Escape(b.label), std::min(x0, x1), y0 + 3,
        std::max(std::abs(x1 - x0), 0.5), kRowHeight - 6, b.color, x.p1 + 6, y0 + 12,
        Escape(b.note));
  }
  for (const auto& [label, value] : references) {
    svg << absl::StrFormat(
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\" "
        "stroke-dasharray=\"2,3\"/>\n<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
        "text-anchor=\"middle\">%s</text>\n",
        x(value), top - 4, x(value), bottom, x(value), top - 6, Escape(label));
  }
  svg << absl::StrFormat(
      "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n"
      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n</svg>\n",
      x(0), top, x(0), bottom, (x.p0 + x.p1) / 2, bottom + 36, Escape(x_label));
  return svg.str();
}

std::string LineChartSvg(const PlotOptions& o, const std::vector<PlotSeries>& series,
                         const std::vector<ReferenceLine>& references) {
  std::vector<double> xs, ys;
  for (const PlotSeries& s : series) {
    for (const auto& [x, y] : s.points) {
      if (o.log_x && x <= 0) continue;
      xs.push_back(x);
      ys.push_back(y);
    }
  }
  for (const ReferenceLine& r : references) ys.push_back(r.y);
  const auto [x0, x1] = Range(xs, o.log_x, false);
  const auto [y0, y1] = Range(ys, o.log_y, true);
  const Axis x{o.log_x ? x0 : x0, x1, o.log_x, kLeft, kWidth - kRight};
  const Axis y{y0, y1, o.log_y, kHeight - kBottom, kTop};
  std::ostringstream svg;
  Frame(svg, o, x, y);
  for (const ReferenceLine& r : references) {
    svg << absl::StrFormat(
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\" "
        "stroke-dasharray=\"2,3\"/>\n<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">%s</text>\n",
        x.p0, y(r.y), x.p1, y(r.y), x.p0 + 6, y(r.y) - 4, Escape(r.label));
  }
  Series(svg, series, x, y, /*lines=*/true);
  svg << "</svg>\n";
  return svg.str();
}

std::string RooflineSvg(const std::string& title, double peak_gflops,
                        const std::vector<std::pair<std::string, double>>& bandwidths_gbs,
                        const std::vector<PlotSeries>& points) {
  std::vector<double> xs = {0.05, 64}, ys = {peak_gflops * 1.2};
  for (const PlotSeries& s : points) {
    for (const auto& [x, y] : s.points) {
      xs.push_back(x);
      ys.push_back(y);
    }
  }
  for (const auto& [name, bw] : bandwidths_gbs) ys.push_back(bw * 0.05);
  const PlotOptions o{title, "arithmetic intensity (FLOP per byte)", "GFLOP/s", true, true};
  const auto [x0, x1] = Range(xs, true, false);
  const auto [y0, y1] = Range(ys, true, false);
  const Axis x{x0, x1, true, kLeft, kWidth - kRight};
  const Axis y{y0, y1, true, kHeight - kBottom, kTop};
  std::ostringstream svg;
  Frame(svg, o, x, y);
  // Ceilings: y = min(peak, bw x).
  svg << absl::StrFormat(
      "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\" stroke-width=\"2\"/>\n"
      "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">peak %.0f GFLOP/s</text>\n",
      x(std::max(x0, peak_gflops / std::max(1e-9, bandwidths_gbs.empty() ? 1e9 : bandwidths_gbs[0].second))),
      y(peak_gflops), x.p1, y(peak_gflops), x.p1 - 120, y(peak_gflops) - 6, peak_gflops);
  for (const auto& [name, bw] : bandwidths_gbs) {
    const double ridge = peak_gflops / bw;
    const double xa = std::max(x0, y0 / bw), xb = std::min(x1, ridge);
    if (xb <= xa) continue;
    svg << absl::StrFormat(
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555\" "
        "stroke-dasharray=\"5,3\"/>\n<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
        "fill=\"#555\">%s %.0f GB/s</text>\n",
        x(xa), y(bw * xa), x(xb), y(bw * xb), x(xa) + 4, y(bw * xa) - 6, Escape(name), bw);
  }
  Series(svg, points, x, y, /*lines=*/false);
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace klab::harness
