// StgraphSampler: FaceSTGraph::SampleTriangles for every face of a frame in one CUDA launch.
//
//   frame (host or device memory) ──► device copy of the planes (host frames only)
//   landmarks of N faces ──► one packed N x 468 x 3 upload
//        └──► kernel: one warp per (face, triangle), lanes over the triangle's bounding box,
//             warp sum of integer R, G, B and pixel count, sub-pixel fallback, visibility
//        ──► one download ──► N TriangleSamples (the CPU sampler's layout)
//
// The per-thread arithmetic is engine/vitals/stgraph_kernel.h, the very code the CPU sampler
// runs (FG_HD), compiled here without FMA contraction: pixel counts and visibility are those
// of FaceSTGraph::SampleTriangles and the means agree to float rounding (tests/cuda). The
// canonical triangulation is uploaded once by Create; buffers only grow (a frame with more
// faces or a larger frame than any before allocates, every other frame does not).
//
// Threading: thread-compatible: one sampler per stream (it owns a CUDA stream and buffers);
// Sample() blocks until the results are on the host.
//
// Example:
//   std::string err;
//   auto s = fg::cuda::StgraphSampler::Create(graph->triangles(), 4, &err);  // null: err says why
//   std::vector<fg::TriangleSamples> out;
//   if (!s->Sample(view, {face0.landmarks, face1.landmarks}, &out, &err)) return err;
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "engine/image.h"
#include "engine/vitals/stgraph.h"

namespace fg::cuda {

class StgraphSampler {
 public:
  using Landmarks = std::vector<std::array<float, 3>>;

  // CUDA devices visible to this process; 0 with `*why` set (the runtime's words) when there
  // is none or no usable driver.
  static int DeviceCount(std::string* why);

  // Uploads the triangulation (indices into the 468 mesh landmarks) and reserves room for
  // `max_faces` faces. Null with `*error` naming the bad input or the failing CUDA call.
  static std::unique_ptr<StgraphSampler> Create(const std::vector<std::array<int, 3>>& triangles,
                                                int max_faces, std::string* error);
  ~StgraphSampler();
  StgraphSampler(const StgraphSampler&) = delete;
  StgraphSampler& operator=(const StgraphSampler&) = delete;

  int num_triangles() const;

  // Samples every face of `frame` (planes in host memory) in one launch. out->size() becomes
  // faces.size(); a face with fewer than 468 landmarks, or an empty frame, gets all zeros (as
  // on the CPU). False with `*error` naming the failing CUDA call.
  bool Sample(const ImageView& frame, const std::vector<Landmarks>& faces,
              std::vector<TriangleSamples>* out, std::string* error);
  // The same for a frame whose planes are already in device memory (strides as given).
  bool SampleDeviceFrame(const ImageView& device_frame, const std::vector<Landmarks>& faces,
                         std::vector<TriangleSamples>* out, std::string* error);

 private:
  struct Impl;
  explicit StgraphSampler(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fg::cuda
