// The types //perf:model_bench shares between its files: the runner (model_bench.cc), the
// PyTorch peer's alternating blocks (model_bench_peer.cc) and the report (model_bench_report.cc).
#ifndef KLAB_PERF_MODEL_BENCH_H_
#define KLAB_PERF_MODEL_BENCH_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "harness/json.h"
#include "harness/measure.h"
#include "harness/topology.h"
#include "models/gpt2.h"
#include "models/language_model.h"
#include "models/layers.h"
#include "models/sampler.h"

namespace klab::perf {

using harness::Json;
using models::LanguageModel;
using Table = std::vector<std::vector<std::string>>;

struct Test {
  std::string name;  // as run: tg25, tg64, pp64, ...
  bool prefill;      // pp
  int tokens;
  bool kv_cache;
};

// The work of one test: a fixed token sequence, greedy decoding. The prompt's ids lie inside the
// model's vocabulary whatever its size (token 1, Llama's BOS, first where the vocabulary has it);
// a forward pass that refuses its input stops the test and is reported by status().
class TestBody {
 public:
  TestBody(LanguageModel* model, const Test& test) : model_(model), test_(test) {
    const int vocab = model->vocab_size();
    seq_.resize(test.tokens + 1);
    for (int i = 0; i <= test.tokens; ++i) {
      seq_[i] = i == 0 ? std::min(1, vocab - 1) : (i * 97 + 13) % vocab;
    }
  }
  void operator()() {
    if (!status_.ok()) return;
    LanguageModel& m = *model_;
    if (test_.prefill) {
      absl::StatusOr<float*> logits = m.Forward(seq_.data(), test_.tokens, 0);
      if (!logits.ok()) {
        status_ = logits.status();
        return;
      }
      last_ = models::Sampler::Argmax(*logits, m.vocab_size());
      return;
    }
    for (int pos = 0; pos < test_.tokens; ++pos) {
      absl::StatusOr<float*> logits = test_.kv_cache ? m.Forward(&seq_[pos], 1, pos)
                                                     : m.Forward(seq_.data(), pos + 1, 0);
      if (!logits.ok()) {
        status_ = logits.status();
        return;
      }
      if (check_finite_) CheckFinite(*logits, m.vocab_size(), pos);
      seq_[pos + 1] = models::Sampler::Argmax(*logits, m.vocab_size());
    }
  }
  // The check runs (not the timed ones) also require finite logits: finite weights can still
  // overflow float in the activations, and greedy tokens of NaN logits agree with each other.
  void set_check_finite() { check_finite_ = true; }
  const std::vector<int>& sequence() const { return seq_; }
  int last() const { return last_; }  // a prefill's argmax
  const absl::Status& status() const { return status_; }

 private:
  LanguageModel* model_;
  Test test_;
  std::vector<int> seq_;
  void CheckFinite(const float* logits, int n, int pos) {
    for (int i = 0; i < n && status_.ok(); ++i) {
      if (!std::isfinite(logits[i])) {
        status_ = absl::InvalidArgumentError(absl::StrFormat(
            "logit %d at position %d is %g: the model's activations overflow float", i, pos,
            logits[i]));
      }
    }
  }

