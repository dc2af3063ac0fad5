#include "kernels/threading/thread_pool.h"

#include <immintrin.h>
#include <pthread.h>
#include <sched.h>

#include <cstring>

namespace klab::kernels {
namespace {
// ~50-100 us of spinning before sleeping: longer than the gap between the GEMMs of one forward
// pass, far shorter than anything a person would notice as a busy core.
constexpr int kSpinIterations = 1 << 14;

void PinToCpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}
}  // namespace

ThreadPool::ThreadPool(int threads, std::vector<int> cpus)
    : threads_(threads < 1 ? 1 : threads), cpus_(std::move(cpus)), slots_(threads_) {
  for (int id = 1; id < threads_; ++id) workers_.emplace_back([this, id] { WorkerLoop(id); });
}

ThreadPool::~ThreadPool() {
  for (int id = 1; id < threads_; ++id) {
    slots_[id].stop.store(true, std::memory_order_relaxed);
    slots_[id].go.store(generation_ + 1, std::memory_order_seq_cst);
    slots_[id].go.notify_one();
  }
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::WorkerLoop(int id) {
  if (id < static_cast<int>(cpus_.size())) PinToCpu(cpus_[id]);
  Slot& slot = slots_[id];
  // Generation 0 is "no run yet"; reading `go` here instead could miss a Run() that started
  // before this thread did.
  uint64_t seen = 0;
  while (true) {
    uint64_t now = slot.go.load(std::memory_order_acquire);
    for (int s = 0; s < kSpinIterations && now == seen; ++s) {
      _mm_pause();
      now = slot.go.load(std::memory_order_acquire);
    }
    if (now == seen) {
      // Sleep, announced first. The increment and Run's fence order against each other: either
      // Run sees this sleeper and notifies, or wait() sees the new generation and returns.
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      slot.go.wait(seen, std::memory_order_seq_cst);
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
      now = slot.go.load(std::memory_order_acquire);
    }
    seen = now;
    if (slot.stop.load(std::memory_order_relaxed)) return;
    slot.call(slot.data, id);
    slot.done.store(seen, std::memory_order_release);
  }
}

void ThreadPool::WakeSleepers() {
  if (sleepers_.load(std::memory_order_relaxed) == 0) return;
  for (int id = 1; id < threads_; ++id) slots_[id].go.notify_one();
}

void ThreadPool::RunErased(Call call, const void* data, size_t bytes, Call self) {
  if (threads_ == 1) {
    self(data, 0);
    return;
  }
  const uint64_t gen = ++generation_;
  for (int id = 1; id < threads_; ++id) {
    slots_[id].call = call;
    std::memcpy(slots_[id].data, data, bytes);
    slots_[id].go.store(gen, std::memory_order_release);  // publishes call and data
  }
  // Sleeping workers (after ~0.1 ms idle) need a futex wake. A plain read catches them before
  // the caller's own share; the fenced read after it closes the race with a worker that was
  // just going to sleep (the fence is off the workers' path: they are already running).
  WakeSleepers();
  self(data, 0);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  WakeSleepers();
  for (int id = 1; id < threads_; ++id) {
    while (slots_[id].done.load(std::memory_order_acquire) != gen) _mm_pause();
  }
}

}  // namespace klab::kernels
