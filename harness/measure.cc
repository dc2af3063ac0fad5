#include "harness/measure.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <thread>
#include <utility>

#include "harness/row_counters.h"
#include "harness/timer.h"

namespace klab::harness {

Sampler::Sampler(std::function<void()> body, const MeasureOptions& options)
    : body_(std::move(body)), options_(options) {
  // Reserved up front so that growing the sample vector is not counted as the body's allocation.
  m_.samples_ns.reserve(static_cast<size_t>(options_.max_reps));
}

void Sampler::Warmup() {
  const int64_t warm_start = MonotonicNs();
  int64_t fastest_call = INT64_MAX;
  int64_t now = warm_start;
  do {
    const int64_t t0 = now;
    body_();
    now = MonotonicNs();
    fastest_call = std::min(fastest_call, now - t0);
  } while (now - warm_start < static_cast<int64_t>(options_.warmup_s * 1e9));
  const int64_t min_sample_ns = static_cast<int64_t>(options_.min_sample_s * 1e9);
  const int64_t call = std::max<int64_t>(fastest_call, 1);
  m_.calls_per_sample = std::max<int64_t>(1, (min_sample_ns + call - 1) / call);
  if (events_ == nullptr) {
    std::vector<std::string> names(std::begin(kSoftwareEvents), std::end(kSoftwareEvents));
    if (ProbeCounters().hardware) {
      for (const RowCounter& c : RowHardwareCounters()) {
        if (!c.event.empty()) names.push_back(c.event);
      }
    }
    events_ = std::make_unique<EventGroup>(names);
  }
  events_->Start();
  events_->Stop();  // reset to zero; Resume() accumulates from here
}

void Sampler::TakeSample() {
  const AllocStats before = AllocSnapshot();
  events_->Resume();
  const int64_t t0 = MonotonicNs();
  for (int64_t c = 0; c < m_.calls_per_sample; ++c) body_();
  const int64_t t1 = MonotonicNs();
  events_->Stop();
  const AllocStats d = AllocSnapshot() - before;
  alloc_.bytes += d.bytes;
  alloc_.count += d.count;
  m_.samples_ns.push_back(static_cast<double>(t1 - t0) / m_.calls_per_sample);
  total_s_ += (t1 - t0) * 1e-9;
  // Where the measuring thread ran: one CPU for a pinned thread, verified after every sample.
  const int cpu = sched_getcpu();
  if (cpu >= 0 && std::find(m_.ran_on_cpus.begin(), m_.ran_on_cpus.end(), cpu) == m_.ran_on_cpus.end()) {
    m_.ran_on_cpus.push_back(cpu);
  }
}

void Sampler::Rewarm() {
  const int64_t start = MonotonicNs();
  do {
    body_();
  } while (MonotonicNs() - start < static_cast<int64_t>(options_.warmup_s * 1e9));
}

bool Sampler::HasShare(double part) const {
  const double n = static_cast<double>(m_.samples_ns.size());
  return (n >= part * options_.min_reps && total_s_ >= part * options_.min_time_s) ||
         n >= part * options_.max_reps ||
         (total_s_ >= part * options_.max_time_s && n >= part * options_.min_reps_when_slow);
}

bool Sampler::Done() {
  const int n = static_cast<int>(m_.samples_ns.size());
  if (n >= options_.min_reps && total_s_ >= options_.min_time_s) {
    stopped_by_ = "min_reps+min_time";
  } else if (n >= options_.max_reps) {
    stopped_by_ = "max_reps";
  } else if (total_s_ >= options_.max_time_s && n >= options_.min_reps_when_slow) {
    stopped_by_ = "max_time";
  } else {
    return false;
  }
  return true;
}

Measurement Sampler::Finish() {
  m_.stopped_by = stopped_by_ != nullptr ? stopped_by_ : "not finished";
  const double reps = static_cast<double>(m_.samples_ns.size()) * m_.calls_per_sample;
  m_.alloc_bytes_per_rep = reps > 0 ? alloc_.bytes / reps : 0;
  m_.allocs_per_rep = reps > 0 ? alloc_.count / reps : 0;
  // Values of the group: the software events first, then the hardware ones if it has them.
  const std::vector<EventGroup::Value> values = events_->Read();
  auto per_rep = [&](size_t i) {
    return i < values.size() && values[i].value && reps > 0
               ? std::optional<double>(*values[i].value / reps)
               : std::nullopt;
  };
  m_.counters_per_rep.clear();
  for (int i = 0; i < kSoftwareEventCount; ++i) m_.counters_per_rep.push_back(per_rep(i));
  // Hardware counters by key: the opened events follow the software ones, in key order, the
  // keys without an event skipped.
  m_.hardware_per_rep.clear();
  m_.hardware_reasons.clear();
  const bool hardware = ProbeCounters().hardware;
  size_t next = kSoftwareEventCount;
  for (const RowCounter& c : RowHardwareCounters()) {
    if (!hardware) {
      m_.hardware_per_rep.push_back(std::nullopt);
      m_.hardware_reasons.push_back(ProbeCounters().reason);
    } else if (c.event.empty()) {
      m_.hardware_per_rep.push_back(std::nullopt);
      m_.hardware_reasons.push_back(c.reason);
    } else {
      const size_t i = next++;
      std::optional<double> v = per_rep(i);
      if (v) *v *= c.scale;
      m_.hardware_per_rep.push_back(v);
      m_.hardware_reasons.push_back(v ? "" : (i < values.size() ? values[i].reason : "not read"));
    }
  }
  m_.summary = Summarize(m_.samples_ns);
  return std::move(m_);
}

namespace {

// Calls an entry's `enter` when the body before it belonged to another group (or none ran yet).
class GroupEntry {
 public:
  void operator()(const RoundEntry& e) {
    if ((last_ == nullptr || last_->group != e.group) && e.enter) e.enter();
    last_ = &e;
  }

