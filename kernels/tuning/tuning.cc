#include "kernels/tuning/tuning.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace klab::kernels {

namespace tuning_internal {
struct ProfileText {
  const char* name;
  const char* json;
};
extern const ProfileText kProfiles[];  // profiles.cc, generated from kernels/tuning/*.json
}  // namespace tuning_internal

namespace {

using Json = nlohmann::json;

absl::Status Invalid(std::string_view source, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(std::string(source), ": ", what));
}

// OK when the profile's "cpu" block names this CPU.
absl::Status CheckCpu(const Json& j, std::string_view source, const CpuFeatures& cpu) {
  if (!j.contains("cpu") || !j["cpu"].is_object()) return Invalid(source, "no \"cpu\" object");
  const Json& c = j["cpu"];
  if (!c.contains("vendor") || !c["vendor"].is_string() || !c.contains("family") ||
      !c["family"].is_number_integer() || !c.contains("models") || !c["models"].is_array()) {
    return Invalid(source, "\"cpu\" needs vendor (string), family (integer), models (array)");
  }
  bool model_matches = false;
  for (const Json& m : c["models"]) {
    if (!m.is_number_integer()) return Invalid(source, "\"cpu.models\" holds a non-integer");
    model_matches |= m.get<int>() == cpu.model;
  }
  if (c["vendor"].get<std::string>() != cpu.vendor || c["family"].get<int>() != cpu.family ||
      !model_matches) {
    return absl::FailedPreconditionError(absl::StrCat(
        std::string(source), ": a profile for ", c["vendor"].get<std::string>(), " family ",
        c["family"].get<int>(), " models ", c["models"].dump(), ", and this CPU is ", cpu.vendor,
        " family ", cpu.family, " model ", cpu.model, " (", cpu.brand, ")"));
  }
  return absl::OkStatus();
}

struct State {
  const TuningProfile* chosen = nullptr;  // at start-up
  TuningProfile storage;
  std::atomic<const TuningProfile*> active{nullptr};
  std::atomic<bool> testing{false};
};

State& Chosen() {
  static State* state = [] {
    auto* s = new State;
    const CpuFeatures& cpu = GetCpuFeatures();
    const char* path = std::getenv("KLAB_TUNING");
    if (path != nullptr && std::string_view(path) == "analytic") {
      // No profile: the analytic defaults, for comparing them with a profile.
    } else if (path != nullptr && *path != '\0') {
      const std::string source = absl::StrCat("KLAB_TUNING=", path);
      std::ifstream in(path);
      std::stringstream text;
      text << in.rdbuf();
      absl::StatusOr<TuningProfile> p =
          in ? ParseTuningProfile(text.str(), source, cpu)
             : absl::StatusOr<TuningProfile>(absl::NotFoundError(source + ": cannot read it"));
      if (!p.ok()) {
        std::fprintf(stderr, "kernel-lab: %s\n", std::string(p.status().message()).c_str());
        std::exit(2);
      }
      s->storage = *p;
      s->chosen = &s->storage;
    } else {
      for (const auto& [name, json] : CompiledInProfiles()) {
        absl::StatusOr<TuningProfile> p =
            ParseTuningProfile(json, absl::StrCat("kernels/tuning/", std::string(name), " (compiled in)"), cpu);
        if (p.ok()) {
          s->storage = *p;
          s->chosen = &s->storage;
          break;
        }
      }
    }
    s->active = s->chosen;
    return s;
  }();
  return *state;
}

}  // namespace