  int last_ = 0;
  bool check_finite_ = false;
  absl::Status status_;
};

// PyTorch beside one model at one thread count. For each test with the KV cache: its greedy ids
// must equal ours (else its row says WRONG and its times are not taken); then blocks of our runs
// and its runs alternate, so drift on this shared machine hits both alike, and the ratio of the
// medians of those blocks is the "x PyTorch" of our row.
struct PeerOutcome {
  std::map<std::string, double> speedup;  // test name -> PyTorch median / ours, same blocks
  std::vector<Json> rows;
  Table table;
  std::string why_not;  // set when the peer could not run at all
};

// Our pool for the peer's turns: `use_ours` gives our model its threads, `park_ours` leaves one
// thread so the peer's have the cores.
struct PeerRun {
  std::string python, script, file;  // the interpreter, perf/pytorch_peer.py, the model file
  std::string name;                  // the model's row name
  int64_t threads = 1;               // the row's thread count
  int used = 1;                      // the threads our model (and so the peer) uses
  std::vector<int> cpus;             // OS CPUs, the peer pinned to them
  std::function<void()> use_ours = {}, park_ours = {};
  int blocks = 5, per_block = 3;     // alternating blocks, runs per block
};
PeerOutcome RunPyTorchPeer(LanguageModel& model, const std::vector<Test>& runs, const PeerRun& run);

// A model to run: a GPT-2 configuration created in memory from the xorshift seed (bit-equal to
// the published gpt2_*_xorshift1.bin, so no file is needed), or a file.
struct ModelSpec {
  std::string name, file;
  std::optional<models::Gpt2Config> gpt2;  // created from seed 1 when set
};
struct Settings {
  std::vector<int64_t> threads;
  int max_threads = 1;
  std::vector<Test> tests;
  std::vector<ModelSpec> specs;
  std::string dir;  // where --models' files are
  harness::MeasureOptions measure;
  bool quick = false;
  bool no_cache_rows = true;  // tg also without the KV cache
  bool pytorch = true;        // PyTorch beside each model
  std::string python;         // the interpreter that has PyTorch
};

// One model, loaded (or created from its seed), with what its creation measured.
struct Loaded {
  std::unique_ptr<LanguageModel> model;
  std::string path;
  double creation_ms = 0, creation_from_seed_ms = NAN;
  Json memory = nullptr;  // model_bytes, creation_peak_bytes: by the allocation counter
};

// What the markdown is made from, accumulated over the models.
struct BenchReport {
  Table table, hot_table, skipped, ceiling_table;
  std::set<std::string> pytorch_notes;    // why the PyTorch peer did not run, once each
  std::vector<std::string> thread_notes;  // models given fewer threads than a row asks
  // (model, test, kv) -> threads -> median ns; model -> (params, median ns per token of tg25).
  std::map<std::string, std::map<int64_t, double>> by_threads;
  std::map<std::string, std::pair<int64_t, double>> size_scaling;
  int wrong = 0;
};

std::vector<Test> RunsOf(const LanguageModel& model, const std::vector<Test>& tests,
                         bool no_cache_rows);

// The model's rows: every (test, thread count) sampled in the same rounds, the read ceiling of
// its own packed weights beside them, PyTorch, and the hot paths.
class ModelRun {
 public:
  ModelRun(const ModelSpec& spec, Loaded loaded, const Settings& s, const harness::Topology& topo,
           const std::vector<int>& cores, Json& rows, BenchReport& report)
      : spec_(spec), loaded_(std::move(loaded)), model_(*loaded_.model), s_(s), topo_(topo),
        cores_(cores), rows_(rows), report_(report),
        one_thread_is_enough_(model_.UsefulThreads(2) == 1),  // decided once: walks the layers
        runs_(RunsOf(model_, s.tests, s.no_cache_rows)) {}

  void Run(bool check_ok, const char* argv0);

 private:
  struct Pending {
    Test test;
    int64_t threads;
    std::vector<int> cpus;
    double ttft_ns;
    std::unique_ptr<TestBody> body;  // null for the read ceiling
    std::unique_ptr<harness::Sampler> sampler;
  };
  int UsedThreads(int64_t t) const { return one_thread_is_enough_ ? 1 : static_cast<int>(t); }
  std::vector<int> CpusOf(int64_t t) const;
  std::vector<int> UseThreads(int64_t t) const;
  std::vector<harness::Measurement> SampleAll(std::vector<Pending>& all);
  std::map<int64_t, PeerOutcome> RunPeers(const char* argv0);
  void CeilingRow(const Pending& p, const harness::Measurement& m);
  void TestRow(const Pending& p, const harness::Measurement& m, bool check_ok,
               const std::map<int64_t, PeerOutcome>& peers);
  void HotPaths(Json& record_hot);

  const ModelSpec& spec_;
  Loaded loaded_;
  LanguageModel& model_;
  const Settings& s_;
  const harness::Topology& topo_;
  const std::vector<int>& cores_;
  Json& rows_;
  BenchReport& report_;
  const bool one_thread_is_enough_;
  const std::vector<Test> runs_;
  std::vector<models::PackedLinear> layers_;
  double read_bytes_ = 0;
  std::map<int64_t, double> ceiling_gbs_;  // threads -> GB/s, best sample
 public:
  Json hot;  // the record's hot_paths entry
};

// The run's markdown (the record gains its "scaling" section) and its chart's SVG.
std::string BenchMarkdown(Json& record, const BenchReport& report, int max_threads,
                          const std::string& pinning);
std::pair<std::string, std::string> TokensChart(const Json& record);

std::string Fmt(double v, int digits);

}  // namespace klab::perf

#endif  // KLAB_PERF_MODEL_BENCH_H_
