// libFuzzer target: the kiosk's config parser (tools/runner/kiosk_config.h), the file a kiosk
// reads at every start from /etc/facegraph/kiosk.conf. The input is the file's text.
//
// Besides crashes, hangs and sanitizer reports (UBSan catches a float-to-integer conversion out
// of range), a result that breaks the parser's promise aborts:
//   - an error must begin with "NAME:LINE: " where LINE is a line of the text (1 to the number of
//     lines), stay one line of printable text (no control characters: values are quoted cut and
//     cleaned) and be short (< 1 KiB);
//   - an accepted config must hold only values its keys allow: fps 1..240, width/height 0 or
//     16..16384, max-height 16..16384, json-max-files 1..10000, stall-timeout 0.2..3600 s,
//     max-backoff 0.1..3600 s (both finite), a port 0..65535 with a non-empty host, display one
//     of fullscreen/window/none, a non-empty camera, no control character (but tab) in any
//     string, and never page with privacy or without the metrics server;
//   - parsing is a function of the text: a second parse into a fresh config gives the same
//     answer and the same error.
//
// Build and run: tools/fuzz/CMakeLists.txt and tools/fuzz/run (seeds made at run time from
// tools/kiosk/kiosk.conf: the whole file, each setting alone, each commented-out example).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tools/runner/kiosk_config.h"

namespace {

[[noreturn]] void Broken(const char* promise, const std::string& detail) {
  std::fprintf(stderr, "fuzz_kiosk_config: broken promise: %s: %s\n", promise, detail.c_str());
  std::abort();
}

bool Same(const fg::KioskConfig& a, const fg::KioskConfig& b) {
  return a.camera == b.camera && a.source == b.source && a.graph == b.graph && a.width == b.width &&
         a.height == b.height && a.fps == b.fps && a.max_height == b.max_height &&
         a.emotion == b.emotion && a.vitals == b.vitals && a.extra == b.extra &&
         a.annotate == b.annotate && a.display == b.display && a.display_sink == b.display_sink &&
         a.json == b.json && a.json_max_size == b.json_max_size &&
         a.json_max_age_s == b.json_max_age_s && a.json_max_files == b.json_max_files &&
         a.privacy == b.privacy && a.blur_faces == b.blur_faces &&
         a.stall_timeout_s == b.stall_timeout_s && a.max_backoff_s == b.max_backoff_s &&
         a.metrics_host == b.metrics_host && a.metrics_port == b.metrics_port &&
         a.metrics == b.metrics && a.page == b.page;
}

void CheckError(const std::string& text, const std::string& error) {
  const std::string prefix = "fuzz.conf:";
  if (error.rfind(prefix, 0) != 0) Broken("error names the file", error);
  size_t i = prefix.size();
  long line = 0;
  while (i < error.size() && error[i] >= '0' && error[i] <= '9' && line < 1'000'000'000)
    line = line * 10 + (error[i++] - '0');
  if (i == prefix.size() || error.compare(i, 2, ": ") != 0) Broken("error names the line", error);
  // getline's lines: one per '\n', plus a last one without it.
  long lines = 1;
  for (char c : text) lines += c == '\n';
  if (!text.empty() && text.back() == '\n') --lines;
  if (line < 1 || line > lines)
    Broken("error's line is in the text", error + " (text has " + std::to_string(lines) + " lines)");
  if (error.size() >= 1024) Broken("error is short", std::to_string(error.size()) + " bytes");
  for (char c : error)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      Broken("error is printable", "control character " + std::to_string(static_cast<int>(c)));
}

void CheckConfig(const fg::KioskConfig& c) {
  auto in = [](double v, double lo, double hi) { return std::isfinite(v) && v >= lo && v <= hi; };
  if (!in(c.fps, 1, 240)) Broken("fps in 1..240", std::to_string(c.fps));
  for (int v : {c.width, c.height})
    if (v != 0 && !in(v, 16, 16384)) Broken("width/height 0 or 16..16384", std::to_string(v));
  if (!in(c.max_height, 16, 16384)) Broken("max-height in 16..16384", std::to_string(c.max_height));
  if (!in(c.json_max_files, 1, 10000)) Broken("json-max-files in 1..10000", std::to_string(c.json_max_files));
  if (!in(c.stall_timeout_s, 0.2, 3600)) Broken("stall-timeout in 0.2..3600", std::to_string(c.stall_timeout_s));
  if (!in(c.max_backoff_s, 0.1, 3600)) Broken("max-backoff in 0.1..3600", std::to_string(c.max_backoff_s));
  if (!in(c.metrics_port, 0, 65535)) Broken("port in 0..65535", std::to_string(c.metrics_port));
  if (c.metrics && c.metrics_host.empty()) Broken("metrics host not empty", "");
  if (c.display != "fullscreen" && c.display != "window" && c.display != "none")
    Broken("display is fullscreen, window or none", c.display);
  if (c.camera.empty()) Broken("camera not empty", "");
  if (c.page && c.privacy) Broken("never page with privacy", "");
  if (c.page && !c.metrics) Broken("never page without the metrics server", "");
  for (const std::string* v : {&c.camera, &c.source, &c.graph, &c.extra, &c.display_sink, &c.json,
                               &c.metrics_host})
    for (char ch : *v)
      if ((static_cast<unsigned char>(ch) < 0x20 && ch != '\t') || ch == 0x7f)
        Broken("values are plain text", "control character in \"" + *v + "\"");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  fg::KioskConfig cfg;
  std::string error;
  const bool ok = fg::ParseKioskConfig(text, "fuzz.conf", &cfg, &error);
  if (ok) CheckConfig(cfg);
  else CheckError(text, error);
  fg::KioskConfig again;
  std::string error2;
  const bool ok2 = fg::ParseKioskConfig(text, "fuzz.conf", &again, &error2);
  if (ok2 != ok || error2 != error || (ok && !Same(cfg, again)))
    Broken("parsing is a function of the text", error + " / " + error2);
  return 0;
}
