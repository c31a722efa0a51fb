// Williamson search: four symmetric circulant ±1 matrices A, B, C, D of odd order n with
// A² + B² + C² + D² = 4n·I, found by a meet-in-the-middle search; through the Williamson array
// they give the Hadamard base matrices of order 4n (measurement.md §3.8). Prints half-rows
// a_0 … a_{(n-1)/2} as '+'/'-' strings (a_{n-i} = a_i), the form of the table in
// src/quant/hadamard_base.cpp, and checks each solution's Williamson array for H·Hᵀ = 4n·I.
//
// That table (n = 39 for K = 156, n = 43 for K = 172) is the first solution printed by
//   nice -n 10 build/tools/williamson_search 39 --max-solutions 1   2.8 s CPU (4.9 s wall)
//   nice -n 10 build/tools/williamson_search 43 --max-solutions 1   166 s CPU (8-12 min wall)
// on the shared 2-core dev machine (Release build, one thread; the wall times are long because
// the machine was busy; 220 MB peak memory for n = 43). n = 43 found it in the third of five
// row-sum decompositions, after 2.3e10 pairs tried. Without --max-solutions, n = 39 finds all 12
// solutions in 41 s CPU. Sanity: it finds solutions for every odd n ≤ 33 and none for n = 35,
// where Williamson matrices are known not to exist.
//
// Method. Normalise a_0 = +1 (negation keeps the periodic autocorrelation PAF). Williamson's
// lemma then gives a_i·b_i·c_i·d_i = −1 for i ≥ 1, i.e. A ⊕ B = ¬(C ⊕ D) on the sign bits.
// Keep the sequences whose DFT values λ_k (real: the sequence is symmetric) satisfy λ_k² ≤ 4n,
// grouped by row sum r = λ_0. For each 4n = r_A² + r_B² + r_C² + r_D², pair the groups as
// (A, B) | (C, D), keep pairs with λ_A² + λ_B² ≤ 4n at every k, and match the two sides on
// (A ⊕ B, PAF_A + PAF_B) = (¬(C ⊕ D), −(PAF_C + PAF_D)). The work is split into partitions by
// the low bits of A ⊕ B: each partition pairs x only with the bucket of y whose low bits fit, so
// memory stays small and no pair is tried twice.
#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "quant/hadamard.h"

namespace {

constexpr size_t kPad =
    32;  // per-sequence rows padded to 32 entries (m ≤ 31), compared branch-free

struct Candidates {
  int n = 0, m = 0;            // order and half-length m = (n − 1)/2
  std::vector<uint32_t> code;  // bit i−1 set ⇔ a_i = −1, i = 1..m
  std::vector<int> row_sum;    // λ_0
  std::vector<float> psd;      // (count, kPad): λ_k², k = 1..m, then zeros
  std::vector<float> slack;    // (count, kPad): 4n − λ_k², what a partner may add at k
  std::vector<uint8_t> psd8;   // floor(psd) and ceil(slack) (≤ 255): a quick, safe first test
  std::vector<uint8_t> slack8;
  std::vector<int8_t> paf;  // (count, kPad): PAF(s), s = 1..m, then zeros
  size_t count() const { return code.size(); }
};

// The full first row a_0 … a_{n−1} of a normalised symmetric sequence.
std::vector<int> expand(uint32_t code, int n) {
  std::vector<int> a(static_cast<size_t>(n), 1);  // a_0 = +1
  for (int i = 1; i <= (n - 1) / 2; ++i)
    a[size_t(i)] = a[size_t(n - i)] = ((code >> (i - 1)) & 1) ? -1 : 1;
  return a;
}

// All normalised symmetric sequences that pass the spectral bound λ_k² ≤ 4n.
Candidates enumerate(int n) {
  Candidates c;
  c.n = n;
  c.m = (n - 1) / 2;
  const int m = c.m;
  std::vector<double> cosine(size_t(m * m));  // 2·cos(2π·i·k/n), i, k = 1..m
  for (int k = 1; k <= m; ++k)
    for (int i = 1; i <= m; ++i)
      cosine[size_t((k - 1) * m + i - 1)] = 2.0 * std::cos(2.0 * M_PI * i * k / n);
  std::vector<double> lam(static_cast<size_t>(m));
  for (uint32_t code = 0; code < (1u << m); ++code) {
    const int r = 1 + 2 * m - 4 * std::popcount(code);
    if (r * r > 4 * n - 3) continue;  // the other three row sums are odd: at least 1 in square
    bool ok = true;
    for (int k = 0; k < m && ok; ++k) {
      double s = 1.0;
      for (int i = 0; i < m; ++i)
        s += ((code >> i) & 1) ? -cosine[size_t(k * m + i)] : cosine[size_t(k * m + i)];
      lam[size_t(k)] = s * s;
      ok = lam[size_t(k)] <= 4.0 * n + 1e-6;
    }
    if (!ok) continue;
    const auto a = expand(code, n);
    c.code.push_back(code);
    c.row_sum.push_back(r);
    for (size_t k = 0; k < kPad; ++k) {
      const bool used = k < size_t(m);
      c.psd.push_back(used ? float(lam[k]) : 0.0f);
      c.slack.push_back(used ? float(4.0 * n + 1e-3 - lam[k]) : 1.0f);
      c.psd8.push_back(uint8_t(std::floor(c.psd.back())));
      c.slack8.push_back(uint8_t(std::min(255.0f, std::ceil(c.slack.back()))));
      int p = 0;
      for (int j = 0; used && j < n; ++j) p += a[size_t(j)] * a[(size_t(j) + k + 1) % size_t(n)];
      c.paf.push_back(int8_t(p));
    }
  }
  return c;
}

struct Key {
  uint64_t hash;
  uint32_t x, y;  // candidate indices
};

uint64_t mix(uint64_t h, uint64_t v) {
  h = (h ^ v) * 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 29);
}

