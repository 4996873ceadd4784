// camera_modes: which of a camera's modes the webcam graphs use (plain C++, no GStreamer).
//
// A camera offers modes: a pixel format (raw, e.g. YUY2, or compressed, e.g. MJPG), a size and
// the frame rates at that size. The runner (facegraph.cc) turns GStreamer's device caps into
// CameraMode rows; tests feed recorded lists (the text `v4l2-ctl --list-formats-ext` prints,
// ParseV4l2FormatList) and check the choice.
//
// The rule (ChooseCameraMode, documented in docs/cameras.md):
//   1. Only modes the graphs can use: raw video or MJPG (H.264 cameras, depth formats: no).
//   2. Modes taller than max_height (default 1080) are left out, unless nothing else is left.
//   3. Among modes reaching 30 fps (29.97 counts): the largest size (width x height); at equal
//      size raw before MJPG (raw costs no decode); among raw formats those the elements take
//      natively before the others; the frame rate is 30 where offered, else the lowest >= 30.
//   4. No mode reaches 30 fps: the highest frame rate any mode reaches, then rule 3 among the
//      modes reaching that rate. Tracking and the pulse need frames more than pixels.
// The choice comes with a sentence saying why, and the caps string to paste into a graph.
//
// Thread-compatible: plain functions over values.
//
//   std::vector<fg::CameraMode> modes = fg::ParseV4l2FormatList(text, &error);
//   fg::CameraChoice c = fg::ChooseCameraMode(modes);
//   if (c.found) std::puts(c.caps.c_str());  // video/x-raw,format=YUY2,width=...,framerate=30/1
#pragma once

#include <string>
#include <vector>

namespace fg {

struct Fps {
  int num = 0;
  int den = 1;
  double value() const { return den > 0 ? static_cast<double>(num) / den : 0; }
};

enum class CameraEncoding { kRaw, kMjpg, kOther };

struct CameraMode {
  CameraEncoding encoding = CameraEncoding::kOther;
  std::string format;  // GStreamer's name for raw formats ("YUY2", "NV12"); "MJPG"; else the FourCC
  int width = 0;
  int height = 0;
  std::vector<Fps> rates;  // the discrete frame rates offered at this size
};

struct CameraChoice {
  bool found = false;
  CameraMode mode;   // rates holds only the chosen rate
  Fps fps;
  std::string caps;  // e.g. "image/jpeg,width=1920,height=1080,framerate=30/1"
  std::string why;   // one sentence
};

constexpr int kDefaultMaxHeight = 1080;

// Picks the mode the webcam graphs use (the rule above). found is false when no mode is usable.
CameraChoice ChooseCameraMode(const std::vector<CameraMode>& modes,
                              int max_height = kDefaultMaxHeight);

// The caps of one mode at one rate, in gst-launch syntax.
std::string CameraCaps(const CameraMode& mode, Fps fps);

// "YUY2 1280x720 @ 30, 15" for listings.
std::string DescribeCameraMode(const CameraMode& mode);

// Maps a V4L2 FourCC ("YUYV", "MJPG", "NV12") to the encoding and GStreamer's format name.
void V4l2FourccToFormat(const std::string& fourcc, CameraEncoding* encoding, std::string* format);

// Parses the output of `v4l2-ctl --list-formats-ext` (discrete sizes and intervals; stepwise
// sizes are skipped). Returns the modes; on text it cannot read, an empty list and *error.
std::vector<CameraMode> ParseV4l2FormatList(const std::string& text, std::string* error);

}  // namespace fg
