// facevitals: heart rate (and, given time, HRV and respiration) of each tracked face by remote
// photoplethysmography (fg::VitalsWorker, engine/vitals/vitals_worker.h) written into the
// GstFaceGraphMeta; the video passes through unchanged.
//
// Face mode (default): place it after facetrack. Per frame, on the streaming thread, each
// face of the meta (faces need their 468-point mesh) has its skin sampled on the STGraph's 48
// patches (~0.1 ms) and handed to the worker thread, which owns the estimator (methods,
// graph smoothing, fusion, Welch, HRV, respiration; once a second per track). The element
// never waits for the worker: a full queue drops frames (counted). It takes whatever results
// arrived and writes each track's newest valid result into that face's `vitals`. A face gets
// no `vitals` before its track has 5 s of data (the estimator's min_seconds); a buffer
// without a GstFaceGraphMeta passes untouched.
//
// Region mode (mode=region): no face needed (a skin-patch camera, a pre-cropped forehead
// video, a lab rig). The rectangle `region` (empty = the whole frame) is cut into 4 x 4 cells
// measured with the same methods, and reported as the pseudo-face id 0 whose box is the
// rectangle (clipped to the frame); the meta is added when the buffer has none.
//
//   streaming thread                                   worker thread (VitalsWorker)
//   ────────────────                                   ────────────────────────────
//   meta faces ─► Submit (patch colours) ──► jobs (newest 256) ──► VitalsEstimator
//   (or region ─► SubmitRegion)                                    UpdateDue (1/s per track)
//   face.vitals ◄── Latest(id) ◄── Poll ◄───────────── results ◄──────────┘
//   tracks absent for 2 s are ended
//
// Properties:
//   models-dir      folder with the canonical face (face mode). Default $FACEGRAPH_MODELS,
//                   else the build's default; "" = that default.
//   method          green | chrom | pos | lgi | pbv | omit (default: VitalsOptions' default)
//   window          Welch window in seconds, 4..30 (10)
//   mode            face | region (face)
//   region          "x,y,w,h" in frame pixels; "" = the whole frame (region mode) ("")
//   post-messages   element message "facegraph-vitals" for each valid update of a track (once
//                   a second of pts): { pts: guint64 (the newest frame used), id: gint64, bpm,
//                   snr, confidence: double }. Every update is posted, also when the worker
//                   lags behind a file decoded faster than real time, and the updates still in
//                   flight at EOS (false)
//   bvp             attach the pulse waveform (vitals.bvp, bvp_fs) to the meta (false)
//   submitted       read-only guint64: face samples handed to the worker
//   processed       read-only guint64: samples the worker took into the estimator
//   dropped         read-only guint64: samples never analysed (queue full, or discarded at a
//                   restart) plus results not taken in time; after EOS,
//                   submitted == processed + dropped.
// Counters restart at READY->PAUSED. Every property may change while playing; all but
// post-messages and bvp re-create the worker on the next frame (the measurement restarts).
//
// Errors: a `region` that is not "x,y,w,h" (or lies outside the frame in region mode), and a
// canonical face that cannot be loaded (face mode), fail READY->PAUSED (or stop the stream
// when set while playing) with an error naming the property or the file. A bad `method` or
// `mode` name is refused by GStreamer's own enum parsing, which names the property.
//
// Timing: by the meta's pts (the buffer PTS; without one, the monotonic clock). A flushing
// seek, a changed segment, new caps or timestamps that go back re-create the worker; a
// DISCONT buffer (packet loss) is a gap: the window is resampled across it and the
// confidence's gap factor falls while the gap is in the window. On EOS the element waits (at most
// 1 s) for the samples in flight so that the counters are final.
//
// Threading: the worker is owned by the streaming thread between start() and stop(); the
// counters may be read from any thread.
//
//   GST_PLUGIN_PATH=build/plugins gst-launch-1.0 v4l2src ! videoconvert ! facetrack ! facevitals post-messages=true ! faceannotate ! videoconvert ! autovideosink -m
#pragma once

#include <gst/gst.h>

#include "plugins/gstfacebase.h"

G_BEGIN_DECLS

#define GST_TYPE_FACE_VITALS (gst_face_vitals_get_type())
G_DECLARE_FINAL_TYPE(GstFaceVitals, gst_face_vitals, GST, FACE_VITALS, GstFaceBase)

GST_ELEMENT_REGISTER_DECLARE(facevitals);

GType gst_face_vitals_method_get_type();
#define GST_TYPE_FACE_VITALS_METHOD (gst_face_vitals_method_get_type())
GType gst_face_vitals_mode_get_type();
#define GST_TYPE_FACE_VITALS_MODE (gst_face_vitals_mode_get_type())

G_END_DECLS
