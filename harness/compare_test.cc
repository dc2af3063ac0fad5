#include "harness/compare.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "gtest/gtest.h"

namespace klab::harness {
namespace {

// x entirely below y: U = 0. Exact distribution (5 and 5 values, no ties): U = 0 in 1 of the
// C(10, 5) = 252 equally likely arrangements, so the two-sided p = 2 / 252.
TEST(MannWhitney, ExactSeparatedSamples) {
  const std::vector<double> x = {1, 2, 3, 4, 5}, y = {6, 7, 8, 9, 10};
  EXPECT_EQ(MannWhitneyU(x, y), 0);
  EXPECT_NEAR(MannWhitneyP(x, y), 2.0 / 252, 1e-12);
  EXPECT_NEAR(MannWhitneyP(y, x), 2.0 / 252, 1e-12);
}

// x = {1, 3, 5}, y = {2, 4}: pairs with x > y: 3 > 2; 5 > 2, 5 > 4: U = 3, the middle of 0..6.
// The 10 arrangements give U = 0..6 with counts 1, 1, 2, 2, 2, 1, 1: P(U <= 3) = P(U >= 3) = 6/10,
// so p = min(1, 2 x 0.6) = 1.
TEST(MannWhitney, ExactMiddle) {
  EXPECT_EQ(MannWhitneyU({1, 3, 5}, {2, 4}), 3);
  EXPECT_DOUBLE_EQ(MannWhitneyP({1, 3, 5}, {2, 4}), 1.0);
}

// With ties, the normal approximation by hand:
//   pooled and sorted: 1 2 2 2' 3 3' 4 5 6 7 8 9 10' .. 17'   (' = y)
//   ranks: 1 -> 1, the three 2s -> 3, the two 3s -> 5.5, 4..9 -> 7..12, y's 10..17 -> 13..20
//   R1 = 1 + 3 + 3 + 5.5 + 7 + 8 + 9 + 10 + 11 + 12 = 69.5, U1 = 69.5 - 10 x 11 / 2 = 14.5
//   ties: t = 3 and t = 2: sum (t^3 - t) = 24 + 6 = 30
//   var = 10 x 10 / 12 x (21 - 30 / (20 x 19)) = 174.342105...
//   z = (|14.5 - 50| - 0.5) / sqrt(var) = 2.650738..., p = erfc(z / sqrt 2) = 0.0080316
TEST(MannWhitney, NormalApproximationWithTies) {
  const std::vector<double> x = {1, 2, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<double> y = {2, 3, 10, 11, 12, 13, 14, 15, 16, 17};
  EXPECT_DOUBLE_EQ(MannWhitneyU(x, y), 14.5);
  EXPECT_NEAR(MannWhitneyP(x, y), 0.0080316, 1e-6);
}

TEST(MannWhitney, DegenerateSamples) {
  EXPECT_EQ(MannWhitneyP({}, {1, 2}), 1.0);
  EXPECT_EQ(MannWhitneyP({3, 3, 3, 3, 3, 3, 3, 3, 3}, {3, 3, 3, 3, 3, 3, 3, 3, 3}), 1.0);
}

std::vector<double> Noisy(double center, int n, std::mt19937& rng) {
  std::normal_distribution<double> d(center, center * 0.01);
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(d(rng));
  return v;
}

Json Row(const std::string& name, const std::string& op, const std::vector<double>& samples) {
  std::vector<double> s = samples;
  std::sort(s.begin(), s.end());
  Json row;
  row["name"] = name;
  row["op"] = op;
  row["time_ns"] = {{"median", s[s.size() / 2]}};
  row["samples_ns"] = samples;
  row["alloc"] = {{"bytes", 0.0}, {"count", 0.0}};
  return row;
}

Json Record(const std::string& run_id, const std::string& cpu, Json rows) {
  Json r;
  r["schema"] = "kernel-lab/results/v1";
  r["suite"] = "matmul_sweep";
  r["run_id"] = run_id;
  r["env"] = {{"host", "vm"}, {"cpu_model", cpu}};
  r["rows"] = std::move(rows);
  return r;
}

// A row of `impl` on the n x n x n case, its samples around `center`.
Json ImplRow(const std::string& name, const std::string& impl, int n, double center,
             std::mt19937& rng, int samples = 20) {
  Json r = Row(name, "sgemm", Noisy(center, samples, rng));
  r["impl"] = impl;
  r["shape"] = {{"m", n}, {"n", n}, {"k", n}};
  r["threads"] = 1;
  // What the peer recorded of itself (library version and chosen kernel).
  if (impl != "kernel-lab") r["peer_config"] = {{"version", "1.0"}, {"kernel", "SkylakeX"}};
  return r;
}

// A row slowed by 20% is `slower`; an unchanged row `noise`; a real but 2% change `noise` (below
// the practical threshold); rows without a partner are listed.
TEST(CompareRuns, Verdicts) {
  std::mt19937 rng(1);
  const Json before = Record("a", "cpu", {Row("slowed", "sgemm", Noisy(1000, 30, rng)),
                                          Row("same", "sgemm", Noisy(1000, 30, rng)),
                                          Row("small", "softmax", Noisy(1000, 200, rng)),
                                          Row("faster", "softmax", Noisy(1000, 30, rng)),
                                          Row("gone", "softmax", Noisy(1000, 30, rng))});
  const Json after = Record("b", "cpu", {Row("slowed", "sgemm", Noisy(1200, 30, rng)),
                                         Row("same", "sgemm", Noisy(1000, 30, rng)),
                                         Row("small", "softmax", Noisy(1020, 200, rng)),
                                         Row("faster", "softmax", Noisy(700, 30, rng)),
                                         Row("new", "softmax", Noisy(1000, 30, rng))});
  auto c = CompareRuns(after, before, {});
  ASSERT_TRUE(c.ok()) << c.status();
  std::map<std::string, RowComparison> by;
  for (const RowComparison& r : c->rows) by[r.name] = r;
  EXPECT_EQ(by["slowed"].verdict, "slower");
  EXPECT_NEAR(by["slowed"].change, 0.2, 0.02);
  EXPECT_EQ(by["same"].verdict, "noise");
  EXPECT_LT(by["small"].p, 0.05);  // significant ...
  EXPECT_EQ(by["small"].verdict, "noise");  // ... but within the 5% threshold
  EXPECT_EQ(by["faster"].verdict, "faster");
  EXPECT_EQ(c->only_current, std::vector<std::string>{"new"});
  EXPECT_EQ(c->only_previous, std::vector<std::string>{"gone"});
  EXPECT_EQ(c->faster, 1);
  EXPECT_EQ(c->slower, 1);
  EXPECT_TRUE(c->fingerprint_differences.empty());
  const std::string md = ReportMarkdown(after, before, *c, {});
  for (const char* part : {"## Summary", "## Top hot paths", "## sgemm", "## softmax",
                           "## Top improvements", "## Top regressions", "**slower**",
                           "1 faster, 1 slower, 2 noise"}) {
    EXPECT_NE(md.find(part), std::string::npos) << part << "\n" << md;
  }
  EXPECT_EQ(md.find("fingerprints differ"), std::string::npos);
}

TEST(CompareRuns, FingerprintBannerAndSuiteMismatch) {
  std::mt19937 rng(2);
  const Json a = Record("a", "AMD EPYC", {Row("r", "sgemm", Noisy(1000, 10, rng))});
  const Json b = Record("b", "Intel Xeon", {Row("r", "sgemm", Noisy(1000, 10, rng))});
  auto c = CompareRuns(b, a, {});
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->fingerprint_differences.size(), 1u);
  EXPECT_NE(ReportMarkdown(b, a, *c, {}).find("fingerprints differ"), std::string::npos);
  Json other = a;
  other["suite"] = "activation_sweep";
  EXPECT_FALSE(CompareRuns(b, other, {}).ok());
}

// Finding runs in a results tree: by suite, in time order, the previous one on the same host.
TEST(Runs, ListAndPrevious) {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(::testing::TempDir()) / "results";
  fs::remove_all(root);
  auto write = [&](const std::string& id, const std::string& suite, const std::string& host) {
    fs::create_directories(root / "runs" / id);
    Json r = Record(id, "cpu", Json::array());
    r["suite"] = suite;
    r["env"]["host"] = host;
    std::ofstream(root / "runs" / id / (suite + ".json")) << r.dump();
  };
  write("20260101-000000-vm-a", "matmul_sweep", "vm");
  write("20260102-000000-other-b", "matmul_sweep", "other");
  write("20260103-000000-vm-c", "activation_sweep", "vm");
  write("20260104-000000-vm-d", "matmul_sweep", "vm");
  EXPECT_EQ(ListRuns(root.string(), "matmul_sweep"),
            (std::vector<std::string>{"20260101-000000-vm-a", "20260102-000000-other-b",
                                      "20260104-000000-vm-d"}));
  EXPECT_EQ(ListRuns(root.string(), "").size(), 4u);
  EXPECT_EQ(PreviousRun(root.string(), "matmul_sweep", "20260104-000000-vm-d", "vm"),
            "20260101-000000-vm-a");
  EXPECT_EQ(PreviousRun(root.string(), "matmul_sweep", "20260101-000000-vm-a", "vm"), "");
  EXPECT_EQ(*SuiteOfRun((root / "runs" / "20260103-000000-vm-c").string()), "activation_sweep");
}

// With the current record, the baseline is the newest earlier run on the same kind of machine,
// whatever the host is called (every host of these VMs is "vm").
TEST(Runs, PreviousIsOnTheSameMachineNotTheSameHostName) {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(::testing::TempDir()) / "results_machines";
  fs::remove_all(root);
  auto record = [](const std::string& id, const std::string& cpu) {
    Json r = Record(id, cpu, Json::array({Row("r", "sgemm", {1, 2, 3})}));
    r["env"]["host"] = "vm";
    r["env"]["cores"] = 2;
    r["env"]["caches"] = {{"l2", 1048576}};
    r["env"]["isa"] = {"avx2"};
    return r;
  };
  auto write = [&](const Json& r) {
    const std::string id = r["run_id"];
    fs::create_directories(root / "runs" / id);
    std::ofstream(root / "runs" / id / "matmul_sweep.json") << r.dump();
  };
  write(record("20260101-000000-vm-a", "AMD EPYC"));
  write(record("20260102-000000-vm-b", "Intel Xeon"));
  const Json current = record("20260103-000000-vm-c", "AMD EPYC");
  EXPECT_EQ(PreviousRun(root.string(), "matmul_sweep", "20260103-000000-vm-c", "vm", &current),
            "20260101-000000-vm-a");
  const Json other = record("20260103-000000-vm-c", "Some other CPU");
  EXPECT_EQ(PreviousRun(root.string(), "matmul_sweep", "20260103-000000-vm-c", "vm", &other), "");
}


// Peer rows (impl other than kernel-lab) measure the machine's drift: both got 10% faster here.
TEST(CompareRuns, PeerRowsAreTheControl) {
  std::mt19937 rng(3);
  const Json a = ImplRow("openblas/r", "openblas", 64, 1000, rng),
             b = ImplRow("blis/r", "blis", 64, 2000, rng),
             k = ImplRow("ours/r", "kernel-lab", 64, 500, rng);
  const Json a2 = ImplRow("openblas/r", "openblas", 64, 1000 / 1.1, rng),
             b2 = ImplRow("blis/r", "blis", 64, 2000 / 1.1, rng),
             k2 = ImplRow("ours/r", "kernel-lab", 64, 500, rng);
  const Json before = Record("a", "cpu", {a, b, k}), after = Record("b", "cpu", {a2, b2, k2});
  auto c = CompareRuns(after, before, {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->control_rows, 2);
  EXPECT_NEAR(c->control_speed_change, 0.10, 0.01);
  EXPECT_NE(ReportMarkdown(after, before, *c, {}).find("Control: the 2 peer rows"),
            std::string::npos);
}

// A peer whose recorded kernel changed between the runs (OpenBLAS SkylakeX -> Haswell) measures
// its own change, not the machine's: it is left out of the control, and the report says so.
TEST(CompareRuns, PeerWithAChangedKernelIsNoControl) {
  std::mt19937 rng(5);
  const Json a = ImplRow("openblas/r", "openblas", 64, 1000, rng),
             b = ImplRow("blis/r", "blis", 64, 2000, rng),
             k = ImplRow("ours/r", "kernel-lab", 64, 500, rng);
  Json a2 = ImplRow("openblas/r", "openblas", 64, 2000, rng);
  a2["peer_config"]["kernel"] = "Haswell";
  const Json b2 = ImplRow("blis/r", "blis", 64, 2000, rng),
             k2 = ImplRow("ours/r", "kernel-lab", 64, 500, rng);
  Json unrecorded = ImplRow("onednn/r", "onednn", 64, 700, rng);
  unrecorded.erase("peer_config");
  const Json before = Record("a", "cpu", {a, b, k, unrecorded}),
             after = Record("b", "cpu", {a2, b2, k2, unrecorded});
  auto c = CompareRuns(after, before, {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->control_rows, 1);  // blis only
  EXPECT_NEAR(c->control_speed_change, 0.0, 0.02);
  EXPECT_EQ(c->changed_peers, (std::set<std::string>{"onednn", "openblas"}));
  for (const RowComparison& r : c->rows) {
    if (r.name == "ours/r") EXPECT_NEAR(r.control_change, 0.0, 0.02);  // not OpenBLAS's 2x
  }
  EXPECT_NE(ReportMarkdown(after, before, *c, {}).find("Not used as a control"),
            std::string::npos);
}


// Per case: the machine got 25% faster on one shape between the runs (the peers show it); our
// unchanged variant there is `faster` by the raw rule but `noise` against the control, and a
// variant slowed by 30% on a shape whose peers did not move is `slower` either way.
TEST(CompareRuns, PerCaseDriftControl) {
  std::mt19937 rng(4);
  auto row = [&](const std::string& name, const std::string& impl, int n, double center) {
    return ImplRow(name, impl, n, center, rng, 25);
  };
  const Json before = Record("a", "cpu", {row("ours/128", "kernel-lab", 128, 100),
                                          row("peer/128", "openblas", 128, 120),
                                          row("ours/256", "kernel-lab", 256, 800),
                                          row("peer/256", "openblas", 256, 900)});
  const Json after = Record("b", "cpu", {row("ours/128", "kernel-lab", 128, 75),
                                         row("peer/128", "openblas", 128, 90),
                                         row("ours/256", "kernel-lab", 256, 1040),
                                         row("peer/256", "openblas", 256, 900)});
  auto c = CompareRuns(after, before, {});
  ASSERT_TRUE(c.ok());
  std::map<std::string, RowComparison> by;
  for (const RowComparison& r : c->rows) by[r.name] = r;
  EXPECT_EQ(by["ours/128"].verdict, "faster");
  ASSERT_TRUE(by["ours/128"].has_control);
  EXPECT_NEAR(by["ours/128"].control_change, -0.25, 0.02);
  EXPECT_EQ(by["ours/128"].adjusted_verdict, "noise");
  EXPECT_EQ(by["ours/256"].verdict, "slower");
  EXPECT_EQ(by["ours/256"].adjusted_verdict, "slower");
  EXPECT_FALSE(by["peer/256"].has_control);
  EXPECT_EQ(c->adjusted_rows, 2);
  EXPECT_NE(ReportMarkdown(after, before, *c, {}).find("verdict vs control"), std::string::npos);
}

// A peer timed in alternating blocks (PyTorch, in its own process) did not share our rounds: it
// is no control, however much it moved; the model bench's read kernel, named by its variant, is.
TEST(CompareRuns, OnlyPeersSampledInOurRoundsAreControls) {
  std::mt19937 rng(7);
  Json torch = ImplRow("torch/r", "pytorch", 64, 1000, rng), torch2 = ImplRow("torch/r", "pytorch", 64, 700, rng);
  torch["stopped_by"] = torch2["stopped_by"] = "alternating blocks";
  Json read = ImplRow("read/r", "read-kernel", 64, 300, rng), read2 = ImplRow("read/r", "read-kernel", 64, 300, rng);
  read.erase("peer_config"), read2.erase("peer_config");
  read["variant"] = read2["variant"] = "LinearReadThreaded";
  const Json k = ImplRow("ours/r", "kernel-lab", 64, 500, rng), k2 = ImplRow("ours/r", "kernel-lab", 64, 500, rng);
  auto c = CompareRuns(Record("b", "cpu", {torch2, read2, k2}), Record("a", "cpu", {torch, read, k}), {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->control_rows, 1);  // the read kernel
  for (const RowComparison& r : c->rows) {
    if (r.name == "ours/r") EXPECT_NEAR(r.control_change, 0.0, 0.02);  // not PyTorch's -30%
  }
}

// Shards of one sweep merge into the rows of the whole run; shards of another machine, another
// commit, a shard given twice or a row in two shards are refused.
TEST(MergeShards, ShardsBecomeTheWholeRun) {
  std::mt19937 rng(6);
  std::vector<Json> rows;
  for (int i = 0; i < 7; ++i) rows.push_back(ImplRow("r" + std::to_string(i), "kernel-lab", 64 << i, 100, rng));
  auto shard = [&](int index, int count, const std::string& cpu) {
    Json part = Json::array();
    for (size_t i = 0; i < rows.size(); ++i) {
      if (static_cast<int>(i % count) == index - 1) part.push_back(rows[i]);
    }
    Json r = Record("s" + std::to_string(index), cpu, part);
    r["shard"] = std::to_string(index) + "/" + std::to_string(count);
    r["env"]["git_commit"] = "abc";
    r["env"]["cores"] = 2;
    r["env"]["caches"] = {{"l2", 1 << 20}};
    r["env"]["isa"] = {"avx2", "avx512f"};
    return r;
  };
  auto merged = MergeShards({shard(1, 3, "cpu"), shard(2, 3, "cpu"), shard(3, 3, "cpu")});
  ASSERT_TRUE(merged.ok()) << merged.status();
  std::set<std::string> names;
  for (const Json& row : (*merged)["rows"]) names.insert(row["name"].get<std::string>());
  EXPECT_EQ(names.size(), rows.size());
  EXPECT_EQ((*merged)["rows"].size(), rows.size());
  EXPECT_FALSE(merged->contains("shard"));
  EXPECT_EQ((*merged)["merged_from"], Json({"s1", "s2", "s3"}));
  EXPECT_FALSE(MergeShards({shard(1, 2, "cpu"), shard(2, 2, "another cpu")}).ok());
  EXPECT_FALSE(MergeShards({shard(1, 2, "cpu"), shard(1, 2, "cpu")}).ok());
  Json other_commit = shard(2, 2, "cpu");
  other_commit["env"]["git_commit"] = "def";
  EXPECT_FALSE(MergeShards({shard(1, 2, "cpu"), other_commit}).ok());
  Json overlapping = shard(2, 2, "cpu");
  overlapping["rows"].push_back(rows[0]);
  EXPECT_FALSE(MergeShards({shard(1, 2, "cpu"), overlapping}).ok());
  EXPECT_FALSE(MergeShards({shard(1, 2, "cpu")}).ok());
}

}  // namespace
}  // namespace klab::harness
