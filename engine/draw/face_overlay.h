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
// Later analyses add their parts here (emotion bars, vitals traces): one Options flag and
// one private Draw* method each, called from Draw().
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
  Color color = Color::FromArgb(0xff00ff00);  // box, id, mesh and iris
  int box_thickness = 2;
  int text_scale = 2;
};

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

  std::vector<std::array<int, 2>> edges_;
};

}  // namespace fg::draw
