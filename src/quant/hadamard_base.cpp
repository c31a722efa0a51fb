// ±1 Hadamard base matrices of the orders in measurement.md §3.8, built rather than shipped:
// Paley I (q+1, q ≡ 3 mod 4 a prime power), Paley II (2(q+1), q ≡ 1 mod 4), doubling, and the
// Williamson array for 156 = 4·39 and 172 = 4·43 from a small table of half-rows that osp's own
// search (tools/williamson_search.cpp) found.
#include <array>
#include <cstdlib>
#include <string_view>

#include "core/check.h"
#include "quant/hadamard.h"

namespace osp::quant {
namespace {

// GF(p^e) with elements 0..q−1 as base-p digit vectors (polynomial coefficients, low first).
class FiniteField {
 public:
  FiniteField(int p, int e) : p_(p), e_(e), q_(1) {
    for (int i = 0; i < e; ++i) q_ *= p;
    find_modulus();
    square_.assign(size_t(q_), false);
    for (int x = 1; x < q_; ++x) square_[size_t(mul(x, x))] = true;
  }
  int q() const { return q_; }
  int sub(int a, int b) const {
    int r = 0, pw = 1;
    for (int i = 0; i < e_; ++i, a /= p_, b /= p_, pw *= p_) r += (((a % p_) - (b % p_) + p_) % p_) * pw;
    return r;
  }
  int mul(int a, int b) const {
    std::vector<int> prod(size_t(2 * e_), 0);
    for (int i = 0, x = a; i < e_; ++i, x /= p_)
      for (int j = 0, y = b; j < e_; ++j, y /= p_) prod[size_t(i + j)] += (x % p_) * (y % p_);
    for (int d = 2 * e_ - 1; d >= e_; --d) {  // reduce by the monic modulus
      const int c = prod[size_t(d)] % p_;
      for (int i = 0; i < e_; ++i) prod[size_t(d - e_ + i)] += c * (p_ - mod_[size_t(i)]);
      prod[size_t(d)] = 0;
    }
    int r = 0;
    for (int i = e_ - 1; i >= 0; --i) r = r * p_ + prod[size_t(i)] % p_;
    return r;
  }
  int chi(int a) const { return a == 0 ? 0 : (square_[size_t(a)] ? 1 : -1); }

 private:
  // A monic polynomial of degree e without roots in GF(p): irreducible for e ≤ 3.
  void find_modulus() {
    mod_.assign(size_t(e_), 0);
    if (e_ == 1) return;
    for (int code = 0;; ++code) {
      for (int i = 0, c = code; i < e_; ++i, c /= p_) mod_[size_t(i)] = c % p_;
      bool root = false;
      for (int x = 0; x < p_ && !root; ++x) {
        int v = 1;  // evaluate x^e + Σ mod_i x^i mod p
        for (int i = 0; i < e_; ++i) v = v * x % p_;
        for (int i = 0, xp = 1; i < e_; ++i, xp = xp * x % p_) v = (v + mod_[size_t(i)] * xp) % p_;
        root = v == 0;
      }
      if (!root) return;
    }
  }
  int p_, e_, q_;
  std::vector<int> mod_;
  std::vector<bool> square_;
};

// Jacobsthal matrix Q_ij = χ(a_i − a_j).
std::vector<int> jacobsthal(const FiniteField& f) {
  const int q = f.q();
  std::vector<int> m(size_t(q * q));
  for (int i = 0; i < q; ++i)
    for (int j = 0; j < q; ++j) m[size_t(i * q + j)] = f.chi(f.sub(i, j));
  return m;
}

// Paley I: H = I + [[0, 1ᵀ], [−1, Q]], order q + 1.
std::vector<int8_t> paley1(const FiniteField& f) {
  const int q = f.q(), n = q + 1;
  const auto jq = jacobsthal(f);
  std::vector<int8_t> h(size_t(n * n));
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      int s = 0;
      if (i == 0 && j > 0) s = 1;
      else if (i > 0 && j == 0) s = -1;
      else if (i > 0) s = jq[size_t((i - 1) * q + j - 1)];
      h[size_t(i * n + j)] = int8_t(s + (i == j ? 1 : 0));
    }
  return h;
}

// Paley II: C = [[0, 1ᵀ], [1, Q]]; entries 0 → [[1,−1],[−1,−1]], ±1 → ±[[1,1],[1,−1]].
std::vector<int8_t> paley2(const FiniteField& f) {
  const int q = f.q(), c = q + 1, n = 2 * c;
  const auto jq = jacobsthal(f);
  std::vector<int8_t> h(size_t(n * n));
  for (int i = 0; i < c; ++i)
    for (int j = 0; j < c; ++j) {
      const int s = (i == 0 && j == 0) ? 0 : (i == 0 || j == 0) ? 1 : jq[size_t((i - 1) * q + j - 1)];
      for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 2; ++b) {
          const int v = s == 0 ? ((a == 0 && b == 0) ? 1 : -1) : s * ((a == 1 && b == 1) ? -1 : 1);
          h[size_t((2 * i + a) * n + 2 * j + b)] = int8_t(v);
        }
    }
  return h;
}

