// FaceTracker: faces in, per frame: box, stable id, 468-point 3D mesh, head pose.
//
//   frame ──► [detector: BlazeFace 256, letterboxed] ─ only when needed ─┐
//     │                                                                   ▼
//     └────► [per track: crop rotated by the eye line ─► FaceMesh 192] ─► landmarks
//                   ▲                                                     │
//                   └──────── next frame's crop comes from the landmarks ◄┘
//
// The detector runs when no face is tracked, while a track is lost (to recover it within
// a frame or two), and every `detect_interval` frames to pick up new people. Everything
// else is one FaceMesh call per face. While at least one face is tracked, the detector runs
// on a worker thread (`async_detect`, default on): the frame's letterboxed 256x256 input is
// sampled on the caller's thread (a fraction of a millisecond), the network runs beside it,
// and its faces join the tracks on the first frame after it finishes. So the periodic search
// for new people never adds the detector's latency to a frame; with nobody tracked there is
// nothing to protect and the detector runs inline, so a face is found on the frame it
// appears. A track whose face-presence score falls below
// `min_presence` is "lost": its id is kept for `grace_s` seconds of pts (not frames: a gap in
// the stream, a dropped packet or a slow camera counts by the time it lasted), and a detection that
// overlaps its last box takes the id back, so a brief occlusion does not create a new
// person. Reported landmarks are smoothed with a One Euro filter in face-size units; the
// next crop comes from the unsmoothed ones (as in MediaPipe), since a crop that lags the
// face feeds back into the mesh and makes a still face sway.
//
// Crops follow MediaPipe's face pipeline: a square around the detection (or the landmark
// bounding box), scaled by `crop_scale`, rotated so the eye line is level (eye keypoints
// of the detector, or landmarks 33 and 263), sampled bilinearly from the original frame
// format (engine/tracking/crop.h).
//
// Iris (option `iris`, off by default): each eye is cropped (a square 2.3x the eye-corner
// distance, rotated with the face; the subject's left eye mirrored, since the model is
// trained on right eyes) and run through the Iris model. Its eyelid contour
// replaces the mesh's 16 eyelid points per eye, and its 5 iris points per eye are appended:
// landmarks 468-472 are the iris of the eye on the image's right (the subject's left),
// 473-477 the other one; the first of each five is the iris centre (Human 3.3.6's layout).
//
// Coordinates: frame pixels, continuous (pixel (0,0) covers [0,1) x [0,1)), y down; z in
// the same scale as x, smaller = nearer the camera (FaceMesh's convention).
//
// Threading: thread-compatible: one tracker per stream (it owns one worker thread when
// async_detect is on, joined in the destructor). Process() does not allocate once the
// number of faces is steady.
//
// Example:
//   fg::TrackerOptions o;  o.models_dir = "~/.cache/facegraph/models";
//   auto t = fg::FaceTracker::Create(o, &err);       // err names the model file on failure
//   fg::FrameFaces faces = t->Process(view, pts_ns);
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/face.h"
#include "engine/geometry/canonical_face.h"
#include "engine/image.h"
#include "engine/nn/session.h"
#include "engine/tracking/blazeface.h"
#include "engine/tracking/one_euro.h"

namespace fg {

struct TrackerOptions {
  std::string models_dir;          // holds blazeface.json, facemesh.json, the canonical face
  std::string backend = "auto";    // "auto", "xnnpack", "reference"
  int max_faces = 16;              // group photos and classrooms; cost grows per tracked face
  int detect_interval = 15;        // frames between detector runs while all tracks are fine
  float min_detection_score = 0.5f;
  float nms_iou = 0.3f;
  float min_presence = 0.5f;       // FaceMesh face-presence threshold
  double grace_s = 0.5;            // a lost id is kept this long (seconds of pts)
  float crop_scale = 1.5f;         // crop side / face box side (MediaPipe: 1.5)
  bool smoothing = true;
  bool iris = false;               // run the Iris model on both eyes (see RunIris)
  bool async_detect = true;        // periodic detection on a worker thread (see above)
  // Small faces: while nobody is tracked and the whole frame (letterboxed to 256) shows no
  // face, one square tile of half the frame's longer side is searched too, a different one
  // each frame (tiles overlap by half, so any face up to half a tile lies wholly in one).
  // The tile is letterboxed at twice the scale, so a face the whole-frame pass sees at under
  // ~25 detector pixels (the model's floor) is seen at twice that. Costs one more detector run
  // per frame only while nobody is in view and the frame is at least 256 pixels wide or high.
  bool zoom_tiles = true;
  OneEuroParams smoothing_params{.min_cutoff = 1.0, .beta = 10.0, .d_cutoff = 1.0};
};

// Where the time goes, per stage, for the last Process() call (milliseconds).
struct TrackerTimings {
  double detect_ms = 0, crop_ms = 0, mesh_ms = 0, iris_ms = 0, smooth_ms = 0, pose_ms = 0;
  bool detector_ran = false;        // inline, on this frame
  bool detector_started = false;    // handed to the worker on this frame
  bool detector_joined = false;     // the worker's faces joined the tracks on this frame
};

class FaceTracker {
 public:
  ~FaceTracker();
  static std::unique_ptr<FaceTracker> Create(const TrackerOptions& opts, std::string* error);

