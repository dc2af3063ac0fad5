// Command-line handling shared by every binary users run (the suites, //models:generate).
//
// ParseFlagsOrExit checks each --flag[=value] against the registered absl flags before absl
// parses them, so that an unknown flag or a malformed value exits with status 2 and one line
// saying what is wrong (absl alone exits 1 with several lines). --help, -h and --helpfull print
// the usage and the flags to stdout and exit 0 (absl alone exits 1 after printing them).
// Binaries then validate values (ranges, lists) and call ExitWithUsageError on a bad one.
#ifndef KLAB_COMMON_CLI_H_
#define KLAB_COMMON_CLI_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/name_filter.h"

namespace klab {

// Parses flags; returns the positional arguments (argv[0] first). More than `max_positional`
// positional arguments is a usage error (exit 2) rather than something silently ignored. Also
// makes a failed write to stdout (a full disk, /dev/full, a closed pipe) end the program with
// status 1 and one line, instead of an exit 0 with the output lost.
std::vector<char*> ParseFlagsOrExit(int argc, char** argv, const char* usage,
                                    int max_positional = 0);

// Prints "<program>: <message>" and "Try --help." to stderr, then exits 2.
[[noreturn]] void ExitWithUsageError(const std::string& message);

// "64,128,256" -> {64, 128, 256}; each value in [lo, hi]. The error names the flag.
absl::StatusOr<std::vector<int64_t>> ParseIntList(const std::string& flag,
                                                  const std::vector<std::string>& items,
                                                  int64_t lo, int64_t hi);

// A --variants/--ops style filter (name_filter.h: a regular expression matched in linear time):
// at most kMaxFilterLength characters. The error names the flag.
inline constexpr size_t kMaxFilterLength = 512;
absl::StatusOr<NameFilter> CompileFilter(const std::string& flag, const std::string& pattern);

// "1,0" -> {1, 0}: an --cpus list of distinct core indices in [0, cores). Two threads on one
// core measure the core's time slicing, not the kernel, so a repeated core is an error.
absl::StatusOr<std::vector<int>> ParseCpuList(const std::string& text, int cores);

// The command that started this run, for the results file: "bazel run //perf:<suite> -- args"
// under bazel run, else argv joined.
std::string CommandLine(int argc, char** argv, const std::string& bazel_target);

}  // namespace klab

#endif  // KLAB_COMMON_CLI_H_
