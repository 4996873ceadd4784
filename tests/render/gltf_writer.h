// A minimal glTF 2.0 writer for tests: one mesh, one triangle primitive, float positions,
// uint16 indices and named morph targets (mesh.extras.targetNames), as .gltf (JSON with the
// buffer inline as a base64 data URI) or .glb (JSON chunk + BIN chunk). Written with
// nlohmann json and our own base64, independent of the loader under test (tinygltf).
//
// Threading: plain functions.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace fgtest {

struct GltfTarget {
  std::string name;
  std::vector<std::array<float, 3>> deltas;  // one per position
};

struct GltfMesh {
  std::vector<std::array<float, 3>> positions;
  std::vector<std::array<int, 3>> triangles;
  std::vector<GltfTarget> targets;
  std::array<float, 4> base_color{1, 1, 1, 1};
};

// Writes path as .glb when binary, else .gltf. Returns "" or the error.
std::string WriteGltf(const std::string& path, const GltfMesh& mesh, bool binary);

}  // namespace fgtest
