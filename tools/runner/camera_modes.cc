#include "tools/runner/camera_modes.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <sstream>

namespace fg {
namespace {

constexpr double kTargetFps = 30;
constexpr double kFpsSlack = 0.5;  // 30000/1001 (29.97) counts as 30

// Raw formats by preference at equal size: the ones the elements read natively and cameras
// commonly send first (issue 13's list), then the rest in GStreamer's names.
int RawRank(const std::string& format) {
  static const char* kOrder[] = {"YUY2", "NV12", "I420", "UYVY", "NV21", "RGB",   "BGR",
                                 "BGRx", "RGBx", "xRGB", "xBGR", "BGRA", "RGBA", "GRAY8"};
  for (int i = 0; i < static_cast<int>(std::size(kOrder)); ++i)
    if (format == kOrder[i]) return i;
  return static_cast<int>(std::size(kOrder));
}

bool Usable(const CameraMode& m) {
  return m.encoding != CameraEncoding::kOther && m.width > 0 && m.height > 0 && !m.rates.empty();
}

double MaxFps(const CameraMode& m) {
  double best = 0;
  for (const Fps& f : m.rates) best = std::max(best, f.value());
  return best;
}

// The rate to ask for at a mode that reaches `floor`: 30 where offered, else the lowest >= floor.
Fps RateAtLeast(const CameraMode& m, double floor) {
  Fps best{};
  for (const Fps& f : m.rates) {
    if (f.value() + 1e-9 < floor) continue;
    if (std::abs(f.value() - kTargetFps) < kFpsSlack) return f;
    if (best.num == 0 || f.value() < best.value()) best = f;
  }
  return best;
}

// True when a is the better mode: larger area, then raw before MJPG, then the raw order.
bool Better(const CameraMode& a, const CameraMode& b) {
  const long area_a = static_cast<long>(a.width) * a.height;
  const long area_b = static_cast<long>(b.width) * b.height;
  if (area_a != area_b) return area_a > area_b;
  if (a.encoding != b.encoding) return a.encoding == CameraEncoding::kRaw;
  return RawRank(a.format) < RawRank(b.format);
}

std::string FpsText(Fps f) {
  char buf[32];
  if (f.den == 1)
    std::snprintf(buf, sizeof buf, "%d", f.num);
  else
    std::snprintf(buf, sizeof buf, "%.2f", f.value());
  return buf;
}

}  // namespace

std::string CameraCaps(const CameraMode& mode, Fps fps) {
  std::ostringstream s;
  if (mode.encoding == CameraEncoding::kMjpg)
    s << "image/jpeg";
  else
    s << "video/x-raw,format=" << mode.format;
  s << ",width=" << mode.width << ",height=" << mode.height << ",framerate=" << fps.num << "/"
    << fps.den;
  return s.str();
}

std::string DescribeCameraMode(const CameraMode& mode) {
  std::ostringstream s;
  s << mode.format << " " << mode.width << "x" << mode.height << " @";
  std::vector<Fps> rates = mode.rates;
  std::sort(rates.begin(), rates.end(), [](Fps a, Fps b) { return a.value() > b.value(); });
  for (size_t i = 0; i < rates.size(); ++i) s << (i ? ", " : " ") << FpsText(rates[i]);
  s << " fps";
  return s.str();
}

CameraChoice ChooseCameraMode(const std::vector<CameraMode>& modes, int max_height) {
  CameraChoice choice;
  std::vector<const CameraMode*> usable;
  for (const CameraMode& m : modes)
    if (Usable(m) && m.height <= max_height) usable.push_back(&m);
  bool over_height = false;
  if (usable.empty()) {  // everything is taller than max_height: take the smallest
    const CameraMode* smallest = nullptr;
    for (const CameraMode& m : modes)
      if (Usable(m) && (!smallest || m.height < smallest->height)) smallest = &m;
    if (!smallest) return choice;
    for (const CameraMode& m : modes)
      if (Usable(m) && m.height == smallest->height) usable.push_back(&m);
    over_height = true;
  }
  double top = 0;
  for (const CameraMode* m : usable) top = std::max(top, MaxFps(*m));
  const double floor = std::min(kTargetFps - kFpsSlack, top);
  const CameraMode* best = nullptr;
  for (const CameraMode* m : usable)
    if (MaxFps(*m) + 1e-9 >= floor && (!best || Better(*m, *best))) best = m;
  choice.found = true;
  choice.fps = RateAtLeast(*best, floor);
  choice.mode = *best;
  choice.mode.rates = {choice.fps};
  choice.caps = CameraCaps(*best, choice.fps);

  std::ostringstream why;
  const bool raw = best->encoding == CameraEncoding::kRaw;
  if (top + 1e-9 < kTargetFps - kFpsSlack) {
    why << "no mode reaches 30 fps; " << FpsText(choice.fps)
        << " fps is the highest rate offered, and this is the largest size at that rate";
  } else {
    why << "the largest size that reaches 30 fps";
    if (over_height) why << " (every mode is taller than " << max_height << ": the smallest)";
    else why << " up to " << max_height << " lines";
    // Was there a raw mode of this size too slow, or an MJPG one raw beat?
    bool raw_too_slow = false, mjpg_same = false;
    for (const CameraMode* m : usable) {
      if (m->width != best->width || m->height != best->height) continue;
      if (m->encoding == CameraEncoding::kRaw && MaxFps(*m) + 1e-9 < floor) raw_too_slow = true;
      if (m->encoding == CameraEncoding::kMjpg) mjpg_same = true;
    }
    if (!raw && raw_too_slow)
      why << "; MJPG because raw reaches only a lower rate at this size (USB bandwidth)";
    else if (!raw)
      why << "; MJPG because the camera offers no raw mode of this size";
    else if (mjpg_same)
      why << "; raw rather than MJPG at the same size (no decode)";
  }
  choice.why = why.str();
  return choice;
}

void V4l2FourccToFormat(const std::string& fourcc, CameraEncoding* encoding, std::string* format) {
  struct Row {
    const char* fourcc;
    CameraEncoding encoding;
    const char* format;
  };
  static const Row kRows[] = {
      {"YUYV", CameraEncoding::kRaw, "YUY2"},  {"UYVY", CameraEncoding::kRaw, "UYVY"},
      {"NV12", CameraEncoding::kRaw, "NV12"},  {"NV21", CameraEncoding::kRaw, "NV21"},
      {"YU12", CameraEncoding::kRaw, "I420"},  {"GREY", CameraEncoding::kRaw, "GRAY8"},
      {"RGB3", CameraEncoding::kRaw, "RGB"},   {"BGR3", CameraEncoding::kRaw, "BGR"},
      {"MJPG", CameraEncoding::kMjpg, "MJPG"}, {"JPEG", CameraEncoding::kMjpg, "MJPG"},
  };
  for (const Row& r : kRows) {
    if (fourcc == r.fourcc) {
      *encoding = r.encoding;
      *format = r.format;
      return;
    }
  }
  *encoding = CameraEncoding::kOther;
  *format = fourcc;
}

std::vector<CameraMode> ParseV4l2FormatList(const std::string& text, std::string* error) {
  std::vector<CameraMode> modes;
  std::istringstream in(text);
  std::string line;
  CameraEncoding encoding = CameraEncoding::kOther;
  std::string format;
  bool have_format = false, have_size = false;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos) continue;
    const std::string body = line.substr(start);
    if (body[0] == '[') {  // [0]: 'YUYV' (YUYV 4:2:2)
      const size_t q1 = body.find('\'');
      const size_t q2 = q1 == std::string::npos ? q1 : body.find('\'', q1 + 1);
      if (q2 == std::string::npos) {
        *error = "line " + std::to_string(line_no) + ": a format line without a 'FOURCC'";
        return {};
      }
      V4l2FourccToFormat(body.substr(q1 + 1, q2 - q1 - 1), &encoding, &format);
      have_format = true;
      have_size = false;
    } else if (body.rfind("Size:", 0) == 0) {
      if (!have_format) {
        *error = "line " + std::to_string(line_no) + ": a size before any format";
        return {};
      }
      int w = 0, h = 0;
      have_size = std::sscanf(body.c_str(), "Size: Discrete %dx%d", &w, &h) == 2;
      if (have_size) modes.push_back(CameraMode{encoding, format, w, h, {}});
      // Stepwise / continuous sizes: skipped (rare on webcams; their rates follow unread).
    } else if (body.rfind("Interval:", 0) == 0 && have_size) {
      // Interval: Discrete 0.033s (30.000 fps); the fps in brackets is what v4l2-ctl computed
      // from the fraction: 30.000 -> 30/1, 29.970 -> 30000/1001, 7.500 -> 15/2.
      const size_t open = body.find('(');
      double fps = 0;
      if (open == std::string::npos || std::sscanf(body.c_str() + open, "(%lf fps)", &fps) != 1 ||
          !(fps > 0)) {
        *error = "line " + std::to_string(line_no) + ": an interval without \"(N fps)\"";
        return {};
      }
      Fps f;
      const double rounded = std::round(fps);
      if (std::abs(fps - rounded) < 1e-3) {
        f = {static_cast<int>(rounded), 1};
      } else if (std::abs(fps * 1001 / 1000 - std::round(fps * 1001 / 1000)) < 1e-2) {
        f = {static_cast<int>(std::round(fps * 1001 / 1000)) * 1000, 1001};
      } else {
        f = {static_cast<int>(std::round(fps * 2)), 2};
      }
      modes.back().rates.push_back(f);
    }
  }
  if (modes.empty() && error) *error = "no discrete sizes found (not v4l2-ctl --list-formats-ext output?)";
  return modes;
}

}  // namespace fg
