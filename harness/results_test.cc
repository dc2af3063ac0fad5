// The results writer: run ids, atomic writes, the published tree and its index, and the env
// block's required keys.
#include "harness/results.h"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "harness/env.h"
#include "harness/gzip.h"
#include "harness/layout.h"
#include "harness/record_reader.h"

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

constexpr char kMachine[] = "test-machine-2c";

Json Record(const std::string& run_id, const std::string& machine = kMachine) {
  Json r;
  r["schema"] = kResultsSchema;
  r["suite"] = "demo_suite";
  r["run_id"] = run_id;
  r["env"] = {{"host", "vm"}, {"machine", machine}};
  r["rows"] = Json::array();
  return r;
}

Json ReadBack(const fs::path& p) {
  auto r = ReadRecord(p.string());
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : Json();
}

TEST(ResultsTest, PublishWritesRunLatestAndIndexNewestFirst) {
  const fs::path root = TempDir("results");
  OutputOptions o;
  o.results_root = root.string();
  ASSERT_TRUE(WriteRun(o, Record("run-1"), "# one\n", "first").ok());
  auto dir = WriteRun(o, Record("run-2"), "# two\n", "second");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const fs::path m = root / kMachine;
  EXPECT_TRUE(fs::exists(m / "runs" / "run-1" / "demo_suite.json.gz"));
  EXPECT_TRUE(fs::exists(m / "runs" / "run-2" / "demo_suite.md"));
  EXPECT_NE(Slurp(m / "latest" / "demo_suite.md").find("# two"), std::string::npos);
  EXPECT_NE(Slurp(root / "README.md").find("[test-machine-2c](test-machine-2c/README.md)"),
            std::string::npos);
  const std::string index = Slurp(m / "README.md");
  const size_t two = index.find("run-2");
  const size_t one = index.find("run-1");
  ASSERT_NE(two, std::string::npos);
  ASSERT_NE(one, std::string::npos);
  EXPECT_LT(two, one) << index;
  const Json back = ReadBack(m / "runs" / "run-2" / "demo_suite.json.gz");
  EXPECT_EQ(back["schema"], kResultsSchema);
}

// Runs of two machines go into two folders, each with its own index; the fleet view names both;
// a run id is not reused across machines; several records publish as one run.
TEST(ResultsTest, RunsArePlacedPerMachine) {
  const fs::path root = TempDir("machines");
  OutputOptions o;
  o.results_root = root.string();
  ASSERT_TRUE(WriteRun(o, Record("run-1", "amd-zen4-2c"), "# a\n", "a").ok());
  auto w = WriteRun(o, Record("run-1", "intel-sapphirerapids-2c"), "# b\n", "b");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->run_id, "run-1-02");
  EXPECT_TRUE(fs::exists(root / "amd-zen4-2c" / "runs" / "run-1" / "demo_suite.json.gz"));
  EXPECT_TRUE(fs::exists(root / "intel-sapphirerapids-2c" / "runs" / "run-1-02"));
  EXPECT_EQ(Slurp(root / "amd-zen4-2c" / "README.md").find("run-1-02"), std::string::npos);
  const std::string fleet = Slurp(root / "README.md");
  EXPECT_NE(fleet.find("amd-zen4-2c"), std::string::npos) << fleet;
  EXPECT_NE(fleet.find("intel-sapphirerapids-2c"), std::string::npos) << fleet;
  Json transformer = Record("run-2", "amd-zen4-2c");
  transformer["mode"] = "transformer";
  auto parts = WriteRunParts(o, {{Record("run-2", "amd-zen4-2c"), "# square\n"}, {transformer, "# t\n"}},
                             "two parts", "demo_suite.md");
  ASSERT_TRUE(parts.ok());
  const fs::path dir = root / "amd-zen4-2c" / "runs" / "run-2";
  EXPECT_EQ(RecordKeysOfRun(dir.string()),
            (std::vector<std::string>{"demo_suite", "demo_suite-transformer"}));
  EXPECT_EQ(ReadBack(dir / "demo_suite-transformer.json.gz")["mode"], "transformer");
  EXPECT_NE(Slurp(root / "amd-zen4-2c" / "latest" / "demo_suite-transformer.md").find("# t"),
            std::string::npos);
}

