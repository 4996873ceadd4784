#include "plugins/gstformats.h"

std::optional<fg::PixelFormat> gst_face_engine_format(GstVideoFormat format) {
  for (const auto& [gst, engine] : kGstFormats)
    if (gst == format) return engine;
  return std::nullopt;
}

GstVideoFormat gst_face_video_format(fg::PixelFormat format) {
  for (const auto& [gst, engine] : kGstFormats)
    if (engine == format) return gst;
  return GST_VIDEO_FORMAT_UNKNOWN;
}

std::string gst_face_format_names() {
  std::string out;
  for (const auto& [gst, engine] : kGstFormats) {
    if (!out.empty()) out += ", ";
    out += gst_video_format_to_string(gst);
  }
  return out;
}

GstCaps* gst_face_formats_caps(const char* fields) {
  const std::string s = "video/x-raw, format = (string) { " + gst_face_format_names() + " }, " + fields;
  return gst_caps_from_string(s.c_str());
}
