#include "kernels/threading/thread_pool.h"

#include <sched.h>

#include <atomic>
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

}  // namespace
}  // namespace klab::kernels
