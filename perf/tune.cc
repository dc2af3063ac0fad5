// //perf:tune — measure this machine once and keep what was learned (docs/tuning.md): the packed
// GEMM's cache blocking, for each GEMM shape class the variants that run it fastest on 1 and on 2
// threads, the size from which a linear layer is worth splitting over 2 threads and the one from
// which a model is; written as a tuning profile the library compiles in
// (kernels/tuning/<machine>.json) or loads (KLAB_TUNING).
//
//   bazel run //perf:tune                    ~6.5 minutes on 2 cores; writes kernels/tuning/<machine>.json
//   bazel run //perf:tune -- --profile=/tmp/p.json --quick
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "common/cli.h"
#include "harness/env.h"
#include "harness/record_reader.h"
#include "harness/results.h"
#include "kernels/cpu/cpu.h"
#include "kernels/gemm/gemm.h"
#include "kernels/gemm/gemm_config.h"
#include "kernels/tuning/tuning.h"
#include "perf/child_process.h"
#include "perf/suite.h"
#include "perf/tune_choices.h"

ABSL_FLAG(std::string, profile, "",
          "Where to write the profile (default: kernels/tuning/<machine>.json in the workspace, "
          "compiled in at the next build; a relative path is taken from where `bazel run` started).");
ABSL_FLAG(double, budget, 900, "Seconds the sweeps may take before they are stopped.");
ABSL_FLAG(std::string, compare, "",
          "An earlier profile of this machine: say, per class, whether this run chose the same, "
          "or a choice within the noise (its score in this run at most 1.03), or another.");

