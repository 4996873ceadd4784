// camera_controls: which V4L2 controls to write so that a camera holds exposure, gain and white
// balance (for the pulse, which automatic adjustments swamp), as a plan over the camera's
// control list (plain C++, no GStreamer, no device). The runner (cameras.cc) reads the list
// from the device with V4L2 ioctls and carries the plan out; tests read recorded lists (the
// text `v4l2-ctl --list-ctrls` prints, ParseV4l2ControlList).
//
// The plan, for each of exposure, gain and white balance whose automatic control the camera
// offers and which is on: turn the automatic off, then write the value the automatic had
// reached (read just before) into the manual control, so the picture does not jump. Exposure
// also turns off "exposure_dynamic_framerate" (the camera may otherwise lower the frame rate in
// dim light). Controls are matched by V4L2 id (names changed across kernel versions:
// exposure_auto / auto_exposure, white_balance_temperature_auto / white_balance_automatic).
// Restore writes the automatics back as they were.
//
// Thread-compatible: plain functions over values.
//
//   std::vector<fg::CameraControl> controls = fg::ParseV4l2ControlList(text, &error);
//   fg::ControlPlan plan = fg::PlanControlLock(controls);
//   // plan.lock: writes in order; plan.extra_controls: the same for v4l2src extra-controls
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fg {

// V4L2 control ids (linux/videodev2.h, stable ABI), named as the kernel names them.
inline constexpr uint32_t kV4l2AutoWhiteBalance = 0x0098090c;
inline constexpr uint32_t kV4l2WhiteBalanceTemperature = 0x0098091a;
inline constexpr uint32_t kV4l2AutoGain = 0x00980912;
inline constexpr uint32_t kV4l2Gain = 0x00980913;
inline constexpr uint32_t kV4l2ExposureAuto = 0x009a0901;  // menu: 0 auto, 1 manual, 2, 3 priority
inline constexpr uint32_t kV4l2ExposureAbsolute = 0x009a0902;
inline constexpr uint32_t kV4l2ExposureAutoPriority = 0x009a0903;
inline constexpr int64_t kV4l2ExposureManual = 1;

struct CameraControl {
  std::string name;  // as v4l2-ctl and v4l2src's extra-controls spell it
  uint32_t id = 0;
  std::string type;  // "int", "bool", "menu"
  int64_t min = 0, max = 0, value = 0;
};

struct ControlWrite {
  std::string name;
  uint32_t id = 0;
  int64_t value = 0;
};

struct ControlPlan {
  std::vector<ControlWrite> lock;     // in order: an automatic off, then its manual value
  std::vector<ControlWrite> restore;  // the automatics as they were
  std::vector<std::string> notes;     // what the camera does not offer, or is already manual
  std::string extra_controls;         // "c,auto_exposure=1,exposure_time_absolute=250,..."
};

ControlPlan PlanControlLock(const std::vector<CameraControl>& controls);

// Parses `v4l2-ctl --list-ctrls` (or -l) output: "name 0xID (type) : min=.. max=.. value=..".
// Lines it does not recognise (class headings, menu items of -L) are skipped; text without a
// single control is an error.
std::vector<CameraControl> ParseV4l2ControlList(const std::string& text, std::string* error);

}  // namespace fg
