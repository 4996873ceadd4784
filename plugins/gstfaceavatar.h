// faceavatar: drives a 3D avatar from the tracked faces (mirroring), from an instruction in
// words, or from a JSON timeline, writes the blendshape weights into each face's metadata
// (ARKit names: facejson writes them as "blendshapes"), and renders: the avatar into the
// video (replace, side-by-side, picture-in-picture) or, in warp mode, the face photo itself
// re-rendered with the new expression. A thin adapter over fg::render::FaceAvatar
// (engine/render/face_avatar.h); rendering is the engine's own CPU rasterizer
// (engine/render/rasterizer.h explains why not OpenGL).
//
// Input/output: raw video in any GstFaceBase format, after facetrack (and optionally
// faceemotion); the frame size never changes (side-by-side halves the frame). The frame is
// mapped read-write (GstFaceBase writes_pixels): shared buffers are copied before drawing.
//
// Properties (may change while playing; applied by the streaming thread on the next frame):
//   mode         mirror | instruction | timeline: mirror solves each face's weights and
//                head rotation; instruction / timeline drive the avatar from those alone
//                (mirroring off). In every mode a set instruction and a set timeline
//                overlay the weights (per-weight maximum).                      (mirror)
//   instruction  e.g. "neutral, then very happy over 1.5 s, hold 1 s, then surprised over
//                0.5 s" (engine/avatar/instruction.h); its clock starts at the first frame
//                after it is set. A parse error fails the state change (or stops the
//                stream) naming the property, the column and the word.          ("")
//   timeline     path of a JSON timeline (engine/avatar/timeline.h); errors name the file,
//                the entry and the key.                                         ("")
//   output       replace | side-by-side | pip | warp                            (pip)
//   avatar       .glb / .gltf / .vrm file; "" = the canonical face with the built-in
//                ARKit basis. Targets the avatar lacks are named in one WARNING. ("")
//   shading      flat | lit (Gouraud)                                           (lit)
//   faces        primary (the face tracked longest drives one avatar / is warped) | all
//                (one avatar per face side by side / every face warped)         (primary)
//   pip-size     panel size as a fraction of the frame, 0.1-1                   (0.3)
//   models-dir   folder with the canonical face; default as facetrack's.
// No face in view: the avatar eases back to neutral over 0.5 s and holds it; a face that
// comes back eases in.
//
// Errors: a models folder without the canonical face, an avatar file that cannot be loaded,
// an instruction that does not parse, a timeline that cannot be read or parsed: ERROR on
// READY->PAUSED (or on the frame after the change while playing), naming the element and
// the property.
//
// Threading: the engine object is owned by the streaming thread between start() and stop().
//
//   GST_PLUGIN_PATH=build/plugins gst-launch-1.0 v4l2src ! videoconvert ! facetrack ! faceavatar output=side-by-side ! videoconvert ! autovideosink
#pragma once

#include <gst/gst.h>

#include "plugins/gstfacebase.h"

G_BEGIN_DECLS

#define GST_TYPE_FACE_AVATAR (gst_face_avatar_get_type())
G_DECLARE_FINAL_TYPE(GstFaceAvatar, gst_face_avatar, GST, FACE_AVATAR, GstFaceBase)

GST_ELEMENT_REGISTER_DECLARE(faceavatar);

G_END_DECLS
