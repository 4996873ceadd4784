// faceavatar through GstHarness, on synthetic faces whose 468 landmarks are the canonical
// face projected into the frame (optionally deformed by the basis's own jawOpen target, so
// the mirror solver has something known to find): with no face the avatar panel is drawn
// (pip: only inside the panel) and holds still; a face that leaves makes the avatar ease
// back to exactly the neutral picture; two faces each get blendshapes and faces=all draws
// two avatars; an instruction that does not parse fails the state change naming the
// property, column and word; warp changes pixels only inside the face and draws the opened
// mouth unless mouth-interior=false; refine=false reads the landmarks alone while the
// default refinement reads the skin; a calibration file scales the mirrored weights; every
// property can change while frames stream; the blendshapes reach the metadata under ARKit
// names.
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/avatar/blendshapes.h"
#include "engine/avatar/mirror.h"
#include "engine/geometry/canonical_face.h"
#include "engine/render/gltf_avatar.h"
#include "engine/render/mouth.h"
#include "engine/render/warp.h"
#include "plugins/gstfacemeta.h"
#include "tests/plugins/face_frames.h"
#include "tests/plugins/gst_test_env.h"
#include "tests/render/gltf_writer.h"

namespace {

using fgtest::MakeFrame;
using fgtest::VideoCaps;

constexpr GstClockTime kFrame = GST_SECOND / 30;
constexpr int kW = 320, kH = 240;

std::string ModelsDir() {
  const char* env = std::getenv("FACEGRAPH_MODELS");
  return env ? env : FG_MODELS_DEFAULT_DIR;
}

class FaceAvatarTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string err;
    auto face = fg::LoadCanonicalFace(ModelsDir() + "/" + fg::kCanonicalFaceFile, &err);
    ASSERT_TRUE(face) << err;
    canonical_ = new fg::CanonicalFace(*face);
    auto basis = fg::BlendshapeBasis::Create(*face, &err);
    ASSERT_TRUE(basis) << err;
    basis_ = new fg::BlendshapeBasis(std::move(*basis));
  }
  static void TearDownTestSuite() {
    delete basis_;
    delete canonical_;
    basis_ = nullptr;
    canonical_ = nullptr;
  }
  void SetUp() override { fgtest::InitGstOnce(); }

  // A face: the canonical mesh (plus jaw * jawOpen) at (cx, cy), `scale` px per cm.
  static fg::Face SyntheticFace(int64_t id, float cx, float cy, float scale, float jaw = 0) {
    std::vector<float> w(basis_->size(), 0.f);
    w[basis_->Index("jawOpen")] = jaw;
    std::vector<std::array<float, 3>> mesh(basis_->vertex_count());
    basis_->Apply(w, mesh);
    fg::Face f;
    f.id = id;
    f.score = 1;
    float x0 = 1e9f, y0 = 1e9f, x1 = -1e9f, y1 = -1e9f;
    for (const auto& v : mesh) {
      f.landmarks.push_back({cx + scale * v[0], cy - scale * v[1], -scale * v[2]});
      x0 = std::min(x0, f.landmarks.back()[0]), x1 = std::max(x1, f.landmarks.back()[0]);
      y0 = std::min(y0, f.landmarks.back()[1]), y1 = std::max(y1, f.landmarks.back()[1]);
    }
    f.box = {x0, y0, x1 - x0, y1 - y0};
    return f;
  }

  // faceavatar with properties set before the harness starts it (values may hold spaces).
  static GstHarness* Harness(const std::vector<std::pair<std::string, std::string>>& props,
                             const fgtest::Rgb* picture = nullptr) {
    GstElement* e = gst_element_factory_make("faceavatar", nullptr);
    EXPECT_NE(e, nullptr);
    for (const auto& [k, v] : props) gst_util_set_object_arg(G_OBJECT(e), k.c_str(), v.c_str());
    GstHarness* h = gst_harness_new_with_element(e, "sink", "src");
    gst_object_unref(e);
    const int w = picture ? picture->w : kW, hh = picture ? picture->h : kH;
    gst_harness_set_src_caps_str(h, VideoCaps(GST_VIDEO_FORMAT_RGB, w, hh).c_str());
    return h;
  }

  // Pushes one frame (grey canvas or `picture`) with `faces`; returns the output buffer.
  static GstBuffer* Push(GstHarness* h, int index, const std::vector<fg::Face>& faces,
                         const fgtest::Rgb* picture = nullptr) {
    GstBuffer* b = MakeFrame(picture ? *picture : fgtest::Canvas(kW, kH, 90), GST_VIDEO_FORMAT_RGB,
                             0, index * kFrame);
    if (!faces.empty()) {
      GstFaceGraphMeta* m = gst_buffer_add_face_graph_meta(b);
      m->faces.pts_ns = index * kFrame;
      m->faces.faces = faces;
    }
    EXPECT_EQ(gst_harness_push(h, b), GST_FLOW_OK);
    GstBuffer* out = gst_harness_pull(h);
    EXPECT_NE(out, nullptr);
    return out;
  }

  // The mirrored jawOpen after 36 neutral frames (the per-track calibration) and 15 frames
  // of a face opening its jaw by 0.4: a synthetic face at (cx, cy), `scale` px per cm, over
  // the grey canvas or `picture`.
  static float JawAfterOpening(const std::vector<std::pair<std::string, std::string>>& props,
                               float cx, float cy, float scale,
                               const fgtest::Rgb* picture = nullptr) {
    GstHarness* h = Harness(props, picture);
    int i = 0;
    for (; i < 36; ++i)
      gst_buffer_unref(Push(h, i, {SyntheticFace(1, cx, cy, scale)}, picture));
    GstBuffer* last = nullptr;
    for (; i < 51; ++i) {
      if (last) gst_buffer_unref(last);
      last = Push(h, i, {SyntheticFace(1, cx, cy, scale, 0.4f)}, picture);
    }
    const GstFaceGraphMeta* meta = gst_buffer_get_face_graph_meta(last);
    const float jaw = meta && !meta->faces.faces.empty()
                          ? meta->faces.faces[0].blendshapes.at("jawOpen")
                          : -1.0f;
    gst_buffer_unref(last);
    gst_harness_teardown(h);
    return jaw;
  }

  // RGB bytes of a buffer (w x h, packed).
  static std::vector<uint8_t> Bytes(GstBuffer* b) {
    GstMapInfo map;
    gst_buffer_map(b, &map, GST_MAP_READ);
    std::vector<uint8_t> v(map.data, map.data + map.size);
    gst_buffer_unmap(b, &map);
    return v;
  }

  static fg::CanonicalFace* canonical_;
  static fg::BlendshapeBasis* basis_;
};

