// facesynthsrc: a live-capable video source of a face with a known pulse: the public-domain
// astronaut photo animated by fg::FaceSynth (engine/synth/face_synth.h): skin perfusion at a
// set heart rate or trajectory, breathing or head motion, light drift, sensor noise, jittered
// and dropped frames, and optionally known facial expressions (an instruction warps the face
// by blendshape weights over time, engine/synth/expression_track.h). It can write its ground
// truth per frame to a CSV side file, so a graph can be scored against it ("estimated vs true
// bpm", "mirrored vs true blendshape weights").
//
// Output: raw video in any engine format (plugins/gstformats.h; YUV is BT.601 limited range), width and height 16..8192, framerate 1..1000 (fixed rate: the nominal
// clock; jitter and drops move timestamps around it). Fixates to 640x480 at 30/1 RGB unless
// downstream asks otherwise. Buffers carry PTS (the truth's pts_ns, from 0), DURATION (one
// frame interval) and OFFSET (the frame index on the nominal clock: dropped frames leave
// gaps). New caps mid-stream restart the scene's clock, not the stream's: timestamps and
// offsets continue after the last buffer. Not seekable; num-buffers ends the stream.
//
// Properties (settable in NULL/READY; applied on the next start):
//   is-live               push in real time, by the timestamps (default false)
//   photo                 the PNG to animate (default: the astronaut of python3-imageio)
//   heart-rate            bpm, 20..250 (72)
//   heart-rate-trajectory "t:bpm,t:bpm,..." piecewise-linear, overrides heart-rate ("")
//   amplitude             largest green change on the skin, grey levels peak to peak (1.0)
//   breathing-rate        breaths per minute, 0..60 (15)
//   motion                none | breathing | head (breathing)
//   light-drift           relative amplitude of a 60 s global gain drift, 0..0.9 (0)
//   noise                 sensor noise sigma in grey levels, 0..50 (0)
//   jitter                timestamp jitter sigma in frame intervals, 0..0.45 (0)
//   drop                  probability of a dropped frame, 0..0.5 (0)
//   seed                  noise, jitter and drop seed (1)
//   truth-location        CSV file for the ground truth ("" = none); header line, then per
//                         frame: pts_ns,frame,phase,bpm,pulse,breathing_phase,light_gain,dx,
//                         dy,roll_deg,scale (phase and breathing_phase in cycles since 0:
//                         the fractional part is the position in the beat, 0 = its foot);
//                         with expression set, then one column per blendshape of the avatar
//                         basis (engine/avatar/blendshapes.h: its 37 ARKit names, basis order,
//                         e.g. eyeBlinkLeft, jawOpen, mouthSmileLeft), weights 0..1: a fixed
//                         schema whatever the instruction (rather than only the non-zero
//                         ones), so scripts read a column by name; unused ones stay 0
//   expression            instruction the face follows (engine/avatar/instruction.h), e.g.
//                         "neutral, then very happy over 1.5 s, hold 1 s, then surprised
//                         over 0.5 s"; time 0 is the start of the scene's clock ("" = none).
//                         The face is found once (FaceTracker) on the still photo at the
//                         negotiated size, so the face must be findable there (640x480 is)
//   models-dir            the tracker's models and the canonical face, for expression
//                         (default $FACEGRAPH_MODELS, else the build's default)
//
// Errors: a bad heart-rate-trajectory, a photo that cannot be read, a truth file that cannot
// be opened or a bad expression (the column and the word: "property expression \"...\":
// column 20 (\"hapy\"): unknown word ...") fail the change to PAUSED with RESOURCE/SETTINGS
// (or OPEN_READ/OPEN_WRITE, NOT_FOUND for models-dir) naming the element, the property and
// the value. No face found at the negotiated size fails negotiation, naming expression.
// Out-of-range numbers are refused by GObject.
//
// Threading: the synthesiser and the truth file are owned by the streaming thread between
// start() and stop(); properties are read under GST_OBJECT_LOCK in start().
//
//   GST_PLUGIN_PATH=build/plugins gst-launch-1.0 facesynthsrc num-buffers=300 heart-rate=80 truth-location=/tmp/truth.csv ! videoconvert ! autovideosink
//   ... facesynthsrc expression="neutral, then very happy over 1.5 s" truth-location=/tmp/t.csv ! ...
#pragma once

#include <gst/base/gstpushsrc.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_FACE_SYNTH_SRC (gst_face_synth_src_get_type())
G_DECLARE_FINAL_TYPE(GstFaceSynthSrc, gst_face_synth_src, GST, FACE_SYNTH_SRC, GstPushSrc)

// The enum type of the "motion" property ("none", "breathing", "head").
#define GST_TYPE_FACE_SYNTH_MOTION (gst_face_synth_motion_get_type())
GType gst_face_synth_motion_get_type();

GST_ELEMENT_REGISTER_DECLARE(facesynthsrc);

G_END_DECLS
