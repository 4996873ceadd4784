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
// format (engine/tracking/crop.h). A crop the mesh rejects gets one second look on another
// framing (`second_look`: the crop the rejected points frame for a new face, the last
// accepted crop for a tracked one) before the face is dropped or counted lost.
//
// Still faces (options `still_mesh_skip`, `still_motion`): FaceMesh on every face every frame
// is most of the tracker's cost, and on a face that holds still it says the same thing each
// frame. So a face whose landmarks moved less than `still_motion` inter-ocular distances per
// frame (RMS over the 468 points) between its last two mesh runs skips the mesh on the next
// `still_mesh_skip` frames (1: the mesh runs on alternate frames while the face is still;
// default 0, off): its landmarks, box and crop are those of its last mesh run (still: no motion to
// carry), smoothed as usual. The first mesh run after a skip measures the motion again, so a
// face that starts moving is followed from the next frame on, at most `still_mesh_skip` frames
// late; a face moving faster than the threshold runs the mesh every frame. (MediaPipe reuses the
// previous frame's landmarks as the next ROI; this goes one step further on still faces.) The
// landmark error this costs against the every-frame mesh, on still, slowly moving and
// starting faces: tests/tracking/tracker_sequence_test.cc (StillFace*); the saving and why it
// is off by default (held landmarks cost facevitals' pulse signal on still faces): docs/speed.md.
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
// Networks (option `shared_inference`, default on): every tracker of the process runs FaceMesh,
// BlazeFace and Iris through the process-wide inference pool of each model
// (engine/nn/inference_pool.h, nn::PoolSession): one loaded model, one plan and `runners`
// run contexts per model whatever the number of trackers, and one round-robin schedule across
// the streams. The pool runs the mesh at batch 1 (batching does not lower the CPU cost of
// FaceMesh: docs/streams.md) and BlazeFace one by one (its model fixes batch 1); the thread
// that waits for its crop runs it, so the streams' threads stay busy. Off: each tracker opens
// its own Sessions (still on the ModelCache's shared model and plan, with its own contexts).
// Results are the same either way (tests/tracking/tracker_pool_test.cc).
//
// Threading: thread-compatible: one tracker per stream (it owns one worker thread when
// async_detect is on, joined in the destructor). Process() does not allocate once the
// number of faces is steady (with shared_inference, except the pool's request queue).
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
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "engine/face.h"
#include "engine/geometry/canonical_face.h"
#include "engine/image.h"
#include "engine/nn/inference_pool.h"
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
  bool shared_inference = true;    // the networks run through the process-wide pools (above)
  // Still faces (above): frames in a row a still face may skip FaceMesh (0: the mesh runs on
  // every face every frame), and the motion below which a face is still (inter-ocular
  // distances per frame, RMS over the landmarks, between its last two mesh runs).
  int still_mesh_skip = 0;
  float still_motion = 0.01f;
  // A crop the mesh rejects (presence below min_presence) gets one more pass on another
  // framing before the face is dropped or lost: a new track on the crop its own points frame
  // (the detector's box of a small face is coarse), a tracked face on the crop accepted last
  // (its landmark crop overshoots a face cut by the frame's edge). See Process.
  bool second_look = true;
  // Small faces (zoom_tiles): the whole frame letterboxed to the detector's 256 pixels sees a
  // face only down to ~20 detector pixels (80 px in a 1920-wide frame, 160 px in 4K). So the
  // frame is also covered by square tiles, each letterboxed to 256 on its own (see TilePlan):
  // side min(longest side / 2, 256 * min_face_px / 20), overlapping by the largest face the
  // whole-frame pass can miss, so every face from min_face_px up lies wholly in one tile.
  // Schedule (the tiles are searched round robin, so the per-frame cost stays bounded):
  //   - nobody tracked and the whole frame empty: one tile per frame, inline (one more
  //     detector run per frame: there is nobody to protect);
  //   - tracking: every periodic detection (every detect_interval frames, on the worker
  //     thread) also searches `tiles_per_detect` tiles; their inputs are sampled on the
  //     caller's thread with the whole frame's. Not while a track is lost (recovery first).
  // A full round takes TilePlan::count() frames with nobody tracked and
  // count / tiles_per_detect * detect_interval frames while tracking (docs/inputs.md).
  bool zoom_tiles = true;
  int min_face_px = 0;             // 0: auto, max(48, longest side / 60): 48 at 1080p, 64 at 4K
  int tiles_per_detect = 3;        // tiles searched with each periodic detection while tracking
  OneEuroParams smoothing_params{.min_cutoff = 1.0, .beta = 10.0, .d_cutoff = 1.0};
};

