// Data-parallel start-up: threads, the world line, the same-run check.
#include "train/world.h"

#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

namespace osp::train {
namespace {

// FNV-1a, 64 bits: a fingerprint, not a security measure.
uint64_t fnv1a(const char* p, size_t n, uint64_t h = 1469598103934665603ull) {
  for (size_t i = 0; i < n; ++i) h = (h ^ uint8_t(p[i])) * 1099511628211ull;
  return h;
}

uint64_t binary_hash() {
  std::ifstream in("/proc/self/exe", std::ios::binary);
  std::vector<char> buf(1 << 20);
  uint64_t h = 1469598103934665603ull;
  while (in) {
    in.read(buf.data(), std::streamsize(buf.size()));
    h = fnv1a(buf.data(), size_t(in.gcount()), h);
  }
  return h;
}

}  // namespace

int threads_per_rank(const RunConfig& config, const dist::Comm& comm) {
  if (config.train.threads > 0) return int(config.train.threads);
  if (comm.size() == 1) return 0;
  const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, cores / std::max(1, comm.local_size()));
}

std::string describe_world(dist::Comm& comm, int threads) {
  const std::vector<std::string> hosts = comm.hosts();
  std::map<std::string, std::vector<int>> by_host;
  std::vector<std::string> order;
  for (int r = 0; r < int(hosts.size()); ++r) {
    if (!by_host.count(hosts[size_t(r)])) order.push_back(hosts[size_t(r)]);
    by_host[hosts[size_t(r)]].push_back(r);
  }
  std::string where;
  for (const auto& h : order)
    where += fmt::format("{}{}: rank{} {}", where.empty() ? "" : "; ", h, by_host[h].size() > 1 ? "s" : "",
                         fmt::join(by_host[h], ","));
  const std::string t = threads > 0 ? fmt::format("{} thread{} per rank", threads, threads > 1 ? "s" : "")
                                    : "OpenMP's default threads";
  if (comm.size() == 1) return fmt::format("world: single process on {}, {}", order.front(), t);
  return fmt::format("world: {} on {} host{} ({}), {}", comm.describe(), order.size(), order.size() > 1 ? "s" : "",
                     where, t);
}

Status check_same_run(dist::Comm& comm, const RunConfig& config) {
  if (comm.size() == 1) return {};
  const std::string text = run_config_to_json(config).dump();
  const uint64_t hashes[2] = {fnv1a(text.data(), text.size()), binary_hash()};
  // Two 64-bit hashes as four i32 per rank, all-gathered.
  std::vector<int32_t> all(size_t(comm.size()) * 4);
  std::memcpy(all.data() + size_t(comm.rank()) * 4, hashes, sizeof hashes);
  std::vector<int64_t> counts(size_t(comm.size()), 4), displs;
  for (int r = 0; r < comm.size(); ++r) displs.push_back(int64_t(r) * 4);
  comm.all_gather_v(TensorView::of(all.data(), {int64_t(all.size())}), counts, displs);
  std::vector<int> config_differs, binary_differs;
  for (int r = 1; r < comm.size(); ++r) {
    if (std::memcmp(&all[size_t(r) * 4], &all[0], 8) != 0) config_differs.push_back(r);
    if (std::memcmp(&all[size_t(r) * 4 + 2], &all[2], 8) != 0) binary_differs.push_back(r);
  }
  if (!binary_differs.empty())
    return make_error("rank(s) {} run a different osp binary than rank 0; launch one build on every rank",
                      fmt::join(binary_differs, ", "));
  if (!config_differs.empty())
    return make_error("rank(s) {} were given a different config than rank 0; every rank must train the same run",
                      fmt::join(config_differs, ", "));
  return {};
}

}  // namespace osp::train
