// //models:generate — text (or token ids) from a GPT-2 or Llama model file.
//
//   bazel run //models:generate -- --model=PATH [--tokenizer=PATH]
//       (--prompt=TEXT | --prompt_ids=1,2,3) [--steps=N] [--temperature=0] [--top_p=0.9]
//       [--seed=S] [--threads=N] [--print_ids]
//
// stdout: the decoded text, prompt included, and a newline (or, with --print_ids, every token id
// of the sequence on one line); stderr: prompt and decode speed, time to the first token.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/cli.h"
#include "kernels/gemm/gemm_config.h"
#include "models/generation.h"
#include "models/gpt2.h"
#include "models/load_model.h"
#include "models/model_file.h"
#include "models/sampler.h"
#include "models/tokenizer.h"

ABSL_FLAG(std::string, model, "",
          "model file: GPT-2 or llama2.c version 0 (default: the repository's "
          "models/data/stories260K.bin)");
ABSL_FLAG(std::string, gpt2_config, "",
          "instead of --model: create a GPT-2 in memory from the xorshift recipe; 'gpt2-0.5M', "
          "'gpt2-3.5M' (the report's Small and Medium) or 'V,T,d,L,H' (vocab, block, width, "
          "layers, heads)");
ABSL_FLAG(std::string, save_model, "",
          "with --gpt2_config: also write the created model as a GPT-2 file here (seed 1 gives "
          "the published gpt2_*_xorshift1.bin byte for byte)");
ABSL_FLAG(uint32_t, weights_seed, 1, "seed of the xorshift weights for --gpt2_config");
ABSL_FLAG(std::string, tokenizer, "",
          "llama2.c tokenizer file (default: tok<vocab>.bin beside the model, if present)");
ABSL_FLAG(std::string, prompt, "",
          "prompt text (needs a tokenizer); without a prompt, generation starts from BOS (token "
          "0 for a GPT-2), as llama2.c's run does");
ABSL_FLAG(std::string, prompt_ids, "", "prompt as comma-separated token ids, e.g. 1,403,407");
ABSL_FLAG(int, steps, 256, "forward positions including the prompt, capped at the context");
ABSL_FLAG(double, temperature, 0.0, "0 = greedy; > 0 samples from softmax(logits / T)");
ABSL_FLAG(double, top_p, 0.9, "nucleus sampling mass in (0, 1); 0 or 1 samples from all");
ABSL_FLAG(uint64_t, seed, 42, "random seed for sampling");
ABSL_FLAG(int, threads, 1, "threads for the GEMMs (1..64)");
ABSL_FLAG(bool, print_ids, false, "print the token ids of the sequence instead of text");
ABSL_FLAG(bool, kv_cache, true, "keep keys and values (false: recompute the prefix each step)");
ABSL_FLAG(int64_t, max_memory_mb, klab::models::LoadLimits::kDefaultMaxMemoryBytes >> 20,
          "refuse a model that needs more memory than this (weights, packed weights, "
          "activations, KV cache), in MiB");
ABSL_FLAG(bool, prefill, true, "process the prompt as one batch (false: one position at a time)");

namespace klab::models {
namespace {

constexpr char kUsage[] =
    "Generates text with a GPT-2 or Llama (llama2.c) model from the lab's kernels.\n"
    "  bazel run //models:generate -- [--model=PATH] [--tokenizer=PATH]\n"
    "      [--prompt=TEXT | --prompt_ids=1,2,3] [--steps=N] [--temperature=0] [--top_p=0.9]\n"
    "      [--seed=S] [--threads=N] [--print_ids]\n"
    "  or --gpt2_config=gpt2-0.5M|gpt2-3.5M|V,T,d,L,H [--weights_seed=1] instead of --model.\n"
    "Default model: models/data/stories260K.bin with its tokenizer; no prompt starts from BOS.\n"
    "A GPT-2 has no tokenizer: use --prompt_ids with --print_ids.";

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "generate: %s\n", message.c_str());
  std::exit(1);
}

// Relative paths are taken from where `bazel run` was started, as a user expects.
std::string UserPath(const std::string& path) {
  const char* wd = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || path[0] == '/' || wd == nullptr) return path;
  return (std::filesystem::path(wd) / path).string();
}

// models/data/stories260K.bin of the workspace `bazel run` was started in (or of the working
// directory), "" when absent.
std::string DefaultModelPath() {
  for (const char* env : {"BUILD_WORKSPACE_DIRECTORY", "BUILD_WORKING_DIRECTORY"}) {
    const char* dir = std::getenv(env);
    if (dir == nullptr) continue;
    const auto path = std::filesystem::path(dir) / "models" / "data" / "stories260K.bin";
    if (std::filesystem::exists(path)) return path.string();
  }
  return std::filesystem::exists("models/data/stories260K.bin") ? "models/data/stories260K.bin"
                                                                : "";
}

