// FaceOverlay: draws a frame's face results (fg::FrameFaces) into the frame itself: what the
// faceoverlay element (plugins/gstfaceoverlay.h) calls per frame, and what any application
// drawing on its own buffers can call.
//
// Parts, each switchable in OverlayOptions, drawn in this order (later ones on top):
//   mesh   the 468 landmarks as points, or the canonical face's triangle edges (wireframe;
//          needs the edges, see MeshEdges)
//   box    the face box, 2 px, drawn inwards
//   iris   a circle per iris (landmarks 468..477, present when the tracker ran with iris)
//   pose   the head's x/y/z axes from the nose tip (landmark 4) in red/green/blue, half a
//          face long; x to the subject's left (image right on a frontal face), y up,
//          z towards the camera
//   id     "#<id>" above the box (inside it when the box touches the top edge)
//   liveness  (face.liveness) above the id line: "<decision> r<real%> l<live%>" in
//            live_color / spoof_color / unsure_color; with a challenge, above that the
//            instruction and the seconds left ("Please blink 4s"), or "check passed" /
//            "check failed"; each line TextHeight(text_scale) + 3 rows higher, clipped at
//            the top of the frame
//   emotion  (face.emotion) "<label> <confidence>%" below the box, at text_scale
//   vitals   (face.vitals) "<bpm> bpm <confidence>%" below that; in vitals_dim_color and
//            with "?" after the number when confidence < kVitalsMinConfidence; then the
//            scrolling pulse trace (face.vitals->bvp, its last kTraceSeconds) in a
//            kTraceWidth x kTraceHeight box, oldest sample at the left edge, newest at the
//            right, +-3 units (BVP has unit variance) filling the height; nothing when bvp
//            is empty
//   bars     (face.emotion) the panel beside the box: one row per FER2013 class in the
//            model's order (kEmotionNames) with a 3-letter name and a bar whose filled
//            length is round(probability * kBarLength) pixels over a dark track of
//            kBarLength; the label's class filled in highlight_color, the others in color
//   actions  (face.actions) rows below the bars in the same panel: a short name and a
//            bar of the 0..1 value per measure (eyeOpenLeft eyeL, eyeOpenRight eyeR,
//            mouthOpen mth, smile smil, browRaise brUp, browLower brDn, jawOpen jaw, then
//            any other key with a value in 0..1, its first 4 letters), then the text
//            "blink <count> <rate>/m" when "blinks" is present; "eyesClosed" and "blinkRate"
//            are not bars (the openness bars and the blink line show them)
//
// Geometry, in pixels, from x0 = ToPixel(box.x), y0 = ToPixel(box.y), and x1, y1 the same
// of box.x + box.w, box.y + box.h (one past the box's last column and row):
//   below       lines start at y = y1 + 3, at x0; each line (emotion, then vitals) takes
//               TextHeight(text_scale) + 3 rows; the trace's top row follows the vitals line.
//               When the panel is drawn right of the box, a line (or the trace) that would
//               reach column px - 2 is moved left to end just before it (not past x = 0)
//   panel left  px = x1 + kPanelGap, or x0 - kPanelGap - kPanelWidth when that does not fit
//               in the frame but this does (faces near the right edge); else clipped
//   row r       top y = y0 + r * kRowPitch (rows: the 7 classes if bars is on, then the
//               actions); name at (px, y); bar track and fill on rows y+1 .. y+kBarHeight,
//               columns px + kBarOffset .. + kBarLength - 1
// Every part is clipped to the frame like the primitives.
//
// Threading: immutable after construction; Draw() is const and may run on several threads
// for different frames. Draw() does not allocate.
//
// Example:
//   auto face = fg::LoadCanonicalFace(dir + "/" + fg::kCanonicalFaceFile, &err);
//   fg::draw::FaceOverlay overlay(fg::draw::MeshEdges(face->triangles));
//   fg::draw::OverlayOptions o;  o.mesh = fg::draw::MeshStyle::kWireframe;
//   overlay.Draw(img, faces, o);
#pragma once

#include <array>
#include <vector>

#include "engine/draw/canvas.h"
#include "engine/face.h"

namespace fg::draw {

enum class MeshStyle { kNone, kPoints, kWireframe };

struct OverlayOptions {
  bool box = true;
  bool id = true;
  MeshStyle mesh = MeshStyle::kPoints;
  bool iris = true;
  bool pose = true;
  bool emotion = true;  // label and confidence below the box
  bool bars = true;     // a bar per emotion class beside the box
  bool actions = true;  // facial action bars and blinks, beside the box
  bool vitals = true;   // heart rate text and the pulse trace below the box
  bool liveness = true; // liveness decision and challenge above the box
  Color color = Color::FromArgb(0xff00ff00);  // box, id, mesh, iris, text and bars
  Color highlight_color = Color::FromArgb(0xffffff00);  // the label's bar
  Color track_color = Color::FromArgb(0xff404040);      // bar tracks (the 100% length)
  Color vitals_dim_color = Color::FromArgb(0xff909090);  // vitals below kVitalsMinConfidence
  Color live_color = Color::FromArgb(0xff00ff00);
  Color spoof_color = Color::FromArgb(0xffff3030);
  Color unsure_color = Color::FromArgb(0xffffff00);
  int box_thickness = 2;
  int text_scale = 2;
};

// Panel and trace geometry (see the header comment).
inline constexpr int kPanelGap = 6;
inline constexpr int kRowPitch = 9;
inline constexpr int kBarHeight = 5;
inline constexpr int kBarOffset = 28;  // a 4-letter name at scale 1 (23 px) and a gap
inline constexpr int kBarLength = 60;
inline constexpr int kPanelWidth = kBarOffset + kBarLength;
inline constexpr int kTraceWidth = 120;
inline constexpr int kTraceHeight = 30;
inline constexpr float kTraceSeconds = 5.0f;
inline constexpr float kVitalsMinConfidence = 0.5f;

// The unique edges of a triangle list (each shared edge once, lower index first), sorted.
std::vector<std::array<int, 2>> MeshEdges(const std::vector<std::array<int, 3>>& triangles);

class FaceOverlay {
 public:
  // `edges`: for MeshStyle::kWireframe (indices into the landmarks); without them the
  // wireframe falls back to points.
  explicit FaceOverlay(std::vector<std::array<int, 2>> edges = {});

  void Draw(const MutableImageView& img, const FrameFaces& faces, const OverlayOptions& o) const;
  bool has_edges() const { return !edges_.empty(); }

 private:
  void DrawMesh(const MutableImageView& img, const Pen& pen, const Face& f, MeshStyle style) const;
  void DrawBox(const MutableImageView& img, const Pen& pen, const Face& f, int thickness) const;
  void DrawIris(const MutableImageView& img, const Pen& pen, const Face& f) const;
  void DrawPose(const MutableImageView& img, const Face& f) const;
  void DrawId(const MutableImageView& img, const Pen& pen, const Face& f, int scale) const;
  void DrawLiveness(const MutableImageView& img, const Face& f, const OverlayOptions& o) const;
  // The lines below the box (emotion label, vitals) and the pulse trace, each ending before
  // column `limit` where it can (see "below" above).
  void DrawBelow(const MutableImageView& img, const Pen& pen, const Face& f,
                 const OverlayOptions& o, int limit) const;
  // The bars panel beside the box (emotion classes, then actions), its left column px.
  void DrawPanel(const MutableImageView& img, const Pen& pen, const Face& f,
                 const OverlayOptions& o, int px) const;

  std::vector<std::array<int, 2>> edges_;
};

}  // namespace fg::draw
