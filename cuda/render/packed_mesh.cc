#include "cuda/render/packed_mesh.h"

namespace fg::cuda {

PackedMesh PackMesh(const render::MeshView& mesh) {
  PackedMesh pm;
  const size_t n = mesh.positions.size();
  pm.vertices = static_cast<int>(n);
  for (const auto& t : mesh.triangles) {
    if (t[0] < 0 || t[1] < 0 || t[2] < 0 || static_cast<size_t>(t[0]) >= n || static_cast<size_t>(t[1]) >= n ||
        static_cast<size_t>(t[2]) >= n)
      continue;
    pm.triangles.insert(pm.triangles.end(), t.begin(), t.end());
  }
  const int nt = pm.num_triangles();
  pm.adj_begin.assign(n + 1, 0);
  for (int i : pm.triangles) ++pm.adj_begin[i + 1];
  for (size_t i = 0; i < n; ++i) pm.adj_begin[i + 1] += pm.adj_begin[i];
  pm.adj.resize(pm.triangles.size());
  std::vector<int> fill(pm.adj_begin.begin(), pm.adj_begin.end() - 1);
  for (int t = 0; t < nt; ++t)  // drawing order, corners 0, 1, 2: the CPU's order of adds
    for (int k = 0; k < 3; ++k) pm.adj[fill[pm.triangles[3 * t + k]]++] = t;
  return pm;
}

}  // namespace fg::cuda