// "gpt2-0.5M", "gpt2-3.5M" (also without the "gpt2-"), the deprecated "small" / "medium", or
// "V,T,d,L,H".
absl::StatusOr<Gpt2Config> ParseGpt2Config(const std::string& text) {
  const std::string name = text.rfind("gpt2-", 0) == 0 ? text : "gpt2-" + text;
  bool deprecated = false;
  if (auto named = Gpt2Config::Named(name, &deprecated)) {
    if (deprecated) {
      std::fprintf(stderr,
                   "generate: --gpt2_config=%s is deprecated: say %s (its size; GPT-2 %s "
                   "elsewhere means a far larger model)\n",
                   text.c_str(), named->vocab == 256 ? "gpt2-0.5M" : "gpt2-3.5M", text.c_str());
    }
    return *named;
  }
  std::vector<std::string> parts = absl::StrSplit(text, ',');
  int v[5];
  if (parts.size() != 5) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--gpt2_config=%s: expected gpt2-0.5M, gpt2-3.5M or V,T,d,L,H", text));
  }
  for (int i = 0; i < 5; ++i) {
    if (!absl::SimpleAtoi(parts[i], &v[i])) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--gpt2_config: '%s' is not an integer", parts[i]));
    }
  }
  const Gpt2Config config{v[0], v[1], v[2], v[3], v[4]};
  absl::Status valid = config.Validate();
  if (!valid.ok()) return absl::InvalidArgumentError("--gpt2_config: " + std::string(valid.message()));
  return config;
}

// Prints each appended token: its display text, or its id.
class PrintSink : public TokenSink {
 public:
  PrintSink(const Tokenizer* tokenizer, bool ids) : tokenizer_(tokenizer), ids_(ids) {}
  void OnToken(int prev, int token) override {
    if (ids_) {
      std::printf(" %d", token);
    } else {
      const std::string piece = tokenizer_->Decode(prev, token);
      std::fwrite(piece.data(), 1, piece.size(), stdout);
    }
    std::fflush(stdout);
  }

 private:
  const Tokenizer* tokenizer_;
  bool ids_;
};

