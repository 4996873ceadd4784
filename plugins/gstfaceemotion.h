// faceemotion: per-face emotion (fg::EmotionWorker, engine/emotion/emotion_worker.h) written
// into the GstFaceGraphMeta that facetrack attached; the video passes through unchanged.
//
// Place it after facetrack. Per frame, on the streaming thread, for each face of the meta
// (faces need their 468-point mesh) it samples the eye-aligned 64x64 gray crop and hands it
// to the worker thread, which runs the classifier; the element never waits for the worker.
// It then takes whatever results arrived (smoothed per track, label with hysteresis) and
// writes the newest state of each track into that face's `emotion` (label + the seven
// smoothed class probabilities), so facejson's JSON carries it. A face whose track has no
// result yet gets no `emotion` (the first result usually arrives a frame or more after the
// first crop); a buffer without a GstFaceGraphMeta passes untouched.
//
//   streaming thread                                 worker thread (EmotionWorker)
//   ────────────────                                 ─────────────────────────────
//   meta faces ─► Submit (rate check, 64x64 crop) ─► jobs (newest 4 kept) ─► classifier
//   face.emotion ◄── Latest(id) ◄── Poll ◄──────────── results ◄───────────────┘
//   EndStale(pts): tracks absent for longer than the engine's timeout (1 s) are ended
//
// Properties:
//   models-dir       folder with emotion.json (tools/fetch-models). Default:
//                    $FACEGRAPH_MODELS, else the build's default; "" = that default.
//   rate             max classifications per track per second, 0 = every frame  (10.0)
//   time-constant    smoothing time constant in seconds, 0 = none                (0.5)
//   post-messages    post an element message "facegraph-emotion" per track when its label
//                    changes (first label included):
//                    { pts: guint64, id: gint64, label: string, confidence: double } (false)
//   inference        where the network runs (shared):
//                    shared  the process-wide pool of emotion.json (engine/nn/
//                            inference_pool.h): the crops of every faceemotion in the
//                            process are batched and served round-robin per element, so one
//                            busy stream cannot starve the others (docs/streams.md);
//                    private the element's own worker thread and network.
//                    The results and counters mean the same either way.
//   submitted        read-only guint64: crops handed to the worker
//   classified       read-only guint64: crops the worker ran
//   dropped          read-only guint64: crops the worker never ran (its queue kept newer
//                    ones) plus results not taken in time. Once idle (after EOS),
//                    submitted == classified + dropped when no run failed.
// Counters restart at READY->PAUSED. models-dir, rate, time-constant and inference may change
// while playing: the worker is re-created on the next frame (emotion state restarts).
//
// Errors: the worker (and its model) is created on READY->PAUSED; a missing or bad
// emotion.json fails the state change with RESOURCE/OPEN_READ (NOT_FOUND when the folder is
// missing), naming the file. A bad models-dir set while playing stops the stream likewise.
//
// Timing: rate checks, smoothing and the stale timeout go by the meta's pts (the buffer PTS);
// buffers without one use the monotonic clock. A flushing seek, a changed segment, new
// caps or timestamps that go back re-create the worker; a DISCONT buffer (packet loss) is a
// gap: smoothing, labels and the neutral baselines go on across it. On EOS the element waits (at most 5 s) for the
// crops in flight so the counters are final; their results belong to no frame.
//
// Threading: the worker is owned by the streaming thread between start() and stop(); the
// counters may be read from any thread.
//
//   GST_PLUGIN_PATH=build/plugins gst-launch-1.0 filesrc location=photo.png ! pngdec ! imagefreeze num-buffers=30 ! videoconvert ! facetrack ! faceemotion ! facejson ! fakesink
#pragma once

#include <gst/gst.h>

#include "plugins/gstfacebase.h"

G_BEGIN_DECLS

#define GST_TYPE_FACE_EMOTION (gst_face_emotion_get_type())
G_DECLARE_FINAL_TYPE(GstFaceEmotion, gst_face_emotion, GST, FACE_EMOTION, GstFaceBase)

GST_ELEMENT_REGISTER_DECLARE(faceemotion);

G_END_DECLS
