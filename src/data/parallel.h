// A minimal work-sharing loop on std::thread for the data module (encoding and counting are
// independent per document; tasks are handed out one at a time, so uneven sizes balance).
#pragma once
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace osp::data {

// Number of worker threads to use when the user asked for `requested` (0: all cores).
inline int resolve_threads(int requested) {
  if (requested > 0) return requested;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

// Calls fn(task, worker) for every task in [0, n), worker in [0, threads), the calling thread
// being worker 0. Returns when all tasks are done.
template <class Fn>
void parallel_for(size_t n, int threads, Fn&& fn) {
  const int workers =
      static_cast<int>(std::min<size_t>(n, static_cast<size_t>(std::max(1, threads))));
  std::atomic<size_t> next{0};
  const auto work = [&](int worker) {
    for (size_t task; (task = next.fetch_add(1)) < n;) fn(task, worker);
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < workers; ++w) pool.emplace_back(work, w);
  work(0);
  for (auto& t : pool) t.join();
}

}  // namespace osp::data
