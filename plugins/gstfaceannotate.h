// faceannotate: draws each frame's face results (its GstFaceGraphMeta, e.g. from facetrack)
// into the frame: boxes, ids, the mesh, irises, head-pose axes, the emotion label and a bar
// per class, facial action bars and blinks, heart rate and the pulse trace. A thin adapter over
// fg::draw::FaceOverlay (engine/draw/face_overlay.h), drawing in the frame's own format.
//
// Named faceannotate, not faceoverlay: Debian's gstreamer1.0-plugins-bad (installed by
// tools/setup for the H.264/H.265 parsers, and on most desktops) has an element "faceoverlay"
// (an SVG over OpenCV's face detection) whose GType is GstFaceOverlay too; with both
// installed, the second to load failed to register and every graph using it broke.
//
// Input/output: raw video in any GstFaceBase format (plugins/gstformats.h).
// Frames without a GstFaceGraphMeta (or without faces) pass unchanged. The frame is mapped
// read-write (GstFaceBase writes_pixels): a buffer whose memory is shared with others (tee,
// imagefreeze) is copied before drawing, so they never see the overlay; the meta stays on
// the buffer for elements downstream.
//
// Properties (may change while playing; read under GST_OBJECT_LOCK once per frame):
//   draw-box   face boxes                                                     (true)
//   draw-id    "#<id>" above each box                                         (true)
//   draw-mesh  none | points | wireframe: the 468 landmarks as points, or the canonical
//              face's triangle edges (read from models-dir)                   (points)
//   draw-iris  a circle per iris, when the tracker ran with iris=true         (true)
//   draw-pose  head x/y/z axes (red/green/blue) from the nose tip             (true)
//   draw-emotion  "<label> <confidence>%" below the box (faces with emotion)     (true)
//   draw-bars  a bar per emotion class beside the box, the label's highlighted (true)
//   draw-actions  the facial action measures as bars below the emotion bars, and
//              "blink <count> <rate>/m"                                       (true)
//   draw-vitals  "<bpm> bpm <confidence>%" below the box (grey, "?" after the number when
//              the confidence < 0.5) and the pulse trace (the last 5 s of bvp)  (true)
//   draw-liveness  (faceliveness) the decision with its scores above the id, green / red /
//              yellow for live / spoof / unsure, and a challenge's instruction with the
//              seconds left, or "check passed" / "check failed"                (true)
//   color      0xAARRGGBB of boxes, ids, mesh, irises, text and bars          (0xff00ff00)
//   models-dir folder with the canonical face (wireframe only); default as facetrack's:
//              $FACEGRAPH_MODELS, else the build's default; "" = that default.
// Geometry of the parts: engine/draw/face_overlay.h. Faces without the data of a part
// (no emotion, no vitals, no actions) get nothing drawn for it.
//
// Errors: wireframe with a models folder that lacks the canonical face fails READY->PAUSED
// (RESOURCE/NOT_FOUND or OPEN_READ, naming the folder and file, saying to run
// tools/fetch-models); switching to wireframe while playing loads it then, and stops the
// stream with the same error when it cannot.
//
// Threading: the overlay is owned by the streaming thread between start() and stop().
//
//   GST_PLUGIN_PATH=build/plugins gst-launch-1.0 v4l2src ! videoconvert ! facetrack ! faceannotate draw-mesh=wireframe ! videoconvert ! autovideosink
#pragma once

#include <gst/gst.h>

#include "plugins/gstfacebase.h"

G_BEGIN_DECLS

#define GST_TYPE_FACE_ANNOTATE (gst_face_annotate_get_type())
G_DECLARE_FINAL_TYPE(GstFaceAnnotate, gst_face_annotate, GST, FACE_ANNOTATE, GstFaceBase)

// The enum type of "draw-mesh" ("none", "points", "wireframe").
#define GST_TYPE_FACE_ANNOTATE_MESH (gst_face_annotate_mesh_get_type())
GType gst_face_annotate_mesh_get_type();

GST_ELEMENT_REGISTER_DECLARE(faceannotate);

G_END_DECLS
