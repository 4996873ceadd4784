#include "engine/tracking/face_tracker.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "engine/tracking/crop.h"
#include "engine/tracking/head_pose.h"

namespace fg {

namespace {
using Clock = std::chrono::steady_clock;
double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}
constexpr double kForever = 1e30;  // lost_since_s of a track to forget on this frame
constexpr int kDetSize = 256;
// The face width, in detector input pixels, that BlazeFace finds reliably (faces of 16 px are
// found on clean frames: tracker_sequence_test); the tiles are sized for it.
constexpr float kTileFacePx = 20.0f;
constexpr int kMeshSize = 192;
// FaceMesh landmark indices of the outer eye corners (subject's right, left).
constexpr int kRightEyeOuter = 33, kLeftEyeOuter = 263;

// Eyelid contours of the mesh (upper 7 points, lower 9), per eye, in the order of the Iris
// model's first 16 contour points (lower 0..8, upper 9..15).
constexpr int kRightEyelid[16] = {33, 7, 163, 144, 145, 153, 154, 155, 133,   // lower
                                  246, 161, 160, 159, 158, 157, 173};         // upper
constexpr int kLeftEyelid[16] = {263, 249, 390, 373, 374, 380, 381, 382, 362,
                                 466, 388, 387, 386, 385, 384, 398};
constexpr int kIrisSize = 64;
constexpr int kIrisContour = 71, kIrisPoints = 5;

// A tile's face that touches the tile's edge is cut by it: its box is off and its crop would
// start a second, offset track. Every face small enough to need the tiles lies wholly in some
// tile (TilePlan's overlap), and larger ones are the whole frame's, so such faces are dropped.
// `side_in` is the detector input's side (256), the box in input pixels.
bool TouchesTileEdge(const Detection& d, float side_in) {
  const float m = 0.01f * side_in;
  return d.box.x < m || d.box.y < m || d.box.x + d.box.w > side_in - m || d.box.y + d.box.h > side_in - m;
}

bool CentreInside(const Box& inner, const Box& outer) {
  const float cx = inner.x + 0.5f * inner.w, cy = inner.y + 0.5f * inner.h;
  return cx >= outer.x && cx <= outer.x + outer.w && cy >= outer.y && cy <= outer.y + outer.h;
}

Box BoundingBox(const std::vector<std::array<float, 3>>& lm) {
  float x0 = 1e30f, y0 = 1e30f, x1 = -1e30f, y1 = -1e30f;
  for (const auto& p : lm) {
    x0 = std::min(x0, p[0]), y0 = std::min(y0, p[1]);
    x1 = std::max(x1, p[0]), y1 = std::max(y1, p[1]);
  }
  return {x0, y0, x1 - x0, y1 - y0};
}
}  // namespace

TilePlan TilePlan::For(int frame_w, int frame_h, const TrackerOptions& o) {
  TilePlan p;
  const int longest = std::max(frame_w, frame_h);
  if (!o.zoom_tiles || longest < kDetSize) return p;
  const float min_face = o.min_face_px > 0 ? static_cast<float>(o.min_face_px)
                                           : std::max(48.0f, longest / 60.0f);
  p.side = std::min(0.5f * longest, kDetSize * min_face / kTileFacePx);
  // The largest face the whole frame may miss (kTileFacePx at its scale, +25 %) must fit
  // wholly in some tile: that is the overlap (at most 3/4 of a tile).
  const float missed = 1.25f * kTileFacePx * longest / kDetSize;
  const float overlap = std::min(missed, 0.75f * p.side);
  p.step = p.side - overlap;
  auto count = [&](int extent) {
    return extent <= p.side ? 1 : static_cast<int>(std::ceil((extent - p.side) / p.step)) + 1;
  };
  p.nx = count(frame_w);
  p.ny = count(frame_h);
  return p;
}

std::array<float, 2> TilePlan::Origin(int k, int frame_w, int frame_h) const {
  auto at = [&](int i, int n, int extent) {
    return n == 1 ? 0.5f * (extent - side) : std::min(i * step, extent - side);
  };
  return {at(k % nx, nx, frame_w), at(k / nx, ny, frame_h)};
}

const TilePlan& FaceTracker::PlanFor(int w, int h) {
  if (w != plan_w_ || h != plan_h_) {
    plan_ = TilePlan::For(w, h, opts_);
    plan_w_ = w, plan_h_ = h;
    next_tile_ = 0;
  }
  return plan_;
}