int Main(int argc, char** argv) {
  ParseFlagsOrExit(argc, argv, kUsage);
  std::string model_path = UserPath(absl::GetFlag(FLAGS_model));
  const std::string gpt2_config = absl::GetFlag(FLAGS_gpt2_config);
  if (!absl::GetFlag(FLAGS_save_model).empty() && gpt2_config.empty()) {
    ExitWithUsageError("--save_model needs --gpt2_config (it writes the model created from it)");
  }
  if (!model_path.empty() && !gpt2_config.empty()) {
    ExitWithUsageError("give either --model or --gpt2_config, not both");
  }
  if (model_path.empty() && gpt2_config.empty()) {
    model_path = DefaultModelPath();
    if (model_path.empty()) {
      ExitWithUsageError(
          "no --model given and models/data/stories260K.bin not found (run from the "
          "repository with bazel run, or pass --model=PATH)");
    }
  }
  const std::string text = absl::GetFlag(FLAGS_prompt);
  const std::string ids_flag = absl::GetFlag(FLAGS_prompt_ids);
  if (!text.empty() && !ids_flag.empty()) {
    ExitWithUsageError("give at most one of --prompt and --prompt_ids");
  }
  const int steps = absl::GetFlag(FLAGS_steps);
  if (steps < 1) ExitWithUsageError(absl::StrFormat("--steps=%d must be >= 1", steps));
  const int threads = absl::GetFlag(FLAGS_threads);
  if (threads < 1 || threads > 64) {
    ExitWithUsageError(absl::StrFormat("--threads=%d is outside [1, 64]", threads));
  }
  const bool print_ids = absl::GetFlag(FLAGS_print_ids);
  const int64_t max_memory_mb = absl::GetFlag(FLAGS_max_memory_mb);
  if (max_memory_mb < 1 || max_memory_mb > (int64_t{1} << 30)) {
    ExitWithUsageError(absl::StrFormat("--max_memory_mb=%d is outside [1, 2^30]", max_memory_mb));
  }
  const LoadLimits limits{max_memory_mb << 20};

  std::unique_ptr<LanguageModel> model;
  int stop_token = -1;
  if (!gpt2_config.empty()) {
    auto config = ParseGpt2Config(gpt2_config);
    if (!config.ok()) ExitWithUsageError(std::string(config.status().message()));
    auto m = Gpt2Model::Create(*config, absl::GetFlag(FLAGS_weights_seed), limits);
    if (!m.ok()) Fail(std::string(m.status().message()));
    if (const std::string save = UserPath(absl::GetFlag(FLAGS_save_model)); !save.empty()) {
      const absl::Status saved = (*m)->Save(save);
      if (!saved.ok()) Fail(std::string(saved.message()));
    }
    model = std::move(*m);
  } else {
    auto m = LoadModelFile(model_path, limits);
    if (!m.ok()) Fail(std::string(m.status().message()));
    model = std::move(*m);
    if (model->architecture() == "llama") {
      stop_token = Tokenizer::kBos;  // llama2.c: BOS delimits sequences
    }
  }

  std::optional<Tokenizer> tokenizer;
  std::string tok_path = UserPath(absl::GetFlag(FLAGS_tokenizer));
  if (tok_path.empty() && model->architecture() == "llama") {
    const auto beside = std::filesystem::path(model_path).parent_path() /
                        absl::StrFormat("tok%d.bin", model->vocab_size());
    if (std::filesystem::exists(beside)) tok_path = beside.string();
  }
  if (!tok_path.empty()) {
    if (model->architecture() == "gpt2") {
      ExitWithUsageError("a GPT-2 model has no tokenizer; drop --tokenizer");
    }
    auto t = Tokenizer::FromFile(tok_path, model->vocab_size());
    if (!t.ok()) Fail(std::string(t.status().message()));
    tokenizer = std::move(*t);
  }
  if (!tokenizer && (!text.empty() || !print_ids)) {
    // (Without a prompt a GPT-2 can still print ids.)
    ExitWithUsageError(model->architecture() == "gpt2"
                           ? "a GPT-2 file has no tokenizer: use --prompt_ids with --print_ids"
                           : "this needs a tokenizer: pass --tokenizer=PATH");
  }

  std::vector<int> prompt;
  if (text.empty() && ids_flag.empty()) {
    // llama2.c's run: an empty prompt is BOS alone, and the model tells a story.
    prompt = {model->architecture() == "llama" ? Tokenizer::kBos : 0};
  } else if (!text.empty()) {
    auto encoded = tokenizer->Encode(text, std::min(steps, model->context()));
    if (!encoded.ok()) Fail(std::string(encoded.status().message()));
    prompt = std::move(*encoded);
  } else {
    for (absl::string_view item : absl::StrSplit(ids_flag, ',')) {
      int id = 0;
      if (!absl::SimpleAtoi(item, &id)) {
        ExitWithUsageError(absl::StrFormat("--prompt_ids: '%s' is not an integer", item));
      }
      prompt.push_back(id);
    }
  }

  SamplerOptions sampler_options;
  sampler_options.temperature = static_cast<float>(absl::GetFlag(FLAGS_temperature));
  sampler_options.top_p = static_cast<float>(absl::GetFlag(FLAGS_top_p));
  sampler_options.seed = absl::GetFlag(FLAGS_seed);
  auto sampler = Sampler::Create(model->vocab_size(), sampler_options);
  if (!sampler.ok()) ExitWithUsageError(std::string(sampler.status().message()));

  // The model takes the threads worth giving it (1 when its packed weights fit one core's L2).
  std::string fewer;
  const int used_threads = model->UsefulThreads(threads, &fewer);
  kernels::SetGemmThreads(used_threads);
  GenerateOptions options;
  options.steps = steps;
  options.kv_cache = absl::GetFlag(FLAGS_kv_cache);
  options.prefill = absl::GetFlag(FLAGS_prefill);
  options.stop_token = stop_token;
  PrintSink sink(tokenizer ? &*tokenizer : nullptr, print_ids);
  if (print_ids) std::printf("%d", prompt.empty() ? 0 : prompt[0]);
  std::vector<int> sequence;
  auto stats = Generate(*model, prompt, options, *sampler, &sequence, &sink);
  if (!stats.ok()) {
    if (print_ids) std::printf("\n");
    Fail(std::string(stats.status().message()));
  }
  std::printf("\n");
  std::fflush(stdout);
  // The counts: the prompt's tokens (BOS included) went through the model in one prefill (or
  // one position at a time); each generated token but the last needed a decode forward; the
  // positions run are the prompt's plus the decode forwards.
  std::fprintf(stderr,
               "%s, %d thread%s%s: prompt %d token%s in %.3f ms (%.0f tok/s), first token after "
               "%.3f ms; %d token%s generated, %d decode forward%s in %.3f ms (%.0f tok/s); "
               "%d positions of %d\n",
               std::string(model->architecture()).c_str(), threads, threads == 1 ? "" : "s",
               used_threads == threads ? "" : (" (" + fewer + ")").c_str(), stats->prompt_tokens, stats->prompt_tokens == 1 ? "" : "s", stats->prompt_s * 1e3,
               stats->prompt_tokens_per_s(), stats->first_token_s * 1e3,
               stats->generated_tokens, stats->generated_tokens == 1 ? "" : "s",
               stats->decode_forwards, stats->decode_forwards == 1 ? "" : "s",
               stats->decode_s * 1e3, stats->decode_tokens_per_s(),
               stats->prompt_tokens + stats->decode_forwards, model->context());
  return 0;
}

}  // namespace
}  // namespace klab::models

int main(int argc, char** argv) { return klab::models::Main(argc, argv); }
