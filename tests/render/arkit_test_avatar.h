// A generated user avatar for tests: the canonical face (engine/geometry/canonical_face.h)
// as a glTF mesh with all 52 ARKit morph targets (engine/render/gltf_avatar.h
// ArkitBlendshapeNames), built by code at test time so no binary avatar is committed.
//
//   the 37 targets the project's basis has (engine/avatar/blendshapes.h) -> its deltas
//   the 15 it lacks, made here (canonical cm, +x the subject's left, +y up, +z forward):
//     eyeLook{Up,Down,In,Out}{Left,Right}  the eye's lid contour and the skin within 0.5 cm
//                                           of it shift 0.25 cm that way (In = towards the
//                                           nose); a stand-in for rotating eyeballs
//     jawForward / jawLeft / jawRight      the jaw (jawOpen's moving part, by its weight)
//                                           0.6 cm forward / towards +x / towards -x
//     mouthRollUpper / mouthRollLower      the lip within 0.8 cm of the lip line goes back
//                                           0.3 cm and towards the line 0.15 cm
//     mouthShrugUpper                      the upper lip up 0.25 cm
//     tongueOut                            a tongue (8 extra vertices, a flat tapered slab
//                                           hidden 1.6 cm behind the lips) comes 2.4 cm
//                                           forward and 0.4 cm down, out of the mouth
// Positions and deltas are written in metres (glTF's unit: canonical cm x 0.01).
//
// Threading: plain functions.
#pragma once

#include "engine/avatar/blendshapes.h"
#include "engine/geometry/canonical_face.h"
#include "tests/render/gltf_writer.h"

namespace fgtest {

// The mesh (468 face vertices + the tongue's 8) with its 52 targets in ARKit order.
GltfMesh ArkitTestAvatar(const fg::CanonicalFace& face, const fg::BlendshapeBasis& basis);

}  // namespace fgtest