std::vector<int8_t> doubled(const std::vector<int8_t>& h, int k) {
  std::vector<int8_t> d(size_t(4 * k * k));
  for (int i = 0; i < 2 * k; ++i)
    for (int j = 0; j < 2 * k; ++j)
      d[size_t(i * 2 * k + j)] = int8_t(h[size_t((i % k) * k + j % k)] * ((i >= k && j >= k) ? -1 : 1));
  return d;
}

// Williamson matrices: symmetric circulants A, B, C, D of odd order n with A² + B² + C² + D² =
// 4n·I, each given by its half-row a_0 … a_{(n−1)/2} ('+' = +1, '-' = −1; a_{n−i} = a_i). The
// first solution printed by `williamson_search 39` and `williamson_search 43` (see that file).
struct WilliamsonTable {
  int n;
  std::array<std::string_view, 4> half_rows;  // A, B, C, D
};
constexpr WilliamsonTable kWilliamson[] = {
    {39, {"++---+-++++---+---+-", "+-+-++----+++--++---",  //
          "+-+++-++------+--+-+", "+-+-++-+--+--++-----"}},
    {43, {"++++-++-++-+-+-+---+++", "+--++-+-++--++--++-+--",  //
          "++++-----+--+-+--+++--", "+++---+++-+-++---+----"}},
};

const WilliamsonTable& williamson_table(int n) {
  for (const auto& w : kWilliamson)
    if (w.n == n) return w;
  OSP_CHECK(false, "no Williamson table for n = {}", n);
  return kWilliamson[0];
}

bool is_hadamard(const std::vector<int8_t>& h, int k) {
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j) {
      int dot = 0;
      for (int l = 0; l < k; ++l) dot += h[size_t(i * k + l)] * h[size_t(j * k + l)];
      if (dot != (i == j ? k : 0)) return false;
    }
  return true;
}

}  // namespace

Result<std::vector<int8_t>> williamson_hadamard(const std::array<std::string_view, 4>& half_rows) {
  const int n = 2 * int(half_rows[0].size()) - 1;
  std::vector<int8_t> first_rows(size_t(4 * n));  // (4, n): full first rows of A, B, C, D
  for (int b = 0; b < 4; ++b) {
    const std::string_view half = half_rows[size_t(b)];
    if (2 * int(half.size()) - 1 != n || half.find_first_not_of("+-") != std::string_view::npos)
      return make_error("Williamson half-rows must be four strings of '+'/'-' of one length");
    for (int i = 0; i <= n / 2; ++i)
      first_rows[size_t(b * n + i)] = first_rows[size_t(b * n + (n - i) % n)] = half[size_t(i)] == '+' ? 1 : -1;
  }
  // H = [[A, B, C, D], [−B, A, −D, C], [−C, D, A, −B], [−D, −C, B, A]]: block (I, J) at rows
  // I·n.., columns J·n..; circulant entry (i, j) = x_{(j − i) mod n}.
  static const int kBlock[4][4] = {{0, 1, 2, 3}, {1, 0, 3, 2}, {2, 3, 0, 1}, {3, 2, 1, 0}};
  static const int kSign[4][4] = {{1, 1, 1, 1}, {-1, 1, -1, 1}, {-1, 1, 1, -1}, {-1, -1, 1, 1}};
  const int k = 4 * n;
  std::vector<int8_t> h(size_t(k * k));
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j) {
      const int bi = i / n, bj = j / n, shift = ((j % n) - (i % n) + n) % n;
      h[size_t(i * k + j)] = int8_t(kSign[bi][bj] * first_rows[size_t(kBlock[bi][bj] * n + shift)]);
    }
  if (!is_hadamard(h, k)) return make_error("the Williamson array of order {} is not a Hadamard matrix", k);
  return h;
}

Result<std::vector<int8_t>> hadamard_base(int k) {
  std::vector<int8_t> h;
  switch (k) {
    case 1: h = {1}; break;
    case 12: h = paley1(FiniteField(11, 1)); break;
    case 20: h = paley1(FiniteField(19, 1)); break;
    case 28: h = paley1(FiniteField(3, 3)); break;
    case 36: h = paley2(FiniteField(17, 1)); break;
    case 40: h = doubled(paley1(FiniteField(19, 1)), 20); break;
    case 44: h = paley1(FiniteField(43, 1)); break;
    case 52: h = paley2(FiniteField(5, 2)); break;
    case 60: h = paley1(FiniteField(59, 1)); break;
    case 108: h = paley1(FiniteField(107, 1)); break;
    case 140: h = paley1(FiniteField(139, 1)); break;
    case 156: return williamson_hadamard(williamson_table(39).half_rows);
    case 172: return williamson_hadamard(williamson_table(43).half_rows);
    default:
      return make_error("no {}x{} Hadamard base matrix in osp (orders: 1, 12, 20, 28, 36, 40, 44, "
                        "52, 60, 108, 140, 156, 172)", k, k);
  }
  OSP_CHECK(is_hadamard(h, k), "generated Hadamard matrix of order {} fails H·Hᵀ = K·I", k);
  return h;
}

}  // namespace osp::quant
