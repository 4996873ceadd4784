// User avatars from glTF 2.0 files (.gltf with its buffers, .glb, and VRM, which is a .glb):
// the first mesh's geometry and its ARKit-named morph targets, ready for the rasterizer.
//
// Loaded with Debian's libtinygltf (the shared library libtinygltf.so: Debian builds
// TinyGLTF's implementation once, so no TINYGLTF_IMPLEMENTATION here, and its JSON and
// image decoders, nlohmann-json and stb, come with it). What is read:
//   - every TRIANGLES primitive of the first mesh, concatenated: POSITION (float VEC3),
//     NORMAL (optional; the renderer computes its own normals, so they are only kept),
//     TEXCOORD_0 (optional, float VEC2) and the indices (unsigned byte/short/int; none =
//     consecutive triples);
//   - morph targets: their POSITION deltas, named by mesh.extras.targetNames (the de-facto
//     convention of Blender's exporter, three.js and VRM tools); a target without a name is
//     unnamed;
//   - the first primitive's material: baseColorFactor and, when it has one, the
//     baseColorTexture's image (decoded RGBA8) for textured rendering.
// Kept targets: those whose name is one of `wanted` (ARKit blendshape names; by default the
// 52 of ARKit). One warning (returned, never logged here) names in one line both the wanted
// names the avatar lacks (they are ignored: weights for them do nothing) and the avatar's
// targets that are not wanted names (ignored too). Units and axes are glTF's (metres, +y up,
// +z forward, which for a face is towards the viewer as in the canonical face); the
// renderer's camera fits the mesh whatever its size. VRM 0.x models face -z: turn them with
// the element's rotation (not done here).
//
// Errors name the file and the part: "avatar.glb: mesh 0 primitive 1: POSITION accessor 3
// is not float VEC3". Sparse accessors, non-triangle primitives only, and no mesh at all are
// errors.
//
// Threading: LoadGltfAvatar is reentrant; a GltfAvatar is immutable after load, Apply is
// const and allocation-free.
//
// Example:
//   std::string err, warn;
//   auto avatar = fg::render::LoadGltfAvatar("face.glb", {}, &err, &warn);
//   if (!avatar) return err;
//   if (!warn.empty()) log(warn);
//   std::vector<float> w(avatar->target_names.size(), 0.f);
//   w[avatar->TargetIndex("jawOpen")] = 0.5f;
//   avatar->Apply(w, mesh);   // mesh: positions.size() entries
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/render/rasterizer.h"

namespace fg::render {

// The 52 ARKit blendshape names (Apple ARFaceAnchor.BlendShapeLocation), Left = the
// subject's left.
const std::vector<std::string>& ArkitBlendshapeNames();

struct GltfAvatar {
  std::vector<std::array<float, 3>> positions;
  std::vector<std::array<float, 3>> normals;  // empty when the file has none
  std::vector<std::array<float, 2>> uvs;      // empty when the file has none
  std::vector<std::array<int, 3>> triangles;
  std::vector<std::string> target_names;  // the kept targets, in file order
  std::vector<std::vector<std::array<float, 3>>> target_deltas;  // positions.size() each
  std::array<uint8_t, 3> base_color{225, 190, 165};
  std::optional<Texture> texture;

  // Index of a kept target by name; -1 when absent.
  int TargetIndex(std::string_view name) const;
  // out = positions + sum_i weights[i] * target_deltas[i]; weights in target order (shorter:
  // the rest count as 0); out must have positions.size() entries (else nothing happens).
  void Apply(std::span<const float> weights, std::span<std::array<float, 3>> out) const;
  MeshView mesh(std::span<const std::array<float, 3>> morphed) const {
    return {morphed, triangles, uvs};
  }
};

// `wanted` empty = ArkitBlendshapeNames(). *warning is cleared, then set to one line when
// targets are ignored.
std::optional<GltfAvatar> LoadGltfAvatar(const std::string& path,
                                         std::span<const std::string> wanted, std::string* error,
                                         std::string* warning);

// Whether this build can load glTF (libtinygltf was found); when false LoadGltfAvatar
// returns an error saying so.
bool GltfSupported();

}  // namespace fg::render
