// Shared by tests/avatar: the real canonical face from the model cache and its basis.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "engine/avatar/blendshapes.h"

namespace fg::avatar_testing {

inline const CanonicalFace& Canonical() {
  static const CanonicalFace face = [] {
    const char* env = std::getenv("FACEGRAPH_MODELS");
    std::string err;
    auto f = LoadCanonicalFace(
        std::string(env ? env : FG_MODELS_DEFAULT_DIR) + "/" + kCanonicalFaceFile, &err);
    EXPECT_TRUE(f.has_value()) << err;
    return f.value_or(CanonicalFace{});
  }();
  return face;
}

inline const BlendshapeBasis& Basis() {
  static const BlendshapeBasis basis = [] {
    std::string err;
    auto b = BlendshapeBasis::Create(Canonical(), &err);
    EXPECT_TRUE(b.has_value()) << err;
    if (!b) std::abort();  // every avatar test needs it
    return *b;
  }();
  return basis;
}

}  // namespace fg::avatar_testing