fg::CanonicalFace* FaceAvatarTest::canonical_ = nullptr;
fg::BlendshapeBasis* FaceAvatarTest::basis_ = nullptr;

// The pip panel of 320x240 at 0.3: 96x72 at x 218..313, y 4..75 (2% margins).
bool InPip(int x, int y) { return x >= 218 && x < 314 && y >= 4 && y < 76; }

TEST_F(FaceAvatarTest, NoFaceDrawsTheNeutralAvatarInThePanelOnly) {
  GstHarness* h = Harness({{"output", "pip"}});
  std::vector<uint8_t> prev;
  for (int i = 0; i < 3; ++i) {
    GstBuffer* out = Push(h, i, {});
    const std::vector<uint8_t> px = Bytes(out);
    int changed_in = 0;
    for (int y = 0; y < kH; ++y)
      for (int x = 0; x < kW; ++x) {
        const bool changed = px[(y * kW + x) * 3] != 90 || px[(y * kW + x) * 3 + 1] != 90 ||
                             px[(y * kW + x) * 3 + 2] != 90;
        if (!InPip(x, y)) {
          ASSERT_FALSE(changed) << "outside the panel at " << x << "," << y;
        }
        changed_in += changed;
      }
    EXPECT_EQ(changed_in, 96 * 72) << "the panel is opaque";
    if (i > 0) {
      EXPECT_EQ(px, prev) << "a still, neutral avatar does not move";
    }
    prev = px;
    gst_buffer_unref(out);
  }
  gst_harness_teardown(h);
}

