// CSV of a record's rows: flat (one line per row, dotted column names as the schema names the
// fields) and exact (RowsFromCsv gives back the rows, types and all).
#include "harness/csv.h"

#include "gtest/gtest.h"

namespace klab::harness {
namespace {

Json Record() {
  return Json::parse(R"({
    "schema": "kernel-lab/results/v1", "suite": "demo", "run_id": "20261205-000000-vm-abc",
    "env": {"machine": "amd-zen4-2c"},
    "rows": [
      {"name": "sgemm/sgemm_auto/64x64x64/t1", "op": "sgemm", "impl": "kernel-lab",
       "shape": {"m": 64, "n": 64, "k": 64}, "threads": 1, "pinned": [0],
       "time_ns": {"median": 3131.46780072904, "median_ci95": [3115.7, 3149.9]},
       "samples_ns": [3100, 3131, 3190], "unstable": false,
       "check": {"ok": true, "max_err_ratio": 0.0186}, "gflops": 167.42563978398246},
      {"name": "model/gpt2, \"quoted\"\nnewline", "op": "model", "impl": "pytorch",
       "variant": "123", "peer_config": {"config": "a,b", "threads": 2}, "empty": "",
       "nothing": null, "counters": {"cycles": null}, "losses": [6.3, 5.9]}
    ]})");
}

TEST(Csv, OneLinePerRowWithSchemaColumnNames) {
  const std::string csv = RecordCsv(Record());
  auto lines = ParseCsv(csv);
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->size(), 3u);  // header and two rows
  const std::vector<std::string>& header = (*lines)[0];
  for (const char* column : {"run_id", "suite", "machine", "name", "shape.m", "time_ns.median",
                             "check.ok", "peer_config.config", "samples_ns"}) {
    EXPECT_NE(std::find(header.begin(), header.end(), column), header.end()) << column;
  }
  EXPECT_EQ((*lines)[1][0], "20261205-000000-vm-abc");
  EXPECT_EQ((*lines)[1][2], "amd-zen4-2c");
}

TEST(Csv, RoundTripGivesTheRowsBack) {
  const Json record = Record();
  auto rows = RowsFromCsv(RecordCsv(record));
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(*rows, record["rows"]);  // numbers, booleans, nulls, arrays, "123" stays a string
}

TEST(Csv, DamagedTextIsRefused) {
  EXPECT_FALSE(RowsFromCsv("name,op\nx,y\n").ok());                 // no run_id header
  EXPECT_FALSE(RowsFromCsv("run_id,suite,machine,a\n1,2,3\n").ok());  // short line
  EXPECT_FALSE(ParseCsv("\"open").ok());
}

}  // namespace
}  // namespace klab::harness
