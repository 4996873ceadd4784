// The MediaPipe canonical face model: 468 vertices (the topology FaceMesh outputs) with
// UVs, the triangle list over them, and the weighted landmark basis MediaPipe uses for its
// Procrustes pose fit. One loader serves tracking (head pose), vitals (the STGraph
// triangulation) and the avatar (the default mesh).
//
// Source: `geometry_pipeline_metadata_landmarks.binarypb` from the npm package
// @mediapipe/face_mesh@0.4.1657299874 (Apache-2.0), fetched and checksummed by
// tools/fetch-models. It is a serialized mediapipe.face_geometry.GeometryPipelineMetadata:
//   message GeometryPipelineMetadata {
//     optional Mesh3d canonical_mesh = 1;
//     repeated WeightedLandmarkRef procrustes_landmark_basis = 2;
//     optional InputSource input_source = 3; }
//   message Mesh3d { optional VertexType vertex_type = 1;      // 0 = VERTEX_PT (x,y,z,u,v)
//                    optional PrimitiveType primitive_type = 2; // 0 = TRIANGLE
//                    repeated float vertex_buffer = 3; repeated uint32 index_buffer = 4; }
//   message WeightedLandmarkRef { optional uint32 landmark_id = 1; optional float weight = 2; }
// It is read with the small protobuf wire-format reader below (packed and unpacked repeated
// fields both accepted), not libprotobuf: the schema is four messages.
//
// Units: canonical vertex positions are in centimetres, +y up, +z towards the viewer,
// origin near the head centre (MediaPipe's metric face space).
//
// Threading: immutable after load; share one instance between threads.
//
// Example:
//   std::string err;
//   auto face = fg::LoadCanonicalFace(dir + "/geometry_pipeline_metadata_landmarks.binarypb", &err);
//   if (!face) return err;  // names the file and what is wrong
//   for (auto [a, b, c] : face->triangles) ...
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fg {

struct CanonicalFace {
  std::vector<std::array<float, 3>> vertices;  // 468, centimetres
  std::vector<std::array<float, 2>> uvs;       // 468, texture coordinates in [0,1]
  std::vector<std::array<int, 3>> triangles;   // indices into vertices
  struct Weighted {
    int landmark;
    float weight;
  };
  std::vector<Weighted> procrustes_basis;  // landmarks (and weights) for the rigid fit
};

// Parses the serialized metadata. `name` is used in error messages (the file name).
std::optional<CanonicalFace> ParseCanonicalFace(std::string_view bytes, std::string_view name,
                                                std::string* error);
// Reads and parses a file; errors name the path.
std::optional<CanonicalFace> LoadCanonicalFace(const std::string& path, std::string* error);

// The file name in the model cache.
inline constexpr const char* kCanonicalFaceFile = "geometry_pipeline_metadata_landmarks.binarypb";

}  // namespace fg
