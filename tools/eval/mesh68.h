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
// Each 300-W point is one mesh vertex, or the midpoint of two (b >= 0) where the annotated
// point falls between two vertices of the mesh's contour or lips. The jaw and brows are the
// least exact by nature: 300-W's jaw points follow the visible outline (which moves over the
// face as the head turns) and its brows are annotated along their upper edge, while a mesh
// vertex is fixed on the surface.
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
    // 1-17 jaw: the mesh's face outline, subject's right ear (127) down to the chin (152) and
    // up to the left ear (356); pairs mirror each other (127/356, 234/454, 93/323, ...).
    {127, -1}, {234, -1}, {93, -1}, {132, 58}, {58, 172}, {136, -1}, {150, -1}, {176, -1},
    {152, -1},
    {400, -1}, {379, -1}, {365, -1}, {397, 288}, {288, 361}, {323, -1}, {454, -1}, {356, -1},
    // 18-22 right brow, outer to inner (upper edge); 23-27 left brow, inner to outer.
    {70, -1}, {63, -1}, {105, -1}, {66, -1}, {107, -1},
    {336, -1}, {296, -1}, {334, -1}, {293, -1}, {300, -1},
    // 28-31 nose ridge, between the eyes (168) to the tip (4); 32-36 under the nose, the
    // right nostril's outer edge (75) through the base (2) to the left one's (305).
    {168, -1}, {197, -1}, {5, -1}, {4, -1},
    {75, -1}, {97, -1}, {2, -1}, {326, -1}, {305, -1},
    // 37-42 right eye: outer corner, upper lid (outer, inner), inner corner, lower lid
    // (inner, outer). 43-48 left eye: inner corner, upper lid (inner, outer), outer corner,
    // lower lid (outer, inner).
    {33, -1}, {160, -1}, {158, -1}, {133, -1}, {153, -1}, {144, -1},
    {362, -1}, {385, -1}, {387, -1}, {263, -1}, {373, -1}, {380, -1},
    // 49-60 outer lip: right corner (61), upper lip through the cupid's bow (37, 0, 267) to
    // the left corner (291), lower lip back (314, 17, 84).
    {61, -1}, {40, -1}, {37, -1}, {0, -1}, {267, -1}, {270, -1},
    {291, -1}, {321, -1}, {314, -1}, {17, -1}, {84, -1}, {91, -1},
    // 61-68 inner lip: right corner (78), upper inner lip (81, 13, 311), left corner (308),
    // lower inner lip (402, 14, 178).
    {78, -1}, {81, -1}, {13, -1}, {311, -1}, {308, -1}, {402, -1}, {14, -1}, {178, -1},
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
