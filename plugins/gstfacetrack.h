// facetrack: finds and tracks faces (fg::FaceTracker, engine/tracking/face_tracker.h) and
// attaches the results to each frame; the video passes through unchanged.
//
// Input/output: raw video in any GstFaceBase format (plugins/gstformats.h),
// any size. Per frame it attaches
//   - one GstFaceGraphMeta (plugins/gstfacemeta.h): fg::FrameFaces with the buffer's PTS and
//     per face: id, box, score (face presence), 468 landmarks (478 with iris), head pose;
//   - one GstVideoRegionOfInterestMeta per face, roi type "face", id = the face id, clamped to
//     the frame, with a param structure "face" { id: gint64, score: double }, so stock
//     elements (and applications that know nothing of facegraph) can read the boxes.
// Frames without faces get an empty GstFaceGraphMeta (never none: "no face" is a result).
//
// Properties (all may change while playing; they are read under GST_OBJECT_LOCK and applied
// by the streaming thread on the next frame):
//   models-dir            folder with blazeface.json, facemesh.json, iris.json and the
//                         canonical face (tools/fetch-models). Default: $FACEGRAPH_MODELS, else
//                         the build's default (~/.cache/facegraph/models); "" = that default.
//   backend               auto | xnnpack | reference                       (default auto)
//   max-faces             faces tracked at once, 1..64                            (16)
//   detect-interval       frames between detector runs while all tracks are fine  (15)
//   track-grace           seconds of pts a lost face keeps its id, 0..3600        (0.5)
//   min-detection-score   detector threshold, 0..1                                (0.5)
//   min-presence          FaceMesh face-presence threshold, 0..1                  (0.5)
//   iris                  run the Iris model: 10 more landmarks, refined eyelids  (false)
//   smoothing             One Euro smoothing of the landmarks                     (true)
//   smoothing-min-cutoff  One Euro min cut-off in Hz (lower = smoother)           (1.0)
//   smoothing-beta        One Euro speed coefficient (higher = less lag)          (10.0)
//   post-messages         post an element message "facegraph-faces" per frame:
//                         { pts: guint64, count: guint, ids: array of gint64 }    (false)
// FaceTracker cannot change its options in place, so any tracker property change re-creates
// it (model files are loaded again); tracks restart, ids stay unique (they continue from the
// last one issued).
//
// Errors: the tracker is created on READY->PAUSED; a models folder that is missing fails the
// state change with RESOURCE/NOT_FOUND, one whose files cannot be loaded with
// RESOURCE/OPEN_READ; both name the folder (and the file) and say to run tools/fetch-models.
// A bad models-dir set while playing stops the stream with the same error.
//
// Tracking state is reset on FLUSH_STOP (flushing seek), on a changed SEGMENT, on new caps
// and when timestamps go back. A buffer flagged DISCONT (packet loss) is a gap, counted in
// `gaps`: tracks keep their ids through a gap shorter than `track-grace` seconds. Tracking is
// synchronous, so EOS needs nothing.
//
// Threading: the tracker is owned by the streaming thread between start() and stop().
//
//   GST_PLUGIN_PATH=build/plugins gst-launch-1.0 -m filesrc location=photo.png ! pngdec ! imagefreeze num-buffers=30 ! videoconvert ! facetrack post-messages=true ! fakesink
#pragma once

#include <gst/gst.h>

#include "plugins/gstfacebase.h"

G_BEGIN_DECLS

#define GST_TYPE_FACE_TRACK (gst_face_track_get_type())
G_DECLARE_FINAL_TYPE(GstFaceTrack, gst_face_track, GST, FACE_TRACK, GstFaceBase)

// The enum type of the "backend" property ("auto", "xnnpack", "reference").
#define GST_TYPE_FACE_TRACK_BACKEND (gst_face_track_backend_get_type())
GType gst_face_track_backend_get_type();

GST_ELEMENT_REGISTER_DECLARE(facetrack);

G_END_DECLS