std::vector<std::array<float, 2>> FaceTracker::RecoveryRegions(int w, int h) {
  // A lost face smaller than the whole frame's pass can see (`missed`, as in TilePlan::For)
  // is searched where it was last: the tile-sized square centred on its last box. Without
  // this a small face lost for a moment (its mesh presence dips on a blurred frame) is never
  // found before its grace ends (the round-robin tiles pause while a track is lost), and it
  // comes back later under a new id.
  std::vector<std::array<float, 2>> out;
  const TilePlan& plan = PlanFor(w, h);
  if (plan.count() == 0) return out;
  const float missed = 1.25f * kTileFacePx * std::max(w, h) / kDetSize;
  for (const Track& t : tracks_) {
    if (!t.lost || t.lost_since_s <= -kForever || std::max(t.last_box.w, t.last_box.h) > missed) continue;
    const float cx = t.last_box.x + 0.5f * t.last_box.w, cy = t.last_box.y + 0.5f * t.last_box.h;
    out.push_back({std::clamp(cx - 0.5f * plan.side, 0.0f, std::max(0.0f, w - plan.side)),
                   std::clamp(cy - 0.5f * plan.side, 0.0f, std::max(0.0f, h - plan.side))});
  }
  return out;
}

std::unique_ptr<FaceTracker::Net> FaceTracker::OpenNet(const TrackerOptions& o,
                                                      const std::string& file, std::string* error) {
  auto net = std::make_unique<Net>();
  const std::string path = o.models_dir + "/" + file;
  if (o.shared_inference) {
    // Batch 1 (one crop per request: the mesh's batch-1 plan is its fastest on the CPU, and
    // BlazeFace fixes batch 1), no pool thread (the waiting caller runs its request), one run
    // context per core.
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    auto s = nn::PoolSession::Open({.model_json = path, .backend = o.backend, .max_batch = 1,
                                    .own_thread = false, .runners = std::min(cores, 64)});
    if (!s.ok()) return *error = s.status().message(), nullptr;
    net->pooled = std::move(s).value();
  } else {
    auto s = nn::Session::Open(path, o.backend);
    if (!s.ok()) return *error = s.status().message(), nullptr;
    net->own = std::move(s).value();
  }
  return net;
}

const nn::InferencePool* FaceTracker::mesh_pool() const {
  return mesh_ && mesh_->pooled ? mesh_->pooled->pool().get() : nullptr;
}

const nn::InferencePool* FaceTracker::detector_pool() const {
  return detector_ && detector_->pooled ? detector_->pooled->pool().get() : nullptr;
}

std::unique_ptr<FaceTracker> FaceTracker::Create(const TrackerOptions& opts, std::string* error) {
  std::unique_ptr<FaceTracker> t(new FaceTracker());
  t->opts_ = opts;
  t->opts_.detect_interval = std::max(1, opts.detect_interval);
  t->opts_.max_faces = std::max(1, opts.max_faces);
  t->detector_ = OpenNet(opts, "blazeface.json", error);
  if (!t->detector_) return nullptr;
  t->mesh_ = OpenNet(opts, "facemesh.json", error);
  if (!t->mesh_) return nullptr;
  auto canonical = LoadCanonicalFace(opts.models_dir + "/" + kCanonicalFaceFile, error);
  if (!canonical) return nullptr;
  t->canonical_ = std::move(*canonical);

  // The detector's four outputs are told apart by shape (their names carry no meaning).
  const auto& dm = t->detector_->model();
  for (int i = 0; i < t->detector_->num_outputs(); ++i) {
    const nn::Shape& s = t->detector_->output_shape(i);
    const int64_t rows = s.size() >= 2 ? s[s.size() - 2] : 0, cols = s.empty() ? 0 : s.back();
    if (rows == 512 && cols == 1) t->det_l16_ = i;
    if (rows == 512 && cols == 16) t->det_r16_ = i;
    if (rows == 384 && cols == 1) t->det_l32_ = i;
    if (rows == 384 && cols == 16) t->det_r32_ = i;
  }
  if (t->det_l16_ < 0 || t->det_r16_ < 0 || t->det_l32_ < 0 || t->det_r32_ < 0 ||
      t->detector_->input_shape(0) != nn::Shape{1, kDetSize, kDetSize, 3}) {
    *error = dm.path + ": not the 256x256 BlazeFace model (expected outputs [1,512,1], [1,512,16], [1,384,1], [1,384,16])";
    return nullptr;
  }
  if (opts.iris) {
    t->iris_ = OpenNet(opts, "iris.json", error);
    if (!t->iris_) return nullptr;
    if (t->iris_->input_shape(0) != nn::Shape{1, kIrisSize, kIrisSize, 3} ||
        nn::NumElements(t->iris_->output_shape(0)) != 3 * (kIrisContour + kIrisPoints)) {
      *error = t->iris_->model().path + ": not the 64x64 Iris model (76 points out)";
      return nullptr;
    }
  }
  if (opts.async_detect) {
    t->async_detector_ = OpenNet(opts, "blazeface.json", error);
    if (!t->async_detector_) return nullptr;
    const int n = 1 + std::max(0, opts.tiles_per_detect);
    t->job_inputs_.assign(n, std::vector<float>(static_cast<size_t>(kDetSize) * kDetSize * 3));
    t->job_lbs_.resize(n);
    t->worker_ = std::thread([p = t.get()] { p->WorkerLoop(); });
  }
  t->mesh_points_ = t->mesh_->output_index("output_mesh");
  t->mesh_flag_ = t->mesh_->output_index("output_faceflag");
  if (t->mesh_points_ < 0 || t->mesh_flag_ < 0 ||
      t->mesh_->input_shape(0) != nn::Shape{1, kMeshSize, kMeshSize, 3}) {
    *error = t->mesh_->model().path + ": not the 192x192 FaceMesh model (outputs output_mesh, output_faceflag)";
    return nullptr;
  }
  return t;
}

