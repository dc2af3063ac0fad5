#include "harness/svg_plot.h"

#include <string>

#include "gtest/gtest.h"

namespace klab::harness {
namespace {

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST(SvgPlot, LineChartHasSeriesLegendAndReference) {
  const std::string svg = LineChartSvg(
      {"GFLOP/s <1 thread>", "n", "GFLOP/s", true, false},
      {{"ours", {{64, 100}, {128, 150}, {256, 170}}}, {"peer & co", {{64, 90}, {256, 160}}, true}},
      {{"peak 177", 177}});
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_EQ(Count(svg, "<polyline"), 2u);
  EXPECT_EQ(Count(svg, "<circle"), 5u);
  EXPECT_NE(svg.find("peer &amp; co"), std::string::npos);     // escaped
  EXPECT_NE(svg.find("GFLOP/s &lt;1 thread&gt;"), std::string::npos);
  EXPECT_NE(svg.find("peak 177"), std::string::npos);
  EXPECT_NE(svg.find(">128<"), std::string::npos);  // a log2 tick
}

TEST(SvgPlot, SeriesKeepTheirOwnColour) {
  PlotSeries slower{"slower", {{1, 10}}};
  slower.color = "#123456";
  slower.markers_only = true;
  PlotSeries noise{"noise", {{2, 1}}};
  noise.markers_only = true;
  const std::string svg = LineChartSvg({"t", "x", "y", false, false}, {slower, noise}, {});
  EXPECT_EQ(Count(svg, "#123456"), 2u);  // its point and its legend line
  EXPECT_EQ(Count(svg, "#d62728"), 2u);  // the palette's second colour for the second series
  EXPECT_EQ(Count(svg, "<polyline"), 0u);
}

TEST(SvgPlot, RooflineHasCeilingsAndPoints) {
  const std::string svg = RooflineSvg("roofline", 177, {{"L2", 120}, {"DRAM", 12}},
                                      {{"sgemm", {{2.0, 150}, {0.5, 40}}}});
  EXPECT_NE(svg.find("peak 177 GFLOP/s"), std::string::npos);
  EXPECT_NE(svg.find("L2 120 GB/s"), std::string::npos);
  EXPECT_NE(svg.find("DRAM 12 GB/s"), std::string::npos);
  EXPECT_EQ(Count(svg, "<circle"), 2u);
}

}  // namespace
}  // namespace klab::harness