TEST_F(FaceAvatarTest, FaceLeavesAndTheAvatarEasesBackToNeutral) {
  // The neutral picture, from an element that never saw a face.
  GstHarness* ref = Harness({{"output", "replace"}});
  GstBuffer* neutral_buf = Push(ref, 0, {});
  const std::vector<uint8_t> neutral = Bytes(neutral_buf);
  gst_buffer_unref(neutral_buf);
  gst_harness_teardown(ref);

  GstHarness* h = Harness({{"output", "replace"}, {"mode", "mirror"}});
  int i = 0;
  // 1.2 s of a neutral face (the solver's calibration is 1 s), then 0.5 s with the jaw open.
  for (; i < 36; ++i) gst_buffer_unref(Push(h, i, {SyntheticFace(1, 160, 120, 10)}));
  GstBuffer* last = nullptr;
  for (; i < 51; ++i) {
    if (last) gst_buffer_unref(last);
    last = Push(h, i, {SyntheticFace(1, 160, 120, 10, 1.0f)});
  }
  const GstFaceGraphMeta* meta = gst_buffer_get_face_graph_meta(last);
  ASSERT_NE(meta, nullptr);
  ASSERT_EQ(meta->faces.faces.size(), 1u);
  const auto& bs = meta->faces.faces[0].blendshapes;
  ASSERT_TRUE(bs.count("jawOpen"));
  EXPECT_GT(bs.at("jawOpen"), 0.5f) << "mirroring finds the open jaw";
  EXPECT_LT(bs.at("eyeBlinkLeft"), 0.2f);
  EXPECT_NE(Bytes(last), neutral) << "the avatar shows the open jaw";
  gst_buffer_unref(last);
  // The face leaves: the first frame without it is still between (easing), after 0.5 s the
  // picture is exactly the neutral one, and it holds.
  GstBuffer* first = Push(h, i++, {});
  EXPECT_NE(Bytes(first), neutral) << "no ease: the avatar snapped to neutral";
  gst_buffer_unref(first);
  for (int k = 0; k < 16; ++k) gst_buffer_unref(Push(h, i++, {}));
  for (int k = 0; k < 3; ++k) {
    GstBuffer* out = Push(h, i++, {});
    EXPECT_EQ(Bytes(out), neutral) << "frame " << k << " after the ease";
    gst_buffer_unref(out);
  }
  gst_harness_teardown(h);
}

TEST_F(FaceAvatarTest, TwoFacesEachGetBlendshapesAndAllDrawsTwoAvatars) {
  const std::vector<fg::Face> two = {SyntheticFace(4, 80, 120, 6), SyntheticFace(9, 240, 120, 6)};
  const std::array<uint8_t, 3> bg{24, 26, 32};  // FaceAvatarOptions::background
  auto is_bg = [&](const std::vector<uint8_t>& px, int x, int y) {
    return px[(y * kW + x) * 3] == bg[0] && px[(y * kW + x) * 3 + 1] == bg[1] &&
           px[(y * kW + x) * 3 + 2] == bg[2];
  };
  for (const char* faces : {"primary", "all"}) {
    GstHarness* h = Harness({{"output", "replace"}, {"mode", "instruction"},
                             {"instruction", "very happy"}, {"faces", faces}});
    GstBuffer* out = Push(h, 0, two);
    const GstFaceGraphMeta* meta = gst_buffer_get_face_graph_meta(out);
    ASSERT_NE(meta, nullptr);
    ASSERT_EQ(meta->faces.faces.size(), 2u);
    for (const fg::Face& f : meta->faces.faces) {
      ASSERT_TRUE(f.blendshapes.count("mouthSmileLeft")) << f.id;
      EXPECT_GT(f.blendshapes.at("mouthSmileLeft"), 0.5f) << "face " << f.id;
      EXPECT_EQ(f.blendshapes.size(), static_cast<size_t>(basis_->size() + fg::kMeasuredCount));
    }
    const std::vector<uint8_t> px = Bytes(out);
    if (std::string(faces) == "primary") {
      EXPECT_FALSE(is_bg(px, kW / 2, kH / 2)) << "one avatar in the middle";
    } else {
      EXPECT_TRUE(is_bg(px, kW / 2, kH / 2)) << "a gap between two avatars";
      EXPECT_FALSE(is_bg(px, kW / 4, kH / 2)) << "left avatar";
      EXPECT_FALSE(is_bg(px, 3 * kW / 4, kH / 2)) << "right avatar";
    }
    gst_buffer_unref(out);
    gst_harness_teardown(h);
  }
}