FaceTracker::~FaceTracker() {
  if (worker_.joinable()) {
    {
      std::lock_guard lock(mu_);
      quit_ = true;
    }
    cv_.notify_one();
    worker_.join();
  }
}

void FaceTracker::Reset() {
  tracks_.clear();
  frame_count_ = 0;
  next_tile_ = 0;
  // A detection in flight belongs to the old stream: drop it when it lands.
  if (busy_) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return job_done_; });
    job_done_ = false;
    result_ready_.store(false, std::memory_order_relaxed);
    busy_ = false;
  }
}

bool FaceTracker::SetOptions(const TrackerOptions& o) {
  if (o.models_dir != opts_.models_dir || o.backend != opts_.backend || o.iris != opts_.iris ||
      o.async_detect != opts_.async_detect || o.shared_inference != opts_.shared_inference)
    return false;
  opts_ = o;
  // The worker's job buffers were sized at Create.
  opts_.tiles_per_detect = std::clamp(o.tiles_per_detect, 0, std::max(0, static_cast<int>(job_inputs_.size()) - 1));
  plan_w_ = plan_h_ = -1;  // min_face_px or zoom_tiles may have changed
  opts_.detect_interval = std::max(1, opts_.detect_interval);
  opts_.max_faces = std::max(1, opts_.max_faces);
  for (Track& t : tracks_) t.smoother.set_params(opts_.smoothing_params);
  // Fewer faces allowed: keep the oldest tracks.
  int active = 0;
  for (Track& t : tracks_)
    if (!t.lost && ++active > opts_.max_faces) t.lost = true, t.lost_since_s = -kForever;
  return true;
}

void FaceTracker::WorkerLoop() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return job_ || quit_; });
      if (quit_) return;
      job_ = false;
    }
    // The inputs and their letterboxes were written by the caller before it set job_ (under
    // mu_). The whole frame's faces come first: Integrate keeps the first of two overlapping.
    std::vector<Detection> dets, one;
    for (int k = 0; k < job_count_; ++k) {
      std::copy(job_inputs_[k].begin(), job_inputs_[k].end(), async_detector_->input(0));
      if (!async_detector_->Run().ok()) continue;
      one.clear();
      decoder_.Decode(async_detector_->output(det_l16_), async_detector_->output(det_r16_),
                      async_detector_->output(det_l32_), async_detector_->output(det_r32_),
                      job_min_score_, &one);
      WeightedNms(one, job_nms_iou_, job_max_faces_);
      for (auto& d : one)
        if (k == 0 || !TouchesTileEdge(d, kDetSize)) dets.push_back(job_lbs_[k].MapToFrame(d));
    }
    {
      std::lock_guard lock(mu_);
      job_result_ = std::move(dets);
      job_done_ = true;
    }
    result_ready_.store(true, std::memory_order_release);
    cv_.notify_all();
  }
}

