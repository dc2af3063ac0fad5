#include "harness/svg_plot.h"

#include <string>
#include <vector>

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
  EXPECT_EQ(Count(svg, "<circle"), 5u + 2u);  // the points, and each series' legend marker
  // The peer (dashed) is drawn with hollow markers: white fill, its colour as the stroke.
  EXPECT_EQ(Count(svg, "fill=\"white\" stroke="), 2u + 1u);
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
  EXPECT_EQ(Count(svg, "#123456"), 3u);  // its point, its legend line and legend marker
  EXPECT_EQ(Count(svg, "#d62728"), 3u);  // the palette's second colour for the second series
  EXPECT_EQ(Count(svg, "<polyline"), 0u);
}

TEST(SvgPlot, RooflineHasCeilingsAndPoints) {
  const std::string svg = RooflineSvg("roofline", 177, {{"L2", 120}, {"DRAM", 12}},
                                      {{"sgemm", {{2.0, 150}, {0.5, 40}}}});
  EXPECT_NE(svg.find("peak 177 GFLOP/s"), std::string::npos);
  EXPECT_NE(svg.find("L2 120 GB/s"), std::string::npos);
  EXPECT_NE(svg.find("DRAM 12 GB/s"), std::string::npos);
  EXPECT_EQ(Count(svg, "<circle"), 2u + 1u);  // the points and the legend marker
}

// The palette rule: within one chart no two series look alike, however many there are (the
// matmul chart once drew BLIS and tiled__avx512 in one colour: 21 series on 20 colours), and a
// series that names a colour another already has gets another marker.
TEST(SvgPlot, NoTwoSeriesOfAChartLookAlike) {
  std::vector<PlotSeries> series;
  for (int i = 0; i < 45; ++i) {
    std::string name = "s";
    name += std::to_string(i);
    PlotSeries s{name, {{1.0 + i, 1.0}}};
    s.dashed = i % 3 == 0;
    series.push_back(s);
  }
  series[5].color = series[6].color = series[7].color = "#d62728";  // named twice and more
  const std::vector<SeriesLook> looks = SeriesLooks(series);
  ASSERT_EQ(looks.size(), series.size());
  for (size_t i = 0; i < looks.size(); ++i) {
    for (size_t j = i + 1; j < looks.size(); ++j) {
      EXPECT_FALSE(looks[i] == looks[j]) << i << " and " << j << " look alike: " << looks[i].color
                                         << " " << looks[i].marker;
    }
    EXPECT_EQ(looks[i].dashed, series[i].dashed);  // peers keep their dash
  }
  EXPECT_EQ(looks[5].color, "#d62728");
  EXPECT_EQ(looks[6].color, "#d62728");
  EXPECT_NE(looks[5].marker, looks[6].marker);
}

// A bar chart names each row at its bar (the change chart's x axis was a bare row index).
TEST(SvgPlot, BarChartNamesEveryRow) {
  const std::string svg = BarChartSvg("changes on amd-zen4-2c", "change (%)",
                                      {{"sgemm/sgemm_auto/512/t1", -7.5, "#2ca02c", "-7.5% faster"},
                                       {"gelu <n=1000>", 12, "#d62728", "+12% slower"}},
                                      {{"+5%", 5}, {"-5%", -5}});
  EXPECT_NE(svg.find(">sgemm/sgemm_auto/512/t1<"), std::string::npos);
  EXPECT_NE(svg.find(">gelu &lt;n=1000&gt;<"), std::string::npos);
  EXPECT_NE(svg.find("-7.5% faster"), std::string::npos);
  EXPECT_NE(svg.find("amd-zen4-2c"), std::string::npos);
  EXPECT_EQ(Count(svg, "<rect x="), 2u);
}

}  // namespace
}  // namespace klab::harness
