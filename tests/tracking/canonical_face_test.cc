// The canonical face loader on the real pinned file, and on damaged copies of it.
#include "engine/geometry/canonical_face.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <Eigen/Core>
#include <Eigen/Geometry>

namespace fg {
namespace {

std::string ModelsDir() {
  const char* env = std::getenv("FACEGRAPH_MODELS");
  return env ? env : FG_MODELS_DEFAULT_DIR;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class CanonicalFaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ModelsDir() + "/" + kCanonicalFaceFile;
    std::string err;
    auto f = LoadCanonicalFace(path_, &err);
    ASSERT_TRUE(f.has_value()) << err;
    face_ = std::move(*f);
  }
  std::string path_;
  CanonicalFace face_;
};

// MediaPipe's canonical_face_model.obj has 468 vertices and 898 triangles.
TEST_F(CanonicalFaceTest, HasTheFaceMeshTopology) {
  EXPECT_EQ(face_.vertices.size(), 468u);
  EXPECT_EQ(face_.uvs.size(), 468u);
  EXPECT_EQ(face_.triangles.size(), 898u);
  EXPECT_GE(face_.procrustes_basis.size(), 20u);
  for (const auto& uv : face_.uvs) {
    EXPECT_GE(uv[0], 0.0f);
    EXPECT_LE(uv[0], 1.0f);
    EXPECT_GE(uv[1], 0.0f);
    EXPECT_LE(uv[1], 1.0f);
  }
}

// Anatomy, from FaceMesh's published landmark map: 4 nose tip, 152 chin, 10 forehead top,
// 33 / 263 outer eye corners (subject's right / left).
TEST_F(CanonicalFaceTest, LandmarksAreWhereTheAnatomySaysAndMirrorSymmetric) {
  const auto& v = face_.vertices;
  float max_z = -1e9f, min_y = 1e9f, max_y = -1e9f;
  for (const auto& p : v) {
    max_z = std::max(max_z, p[2]);
    min_y = std::min(min_y, p[1]);
    max_y = std::max(max_y, p[1]);
  }
  EXPECT_FLOAT_EQ(v[4][2], max_z) << "nose tip is the point nearest the viewer";
  EXPECT_FLOAT_EQ(v[152][1], min_y) << "chin is lowest";
  EXPECT_FLOAT_EQ(v[10][1], max_y) << "forehead top is highest";
  EXPECT_LT(v[33][0], 0.0f);
  EXPECT_FLOAT_EQ(v[33][0], -v[263][0]);
  EXPECT_FLOAT_EQ(v[33][1], v[263][1]);
  // Inter-ocular distance of an adult face is roughly 8-10 cm (outer corners): units are cm.
  const float iod = v[263][0] - v[33][0];
  EXPECT_GT(iod, 7.0f);
  EXPECT_LT(iod, 11.0f);
}

// Every edge borders at most two triangles, and winding is consistent: the triangles seen
// from the front (+z) mostly face the viewer, which vitals' visibility test relies on.
TEST_F(CanonicalFaceTest, MeshIsManifoldWithConsistentWinding) {
  std::map<std::pair<int, int>, int> edges;
  int facing = 0;
  for (const auto& t : face_.triangles) {
    for (int k = 0; k < 3; ++k) {
      int a = t[k], b = t[(k + 1) % 3];
      ++edges[{std::min(a, b), std::max(a, b)}];
    }
    Eigen::Vector3f p0(face_.vertices[t[0]].data()), p1(face_.vertices[t[1]].data()),
        p2(face_.vertices[t[2]].data());
    if ((p1 - p0).cross(p2 - p0).z() > 0) ++facing;
  }
  for (const auto& [e, n] : edges) EXPECT_LE(n, 2) << "edge " << e.first << "-" << e.second;
  EXPECT_GT(facing, static_cast<int>(0.9 * face_.triangles.size()))
      << "triangles are wound counter-clockwise seen from +z";
}

TEST_F(CanonicalFaceTest, DamagedFilesGiveErrorsNamingTheFile) {
  const std::string bytes = ReadAll(path_);
  ASSERT_GT(bytes.size(), 1000u);
  for (size_t cut : {size_t{1}, size_t{3}, size_t{100}, bytes.size() / 2, bytes.size() - 1}) {
    std::string err;
    auto f = ParseCanonicalFace(std::string_view(bytes).substr(0, cut), "damaged.binarypb", &err);
    EXPECT_FALSE(f.has_value()) << "truncated at " << cut;
    EXPECT_NE(err.find("damaged.binarypb"), std::string::npos) << err;
  }
  std::string err;
  EXPECT_FALSE(LoadCanonicalFace("/nonexistent/x.binarypb", &err).has_value());
  EXPECT_NE(err.find("/nonexistent/x.binarypb"), std::string::npos) << err;
  EXPECT_NE(err.find("fetch-models"), std::string::npos) << err;
  // Garbage: every byte pattern must fail cleanly or parse, never crash.
  std::string junk(4096, '\0');
  uint32_t s = 12345;
  for (char& c : junk) {
    s ^= s << 13, s ^= s >> 17, s ^= s << 5;
    c = static_cast<char>(s);
  }
  (void)ParseCanonicalFace(junk, "junk", &err);
}

}  // namespace
}  // namespace fg
