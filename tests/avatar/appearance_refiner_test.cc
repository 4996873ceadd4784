// AppearanceRefiner (engine/avatar/appearance_refiner.h) on the astronaut photo: the mesh is
// her own (ExpressionTrack's FaceTracker fit, real models) and held still while the picture
// changes, so every answer below is the texture alone. Truths come from how the picture was
// made (a whole-pixel shift, the warp's known blendshape delta, a painted block), never from
// the refiner.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "engine/avatar/appearance_refiner.h"
#include "engine/avatar/mirror.h"
#include "engine/synth/expression_track.h"
#include "tests/alloc_counter.h"
#include "tests/avatar/avatar_test_util.h"
#include "tests/nn/nn_test_util.h"

namespace fg {
namespace {

namespace nt = nn::testing;
using avatar_testing::Basis;
using avatar_testing::Canonical;

struct Fixture {
  int w = 0, h = 0;
  std::vector<uint8_t> rgb;
  std::unique_ptr<ExpressionTrack> track;
  ImageView View(const std::vector<uint8_t>& p) const {
    ImageView v;
    EXPECT_FALSE(ImageView::Wrap(PixelFormat::kRGB, w, h, {p.data()}, {3 * w}, &v));
    return v;
  }
  std::vector<uint8_t> Warped(const char* target, float weight) const {
    std::vector<float> wv(Basis().size(), 0.0f);
    wv[Basis().Index(target)] = weight;
    std::vector<uint8_t> out = rgb;
    draw::MutableImageView dst;
    EXPECT_FALSE(draw::MutableImageView::Wrap(PixelFormat::kRGB, w, h, {out.data()}, {3 * w}, &dst));
    EXPECT_TRUE(track->Render(View(rgb), wv, dst));
    return out;
  }
};

const Fixture& Astronaut() {
  static const Fixture f = [] {
    Fixture r;
    std::string err;
    EXPECT_TRUE(nt::DecodePngRgb(FG_ASTRONAUT, &r.w, &r.h, &r.rgb, &err)) << err;
    ExpressionTrackOptions o;
    o.models_dir = nt::ModelsDir();
    o.backend = "xnnpack";
    ImageView v;
    EXPECT_FALSE(ImageView::Wrap(PixelFormat::kRGB, r.w, r.h, {r.rgb.data()}, {3 * r.w}, &v));
    r.track = ExpressionTrack::Create(v, o, &err);
    EXPECT_TRUE(r.track) << err;
    return r;
  }();
  return f;
}

// The mirror's normalised points for the held mesh (what Refine moves).
std::vector<std::array<float, 3>> Normalised(const Fixture& a) {
  MirrorSolver m(Canonical(), Basis());
  std::vector<std::array<float, 3>> pts(kMeshLandmarks);
  EXPECT_TRUE(m.Normalise(a.track->neutral(), a.w, a.h, pts, nullptr, nullptr));
  return pts;
}

// The template from the unwarped photo under her own mesh (one neutral frame).
bool Learn(const AppearanceRefiner& ref, AppearanceRefiner::State& st, const Fixture& a) {
  return ref.AddNeutral(st, a.View(a.rgb), a.track->neutral()) && ref.Finish(st);
}

int MovingIndex(const AppearanceRefiner& r, int vertex) {
  const auto& mv = r.moving();
  const auto it = std::find(mv.begin(), mv.end(), vertex);
  return it == mv.end() ? -1 : static_cast<int>(it - mv.begin());
}

TEST(AppearanceRefiner, TheNeutralPictureHasNoFlow) {
  const Fixture& a = Astronaut();
  ASSERT_TRUE(a.track);
  AppearanceRefiner ref(Canonical(), Basis());
  EXPECT_GT(ref.moving().size(), 300u);  // the expressive vertices (353 of 468)
  auto st = ref.NewTrack();
  ASSERT_TRUE(ref.AddNeutral(st, a.View(a.rgb), a.track->neutral()));
  ASSERT_TRUE(ref.Finish(st));
  auto pts = Normalised(a);
  const auto before = pts;
  const int moved = ref.Refine(st, a.View(a.rgb), a.track->neutral(),
                               Eigen::Matrix3f::Identity(), pts);
  EXPECT_GT(moved, 300);
  float worst_flow = 0, worst_move = 0;
  for (size_t m = 0; m < ref.moving().size(); ++m)
    worst_flow = std::max(worst_flow, std::hypot(st.flow[m][0], st.flow[m][1]));
  for (int v = 0; v < kMeshLandmarks; ++v)
    for (int c = 0; c < 3; ++c) worst_move = std::max(worst_move, std::abs(pts[v][c] - before[v][c]));
  EXPECT_LT(worst_flow, 0.02f);  // texels: the same picture through the same mesh
  EXPECT_LT(worst_move, 0.005f);  // cm
}

// The picture moved under a still mesh by whole pixels: every textured window must find
// the shift, converted to texels (texels_per_cm / the photo's px per cm).
TEST(AppearanceRefiner, AShiftedPictureIsFoundUnderAStillMesh) {
  const Fixture& a = Astronaut();
  ASSERT_TRUE(a.track);
  AppearanceRefiner ref(Canonical(), Basis());
  auto st = ref.NewTrack();
  ASSERT_TRUE(Learn(ref, st, a));
  const int sx = 2, sy = -1;  // px: right and up
  std::vector<uint8_t> moved(a.rgb.size(), 0);
  for (int y = 0; y < a.h; ++y)
    for (int x = 0; x < a.w; ++x)
      if (x - sx >= 0 && x - sx < a.w && y - sy >= 0 && y - sy < a.h)
        std::memcpy(&moved[(y * a.w + x) * 3], &a.rgb[((y - sy) * a.w + x - sx) * 3], 3);
  auto pts = Normalised(a);
  ref.Refine(st, a.View(moved), a.track->neutral(), Eigen::Matrix3f::Identity(), pts);
  // The neutral texel under the mesh's texel u now shows at u - shift; the material of a
  // vertex is found at +shift in texels (y down on both). The photo is nearly frontal and
  // unrolled, so the texel axes are the image axes up to the fit's few degrees.
  const float tpp = ref.options().texels_per_cm / a.track->fit().scale;  // texels per px
  std::vector<float> fx, fy;
  for (size_t m = 0; m < ref.moving().size(); ++m)
    if (st.used[m]) fx.push_back(st.flow[m][0]), fy.push_back(st.flow[m][1]);
  ASSERT_GT(fx.size(), 250u);
  std::nth_element(fx.begin(), fx.begin() + fx.size() / 2, fx.end());
  std::nth_element(fy.begin(), fy.begin() + fy.size() / 2, fy.end());
  // Median flow within 15% of the shift (measured within 5%).
  EXPECT_NEAR(fx[fx.size() / 2], sx * tpp, 0.15f * std::hypot(sx, sy) * tpp);
  EXPECT_NEAR(fy[fy.size() / 2], sy * tpp, 0.15f * std::hypot(sx, sy) * tpp);
}

// A raised inner brow (the warp moves the brow by the known basis delta) under the held
// neutral mesh: the inner-brow vertices come out raised by most of that delta (the window
// also sees the skin below the brow, which the gated target moves less), the chin stays.
TEST(AppearanceRefiner, ARaisedBrowIsReadFromTheTexture) {
  const Fixture& a = Astronaut();
  ASSERT_TRUE(a.track);
  AppearanceRefiner ref(Canonical(), Basis());
  auto st = ref.NewTrack();
  ASSERT_TRUE(Learn(ref, st, a));
  const std::vector<uint8_t> warped = a.Warped("browInnerUp", 0.8f);
  auto pts = Normalised(a);
  const auto before = pts;
  ref.Refine(st, a.View(warped), a.track->neutral(), Eigen::Matrix3f::Identity(), pts);
  const int k = Basis().Index("browInnerUp");
  for (int v : {107, 336}) {  // inner brows, right and left
    const float want = 0.8f * Basis().Delta(k)[v][1];  // cm, up
    const float got = pts[v][1] - before[v][1];
    ASSERT_GE(MovingIndex(ref, v), 0);
    EXPECT_TRUE(st.used[MovingIndex(ref, v)]) << v;
    // Measured 0.7-0.75 of the delta.
    EXPECT_GE(got, 0.5f * want) << "vertex " << v;
    EXPECT_LE(got, 1.2f * want) << "vertex " << v;
    EXPECT_LT(std::abs(pts[v][0] - before[v][0]), 0.3f * want) << "vertex " << v << " sideways";
  }
  for (int v : {152, 17}) {  // chin and lower lip: no target of this warp reaches them
    EXPECT_LT(std::abs(pts[v][1] - before[v][1]), 0.05f) << v;
  }
}

// A painted block over the mouth: the windows there no longer match their neutral
// texture (residual above max_residual) and keep the tracker's points; the brows refine.
TEST(AppearanceRefiner, AnOccludedWindowKeepsTheTrackersPoint) {
  const Fixture& a = Astronaut();
  ASSERT_TRUE(a.track);
  AppearanceRefiner ref(Canonical(), Basis());
  auto st = ref.NewTrack();
  ASSERT_TRUE(Learn(ref, st, a));
  std::vector<uint8_t> blocked = a.rgb;
  const auto& l = a.track->neutral()[61];
  const auto& r = a.track->neutral()[291];
  const int x0 = static_cast<int>(l[0]) - 12, x1 = static_cast<int>(r[0]) + 12;
  const int yc = static_cast<int>(0.5f * (l[1] + r[1]));
  for (int y = yc - 14; y <= yc + 14; ++y)
    for (int x = x0; x <= x1; ++x)
      for (int c = 0; c < 3; ++c) blocked[(y * a.w + x) * 3 + c] = c == 1 ? 200 : 30;
  auto pts = Normalised(a);
  const auto before = pts;
  ref.Refine(st, a.View(blocked), a.track->neutral(), Eigen::Matrix3f::Identity(), pts);
  for (int v : {61, 291, 13, 14}) {
    ASSERT_GE(MovingIndex(ref, v), 0);
    EXPECT_FALSE(st.used[MovingIndex(ref, v)]) << "vertex " << v << " under the block";
    EXPECT_EQ(pts[v], before[v]) << v;
  }
  for (int v : {107, 336}) EXPECT_TRUE(st.used[MovingIndex(ref, v)]) << v;
}

// A face turned away: vertices whose normal leaves the camera are not refined.
TEST(AppearanceRefiner, VerticesFacingAwayAreSkipped) {
  const Fixture& a = Astronaut();
  ASSERT_TRUE(a.track);
  AppearanceRefiner ref(Canonical(), Basis());
  auto st = ref.NewTrack();
  ASSERT_TRUE(Learn(ref, st, a));
  auto pts = Normalised(a);
  const int frontal = ref.Refine(st, a.View(a.rgb), a.track->neutral(),
                                 Eigen::Matrix3f::Identity(), pts);
  // 180 degrees about y: every normal points away.
  Eigen::Matrix3f back = Eigen::Matrix3f::Identity();
  back(0, 0) = back(2, 2) = -1;
  EXPECT_EQ(ref.Refine(st, a.View(a.rgb), a.track->neutral(), back, pts), 0);
  EXPECT_GT(frontal, 300);
}

TEST(AppearanceRefiner, NothingBeforeTheTemplateAndNoAllocationAfter) {
  const Fixture& a = Astronaut();
  ASSERT_TRUE(a.track);
  AppearanceRefiner ref(Canonical(), Basis());
  auto st = ref.NewTrack();
  auto pts = Normalised(a);
  const auto before = pts;
  EXPECT_FALSE(ref.Finish(st));  // no neutral frame yet
  EXPECT_EQ(ref.Refine(st, a.View(a.rgb), a.track->neutral(), Eigen::Matrix3f::Identity(), pts), 0);
  EXPECT_EQ(pts, before);
  EXPECT_FALSE(ref.AddNeutral(st, a.View(a.rgb), std::vector<std::array<float, 3>>(10)));
  ASSERT_TRUE(ref.AddNeutral(st, a.View(a.rgb), a.track->neutral()));
  ASSERT_TRUE(ref.Finish(st));
  const std::vector<uint8_t> warped = a.Warped("jawOpen", 0.5f);
  const ImageView wv = a.View(warped);
  {
    fg::testing::AllocationCount count;
    for (int i = 0; i < 3; ++i)
      ref.Refine(st, wv, a.track->neutral(), Eigen::Matrix3f::Identity(), pts);
    EXPECT_EQ(count.Stop(), 0);
  }
  // Too short a mesh, or one with a NaN: refused, nothing moved.
  pts = before;
  EXPECT_EQ(ref.Refine(st, wv, std::vector<std::array<float, 3>>(10), Eigen::Matrix3f::Identity(),
                       pts),
            0);
  EXPECT_EQ(pts, before);
  std::vector<std::array<float, 3>> broken = a.track->neutral();
  broken[200][0] = std::nanf("");
  EXPECT_EQ(ref.Refine(st, wv, broken, Eigen::Matrix3f::Identity(), pts), 0);
  EXPECT_EQ(pts, before);
  EXPECT_FALSE(ref.AddNeutral(st, wv, broken));
}

// Every pixel format reads the same texture (grey from RGB, BGR, RGBA, BGRA; luma from the
// Y plane of NV12 and I420, stretched from limited range; GRAY8 as is).
TEST(AppearanceRefiner, EveryFormatGivesTheSameTexture) {
  const Fixture& a = Astronaut();
  ASSERT_TRUE(a.track);
  AppearanceRefiner ref(Canonical(), Basis());
  const size_t texels = static_cast<size_t>(ref.width()) * ref.height();
  std::vector<float> rgb_t(texels, 0.0f), bgr_t(texels, 0.0f), grey_t(texels, 0.0f),
      nv12_t(texels, 0.0f);
  ref.Frontalise(a.View(a.rgb), a.track->neutral(), rgb_t);
  std::vector<uint8_t> bgr = a.rgb, grey(static_cast<size_t>(a.w) * a.h);
  std::vector<uint8_t> y_plane(static_cast<size_t>(a.w) * a.h), uv(static_cast<size_t>(a.w) * (a.h / 2), 128);
  for (size_t i = 0; i < grey.size(); ++i) {
    std::swap(bgr[3 * i], bgr[3 * i + 2]);
    const float g = 0.299f * a.rgb[3 * i] + 0.587f * a.rgb[3 * i + 1] + 0.114f * a.rgb[3 * i + 2];
    grey[i] = static_cast<uint8_t>(std::lround(g));
    y_plane[i] = static_cast<uint8_t>(std::lround(16 + g * 219.0f / 255.0f));
  }
  ImageView v;
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kBGR, a.w, a.h, {bgr.data()}, {3 * a.w}, &v));
  ref.Frontalise(v, a.track->neutral(), bgr_t);
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kGRAY8, a.w, a.h, {grey.data()}, {a.w}, &v));
  ref.Frontalise(v, a.track->neutral(), grey_t);
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kNV12, a.w, a.h, {y_plane.data(), uv.data()},
                               {a.w, a.w}, &v));
  ref.Frontalise(v, a.track->neutral(), nv12_t);
  float d_bgr = 0, d_grey = 0, d_nv12 = 0, lit = 0;
  for (size_t i = 0; i < texels; ++i) {
    d_bgr = std::max(d_bgr, std::abs(bgr_t[i] - rgb_t[i]));
    d_grey = std::max(d_grey, std::abs(grey_t[i] - rgb_t[i]));
    d_nv12 = std::max(d_nv12, std::abs(nv12_t[i] - rgb_t[i]));
    lit += rgb_t[i] > 0;
  }
  EXPECT_GT(lit, 0.6f * texels);  // the face and its margin fill most of the texture
  EXPECT_LT(d_bgr, 1e-3f);
  EXPECT_LT(d_grey, 0.51f);        // rounding to 8 bits
  EXPECT_LT(d_nv12, 0.51f * 255.0f / 219.0f);
}