// Hash of (bits, sign·(PAF_x + PAF_y)); both sides of the match hash the same quantity.
uint64_t pair_hash(const Candidates& c, uint32_t x, uint32_t y, uint32_t bits, int sign) {
  const int8_t* px = &c.paf[x * kPad];
  const int8_t* py = &c.paf[y * kPad];
  int8_t sum[kPad];
  for (size_t s = 0; s < kPad; ++s) sum[s] = int8_t(sign * (px[s] + py[s]));
  uint64_t w[kPad / 8];
  std::memcpy(w, sum, kPad);
  uint64_t h = mix(0x9e3779b97f4a7c15ull, bits);
  for (uint64_t v : w) h = mix(h, v);
  return h | 1;  // never 0, the free-slot mark of KeyTable
}

// One side of the match: x runs over a group, y over the bucket of a group (stored
// contiguously, by the low code bits) that the partition allows.
struct Side {
  const std::vector<uint32_t>* first = nullptr;
  bool same = false;            // both members from one group: keep x ≤ y only
  std::vector<size_t> start;    // bucket b is rows start[b] .. start[b+1]
  std::vector<uint32_t> index;  // candidate index of each row
  std::vector<uint8_t> psd8;    // (rows, kPad)
  std::vector<float> psd;       // (rows, kPad)
};

Side make_side(const Candidates& c, const std::vector<uint32_t>& g1,
               const std::vector<uint32_t>& g2, uint32_t low) {
  Side s;
  s.first = &g1;
  s.same = &g1 == &g2;
  s.start.assign(size_t(low) + 2, 0);
  for (uint32_t y : g2) ++s.start[(c.code[y] & low) + 1];
  for (size_t b = 1; b < s.start.size(); ++b) s.start[b] += s.start[b - 1];
  std::vector<size_t> fill(s.start.begin(), s.start.end() - 1);
  s.index.resize(g2.size());
  s.psd8.resize(g2.size() * kPad);
  s.psd.resize(g2.size() * kPad);
  for (uint32_t y : g2) {
    const size_t row = fill[c.code[y] & low]++;
    s.index[row] = y;
    std::copy_n(&c.psd8[y * kPad], kPad, &s.psd8[row * kPad]);
    std::copy_n(&c.psd[y * kPad], kPad, &s.psd[row * kPad]);
  }
  return s;
}

