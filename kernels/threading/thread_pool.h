// A persistent pool of worker threads for kernels, with a fork-join Run() that costs well under
// a microsecond when the workers are awake.
//
// Run(fn) calls fn(0) on the calling thread and fn(1) .. fn(threads - 1) on the workers, and
// returns when all have finished. Workers are started once, at construction, and pinned to the
// CPU list the caller passes (kernels/ knows nothing of hwloc: the harness computes the list).
// Between runs a worker spins for a short while (so back-to-back GEMMs in a model do not pay a
// wake-up) and then sleeps on a futex (so an idle pool does not burn a core).
//
// Not reentrant: Run() must not be called from inside fn, nor from two threads at once.
#ifndef KLAB_KERNELS_THREADING_THREAD_POOL_H_
#define KLAB_KERNELS_THREADING_THREAD_POOL_H_

#include <atomic>
#include <cstdint>
#include <type_traits>
#include <thread>
#include <vector>

namespace klab::kernels {

class ThreadPool {
 public:
  // `threads` >= 1 participants, the caller included. `cpus`, if not empty, lists one OS CPU per
  // participant: cpus[0] is the caller's (not changed here), cpus[i] worker i's.
  explicit ThreadPool(int threads, std::vector<int> cpus = {});
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return threads_; }
  const std::vector<int>& cpus() const { return cpus_; }

  // Runs fn(i) on participant i; no allocation (fn is called through a pointer to it).
  template <class F>
  void Run(F&& fn) {
    using Fn = std::remove_reference_t<F>;
    RunErased([](void* ctx, int id) { (*static_cast<Fn*>(ctx))(id); },
              const_cast<void*>(static_cast<const void*>(&fn)));
  }

 private:
  void RunErased(void (*call)(void*, int), void* ctx);
  void WorkerLoop(int id);

  int threads_;
  std::vector<int> cpus_;
  std::vector<std::thread> workers_;
  void (*call_)(void*, int) = nullptr;
  void* ctx_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> done_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace klab::kernels

#endif  // KLAB_KERNELS_THREADING_THREAD_POOL_H_
