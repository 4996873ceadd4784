// The webcam graphs' mode choice (tools/runner/camera_modes.h) on recorded mode lists of real
// webcam types (tests/cameras/data: typical `v4l2-ctl --list-formats-ext` output for such
// cameras, written from their published specifications, not captures of one device).
#include "tools/runner/camera_modes.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/cameras/recorded_list.h"

namespace fg {
namespace {

std::vector<CameraMode> Load(const std::string& name) {
  std::string error;
  std::vector<CameraMode> modes = ParseV4l2FormatList(testing::RecordedList(name), &error);
  EXPECT_FALSE(modes.empty()) << name << ": " << error;
  return modes;
}

TEST(CameraModes, ParsesTheFormatListWithItsRates) {
  const std::vector<CameraMode> modes = Load("usb2-1080p-webcam.txt");
  // 7 YUYV sizes, 3 H264, 7 MJPG.
  ASSERT_EQ(modes.size(), 17u);
  EXPECT_EQ(modes[0].format, "YUY2");
  EXPECT_EQ(modes[0].encoding, CameraEncoding::kRaw);
  EXPECT_EQ(modes[0].width, 640);
  EXPECT_EQ(modes[0].height, 480);
  ASSERT_EQ(modes[0].rates.size(), 7u);
  EXPECT_EQ(modes[0].rates[0].num, 30);
  EXPECT_EQ(modes[0].rates[0].den, 1);
  EXPECT_EQ(modes[0].rates[5].num, 15);  // 7.5 fps
  EXPECT_EQ(modes[0].rates[5].den, 2);
  EXPECT_EQ(modes[7].encoding, CameraEncoding::kOther);  // H264
  EXPECT_EQ(modes[16].format, "MJPG");
  EXPECT_EQ(modes[16].width, 1920);
}

TEST(CameraModes, Ntsc2997IsReadAsTheExactFraction) {
  const std::vector<CameraMode> modes = Load("usb3-raw.txt");
  ASSERT_FALSE(modes.empty());
  ASSERT_EQ(modes[0].rates.size(), 1u);
  EXPECT_EQ(modes[0].rates[0].num, 30000);
  EXPECT_EQ(modes[0].rates[0].den, 1001);
}

// USB 2 1080p webcam (C920 kind): raw 1080p runs at 5 fps, MJPG at 30 -> MJPG 1080p.
TEST(CameraModes, Usb2WebcamTakesMjpg1080pBecauseRawIsTooSlowThere) {
  const CameraChoice c = ChooseCameraMode(Load("usb2-1080p-webcam.txt"));
  ASSERT_TRUE(c.found);
  EXPECT_EQ(c.caps, "image/jpeg,width=1920,height=1080,framerate=30/1");
  EXPECT_NE(c.why.find("raw reaches only a lower rate"), std::string::npos) << c.why;
}

TEST(CameraModes, MaxHeightLimitsTheSize) {
  const std::vector<CameraMode> modes = Load("usb2-1080p-webcam.txt");
  EXPECT_EQ(ChooseCameraMode(modes, 720).caps, "image/jpeg,width=1280,height=720,framerate=30/1");
  // At 640x480 raw reaches 30 fps too: raw wins at equal size (no decode).
  const CameraChoice c = ChooseCameraMode(modes, 480);
  EXPECT_EQ(c.caps, "video/x-raw,format=YUY2,width=640,height=480,framerate=30/1");
  EXPECT_NE(c.why.find("raw rather than MJPG"), std::string::npos) << c.why;
}

// Laptop camera: YUYV 1280x720 only at 10 fps, MJPG 1280x720 at 30 -> MJPG 720p.
TEST(CameraModes, LaptopCameraTakesMjpg720p) {
  const CameraChoice c = ChooseCameraMode(Load("laptop-720p.txt"));
  ASSERT_TRUE(c.found);
  EXPECT_EQ(c.caps, "image/jpeg,width=1280,height=720,framerate=30/1");
}

// USB 3 raw-only camera: 4K is over the 1080 default; 1080p offers 60 and 29.97: 29.97 (the
// graphs want 30, not twice the work); YUY2 before NV12 at equal size (the preference order).
TEST(CameraModes, Usb3RawCameraTakesRaw1080pAt2997NotAt60) {
  const CameraChoice c = ChooseCameraMode(Load("usb3-raw.txt"));
  ASSERT_TRUE(c.found);
  EXPECT_EQ(c.caps, "video/x-raw,format=YUY2,width=1920,height=1080,framerate=30000/1001");
  EXPECT_EQ(ChooseCameraMode(Load("usb3-raw.txt"), 2160).caps,
            "video/x-raw,format=YUY2,width=3840,height=2160,framerate=30000/1001");
}

// Nothing reaches 30 fps: the highest rate (15), the largest size at it (1280x720), raw first.
TEST(CameraModes, OnlySlowModesTakesTheHighestRateThenTheLargestSize) {
  const CameraChoice c = ChooseCameraMode(Load("slow-15fps.txt"));
  ASSERT_TRUE(c.found);
  EXPECT_EQ(c.caps, "video/x-raw,format=YUY2,width=1280,height=720,framerate=15/1");
  EXPECT_NE(c.why.find("no mode reaches 30 fps"), std::string::npos) << c.why;
}

TEST(CameraModes, EveryModeTallerThanMaxHeightTakesTheSmallest) {
  const std::vector<CameraMode> modes = {
      {CameraEncoding::kRaw, "YUY2", 3840, 2160, {{30, 1}}},
      {CameraEncoding::kRaw, "YUY2", 2560, 1440, {{30, 1}}},
  };
  const CameraChoice c = ChooseCameraMode(modes, 1080);
  ASSERT_TRUE(c.found);
  EXPECT_EQ(c.mode.height, 1440);
}

TEST(CameraModes, NoUsableModeIsNotFound) {
  EXPECT_FALSE(ChooseCameraMode({}).found);
  const std::vector<CameraMode> h264_only = {{CameraEncoding::kOther, "H264", 1920, 1080, {{30, 1}}}};
  EXPECT_FALSE(ChooseCameraMode(h264_only).found);
}

TEST(CameraModes, TextThatIsNotAFormatListIsAnErrorSayingWhy) {
  std::string error;
  EXPECT_TRUE(ParseV4l2FormatList("hello\nworld\n", &error).empty());
  EXPECT_NE(error.find("no discrete sizes"), std::string::npos) << error;
  error.clear();
  EXPECT_TRUE(ParseV4l2FormatList("\t\tSize: Discrete 640x480\n", &error).empty());
  EXPECT_NE(error.find("before any format"), std::string::npos) << error;
}

TEST(CameraModes, DescribeListsRatesHighestFirst) {
  const CameraMode m{CameraEncoding::kMjpg, "MJPG", 1280, 720, {{15, 2}, {30, 1}, {30000, 1001}}};
  EXPECT_EQ(DescribeCameraMode(m), "MJPG 1280x720 @ 30, 29.97, 7.50 fps");
}

}  // namespace
}  // namespace fg
