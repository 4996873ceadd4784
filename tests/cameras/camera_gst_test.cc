// The runner's GStreamer camera side (tools/runner/cameras.h) without a camera: device caps as
// v4l2src reports them turned into modes, and the device and caps put into a parsed camera
// graph (the pipeline is only parsed, never started).
#include "tools/runner/cameras.h"

#include <gst/gst.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace fg {
namespace {

GstCaps* Caps(const char* text) {
  GstCaps* caps = gst_caps_from_string(text);
  EXPECT_NE(caps, nullptr) << text;
  return caps;
}

// v4l2src's caps of a USB 2 webcam: frame rates as lists and single fractions, repeated
// structures for the same format and size (merged), an H.264 structure.
TEST(CameraGst, DeviceCapsBecomeModesAndTheChoiceFollows) {
  GstCaps* caps = Caps(
      "video/x-raw, format=YUY2, width=640, height=480, framerate={ (fraction)30/1, (fraction)15/1 };"
      "video/x-raw, format=YUY2, width=1280, height=720, framerate=10/1;"
      "video/x-raw, format=YUY2, width=1280, height=720, framerate=(fraction)15/2, colorimetry=bt709;"
      "image/jpeg, width=1280, height=720, framerate={ (fraction)30/1, (fraction)24/1 };"
      "video/x-h264, width=1920, height=1080, framerate=30/1, stream-format=byte-stream");
  const std::vector<CameraMode> modes = ModesFromCaps(caps);
  gst_caps_unref(caps);
  ASSERT_EQ(modes.size(), 4u);
  EXPECT_EQ(DescribeCameraMode(modes[0]), "YUY2 640x480 @ 30, 15 fps");
  EXPECT_EQ(DescribeCameraMode(modes[1]), "YUY2 1280x720 @ 10, 7.50 fps");
  EXPECT_EQ(DescribeCameraMode(modes[2]), "MJPG 1280x720 @ 30, 24 fps");
  EXPECT_EQ(modes[3].encoding, CameraEncoding::kOther);
  EXPECT_EQ(ChooseCameraMode(modes).caps, "image/jpeg,width=1280,height=720,framerate=30/1");
}

// Some drivers give a frame-rate range: 30 is offered when inside it.
TEST(CameraGst, FrameRateRangeOffersThirtyWhenInside) {
  GstCaps* caps = Caps("video/x-raw, format=NV12, width=1920, height=1080, framerate=[ 1/1, 60/1 ]");
  const std::vector<CameraMode> modes = ModesFromCaps(caps);
  gst_caps_unref(caps);
  ASSERT_EQ(modes.size(), 1u);
  EXPECT_EQ(ChooseCameraMode(modes).caps, "video/x-raw,format=NV12,width=1920,height=1080,framerate=30/1");
}

std::string PropertyString(GstElement* e, const char* name) {
  gchar* v = nullptr;
  g_object_get(e, name, &v, nullptr);
  std::string s = v ? v : "";
  g_free(v);
  return s;
}

std::string CapsOf(GstElement* filter) {
  GstCaps* caps = nullptr;
  g_object_get(filter, "caps", &caps, nullptr);
  gchar* text = gst_caps_to_string(caps);
  std::string s = text;
  g_free(text);
  gst_caps_unref(caps);
  return s;
}

GstElement* Parse(const char* description) {
  GError* err = nullptr;
  GstElement* p = gst_parse_launch(description, &err);
  EXPECT_EQ(err, nullptr) << (err ? err->message : "");
  g_clear_error(&err);
  return p;
}

TEST(CameraGst, GivenDeviceAndCapsReplaceTheGraphsOwn) {
  GstElement* p = Parse(
      "v4l2src name=src device=/dev/video0 ! capsfilter name=f caps=\"video/x-raw,framerate=30/1;"
      "image/jpeg,framerate=30/1\" ! fakesink");
  CameraOptions opt;
  opt.device = "/dev/video77";
  opt.caps = "image/jpeg,width=1280,height=720,framerate=30/1";
  CameraSetup setup;
  std::string error;
  ASSERT_TRUE(PrepareCamera(p, opt, &setup, &error)) << error;
  GstElement* src = gst_bin_get_by_name(GST_BIN(p), "src");
  GstElement* f = gst_bin_get_by_name(GST_BIN(p), "f");
  EXPECT_EQ(PropertyString(src, "device"), "/dev/video77");
  EXPECT_EQ(CapsOf(f), "image/jpeg, width=(int)1280, height=(int)720, framerate=(fraction)30/1");
  gst_object_unref(src);
  gst_object_unref(f);
  gst_object_unref(p);
}

// No camera at the device: the graph's caps stay (the start then fails naming the device).
TEST(CameraGst, AbsentCameraLeavesTheGraphsCaps) {
  GstElement* p = Parse(
      "v4l2src name=src device=/dev/video77 ! capsfilter name=f caps=\"video/x-raw,framerate=30/1\" ! fakesink");
  CameraSetup setup;
  std::string error;
  ASSERT_TRUE(PrepareCamera(p, CameraOptions{}, &setup, &error)) << error;
  EXPECT_TRUE(setup.has_v4l2src);
  EXPECT_TRUE(setup.caps.empty());
  GstElement* f = gst_bin_get_by_name(GST_BIN(p), "f");
  EXPECT_EQ(CapsOf(f), "video/x-raw, framerate=(fraction)30/1");
  gst_object_unref(f);
  gst_object_unref(p);
}

TEST(CameraGst, CameraFlagWithoutV4l2srcIsRefused) {
  GstElement* p = Parse("videotestsrc ! fakesink");
  CameraOptions opt;
  opt.device = "/dev/video0";
  opt.device_from_flag = true;
  CameraSetup setup;
  std::string error;
  EXPECT_FALSE(PrepareCamera(p, opt, &setup, &error));
  EXPECT_NE(error.find("no v4l2src"), std::string::npos) << error;
  opt.device_from_flag = false;  // FACEGRAPH_CAMERA: ignored for graphs without a camera
  EXPECT_TRUE(PrepareCamera(p, opt, &setup, &error));
  gst_object_unref(p);
}

// The control lock is only for graphs with both v4l2src and facevitals, unless turned off.
TEST(CameraGst, ControlLockOnlyForCameraGraphsWithVitals) {
  GstElement* vitals = Parse("v4l2src device=/dev/video77 ! facevitals ! fakesink");
  GstElement* no_vitals = Parse("v4l2src device=/dev/video77 ! fakesink");
  GstElement* no_camera = Parse("videotestsrc ! facevitals ! fakesink");
  ASSERT_TRUE(vitals && no_vitals && no_camera);
  EXPECT_TRUE(CameraControlLock(vitals, CameraOptions{}).active());
  EXPECT_FALSE(CameraControlLock(no_vitals, CameraOptions{}).active());
  EXPECT_FALSE(CameraControlLock(no_camera, CameraOptions{}).active());
  CameraOptions off;
  off.lock_controls = false;
  EXPECT_FALSE(CameraControlLock(vitals, off).active());
  // Without a device to open, polling past the settling time logs and does not crash.
  CameraControlLock lock(vitals, CameraOptions{});
  lock.Poll(1, true);
  lock.Poll(1 + 3'000'000'000LL, true);
  lock.Restore();
  for (GstElement* p : {vitals, no_vitals, no_camera}) gst_object_unref(p);
}

}  // namespace
}  // namespace fg

int main(int argc, char** argv) {
  // The build's plugin, scanned in this process into the test's own registry (no scanner
  // helper: under FG_SANITIZE the plugin is instrumented and the helper is not).
  setenv("GST_REGISTRY", FG_TEST_REGISTRY, 1);
  gst_registry_fork_set_enabled(FALSE);
  gst_init(&argc, &argv);
  gst_registry_scan_path(gst_registry_get(), FG_PLUGIN_DIR);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
