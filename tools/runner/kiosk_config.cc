// The kiosk's config parser (kiosk_config.h, docs/kiosk.md).
#include "tools/runner/kiosk_config.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

namespace fg {

namespace {

std::string Trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  const size_t b = s.find_last_not_of(" \t\r");
  return s.substr(a, b - a + 1);
}

// A value as quoted in an error: at most 80 bytes, control characters as '?' (a binary file
// or a 1 MB line still gives a one-line message that a terminal shows as it is).
std::string Shown(const std::string& s) {
  constexpr size_t kMax = 80;
  std::string out = s.substr(0, kMax);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  if (s.size() > kMax) out += "...";
  return out;
}

bool ParseBool(const std::string& v, bool* out) {
  if (v == "on" || v == "true" || v == "yes" || v == "1") return *out = true, true;
  if (v == "off" || v == "false" || v == "no" || v == "0") return *out = false, true;
  return false;
}

bool ParseInt(const std::string& v, int lo, int hi, int* out) {
  char* end = nullptr;
  errno = 0;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end || errno || n < lo || n > hi) return false;
  *out = static_cast<int>(n);
  return true;
}

bool ParseSeconds(const std::string& v, double lo, double hi, double* out) {
  char* end = nullptr;
  const double s = std::strtod(v.c_str(), &end);
  if (v.empty() || *end || !std::isfinite(s) || s < lo || s > hi) return false;
  *out = s;
  return true;
}

// Sizes and durations are held as uint64_t: a value at or over 2^63 (1e30, "inf") is refused
// rather than converted (an out-of-range float-to-integer conversion is undefined).
constexpr double kMaxCount = 9.2e18;

// "64M", "512K", "1G", "100000" (bytes; binary multiples).
bool ParseSize(const std::string& v, uint64_t* out) {
  char* end = nullptr;
  const double n = std::strtod(v.c_str(), &end);
  if (v.empty() || end == v.c_str() || !(n >= 0)) return false;
  const std::string unit = end;
  double mul = 1;
  if (unit == "K" || unit == "k") mul = 1024.0;
  else if (unit == "M") mul = 1024.0 * 1024;
  else if (unit == "G") mul = 1024.0 * 1024 * 1024;
  else if (!unit.empty()) return false;
  if (!(n * mul < kMaxCount)) return false;
  *out = static_cast<uint64_t>(n * mul);
  return true;
}

// "30", "30s", "15m", "1h", "1d".
bool ParseDuration(const std::string& v, uint64_t* out) {
  char* end = nullptr;
  const double n = std::strtod(v.c_str(), &end);
  if (v.empty() || end == v.c_str() || !(n >= 0)) return false;
  const std::string unit = end;
  double mul = 1;
  if (unit == "m") mul = 60;
  else if (unit == "h") mul = 3600;
  else if (unit == "d") mul = 86400;
  else if (!unit.empty() && unit != "s") return false;
  if (!(n * mul < kMaxCount)) return false;
  *out = static_cast<uint64_t>(n * mul);
  return true;
}

// The watchdog's timers are turned into nanoseconds (int64): an hour is plenty and far from
// overflowing.
constexpr double kMaxSeconds = 3600;

const char* const kKeys[] = {
    "camera", "source", "graph", "width", "height", "fps", "max-height", "analysis", "extra",
    "annotate", "display", "display-sink", "json", "json-max-size", "json-max-age",
    "json-max-files", "privacy", "blur-faces", "stall-timeout", "max-backoff", "metrics", "page"};

