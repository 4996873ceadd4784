// The default avatar's texture: a face painted once in the canonical face's own UV space
// (engine/geometry/canonical_face.h, MediaPipe's UVs: u right, v down, the forehead at the
// top) from its own landmark contours, so no artwork is needed and every feature sits where
// the mesh's vertices carry it.
//
//   skin          a flat skin tone, warmer (blush) on the cheeks
//   brows         the polygon between each brow's upper (70 63 105 66 107 / 300 293 334 296
//                 336) and lower (46 53 52 65 55 / 276 283 282 295 285) landmark rows, made
//                 fuller (the upper row 0.1 cm up, the lower 0.07 cm down, the inner head
//                 0.05 cm more each way): about 0.8 cm tall at the head, as a brow looks
//   eyes          inside each eye's lid contour (33..133 / 263..362, 16 points): the white,
//                 an iris (0.21 of the eye's width in radius, centred on the contour's mean)
//                 with its pupil, clipped by the lids; a dark lash line along the upper lid
//   lips          between the outer (61 185 40 ... 146) and inner (78 191 80 ... 95) lip
//                 contours; inside the inner contour the dark mouth cavity
//                 (engine/render/mouth.h kMouthCavity)
//
// Because the features are painted in UV space, the mesh animates them: an eyeBlink moves
// the upper lid's vertices onto the lower lid, the triangles that carry the white and the
// iris collapse and the lid's skin covers the eye; jawOpen stretches the triangles between
// the inner lips, which carry the cavity. Edges are anti-aliased (4 x 4 samples per texel).
// No teeth here: the inner lips' UVs are 1.5 texels apart, too thin to paint a row of teeth
// in; engine/render/face_features.h draws teeth and tongue in the opened mouth per frame.
//
// Threading: a pure function. Allocation: the texture (size x size RGBA), once.
//
// Example:
//   const fg::render::Texture tex = fg::render::MakeFaceTexture(canonical);
//   fg::render::Material m;  m.texture = &tex;
//   raster.Draw({positions, canonical.triangles, canonical.uvs}, rot, cam, m, {}, kLit);
#pragma once

#include "engine/geometry/canonical_face.h"
#include "engine/render/rasterizer.h"

namespace fg::render {

// size: texels per side (clamped to 64..2048). A face without 468 vertices and UVs gives
// a plain skin-coloured texture. iris = false: the eyes are white only (faceavatar draws
// iris and pupil per frame at the tracked gaze: engine/render/face_features.h).
Texture MakeFaceTexture(const CanonicalFace& face, int size = 512, bool iris = true);

}  // namespace fg::render