void FaceTracker::StartAsyncDetect(const ImageView& frame, bool with_tiles) {
  // Caller's thread; the worker is idle (busy_ is false), so its inputs are ours to write.
  job_lbs_[0] = LetterBox::Fit(frame.width, frame.height, kDetSize);
  job_count_ = 1;
  const TilePlan& plan = PlanFor(frame.width, frame.height);
  auto add_region = [&](const std::array<float, 2>& o) {
    LetterBox& lb = job_lbs_[job_count_++];
    lb.scale = static_cast<float>(kDetSize) / plan.side;
    lb.pad_x = -o[0] * lb.scale;
    lb.pad_y = -o[1] * lb.scale;
  };
  const int slots = static_cast<int>(job_lbs_.size()) - 1;
  if (with_tiles && plan.count() > 0) {
    const int n = std::min({opts_.tiles_per_detect, plan.count(), slots});
    for (int i = 0; i < n; ++i)
      add_region(plan.Origin(static_cast<int>(next_tile_++ % plan.count()), frame.width, frame.height));
  } else if (!with_tiles) {
    // A track is lost: the small ones are searched where they were last.
    for (const auto& o : RecoveryRegions(frame.width, frame.height))
      if (job_count_ <= slots) add_region(o);
  }
  job_boxes_.clear();  // keeps its capacity: no allocation once the face count is steady
  for (const Track& t : tracks_)
    if (!t.lost) job_boxes_.emplace_back(t.id, t.last_box);
  job_min_score_ = opts_.min_detection_score;
  job_nms_iou_ = opts_.nms_iou;
  job_max_faces_ = opts_.max_faces;
  for (int k = 0; k < job_count_; ++k)
    SampleCrop(frame, job_lbs_[k].ToFrame(), kDetSize, kDetSize, CropNorm::kSigned,
               CropChannels::kRgb, job_inputs_[k].data());
  {
    std::lock_guard lock(mu_);
    job_ = true;
  }
  cv_.notify_all();
  busy_ = true;
}

bool FaceTracker::TakeAsyncResult(std::vector<Detection>* out) {
  if (!busy_ || !result_ready_.load(std::memory_order_acquire)) return false;
  std::lock_guard lock(mu_);
  *out = std::move(job_result_);
  job_result_.clear();
  job_done_ = false;
  result_ready_.store(false, std::memory_order_relaxed);
  busy_ = false;
  return true;
}

std::vector<Detection> FaceTracker::Detect(const ImageView& frame) {
  return DetectWith(frame, LetterBox::Fit(frame.width, frame.height, kDetSize));
}

std::vector<Detection> FaceTracker::DetectIn(const ImageView& frame, float x0, float y0,
                                             float side) {
  LetterBox lb;  // the square region fills the detector input
  lb.scale = static_cast<float>(kDetSize) / side;
  lb.pad_x = -x0 * lb.scale;
  lb.pad_y = -y0 * lb.scale;
  return DetectWith(frame, lb);
}

std::vector<Detection> FaceTracker::DetectTilesInline(const ImageView& frame, int n) {
  std::vector<Detection> out;
  const TilePlan& plan = PlanFor(frame.width, frame.height);
  n = std::min(n, plan.count());
  for (int i = 0; i < n; ++i)
    DetectInTile(frame, plan.Origin(static_cast<int>(next_tile_++ % plan.count()), frame.width, frame.height),
                 plan.side, &out);
  return out;
}

void FaceTracker::DetectInTile(const ImageView& frame, const std::array<float, 2>& o, float side,
                               std::vector<Detection>* out) {
  // DetectIn's boxes are in frame pixels: the tile's edge is at o and o + side there. A face
  // cut by the edge is left to the tile (or the whole frame) that holds it whole.
  for (const Detection& d : DetectIn(frame, o[0], o[1], side)) {
    Detection in = d;  // back to the tile's detector pixels for the edge test
    const float k = kDetSize / side;
    in.box = {(d.box.x - o[0]) * k, (d.box.y - o[1]) * k, d.box.w * k, d.box.h * k};
    if (!TouchesTileEdge(in, kDetSize)) out->push_back(d);
  }
}