// The zoom tiles of a frame (TrackerOptions::zoom_tiles): nx * ny squares of `side` pixels,
// `step` apart, the last row and column flush with the frame's far edges (a frame narrower
// than a tile has one, centred). Empty (count() == 0) when the frame needs none: its longer
// side under 256 pixels, or zoom_tiles off.
struct TilePlan {
  float side = 0, step = 0;
  int nx = 0, ny = 0;
  int count() const { return nx * ny; }
  // Top-left corner of tile k (row-major), frame pixels.
  std::array<float, 2> Origin(int k, int frame_w, int frame_h) const;
  static TilePlan For(int frame_w, int frame_h, const TrackerOptions& o);
};

// Where the time goes, per stage, for the last Process() call (milliseconds).
struct TrackerTimings {
  double detect_ms = 0, crop_ms = 0, mesh_ms = 0, iris_ms = 0, smooth_ms = 0, pose_ms = 0;
  int meshes_run = 0;               // FaceMesh passes (second looks included)
  int meshes_skipped = 0;           // faces that kept their still landmarks (still_mesh_skip)
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
  // their ids. Returns false, changing nothing, when `o` differs in models_dir, backend, iris,
  // async_detect or shared_inference: then create a new tracker. Call it from the thread that
  // calls Process.
  bool SetOptions(const TrackerOptions& o);
  const TrackerTimings& timings() const { return timings_; }
  const TrackerOptions& options() const { return opts_; }
  // Runs the detector alone on a frame (frame pixels, after NMS).
  std::vector<Detection> Detect(const ImageView& frame);
  // The same on the square [x0, x0 + side) x [y0, y0 + side) of the frame, letterboxed to the
  // detector's input (frame pixels, after NMS). Detect(frame) is the whole frame's square.
  std::vector<Detection> DetectIn(const ImageView& frame, float x0, float y0, float side);
  void Reset();
  // The shared pools this tracker's FaceMesh and BlazeFace run in (nullptr without
  // shared_inference): what tests use to see that trackers share them.
  const nn::InferencePool* mesh_pool() const;
  const nn::InferencePool* detector_pool() const;

 private:
  // One network: the tracker's own Session (shared_inference off) or a stream of the model's
  // process-wide pool. The same calls either way.
  struct Net {
    std::unique_ptr<nn::Session> own;
    std::unique_ptr<nn::PoolSession> pooled;
    float* input(int i) { return own ? own->input(i) : pooled->input(i); }
    const float* output(int i) const { return own ? own->output(i) : pooled->output(i); }
    nn::Status Run() { return own ? own->Run() : pooled->Run(); }
    int num_outputs() const { return own ? own->num_outputs() : pooled->num_outputs(); }
    const nn::Shape& input_shape(int i) const { return own ? own->input_shape(i) : pooled->input_shape(i); }
    const nn::Shape& output_shape(int i) const { return own ? own->output_shape(i) : pooled->output_shape(i); }
    int output_index(std::string_view n) const { return own ? own->output_index(n) : pooled->output_index(n); }
    const nn::Model& model() const { return own ? own->model() : pooled->model(); }
  };
  static std::unique_ptr<Net> OpenNet(const TrackerOptions& o, const std::string& file,
                                      std::string* error);
  struct Crop {
    float cx = 0, cy = 0, side = 0, angle = 0;  // frame pixels; radians, CCW on screen
  };
  struct Track {
    int64_t id = 0;
    Crop crop;
    Crop accepted_crop;       // the crop of the last pass the mesh accepted (second look)
    bool lost = false;
    double lost_since_s = 0;  // pts (s) of the frame it was lost on; -inf: forget at once
    bool revived = false;     // a detection took the lost id back on this frame (see Integrate)
    bool confirmed = false;   // the mesh accepted it at least once (its id was reported)
    Box last_box;
    float presence = 0;
    std::vector<std::array<float, 3>> raw;        // this frame's mesh: the next crop comes from it
    // Still faces: the raw points of the previous accepted mesh run, the frames between the
    // two runs, the motion measured there, and the mesh runs skipped since the last one.
    std::vector<std::array<float, 3>> prev_raw;
    int frames_since_mesh = 0;
    float motion = 1e30f;  // inter-ocular distances per frame; huge until measured
    int skipped = 0;
    std::vector<std::array<float, 3>> landmarks;  // smoothed: what is reported
    LandmarkSmoother smoother;
  };

