#include "kernels/threading/thread_pool.h"

#include <immintrin.h>
#include <pthread.h>
#include <sched.h>

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
    : threads_(threads < 1 ? 1 : threads), cpus_(std::move(cpus)) {
  for (int id = 1; id < threads_; ++id) workers_.emplace_back([this, id] { WorkerLoop(id); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::WorkerLoop(int id) {
  if (id < static_cast<int>(cpus_.size())) PinToCpu(cpus_[id]);
  // Generation 0 is "no run yet"; reading generation_ here instead could miss a Run() that
  // started before this thread did.
  uint64_t seen = 0;
  while (true) {
    for (int s = 0; s < kSpinIterations && generation_.load(std::memory_order_acquire) == seen; ++s) {
      _mm_pause();
    }
    generation_.wait(seen, std::memory_order_acquire);
    seen = generation_.load(std::memory_order_acquire);
    if (stop_.load(std::memory_order_acquire)) return;
    call_(ctx_, id);
    done_.fetch_add(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::RunErased(void (*call)(void*, int), void* ctx) {
  if (threads_ == 1) {
    call(ctx, 0);
    return;
  }
  call_ = call;
  ctx_ = ctx;
  done_.store(0, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  call(ctx, 0);
  while (done_.load(std::memory_order_acquire) != threads_ - 1) _mm_pause();
}

}  // namespace klab::kernels