namespace klab::perf {
namespace {

using tune::Shape;

namespace fs = std::filesystem;
using harness::Json;

constexpr char kUsage[] =
    "Measures this machine (//perf:matmul_sweep with --peers=none, //perf:model_bench without\n"
    "PyTorch: interleaved, each result checked before timed) and writes a tuning profile: the\n"
    "packed GEMM's blocking, the GEMM variants per shape class on 1 and 2 threads, and the sizes\n"
    "from which linear layers and models are worth 2 threads.\n"
    "  bazel run //perf:tune -- [--quick] [--profile=FILE] [--budget=SECONDS] [--compare=OLD]\n"
    "Exit status: 0 written, 1 a sweep failed or nothing could be chosen, 2 usage.\n";

// The candidates: every registered variant the dispatcher may choose (not the textbook loops), and
// the models' packed linear layers.
constexpr char kCandidates[] = "(regblock|packed|smallm).*|linear_packed";

// A large GEMM (2mnk >= 2^30) on 2 threads slower than on 1 means the machine was busy or in a
// slow mode while the sweep ran (a VM's neighbours; another build): the profile would learn that.
// Each such shape is a warning, written into the profile and said on stderr.
Json Disturbances(const std::map<std::string, Shape>& shapes) {
  Json warnings = Json::array();
  for (const auto& [label, s] : shapes) {
    double best1 = INFINITY, best2 = INFINITY;
    for (const auto& [v, t] : s.t1) best1 = std::min(best1, t);
    for (const auto& [v, t] : s.t2) best2 = std::min(best2, t);
    int64_t m = 0, k = 0, n = 0;
    if (std::sscanf(label.c_str(), "%ldx%ldx%ld", &m, &k, &n) != 3) continue;
    if (2.0 * m * n * k >= 1073741824.0 && best2 > best1) {
      warnings.push_back(absl::StrFormat(
          "%s: the best on 2 threads (%.3f ms) is slower than on 1 (%.3f ms): the machine was "
          "disturbed; rerun on a quiet machine before trusting this profile", label,
          best2 * 1e-6, best1 * 1e-6));
    }
  }
  return warnings;
}

// --compare: how this run's choices reproduce the profile at `old_path`, said on stderr.
Json CompareWith(const std::string& old_path, const Json& profile) {
  const Json old = Json::parse(harness::ReadWholeFile(old_path), nullptr, false);
  if (old.is_discarded()) {
    std::fprintf(stderr, "tune: --compare: cannot read a profile from %s\n", old_path.c_str());
    std::exit(1);
  }
  Json reproduces = tune::Reproduces(profile, old);
  int same = 0, noise = 0, differ = 0;
  for (const auto& [c, v] : reproduces.items()) {
    const std::string t = v.get<std::string>();
    same += t == "same", noise += t.rfind("within", 0) == 0, differ += t.rfind("differs", 0) == 0;
    if (t != "same") std::fprintf(stderr, "tune: %s: %s\n", c.c_str(), t.c_str());
  }
  std::fprintf(stderr, "tune: against %s: %d choices the same, %d within the noise, %d differ\n",
               old_path.c_str(), same, noise, differ);
  return reproduces;
}

// Runs the suite `suite` into `out` and returns its record (key: the record's file name), or
// exits 1 saying why.
Json RunSuite(const char* argv0, const std::string& suite, std::vector<std::string> args,
              const std::string& out, const std::string& key, double deadline) {
  const std::string binary = SuiteBinary(argv0, suite);
  if (binary.empty()) {
    std::fprintf(stderr, "tune: the //perf:%s binary was not found beside this one\n", suite.c_str());
    std::exit(1);
  }
  args.insert(args.begin(), binary);
  args.push_back("--out=" + out);
  args.push_back("--format=json");
  const int status = RunChild(args, out + ".log", deadline);
  auto record = harness::ReadRecord((fs::path(out) / (key + ".json")).string());
  if (status != 0 || !record.ok()) {
    std::fprintf(stderr, "tune: the %s run %s\n", key.c_str(),
                 status == -1 ? "ran past --budget" : status != 0 ? "failed (a wrong result?)"
                                                                   : "wrote no record");
    std::exit(1);
  }
  return *record;
}

// The blocked variant the analytic rules give the largest square GEMM: its blocking is searched.
const kernels::GemmVariant& LargeGemmVariant() {
  kernels::SetTuningForTesting(nullptr);
  const kernels::GemmVariant& v =
      kernels::ChooseSerialGemmVariant({kernels::Trans::kNo, kernels::Trans::kNo, 2048, 2048, 2048});
  kernels::RestoreTuning();
  return v;
}

// The blocking search for `v`'s micro-kernel (MR x NR), each trial its threaded member on the large
// square sizes on 1 and 2 threads (--quick: 256 and 512, the analytic blocking and KC x 2 once): the analytic model's MC/KC/NC, and KC in {128, 256, 512, 1024}
// with the packed A block filling a quarter of L2; then around the best of those KC x 3/2 and x 2/3
// (the same A bytes) and MC x 2 and / 2; then the three best and the analytic one once more, so
// that drift between the child processes lands on the contenders alike (each keeps its faster
// median per case).
Json SearchBlocking(const char* argv0, const kernels::GemmVariant& v, const std::string& tmp,
                    bool quick, double deadline) {
  const kernels::CpuFeatures& cpu = kernels::GetCpuFeatures();
  const kernels::Blocking analytic = kernels::DeriveBlocking(v.mr, v.nr, cpu.l1d_bytes, cpu.l2_bytes, cpu.l3_bytes);
  const int64_t a_bytes = (cpu.l2_bytes > 0 ? cpu.l2_bytes : 256 << 10) / 4;
  auto trial = [&](int mc, int kc) {
    return tune::BlockingTrial{std::max(v.mr, mc / v.mr * v.mr), kc, analytic.nc, false, {}};
  };
  auto rows_for = [&](int kc) { return static_cast<int>(a_bytes / (kc * 4)); };
  std::vector<tune::BlockingTrial> trials = {{analytic.mc, analytic.kc, analytic.nc, true, {}}};
  auto add = [&](tune::BlockingTrial t) {
    for (const tune::BlockingTrial& old : trials) {
      if (old.mc == t.mc && old.kc == t.kc && old.nc == t.nc) return;
    }
    trials.push_back(t);
  };
  const std::string sizes = quick ? "--sizes=256,512" : "--sizes=1024,2048";
  if (quick) {
    // A smoke run: the analytic blocking against one other KC, once each.
    add(trial(rows_for(analytic.kc * 2), analytic.kc * 2));
  } else {
    for (int kc : {128, 256, 512, 1024}) add(trial(rows_for(kc), kc));
  }
  const std::string variant = "--variants=" + tune::Threaded(std::string(v.name));
  auto run = [&](size_t i, int pass) {
    tune::BlockingTrial& t = trials[i];
    const std::string out = absl::StrFormat("%s/blocking-%d-%d-%d-%d", tmp, t.mc, t.kc, t.nc, pass);
    std::vector<std::string> args = {sizes, "--threads=1,2", "--peers=none", variant,
                                     absl::StrFormat("--blocking=%d,%d,%d", t.mc, t.kc, t.nc)};
    if (quick) args.push_back("--quick");
    const Json r = RunSuite(argv0, "matmul_sweep", args, out, "matmul_sweep", deadline);
    for (const Json& row : r["rows"]) {
      if (row.value("impl", "") != "kernel-lab" || !row.contains("time_ns")) continue;
      const std::string c = absl::StrFormat("%d/t%d", row["shape"]["n"].get<int64_t>(), row.value("threads", 1));
      const double ns = row["time_ns"]["median"].get<double>();
      t.ns[c] = t.ns.count(c) ? std::min(t.ns[c], ns) : ns;
    }
  };
  auto best_of = [&](const std::vector<double>& scores) {
    return static_cast<size_t>(std::min_element(scores.begin(), scores.end()) - scores.begin());
  };
  for (size_t i = 0; i < trials.size(); ++i) run(i, 0);
  if (quick) return tune::ChooseBlocking(trials);
  const tune::BlockingTrial best = trials[best_of(tune::BlockingScores(trials))];
  for (const int kc : {best.kc * 3 / 2 / 16 * 16, best.kc * 2 / 3 / 16 * 16}) {
    add(trial(std::max(v.mr, best.mc * best.kc / kc), kc));
  }
  add(trial(best.mc * 2, best.kc));
  add(trial(best.mc / 2, best.kc));
  const size_t first_round = trials.size();
  for (size_t i = 0; i < first_round; ++i) {
    if (trials[i].ns.empty()) run(i, 0);
  }
  std::vector<double> scores = tune::BlockingScores(trials);
  std::vector<size_t> order(trials.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return scores[x] < scores[y]; });
  for (size_t i : order) {
    if (i == 0 || i == order[0] || i == order[1] || i == order[2]) run(i, 1);  // 0: the analytic one
  }
  return tune::ChooseBlocking(trials);
}

std::string DefaultProfilePath(const std::string& machine) {
  const std::string ws = harness::WorkspaceDirectory();
  if (ws.empty()) {
    ExitWithUsageError("not started from the repository (use `bazel run`): pass --profile=FILE");
  }
  return (fs::path(ws) / "kernels" / "tuning" / (machine + ".json")).string();
}

// The "cpu" block of a profile for this CPU.
Json CpuBlock() {
  const kernels::CpuFeatures& cpu = kernels::GetCpuFeatures();
  return {{"vendor", cpu.vendor}, {"family", cpu.family}, {"models", {cpu.model}}, {"brand", cpu.brand}};
}

// The profile the children run under while the tuner measures (KLAB_TUNING): what has been chosen
// so far (`chosen`: gemm, blocking, linear), and the thresholds not yet chosen at 0, so that
// linear_packed and the models really run on 2 threads at every size.
void UseProbeProfile(const std::string& tmp, const std::string& machine, const Json& chosen) {
  Json probe = {{"schema", kernels::kTuningSchema}, {"machine", machine}, {"cpu", CpuBlock()},
                {"gemm", Json::object()}, {"linear", {{"threads_from_mnk", 0}}},
                {"decode", {{"threads_above_weight_bytes", 0}}}};
  for (const auto& [key, value] : chosen.items()) probe[key] = value;
  const std::string path = tmp + "/probe.json";
  if (absl::Status s = harness::WriteFileAtomic(path, probe.dump(1)); !s.ok()) {
    std::fprintf(stderr, "tune: %s\n", std::string(s.message()).c_str());
    std::exit(1);
  }
  setenv("KLAB_TUNING", path.c_str(), 1);
}

void PrintProfile(const Json& profile) {
  std::printf("| class | serial | on 2 threads | score (1 = best on every shape) |\n|---|---|---|---:|\n");
  for (const auto& [c, choice] : profile["gemm"].items()) {
    std::printf("| %s | %s | %s | %.3f |\n", c.c_str(), choice["serial"].get<std::string>().c_str(),
                choice["threaded"].get<std::string>().c_str(), choice["score"].get<double>());
  }
  for (const auto& [kernel, b] : profile["blocking_search"].items()) {
    std::printf("\nblocking %s: MC,KC,NC = %d,%d,%d (%s; score %.3f)\n", kernel.c_str(), b.value("mc", 0),
                b.value("kc", 0), b.value("nc", 0), b.value("use", false) ? "tuned" : "the analytic model's",
                b.value("score", 0.0));
  }
  if (profile["linear"].is_object()) {
    std::printf("linear layers on 2 threads from m*n*k = %ld\n", profile["linear"].value("threads_from_mnk", int64_t{0}));
  }
  if (profile["decode"].is_object()) {
    std::printf("models on 2 threads above %ld bytes of packed weights\n",
                profile["decode"].value("threads_above_weight_bytes", int64_t{0}));
  }
}

// One tuning run's context: where the children write, their deadline, the machine kind.
struct Run {
  const char* argv0;
  std::string tmp, machine;
  bool quick;
  double deadline;
};

// Step 1: the blocking of the large GEMMs' micro-kernel. Returns {"blocking": what the library
// reads (empty when the analytic one stays), "blocking_search": the trials}.
Json TuneBlocking(const Run& run) {
  const kernels::GemmVariant& large = LargeGemmVariant();
  Json blocking = Json::object(), search = Json::object();
  if (large.blocked) {
    std::fprintf(stderr, "tune: [1/6] cache blocking of %s\n", std::string(large.name).c_str());
    const std::string kernel = kernels::MicroKernelKey(large.mr, large.nr);
    search[kernel] = SearchBlocking(run.argv0, large, run.tmp, run.quick, run.deadline);
    const Json& b = search[kernel];
    if (b.is_object() && b.value("use", false)) {
      blocking[kernel] = {{"mc", b["mc"]}, {"kc", b["kc"]}, {"nc", b["nc"]}};
    }
  }
  return {{"blocking", blocking}, {"blocking_search", search}};
}

// Steps 2-4: every dispatchable variant (and the packed linear layers) on 1 and 2 threads, on the
// square, transformer and backward shapes. The sweeps' records.
std::vector<Json> SweepShapes(const Run& run) {
  std::vector<Json> sweeps;
  const std::pair<const char*, const char*> shape_sets[] = {
      {"square", "square shapes"}, {"transformer", "transformer shapes (forward)"},
      {"backward", "backward shapes (training's dX and dW)"}};
  for (const auto& [set, what] : shape_sets) {
    std::fprintf(stderr, "tune: [%zu/6] %s, 1 and 2 threads\n", sweeps.size() + 3, what);
    std::vector<std::string> args = {"--threads=1,2", "--peers=none", std::string("--variants=") + kCandidates,
                                     std::string("--shapes=") + set};
    if (run.quick) args.push_back("--quick");
    const std::string key = std::string_view(set) == "square" ? "matmul_sweep" : std::string("matmul_sweep-") + set;
    sweeps.push_back(RunSuite(run.argv0, "matmul_sweep", args, run.tmp + "/" + set, key, run.deadline));
  }
  return sweeps;
}

// Step 5: the models on 1 and 2 threads (decode and prefill, KV cache on), with the choices so far
// (`chosen`) in force: what is left to decide is whether a model as a whole gains from the second
// core. The model_bench record.
// One pass of the models on 1 and 2 threads under `chosen` (the decode rule takes the worse of two
// passes minutes apart: docs/tuning.md).
Json RunModels(const Run& run, const Json& chosen, int pass) {
  UseProbeProfile(run.tmp, run.machine, chosen);
  std::fprintf(stderr, "tune: [%d/6] the models on 1 and 2 threads (pass %d of 2)\n", pass == 1 ? 2 : 6, pass);
  std::vector<std::string> args = {"--threads=1,2", "--tests=tg64,pp64", "--no_cache_rows=false",
                                   "--pytorch=false"};
  if (run.quick) args.push_back("--quick");
  return RunSuite(run.argv0, "model_bench", args, absl::StrFormat("%s/models-%d", run.tmp, pass),
                  "model_bench", run.deadline);
}

// Validates the profile as the library will read it and writes it to `path`; false (said) when
// either fails.
bool WriteProfile(const Json& profile, const std::string& path) {
  auto parsed = kernels::ParseTuningProfile(profile.dump(), path, kernels::GetCpuFeatures());
  absl::Status valid = parsed.ok() ? kernels::ValidateGemmTuning(*parsed) : parsed.status();
  if (!valid.ok()) {
    std::fprintf(stderr, "tune: the profile does not validate: %s\n", std::string(valid.message()).c_str());
    return false;
  }
  if (absl::Status s = harness::WriteFileAtomic(path, profile.dump(1) + "\n"); !s.ok()) {
    std::fprintf(stderr, "tune: %s\n", std::string(s.message()).c_str());
    return false;
  }
  return true;
}

int Main(int argc, char** argv) {
  ParseFlagsOrExit(argc, argv, kUsage);
  const double budget = absl::GetFlag(FLAGS_budget);
  if (!(budget > 0)) ExitWithUsageError("--budget must be positive");
  const std::unique_ptr<harness::Topology> topology = LoadTopologyOrExit("tune");
  const Json header = NewRecord("tune", argc, argv, *topology);
  const Run run{argv[0], fs::temp_directory_path() / absl::StrFormat("klab-tune-%d", getpid()),
                header["env"].value("machine", "unknown"), QuickFromFlags(), Now() + budget};
  std::string path = harness::UserPath(absl::GetFlag(FLAGS_profile));
  if (path.empty()) path = DefaultProfilePath(run.machine);
  if (const absl::Status s = harness::CheckWritableFolder(fs::path(path).parent_path().string()); !s.ok()) {
    ExitWithUsageError("--profile: " + std::string(s.message()));
  }
  fs::create_directories(run.tmp);

  const Json blocking = TuneBlocking(run);
  const Json models_first = RunModels(run, {{"blocking", blocking["blocking"]}}, 1);
  UseProbeProfile(run.tmp, run.machine, {{"blocking", blocking["blocking"]}});
  const std::vector<Json> sweeps = SweepShapes(run);
  std::map<std::string, Shape> shapes, linear;
  tune::ShapesOf(sweeps, &shapes, &linear);
  const Json gemm = tune::ChooseGemm(shapes);
  if (gemm.empty()) {
    std::fprintf(stderr, "tune: no class had a variant measured on all its shapes\n");
    return 1;
  }
  const Json linear_block = tune::ChooseLinear(linear);
  Json chosen = {{"blocking", blocking["blocking"]}, {"gemm", gemm}};
  if (!linear_block.is_null()) chosen["linear"] = linear_block;
  const Json models = RunModels(run, chosen, 2);
  std::error_code ec;
  fs::remove_all(run.tmp, ec);

  const Json warnings = Disturbances(shapes);
  for (const Json& w : warnings) std::fprintf(stderr, "tune: warning: %s\n", w.get<std::string>().c_str());
  Json profile = {
      {"schema", kernels::kTuningSchema}, {"machine", run.machine}, {"cpu", CpuBlock()},
      {"made_by", header["command"]}, {"commit", header["env"].value("git_commit", "?")},
      {"started", header["env"].value("started", "?")}, {"quick", run.quick},
      {"sweeps", {sweeps[0]["run_id"], sweeps[1]["run_id"], sweeps[2]["run_id"], models_first["run_id"],
                  models["run_id"]}},
      {"warnings", warnings},
      {"rule", "per shape class, the serial variant (1 thread) and the variant on 2 threads (its "
               "family's threaded member, or itself: no split) minimising the geometric mean over "
               "the class's shapes of sqrt(t1/best t1 x t2/best t2)"},
      {"gemm", gemm}, {"blocking", blocking["blocking"]}, {"blocking_search", blocking["blocking_search"]}};
  if (!linear_block.is_null()) profile["linear"] = linear_block;
  if (Json decode = tune::ChooseDecode({models_first, models}); !decode.is_null()) profile["decode"] = decode;
  if (const std::string old = harness::UserPath(absl::GetFlag(FLAGS_compare)); !old.empty()) {
    profile["reproduces"] = CompareWith(old, profile);
  }
  if (!WriteProfile(profile, path)) return 1;
  PrintProfile(profile);
  std::fprintf(stderr, "tune: wrote %s (%zu classes); rebuild to compile it in, or KLAB_TUNING=%s\n",
               path.c_str(), gemm.size(), path.c_str());
  return 0;
}

}  // namespace
}  // namespace klab::perf

int main(int argc, char** argv) { return klab::perf::Main(argc, argv); }
