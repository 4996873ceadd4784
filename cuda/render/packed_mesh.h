// PackedMesh: a render::MeshView in the flat form the CUDA renderer keeps on the device (and
// its CPU emulation on the host): the drawable triangles' indices packed 3 a triangle in drawing
// order (a triangle with an index out of range is dropped, as Rasterizer::Draw skips it), and
// for each vertex the packed triangles that hold it, in drawing order, once per corner (CSR:
// adj[adj_begin[i] .. adj_begin[i + 1])). That list lets one thread per vertex sum the face
// normals of kLit in the same order as the CPU's scatter (render_stages.h IntensityStage).
//
// Threading: a value type. Example:
//   fg::cuda::PackedMesh pm = fg::cuda::PackMesh(mesh);   // at upload, not per frame
#pragma once

#include <vector>

#include "engine/render/rasterizer.h"

namespace fg::cuda {

struct PackedMesh {
  int vertices = 0;
  std::vector<int> triangles;  // 3 per drawable triangle
  std::vector<int> adj_begin;  // vertices + 1
  std::vector<int> adj;        // 3 per drawable triangle
  int num_triangles() const { return static_cast<int>(triangles.size() / 3); }
};

PackedMesh PackMesh(const render::MeshView& mesh);

}  // namespace fg::cuda
