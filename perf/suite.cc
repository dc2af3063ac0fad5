#include "perf/suite.h"

#include <cstdio>

#include "harness/env.h"
#include "kernels/cpu/cpu.h"
#include "common/cli.h"

namespace klab::perf {

harness::OutputOptions OutputOptionsOrExit(const std::string& out_dir, bool no_publish) {
  harness::OutputOptions output;
  output.publish = !no_publish;
  output.out_dir = out_dir;
  if (output.publish && output.out_dir.empty()) {
    auto root = harness::DefaultResultsRoot();
    if (!root.ok()) ExitWithUsageError(std::string(root.status().message()));
    output.results_root = *root;
  }
  return output;
}

harness::Json NewRecord(const std::string& suite, int argc, char** argv,
                        const harness::Topology& topology) {
  harness::Json record;
  record["schema"] = harness::kResultsSchema;
  record["suite"] = suite;
  harness::Json env = harness::CaptureEnvironment(&topology, kernels::CpuFeatureFlags());
  const harness::GitState git = harness::ReadGitState(harness::WorkspaceDirectory());
  record["run_id"] = harness::MakeRunId(env["started"].get<std::string>(), harness::ShortHostname(),
                                        git.short_commit);
  record["command"] = CommandLine(argc, argv, "//perf:" + suite);
  record["env"] = std::move(env);
  return record;
}

int PublishRun(const std::string& suite, const harness::OutputOptions& output,
               const harness::Json& record, const std::string& markdown,
               const std::string& summary_line, int wrong_rows, const std::string& wrong_what) {
  std::printf("%s", markdown.c_str());
  auto written = harness::WriteRun(output, record, markdown, summary_line);
  if (!written.ok()) {
    std::fprintf(stderr, "%s: could not write results: %s\n", suite.c_str(),
                 std::string(written.status().message()).c_str());
    return 1;
  }
  if (!written->empty()) std::fprintf(stderr, "%s: wrote %s\n", suite.c_str(), written->c_str());
  if (wrong_rows > 0) {
    std::fprintf(stderr, "%s: %d %s\n", suite.c_str(), wrong_rows, wrong_what.c_str());
    return 1;
  }
  return 0;
}

}  // namespace klab::perf