  FaceTracker() = default;
  // Joins detections to the tracks: a detection of a tracked face is dropped, one near a lost
  // track takes its id back, the rest start tracks. `job_boxes`: for the worker's detections,
  // the tracks' boxes on the frame it sampled (job_boxes_); a track has moved since, by as
  // many frames as the detector took, and its old box still identifies it.
  void Integrate(const std::vector<Detection>& dets,
                 const std::vector<std::pair<int64_t, Box>>* job_boxes = nullptr);
  void StartAsyncDetect(const ImageView& frame, bool with_tiles);
  // Origins of the tile-sized squares around small lost tracks' last boxes (frame pixels).
  std::vector<std::array<float, 2>> RecoveryRegions(int w, int h);
  std::vector<Detection> DetectTilesInline(const ImageView& frame, int n);
  // Detections in the square at `o` of side `side`, less those cut by its edge, appended.
  void DetectInTile(const ImageView& frame, const std::array<float, 2>& o, float side,
                    std::vector<Detection>* out);
  bool TakeAsyncResult(std::vector<Detection>* out);
  void WorkerLoop();
  std::vector<Detection> DetectWith(const ImageView& frame, const LetterBox& lb);
  Crop CropFromDetection(const Detection& d) const;
  Crop CropFromLandmarks(const std::vector<std::array<float, 3>>& lm) const;
  bool RunMesh(const ImageView& frame, Track& t, double t_s);
  // Still faces: whether t may skip the mesh on this frame, and the skip itself.
  bool MaySkipMesh(const Track& t) const;
  void SkipMesh(Track& t, double t_s);
  void Smooth(Track& t, double t_s);
  void MeasureMotion(Track& t);
  void RunIris(const ImageView& frame, Track& t);

  TrackerOptions opts_;
  std::unique_ptr<Net> detector_, mesh_, iris_;
  BlazeFaceDecoder decoder_{256};
  CanonicalFace canonical_;
  std::vector<Track> tracks_;
  std::vector<Detection> dets_;  // scratch, reused
  // The background detector: its own session; the job is handed over under mu_ (once per
  // detect_interval frames, not per frame). busy_ is only touched by the caller's thread.
  std::unique_ptr<Net> async_detector_;
  std::thread worker_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool job_ = false, job_done_ = false, quit_ = false;  // guarded by mu_
  std::atomic<bool> result_ready_{false};               // set by the worker, read per frame
  // The job: up to 1 + tiles_per_detect detector inputs (the whole frame first), sampled by
  // the caller before it sets job_; allocated once at Create.
  std::vector<std::vector<float>> job_inputs_;
  std::vector<LetterBox> job_lbs_;
  int job_count_ = 0;
  float job_min_score_ = 0.5f, job_nms_iou_ = 0.3f;     // likewise: the worker never reads opts_
  int job_max_faces_ = 1;
  std::vector<Detection> job_result_;                   // guarded by mu_
  // Id and box of each tracked face on the frame the job sampled; caller's thread only.
  std::vector<std::pair<int64_t, Box>> job_boxes_;
  bool busy_ = false;
  int64_t next_id_ = 1;
  int64_t frame_count_ = 0;
  int64_t next_tile_ = 0;  // zoom_tiles: the tile searched next (round robin)
  TilePlan plan_;          // for plan_w_ x plan_h_ frames; recomputed when the size changes
  int plan_w_ = -1, plan_h_ = -1;
  const TilePlan& PlanFor(int w, int h);
  TrackerTimings timings_;
  // Output indices, resolved at load.
  int det_l16_ = -1, det_r16_ = -1, det_l32_ = -1, det_r32_ = -1;
  int mesh_points_ = -1, mesh_flag_ = -1;
};

}  // namespace fg