std::vector<Detection> FaceTracker::DetectWith(const ImageView& frame, const LetterBox& lb) {
  SampleCrop(frame, lb.ToFrame(), kDetSize, kDetSize, CropNorm::kSigned, CropChannels::kRgb,
             detector_->input(0));
  std::vector<Detection> dets;
  if (!detector_->Run().ok()) return dets;
  decoder_.Decode(detector_->output(det_l16_), detector_->output(det_r16_),
                  detector_->output(det_l32_), detector_->output(det_r32_),
                  opts_.min_detection_score, &dets);
  WeightedNms(dets, opts_.nms_iou, opts_.max_faces);
  for (auto& d : dets) d = lb.MapToFrame(d);
  return dets;
}

FaceTracker::Crop FaceTracker::CropFromDetection(const Detection& d) const {
  Crop c;
  c.cx = d.box.x + 0.5f * d.box.w;
  c.cy = d.box.y + 0.5f * d.box.h;
  c.side = std::max(d.box.w, d.box.h) * opts_.crop_scale;
  // Keypoint 0 is the subject's right eye (image left), 1 the left eye.
  const auto& r = d.keypoints[0];
  const auto& l = d.keypoints[1];
  c.angle = std::atan2(-(l[1] - r[1]), l[0] - r[0]);
  return c;
}

FaceTracker::Crop FaceTracker::CropFromLandmarks(const std::vector<std::array<float, 3>>& lm) const {
  Crop c;
  const auto& r = lm[kRightEyeOuter];
  const auto& l = lm[kLeftEyeOuter];
  c.angle = std::atan2(-(l[1] - r[1]), l[0] - r[0]);
  // The bounding box is taken in the face's own (rotated) frame, so a rolled face does not
  // get an inflated crop.
  const float cs = std::cos(c.angle), sn = std::sin(c.angle);
  float u0 = 1e30f, v0 = 1e30f, u1 = -1e30f, v1 = -1e30f;
  for (const auto& p : lm) {
    const float u = cs * p[0] - sn * p[1], v = sn * p[0] + cs * p[1];
    u0 = std::min(u0, u), u1 = std::max(u1, u), v0 = std::min(v0, v), v1 = std::max(v1, v);
  }
  const float uc = 0.5f * (u0 + u1), vc = 0.5f * (v0 + v1);
  c.cx = cs * uc + sn * vc;
  c.cy = -sn * uc + cs * vc;
  c.side = std::max(u1 - u0, v1 - v0) * opts_.crop_scale;
  return c;
}

bool FaceTracker::RunMesh(const ImageView& frame, Track& t, double t_s) {
  const auto c0 = Clock::now();
  const Affine2D m = Affine2D::SquareCrop(t.crop.cx, t.crop.cy, t.crop.side, t.crop.angle, kMeshSize);
  SampleCrop(frame, m, kMeshSize, kMeshSize, CropNorm::kUnit, CropChannels::kRgb, mesh_->input(0));
  const auto c1 = Clock::now();
  ++timings_.meshes_run;
  const bool ok = mesh_->Run().ok();
  const auto c2 = Clock::now();
  timings_.crop_ms += Ms(c0, c1);
  timings_.mesh_ms += Ms(c1, c2);
  if (!ok) return false;
  t.presence = mesh_->output(mesh_flag_)[0];
  const bool present = t.presence >= opts_.min_presence;
  // A rejected pass keeps its points only for a track not yet confirmed: they frame its
  // second look (Process). A confirmed track's raw points stay those of its last good frame.
  if (!present && t.confirmed) return false;
  const float* p = mesh_->output(mesh_points_);
  const float zscale = t.crop.side / static_cast<float>(kMeshSize);
  t.raw.resize(kMeshLandmarks);
  for (int i = 0; i < kMeshLandmarks; ++i) {
    const auto xy = m.Apply(p[3 * i], p[3 * i + 1]);
    t.raw[i] = {xy[0], xy[1], p[3 * i + 2] * zscale};
  }
  if (!present) return false;
  if (iris_) RunIris(frame, t);
  t.landmarks = t.raw;  // same size every frame: no allocation after the first
  Smooth(t, t_s);
  return true;
}