// Issue 13: runs started in the same second (same host, same commit) each keep their folder and
// their index line, whatever order the processes reach the index in.
TEST(ResultsTest, ConcurrentPublishersLoseNothing) {
  const fs::path root = TempDir("concurrent");
  OutputOptions o;
  o.results_root = root.string();
  ASSERT_TRUE(WriteRun(o, Record("earlier"), "# e\n", "earlier").ok());
  constexpr int kWriters = 8;
  std::vector<pid_t> children;
  for (int i = 0; i < kWriters; ++i) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto w = WriteRun(o, Record("same-second"), "# run\n", "writer " + std::to_string(i));
      _exit(w.ok() ? 0 : 1);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  std::set<std::string> folders;
  for (const auto& e : fs::directory_iterator(root / kMachine / "runs")) {
    const std::string id = e.path().filename().string();
    folders.insert(id);
    // Each record names its own folder.
    const Json back = ReadBack(e.path() / "demo_suite.json.gz");
    EXPECT_EQ(back["run_id"], id);
  }
  EXPECT_EQ(folders.size(), kWriters + 1u);
  EXPECT_TRUE(folders.count("same-second"));
  EXPECT_TRUE(folders.count("same-second-08"));
  const std::string index = Slurp(root / kMachine / "README.md");
  for (const std::string& id : folders) {
    EXPECT_NE(index.find("- [" + id + "]"), std::string::npos) << id << "\n" << index;
  }
  for (int i = 0; i < kWriters; ++i) {
    EXPECT_NE(index.find("writer " + std::to_string(i)), std::string::npos) << index;
  }
}

// An index whose marker line was lost is rebuilt with every entry, never cut to one line.
TEST(ResultsTest, IndexWithoutMarkerIsRebuiltNotTruncated) {
  const fs::path root = TempDir("marker");
  OutputOptions o;
  o.results_root = root.string();
  for (const char* id : {"run-1", "run-2", "run-3"}) {
    ASSERT_TRUE(WriteRun(o, Record(id), "# x\n", std::string("summary of ") + id).ok());
  }
  const fs::path machine_index = root / kMachine / "README.md";
  std::string index = Slurp(machine_index);
  index.replace(index.find("<!--"), index.find("-->") + 3 - index.find("<!--"), "");
  ASSERT_TRUE(WriteFileAtomic(machine_index.string(), index).ok());
  auto w = WriteRun(o, Record("run-4"), "# x\n", "summary of run-4");
  ASSERT_TRUE(w.ok());
  EXPECT_FALSE(w->repairs.empty());
  index = Slurp(machine_index);
  for (const char* id : {"run-4", "run-3", "run-2", "run-1"}) {
    EXPECT_NE(index.find(std::string("summary of ") + id), std::string::npos) << index;
  }
  EXPECT_LT(index.find("run-4"), index.find("run-1"));
}

// What an interrupted publish leaves is noticed by the next: a run folder missing from the index
// gets its line back, a temporary file of a dead writer is removed, both are reported.
TEST(ResultsTest, LeftoversOfInterruptedPublishesAreRepaired) {
  const fs::path root = TempDir("leftovers");
  OutputOptions o;
  o.results_root = root.string();
  ASSERT_TRUE(WriteRun(o, Record("run-1"), "# x\n", "one").ok());
  // A run written but killed before its index line.
  ASSERT_TRUE(WriteFileAtomic((root / kMachine / "runs" / "run-0" / "demo_suite.json.gz").string(),
                              GzipCompress(SerializeRecord(Record("run-0"))))
                  .ok());
  // A temporary file of a writer that is gone.
  const pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  const fs::path tmp = root / kMachine / ("README.md.tmp." + std::to_string(dead));
  ASSERT_TRUE(WriteFileAtomic(tmp.string(), "half").ok());
  auto w = WriteRun(o, Record("run-2"), "# x\n", "two");
  ASSERT_TRUE(w.ok());
  EXPECT_FALSE(fs::exists(tmp));
  const std::string index = Slurp(root / kMachine / "README.md");
  EXPECT_NE(index.find("- [run-0]"), std::string::npos) << index;
  std::string all;
  for (const std::string& r : w->repairs) all += r + "\n";
  EXPECT_NE(all.find("run-0 was missing"), std::string::npos) << all;
  EXPECT_NE(all.find("interrupted write"), std::string::npos) << all;
}