// Every format, every output, odd size, padded rows (GstVideoMeta): frames come out, the
// avatar draws something, and nothing outside the picture is touched (the padding keeps its
// bytes; AddressSanitizer in tools/test catches any write past a plane).
TEST_F(FaceAvatarTest, EveryFormatAndOutput) {
  const std::vector<GstVideoFormat> formats = {
      GST_VIDEO_FORMAT_RGB,   GST_VIDEO_FORMAT_BGR,  GST_VIDEO_FORMAT_RGBA, GST_VIDEO_FORMAT_BGRA,
      GST_VIDEO_FORMAT_GRAY8, GST_VIDEO_FORMAT_NV12, GST_VIDEO_FORMAT_I420};
  const int w = 161, h = 121;
  for (GstVideoFormat format : formats) {
    for (const char* output : {"replace", "side-by-side", "pip", "warp"}) {
      GstElement* e = gst_element_factory_make("faceavatar", nullptr);
      gst_util_set_object_arg(G_OBJECT(e), "output", output);
      gst_util_set_object_arg(G_OBJECT(e), "mode", "instruction");
      g_object_set(e, "instruction", "very surprised", nullptr);
      GstHarness* hs = gst_harness_new_with_element(e, "sink", "src");
      gst_object_unref(e);
      gst_harness_set_src_caps_str(hs, VideoCaps(format, w, h).c_str());
      const fgtest::Rgb pic = fgtest::Resize(fgtest::Astronaut(), w, h);
      GstBuffer* in = MakeFrame(pic, format, 13, 0);
      gst_buffer_add_face_graph_meta(in)->faces.faces.push_back(SyntheticFace(1, 70, 38, 3.5f));
      GstBuffer* before = gst_buffer_copy_deep(in);
      EXPECT_EQ(gst_harness_push(hs, in), GST_FLOW_OK);
      GstBuffer* out = gst_harness_pull(hs);
      ASSERT_NE(out, nullptr) << gst_video_format_to_string(format) << " " << output;
      // Padding bytes (13 per row) are where MakeFrame left them: compare whole buffers
      // outside the picture by mapping both with the meta's layout.
      GstVideoMeta* vm = gst_buffer_get_video_meta(out);
      ASSERT_NE(vm, nullptr);
      GstMapInfo a, b;
      gst_buffer_map(out, &a, GST_MAP_READ);
      gst_buffer_map(before, &b, GST_MAP_READ);
      ASSERT_EQ(a.size, b.size);
      bool drawn = false;
      for (guint p = 0; p < vm->n_planes; ++p) {
        GstVideoInfo info;
        gst_video_info_set_format(&info, format, w, h);
        const int comp = p == 0 ? 0 : static_cast<int>(p);  // plane p holds component p
        const int row = GST_VIDEO_INFO_COMP_WIDTH(&info, comp) * GST_VIDEO_INFO_COMP_PSTRIDE(&info, comp);
        const int rows = GST_VIDEO_INFO_COMP_HEIGHT(&info, comp);
        for (int y = 0; y < rows; ++y) {
          const size_t off = vm->offset[p] + static_cast<size_t>(y) * vm->stride[p];
          for (int x = 0; x < vm->stride[p]; ++x) {
            const bool differs = a.data[off + x] != b.data[off + x];
            if (x >= row) {
              ASSERT_FALSE(differs) << "padding written: plane " << p << " row " << y;
            }
            drawn |= differs;
          }
        }
      }
      EXPECT_TRUE(drawn) << gst_video_format_to_string(format) << " " << output;
      gst_buffer_unmap(out, &a);
      gst_buffer_unmap(before, &b);
      gst_buffer_unref(out);
      gst_buffer_unref(before);
      gst_harness_teardown(hs);
    }
  }
}

