// The 68 points of the 300-W / iBUG annotation (Sagonas et al. 2013, the `.pts` files of
// 300-W, LFPW, HELEN, AFW, IBUG) read off the 468-point MediaPipe face mesh that facetrack
// outputs. This table is the one place the correspondence lives; docs/eval/landmarks.md
// explains it point by point (with a picture).
//
// 300-W numbers the points 1..68 from the subject's view: "right" is the subject's right,
// the left of a frontal photo. Groups (1-based, as in the annotation guide):
//   1-17 jaw (subject's right ear to left ear, 9 the chin), 18-22 right brow (outer to
//   inner), 23-27 left brow (inner to outer), 28-31 nose ridge (top to tip), 32-36 nostrils
//   and base (right to left), 37-42 right eye (37 outer corner, clockwise in the image),
//   43-48 left eye (43 inner corner, 46 outer corner), 49-60 outer lip (49 right corner,
//   55 left corner), 61-68 inner lip (61 right corner, 65 left corner).
// The MediaPipe mesh numbers the subject's right side with the lower indices of each
// symmetric pair (33 right eye outer corner, 263 left eye outer corner).
//
// Each 300-W point is one mesh vertex, or the midpoint of two (b >= 0). The choice was made
// on data, on the dev half of the real annotated faces only (tools/eval/DATA.md, 300-W
// AFW + HELEN test; docs/eval/landmarks.md has the procedure and the per-point errors): for
// each point the vertex with the smallest mean error over those faces, or the midpoint of two
// of the 12 best vertices where that is at least 0.002 inter-ocular distances better. Each
// choice lies on the feature the 300-W guide names (checked in a drawn picture); where a
// vertex differs from the anatomical first guess it is because 300-W annotates the visible
// edge (lip borders, the brows' upper edge, the outline of the jaw) while a mesh vertex is
// fixed on the surface. The jaw and brows stay the least exact by nature: the annotated jaw
// follows the visible outline, which moves over the face as the head turns.
//
// Inter-ocular distance (the normaliser of the NME, as in 300-W's own evaluation): between
// the outer eye corners, points 37 and 46 (kOuterEyeRight, kOuterEyeLeft, 0-based 36 and 45).
//
// Threading: constants.
//
// Example:
//   for (int i = 0; i < 68; ++i) p68[i] = fg::eval::Mesh68Point(face.landmarks, i);
#pragma once

#include <array>
#include <vector>

namespace fg::eval {

struct Mesh68 {
  int a, b;  // mesh vertex, or the midpoint of a and b when b >= 0
};

inline constexpr std::array<Mesh68, 68> kMesh68 = {{
    // 1-17 jaw: the mesh's outline from the subject's right ear (127) down to the chin (152)
    // and up to the left ear (356).
    {127, -1}, {234, -1}, {177, 93}, {215, -1}, {172, 138}, {136, -1}, {149, -1}, {148, -1}, {152, -1},
    {400, 377}, {378, -1}, {365, -1}, {367, 397}, {435, -1}, {401, 366}, {447, 454}, {356, -1},
    // 18-22 right brow, outer to inner; 23-27 left brow, inner to outer.
    {70, 156}, {105, 70}, {222, 104}, {66, 107}, {55, 107}, {336, 285}, {336, 282}, {296, 293}, {293, -1},
    {300, 383},
    // 28-31 nose ridge, between the eyes (168) to the tip (4); 32-36 under the nose, right
    // nostril wing through the base (164/370 around 2) to the left wing.
    {168, 6}, {196, 412}, {5, 248}, {4, 275}, {60, 98}, {97, -1}, {164, 370}, {328, -1}, {460, -1},
    // 37-42 right eye: outer corner, upper lid (outer, inner), inner corner, lower lid (inner,
    // outer). 43-48 left eye: inner corner, upper lid (inner, outer), outer corner, lower lid
    // (outer, inner).
    {7, -1}, {158, 161}, {158, 157}, {133, -1}, {153, -1}, {144, 145}, {382, -1}, {385, -1}, {386, 388},
    {249, 263}, {373, -1}, {380, 374},
    // 49-60 outer lip: right corner (61), upper lip through the cupid's bow (37, 267) to the
    // left corner (291's neighbours), lower lip back (314, 17, 84).
    {61, -1}, {39, 80}, {37, 72}, {267, 38}, {267, 302}, {304, 269}, {292, 287}, {321, 405}, {314, -1},
    {17, -1}, {84, -1}, {181, 91},
    // 61-68 inner lip: right corner (78/96), upper inner lip (82, 13, 268), left corner (292),
    // lower inner lip (316/402, 14, 87).
    {78, 96}, {82, -1}, {13, -1}, {268, -1}, {292, -1}, {316, 402}, {14, -1}, {87, -1},
}};

inline constexpr int kOuterEyeRight = 36;  // 0-based: 300-W point 37
inline constexpr int kOuterEyeLeft = 45;   // 0-based: 300-W point 46

// 300-W point i (0-based) from the mesh landmarks (x, y of each; z ignored). The caller
// makes sure `mesh` has the 468 points.
template <typename P>
std::array<float, 2> Mesh68Point(const std::vector<P>& mesh, int i) {
  const Mesh68 m = kMesh68[i];
  if (m.b < 0) return {mesh[m.a][0], mesh[m.a][1]};
  return {0.5f * (mesh[m.a][0] + mesh[m.b][0]), 0.5f * (mesh[m.a][1] + mesh[m.b][1])};
}

}  // namespace fg::eval