TEST(ResultsTest, UnwritableFoldersAreRefusedBeforeMeasuring) {
  EXPECT_FALSE(CheckWritableFolder("/proc/klab-cannot-write").ok());
  EXPECT_TRUE(CheckWritableFolder(TempDir("writable").string()).ok());
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
  EXPECT_EQ(dir->dir, "");
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

// A record from an Intel Xeon is not this AMD's, though both hosts are called "vm".
TEST(EnvTest, SameMachineComparesTheCpuNotTheHostName) {
  const Json amd = {{"host", "vm"},
                    {"cpu_model", "AMD EPYC"},
                    {"cores", 2},
                    {"caches", {{"l1d", 32768}, {"l2", 1048576}, {"l3", 33554432}}},
                    {"isa", {"avx2", "avx512f"}}};
  Json xeon = amd;
  xeon["cpu_model"] = "Intel(R) Xeon(R) Processor";
  xeon["caches"]["l2"] = 2097152;
  std::string why;
  EXPECT_TRUE(SameMachine(amd, amd));
  EXPECT_FALSE(SameMachine(amd, xeon, &why));
  EXPECT_NE(why.find("cpu_model"), std::string::npos) << why;
  Json fewer = amd;
  fewer["cores"] = 1;
  EXPECT_FALSE(SameMachine(amd, fewer, &why));
  EXPECT_NE(why.find("cores"), std::string::npos) << why;
  EXPECT_FALSE(SameMachine(Json::object(), Json::object()));  // nothing known: not the same
}

// Slugs of the three machine kinds this lab has run on: from env.cpu's family and model, and for
// records from before env.cpu, from what they carry (the envs below are those records' fields).
TEST(EnvTest, MachineSlugNamesTheMachineKind) {
  const Json zen4_old = {{"cpu_model", "AMD EPYC"}, {"cores", 2},
                         {"caches", {{"l1d", 32768}, {"l2", 1048576}, {"l3", 33554432}}},
                         {"isa", {"avx2", "fma", "avx512f", "avx512_bf16"}},
                         {"peak", {{"gflops", 118.2}}}};
  EXPECT_EQ(MachineSlug(zen4_old), "amd-zen4-2c");
  Json zen4 = zen4_old;
  zen4["cpu"] = {{"vendor", "AuthenticAMD"}, {"family", 25}, {"model", 17}, {"stepping", 1}};
  EXPECT_EQ(MachineSlug(zen4), "amd-zen4-2c");
  Json zen5 = zen4;
  zen5["cpu"] = {{"vendor", "AuthenticAMD"}, {"family", 26}, {"model", 2}, {"stepping", 0}};
  EXPECT_EQ(MachineSlug(zen5), "amd-zen5-2c");
  Json zen5_old = zen4_old;
  zen5_old["peak"]["gflops"] = 240.0;
  EXPECT_EQ(MachineSlug(zen5_old), "amd-zen5-2c");
  const Json xeon_old = {{"cpu_model", "Intel(R) Xeon(R) Processor"}, {"cores", 2},
                         {"caches", {{"l1d", 49152}, {"l2", 2097152}, {"l3", 272629760}}},
                         {"isa", {"avx2", "fma", "avx512f", "avx512_bf16"}},
                         {"peak_gflops_per_core", 178.8}};
  EXPECT_EQ(MachineSlug(xeon_old), "intel-sapphirerapids-2c");
  Json xeon = xeon_old;
  xeon["cpu"] = {{"vendor", "GenuineIntel"}, {"family", 6}, {"model", 0x8F}, {"stepping", 8}};
  EXPECT_EQ(MachineSlug(xeon), "intel-sapphirerapids-2c");
  // The same name and caches with a different FMA width is another machine.
  std::string why;
  EXPECT_FALSE(SameMachine(zen4_old, zen5_old, &why));
  EXPECT_NE(why.find("peak"), std::string::npos) << why;
  EXPECT_FALSE(SameMachine(zen4, zen5, &why));
  EXPECT_TRUE(SameMachine(zen4, zen4_old)) << "an old record of the same machine still matches";
  // This machine's own environment names itself.
  auto topo = Topology::Load();
  ASSERT_TRUE(topo.ok());
  const Json env = CaptureEnvironment(topo->get(), {"avx2"});
  EXPECT_EQ(env["machine"], MachineSlug(env));
  EXPECT_TRUE(env["cpu"].contains("family"));
}

}  // namespace
}  // namespace klab::harness
