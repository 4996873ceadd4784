// avatar-prototypes: issue 7's "recognisable" check on any face photo. Ekman's six FACS
// prototypes (and neutral) are warped onto the photo's own face as `faceavatar
// output=warp` renders them and classified as `faceemotion` does
// (engine/synth/prototype_check.h); prints the confusion matrix of each variant and how many
// of the six the network recognises. The check is meaningful on a photo of a NEUTRAL face:
// every prototype is an offset from the face in the photo.
//
//   avatar-prototypes PHOTO.png [--models-dir=DIR] [--backend=xnnpack|reference]
//                     [--intensity=0..1] [--variants=warp|all]
//
// Variants: warp (faceavatar output=warp as it renders by default, mouth interior drawn:
// what the issue scores), plain (mouth-interior=false), neutralised (the photo's own
// expression taken away first). --variants=warp: the first only; default: all three.
//
// Exit status: 0 the check ran (whatever it found); 1 a failure (the message names the
// file, the model folder, "no face", or the expression whose picture lost the face); 2 bad
// arguments.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "engine/io/png.h"
#include "engine/synth/prototype_check.h"

int main(int argc, char** argv) {
  std::string photo, backend = "xnnpack";
  const char* env = std::getenv("FACEGRAPH_MODELS");
  std::string models = env ? env : FG_MODELS_DEFAULT_DIR;
  float intensity = 1.0f;
  bool all = true;
  for (int i = 1; i < argc; ++i) {
    if (!std::strncmp(argv[i], "--models-dir=", 13)) {
      models = argv[i] + 13;
    } else if (!std::strncmp(argv[i], "--backend=", 10)) {
      backend = argv[i] + 10;
    } else if (!std::strncmp(argv[i], "--intensity=", 12)) {
      char* end = nullptr;
      intensity = std::strtof(argv[i] + 12, &end);
      if (end == argv[i] + 12 || *end || !(intensity >= 0.0f && intensity <= 1.0f)) {
        std::fprintf(stderr, "avatar-prototypes: --intensity wants a number in 0..1, got %s\n",
                     argv[i] + 12);
        return 2;
      }
    } else if (!std::strcmp(argv[i], "--variants=warp") || !std::strcmp(argv[i], "--variants=all")) {
      all = !std::strcmp(argv[i], "--variants=all");
    } else if (argv[i][0] == '-') {
      std::fprintf(stderr, "avatar-prototypes: unknown option %s\n", argv[i]);
      return 2;
    } else if (photo.empty()) {
      photo = argv[i];
    } else {
      std::fprintf(stderr, "avatar-prototypes: one photo\n");
      return 2;
    }
  }
  if (photo.empty()) {
    std::fprintf(stderr,
                 "usage: avatar-prototypes PHOTO.png [--models-dir=DIR] "
                 "[--backend=xnnpack|reference] [--intensity=0..1] [--variants=warp|all]\n");
    return 2;
  }
  fg::RgbImage img;
  if (auto e = fg::ReadPngRgb(photo, &img)) {
    std::fprintf(stderr, "avatar-prototypes: %s\n", e->c_str());
    return 1;
  }
  std::string err;
  auto check = fg::PrototypeCheck::Create(img.View(), models, backend, &err);
  if (!check) {
    std::fprintf(stderr, "avatar-prototypes: %s: %s\n", photo.c_str(), err.c_str());
    return 1;
  }
  fg::EmotionProbs base{};
  if (check->ClassifyPhoto(&base)) {
    const int k = fg::ArgMax(base);
    std::printf("%s, unwarped: %s %.3f%s\n", photo.c_str(),
                std::string(fg::kEmotionNames[k]).c_str(), base[k],
                k == fg::kEmotionNeutral ? "" : " (the check wants a neutral face)");
  }
  struct Named {
    const char* name;
    fg::PrototypeVariant variant;
  };
  const Named variants[] = {
      {"warp mode (faceavatar output=warp; the issue's score)", {.intensity = intensity}},
      {"plain warp (mouth-interior=false)", {.mouth_interior = false, .intensity = intensity}},
      {"the photo's own expression removed first", {.neutralise = true, .intensity = intensity}},
  };
  for (const Named& v : variants) {
    fg::PrototypeMatrix m;
    if (!check->Run(v.variant, &m, &err)) {
      std::fprintf(stderr, "avatar-prototypes: %s: %s\n", photo.c_str(), err.c_str());
      return 1;
    }
    std::printf("%s, intensity %.2f:\n%s", v.name, intensity, fg::PrototypeCheck::Format(m).c_str());
    if (!all) break;
  }
  return 0;
}