void FaceTracker::Smooth(Track& t, double t_s) {
  const auto c3 = Clock::now();
  if (opts_.smoothing) {
    const auto& r = t.landmarks[kRightEyeOuter];
    const auto& l = t.landmarks[kLeftEyeOuter];
    const float iod = std::hypot(l[0] - r[0], l[1] - r[1]);
    t.smoother.Filter(t_s, iod, t.landmarks);
  }
  timings_.smooth_ms += Ms(c3, Clock::now());
}

bool FaceTracker::MaySkipMesh(const Track& t) const {
  // Only a confirmed face with a measured motion under the threshold, not one just revived or
  // whose last pass was a second look, and not more than still_mesh_skip frames in a row.
  return opts_.still_mesh_skip > 0 && t.confirmed && !t.revived && t.skipped < opts_.still_mesh_skip &&
         t.motion < opts_.still_motion && t.raw.size() >= static_cast<size_t>(kMeshLandmarks);
}

void FaceTracker::SkipMesh(Track& t, double t_s) {
  // Still: the last mesh's points stand for this frame (the crop, box and presence too).
  ++t.skipped;
  ++t.frames_since_mesh;
  ++timings_.meshes_skipped;
  t.landmarks = t.raw;
  Smooth(t, t_s);
}

void FaceTracker::MeasureMotion(Track& t) {
  // RMS displacement (x, y) of the mesh points since the previous accepted run, per frame, in
  // inter-ocular distances. Called after an accepted run; t.raw is this frame's.
  const int frames = t.frames_since_mesh;
  t.frames_since_mesh = 1;
  t.skipped = 0;
  if (t.prev_raw.size() != t.raw.size() || frames < 1) {
    t.motion = 1e30f;
  } else {
    double sum = 0;
    for (int i = 0; i < kMeshLandmarks; ++i) {
      const float dx = t.raw[i][0] - t.prev_raw[i][0], dy = t.raw[i][1] - t.prev_raw[i][1];
      sum += dx * dx + dy * dy;
    }
    const auto& r = t.raw[kRightEyeOuter];
    const auto& l = t.raw[kLeftEyeOuter];
    const float iod = std::max(1e-3f, std::hypot(l[0] - r[0], l[1] - r[1]));
    t.motion = static_cast<float>(std::sqrt(sum / kMeshLandmarks)) / iod / static_cast<float>(frames);
  }
  t.prev_raw = t.raw;  // same size every time: no allocation after the first
}

void FaceTracker::RunIris(const ImageView& frame, Track& t) {
  const auto c0 = Clock::now();
  std::array<std::array<float, 3>, kIrisPoints> iris_pts[2];
  for (int eye = 0; eye < 2; ++eye) {  // 0: subject's left (image right), 1: subject's right
    const int* lid = eye == 0 ? kLeftEyelid : kRightEyelid;
    const auto& a = t.raw[lid[0]];  // outer corner
    const auto& b = t.raw[lid[8]];  // inner corner
    const float cx = 0.5f * (a[0] + b[0]), cy = 0.5f * (a[1] + b[1]);
    const float side = 2.3f * std::hypot(b[0] - a[0], b[1] - a[1]);
    Affine2D m = Affine2D::SquareCrop(cx, cy, side, t.crop.angle, kIrisSize);
    // The model is trained on the subject's right eye (the image's left): mirror the other
    // one (crop x -> kIrisSize - x). Checked in tracker_reference_test: with the other
    // choice the refined eyelids land ~12 px from the mesh's own.
    if (eye == 0) {
      m.c += m.a * kIrisSize, m.a = -m.a;
      m.f += m.d * kIrisSize, m.d = -m.d;
    }
    SampleCrop(frame, m, kIrisSize, kIrisSize, CropNorm::kUnit, CropChannels::kRgb, iris_->input(0));
    if (!iris_->Run().ok()) return;
    const float* o = iris_->output(0);
    const float zscale = side / static_cast<float>(kIrisSize);
    auto to_frame = [&](int k) {
      const auto xy = m.Apply(o[3 * k], o[3 * k + 1]);
      return std::array<float, 3>{xy[0], xy[1], o[3 * k + 2] * zscale};
    };
    for (int k = 0; k < 16; ++k) {
      const auto p = to_frame(k);
      t.raw[lid[k]] = {p[0], p[1], 0.5f * (p[2] + t.raw[lid[k]][2])};
    }
    for (int k = 0; k < kIrisPoints; ++k) iris_pts[eye][k] = to_frame(kIrisContour + k);
  }
  // Iris depth: the eye's own depth (the model's z is relative to the eye crop).
  t.raw.resize(kMeshLandmarks + 2 * kIrisPoints);
  for (int eye = 0; eye < 2; ++eye) {
    const int* lid = eye == 0 ? kLeftEyelid : kRightEyelid;
    const float z = 0.5f * (t.raw[lid[4]][2] + t.raw[lid[12]][2]);
    for (int k = 0; k < kIrisPoints; ++k)
      t.raw[kMeshLandmarks + eye * kIrisPoints + k] = {iris_pts[eye][k][0], iris_pts[eye][k][1], z};
  }
  timings_.iris_ms += Ms(c0, Clock::now());
}

