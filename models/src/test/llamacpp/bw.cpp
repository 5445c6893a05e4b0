// Read bandwidth: sums a 1 GiB float array with T threads, best of 5 passes.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>
int main(int argc, char** argv) {
  int T = argc > 1 ? atoi(argv[1]) : 1;
  size_t n = (size_t)1 << 28;
  std::vector<float> a(n, 1.0f);
  double best = 1e9;
  for (int rep = 0; rep < 5; rep++) {
    std::vector<double> sums(T);
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> th;
    for (int t = 0; t < T; t++) th.emplace_back([&, t] {
      size_t lo = n / T * t, hi = n / T * (t + 1);
      float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
      for (size_t i = lo; i < hi; i += 8) { s0 += a[i]; s1 += a[i+1]; s2 += a[i+2]; s3 += a[i+3]; s4 += a[i+4]; s5 += a[i+5]; s6 += a[i+6]; s7 += a[i+7]; }
      sums[t] = s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7;
    });
    for (auto& x : th) x.join();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s < best) best = s;
    if (sums[0] < 0) printf("x");
  }
  printf("threads %d: %.2f GB/s\n", T, n * 4.0 / best / 1e9);
}