TEST_F(FaceAvatarTest, InstructionParseErrorNamesPropertyColumnAndWord) {
  GstElement* e = gst_element_factory_make("faceavatar", nullptr);
  g_object_set(e, "instruction", "neutral, then very hapy over 1 s", nullptr);
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(e, bus);
  EXPECT_EQ(gst_element_set_state(e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  const std::string errors = fgtest::DrainErrors(bus);
  EXPECT_NE(errors.find("instruction"), std::string::npos) << errors;
  EXPECT_NE(errors.find("column 20"), std::string::npos) << errors;
  EXPECT_NE(errors.find("hapy"), std::string::npos) << errors;
  gst_element_set_state(e, GST_STATE_NULL);
  gst_element_set_bus(e, nullptr);
  gst_object_unref(bus);
  gst_object_unref(e);
}

// A glTF avatar (written by the tests' own writer): a 5x5 grid with a jawOpen target that
// lowers its bottom row and a target without an ARKit name. It loads, ONE warning names both
// the basis targets it lacks and the unknown target, and the instruction's jawOpen changes
// the picture.
TEST_F(FaceAvatarTest, GltfAvatarLoadsWarnsOnceAndAnimates) {
  if (!fg::render::GltfSupported()) GTEST_SKIP() << "built without libtinygltf";
  fgtest::GltfMesh m;
  for (int j = 0; j < 5; ++j)
    for (int i = 0; i < 5; ++i) m.positions.push_back({i - 2.f, 2.f - j, 0.f});
  for (int j = 0; j < 4; ++j)
    for (int i = 0; i < 4; ++i) {
      const int a = j * 5 + i;
      m.triangles.push_back({a, a + 5, a + 1});
      m.triangles.push_back({a + 1, a + 5, a + 6});
    }
  fgtest::GltfTarget jaw{"jawOpen", std::vector<std::array<float, 3>>(25, {0, 0, 0})};
  for (int i = 20; i < 25; ++i) jaw.deltas[i] = {0, -1.5f, 0};
  m.targets = {jaw, {"wobble", std::vector<std::array<float, 3>>(25, {0.1f, 0, 0})}};
  const fgtest::TempDir dir;
  const std::string path = dir.path() + "/grid.glb";
  ASSERT_EQ(fgtest::WriteGltf(path, m, true), "");

  auto render = [&](const char* instruction, std::string* warnings) {
    GstElement* e = gst_element_factory_make("faceavatar", nullptr);
    g_object_set(e, "avatar", path.c_str(), "instruction", instruction, nullptr);
    gst_util_set_object_arg(G_OBJECT(e), "output", "replace");
    gst_util_set_object_arg(G_OBJECT(e), "mode", "instruction");
    GstBus* bus = gst_bus_new();
    gst_element_set_bus(e, bus);
    GstHarness* h = gst_harness_new_with_element(e, "sink", "src");
    gst_harness_set_src_caps_str(h, VideoCaps(GST_VIDEO_FORMAT_RGB, kW, kH).c_str());
    GstBuffer* out = Push(h, 0, {});
    std::vector<uint8_t> px = Bytes(out);
    gst_buffer_unref(out);
    int count = 0;
    while (GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING)) {
      GError* err = nullptr;
      gst_message_parse_warning(msg, &err, nullptr);
      *warnings += err->message;
      ++count;
      g_error_free(err);
      gst_message_unref(msg);
    }
    EXPECT_EQ(count, 1) << *warnings;
    gst_harness_teardown(h);
    gst_element_set_bus(e, nullptr);
    gst_object_unref(bus);
    gst_object_unref(e);
    return px;
  };
  std::string warnings;
  const std::vector<uint8_t> closed = render("neutral", &warnings);
  EXPECT_NE(warnings.find("avatar"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("eyeBlinkLeft"), std::string::npos) << "a lacking basis target: " << warnings;
  EXPECT_NE(warnings.find("wobble"), std::string::npos) << warnings;
  EXPECT_EQ(warnings.find("jawOpen,"), std::string::npos) << "jawOpen is present: " << warnings;
  std::string ignored;
  const std::vector<uint8_t> open = render("jawOpen 1", &ignored);
  EXPECT_NE(closed, open) << "the jawOpen target did not move the avatar";
}

// A file property naming a missing file: the change to PAUSED fails and the bus ERROR names
// the property and the file.
void ExpectMissingFileFailsNamingIt(const char* property, const char* path) {
  GstElement* e = gst_element_factory_make("faceavatar", nullptr);
  g_object_set(e, property, path, nullptr);
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(e, bus);
  EXPECT_EQ(gst_element_set_state(e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE) << property;
  const std::string errors = fgtest::DrainErrors(bus);
  EXPECT_NE(errors.find(property), std::string::npos) << errors;
  EXPECT_NE(errors.find(path), std::string::npos) << errors;
  gst_element_set_state(e, GST_STATE_NULL);
  gst_element_set_bus(e, nullptr);
  gst_object_unref(bus);
  gst_object_unref(e);
}

TEST_F(FaceAvatarTest, MissingAvatarFileFailsNamingIt) {
  ExpectMissingFileFailsNamingIt("avatar", "/nonexistent/face.glb");
}

// calibration: a tracker-response file (engine/avatar/mirror.h step 5) replaces the basis
// deltas it names. Here jawOpen's "response" is half its geometric delta, so a jaw opened
// by 0.4 of the delta reads 0.8 calibrated and 0.4 without. A missing file fails the
// change to PAUSED naming the property and the file.
TEST_F(FaceAvatarTest, CalibrationFileScalesTheMirroredWeights) {
  fg::ResponseBasis r;
  r.names = {"jawOpen"};
  r.deltas = {basis_->Delta(basis_->Index("jawOpen"))};
  for (auto& p : r.deltas[0])
    for (float& x : p) x *= 0.5f;
  r.provenance = "test: half the geometric jawOpen";
  const std::string path = ::testing::TempDir() + "/faceavatar_half_jaw.fgrb";
  std::string err;
  ASSERT_TRUE(fg::SaveResponseBasis(r, path, &err)) << err;
  auto jaw_after = [&](const char* calibration) {
    return JawAfterOpening({{"output", "pip"}, {"calibration", calibration}}, 160, 120, 10);
  };
  EXPECT_NEAR(jaw_after(""), 0.4f, 0.05f);
  EXPECT_NEAR(jaw_after(path.c_str()), 0.8f, 0.08f);

  ExpectMissingFileFailsNamingIt("calibration", "/nonexistent/subject.fgrb");
}

// refine: the mirror's appearance refinement reads the skin, not only the landmarks. The
// astronaut's picture stays still while the synthetic mesh over her face opens its jaw by
// 0.4: from the landmarks alone (refine=false) the mirror reads 0.4; with the refinement
// (the default) the texture under the mesh says the skin did not move, which pulls the
// estimate down.
TEST_F(FaceAvatarTest, RefineOffReadsTheLandmarksAlone) {
  const fgtest::Rgb& photo = fgtest::Astronaut();
  auto jaw_after = [&](const char* refine) {
    return JawAfterOpening({{"output", "pip"}, {"refine", refine}}, 225, 125, 11, &photo);
  };
  const float plain = jaw_after("false"), refined = jaw_after("true");
  std::printf("jawOpen read: refine=false %.3f, refine=true %.3f (mesh 0.4, picture still)\n",
              plain, refined);
  EXPECT_NEAR(plain, 0.4f, 0.05f);
  EXPECT_LT(refined, plain - 0.1f) << "the refinement must see that the skin did not move";
  EXPECT_GE(refined, 0.0f);
}

// Warp: the astronaut with a synthetic mesh over her face, made surprised by an instruction:
// pixels change, and only within the face and its skirt (engine/render/warp.h: the band
// out to a ring at kWarpSkirtScale times the face oval's distance from its centre, where
// the displacement has faded to zero).
TEST_F(FaceAvatarTest, WarpChangesPixelsOnlyInsideTheFace) {
  const fgtest::Rgb& photo = fgtest::Astronaut();
  GstHarness* h = Harness({{"output", "warp"}, {"mode", "instruction"},
                           {"instruction", "very surprised"}},
                          &photo);
  const fg::Face face = SyntheticFace(1, 225, 125, 11);
  GstBuffer* out = Push(h, 0, {face}, &photo);
  const std::vector<uint8_t> px = Bytes(out);
  // The face's box scaled about its centre by the skirt's ring (plus 0.05 for the oval's
  // centre not being the box's), grown by the largest displacement of the expression (the
  // brows rise and the jaw drops by up to ~2 cm at 11 px/cm) and 1 px.
  const float grow = 0.5f * (fg::render::kWarpSkirtScale + 0.05f - 1.0f);
  const float x0 = face.box.x - grow * face.box.w - 1;
  const float x1 = face.box.x + face.box.w + grow * face.box.w + 1;
  const float y0 = face.box.y - grow * face.box.h - 25;
  const float y1 = face.box.y + face.box.h + grow * face.box.h + 25;
  int inside = 0;
  for (int y = 0; y < photo.h; ++y)
    for (int x = 0; x < photo.w; ++x) {
      bool changed = false;
      for (int k = 0; k < 3; ++k) changed |= px[(y * photo.w + x) * 3 + k] != photo.px[(y * photo.w + x) * 3 + k];
      if (!changed) continue;
      ASSERT_TRUE(x >= x0 && x <= x1 && y >= y0 && y <= y1) << "changed outside the face at " << x << "," << y;
      ++inside;
    }
  EXPECT_GT(inside, 500) << "the expression moved pixels";
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}

// mouth-interior: "very surprised" drops the jaw; with the interior (the default) the
// opened mouth shows the dark cavity colour, with mouth-interior=false the plain warp
// stretches the photo there (no cavity-coloured pixel at all).
TEST_F(FaceAvatarTest, WarpDrawsTheOpenedMouthUnlessMouthInteriorIsOff) {
  const fgtest::Rgb& photo = fgtest::Astronaut();
  auto cavity_pixels = [&](const char* interior) {
    GstHarness* h = Harness({{"output", "warp"}, {"mode", "instruction"},
                             {"instruction", "very surprised"}, {"mouth-interior", interior}},
                            &photo);
    GstBuffer* out = Push(h, 0, {SyntheticFace(1, 225, 125, 11)}, &photo);
    const std::vector<uint8_t> px = Bytes(out);
    gst_buffer_unref(out);
    gst_harness_teardown(h);
    int n = 0;
    for (size_t i = 0; i + 2 < px.size(); i += 3)
      n += px[i] == fg::render::kMouthCavity[0] && px[i + 1] == fg::render::kMouthCavity[1] &&
           px[i + 2] == fg::render::kMouthCavity[2];
    return n;
  };
  const int with = cavity_pixels("true"), without = cavity_pixels("false");
  std::printf("cavity-coloured pixels: mouth-interior=true %d, false %d\n", with, without);
  EXPECT_GT(with, 50);
  EXPECT_EQ(without, 0);
}

// Every property changed from another thread while frames stream (the streaming thread
// applies them on the next frame): every frame comes out with its face's blendshapes, no
// crash (AddressSanitizer in tools/test), and the last values hold once streaming settles.
TEST_F(FaceAvatarTest, PropertiesChangedWhileStreaming) {
  const fgtest::Rgb& photo = fgtest::Astronaut();
  GstHarness* h = Harness({}, &photo);
  static const char* const kOutputs[] = {"pip", "side-by-side", "replace", "warp"};
  static const char* const kInstructions[] = {"", "very happy", "neutral, then surprised over 0.1 s",
                                              "slightly sad, hold 1 s, then angry over 0.2 s"};
  std::atomic<bool> done{false};
  std::atomic<int> changes{0};
  std::thread changer([&] {
    for (int i = 0; i < 80; ++i) {
      GstElement* e = h->element;
      gst_util_set_object_arg(G_OBJECT(e), "output", kOutputs[i % 4]);
      gst_util_set_object_arg(G_OBJECT(e), "mode", i % 3 == 0 ? "instruction" : "mirror");
      gst_util_set_object_arg(G_OBJECT(e), "shading", i % 2 ? "flat" : "lit");
      gst_util_set_object_arg(G_OBJECT(e), "faces", i % 5 == 0 ? "all" : "primary");
      g_object_set(e, "instruction", kInstructions[i % 4], "pip-size", 0.2 + 0.01 * (i % 50),
                   "refine", i % 2 == 0, "mouth-interior", i % 3 != 1, nullptr);
      ++changes;
      g_usleep(1000);
    }
    done = true;
  });
  int frames = 0;
  while (!done || frames < 5) {
    GstBuffer* out = Push(h, frames, {SyntheticFace(1, 225, 125, 11, 0.1f * (frames % 5))}, &photo);
    const GstFaceGraphMeta* meta = gst_buffer_get_face_graph_meta(out);
    ASSERT_NE(meta, nullptr);
    ASSERT_EQ(meta->faces.faces.size(), 1u);
    EXPECT_EQ(meta->faces.faces[0].blendshapes.size(),
              static_cast<size_t>(basis_->size() + fg::kMeasuredCount));
    gst_buffer_unref(out);
    ++frames;
  }
  changer.join();
  EXPECT_EQ(changes, 80);
  // Settled: an instruction alone, very happy, shows on the next frame.
  g_object_set(h->element, "instruction", "very happy", nullptr);
  gst_util_set_object_arg(G_OBJECT(h->element), "mode", "instruction");
  GstBuffer* out = Push(h, frames, {SyntheticFace(1, 225, 125, 11)}, &photo);
  const GstFaceGraphMeta* meta = gst_buffer_get_face_graph_meta(out);
  ASSERT_NE(meta, nullptr);
  ASSERT_EQ(meta->faces.faces.size(), 1u);
  EXPECT_GT(meta->faces.faces[0].blendshapes.at("mouthSmileLeft"), 0.5f);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}

}  // namespace