void FaceTracker::Integrate(const std::vector<Detection>& dets,
                            const std::vector<std::pair<int64_t, Box>>* job_boxes) {
  // A detection whose centre lies in a tracked face's box is that face too: a small face's
  // box from the whole frame's coarse scale can be loose enough to overlap it under 0.3.
  auto same_face = [](const Box& track, const Box& det) {
    return IoU(track, det) > 0.3f || CentreInside(det, track);
  };
  for (const Detection& d : dets) {
    // Already tracked? Then the tracker's own crop is better than the detector's. The
    // worker's detections are of an older frame: a face that moved since is recognised by
    // where its track was on that frame (with a slow detector or a fast face the old box
    // may not overlap the new one, and the face would be taken for a new person).
    bool tracked = false;
    for (const Track& t : tracks_) {
      if (t.lost) continue;
      if (same_face(t.last_box, d.box)) tracked = true;
      if (job_boxes)
        for (const auto& [id, box] : *job_boxes)
          if (id == t.id && same_face(box, d.box)) tracked = true;
    }
    if (tracked) continue;
    // A lost track nearby takes its id back.
    Track* revive = nullptr;
    float best = 0.2f;
    for (Track& t : tracks_)
      if (t.lost && IoU(t.last_box, d.box) > best) best = IoU(t.last_box, d.box), revive = &t;
    if (revive) {
      // lost_since_s stays: if the mesh rejects the revived crop at once, the track is lost
      // since the first time (a detection that keeps reviving a track the mesh never accepts,
      // a false positive, must not keep it alive, and the detector running, forever).
      revive->lost = false;
      revive->revived = true;

      revive->crop = CropFromDetection(d);
      revive->smoother.Reset();
      continue;
    }
    int active = 0;
    for (const Track& t : tracks_) active += !t.lost;
    if (active >= opts_.max_faces) continue;
    Track t;
    t.id = next_id_++;
    t.crop = CropFromDetection(d);
    t.last_box = d.box;
    t.smoother = LandmarkSmoother(opts_.smoothing_params);
    tracks_.push_back(std::move(t));
  }
}

