// avatar-calibrate: a per-subject tracker-response calibration for faceavatar's mirroring
// (engine/avatar/mirror.h step 5; faceavatar property `calibration`).
//
// From one frontal photo of the subject with a neutral face, the subject's own face is
// warped by every blendshape target at known weights on three renderings (rolled +5 and
// -5 degrees, and scaled 0.95) and read back through the same
// FaceTracker and appearance refinement as the element runs them; per target, the
// displacement they report for a unit weight is saved (SubjectCalibrationOptions in
// engine/synth/tracker_response.h). The mirror then solves against how this tracker reads
// this face. Take the photo from where the subject will sit (the reply to some targets
// depends on the face's size in the picture). About 2 s on one core.
//
//   avatar-calibrate PHOTO.png OUT.fgrb [--models-dir=DIR] [--backend=xnnpack|reference]
//                    [--iris=0|1] [--smoothing=0|1]
//
// --iris and --smoothing must match the facetrack the calibration will serve (its defaults:
// iris off, smoothing on); the file records them in its provenance.
//
// Exit status: 0 written; 1 a failure (the message names the file, the model folder, or
// "no face"); 2 bad arguments.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "engine/io/png.h"
#include "engine/synth/tracker_response.h"

int main(int argc, char** argv) {
  std::string photo, out, backend = "xnnpack";
  fg::TrackerOptions to;  // facetrack's defaults
  const char* env = std::getenv("FACEGRAPH_MODELS");
  std::string models = env ? env : FG_MODELS_DEFAULT_DIR;
  for (int i = 1; i < argc; ++i) {
    if (!std::strncmp(argv[i], "--models-dir=", 13)) {
      models = argv[i] + 13;
    } else if (!std::strncmp(argv[i], "--backend=", 10)) {
      backend = argv[i] + 10;
    } else if (!std::strcmp(argv[i], "--iris=0") || !std::strcmp(argv[i], "--iris=1")) {
      to.iris = argv[i][7] == '1';
    } else if (!std::strcmp(argv[i], "--smoothing=0") || !std::strcmp(argv[i], "--smoothing=1")) {
      to.smoothing = argv[i][12] == '1';
    } else if (argv[i][0] == '-') {
      std::fprintf(stderr, "avatar-calibrate: unknown option %s\n", argv[i]);
      return 2;
    } else if (photo.empty()) {
      photo = argv[i];
    } else if (out.empty()) {
      out = argv[i];
    } else {
      std::fprintf(stderr, "avatar-calibrate: one photo and one output file\n");
      return 2;
    }
  }
  if (photo.empty() || out.empty()) {
    std::fprintf(stderr,
                 "usage: avatar-calibrate PHOTO.png OUT.fgrb [--models-dir=DIR] "
                 "[--backend=xnnpack|reference] [--iris=0|1] [--smoothing=0|1]\n");
    return 2;
  }
  fg::RgbImage img;
  if (auto e = fg::ReadPngRgb(photo, &img)) {
    std::fprintf(stderr, "avatar-calibrate: %s\n", e->c_str());
    return 1;
  }
  to.models_dir = models;
  to.backend = backend;
  std::string err;
  const auto r = fg::MeasureTrackerResponse(img.View(), fg::SubjectCalibrationOptions(to), &err);
  if (!r) {
    std::fprintf(stderr, "avatar-calibrate: %s: %s\n", photo.c_str(), err.c_str());
    return 1;
  }
  if (!fg::SaveResponseBasis(*r, out, &err)) {
    std::fprintf(stderr, "avatar-calibrate: %s\n", err.c_str());
    return 1;
  }
  std::printf("avatar-calibrate: %zu targets -> %s (%s)\n", r->names.size(), out.c_str(),
              r->provenance.c_str());
  return 0;
}