// Pairs (x, y) of one side with (x ⊕ y) & low = want and λ_x² + λ_y² ≤ 4n at every k, passed to
// emit(x, y, hash) with the hash of (x ⊕ y ⊕ flip, sign·(PAF_x + PAF_y)).
template <class Emit>
void collect(const Candidates& c, const Side& side, uint32_t low, uint32_t want, uint32_t flip,
             int sign, Emit&& emit) {
  for (uint32_t x : *side.first) {
    const uint8_t* slack8 = &c.slack8[x * kPad];
    const uint32_t b = (c.code[x] ^ want) & low;
    for (size_t row = side.start[b]; row < side.start[b + 1]; ++row) {
      const uint8_t* py = &side.psd8[row * kPad];
      uint8_t bad = 0;  // branch-free over all kPad entries so that the loop vectorises
      for (size_t k = 0; k < kPad; ++k) bad |= uint8_t(py[k] > slack8[k]);
      if (bad) continue;
      const uint32_t y = side.index[row];
      if (side.same && y < x) continue;
      const float* slack = &c.slack[x * kPad];
      const float* psd = &side.psd[row * kPad];
      for (size_t k = 0; k < kPad; ++k) bad |= uint8_t(psd[k] > slack[k]);
      if (!bad) emit(x, y, pair_hash(c, x, y, (c.code[x] ^ c.code[y]) ^ flip, sign));
    }
  }
}

// Open-addressing table of the left side's keys for one partition (hash 0 marks a free slot).
class KeyTable {
 public:
  void build(const std::vector<Key>& keys) {
    size_t cap = 16;
    while (cap < 2 * keys.size()) cap *= 2;
    slots_.assign(cap, Key{0, 0, 0});
    for (const Key& k : keys) {
      size_t i = k.hash & (cap - 1);
      while (slots_[i].hash != 0) i = (i + 1) & (cap - 1);
      slots_[i] = k;
    }
  }
  template <class F>
  void find(uint64_t hash, F&& f) const {
    const size_t cap = slots_.size();
    for (size_t i = hash & (cap - 1); slots_[i].hash != 0; i = (i + 1) & (cap - 1))
      if (slots_[i].hash == hash) f(slots_[i]);
  }

 private:
  std::vector<Key> slots_;
};

std::string half_row(uint32_t code, int m) {
  std::string s = "+";
  for (int i = 0; i < m; ++i) s += ((code >> i) & 1) ? '-' : '+';
  return s;
}

// The Williamson array of a solution, built and checked (H·Hᵀ = 4n·I) by osp's own code.
bool williamson_array_ok(const Candidates& c, const uint32_t q[4]) {
  std::array<std::string, 4> rows;
  for (int j = 0; j < 4; ++j) rows[size_t(j)] = half_row(c.code[q[j]], c.m);
  return osp::quant::williamson_hadamard({rows[0], rows[1], rows[2], rows[3]}).ok();
}

struct Search {
  const Candidates& c;
  long max_solutions = 0;  // 0: all
  long found = 0;
  double tried = 0, kept = 0;                 // pairs tried, pairs passing the spectral bound
  std::vector<std::vector<uint32_t>> groups;  // candidate indices by row sum
  std::vector<int> group_r;

  explicit Search(const Candidates& cand, long max) : c(cand), max_solutions(max) {
    for (size_t i = 0; i < c.count(); ++i) {
      auto it = std::find(group_r.begin(), group_r.end(), c.row_sum[i]);
      if (it == group_r.end()) {
        group_r.push_back(c.row_sum[i]);
        groups.emplace_back();
        it = group_r.end() - 1;
      }
      groups[size_t(it - group_r.begin())].push_back(uint32_t(i));
    }
  }
  bool done() const { return max_solutions != 0 && found >= max_solutions; }
  double size(int g) const { return double(groups[size_t(g)].size()); }

  // One decomposition 4n = Σ r², groups g[0..3], paired as (g0, g1) | (g2, g3).
  void run(const int g[4]) {
    const int t = std::min(c.m, 10);
    const uint32_t mask = (1u << c.m) - 1, low = (1u << t) - 1;
    const auto& gs = groups;
    const Side left = make_side(c, gs[size_t(g[0])], gs[size_t(g[1])], low);
    const Side right = make_side(c, gs[size_t(g[2])], gs[size_t(g[3])], low);
    for (int s = 0; s < 4; s += 2)
      tried += g[s] == g[s + 1] ? size(g[s]) * (size(g[s]) + 1) / 2 : size(g[s]) * size(g[s + 1]);
    std::vector<Key> lk;
    KeyTable table;
    for (uint32_t p = 0; p <= low && !done(); ++p) {
      lk.clear();
      collect(c, left, low, p, 0, 1, [&](uint32_t x, uint32_t y, uint64_t h) {
        lk.push_back({h, x, y});
      });
      table.build(lk);
      kept += double(lk.size());
      // Right side: probe with (¬(C ⊕ D), −(PAF_C + PAF_D)).
      collect(c, right, low, ~p & low, mask, -1, [&](uint32_t x, uint32_t y, uint64_t h) {
        kept += 1;
        table.find(h, [&](const Key& k) { check(k.x, k.y, x, y); });
      });
    }
  }

