#include "common/cli.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/internal/parse.h"
#include "absl/flags/internal/usage.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

// Debian's Abseil is built with its own absl::string_view (not an alias of std::string_view),
// so the flag reflection API below is called with absl::string_view throughout.
namespace klab {
namespace {
std::string g_program = "program";

bool IsHelpFlag(absl::string_view name) {
  return name == "help" || name == "helpfull" || name == "helpshort" || name == "helppackage" ||
         name == "version" || name == "only_check_args" || name == "helpon" ||
         name == "helpmatch";
}
// At exit: output that could not be written is an error, not a success. _exit keeps the other
// exit handlers from running twice.
void CheckStdoutAtExit() {
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    const int err = errno;
    std::fprintf(stderr, "%s: error writing to standard output: %s\n", g_program.c_str(),
                 err != 0 ? std::strerror(err) : "write failed");
    std::_Exit(1);
  }
}
}  // namespace

void ExitWithUsageError(const std::string& message) {
  std::fprintf(stderr, "%s: %s\nTry --help.\n", g_program.c_str(), message.c_str());
  std::exit(2);
}

std::vector<char*> ParseFlagsOrExit(int argc, char** argv, const char* usage_message,
                                    int max_positional) {
  std::string prog = argv[0];
  g_program = prog.substr(prog.find_last_of('/') + 1);
  std::atexit(CheckStdoutAtExit);
  absl::SetProgramUsageMessage(usage_message);
  // --help lists every flag of ours, also those defined once for several binaries (perf/suite.cc's
  // --out, --pinning, ...), not only those in the file named like the program; Abseil's own stay
  // under --helpfull.
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [](absl::string_view file) {
    return !absl::StartsWith(file, "absl/") && !absl::StrContains(file, "/absl/");
  };
  config.contains_helpshort_flags = config.contains_help_flags;
  absl::SetFlagsUsageConfig(config);
  // -h is --help; asking for help is a success (Abseil alone exits 1 after printing it).
  static char kHelp[] = "--help";
  bool help = false;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == "-h") argv[i] = kHelp;
    absl::string_view name = argv[i];
    if (!absl::ConsumePrefix(&name, "--") && !absl::ConsumePrefix(&name, "-")) continue;
    name = name.substr(0, name.find('='));
    if (IsHelpFlag(name) && name != "version" && name != "only_check_args") help = true;
  }
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (!absl::ConsumePrefix(&arg, "--") && !absl::ConsumePrefix(&arg, "-")) continue;
    const size_t eq = arg.find('=');
    absl::string_view name = arg.substr(0, eq);
    absl::string_view value = eq == absl::string_view::npos ? "" : arg.substr(eq + 1);
    if (IsHelpFlag(name)) continue;
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    bool negated = false;
    if (flag == nullptr && absl::ConsumePrefix(&name, "no")) {
      flag = absl::FindCommandLineFlag(name);
      negated = flag != nullptr;
    }
    if (flag == nullptr) {
      ExitWithUsageError(absl::StrFormat("unknown flag --%s", arg.substr(0, eq)));
    }
    const bool is_bool = flag->IsOfType<bool>();
    if (eq == absl::string_view::npos && !is_bool) {
      // "--flag value" form: take the next argument.
      if (i + 1 >= argc) ExitWithUsageError(absl::StrFormat("--%s needs a value", name));
      value = argv[i + 1];
    } else if (eq == absl::string_view::npos) {
      value = negated ? "false" : "true";
    } else if (negated) {
      ExitWithUsageError(absl::StrFormat("--no%s takes no value", name));
    }
    std::string error;
    // Parsing into the flag here only checks the value; absl parses it again below.
    if (!flag->ParseFrom(value, &error)) {
      ExitWithUsageError(absl::StrFormat("bad value for --%s: %s", name, error));
    }
  }
  std::vector<char*> positional = absl::flags_internal::ParseCommandLineImpl(
      argc, argv, absl::flags_internal::ArgvListAction::kRemoveParsedArgs,
      absl::flags_internal::UsageFlagsAction::kIgnoreUsage,
      absl::flags_internal::OnUndefinedFlag::kAbortIfUndefined);
  const int usage = absl::flags_internal::HandleUsageFlags(std::cout, usage_message);
  if (usage != -1) {
    std::cout.flush();
    std::exit(help ? 0 : usage);
  }
  if (static_cast<int>(positional.size()) - 1 > max_positional) {
    ExitWithUsageError(absl::StrFormat("unexpected argument '%s'%s", positional[max_positional + 1],
                                       max_positional == 0 ? " (flags start with --)" : ""));
  }
  return positional;
}

absl::StatusOr<std::vector<int64_t>> ParseIntList(const std::string& flag,
                                                  const std::vector<std::string>& items,
                                                  int64_t lo, int64_t hi) {
  std::vector<int64_t> out;
  for (const std::string& item : items) {
    int64_t v;
    if (!absl::SimpleAtoi(item, &v)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--%s: '%s' is not an integer", flag, item));
    }
    if (v < lo || v > hi) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--%s: %d is outside [%d, %d]", flag, v, lo, hi));
    }
    out.push_back(v);
  }
  if (out.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat("--%s: the list is empty", flag));
  }
  return out;
}

absl::StatusOr<NameFilter> CompileFilter(const std::string& flag, const std::string& pattern) {
  if (pattern.size() > kMaxFilterLength) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--%s: the pattern has %d characters, more than %d", flag, pattern.size(),
        kMaxFilterLength));
  }
  absl::StatusOr<NameFilter> filter = NameFilter::Compile(pattern);
  if (!filter.ok()) {
    return absl::InvalidArgumentError(absl::StrFormat("--%s: bad regular expression: %s", flag,
                                                      filter.status().message()));
  }
  return filter;
}

absl::StatusOr<std::vector<int>> ParseCpuList(const std::string& text, int cores) {
  std::vector<int> out;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    int core = -1;
    if (!absl::SimpleAtoi(item, &core) || core < 0 || core >= cores) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "--cpus: '%s' is not a core of this machine (0..%d)", std::string(item), cores - 1));
    }
    if (std::find(out.begin(), out.end(), core) != out.end()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "--cpus: core %d is listed twice (two threads on one core would share it)", core));
    }
    out.push_back(core);
  }
  return out;
}

std::string CommandLine(int argc, char** argv, const std::string& bazel_target) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  if (ws != nullptr) {
    return absl::StrFormat("bazel run %s%s%s", bazel_target, args.empty() ? "" : " -- ",
                           absl::StrJoin(args, " "));
  }
  return absl::StrJoin(argv, argv + argc, " ");
}

}  // namespace klab
