// The one mapping between GStreamer's raw video formats and the engine's fg::PixelFormat.
//
// Every facegraph element takes its format list from here: GstFaceBase's pad templates and
// its CAPS check, facesynthsrc's template and its set_caps. A format the engine gains
// (engine/pixel_format.h) becomes usable in GStreamer with one row in kGstFormats.
//
// Threading: constants and pure functions; the caps functions return new references.
//
// Example:
//   GstCaps* caps = gst_face_formats_caps("width = (int) [ 1, max ], height = (int) [ 1, max ]");
//   gst_element_class_add_pad_template(klass, gst_pad_template_new("sink", GST_PAD_SINK,
//                                                                  GST_PAD_ALWAYS, caps));
#pragma once

#include <gst/video/video.h>

#include <array>
#include <optional>
#include <string>
#include <utility>

#include "engine/pixel_format.h"

inline constexpr std::array<std::pair<GstVideoFormat, fg::PixelFormat>, fg::kPixelFormatCount> kGstFormats{{
    {GST_VIDEO_FORMAT_RGB, fg::PixelFormat::kRGB},
    {GST_VIDEO_FORMAT_BGR, fg::PixelFormat::kBGR},
    {GST_VIDEO_FORMAT_RGBA, fg::PixelFormat::kRGBA},
    {GST_VIDEO_FORMAT_BGRA, fg::PixelFormat::kBGRA},
    {GST_VIDEO_FORMAT_GRAY8, fg::PixelFormat::kGRAY8},
    {GST_VIDEO_FORMAT_NV12, fg::PixelFormat::kNV12},
    {GST_VIDEO_FORMAT_I420, fg::PixelFormat::kI420},
    {GST_VIDEO_FORMAT_YUY2, fg::PixelFormat::kYUY2},
    {GST_VIDEO_FORMAT_UYVY, fg::PixelFormat::kUYVY},
    {GST_VIDEO_FORMAT_NV21, fg::PixelFormat::kNV21},
    {GST_VIDEO_FORMAT_RGBx, fg::PixelFormat::kRGBx},
    {GST_VIDEO_FORMAT_BGRx, fg::PixelFormat::kBGRx},
    {GST_VIDEO_FORMAT_xRGB, fg::PixelFormat::kxRGB},
    {GST_VIDEO_FORMAT_xBGR, fg::PixelFormat::kxBGR},
}};

// The engine format of a GStreamer one; nullopt when the engine has none.
std::optional<fg::PixelFormat> gst_face_engine_format(GstVideoFormat format);
// The GStreamer format of an engine one.
GstVideoFormat gst_face_video_format(fg::PixelFormat format);
// "RGB, BGR, ..., xBGR": the GStreamer names of every format in kGstFormats (for messages).
std::string gst_face_format_names();
// video/x-raw caps with format = { every format in kGstFormats } and the given extra fields
// (a caps-string fragment such as "width = (int) [ 1, max ]"). Transfer full.
GstCaps* gst_face_formats_caps(const char* fields);
