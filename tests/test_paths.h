// Where the tests and benchmarks find the inputs that live outside the build: the compiled-in
// defaults (CMake's FG_ASTRONAUT; the source tree's tests/data) unless the environment names
// others. The environment is how the GPU bundle (tools/gpu-check) points the GPU tests at its
// own copies on a machine that has neither this source tree nor the Debian package of the photo.
//
//   FACEGRAPH_ASTRONAUT   the astronaut PNG            (default: FG_ASTRONAUT)
//   FACEGRAPH_TEST_DATA   the folder holding nn/*.json (default: <source>/tests/data)
//   FACEGRAPH_MODELS      the models (read by ModelsDir() in each test utility, as before)
//
// Threading: reads the environment; call before starting threads that change it (none do).
// Example:
//   ReadPngRgb(fg::testing::AstronautPath(), &img);
#pragma once

#include <cstdlib>
#include <string>

namespace fg::testing {

inline std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

#ifdef FG_ASTRONAUT
inline std::string AstronautPath() { return EnvOr("FACEGRAPH_ASTRONAUT", FG_ASTRONAUT); }
#endif

}  // namespace fg::testing
