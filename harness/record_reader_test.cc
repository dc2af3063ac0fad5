// The validating record reader (issue 13): each wrong-typed field that used to end the
// comparison (and every later publish) with an uncaught type_error or a SIGSEGV is refused with
// the file and the field named, and every record this repository has published passes.
#include "harness/record_reader.h"
#include "harness/layout.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "harness/compare.h"
#include "harness/json.h"

namespace klab::harness {
namespace {

Json Good() {
  return Json::parse(R"({
    "schema": "kernel-lab/results/v1", "suite": "demo", "run_id": "r1", "command": "c",
    "env": {"host": "vm", "during_run": {"steal_pct": 0.5, "load_1min": 1.0}},
    "rows": [{"name": "a", "op": "gemm", "impl": "kernel-lab", "threads": 1,
              "samples_ns": [1, 2, 3], "time_ns": {"median": 2, "median_ci95": [1, 3]},
              "alloc": {"bytes": null, "count": 0}}],
    "scaling": {"size": {"params_ratio": 7.3, "time_ratio": 4.2},
                "threads": {"m tg25": {"t2": {"speedup": 1.5, "efficiency": 0.75}}}},
    "hot_paths": {"m": {"share": {"gemm": 0.8}}}
  })");
}

// Sets the value at a JSON pointer and validates; the message must name `field`.
void ExpectRefused(const std::string& pointer, const Json& value, const std::string& field) {
  Json r = Good();
  r[Json::json_pointer(pointer)] = value;
  const absl::Status s = ValidateRecord(r, "x.json");
  EXPECT_FALSE(s.ok()) << pointer;
  EXPECT_NE(std::string(s.message()).find(field), std::string::npos) << s;
  EXPECT_NE(std::string(s.message()).find("x.json"), std::string::npos) << s;
}

TEST(RecordReader, GoodRecordPassesAndCompares) {
  ASSERT_TRUE(ValidateRecord(Good(), "x").ok()) << ValidateRecord(Good(), "x");
  auto c = CompareRuns(Good(), Good(), {});
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(ReportMarkdown(Good(), Good(), *c, {}).empty());
}

TEST(RecordReader, WrongTypesAreRefusedNamingTheField) {
  EXPECT_FALSE(ValidateRecord(Json::array(), "x.json").ok());  // a top-level []
  ExpectRefused("/suite", 3, "suite");
  ExpectRefused("/run_id", Json::array(), "run_id");
  ExpectRefused("/env", "a string", "env");
  ExpectRefused("/env/host", 7, "env.host");
  ExpectRefused("/env/during_run", Json::array(), "during_run");
  ExpectRefused("/env/during_run/steal_pct", Json::array(), "during_run");
  ExpectRefused("/rows", Json::object(), "rows");
  ExpectRefused("/rows/0", 5, "rows[0]");
  ExpectRefused("/rows/0/name", 5, "rows[0].name");
  ExpectRefused("/rows/0/samples_ns", Json::array({1, "x"}), "rows[0].samples_ns");
  ExpectRefused("/rows/0/time_ns", 2, "rows[0].time_ns");
  ExpectRefused("/rows/0/alloc", Json::array(), "rows[0].alloc");
  ExpectRefused("/scaling", 1, "scaling");
  ExpectRefused("/scaling/size/time_ratio", "fast", "scaling.size");
  ExpectRefused("/scaling/threads/m tg25", 2, "scaling.threads.m tg25");
  ExpectRefused("/scaling/threads/m tg25/t2/speedup", Json(nullptr), "scaling.threads");
  ExpectRefused("/hot_paths", "x", "hot_paths");
  ExpectRefused("/hot_paths/m/share/gemm", "most", "hot_paths.m.share");
  Json missing = Good();
  missing.erase("suite");
  EXPECT_NE(std::string(ValidateRecord(missing, "x").message()).find("missing"),
            std::string::npos);
  EXPECT_FALSE(ParseRecord("{\"schema\": ", "x").ok());
}

// Shapes that are valid but sparse: the report must cope (an empty during_run was a SIGSEGV).
TEST(RecordReader, SparseValidRecordsReportWithoutCrashing) {
  for (const char* pointer : {"/env/during_run", "/hot_paths/m", "/scaling/threads/m tg25"}) {
    Json sparse = Good();
    sparse[Json::json_pointer(pointer)] = Json::object();
    ASSERT_TRUE(ValidateRecord(sparse, "x").ok()) << pointer;
    auto c = CompareRuns(sparse, Good(), {});
    ASSERT_TRUE(c.ok());
    EXPECT_FALSE(ReportMarkdown(sparse, Good(), *c, {}).empty());
    EXPECT_FALSE(ReportMarkdown(Good(), sparse, *c, {}).empty());
  }
  Json bare = Json::parse(R"({"schema": "s", "suite": "demo", "run_id": "r"})");
  ASSERT_TRUE(ValidateRecord(bare, "x").ok());
  auto c = CompareRuns(bare, Good(), {});
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(ReportMarkdown(bare, Good(), *c, {}).empty());
}

// A bad earlier record is skipped with a warning when looking for the run to compare with.
TEST(RecordReader, PreviousRunSkipsBadRecordsWithAWarning) {
  namespace fs = std::filesystem;
  const char* t = std::getenv("TEST_TMPDIR");
  const fs::path root = fs::path(t != nullptr ? t : "/tmp") / "previous";
  fs::remove_all(root);
  fs::create_directories(root / "runs" / "r0");
  fs::create_directories(root / "runs" / "r1");
  {
    std::ofstream(root / "runs" / "r0" / "demo.json") << Good().dump();
    std::ofstream(root / "runs" / "r1" / "demo.json") << R"({"suite": 3})";
  }
  std::vector<std::string> warnings;
  EXPECT_EQ(PreviousRun(root.string(), "demo", "r2", "vm", nullptr, &warnings), "r0");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("r1"), std::string::npos) << warnings[0];
}

TEST(RecordReader, EveryPublishedRecordValidates) {
  namespace fs = std::filesystem;
  int records = 0;
  for (const std::string& run : AllRunDirs("results")) {
    for (const std::string& key : RecordKeysOfRun(run)) {
      ++records;
      auto r = ReadRecord(RecordPath(run, key));
      EXPECT_TRUE(r.ok()) << r.status();
    }
  }
  EXPECT_GT(records, 10);
}

}  // namespace
}  // namespace klab::harness