 private:
  const RoundEntry* last_ = nullptr;
};

std::vector<Measurement> FinishAll(const std::vector<RoundEntry>& entries) {
  std::vector<Measurement> out;
  out.reserve(entries.size());
  for (const RoundEntry& e : entries) out.push_back(e.sampler->Finish());
  return out;
}

}  // namespace

std::vector<Measurement> SampleInRounds(const std::vector<RoundEntry>& entries, bool interleave) {
  GroupEntry enter;
  for (const RoundEntry& e : entries) {
    enter(e);
    e.sampler->Warmup();
    if (interleave) continue;
    do {
      e.sampler->TakeSample();
    } while (!e.sampler->Done());
  }
  for (bool any = interleave; any;) {
    any = false;
    for (const RoundEntry& e : entries) {
      if (e.sampler->Done()) continue;
      enter(e);
      e.sampler->TakeSample();
      any = true;
    }
  }
  return FinishAll(entries);
}

std::vector<Measurement> SampleInBlocks(const std::vector<RoundEntry>& entries, int passes,
                                        double settle_s) {
  GroupEntry enter;
  for (const RoundEntry& e : entries) {
    enter(e);
    e.sampler->Warmup();
  }
  passes = std::max(passes, 1);
  for (int pass = 1; pass <= passes; ++pass) {
    const double share = static_cast<double>(pass) / passes;
    for (const RoundEntry& e : entries) {
      if (e.sampler->Done() || e.sampler->HasShare(share)) continue;
      enter(e);
      std::this_thread::sleep_for(std::chrono::duration<double>(settle_s));
      e.sampler->Rewarm();
      do {
        e.sampler->TakeSample();
      } while (!e.sampler->Done() && (pass == passes || !e.sampler->HasShare(share)));
    }
  }
  return FinishAll(entries);
}

Measurement Measure(const std::function<void()>& body, const MeasureOptions& o) {
  Sampler s(body, o);
  s.Warmup();
  do {
    s.TakeSample();
  } while (!s.Done());
  return s.Finish();
}

}  // namespace klab::harness
