// faceliveness: is the tracked face a live person rather than a photo or a screen? Two
// checks, each optional, written into each face's `liveness` in the GstFaceGraphMeta (so
// facejson writes "liveness": {"real", "live", "decision", "challenge"} and faceannotate
// draws it); the video passes through unchanged.
//
//   passive  Human 3.3.6's antispoof and liveness networks on each track's crop, on a worker
//            thread (fg::LivenessWorker, engine/liveness/liveness_worker.h), smoothed per
//            track with a decision live / spoof / unsure (liveness_tracker.h)
//   active   a challenge (fg::ChallengeTracks, engine/liveness/challenge.h): the person is
//            asked to blink, turn the head left or right, or smile, one step at a time, each
//            within challenge-timeout seconds; measured with the blink count and smile of the
//            facial action measures (engine/emotion/face_actions.h, computed here on the
//            streaming thread) and the head pose of facetrack
//
// Place it after facetrack (iris=true for blink steps: without Iris the eyelids barely move).
// Per frame, on the streaming thread: due tracks are cropped (192x192, resized to the
// networks' 128 and 32) and handed to the worker; whatever results arrived are smoothed; the
// challenge of every track advances. The element never waits for the worker.
//
// The decision written to the face:
//   no challenge           the passive decision ("unsure" until 0.5 s of results)
//   challenge, asking      "spoof" if the passive decision is spoof, else "unsure"
//   challenge, failed      "spoof"
//   challenge, passed      the passive decision, or "live" when passive=false
// A new track (a new person) gets a new challenge from its first step.
//
// Properties:
//   models-dir         folder with antispoof.json and liveness.json (tools/fetch-models).
//                      Default: $FACEGRAPH_MODELS, else the build's default; "" = that default
//   passive            run the two networks (true). false: the challenge alone decides (the
//                      models are still loaded, so a missing model fails the start)
//   rate               network runs per track per second, 0 = every frame        (5.0)
//   time-constant      smoothing time constant of the scores in seconds           (1.0)
//   real-threshold     antispoof score threshold of the decision                  (0.5)
//   live-threshold     liveness score threshold of the decision                   (0.5)
//   challenge          steps, e.g. "blink,turn-left,turn-right,smile" ("" = none)
//   challenge-timeout  seconds allowed per step                                   (5.0)
//   turn-angle         degrees of yaw change that count as a turn                 (15.0)
//   smile-threshold    smile intensity (0..1 against the track's neutral) for a smile (0.4);
//                      the face must be seen at rest (below half of it) during the step first
//   post-messages      also post "facegraph-liveness" when a track's decision changes:
//                      { pts: guint64, id: gint64, decision: string, real: double,
//                        live: double }                                           (false)
//   inference          shared (the process-wide pools of both models, batched across
//                      every stream, round-robin: as faceemotion's) or private (an own
//                      worker thread)                                             (shared)
//   submitted / classified / dropped   read-only guint64 counters of the worker (as
//                      faceemotion's: once idle, submitted == classified + dropped)
// Bus: with a challenge, an element message "facegraph-liveness-challenge" each time a
// track's challenge asks a new step, passes or fails: { pts: guint64, id: gint64, ask: string
// ("blink", "turn-left", "turn-right", "smile"), instruction: string ("Please blink", "Turn
// your head left", ...), state: string ("asking", "passed", "failed"), step: gint, steps:
// gint, timeout: double }. A kiosk shows the instruction; the overlay draws it too.
// Counters restart at READY->PAUSED. Every property may change while playing: worker
// settings re-create the worker on the next frame; challenge settings restart every track's
// challenge.
//
// Errors: the models are loaded on READY->PAUSED; a missing or bad file fails the state
// change with RESOURCE/OPEN_READ (NOT_FOUND when the folder is missing), naming the file. An
// unknown challenge word fails it with RESOURCE/SETTINGS naming the word (set while playing:
// the stream stops with the same error).
//
// Timing: rates, smoothing and challenge time limits go by the buffer PTS (the meta's pts);
// a flush, a changed segment, new caps or time going back restart every track; a DISCONT is
// a gap and changes nothing.
//
// Threading: the worker and the per-track state belong to the streaming thread between
// start() and stop(); the counters may be read from any thread.
//
//   GST_PLUGIN_PATH=build/plugins gst-launch-1.0 v4l2src ! decodebin ! videoconvert ! facetrack iris=true ! faceliveness challenge=blink,turn-left ! faceannotate ! videoconvert ! autovideosink
#pragma once

#include <gst/gst.h>

#include "plugins/gstfacebase.h"

G_BEGIN_DECLS

#define GST_TYPE_FACE_LIVENESS (gst_face_liveness_get_type())
G_DECLARE_FINAL_TYPE(GstFaceLiveness, gst_face_liveness, GST, FACE_LIVENESS, GstFaceBase)

GST_ELEMENT_REGISTER_DECLARE(faceliveness);

G_END_DECLS
