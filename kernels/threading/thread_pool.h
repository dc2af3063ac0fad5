// A persistent pool of worker threads for kernels, with a fork-join Run() that costs two
// cache-line handoffs between cores when the workers are awake (120-147 ns on the lab's VM:
// `bazel run //kernels/threading:thread_pool_benchmark`, BM_ForkJoin against BM_Handoff).
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
#include <cstddef>
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

  // Runs fn(i) on participant i; no allocation. A small, trivially copyable fn (a lambda with a
  // few captures by reference) travels to the workers inside the cache line that starts them;
  // a larger one is called through a pointer to the caller's copy (one more line to fetch).
  template <class F>
  void Run(F&& fn) {
    using Fn = std::remove_reference_t<F>;
    if constexpr (sizeof(Fn) <= kInlineBytes && alignof(Fn) <= 8 &&
                  std::is_trivially_copyable_v<Fn>) {
      RunErased([](const void* data, int id) { (*static_cast<const Fn*>(data))(id); }, &fn,
                sizeof(Fn), [](const void* f, int id) { (*static_cast<const Fn*>(f))(id); });
    } else {
      const Fn* ptr = &fn;
      RunErased([](const void* data, int id) { (**static_cast<const Fn* const*>(data))(id); }, &ptr,
                sizeof(ptr), [](const void* f, int id) { (**static_cast<const Fn* const*>(f))(id); });
    }
  }

 private:
  static constexpr size_t kInlineBytes = 32;
  using Call = void (*)(const void* data, int id);
  // Copies `bytes` of `data` into every worker's slot, starts them with call(slot data, id), runs
  // self(data, 0) here and waits for all.
  void RunErased(Call call, const void* data, size_t bytes, Call self);
  void WorkerLoop(int id);
  void WakeSleepers();

  // One fork-join costs two cache-line handoffs between cores, the least it can: the caller and
  // worker i talk through one line, slots_[i], the caller storing `go` (with the task itself when
  // it fits) and the worker storing `done` in the same line. BM_Handoff measures the floor: a
  // round trip through one line 139 ns here, through two lines 308 ns (each handoff then moves
  // two lines). No read-modify-write and no atomic wait/notify on the fast path (a locked RMW on
  // a line another core holds waits for it; wait/notify touch a shared waiter table). The pool
  // this replaced (one shared done counter, the task behind a pointer to the caller's stack,
  // wait() after every spin) took 464-624 ns per fork-join in the same benchmark.
  struct alignas(64) Slot {
    std::atomic<uint64_t> go{0};    // written by the caller: the generation to run
    std::atomic<uint64_t> done{0};  // written by the worker: the last generation it finished
    Call call = nullptr;
    std::atomic<bool> stop{false};
    alignas(8) unsigned char data[kInlineBytes];  // the task, or a pointer to it
  };
  static_assert(sizeof(Slot) == 64, "a slot is one cache line");

  int threads_;
  std::vector<int> cpus_;
  std::vector<std::thread> workers_;
  std::vector<Slot> slots_;  // [threads_]; slot 0 (the caller's) unused
  uint64_t generation_ = 0;  // the caller's count of runs
  alignas(64) std::atomic<int> sleepers_{0};  // workers inside their slot's go.wait()
};

}  // namespace klab::kernels

#endif  // KLAB_KERNELS_THREADING_THREAD_POOL_H_
