// Real and synthetic frames for the facetrack / faceannotate tests: the astronaut photo
// (decoded with libpng, tests/nn), pasted, mirrored and scaled on plain canvases, and turned
// into GstBuffers of any engine format with optional row padding (GstVideoMeta).
//
// Threading: call from the test thread.
#pragma once

#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fgtest {

// Packed 8-bit RGB, w*h*3.
struct Rgb {
  int w = 0, h = 0;
  std::vector<uint8_t> px;
};

// The astronaut photo (512x512; the face is near x 180..270, y 70..175).
const Rgb& Astronaut();
// A w x h canvas of one grey level.
Rgb Canvas(int w, int h, uint8_t grey);
// Copies src into dst with its top-left at (x, y) (clipped), mirrored left-right if asked.
void Paste(Rgb& dst, const Rgb& src, int x, int y, bool mirror = false);
// Nearest-neighbour resize.
Rgb Resize(const Rgb& src, int w, int h);
// The region [x, x+w) x [y, y+h) of src.
Rgb Crop(const Rgb& src, int x, int y, int w, int h);

// A buffer of `format` holding the picture (converted by GstVideoConverter), each plane's
// rows padded by `pad` bytes and planes separated by a gap when pad > 0 (described by a
// GstVideoMeta). PTS pts, duration 1/30 s.
GstBuffer* MakeFrame(const Rgb& rgb, GstVideoFormat format, int pad, GstClockTime pts);
// Caps for format, w x h, 30 fps.
std::string VideoCaps(GstVideoFormat format, int w, int h);

// An element of `factory` with properties from "name=value name=value ..." (parsed as
// gst-launch would), in a harness on its "sink" and "src" pads.
GstHarness* HarnessFor(const std::string& factory, const std::string& props);

// Whether two buffers hold the same bytes.
bool SameBytes(GstBuffer* a, GstBuffer* b);

}  // namespace fgtest
