// cameras: the runner's camera side (GStreamer): `facegraph cameras`, the device and mode a
// webcam graph runs with, and holding exposure, gain and white balance for the vitals graphs.
// The decisions are plain C++ (camera_modes.h, camera_controls.h); this file connects them to
// GStreamer's device monitor, the parsed pipeline and the V4L2 device. See docs/cameras.md.
//
// Thread-compatible: called from the runner's main thread only.
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tools/runner/camera_controls.h"
#include "tools/runner/camera_modes.h"

namespace fg {

struct CameraOptions {
  std::string device;     // --camera= / FACEGRAPH_CAMERA; empty: the graph's own
  bool device_from_flag = false;  // --camera= given: a graph without v4l2src is an error
  std::string caps;       // --camera-caps= / FACEGRAPH_CAMERA_CAPS; empty: chosen from the modes
  int max_height = 1080;  // --max-height=
  bool lock_controls = true;  // --no-camera-lock turns the vitals control lock off
};

// `facegraph cameras`: lists the video sources the device monitor finds, their modes and the
// mode the graphs use. modes_file: instead, one camera read from `v4l2-ctl --list-formats-ext`
// output. Returns the exit status (0; 2 when modes_file cannot be read).
int ListCameras(const CameraOptions& opt, const std::string& modes_file);

// What a webcam graph runs with, decided once per run (reconnections reuse it).
struct CameraSetup {
  bool has_v4l2src = false;
  std::string device;  // set on every v4l2src when not empty
  std::string caps;    // replaces the capsfilter after v4l2src when not empty
};

// Decides the device and caps for `pipeline` (a freshly parsed graph) and applies them. The
// caps are chosen only when the capsfilter after v4l2src leaves the size open (no width or
// height: the graphs' default) and the camera is found; a graph that fixes a size keeps it.
// False with *error for a usage error (--camera for a graph without v4l2src, caps that do not
// parse). Messages go to stderr.
bool PrepareCamera(GstElement* pipeline, const CameraOptions& opt, CameraSetup* setup,
                   std::string* error);
// Applies a setup to a rebuilt pipeline (reconnection).
void ApplyCamera(GstElement* pipeline, const CameraSetup& setup);

// A device's caps (as v4l2src and the device monitor give them: one structure per format and
// size, framerate a fraction, a list or a range) as modes. Exposed for tests.
std::vector<CameraMode> ModesFromCaps(const GstCaps* caps);

// Holds exposure, gain and white balance for graphs with v4l2src and facevitals: once frames
// have flowed for settle_s, reads the camera's current values, turns the automatic controls off
// and writes the values back (V4L2 ioctls on the device, beside v4l2src's own handle); logs each
// control the camera refuses; Restore() turns the automatics back on (end of the run).
class CameraControlLock {
 public:
  static constexpr double kSettleS = 2.0;
  // Inactive unless the graph has both v4l2src and facevitals.
  CameraControlLock(GstElement* pipeline, const CameraOptions& opt);
  ~CameraControlLock();
  // Called from the main loop; locks once frames have flowed for kSettleS.
  void Poll(int64_t now_ns, bool frames_flowing);
  // Puts the automatics back (also done by the destructor); a no-op when nothing was locked.
  void Restore();
  // True for a graph with v4l2src and facevitals (and the lock not turned off).
  bool active() const { return active_; }

 private:
  bool active_ = false;
  bool locked_ = false;
  int64_t flowing_since_ns_ = -1;
  std::string device_;
  ControlPlan plan_;
};

// Counts the frames each leaky queue (a queue with leaky != no: the live graphs' queue before
// the analysis) drops, and prints them at the end of the run: frames in, dropped, and the
// share. Drops = in - out - what the queue still holds. Attach to every pipeline the run builds
// (reconnections add up).
class LeakyQueueDrops {
 public:
  LeakyQueueDrops();
  LeakyQueueDrops(const LeakyQueueDrops&) = delete;
  LeakyQueueDrops& operator=(const LeakyQueueDrops&) = delete;
  ~LeakyQueueDrops();
  void Attach(GstElement* pipeline);
  // Call while the pipeline still holds its last frames (before the state goes to NULL).
  void Print() const;
  // Frames dropped so far by every leaky queue (of every pipeline attached); main thread.
  uint64_t Dropped() const;

 private:
  struct Counter;
  // The current pipeline's queues. Attach folds the previous pipeline's counts into before_ and
  // lets its queues go, so a run that reconnects for days holds only one pipeline's queues.
  std::vector<std::unique_ptr<Counter>> counters_;
  std::map<std::string, std::pair<uint64_t, uint64_t>> before_;  // name -> (in, dropped)
};

}  // namespace fg
