// facejson: writes the face results of every frame as one JSON line (the JSON output contract,
// engine/json.h) and passes the video through unchanged.
//
// Input/output: raw video in any GstFaceBase format (plugins/gstformats.h).
// Per frame it writes fg::ToJsonLine of the buffer's GstFaceGraphMeta, or {"pts":..,"faces":[]}
// when the buffer has none; "pts" is always the buffer's PTS in ns (-1 when it has none).
// Each line is flushed as it is written, so `tail -f` shows frames as they happen.
//
// Properties:
//   location  file to write ("-" or empty: stdout). Default "-". Settable in NULL/READY only.
//             The file is opened (truncated) on READY->PAUSED; failure to open fails the state
//             change with a RESOURCE/OPEN_WRITE error naming the path and the reason.
//   summary-location  file for the session summary ("-": stdout). Default unset: the summary
//             is the last line of `location`. Opened like `location` (same errors, naming
//             the property); when set, the frame lines stay pure frames.
//   append    append to the files instead of truncating them on READY->PAUSED (default
//             false); the first line written after earlier ones is marked "gap": true. The
//             runner sets it when it reconnects a source (facegraph run --reconnect).
//   max-size, max-age, max-files  rotation of `location` (a file, not stdout) for runs that
//             never end (facegraph kiosk): before a line that would take the file past
//             max-size bytes, or once it has been open max-age seconds, location.N-1 becomes
//             location.N, ..., location becomes location.1 and a new location is started; at
//             most max-files rotated files are kept (default 10). 0 (default): no rotation.
//             Lines are never split across files; the summary goes to the file open at EOS.
//
// Gaps: a buffer flagged DISCONT after the first (data lost upstream) gets "gap": true in its
// line, right after "{".
//
// Session summary: on EOS (before passing it on) one more line,
//   {"summary": {"tracks": [{"id", "frames", "seconds", "first_pts", "last_pts",
//     "emotion_seconds": {...}, "emotion_share": {...}, "valence", "arousal", "blinks",
//     "blinks_per_minute"}, ...]}}
// with per-track totals over every frame since start (fg::SessionSummary,
// engine/emotion/session_summary.h: time by pts deltas). Readers tell it from frame lines by
// its "summary" key. Written once per start; a stop without EOS writes none.
//
// Threading: the file is owned by the streaming thread between start() and stop().
//
//   gst-launch-1.0 videotestsrc num-buffers=3 ! facejson location=/tmp/faces.jsonl ! fakesink
#pragma once

#include <gst/gst.h>

#include "plugins/gstfacebase.h"

G_BEGIN_DECLS

#define GST_TYPE_FACE_JSON (gst_face_json_get_type())
G_DECLARE_FINAL_TYPE(GstFaceJson, gst_face_json, GST, FACE_JSON, GstFaceBase)

GST_ELEMENT_REGISTER_DECLARE(facejson);

G_END_DECLS