FrameFaces FaceTracker::Process(const ImageView& frame, int64_t pts_ns) {
  timings_ = TrackerTimings{};
  const double t_s = pts_ns >= 0 ? static_cast<double>(pts_ns) * 1e-9
                                 : static_cast<double>(frame_count_) / 30.0;
  FrameFaces out;
  out.pts_ns = pts_ns;

  int active = 0;
  bool any_lost = false;
  for (const Track& t : tracks_) {
    if (t.lost)
      any_lost = true;
    else
      ++active;
  }
  const bool due = active == 0 || any_lost || frame_count_ % opts_.detect_interval == 0;
  const bool can_detect = frame.width >= 2 && frame.height >= 2;
  if (async_detector_ && TakeAsyncResult(&dets_)) {
    timings_.detector_joined = true;
    Integrate(dets_, &job_boxes_);
  }
  if (due && can_detect) {
    if (async_detector_ && active > 0) {
      if (!busy_) {
        const auto d0 = Clock::now();
        StartAsyncDetect(frame, !any_lost);
        timings_.detect_ms = Ms(d0, Clock::now());
        timings_.detector_started = true;
      }
    } else {
      const auto d0 = Clock::now();
      dets_ = Detect(frame);
      // Small faces (TrackerOptions::zoom_tiles): with nobody in view, one tile per frame
      // while the whole frame shows nobody; while tracking (no worker), as the worker would.
      if (any_lost) {
        // Small lost faces are searched where they were last (RecoveryRegions).
        for (const auto& o : RecoveryRegions(frame.width, frame.height))
          DetectInTile(frame, o, PlanFor(frame.width, frame.height).side, &dets_);
      }
      if (active == 0 && dets_.empty()) {
        dets_ = DetectTilesInline(frame, 1);
      } else if (active > 0 && !any_lost) {
        const auto tiles = DetectTilesInline(frame, opts_.tiles_per_detect);
        dets_.insert(dets_.end(), tiles.begin(), tiles.end());
      }
      timings_.detect_ms = Ms(d0, Clock::now());
      timings_.detector_ran = true;
      Integrate(dets_);
    }
  }

  for (Track& t : tracks_) {
    if (t.lost) continue;
    if (MaySkipMesh(t)) {
      SkipMesh(t, t_s);
      continue;
    }
    bool found = RunMesh(frame, t, t_s);
    // Second look (TrackerOptions::second_look): one more pass on another framing of the same
    // face before the mesh's doubt drops it. The presence threshold is unchanged: a non-face
    // stays rejected, and each case costs one FaceMesh run only on a frame the first pass
    // failed.
    //  - A new face: its first crop comes from the detector's box, which for a small face is
    //    coarse; the rejected pass's own points still say where the face is: their crop.
    //  - A tracked face: its crop comes from its landmarks, which reach beyond what the
    //    picture shows when the face is cut by the frame's (or a photo's) edge: that crop is
    //    then mostly outside and the mesh may reject it on every other frame while the box
    //    the detector draws around the visible part is accepted (seen on FER2013's tight
    //    crops: the face found on even frames only, docs/eval/emotion.md). Retry the crop
    //    that was accepted last (one frame old).
    const bool looked_twice = !found && opts_.second_look;
    if (!found && opts_.second_look) {
      if (!t.confirmed && t.raw.size() >= static_cast<size_t>(kMeshLandmarks)) {
        t.crop = CropFromLandmarks(t.raw);
        found = RunMesh(frame, t, t_s);
      } else if (t.confirmed && !t.revived) {
        t.crop = t.accepted_crop;
        found = RunMesh(frame, t, t_s);
      }
    }
    if (!found) {
      t.motion = 1e30f;  // measured again from two accepted runs
      t.prev_raw.clear();
      t.lost = true;
      // A new track the mesh rejects on its first frame was never reported: forget it now
      // rather than keep the detector running every frame for grace_s on its account.
      if (!t.confirmed) t.lost_since_s = -kForever;
      else if (!t.revived) t.lost_since_s = t_s;
      t.revived = false;
      continue;
    }
    // Still faces: the motion since the previous accepted run. A new or revived face, or a
    // second look (another framing), starts the measure anew.
    if (!t.confirmed || t.revived || looked_twice) t.prev_raw.clear();
    MeasureMotion(t);
    t.revived = false;
    t.confirmed = true;
    t.last_box = BoundingBox(t.landmarks);
    t.accepted_crop = t.crop;
    t.crop = CropFromLandmarks(t.raw);
  }
  // Two tracks on one face (they converged, or one started from a poor box and settled
  // beside the other): keep the older id. Distinct faces, even touching ones, do not hold
  // each other's centres.
  for (size_t i = 0; i < tracks_.size(); ++i)
    for (size_t j = i + 1; j < tracks_.size(); ++j) {
      const Box& a = tracks_[i].last_box;
      const Box& b = tracks_[j].last_box;
      if (!tracks_[i].lost && !tracks_[j].lost &&
          (IoU(a, b) > 0.5f || CentreInside(a, b) || CentreInside(b, a)))
        tracks_[j].lost = true, tracks_[j].lost_since_s = -kForever;
    }
  // Forget lost tracks after the grace period, measured in pts seconds: a gap in the stream
  // (a lost packet, a stalled camera) ages them by the time it lasted, not by one frame.
  std::erase_if(tracks_, [&](const Track& t) { return t.lost && t_s - t.lost_since_s > opts_.grace_s; });

  const auto p0 = Clock::now();
  for (const Track& t : tracks_) {
    if (t.lost) continue;
    Face f;
    f.id = t.id;
    f.box = t.last_box;
    f.score = t.presence;
    f.landmarks = t.landmarks;
    f.pose = FitHeadPose(canonical_, t.landmarks, frame.width, frame.height).pose;
    out.faces.push_back(std::move(f));
  }
  timings_.pose_ms = Ms(p0, Clock::now());
  ++frame_count_;
  return out;
}

}  // namespace fg
