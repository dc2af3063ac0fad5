// Running another suite binary from a driver (//perf:report, //perf:tune): finding it beside the
// driver, and running it with a deadline.
#ifndef KLAB_PERF_CHILD_PROCESS_H_
#define KLAB_PERF_CHILD_PROCESS_H_

#include <string>
#include <vector>

namespace klab::perf {

// Seconds on a monotonic clock.
double Now();

// The suite binary `suite`: beside `argv0` (bazel-bin/perf), in argv0's runfiles, or under the
// test's runfiles; "" when none is executable.
std::string SuiteBinary(const char* argv0, const std::string& suite);

// Runs `argv` with stdout into the file `log`; stderr (the suite's progress) passes through. Stops
// it (SIGTERM, then SIGKILL 5 s later) at `deadline` (Now() seconds). Returns the exit status, or
// -1 when it was stopped.
int RunChild(const std::vector<std::string>& argv, const std::string& log, double deadline);

}  // namespace klab::perf

#endif  // KLAB_PERF_CHILD_PROCESS_H_