  // Exact check of a hash match: the lemma's bits and Σ PAF = 0 at every shift.
  void check(uint32_t a, uint32_t b, uint32_t cc, uint32_t d) {
    const uint32_t mask = (1u << c.m) - 1, q[4] = {a, b, cc, d};
    bool ok = ((c.code[a] ^ c.code[b] ^ c.code[cc] ^ c.code[d]) & mask) == mask;
    for (size_t s = 0; s < size_t(c.m) && ok; ++s) {
      int sum = 0;
      for (uint32_t v : q) sum += c.paf[v * kPad + s];
      ok = sum == 0;
    }
    if (ok && !done()) report(q);
  }

  void report(const uint32_t q[4]) {
    ++found;
    std::printf("solution %ld: row sums %d %d %d %d\n", found, c.row_sum[q[0]], c.row_sum[q[1]],
                c.row_sum[q[2]], c.row_sum[q[3]]);
    for (int j = 0; j < 4; ++j)
      std::printf("  %c \"%s\"\n", "ABCD"[j], half_row(c.code[q[j]], c.m).c_str());
    std::printf("  Williamson array of order %d: H·Hᵀ = %d·I %s\n", 4 * c.n, 4 * c.n,
                williamson_array_ok(c, q) ? "holds" : "FAILS");
    std::fflush(stdout);
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: williamson_search <odd n, 3..63> [--max-solutions N (0 = all)]\n");
    return 2;
  }
  const int n = std::atoi(argv[1]);
  long max_solutions = 0;
  for (int i = 2; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--max-solutions") == 0) max_solutions = std::atol(argv[i + 1]);
  if (n < 3 || n > 63 || n % 2 == 0) {
    std::fprintf(stderr, "n must be odd and in 3..63 (pair PAF sums must fit int8), got %d\n", n);
    return 2;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const Candidates c = enumerate(n);
  Search search(c, max_solutions);
  std::printf("n = %d: %zu of %u normalised symmetric sequences pass λ_k² ≤ %d\n", n, c.count(),
              1u << c.m, 4 * n);
  const int ng = int(search.groups.size());
  for (int g = 0; g < ng; ++g)
    std::printf("  row sum %3d: %zu\n", search.group_r[size_t(g)], search.groups[size_t(g)].size());
  // Decompositions 4n = Σ r² over groups a ≤ b ≤ d ≤ e, each paired so that it tries the fewest
  // pairs, and run cheapest first (a first solution comes early).
  struct Plan {
    double cost;
    std::array<int, 4> g;
  };
  std::vector<Plan> plans;
  for (int a = 0; a < ng; ++a)
    for (int b = a; b < ng; ++b)
      for (int d = b; d < ng; ++d)
        for (int e = d; e < ng; ++e) {
          int sq = 0;
          for (int j : {a, b, d, e}) sq += search.group_r[size_t(j)] * search.group_r[size_t(j)];
          if (sq != 4 * n) continue;
          Plan best{1e300, {}};
          for (const auto& q :
               {std::array{a, b, d, e}, std::array{a, d, b, e}, std::array{a, e, b, d}}) {
            const double cost =
                search.size(q[0]) * search.size(q[1]) + search.size(q[2]) * search.size(q[3]);
            if (cost < best.cost) best = {cost, q};
          }
          plans.push_back(best);
        }
  std::sort(plans.begin(), plans.end(),
            [](const Plan& x, const Plan& y) { return x.cost < y.cost; });
  for (const Plan& plan : plans) {
    if (search.done()) break;
    const long before = search.found;
    std::printf("row sums %d %d | %d %d\n", search.group_r[size_t(plan.g[0])],
                search.group_r[size_t(plan.g[1])], search.group_r[size_t(plan.g[2])],
                search.group_r[size_t(plan.g[3])]);
    std::fflush(stdout);
    search.run(plan.g.data());
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("  %ld solutions; so far %.3g pairs tried, %.3g kept, %.1f s\n",
                search.found - before, search.tried, search.kept, secs);
    std::fflush(stdout);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("n = %d: %ld solutions in %.1f s\n", n, search.found, secs);
  return search.found > 0 ? 0 : 1;
}