  FrameFaces Process(const ImageView& frame, int64_t pts_ns);
  // Changes the options that need no model reload (max_faces, detect_interval, thresholds,
  // grace_s, crop_scale, smoothing and its parameters) in place, keeping the tracks and
  // their ids. Returns false, changing nothing, when `o` differs in models_dir, backend, iris
  // or async_detect: then create a new tracker. Call it from the thread that calls Process.
  bool SetOptions(const TrackerOptions& o);
  const TrackerTimings& timings() const { return timings_; }
  const TrackerOptions& options() const { return opts_; }
  // Runs the detector alone on a frame (frame pixels, after NMS).
  std::vector<Detection> Detect(const ImageView& frame);
  // The same on the square [x0, x0 + side) x [y0, y0 + side) of the frame, letterboxed to the
  // detector's input (frame pixels, after NMS). Detect(frame) is the whole frame's square.
  std::vector<Detection> DetectIn(const ImageView& frame, float x0, float y0, float side);
  void Reset();

 private:
  struct Crop {
    float cx = 0, cy = 0, side = 0, angle = 0;  // frame pixels; radians, CCW on screen
  };
  struct Track {
    int64_t id = 0;
    Crop crop;
    bool lost = false;
    double lost_since_s = 0;  // pts (s) of the frame it was lost on; -inf: forget at once
    Box last_box;
    float presence = 0;
    std::vector<std::array<float, 3>> raw;        // this frame's mesh: the next crop comes from it
    std::vector<std::array<float, 3>> landmarks;  // smoothed: what is reported
    LandmarkSmoother smoother;
  };

  FaceTracker() = default;
  void Integrate(const std::vector<Detection>& dets);
  void StartAsyncDetect(const ImageView& frame);
  bool TakeAsyncResult(std::vector<Detection>* out);
  void WorkerLoop();
  std::vector<Detection> DetectWith(const ImageView& frame, const LetterBox& lb);
  Crop CropFromDetection(const Detection& d) const;
  Crop CropFromLandmarks(const std::vector<std::array<float, 3>>& lm) const;
  bool RunMesh(const ImageView& frame, Track& t, double t_s);
  void RunIris(const ImageView& frame, Track& t);

  TrackerOptions opts_;
  std::unique_ptr<nn::Session> detector_, mesh_, iris_;
  BlazeFaceDecoder decoder_{256};
  CanonicalFace canonical_;
  std::vector<Track> tracks_;
  std::vector<Detection> dets_;  // scratch, reused
  // The background detector: its own session; the job is handed over under mu_ (once per
  // detect_interval frames, not per frame). busy_ is only touched by the caller's thread.
  std::unique_ptr<nn::Session> async_detector_;
  std::thread worker_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool job_ = false, job_done_ = false, quit_ = false;  // guarded by mu_
  std::atomic<bool> result_ready_{false};               // set by the worker, read per frame
  LetterBox job_lb_;                                    // written before job_, read by worker
  float job_min_score_ = 0.5f, job_nms_iou_ = 0.3f;     // likewise: the worker never reads opts_
  int job_max_faces_ = 1;
  std::vector<Detection> job_result_;                   // guarded by mu_
  bool busy_ = false;
  int64_t next_id_ = 1;
  int64_t frame_count_ = 0;
  int64_t next_tile_ = 0;  // zoom_tiles: the tile searched next (round robin)
  TrackerTimings timings_;
  // Output indices, resolved at load.
  int det_l16_ = -1, det_r16_ = -1, det_l32_ = -1, det_r32_ = -1;
  int mesh_points_ = -1, mesh_flag_ = -1;
};

}  // namespace fg
