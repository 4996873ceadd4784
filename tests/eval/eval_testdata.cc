// eval-testdata: renders the pictures of the evaluation tools' generated datasets (tests/eval):
// photos placed on a grey canvas by known similarity transforms, so the test knows exactly
// where every annotated point and box went.
//
//   eval-testdata OUT.png WxH [PHOTO SCALE ANGLE CX CY]...
//
// Each placement maps the photo's centre (w/2, h/2) to (CX, CY) on the canvas, scaled by SCALE
// and turned by ANGLE degrees (clockwise on screen, y down): a photo point p (continuous
// coordinates, pixel (0,0) covers [0,1) x [0,1)) lands at
//   SCALE * R(ANGLE) * (p - (w/2, h/2)) + (CX, CY),   R = [cos -sin; sin cos].
// Canvas pixels take the photo bilinearly at their centre's pre-image (later placements
// over earlier ones); the rest is mid-grey (128). A 2x2 box prefilter per halving of
// SCALE keeps downscaled faces free of aliasing.
//
// Exit status: 0 written; 1 a photo cannot be read or the PNG written; 2 bad arguments.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/io/jpeg.h"
#include "engine/io/png.h"

namespace {

int Usage() {
  std::fprintf(stderr, "usage: eval-testdata OUT.png WxH [PHOTO SCALE ANGLE CX CY]...\n");
  return 2;
}

bool Number(const char* s, double* out) {
  char* end = nullptr;
  *out = std::strtod(s, &end);
  return end != s && !*end && std::isfinite(*out);
}

// Halves the picture (2x2 means) while `scale` < 0.5.
void Prefilter(fg::RgbImage* img, double scale) {
  while (scale < 0.5 && img->width >= 4 && img->height >= 4) {
    fg::RgbImage h{img->width / 2, img->height / 2, {}};
    h.pixels.resize(static_cast<size_t>(h.width) * h.height * 3);
    for (int y = 0; y < h.height; ++y)
      for (int x = 0; x < h.width; ++x)
        for (int c = 0; c < 3; ++c) {
          int s = 0;
          for (int dy = 0; dy < 2; ++dy)
            for (int dx = 0; dx < 2; ++dx)
              s += img->pixels[(static_cast<size_t>(2 * y + dy) * img->width + 2 * x + dx) * 3 + c];
          h.pixels[(static_cast<size_t>(y) * h.width + x) * 3 + c] = static_cast<uint8_t>((s + 2) / 4);
        }
    // An odd last row or column is dropped: the caller maps through the sizes' ratio.
    scale *= 2;
    *img = std::move(h);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || (argc - 3) % 5) return Usage();
  int cw = 0, ch = 0;
  if (std::sscanf(argv[2], "%dx%d", &cw, &ch) != 2 || cw < 16 || ch < 16 || cw > 8192 || ch > 8192)
    return std::fprintf(stderr, "eval-testdata: bad canvas size %s\n", argv[2]), Usage();
  fg::RgbImage canvas{cw, ch, std::vector<uint8_t>(static_cast<size_t>(cw) * ch * 3, 128)};
  for (int a = 3; a < argc; a += 5) {
    fg::RgbImage photo;
    if (auto e = fg::ReadImageRgb(argv[a], &photo)) return std::fprintf(stderr, "eval-testdata: %s\n", e->c_str()), 1;
    double scale, angle, cx, cy;
    if (!Number(argv[a + 1], &scale) || scale <= 0 || !Number(argv[a + 2], &angle) ||
        !Number(argv[a + 3], &cx) || !Number(argv[a + 4], &cy))
      return std::fprintf(stderr, "eval-testdata: bad placement for %s\n", argv[a]), Usage();
    const double pw = photo.width, ph = photo.height;  // the original's geometry
    Prefilter(&photo, scale);
    const double kx = photo.width / pw, ky = photo.height / ph;  // prefiltered px per original px
    const double r = angle * M_PI / 180, co = std::cos(r), si = std::sin(r);
    const fg::ImageView src = photo.View();
    for (int y = 0; y < ch; ++y)
      for (int x = 0; x < cw; ++x) {
        // Pre-image of the canvas pixel centre, in original photo coordinates.
        const double dx = (x + 0.5 - cx) / scale, dy = (y + 0.5 - cy) / scale;
        const double px = co * dx + si * dy + pw / 2, py = -si * dx + co * dy + ph / 2;
        if (px < 0 || py < 0 || px >= pw || py >= ph) continue;
        // ... in the (prefiltered) picture's pixel-centre indices.
        const float sx = std::clamp(static_cast<float>(px * kx - 0.5), 0.0f, photo.width - 1.0f);
        const float sy = std::clamp(static_cast<float>(py * ky - 0.5), 0.0f, photo.height - 1.0f);
        const auto p = src.Bilinear(sx, sy);
        uint8_t* d = canvas.pixels.data() + (static_cast<size_t>(y) * cw + x) * 3;
        for (int c = 0; c < 3; ++c) d[c] = static_cast<uint8_t>(std::lround(std::clamp(p[c], 0.0f, 255.0f)));
      }
  }
  if (auto e = fg::WritePngRgb(argv[1], canvas)) return std::fprintf(stderr, "eval-testdata: %s\n", e->c_str()), 1;
  return 0;
}
