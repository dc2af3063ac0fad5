// The results writer: run ids, atomic writes, the published tree and its index, and the env
// block's required keys.
#include "harness/results.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "harness/env.h"

namespace klab::harness {
namespace {
namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path TempDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  fs::path d = fs::path(t != nullptr ? t : "/tmp") / name;
  fs::remove_all(d);
  return d;
}

TEST(ResultsTest, RunIdFormat) {
  EXPECT_EQ(MakeRunId("2026-11-27T18:30:05Z", "epyc2", "1a2b3c4d5e6f"),
            "20261127-183005-epyc2-1a2b3c4");
}

TEST(ResultsTest, AtomicWriteCreatesFoldersAndLeavesNoTemporaries) {
  const fs::path d = TempDir("atomic");
  const fs::path f = d / "a" / "b" / "x.txt";
  ASSERT_TRUE(WriteFileAtomic(f.string(), "one").ok());
  ASSERT_TRUE(WriteFileAtomic(f.string(), "two").ok());
  EXPECT_EQ(Slurp(f), "two");
  int entries = 0;
  for (const auto& e : fs::directory_iterator(f.parent_path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(ResultsTest, AtomicWriteReportsFailure) {
  EXPECT_FALSE(WriteFileAtomic("/proc/klab-cannot-write/x.txt", "x").ok());
}

Json Record(const std::string& run_id) {
  Json r;
  r["schema"] = kResultsSchema;
  r["suite"] = "demo_suite";
  r["run_id"] = run_id;
  r["rows"] = Json::array();
  return r;
}

TEST(ResultsTest, PublishWritesRunLatestAndIndexNewestFirst) {
  const fs::path root = TempDir("results");
  OutputOptions o;
  o.results_root = root.string();
  ASSERT_TRUE(WriteRun(o, Record("run-1"), "# one\n", "first").ok());
  auto dir = WriteRun(o, Record("run-2"), "# two\n", "second");
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_TRUE(fs::exists(root / "runs" / "run-1" / "demo_suite.json"));
  EXPECT_TRUE(fs::exists(root / "runs" / "run-2" / "demo_suite.md"));
  EXPECT_NE(Slurp(root / "demo_suite" / "latest.md").find("# two"), std::string::npos);
  const std::string index = Slurp(root / "README.md");
  const size_t two = index.find("run-2");
  const size_t one = index.find("run-1");
  ASSERT_NE(two, std::string::npos);
  ASSERT_NE(one, std::string::npos);
  EXPECT_LT(two, one) << index;
  const Json back = Json::parse(Slurp(root / "runs" / "run-2" / "demo_suite.json"));
  EXPECT_EQ(back["schema"], kResultsSchema);
}

TEST(ResultsTest, OutDirWritesOnlyThere) {
  const fs::path out = TempDir("out");
  OutputOptions o;
  o.out_dir = out.string();
  ASSERT_TRUE(WriteRun(o, Record("run-x"), "# x\n", "x").ok());
  EXPECT_TRUE(fs::exists(out / "demo_suite.json"));
  EXPECT_TRUE(fs::exists(out / "demo_suite.md"));
  EXPECT_FALSE(fs::exists(out / "README.md"));
}

TEST(ResultsTest, NoPublishWritesNothing) {
  OutputOptions o;
  o.publish = false;
  auto dir = WriteRun(o, Record("run-y"), "", "");
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(*dir, "");
}

TEST(ResultsTest, MarkdownTableEscapesPipes) {
  const std::string t = MarkdownTable({"a", "b"}, {false, true}, {{"x|y", "1"}});
  EXPECT_EQ(t, "| a | b |\n|---|---:|\n| x\\|y | 1 |\n");
}

TEST(ResultsTest, TimingJsonKeepsSamplesAndNullHardwareCounters) {
  Measurement m;
  m.samples_ns = {3, 1, 2};
  m.summary = Summarize(m.samples_ns);
  m.counters_per_rep = {1.5, std::nullopt, 0.0, 0.0};
  const Json j = TimingJson(m);
  EXPECT_EQ(j["reps"], 3);
  EXPECT_EQ(j["time_ns"]["median"], 2.0);
  EXPECT_EQ(j["samples_ns"].size(), 3u);
  EXPECT_TRUE(j["counters"]["cycles"].is_null());
  EXPECT_TRUE(j["counters"]["page-faults"].is_null());
  EXPECT_EQ(j["counters"]["task-clock"], 1.5);
}

TEST(ResultsTest, SerializedRecordParsesBackAndPutsOneRowPerLine) {
  Json r = Record("run-z");
  r["env"] = {{"host", "h"}, {"caches", {{"l1d", 1}}}};
  r["rows"].push_back({{"name", "a"}, {"samples_ns", {1, 2, 3}}});
  r["rows"].push_back({{"name", "b"}, {"samples_ns", {4}}});
  const std::string text = SerializeRecord(r);
  EXPECT_EQ(Json::parse(text), r);
  EXPECT_NE(text.find("\n    {\"name\":\"a\",\"samples_ns\":[1,2,3]},\n"), std::string::npos) << text;
}

TEST(EnvTest, HasTheKeysOfResultsMd) {
  auto topo = Topology::Load();
  ASSERT_TRUE(topo.ok());
  const Json env = CaptureEnvironment(topo->get(), {"avx2"});
  for (const char* key : {"host", "cpu_model", "isa", "cores", "caches", "virtualised",
                          "governor", "counters", "compiler", "flags", "git_commit", "git_dirty",
                          "started"}) {
    EXPECT_TRUE(env.contains(key)) << key;
  }
  EXPECT_TRUE(env["counters"].contains("reason"));
  if (!env["counters"]["hardware"].get<bool>()) {
    EXPECT_FALSE(env["counters"]["reason"].get<std::string>().empty());
  }
}

}  // namespace
}  // namespace klab::harness
