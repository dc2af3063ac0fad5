#include "kernels/threading/thread_pool.h"

#include <sched.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace klab::kernels {
namespace {

TEST(ThreadPoolTest, EveryParticipantRunsOncePerRun) {
  for (int threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads);
    for (int run = 0; run < 200; ++run) {
      std::vector<std::atomic<int>> hits(threads);
      pool.Run([&](int id) { hits[id].fetch_add(1); });
      for (int i = 0; i < threads; ++i) ASSERT_EQ(hits[i].load(), 1) << threads << " " << i;
    }
  }
}

TEST(ThreadPoolTest, WorkIsVisibleToTheCallerAfterRun) {
  ThreadPool pool(2);
  std::vector<int> out(2, 0);
  for (int run = 1; run <= 1000; ++run) {
    pool.Run([&](int id) { out[id] = run; });
    ASSERT_EQ(out[0], run);
    ASSERT_EQ(out[1], run);
  }
}

TEST(ThreadPoolTest, WorkersArePinnedToTheGivenCpus) {
  cpu_set_t allowed;
  sched_getaffinity(0, sizeof(allowed), &allowed);
  int cpu = -1;
  for (int c = CPU_SETSIZE - 1; c >= 0; --c) {
    if (CPU_ISSET(c, &allowed)) cpu = c;
  }
  ASSERT_GE(cpu, 0);
  ThreadPool pool(2, {cpu, cpu});
  int worker_cpu = -2;
  pool.Run([&](int id) {
    if (id == 1) worker_cpu = sched_getcpu();
  });
  EXPECT_EQ(worker_cpu, cpu);
}

TEST(ThreadPoolTest, SleepsAndWakesAfterIdle) {
  ThreadPool pool(2);
  std::atomic<int> n{0};
  pool.Run([&](int) { n.fetch_add(1); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // past the spin phase
  pool.Run([&](int) { n.fetch_add(1); });
  EXPECT_EQ(n.load(), 4);
}

// Both ways a task reaches the workers: copied into their slots (small, trivially copyable) or
// called through a pointer to the caller's copy (here: 64 bytes of captures by value, and a
// closure that is not trivially copyable).
TEST(ThreadPoolTest, LargeAndNonTrivialTasksRunOnEveryParticipant) {
  ThreadPool pool(3);
  struct Big {
    int v[16];
  };
  Big big{};
  for (int i = 0; i < 16; ++i) big.v[i] = i + 1;
  std::vector<std::atomic<int>> sums(3);
  for (int run = 0; run < 100; ++run) {
    pool.Run([&sums, big](int id) {
      int s = 0;
      for (int v : big.v) s += v;
      sums[id].fetch_add(s);
    });
  }
  for (int id = 0; id < 3; ++id) EXPECT_EQ(sums[id].load(), 100 * 136) << id;
  std::vector<int> owned = {1, 2, 3};
  std::atomic<int> total{0};
  pool.Run([&total, owned](int id) { total.fetch_add(owned[id]); });
  EXPECT_EQ(total.load(), 6);
}

// A sleeping worker is woken however the caller finds it: a long idle, then runs back to back.
TEST(ThreadPoolTest, RunsAfterRepeatedSleepsAllComplete) {
  ThreadPool pool(2);
  std::atomic<int> n{0};
  for (int round = 0; round < 5; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    for (int run = 0; run < 50; ++run) pool.Run([&](int) { n.fetch_add(1); });
  }
  EXPECT_EQ(n.load(), 5 * 50 * 2);
}

}  // namespace
}  // namespace klab::kernels