// MirrorSolver with pictures: the refinement runs once the neutral (and its texture) is
// learned, and not without pictures or with MirrorOptions::appearance off.
TEST(AppearanceRefiner, TheMirrorUsesItOnlyWithPictures) {
  const Fixture& a = Astronaut();
  ASSERT_TRUE(a.track);
  const ImageView photo = a.View(a.rgb);
  const std::vector<uint8_t> warped = a.Warped("browInnerUp", 0.8f);
  const ImageView wv = a.View(warped);
  MirrorOptions off;
  off.appearance = false;
  MirrorSolver with(Canonical(), Basis()), without(Canonical(), Basis()), disabled(Canonical(),
                                                                                    Basis(), off);
  Face f;
  f.id = 3;
  f.landmarks = a.track->neutral();
  int64_t pts = 0;
  for (int k = 0; k < 40; ++k, pts += 33'333'333) {
    with.Update(f, pts, a.w, a.h, &photo);
    without.Update(f, pts, a.w, a.h);
    disabled.Update(f, pts, a.w, a.h, &photo);
  }
  EXPECT_GT(with.refined_vertices(3), 300);
  EXPECT_EQ(without.refined_vertices(3), 0);
  EXPECT_EQ(disabled.refined_vertices(3), 0);
  // The same mesh over the warped picture: only the pictured mirror sees the brow rise.
  const int k = Basis().Index("browInnerUp");
  float got_with = 0, got_without = 0;
  for (int i = 0; i < 10; ++i, pts += 33'333'333) {
    got_with = with.Update(f, pts, a.w, a.h, &wv)->weights[k];
    got_without = without.Update(f, pts, a.w, a.h)->weights[k];
  }
  EXPECT_LT(got_without, 0.05f);  // the landmarks did not move
  EXPECT_GT(got_with, 0.3f);      // measured 0.5 (geometric basis, no calibration)
  // A picture of another size than the landmarks' frame is not used.
  std::vector<uint8_t> small(64 * 48 * 3, 100);
  ImageView sv;
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kRGB, 64, 48, {small.data()}, {64 * 3}, &sv));
  with.Update(f, pts += 33'333'333, a.w, a.h, &sv);
  EXPECT_EQ(with.refined_vertices(3), 0);
}

}  // namespace
}  // namespace fg
