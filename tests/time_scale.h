// Wall-clock allowances in tests, for a CPU slower than the one the bounds were written for.
//
// FG_TIME_SCALE (a number from 1 to 1000; unset or empty: 1) says how many times slower than
// a native build the tests run. tools/arm64-check sets it for qemu-user emulation, where
// code runs 10-50x slower and a thread's first pass through a network is slower still
// (qemu translates each code block on first use); docs/kiosk.md, "ARM64", gives the value.
//
// What scales: a wait whose end is an event on another thread (a worker's result, a message,
// EOS) is bounded by Scaled(native bound); a sleep that paces frames so a worker gets its
// real-time share between them (as a 30 fps camera would give it) is Scaled(native pace).
// What never scales: what the test asserts once the wait is over (a label, a count, a frame
// number, an accuracy). At FG_TIME_SCALE=1 every allowance is the native one.
//
// A value that is not a number in [1, 1000] aborts the test program with a message: a typo
// must not silently run the native bounds under emulation.
//
// Threading: thread-safe (the variable is read once, on first use).
// Example:
//   const auto deadline = std::chrono::steady_clock::now() + fgtest::Scaled(std::chrono::seconds(3));
//   std::this_thread::sleep_for(fgtest::Scaled(std::chrono::milliseconds(8)));
#pragma once

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace fgtest {

inline double TimeScale() {
  static const double scale = [] {
    const char* v = std::getenv("FG_TIME_SCALE");
    if (!v || !*v) return 1.0;
    char* end = nullptr;
    const double s = std::strtod(v, &end);
    if (end == v || *end != '\0' || !std::isfinite(s) || s < 1 || s > 1000) {
      std::fprintf(stderr, "FG_TIME_SCALE=\"%s\": expected a number from 1 to 1000 (how many "
                           "times slower than native the tests run; tests/time_scale.h)\n", v);
      std::abort();
    }
    return s;
  }();
  return scale;
}

// `d` times FG_TIME_SCALE, in d's own units (rounded up, so a scaled bound is never shorter).
template <class Rep, class Period>
std::chrono::duration<Rep, Period> Scaled(std::chrono::duration<Rep, Period> d) {
  return std::chrono::duration<Rep, Period>(
      static_cast<Rep>(std::ceil(static_cast<double>(d.count()) * TimeScale())));
}

}  // namespace fgtest