absl::StatusOr<TuningProfile> ParseTuningProfile(std::string_view text, std::string_view source,
                                                 const CpuFeatures& cpu) {
  const Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Invalid(source, "not a JSON object");
  if (j.value("schema", "") != kTuningSchema) {
    return Invalid(source, absl::StrCat("schema is not ", kTuningSchema));
  }
  if (absl::Status s = CheckCpu(j, source, cpu); !s.ok()) return s;
  TuningProfile p;
  p.machine = j.contains("machine") && j["machine"].is_string() ? j["machine"].get<std::string>() : "";
  p.source = std::string(source);
  if (!j.contains("gemm") || !j["gemm"].is_object()) return Invalid(source, "no \"gemm\" object");
  for (const auto& [shape_class, choice] : j["gemm"].items()) {
    if (!choice.is_object() || !choice.contains("serial") || !choice["serial"].is_string() ||
        !choice.contains("threaded") || !choice["threaded"].is_string()) {
      return Invalid(source, absl::StrCat("gemm.", shape_class,
                                          " needs \"serial\" and \"threaded\" variant names"));
    }
    p.gemm[shape_class] = {choice["serial"].get<std::string>(), choice["threaded"].get<std::string>()};
  }
  // An optional non-negative integer `block`.`field`, into `out`.
  auto count = [&](const char* block, const char* field, int64_t* out) -> absl::Status {
    if (!j.contains(block)) return absl::OkStatus();
    const Json& b = j[block];
    if (!b.is_object() || !b.contains(field) || !b[field].is_number_integer() ||
        b[field].get<int64_t>() < 0) {
      return Invalid(source, absl::StrCat(block, ".", field, " must be an integer >= 0"));
    }
    *out = b[field].get<int64_t>();
    return absl::OkStatus();
  };
  if (absl::Status s = count("linear", "threads_from_mnk", &p.linear_threads_from_mnk); !s.ok()) return s;
  if (absl::Status s = count("decode", "threads_above_weight_bytes", &p.decode_threads_above_weight_bytes);
      !s.ok()) {
    return s;
  }
  if (j.contains("blocking")) {
    if (!j["blocking"].is_object()) return Invalid(source, "\"blocking\" is not an object");
    for (const auto& [kernel, b] : j["blocking"].items()) {
      TunedBlocking t;
      for (auto [name, field] : {std::pair<const char*, int*>{"mc", &t.mc}, {"kc", &t.kc}, {"nc", &t.nc}}) {
        if (!b.is_object() || !b.contains(name) || !b[name].is_number_integer() ||
            b[name].get<int64_t>() <= 0 || b[name].get<int64_t>() > (1 << 20)) {
          return Invalid(source, absl::StrCat("blocking.", kernel, ".", name,
                                              " must be an integer in [1, 1048576]"));
        }
        *field = b[name].get<int>();
      }
      p.blocking[kernel] = t;
    }
  }
  return p;
}

std::vector<std::pair<std::string_view, std::string_view>> CompiledInProfiles() {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  for (const tuning_internal::ProfileText* p = tuning_internal::kProfiles; p->name != nullptr; ++p) {
    out.emplace_back(p->name, p->json);
  }
  return out;
}

namespace {
// "<MR>x<NR>" into a caller's buffer: the one place the key is spelled.
struct KeyBuffer {
  char text[32];
  KeyBuffer(int mr, int nr) { std::snprintf(text, sizeof(text), "%dx%d", mr, nr); }
};
}  // namespace

std::string MicroKernelKey(int mr, int nr) { return KeyBuffer(mr, nr).text; }

const TunedBlocking* FindTunedBlocking(const TuningProfile& profile, int mr, int nr) {
  const KeyBuffer key(mr, nr);
  for (const auto& [kernel, blocking] : profile.blocking) {  // a handful of entries at most
    if (kernel == key.text) return &blocking;
  }
  return nullptr;
}

const TuningProfile* ActiveTuning() { return Chosen().active.load(std::memory_order_acquire); }

std::string ActiveTuningName() {
  const TuningProfile* p = ActiveTuning();
  if (p != nullptr) return p->source;
  const char* env = std::getenv("KLAB_TUNING");
  return env != nullptr && std::string_view(env) == "analytic" ? "analytic (KLAB_TUNING=analytic)"
                                                              : "analytic (no profile for this CPU)";
}

namespace {
std::atomic<uint64_t> g_generation{0};
}  // namespace

void SetTuningForTesting(const TuningProfile* profile) {
  Chosen().active.store(profile, std::memory_order_release);
  g_generation.fetch_add(1, std::memory_order_acq_rel);
}

void RestoreTuning() {
  Chosen().active.store(Chosen().chosen, std::memory_order_release);
  g_generation.fetch_add(1, std::memory_order_acq_rel);
}

uint64_t TuningGeneration() { return g_generation.load(std::memory_order_acquire); }

}  // namespace klab::kernels