// One key's value into cfg; "" on success, else what is wrong with the value.
std::string Apply(const std::string& key, const std::string& v, KioskConfig* cfg) {
  auto bad = [&](const char* want) { return "\"" + Shown(v) + "\" is not " + want; };
  if (key == "camera") {
    if (v.empty()) return "wants a device, e.g. /dev/video0";
    cfg->camera = v;
  } else if (key == "source") {
    cfg->source = v;
  } else if (key == "graph") {
    cfg->graph = v;
  } else if (key == "width" || key == "height") {
    int n;
    if (!ParseInt(v, 16, 16384, &n)) return bad("a size in pixels (16 to 16384)");
    (key == "width" ? cfg->width : cfg->height) = n;
  } else if (key == "fps") {
    if (!ParseInt(v, 1, 240, &cfg->fps)) return bad("frames per second (1 to 240)");
  } else if (key == "max-height") {
    if (!ParseInt(v, 16, 16384, &cfg->max_height)) return bad("a height in lines (16 to 16384)");
  } else if (key == "analysis") {
    cfg->emotion = cfg->vitals = false;
    std::istringstream words(v);
    std::string w;
    bool track = false;
    while (words >> w) {
      if (w.back() == ',') w.pop_back();
      if (w == "track") track = true;
      else if (w == "emotion") cfg->emotion = true;
      else if (w == "vitals") cfg->vitals = true;
      else return "unknown analysis \"" + Shown(w) + "\" (track, emotion, vitals; others go in extra)";
    }
    if (!track) return "must name track (the other analyses need its faces)";
  } else if (key == "extra") {
    cfg->extra = v;
  } else if (key == "annotate") {
    if (!ParseBool(v, &cfg->annotate)) return bad("on or off");
  } else if (key == "display") {
    if (v != "fullscreen" && v != "window" && v != "none") return bad("fullscreen, window or none");
    cfg->display = v;
  } else if (key == "display-sink") {
    cfg->display_sink = v;
  } else if (key == "json") {
    cfg->json = v;
  } else if (key == "json-max-size") {
    if (!ParseSize(v, &cfg->json_max_size)) return bad("a size (e.g. 64M, 512K, 0 = off)");
  } else if (key == "json-max-age") {
    if (!ParseDuration(v, &cfg->json_max_age_s)) return bad("a duration (e.g. 1h, 15m, 30s, 0 = off)");
  } else if (key == "json-max-files") {
    if (!ParseInt(v, 1, 10000, &cfg->json_max_files)) return bad("a number of files (1 to 10000)");
  } else if (key == "privacy") {
    if (!ParseBool(v, &cfg->privacy)) return bad("on or off");
  } else if (key == "blur-faces") {
    if (!ParseBool(v, &cfg->blur_faces)) return bad("on or off");
  } else if (key == "stall-timeout") {
    if (!ParseSeconds(v, 0.2, kMaxSeconds, &cfg->stall_timeout_s))
      return bad("seconds (0.2 to 3600)");
  } else if (key == "max-backoff") {
    if (!ParseSeconds(v, 0.1, kMaxSeconds, &cfg->max_backoff_s)) return bad("seconds (0.1 to 3600)");
  } else if (key == "metrics") {
    if (v == "off") {
      cfg->metrics = false;
      return "";
    }
    const size_t colon = v.rfind(':');
    int port;
    if (colon == std::string::npos || !ParseInt(v.substr(colon + 1), 0, 65535, &port))
      return bad("HOST:PORT or off (e.g. 127.0.0.1:9464)");
    std::string host = v.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2);  // [::1]:9464
    if (host.empty() || host.find_first_of(" \t[]") != std::string::npos)
      return bad("HOST:PORT or off (e.g. 127.0.0.1:9464)");
    cfg->metrics = true;
    cfg->metrics_host = host;
    cfg->metrics_port = port;
  } else if (key == "page") {
    if (!ParseBool(v, &cfg->page)) return bad("on or off");
  }
  return "";
}

}  // namespace

bool ParseKioskConfig(const std::string& text, const std::string& name, KioskConfig* cfg,
                      std::string* error) {
  std::istringstream in(text);
  std::string line;
  std::map<std::string, int> seen;  // key -> line
  int n = 0;
  auto where = [&](int at) { return name + ":" + std::to_string(at) + ": "; };
  while (std::getline(in, line)) {
    ++n;
    const std::string t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    // Plain text only: a NUL or an escape in a path or a gst-launch fragment would be cut or
    // misread further on (tabs are spaces here).
    for (char c : t) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(c));
        *error = where(n) + "a control character (byte " + hex + ") in \"" + Shown(t) +
                 "\": a kiosk config is plain text";
        return false;
      }
    }
    const size_t eq = t.find('=');
    if (eq == std::string::npos) {
      *error = where(n) + "expected \"key = value\", got \"" + Shown(t) + "\"";
      return false;
    }
    const std::string key = Trim(t.substr(0, eq)), value = Trim(t.substr(eq + 1));
    if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) {
      std::string known;
      for (const char* k : kKeys) known += (known.empty() ? "" : ", ") + std::string(k);
      *error = where(n) + "unknown key \"" + Shown(key) + "\" (known: " + known + ")";
      return false;
    }
    if (seen.count(key)) {
      *error = where(n) + "\"" + key + "\" is set twice (first on line " +
               std::to_string(seen[key]) + ")";
      return false;
    }
    seen[key] = n;
    const std::string why = Apply(key, value, cfg);
    if (!why.empty()) {
      *error = where(n) + key + ": " + why;
      return false;
    }
  }
  // Keys that contradict each other: named at the page line (the page is what adds the risk).
  auto line_of = [&](const char* key) {
    return seen.count(key) ? "line " + std::to_string(seen[key]) : std::string("the default");
  };
  if (cfg->page && seen.count("page")) {
    if (cfg->privacy) {
      *error = where(seen["page"]) + "page: the live page sends the video over HTTP, which " +
               "privacy = on (" + line_of("privacy") + ") forbids";
      return false;
    }
    if (!cfg->metrics) {
      *error = where(seen["page"]) + "page: the page is served on the metrics address, but " +
               "metrics = off (" + line_of("metrics") + ")";
      return false;
    }
  }
  return true;
}

bool LoadKioskConfig(const std::string& path, KioskConfig* cfg, std::string* error) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    *error = path + ": cannot read: " + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = path + ": not a regular file (a kiosk config is a text file of key = value lines)";
    return false;
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxKioskConfigBytes) {
    *error = path + ": " + std::to_string(st.st_size) + " bytes; a kiosk config is at most " +
             std::to_string(kMaxKioskConfigBytes) + " (is this the right file?)";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path + ": cannot read: " + std::strerror(errno);
    return false;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    *error = path + ": read error: " + std::strerror(errno);
    return false;
  }
  return ParseKioskConfig(text, path, cfg, error);
}

}  // namespace fg
