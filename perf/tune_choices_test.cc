// //perf:tune's rules on records made up for them: the GEMM pair per class (including "not worth
// splitting"), the linear and decode thresholds, the blocking that must beat the analytic one, and
// what "reproduces" says.
#include "perf/tune_choices.h"

#include <string>

#include "gtest/gtest.h"
#include "kernels/gemm/gemm.h"

namespace klab::perf::tune {
namespace {

// A matmul_sweep row: kernel-lab, checked, median `ns`.
Json Row(const std::string& variant, int64_t m, int64_t n, int64_t k, const char* layout, int threads,
         double ns, bool ok = true) {
  return {{"impl", "kernel-lab"}, {"variant", variant}, {"layout", layout}, {"threads", threads},
          {"shape", {{"m", m}, {"n", n}, {"k", k}}}, {"time_ns", {{"median", ns}}},
          {"check", {{"ok", ok}}}};
}

TEST(TuneChoices, ShapesKeepCheckedGemmVariantsAndLinearApart) {
  const Json record = {{"rows", {Row("packed_8x32__avx512", 8, 128, 512, "NT", 1, 100),
                                 Row("linear_packed", 8, 128, 512, "NT", 1, 90),
                                 Row("sgemm_auto", 8, 128, 512, "NT", 1, 80),
                                 Row("smallm__avx512", 8, 128, 512, "NT", 1, 50, /*ok=*/false)}}};
  std::map<std::string, Shape> gemm, linear;
  ShapesOf({record}, &gemm, &linear);
  ASSERT_EQ(gemm.size(), 1u);
  const Shape& s = gemm.begin()->second;
  EXPECT_EQ(s.label, "8x512x128/NT");  // m x k x n, as the sweep names them
  EXPECT_EQ(s.shape_class, "NT/m2-16/n128/k512");
  EXPECT_EQ(s.t1.size(), 1u);  // not sgemm_auto, not the failed check
  ASSERT_EQ(linear.size(), 1u);
  EXPECT_EQ(linear.begin()->second.t1.at("linear_packed"), 90);
}

TEST(TuneChoices, GemmPairOnTwoThreadsMayStaySerial) {
  if (kernels::FindGemmVariant("smallm_mt__avx512") == nullptr) GTEST_SKIP();
  // A class where the threaded member on 2 threads is slower than the serial one on 1: the
  // class is not worth splitting, and the pair says so.
  Shape small{"64x64x64/NN", "NN/m17-64/n128/k128", {{"smallm__avx512", 100}, {"packed_8x32__avx512", 120}},
              {{"smallm_mt__avx512", 130}, {"packed_mt_8x32__avx512", 140}}};
  Json gemm = ChooseGemm({{small.label, small}});
  ASSERT_TRUE(gemm.contains(small.shape_class));
  EXPECT_EQ(gemm[small.shape_class]["serial"], "smallm__avx512");
  EXPECT_EQ(gemm[small.shape_class]["threaded"], "smallm__avx512");
  EXPECT_DOUBLE_EQ(gemm[small.shape_class]["score"].get<double>(), 1.0);
  // Where 2 threads pay, the threaded member.
  small.t2["smallm_mt__avx512"] = 60;
  gemm = ChooseGemm({{small.label, small}});
  EXPECT_EQ(gemm[small.shape_class]["threaded"], "smallm_mt__avx512");
}

TEST(TuneChoices, LinearThresholdStopsAboveTheLargestLoss) {
  std::map<std::string, Shape> linear;
  auto add = [&](const std::string& label, double t1, double t2) {
    linear[label] = {label, "", {{"linear_packed", t1}}, {{"linear_packed", t2}}};
  };
  add("1x256x128/NT", 100, 120);   // mnk 32768: loses
  add("1x128x512/NT", 100, 90);    // 65536: wins
  add("8x256x512/NT", 100, 105);   // 1048576: loses (noise, say) -> threshold above it
  add("64x256x1024/NT", 100, 60);  // 16777216: wins
  Json j = ChooseLinear(linear);
  EXPECT_EQ(j["threads_from_mnk"].get<int64_t>(), 8 * 256 * 512 + 1);
  linear.erase("8x256x512/NT");
  j = ChooseLinear(linear);
  EXPECT_EQ(j["threads_from_mnk"].get<int64_t>(), 32768 + 1);
  add("1x256x128/NT", 100, 90);  // every layer wins: from the smallest measured
  j = ChooseLinear(linear);
  EXPECT_EQ(j["threads_from_mnk"].get<int64_t>(), 32768);
  EXPECT_TRUE(ChooseLinear({}).is_null());
}

Json ModelRow(const std::string& model, int64_t bytes, const char* test, int threads, double ns) {
  return {{"op", "model"}, {"impl", "kernel-lab"}, {"model", model}, {"packed_weight_bytes", bytes},
          {"test", test}, {"kv_cache", true}, {"threads", threads}, {"time_ns", {{"median", ns}}}};
}

TEST(TuneChoices, DecodeThresholdIsTheLargestModelThreadsDidNotSpeedUp) {
  Json record = {{"run_id", "r"}, {"rows", {ModelRow("small", 1000, "tg64", 1, 100), ModelRow("small", 1000, "tg64", 2, 110),
                                            ModelRow("mid", 5000, "tg64", 1, 100), ModelRow("mid", 5000, "tg64", 2, 90),
                                            ModelRow("mid", 5000, "pp64", 1, 100), ModelRow("mid", 5000, "pp64", 2, 120),
                                            ModelRow("big", 90000, "tg64", 1, 100), ModelRow("big", 90000, "tg64", 2, 55)}}};
  // mid: t1/t2 = 1.11 on tg64 but 0.83 on pp64: not faster in every test.
  EXPECT_EQ(ChooseDecode({record})["threads_above_weight_bytes"].get<int64_t>(), 5000);
  record["rows"][5]["time_ns"]["median"] = 95;  // mid now faster on both
  EXPECT_EQ(ChooseDecode({record})["threads_above_weight_bytes"].get<int64_t>(), 1000);
  record["rows"][1]["time_ns"]["median"] = 90;  // every model faster
  EXPECT_EQ(ChooseDecode({record})["threads_above_weight_bytes"].get<int64_t>(), 0);
  // A second pass in which mid was slower on 2 threads (the VM's other state): every pass counts.
  Json slower = record;
  slower["rows"][3]["time_ns"]["median"] = 130;
  const Json two = ChooseDecode({record, slower});
  EXPECT_EQ(two["threads_above_weight_bytes"].get<int64_t>(), 5000);
  EXPECT_EQ(two["run_ids"].size(), 2u);
}

TEST(TuneChoices, BlockingMustBeatTheAnalyticOne) {
  std::vector<BlockingTrial> trials = {{256, 128, 4096, true, {{"2048/t1", 100}, {"2048/t2", 50}}},
                                       {256, 256, 4096, false, {{"2048/t1", 92}, {"2048/t2", 47}}},
                                       {128, 384, 4096, false, {{"2048/t1", 95}, {"2048/t2", 48}}}};
  Json j = ChooseBlocking(trials);
  EXPECT_TRUE(j["use"].get<bool>());
  EXPECT_EQ(j["kc"], 256);
  EXPECT_EQ(j["trials"].size(), 3u);
  trials[1].ns = {{"2048/t1", 99.8}, {"2048/t2", 49.9}};  // within 1%: the analytic one stays
  trials[2].ns = {{"2048/t1", 101}, {"2048/t2", 51}};
  j = ChooseBlocking(trials);
  EXPECT_FALSE(j["use"].get<bool>());
  EXPECT_EQ(j["kc"], 128);
}

TEST(TuneChoices, ReproducesSaysSameWithinNoiseOrDiffers) {
  const Json old = {{"gemm", {{"A", {{"serial", "x"}, {"threaded", "x_mt"}}},
                              {"B", {{"serial", "y"}, {"threaded", "y"}}},
                              {"C", {{"serial", "z"}, {"threaded", "z"}}}}},
                    {"linear", {{"threads_from_mnk", 65536}}},
                    {"blocking", {{"8x32", {{"mc", 256}, {"kc", 256}, {"nc", 4096}}}}}};
  const Json now = {{"gemm", {{"A", {{"serial", "x"}, {"threaded", "x_mt"}}},
                              {"B", {{"serial", "w"}, {"threaded", "w"}, {"candidates", {{"y / y", 1.01}}}}},
                              {"C", {{"serial", "w"}, {"threaded", "w"}, {"candidates", {{"z / z", 1.2}}}}},
                              {"D", {{"serial", "w"}, {"threaded", "w"}}}}},
                    {"linear", {{"threads_from_mnk", 65536}}},
                    {"blocking", {{"8x32", {{"mc", 128}, {"kc", 256}, {"nc", 4096}}}}}};
  const Json r = Reproduces(now, old);
  EXPECT_EQ(r["A"], "same");
  EXPECT_EQ(r["B"].get<std::string>().rfind("within noise", 0), 0u) << r["B"];
  EXPECT_EQ(r["C"].get<std::string>().rfind("differs", 0), 0u) << r["C"];
  EXPECT_EQ(r["D"], "new");
  EXPECT_EQ(r["linear"], "same");
  EXPECT_EQ(r["decode"], "same");  // in neither
  EXPECT_EQ(r["blocking.8x32"], "differs (was 256,256,4096)");
}

}  // namespace
}  // namespace klab::perf::tune
