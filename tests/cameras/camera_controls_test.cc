// The vitals control lock's plan (tools/runner/camera_controls.h) on recorded control lists
// (tests/cameras/data/*.ctrls.txt: typical `v4l2-ctl --list-ctrls` output for such cameras,
// written from the UVC specification, not captures of one device).
#include "tools/runner/camera_controls.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/cameras/recorded_list.h"

namespace fg {
namespace {

std::vector<CameraControl> Load(const std::string& name) {
  std::string error;
  std::vector<CameraControl> controls = ParseV4l2ControlList(testing::RecordedList(name), &error);
  EXPECT_FALSE(controls.empty()) << name << ": " << error;
  return controls;
}

std::string Writes(const std::vector<ControlWrite>& writes) {
  std::string s;
  for (const ControlWrite& w : writes) s += w.name + "=" + std::to_string(w.value) + " ";
  return s;
}

TEST(CameraControls, ParsesNamesIdsAndCurrentValues) {
  const std::vector<CameraControl> c = Load("usb2-1080p-webcam.ctrls.txt");
  ASSERT_EQ(c.size(), 13u);
  EXPECT_EQ(c[3].name, "white_balance_temperature_auto");
  EXPECT_EQ(c[3].id, kV4l2AutoWhiteBalance);
  EXPECT_EQ(c[3].type, "bool");
  EXPECT_EQ(c[6].value, 4650);
  EXPECT_EQ(c[6].min, 2000);
  EXPECT_EQ(c[6].max, 6500);
}

// Old kernel names: every automatic off, then the value it had reached written back (no jump),
// exposure_auto_priority off so the frame rate stays; gain has no automatic on UVC.
TEST(CameraControls, Usb2WebcamHoldsExposureAndWhiteBalanceAtTheirCurrentValues) {
  const ControlPlan plan = PlanControlLock(Load("usb2-1080p-webcam.ctrls.txt"));
  EXPECT_EQ(Writes(plan.lock),
            "exposure_auto=1 exposure_auto_priority=0 exposure_absolute=312 "
            "white_balance_temperature_auto=0 white_balance_temperature=4650 ");
  EXPECT_EQ(plan.extra_controls,
            "c,exposure_auto=1,exposure_auto_priority=0,exposure_absolute=312,"
            "white_balance_temperature_auto=0,white_balance_temperature=4650");
  EXPECT_EQ(Writes(plan.restore), "exposure_auto=3 exposure_auto_priority=1 white_balance_temperature_auto=1 ");
  ASSERT_EQ(plan.notes.size(), 1u);
  EXPECT_NE(plan.notes[0].find("gain"), std::string::npos) << plan.notes[0];
}

// Current kernel names (auto_exposure, white_balance_automatic): matched by id, same plan.
TEST(CameraControls, CurrentKernelNamesGiveTheSamePlan) {
  const ControlPlan plan = PlanControlLock(Load("laptop-720p.ctrls.txt"));
  EXPECT_EQ(Writes(plan.lock),
            "auto_exposure=1 exposure_time_absolute=156 white_balance_automatic=0 "
            "white_balance_temperature=5210 ");
  EXPECT_EQ(Writes(plan.restore), "auto_exposure=3 white_balance_automatic=1 ");
}

TEST(CameraControls, CameraWithoutAutomaticsGetsNoWritesAndSaysSo) {
  const ControlPlan plan = PlanControlLock(Load("fixed-camera.ctrls.txt"));
  EXPECT_TRUE(plan.lock.empty());
  EXPECT_TRUE(plan.restore.empty());
  EXPECT_TRUE(plan.extra_controls.empty());
  EXPECT_EQ(plan.notes.size(), 3u);  // exposure, gain, white balance
}

TEST(CameraControls, AlreadyManualIsLeftAlone) {
  const std::vector<CameraControl> c = {
      {"auto_exposure", kV4l2ExposureAuto, "menu", 0, 3, kV4l2ExposureManual},
      {"exposure_time_absolute", kV4l2ExposureAbsolute, "int", 1, 5000, 80},
      {"gain_automatic", kV4l2AutoGain, "bool", 0, 1, 1},
      {"gain", kV4l2Gain, "int", 0, 255, 12},
  };
  const ControlPlan plan = PlanControlLock(c);
  EXPECT_EQ(Writes(plan.lock), "gain_automatic=0 gain=12 ");
  EXPECT_EQ(Writes(plan.restore), "gain_automatic=1 ");
}

TEST(CameraControls, TextWithoutControlsIsAnError) {
  std::string error;
  EXPECT_TRUE(ParseV4l2ControlList("User Controls\n\n", &error).empty());
  EXPECT_NE(error.find("no controls"), std::string::npos) << error;
}

}  // namespace
}  // namespace fg
