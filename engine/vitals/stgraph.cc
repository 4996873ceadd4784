#include "engine/vitals/stgraph.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "engine/face.h"
#include "engine/vitals/stgraph_kernel.h"

namespace fg {

namespace {

// Landmarks on the contours of features that are not skin (MediaPipe FaceMesh topology,
// the index sets of mediapipe/python/solutions/face_mesh_connections.py). A triangle that
// touches any of them is not skin (see the header).
constexpr int kLeftEye[] = {263, 249, 390, 373, 374, 380, 381, 382, 362,
                            466, 388, 387, 386, 385, 384, 398};
constexpr int kRightEye[] = {33, 7, 163, 144, 145, 153, 154, 155, 133,
                             246, 161, 160, 159, 158, 157, 173};
constexpr int kLeftBrow[] = {276, 283, 282, 295, 285, 300, 293, 334, 296, 336};
constexpr int kRightBrow[] = {46, 53, 52, 65, 55, 70, 63, 105, 66, 107};
constexpr int kLips[] = {61,  146, 91,  181, 84,  17,  314, 405, 321, 375, 291, 409, 270, 269,
                         267, 0,   37,  39,  40,  185, 78,  95,  88,  178, 87,  14,  317, 402,
                         318, 324, 308, 415, 310, 311, 312, 13,  82,  81,  80,  191};
// Nostril openings and alar rims (both sides): dark, and they flare with breathing.
constexpr int kNostrils[] = {79,  166, 75,  60,  20,  238, 239, 241, 242, 99,  97, 98, 64, 240,
                             309, 392, 305, 290, 250, 458, 459, 461, 462, 328, 326, 327, 294, 460};

struct Span {
  const int* p;
  int n;
};
constexpr Span kExcludedContours[] = {
    {kLeftEye, std::size(kLeftEye)},   {kRightEye, std::size(kRightEye)},
    {kLeftBrow, std::size(kLeftBrow)}, {kRightBrow, std::size(kRightBrow)},
    {kLips, std::size(kLips)},         {kNostrils, std::size(kNostrils)}};

// Every triangle of one face, row by row (stgraph_kernel.h holds the arithmetic, shared with
// the CUDA kernel); the pixel format is a template parameter so the inner loop has no switch
// (the format is dispatched once per frame).
template <PixelFormat F>
void RasteriseAll(const ImageView& v, const std::vector<std::array<int, 3>>& tris,
                  const std::vector<std::array<float, 3>>& lm, TriangleSamples* out) {
  const float* lmf = lm[0].data();  // std::array<float, 3> is three packed floats
  for (size_t t = 0; t < tris.size(); ++t) {
    const stgraph_kernel::Raster r = stgraph_kernel::SetupTriangle(lmf, tris[t].data(), v.width, v.height);
    stgraph_kernel::Sums s;
    for (int y = r.y0; y <= r.y1; ++y) stgraph_kernel::RowSums<F>(r, v, y, &s);
    const stgraph_kernel::TriangleResult res = stgraph_kernel::FinishTriangle<F>(r, v, s);
    out->pixels[t] = res.pixels;
    out->rgb[t] = {res.r, res.g, res.b};
  }
}

}  // namespace

std::string_view FaceRegionName(FaceRegion r) {
  switch (r) {
    case FaceRegion::kForehead: return "forehead";
    case FaceRegion::kLeftCheek: return "left_cheek";
    case FaceRegion::kRightCheek: return "right_cheek";
    case FaceRegion::kNose: return "nose";
    case FaceRegion::kChin: return "chin";
  }
  return "?";
}

std::unique_ptr<FaceSTGraph> FaceSTGraph::Create(const CanonicalFace& canonical,
                                                 std::string* error) {
  const int nv = static_cast<int>(canonical.vertices.size());
  if (nv < kMeshLandmarks || canonical.uvs.size() != canonical.vertices.size() ||
      canonical.triangles.empty()) {
    if (error)
      *error = "FaceSTGraph: canonical face needs " + std::to_string(kMeshLandmarks) +
               " vertices with UVs and a triangle list (got " + std::to_string(nv) +
               " vertices, " + std::to_string(canonical.triangles.size()) + " triangles)";
    return nullptr;
  }
  for (const auto& t : canonical.triangles)
    for (int i : t)
      if (i < 0 || i >= kMeshLandmarks) {
        if (error) *error = "FaceSTGraph: triangle index " + std::to_string(i) + " out of range";
        return nullptr;
      }
  std::unique_ptr<FaceSTGraph> g(new FaceSTGraph());
  g->triangles_ = canonical.triangles;
  const int nt = g->num_triangles();

  // Edge adjacency, built once: map each undirected edge to the triangles using it.
  std::map<std::pair<int, int>, std::vector<int>> edges;
  for (int t = 0; t < nt; ++t)
    for (int k = 0; k < 3; ++k) {
      int a = g->triangles_[t][k], b = g->triangles_[t][(k + 1) % 3];
      if (a > b) std::swap(a, b);
      edges[{a, b}].push_back(t);
    }
  g->tri_adj_.assign(nt, {});
  for (const auto& [e, ts] : edges)
    for (int i : ts)
      for (int j : ts)
        if (i != j) g->tri_adj_[i].push_back(j);

  // Skin mask: eyes, lips and nostrils exclude every triangle touching them; the brows only
  // triangles with two or more brow vertices (the brow band itself and the triangles sharing
  // an edge with it): the forehead mesh is coarse, and "touching" would cost half of it.
  std::vector<bool> excluded_vertex(kMeshLandmarks, false), brow_vertex(kMeshLandmarks, false);
  for (const Span& s : kExcludedContours)
    for (int i = 0; i < s.n; ++i) excluded_vertex[s.p[i]] = true;
  for (int i : kLeftBrow) excluded_vertex[i] = false, brow_vertex[i] = true;
  for (int i : kRightBrow) excluded_vertex[i] = false, brow_vertex[i] = true;

  // Region boundaries from the canonical face's own landmarks.
  const auto& V = canonical.vertices;
  float brow_y = 0;
  for (int i : kLeftBrow) brow_y += V[i][1];
  for (int i : kRightBrow) brow_y += V[i][1];
  brow_y /= static_cast<float>(std::size(kLeftBrow) + std::size(kRightBrow));
  const float chin_y = V[17][1];      // lower lip, bottom centre
  const float subnasale_y = V[2][1];  // nose bottom
  const float nose_half = 0.5f * std::abs(V[362][0] - V[133][0]);  // half the inner-eye gap
  const float left_sign = V[33][0] < V[263][0] ? -1.0f : 1.0f;       // the image's left

  g->tri_patch_.assign(nt, -1);
  g->tri_region_.assign(nt, FaceRegion::kForehead);
  std::map<std::pair<int, int>, int> patch_of_key;  // (region, uv cell) -> patch
  for (int t = 0; t < nt; ++t) {
    const auto& tr = g->triangles_[t];
    float cx = 0, cy = 0, u = 0, v = 0;
    for (int i : tr) cx += V[i][0] / 3, cy += V[i][1] / 3, u += canonical.uvs[i][0] / 3, v += canonical.uvs[i][1] / 3;
    FaceRegion r;
    if (cy > brow_y) r = FaceRegion::kForehead;
    else if (cy < chin_y) r = FaceRegion::kChin;
    else if (std::abs(cx) < nose_half && cy > subnasale_y) r = FaceRegion::kNose;
    else r = cx * left_sign > 0 ? FaceRegion::kLeftCheek : FaceRegion::kRightCheek;
    g->tri_region_[t] = r;
    if (excluded_vertex[tr[0]] || excluded_vertex[tr[1]] || excluded_vertex[tr[2]]) continue;
    if (brow_vertex[tr[0]] + brow_vertex[tr[1]] + brow_vertex[tr[2]] >= 2) continue;
    const int cu = std::clamp(static_cast<int>(u * kPatchGrid), 0, kPatchGrid - 1);
    const int cv = std::clamp(static_cast<int>(v * kPatchGrid), 0, kPatchGrid - 1);
    const std::pair<int, int> key{static_cast<int>(r), cv * kPatchGrid + cu};
    auto it = patch_of_key.find(key);
    if (it == patch_of_key.end()) {
      it = patch_of_key.emplace(key, static_cast<int>(g->patch_region_.size())).first;
      g->patch_region_.push_back(r);
    }
    g->tri_patch_[t] = it->second;
    ++g->num_skin_;
  }
  g->patch_adj_.assign(g->patch_region_.size(), {});
  for (int t = 0; t < nt; ++t) {
    const int p = g->tri_patch_[t];
    if (p < 0) continue;
    for (int n : g->tri_adj_[t]) {
      const int q = g->tri_patch_[n];
      if (q >= 0 && q != p &&
          std::find(g->patch_adj_[p].begin(), g->patch_adj_[p].end(), q) == g->patch_adj_[p].end())
        g->patch_adj_[p].push_back(q);
    }
  }
  return g;
}

void FaceSTGraph::SampleTriangles(const ImageView& frame,
                                  const std::vector<std::array<float, 3>>& lm,
                                  TriangleSamples* out) const {
  const size_t nt = triangles_.size();
  out->rgb.resize(nt);
  out->pixels.resize(nt);
  out->visibility.resize(nt);
  if (lm.size() < static_cast<size_t>(kMeshLandmarks) || frame.width <= 0 || frame.height <= 0) {
    std::fill(out->rgb.begin(), out->rgb.end(), std::array<float, 3>{0, 0, 0});
    std::fill(out->pixels.begin(), out->pixels.end(), 0);
    std::fill(out->visibility.begin(), out->visibility.end(), 0.0f);
    return;
  }
  static_assert(sizeof(std::array<float, 3>) == 3 * sizeof(float));
  for (size_t t = 0; t < nt; ++t)
    out->visibility[t] = stgraph_kernel::Visibility(lm[0].data(), triangles_[t].data());
  VisitPixelFormat(frame.format, [&]<PixelFormat F>() { RasteriseAll<F>(frame, triangles_, lm, out); });
}

void FaceSTGraph::AggregatePatches(const TriangleSamples& tri, PatchSamples* out) const {
  const size_t np = patch_region_.size();
  out->rgb.assign(np, {0, 0, 0});
  out->weight.assign(np, 0.0f);
  for (size_t t = 0; t < triangles_.size() && t < tri.pixels.size(); ++t) {
    const int p = tri_patch_[t];
    if (p < 0) continue;
    const float w = static_cast<float>(tri.pixels[t]) * tri.visibility[t];
    if (w <= 0) continue;
    for (int k = 0; k < 3; ++k) out->rgb[p][k] += w * tri.rgb[t][k];
    out->weight[p] += w;
  }
  for (size_t p = 0; p < np; ++p)
    if (out->weight[p] > 0)
      for (int k = 0; k < 3; ++k) out->rgb[p][k] /= out->weight[p];
}

}  // namespace fg
