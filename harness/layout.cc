#include "harness/layout.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "harness/env.h"

namespace klab::harness {
namespace fs = std::filesystem;

namespace {

constexpr char kGzRecord[] = ".json.gz";
constexpr char kRecord[] = ".json";

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The key of a record file name, or "" when the name is not a record's. report.json is the
// report of a run, not a suite's record.
std::string KeyOfFileName(const std::string& name) {
  std::string key;
  if (EndsWith(name, kGzRecord)) key = name.substr(0, name.size() - std::strlen(kGzRecord));
  else if (EndsWith(name, kRecord)) key = name.substr(0, name.size() - std::strlen(kRecord));
  return key == "report" ? "" : key;
}

}  // namespace

std::string RecordKey(const Json& record) {
  std::string key = record.value("suite", std::string("unknown"));
  if (record.contains("mode") && record["mode"].is_string() &&
      !record["mode"].get<std::string>().empty()) {
    key += "-" + record["mode"].get<std::string>();
  }
  return key;
}

std::string MachineOf(const Json& record) {
  if (!record.contains("env") || !record["env"].is_object()) return "unknown";
  const Json& env = record["env"];
  if (env.contains("machine") && env["machine"].is_string() &&
      !env["machine"].get<std::string>().empty()) {
    return env["machine"].get<std::string>();
  }
  const std::string slug = MachineSlug(env);
  return slug.empty() ? "unknown" : slug;
}

std::vector<std::string> AllRunDirs(const std::string& root) {
  std::vector<std::string> dirs;
  std::error_code ec;
  auto add_runs_of = [&](const fs::path& runs) {
    std::error_code ec2;
    for (const auto& e : fs::directory_iterator(runs, ec2)) {
      if (e.is_directory()) dirs.push_back(e.path().string());
    }
  };
  add_runs_of(fs::path(root) / "runs");
  for (const auto& e : fs::directory_iterator(root, ec)) {
    if (e.is_directory() && e.path().filename() != "runs") add_runs_of(e.path() / "runs");
  }
  std::sort(dirs.begin(), dirs.end(), [](const std::string& a, const std::string& b) {
    return fs::path(a).filename() < fs::path(b).filename();
  });
  return dirs;
}

std::string RunDir(const std::string& root, const std::string& run_id) {
  if (run_id.empty()) return "";
  for (const std::string& dir : AllRunDirs(root)) {
    if (fs::path(dir).filename() == run_id) return dir;
  }
  return "";
}

std::string RecordPath(const std::string& run_dir, const std::string& key) {
  for (const char* ext : {kGzRecord, kRecord}) {
    const fs::path p = fs::path(run_dir) / (key + ext);
    if (fs::exists(p)) return p.string();
  }
  return "";
}

std::vector<std::string> RecordKeysOfRun(const std::string& run_dir) {
  std::vector<std::string> keys;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(run_dir, ec)) {
    const std::string key = KeyOfFileName(e.path().filename().string());
    if (!key.empty() && std::find(keys.begin(), keys.end(), key) == keys.end()) {
      keys.push_back(key);
    }
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace klab::harness
