// Uses the installed embedding API: one Analyzer, a few frames of the astronaut photo (path
// in argv[1]) read with the engine's own PNG reader, FrameFaces printed. Exit 0 when a face
// was tracked in every frame.
#include <cstdio>

#include "engine/graph/analyzer.h"
#include "engine/io/png.h"

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  fg::RgbImage img;
  if (auto e = fg::ReadPngRgb(argv[1], &img)) {
    std::fprintf(stderr, "consumer: %s\n", e->c_str());
    return 1;
  }
  fg::AnalyzerOptions o;
  o.input_policy = fg::Backpressure::kBlock;
  o.vitals = false;
  int with_face = 0, frames = 0;
  std::string err;
  auto a = fg::Analyzer::Create(o, [&](const fg::FrameFaces& ff, const fg::ImageView&) {
    ++frames;
    with_face += ff.faces.empty() ? 0 : 1;
  }, &err);
  if (!a) {
    std::fprintf(stderr, "consumer: %s\n", err.c_str());
    return 1;
  }
  for (int i = 0; i < 5; ++i) a->Push(img.View(), i * 33'333'333LL);
  if (std::string e = a->Finish(); !e.empty()) {
    std::fprintf(stderr, "consumer: %s\n", e.c_str());
    return 1;
  }
  std::printf("consumer: %d frames, %d with a face\n", frames, with_face);
  return frames == 5 && with_face == 5 ? 0 : 1;
}
