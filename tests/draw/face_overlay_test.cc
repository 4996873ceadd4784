// engine/draw/face_overlay.h: each part draws where the face data says and nowhere else,
// each switch turns its part off, and broken face data (NaN, huge, short landmark lists)
// draws nothing outside the frame. Emotion bars, action bars and the pulse trace are
// measured in pixels against the documented geometry (face_overlay.h) in every format.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "engine/draw/face_overlay.h"
#include "engine/draw/font.h"
#include "tests/draw/draw_test_util.h"

namespace fg::draw {
namespace {

// The FER2013 classes in the model's order (README, engine/emotion/emotion_classifier.h),
// written out here so the test does not take them from the code under test.
constexpr const char* kEmotionNamesForTest[7] = {"angry", "disgust", "fear", "happy",
                                                 "sad", "surprise", "neutral"};

using testing::AllFormats;
using testing::Frame;

OverlayOptions Only(bool box, bool id, MeshStyle mesh, bool iris, bool pose) {
  OverlayOptions o;
  o.box = box, o.id = id, o.mesh = mesh, o.iris = iris, o.pose = pose;
  o.emotion = o.bars = o.actions = o.vitals = false;
  o.color = Color::FromArgb(0xffffffff);
  return o;
}

// Only the analysis parts (emotion, bars, actions, vitals) as asked; white text and bars.
OverlayOptions Parts(bool emotion, bool bars, bool actions, bool vitals) {
  OverlayOptions o = Only(false, false, MeshStyle::kNone, false, false);
  o.emotion = emotion, o.bars = bars, o.actions = actions, o.vitals = vitals;
  return o;
}

// A synthetic face: box (40,50) 60x70, landmarks on a grid inside it, iris points, pose.
FrameFaces SampleFaces(bool with_iris) {
  Face f;
  f.id = 42;
  f.box = {40.f, 50.f, 60.f, 70.f};
  f.score = 0.9f;
  for (int i = 0; i < kMeshLandmarks; ++i)
    f.landmarks.push_back({45.f + (i % 26) * 2.f, 55.f + (i / 26) * 3.f, 0.f});
  if (with_iris)
    for (int eye = 0; eye < 2; ++eye) {
      const float cx = eye ? 85.f : 55.f, cy = 70.f;
      f.landmarks.push_back({cx, cy, 0.f});
      for (auto [dx, dy] : {std::pair{4.f, 0.f}, {0.f, 4.f}, {-4.f, 0.f}, {0.f, -4.f}})
        f.landmarks.push_back({cx + dx, cy + dy, 0.f});
    }
  f.pose = HeadPose{10.f, 5.f, 0.f, std::nullopt};
  FrameFaces faces;
  faces.faces.push_back(f);
  return faces;
}

int CountPainted(const Frame& fr) {
  int n = 0;
  for (int y = 0; y < fr.h; ++y)
    for (int x = 0; x < fr.w; ++x) n += !fr.Untouched(x, y);
  return n;
}

// Scores chosen so score * kBarLength (60) is a whole number of pixels (and one 0).
const float kScores[7] = {0.05f, 0.0f, 0.10f, 0.50f, 0.15f, 0.0833333f, 0.1166667f};

// A face with emotion, actions and vitals: box (40,30) 50x60 -> x0 40, x1 90, y0 30, y1 90.
Face AnalysedFace() {
  Face f;
  f.id = 3;
  f.box = {40.f, 30.f, 50.f, 60.f};
  Emotion e;
  for (int c = 0; c < 7; ++c) e.scores[std::string(kEmotionNamesForTest[c])] = kScores[c];
  e.label = "happy";
  e.confidence = 0.5f;
  e.valence = 0.4f;
  e.arousal = 0.2f;
  f.emotion = e;
  f.actions = {{"eyeOpenLeft", 0.9f}, {"eyeOpenRight", 0.25f}, {"mouthOpen", 0.1f},
               {"smile", 0.75f},      {"browRaise", 0.f},      {"browLower", 0.5f},
               {"jawOpen", 1.f},      {"eyesClosed", 0.f},     {"blinks", 3.f},
               {"blinkRate", 12.f}};
  Vitals v;
  v.bpm = 72.f;
  v.snr = 5.f;
  v.confidence = 0.8f;
  f.vitals = v;
  return f;
}

FrameFaces One(const Face& f) {
  FrameFaces faces;
  faces.faces.push_back(f);
  return faces;
}

// Filled pixels of panel row `row` (its middle line), from the bar's left end: asserts the
// fill is contiguous from the left and the rest of the track is the track colour.
int FillLength(const Frame& fr, const Pen& fill, const Pen& track, int px, int y0, int row) {
  const int y = y0 + row * kRowPitch + 1 + kBarHeight / 2;
  const int bx = px + kBarOffset;
  int len = 0;
  while (len < kBarLength && fr.Painted(fill, bx + len, y)) ++len;
  for (int x = bx + len; x < bx + kBarLength; ++x)
    EXPECT_TRUE(fr.Painted(track, x, y)) << "row " << row << " x " << x;
  EXPECT_TRUE(fr.Untouched(bx + kBarLength, y)) << "row " << row << ": bar too long";
  return len;
}

TEST(FaceOverlay, EmotionBarLengthsAreProportionalToTheScoresInEveryFormat) {
  for (PixelFormat f : AllFormats()) {
    SCOPED_TRACE(PixelFormatName(f));
    Frame fr(f, 260, 150);
    const OverlayOptions o = Parts(false, true, false, false);
    FaceOverlay().Draw(fr.img, One(AnalysedFace()), o);
    const Pen white = Pen::Make(f, o.color), yellow = Pen::Make(f, o.highlight_color);
    const Pen track = Pen::Make(f, o.track_color);
    const int px = 90 + kPanelGap;
    for (int c = 0; c < 7; ++c) {
      // The label's class (happy, 3) in the highlight colour, the others in the pen colour.
      const int len = FillLength(fr, c == 3 ? yellow : white, track, px, 30, c);
      // Rounded to the nearest pixel: within 0.5 px of score * kBarLength.
      EXPECT_NEAR(len, kScores[c] * kBarLength, 0.5 + 1e-3) << kEmotionNamesForTest[c];
    }
    EXPECT_FALSE(fr.Painted(white, px + kBarOffset, 30 + 3 * kRowPitch + 3))
        << "happy must not be in the pen colour";
    // The class names are left of the bars, inside the panel; nothing beyond the panel.
    for (int y = 0; y < 150; ++y)
      for (int x = 0; x < 260; ++x)
        if (!fr.Untouched(x, y)) {
          ASSERT_GE(x, px);
          ASSERT_LT(x, px + kPanelWidth);
          ASSERT_GE(y, 30);
          ASSERT_LT(y, 30 + 7 * kRowPitch);
        }
    EXPECT_TRUE(fr.GuardsIntact());
  }
}

TEST(FaceOverlay, ActionBarsFollowTheEmotionBarsAndBlinksAreWritten) {
  Face face = AnalysedFace();
  face.actions["cheekPuff"] = 0.5f;  // a key the overlay does not know: a bar of its own
  face.actions["headTurns"] = 4.f;   // not in 0..1: not a bar
  for (bool bars : {false, true}) {
    SCOPED_TRACE(bars ? "after the emotion bars" : "alone");
    Frame fr(PixelFormat::kRGB, 260, 200);
    const OverlayOptions o = Parts(false, bars, true, false);
    FaceOverlay().Draw(fr.img, One(face), o);
    const Pen white = Pen::Make(fr.format, o.color), track = Pen::Make(fr.format, o.track_color);
    const int px = 90 + kPanelGap, first = bars ? 7 : 0;
    // eyeL eyeR mth smil brUp brDn jaw, then cheekPuff.
    const float want[8] = {0.9f, 0.25f, 0.1f, 0.75f, 0.f, 0.5f, 1.f, 0.5f};
    for (int r = 0; r < 8; ++r)
      EXPECT_NEAR(FillLength(fr, white, track, px, 30, first + r), want[r] * kBarLength, 0.5 + 1e-3)
          << "action row " << r;
    // The blink line is the next row: text only ("blink 3 12/m"), no bar track.
    const int y = 30 + (first + 8) * kRowPitch;
    int text = 0;
    for (int yy = y; yy < y + kRowPitch; ++yy)
      for (int x = 0; x < 260; ++x)
        if (!fr.Untouched(x, yy)) {
          ++text;
          EXPECT_TRUE(fr.Painted(white, x, yy));
          EXPECT_GE(x, px);
          EXPECT_LT(x, px + TextWidth("blink 3 12/m", 1));
        }
    EXPECT_GT(text, 20);
    for (int yy = y + kRowPitch; yy < 200; ++yy)
      for (int x = 0; x < 260; ++x) ASSERT_TRUE(fr.Untouched(x, yy)) << x << "," << yy;
  }
}

TEST(FaceOverlay, AnalysisPartsDrawNothingWhenOffOrWithoutTheirData) {
  auto painted = [](const Face& face, const OverlayOptions& o) {
    Frame fr(PixelFormat::kI420, 260, 200);
    FaceOverlay().Draw(fr.img, One(face), o);
    EXPECT_TRUE(fr.GuardsIntact());
    return CountPainted(fr);
  };
  const Face full = AnalysedFace();
  Face bare = full;
  bare.emotion.reset();
  bare.vitals.reset();
  bare.actions.clear();
  EXPECT_EQ(painted(full, Parts(false, false, false, false)), 0);
  EXPECT_EQ(painted(bare, Parts(true, true, true, true)), 0);
  EXPECT_GT(painted(full, Parts(true, false, false, false)), 0);
  EXPECT_GT(painted(full, Parts(false, true, false, false)), 0);
  EXPECT_GT(painted(full, Parts(false, false, true, false)), 0);
  EXPECT_GT(painted(full, Parts(false, false, false, true)), 0);
  // Each part needs its own data.
  Face no_emotion = full;
  no_emotion.emotion.reset();
  EXPECT_EQ(painted(no_emotion, Parts(true, true, false, false)), 0);
  Face no_vitals = full;
  no_vitals.vitals.reset();
  EXPECT_EQ(painted(no_vitals, Parts(false, false, false, true)), 0);
  Face no_actions = full;
  no_actions.actions.clear();
  EXPECT_EQ(painted(no_actions, Parts(false, false, true, false)), 0);
  // The default options draw every part.
  OverlayOptions d;
  EXPECT_TRUE(d.emotion && d.bars && d.actions && d.vitals);
}

// Bounds of the painted pixels within rows [y_lo, y_hi).
struct Extent {
  int x_min = 1 << 30, x_max = -1, y_min = 1 << 30, y_max = -1, n = 0;
};
Extent PaintedExtent(const Frame& fr, int y_lo, int y_hi) {
  Extent e;
  for (int y = std::max(y_lo, 0); y < std::min(y_hi, fr.h); ++y)
    for (int x = 0; x < fr.w; ++x)
      if (!fr.Untouched(x, y)) {
        e.x_min = std::min(e.x_min, x), e.x_max = std::max(e.x_max, x);
        e.y_min = std::min(e.y_min, y), e.y_max = std::max(e.y_max, y);
        ++e.n;
      }
  return e;
}

TEST(FaceOverlay, EmotionLabelAndVitalsLinesBelowTheBox) {
  const int line = TextHeight(2) + 3;
  {
    Frame fr(PixelFormat::kBGRA, 260, 200);
    FaceOverlay().Draw(fr.img, One(AnalysedFace()), Parts(true, false, false, true));
    // Emotion line: rows 93 .. 93 + 13, from x 40, within "happy 50%" at scale 2.
    const Extent e = PaintedExtent(fr, 0, 93 + line);
    EXPECT_GT(e.n, 50);
    EXPECT_GE(e.y_min, 93);
    EXPECT_LT(e.y_max, 93 + TextHeight(2));
    EXPECT_GE(e.x_min, 40);
    EXPECT_LT(e.x_max, 40 + TextWidth("happy 50%", 2));
    // Vitals line below it; no trace (bvp empty): nothing further down.
    const Extent v = PaintedExtent(fr, 93 + line, 200);
    EXPECT_GT(v.n, 50);
    EXPECT_GE(v.y_min, 93 + line);
    EXPECT_LT(v.y_max, 93 + line + TextHeight(2));
    EXPECT_LT(v.x_max, 40 + TextWidth("72 bpm 80%", 2));
  }
  // Vitals below kVitalsMinConfidence: dim colour and a "?" (a wider line), none in the pen.
  const OverlayOptions o = Parts(false, false, false, true);
  Frame sure(PixelFormat::kRGB, 260, 200), unsure(PixelFormat::kRGB, 260, 200);
  Face f = AnalysedFace();
  FaceOverlay().Draw(sure.img, One(f), o);
  f.vitals->confidence = 0.3f;
  FaceOverlay().Draw(unsure.img, One(f), o);
  const Pen pen = Pen::Make(PixelFormat::kRGB, o.color);
  const Pen dim = Pen::Make(PixelFormat::kRGB, o.vitals_dim_color);
  int sure_pen = 0, unsure_pen = 0, unsure_dim = 0;
  for (int y = 0; y < 200; ++y)
    for (int x = 0; x < 260; ++x) {
      sure_pen += sure.Painted(pen, x, y);
      unsure_pen += unsure.Painted(pen, x, y);
      unsure_dim += unsure.Painted(dim, x, y);
    }
  EXPECT_EQ(sure_pen, CountPainted(sure));
  EXPECT_EQ(unsure_pen, 0);
  EXPECT_EQ(unsure_dim, CountPainted(unsure));
  // Without emotion the vitals line starts right below the box.
  EXPECT_EQ(PaintedExtent(sure, 0, 200).y_min, 93);
  EXPECT_GT(PaintedExtent(unsure, 0, 200).x_max, PaintedExtent(sure, 0, 200).x_max);
}

TEST(FaceOverlay, PulseTraceShowsTheLastSecondsOldestLeft) {
  const OverlayOptions o = Parts(false, false, false, true);
  const int top = 93 + TextHeight(2) + 3;  // below the vitals line
  Face f = AnalysedFace();
  f.vitals->bvp_fs = 50.f;
  // 100 older samples at +100 (must not show: older than kTraceSeconds), then 250 samples
  // (5 s at 50 Hz) rising linearly from -3 to +3.
  f.vitals->bvp.assign(100, 100.f);
  for (int i = 0; i < 250; ++i) f.vitals->bvp.push_back(-3.f + 6.f * i / 249.f);
  for (PixelFormat format : AllFormats()) {
    SCOPED_TRACE(PixelFormatName(format));
    Frame fr(format, 260, 200);
    FaceOverlay().Draw(fr.img, One(f), o);
    const Extent t = PaintedExtent(fr, top, 200);
    EXPECT_EQ(t.x_min, 40);
    EXPECT_EQ(t.x_max, 40 + kTraceWidth - 1);
    EXPECT_EQ(t.y_min, top);
    EXPECT_EQ(t.y_max, top + kTraceHeight - 1);
    // The oldest shown sample (-3) at the bottom left, the newest (+3) at the top right,
    // and every column's painted rows climb (a line, no gaps).
    auto rows_of = [&](int x) {
      std::pair<int, int> r{1 << 30, -1};
      for (int y = top; y < top + kTraceHeight; ++y)
        if (!fr.Untouched(x, y)) r.first = std::min(r.first, y), r.second = std::max(r.second, y);
      return r;
    };
    EXPECT_EQ(rows_of(40), std::make_pair(top + kTraceHeight - 1, top + kTraceHeight - 1));
    EXPECT_EQ(rows_of(40 + kTraceWidth - 1).first, top);
    int prev = top + kTraceHeight;
    for (int x = 40; x < 40 + kTraceWidth; ++x) {
      const auto [lo, hi] = rows_of(x);
      ASSERT_GE(hi, lo) << "column " << x << " empty";
      ASSERT_LE(lo, prev) << "column " << x;
      prev = lo;
    }
    EXPECT_TRUE(fr.GuardsIntact());
  }
  // A flat trace is one row across the whole width, in the middle.
  f.vitals->bvp.assign(400, 0.f);
  Frame fr(PixelFormat::kGRAY8, 260, 200);
  FaceOverlay().Draw(fr.img, One(f), o);
  const Extent t = PaintedExtent(fr, top, 200);
  EXPECT_EQ(t.n, kTraceWidth);
  EXPECT_EQ(t.y_min, t.y_max);
  EXPECT_NEAR(t.y_min - top, (kTraceHeight - 1) / 2.0, 0.5);
}

TEST(FaceOverlay, LinesBelowTheBoxEndBeforeThePanel) {
  // Box (150,30) 50x60: the panel is at px = 200 + kPanelGap; "happy 50%" (106 px at scale
  // 2) and the trace (kTraceWidth) are wider than the box, so they move left to end at
  // px - 3; the panel's 7 rows end at y 93, where the lines below start.
  Face f = AnalysedFace();
  f.box = {150.f, 30.f, 50.f, 60.f};
  f.vitals->bvp.assign(200, 0.f);
  f.vitals->bvp_fs = 30.f;
  for (PixelFormat format : {PixelFormat::kRGB, PixelFormat::kNV12}) {
    Frame fr(format, 400, 200);
    FaceOverlay().Draw(fr.img, One(f), Parts(true, true, false, true));
    const int px = 200 + kPanelGap;
    const Extent below = PaintedExtent(fr, 93, 200);
    EXPECT_GT(below.n, 100);
    EXPECT_EQ(below.x_max, px - 3) << PixelFormatName(format);
    const Extent label = PaintedExtent(fr, 93, 93 + TextHeight(2));
    EXPECT_GE(label.x_min, px - 2 - TextWidth("happy 50%", 2));
    const Extent trace = PaintedExtent(fr, 93 + 2 * (TextHeight(2) + 3), 200);
    EXPECT_EQ(trace.x_min, px - 2 - kTraceWidth);
    EXPECT_EQ(trace.x_max, px - 3);
    // Without the panel they start at the box's left edge.
    Frame plain(format, 400, 200);
    FaceOverlay().Draw(plain.img, One(f), Parts(true, false, false, true));
    EXPECT_EQ(PaintedExtent(plain, 93 + 2 * (TextHeight(2) + 3), 200).x_min, 150);
  }
}

TEST(FaceOverlay, PanelMovesLeftAtTheRightEdgeAndEverythingClips) {
  // Box 50 px from the right edge: the panel goes left of the box.
  {
    Face f = AnalysedFace();
    f.box = {200.f, 30.f, 50.f, 60.f};
    Frame fr(PixelFormat::kNV12, 260, 200);
    const OverlayOptions o = Parts(false, true, true, false);
    FaceOverlay().Draw(fr.img, One(f), o);
    const Extent e = PaintedExtent(fr, 0, 200);
    EXPECT_EQ(e.x_min, 200 - kPanelGap - kPanelWidth);
    EXPECT_LT(e.x_max, 200 - kPanelGap);
    const Pen yellow = Pen::Make(fr.format, o.highlight_color), track = Pen::Make(fr.format, o.track_color);
    EXPECT_EQ(FillLength(fr, yellow, track, 200 - kPanelGap - kPanelWidth, 30, 3), 30);
  }
  // Faces at every edge and corner of small frames, and broken values: all clipped, guards
  // intact (and AddressSanitizer silent) in every format.
  for (PixelFormat format : AllFormats()) {
    Frame fr(format, 37, 29);
    FrameFaces faces;
    for (auto [x, y] : {std::pair{-30.f, -40.f}, {20.f, 20.f}, {-5.f, 10.f}, {30.f, -10.f},
                        {1e9f, 1e9f}, {-1e9f, 5.f}}) {
      Face f = AnalysedFace();
      f.box = {x, y, 25.f, 30.f};
      f.vitals->bvp.assign(300, 2.5f);
      f.vitals->bvp[7] = NAN;
      f.vitals->bvp_fs = 30.f;
      faces.faces.push_back(f);
    }
    Face bad = AnalysedFace();
    bad.box = {NAN, 3.f, 1e30f, -5.f};
    bad.emotion->scores["happy"] = NAN;
    bad.emotion->confidence = NAN;
    bad.vitals->bpm = INFINITY;
    bad.vitals->confidence = NAN;
    bad.vitals->bvp = {1e30f, -1e30f, NAN};
    bad.vitals->bvp_fs = NAN;
    bad.actions["smile"] = -7.f;
    bad.actions["blinks"] = 1e30f;
    bad.actions["blinkRate"] = NAN;
    faces.faces.push_back(bad);
    Face huge = AnalysedFace();
    huge.box = {2.f, 2.f, 1e20f, 1e20f};
    faces.faces.push_back(huge);
    FaceOverlay().Draw(fr.img, faces, OverlayOptions{});
    EXPECT_TRUE(fr.GuardsIntact()) << PixelFormatName(format);
    EXPECT_GT(CountPainted(fr), 0) << PixelFormatName(format);
  }
}

TEST(MeshEdges, UniqueSortedEdgesOfTriangles) {
  const auto e = MeshEdges({{0, 1, 2}, {2, 1, 3}});
  const std::vector<std::array<int, 2>> want{{0, 1}, {0, 2}, {1, 2}, {1, 3}, {2, 3}};
  EXPECT_EQ(e, want);
}

TEST(FaceOverlay, BoxIsTheRectangleAndNothingElse) {
  for (PixelFormat f : AllFormats()) {
    Frame fr(f, 161, 121);
    FaceOverlay().Draw(fr.img, SampleFaces(false), Only(true, false, MeshStyle::kNone, false, false));
    const Pen pen = testing::WhitePen(f);
    // Box (40,50) 60x70 -> pixels x 40..99, y 50..119, 2 px inwards.
    EXPECT_EQ(fr.Check(pen, [&] {
      std::vector<bool> m(161 * 121);
      for (int y = 0; y < 121; ++y)
        for (int x = 0; x < 161; ++x) {
          const bool in = x >= 40 && x <= 99 && y >= 50 && y <= 119;
          const bool inner = x >= 42 && x <= 97 && y >= 52 && y <= 117;
          m[y * 161 + x] = in && !inner;
        }
      return m;
    }()), "") << PixelFormatName(f);
  }
}

TEST(FaceOverlay, EachPartDrawsOnlyWhenSwitchedOn) {
  const FrameFaces faces = SampleFaces(true);
  auto painted = [&](const OverlayOptions& o, const FaceOverlay& ov) {
    Frame fr(PixelFormat::kRGB, 160, 130);
    ov.Draw(fr.img, faces, o);
    EXPECT_TRUE(fr.GuardsIntact());
    return CountPainted(fr);
  };
  const FaceOverlay plain;
  const FaceOverlay wired(MeshEdges({{0, 1, 27}, {27, 28, 1}}));
  EXPECT_EQ(painted(Only(false, false, MeshStyle::kNone, false, false), plain), 0);
  EXPECT_GT(painted(Only(true, false, MeshStyle::kNone, false, false), plain), 0);
  EXPECT_GT(painted(Only(false, true, MeshStyle::kNone, false, false), plain), 0);
  EXPECT_EQ(painted(Only(false, false, MeshStyle::kPoints, false, false), plain), kMeshLandmarks);
  EXPECT_GT(painted(Only(false, false, MeshStyle::kNone, true, false), plain), 0);
  EXPECT_GT(painted(Only(false, false, MeshStyle::kNone, false, true), plain), 0);
  // Wireframe: the lines between the edge ends (more than their 4 end points), not points.
  const int wire = painted(Only(false, false, MeshStyle::kWireframe, false, false), wired);
  EXPECT_GT(wire, 4);
  EXPECT_LT(wire, 40);
  // Without edges the wireframe falls back to points.
  EXPECT_EQ(painted(Only(false, false, MeshStyle::kWireframe, false, false), plain), kMeshLandmarks);
  // Iris needs the 10 iris landmarks.
  Frame fr(PixelFormat::kRGB, 160, 130);
  plain.Draw(fr.img, SampleFaces(false), Only(false, false, MeshStyle::kNone, true, false));
  EXPECT_EQ(CountPainted(fr), 0);
}

TEST(FaceOverlay, IdLabelAboveTheBox) {
  Frame fr(PixelFormat::kGRAY8, 160, 130);
  FaceOverlay().Draw(fr.img, SampleFaces(false), Only(false, true, MeshStyle::kNone, false, false));
  // "#42" at scale 2, 3 px above the box: rows 50-3-14 .. 50-4.
  for (int y = 0; y < 130; ++y)
    for (int x = 0; x < 160; ++x)
      if (!fr.Untouched(x, y)) {
        EXPECT_GE(y, 33);
        EXPECT_LE(y, 46);
        EXPECT_GE(x, 40);
        EXPECT_LT(x, 40 + TextWidth("#42", 2));
      }
}

TEST(FaceOverlay, BrokenFaceDataStaysInTheFrame) {
  for (PixelFormat f : AllFormats()) {
    Frame fr(f, 33, 17);
    FrameFaces faces = SampleFaces(true);
    Face bad = faces.faces[0];
    bad.box = {NAN, 3.f, 1e30f, -5.f};
    for (auto& p : bad.landmarks) p = {1e20f, -1e20f, NAN};
    bad.landmarks[4] = {10.f, 10.f, 0.f};
    bad.pose = HeadPose{NAN, 1e9f, 0.f, std::nullopt};
    faces.faces.push_back(bad);
    Face short_lm = faces.faces[0];
    short_lm.landmarks.resize(3);
    short_lm.box = {-1e9f, -1e9f, 2e9f, 2e9f};
    faces.faces.push_back(short_lm);
    FaceOverlay(MeshEdges({{0, 1, 2}, {400, 467, 3}})).Draw(fr.img, faces, OverlayOptions{});
    for (MeshStyle m : {MeshStyle::kPoints, MeshStyle::kWireframe}) {
      OverlayOptions o;
      o.mesh = m;
      FaceOverlay(MeshEdges({{0, 1, 2}, {400, 467, 3}})).Draw(fr.img, faces, o);
    }
    EXPECT_TRUE(fr.GuardsIntact()) << PixelFormatName(f);
  }
}

}  // namespace
}  // namespace fg::draw
