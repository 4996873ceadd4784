// The kiosk's config file (`facegraph kiosk CONFIG`, docs/kiosk.md): `key = value` lines turned
// into a KioskConfig. Plain C++ (no GStreamer), a library of its own so that the runner
// (tools/runner/kiosk.h) and the fuzzer (tools/fuzz/fuzz_kiosk_config.cc) link the same parser.
//
// Syntax: one `key = value` per line, '#' starts a comment line, blank lines ignored, spaces
// around key and value ignored, every key at most once. An unknown key, a bad value, a line
// without '=', a control character (plain text only; tabs count as spaces) or a contradiction
// between keys is an error naming the file and the line:
//   kiosk.conf:4: json-max-size: "12Q" is not a size (e.g. 64M, 512K, 0 = off)
// Values quoted in errors are cut to 80 bytes and control characters shown as '?', so a binary
// or huge file gives a readable one-line message. KioskConfig below lists the keys and their
// defaults; tools/kiosk/kiosk.conf is the documented example.
//
// Threading: pure functions (LoadKioskConfig reads the file); reentrant.
//
// Example:
//   fg::KioskConfig cfg;
//   std::string error;
//   if (!fg::LoadKioskConfig("/etc/facegraph/kiosk.conf", &cfg, &error)) Fail(error);
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace fg {

struct KioskConfig {
  std::string camera = "/dev/video0";  // camera: a V4L2 device
  std::string source;                  // source: a gst-launch fragment instead of the camera
  std::string graph;                   // graph: a whole graph file instead of the generated one
  int width = 0, height = 0;           // width, height: 0 = the camera's best mode
  int fps = 30;                        // fps
  int max_height = 720;                // max-height: the best mode's limit
  bool emotion = true, vitals = true;  // analysis = track [emotion] [vitals]
  std::string extra;                   // extra: elements after the analysis (e.g. liveness)
  bool annotate = true;                // annotate: draw the results
  std::string display = "fullscreen";  // display: fullscreen | window | none
  std::string display_sink;            // display-sink: an element (fragment) instead
  std::string json;                    // json: file for the JSON lines ("" none)
  uint64_t json_max_size = 0;          // json-max-size: rotate at this size (0 off; K, M, G)
  uint64_t json_max_age_s = 0;         // json-max-age: rotate after this (0 off; s, m, h, d)
  int json_max_files = 10;             // json-max-files: rotated files kept (.1 newest)
  bool privacy = false;                // privacy: never a frame to a file or network
  bool blur_faces = false;             // blur-faces: pixelate faces in the display
  double stall_timeout_s = 2;          // stall-timeout: no frame for this long: rebuild (<= 1 h)
  double max_backoff_s = 1;            // max-backoff: the longest wait between attempts (<= 1 h)
  std::string metrics_host = "127.0.0.1";  // metrics: HOST:PORT ([V6]:PORT) or off
  int metrics_port = 9464;
  bool metrics = true;
  bool page = false;                   // page: the live page (docs/page.md) on the metrics
                                       // server too; needs metrics, refused with privacy
};

// The largest config file read (a kiosk config is a few hundred bytes).
inline constexpr size_t kMaxKioskConfigBytes = 1 << 20;

// Parses config text; `name` is used in errors ("NAME:LINE: ..."). False with *error; *cfg then
// holds the keys before the bad line.
bool ParseKioskConfig(const std::string& text, const std::string& name, KioskConfig* cfg,
                      std::string* error);
// Reads and parses a file. False with *error naming the path: missing, unreadable, not a regular
// file (a directory would otherwise read as an empty config), over kMaxKioskConfigBytes.
bool LoadKioskConfig(const std::string& path, KioskConfig* cfg, std::string* error);

}  // namespace fg
