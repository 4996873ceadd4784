// The session report (report.h, docs/page.md): JSON Lines in, one HTML file with inline SVG out.
#include "tools/runner/report.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

namespace fg {
namespace {

using nlohmann::json;

constexpr size_t kMaxPoints = 1200;  // per series: keeps the file small for long sessions
constexpr double kConfident = 0.5;   // heart-rate confidence drawn solid from here on
constexpr int kMaxTracks = 6;        // tracks with their own plots (the longest ones)

// Per-track series, in stream time (seconds from the first frame with a pts).
struct Track {
  int64_t id = -1;
  size_t frames = 0;
  std::vector<double> t_hr, bpm, conf;
  std::optional<double> session_bpm, session_conf;
  std::vector<std::pair<double, std::string>> labels;  // (t, emotion label)
  std::vector<double> t_va, valence, arousal;
  std::vector<double> t_blink, blink_rate;
  std::vector<double> t_pose, yaw, pitch, roll;
  std::optional<double> respiration, sdnn, rmssd;  // newest, when given
  json summary;                                    // facejson's summary of this track
};

std::string Esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '&': o += "&amp;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string Num(double v, int digits = 1) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

// A label's colour: fixed for the seven FER classes, hashed for others.
std::string LabelColour(const std::string& label) {
  static const std::map<std::string, std::string> fixed = {
      {"neutral", "#9e9e9e"}, {"happy", "#f4b400"}, {"sad", "#4285f4"}, {"angry", "#db4437"},
      {"surprise", "#ab47bc"}, {"fear", "#00897b"}, {"disgust", "#7cb342"}};
  if (auto it = fixed.find(label); it != fixed.end()) return it->second;
  unsigned h = 0;
  for (char c : label) h = h * 31 + static_cast<unsigned char>(c);
  char b[32];
  std::snprintf(b, sizeof b, "hsl(%u,55%%,50%%)", h % 360);
  return b;
}

// Tick step of about n ticks over range: 1, 2 or 5 times a power of ten.
double NiceStep(double range, int n) {
  if (!(range > 0)) return 1;
  const double raw = range / n;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * p) return m * p;
  return 10 * p;
}

// One SVG plot with linear axes.
class Plot {
 public:
  Plot(double x0, double x1, double y0, double y1, int w = 760, int h = 230)
      : x0_(x0), x1_(x1 > x0 ? x1 : x0 + 1), y0_(y0), y1_(y1 > y0 ? y1 : y0 + 1), w_(w), h_(h) {}

  double X(double v) const { return kLeft + (v - x0_) / (x1_ - x0_) * (w_ - kLeft - kRight); }
  double Y(double v) const { return h_ - kBottom - (v - y0_) / (y1_ - y0_) * (h_ - kTop - kBottom); }

  void Axes(const std::string& xlabel, const std::string& ylabel) {
    const double xs = NiceStep(x1_ - x0_, 8), ys = NiceStep(y1_ - y0_, 5);
    for (double v = std::ceil(y0_ / ys) * ys; v <= y1_ + 1e-9; v += ys) {
      body_ += "<line class='grid' x1='" + Num(X(x0_)) + "' x2='" + Num(X(x1_)) + "' y1='" +
               Num(Y(v)) + "' y2='" + Num(Y(v)) + "'/>";
      body_ += "<text class='tick' x='" + Num(kLeft - 4) + "' y='" + Num(Y(v) + 4) +
               "' text-anchor='end'>" + Num(v, ys < 1 ? 1 : 0) + "</text>";
    }
    for (double v = std::ceil(x0_ / xs) * xs; v <= x1_ + 1e-9; v += xs)
      body_ += "<text class='tick' x='" + Num(X(v)) + "' y='" + Num(h_ - kBottom + 14) +
               "' text-anchor='middle'>" + Num(v, xs < 1 ? 1 : 0) + "</text>";
    body_ += "<rect class='frame' x='" + Num(kLeft) + "' y='" + Num(kTop) + "' width='" +
             Num(w_ - kLeft - kRight) + "' height='" + Num(h_ - kTop - kBottom) + "'/>";
    body_ += "<text class='axis' x='" + Num((kLeft + w_ - kRight) / 2) + "' y='" + Num(h_ - 4) +
             "' text-anchor='middle'>" + Esc(xlabel) + "</text>";
    body_ += "<text class='axis' transform='translate(12," + Num((kTop + h_ - kBottom) / 2) +
             ") rotate(-90)' text-anchor='middle'>" + Esc(ylabel) + "</text>";
  }

  // A polyline through (x[i], y[i]) for i in [b, e), skipping NaN (a break).
  void Line(const std::vector<double>& x, const std::vector<double>& y, const std::string& colour,
            const std::string& extra = "") {
    std::string pts;
    auto flush = [&] {
      if (!pts.empty())
        body_ += "<polyline fill='none' stroke='" + colour + "' stroke-width='1.6' " + extra +
                 " points='" + pts + "'/>";
      pts.clear();
    };
    const size_t stride = std::max<size_t>(1, x.size() / kMaxPoints);
    for (size_t i = 0; i < x.size(); i += stride) {
      if (!std::isfinite(y[i])) {
        flush();
        continue;
      }
      pts += Num(X(x[i])) + "," + Num(Y(std::clamp(y[i], y0_, y1_))) + " ";
    }
    flush();
  }

  void Band(const std::vector<double>& x, const std::vector<double>& lo,
            const std::vector<double>& hi, const std::string& colour) {
    if (x.empty()) return;
    const size_t stride = std::max<size_t>(1, x.size() / kMaxPoints);
    std::string pts;
    for (size_t i = 0; i < x.size(); i += stride)
      pts += Num(X(x[i])) + "," + Num(Y(std::clamp(hi[i], y0_, y1_))) + " ";
    for (size_t i = (x.size() - 1) / stride * stride + 1; i-- > 0;)
      if (i % stride == 0) pts += Num(X(x[i])) + "," + Num(Y(std::clamp(lo[i], y0_, y1_))) + " ";
    body_ += "<polygon fill='" + colour + "' fill-opacity='0.18' stroke='none' points='" + pts + "'/>";
  }

  void HLine(double y, const std::string& colour, const std::string& label) {
    body_ += "<line x1='" + Num(X(x0_)) + "' x2='" + Num(X(x1_)) + "' y1='" + Num(Y(y)) +
             "' y2='" + Num(Y(y)) + "' stroke='" + colour + "' stroke-dasharray='6 4'/>";
    body_ += "<text class='note' x='" + Num(X(x1_) - 4) + "' y='" + Num(Y(y) - 5) +
             "' text-anchor='end' fill='" + colour + "'>" + Esc(label) + "</text>";
  }

  void Raw(const std::string& s) { body_ += s; }

  std::string Svg(const std::string& title) const {
    return "<svg class='plot' viewBox='0 0 " + std::to_string(w_) + " " + std::to_string(h_) +
           "' width='" + std::to_string(w_) + "' height='" + std::to_string(h_) +
           "' role='img'><title>" + Esc(title) + "</title>" + body_ + "</svg>";
  }

 private:
  static constexpr double kLeft = 52, kRight = 14, kTop = 12, kBottom = 34;
  double x0_, x1_, y0_, y1_;
  int w_, h_;
  std::string body_;
};

std::pair<double, double> Range(const std::vector<double>& v, double pad, double min_span) {
  double lo = INFINITY, hi = -INFINITY;
  for (double x : v)
    if (std::isfinite(x)) lo = std::min(lo, x), hi = std::max(hi, x);
  if (!std::isfinite(lo)) return {0, 1};
  if (hi - lo < min_span) {
    const double mid = (hi + lo) / 2;
    lo = mid - min_span / 2;
    hi = mid + min_span / 2;
  }
  return {lo - pad, hi + pad};
}

std::string HeartRatePlot(const Track& tr, double t_end) {
  auto [lo, hi] = Range(tr.bpm, 8, 20);
  lo = std::max(0.0, lo);
  Plot p(0, t_end, lo, hi);
  p.Axes("time (s)", "heart rate (bpm)");
  // The band: ±(3 + 12 (1 - confidence)) bpm, widest where the estimate is least sure. An
  // indication of the estimator's own confidence, not a measured error interval.
  std::vector<double> blo, bhi, solid, faint;
  for (size_t i = 0; i < tr.bpm.size(); ++i) {
    const double c = std::clamp(tr.conf[i], 0.0, 1.0);
    const double half = 3 + 12 * (1 - c);
    blo.push_back(tr.bpm[i] - half);
    bhi.push_back(tr.bpm[i] + half);
    solid.push_back(c >= kConfident ? tr.bpm[i] : NAN);
    faint.push_back(tr.bpm[i]);
  }
  p.Band(tr.t_hr, blo, bhi, "#d93025");
  p.Line(tr.t_hr, faint, "#9e9e9e", "stroke-dasharray='3 3'");
  p.Line(tr.t_hr, solid, "#d93025");
  if (tr.session_bpm)
    p.HLine(*tr.session_bpm, "#1a73e8",
            "session " + Num(*tr.session_bpm) + " bpm" +
                (tr.session_conf ? " (confidence " + Num(*tr.session_conf, 2) + ")" : ""));
  return p.Svg("heart rate of face " + std::to_string(tr.id));
}

std::string EmotionSection(const Track& tr, double t_end) {
  // Shares: facejson's summary when there is one (time-weighted), else frame counts.
  std::map<std::string, double> share;
  if (tr.summary.contains("emotion_share") && tr.summary["emotion_share"].is_object()) {
    for (auto& [k, v] : tr.summary["emotion_share"].items())
      if (v.is_number()) share[k] = v.get<double>();
  } else {
    for (const auto& [t, l] : tr.labels) share[l] += 1.0 / tr.labels.size();
  }
  std::vector<std::pair<double, std::string>> order;
  for (const auto& [k, v] : share) order.emplace_back(v, k);
  std::sort(order.rbegin(), order.rend());
  const int w = 760, row = 22;
  std::string bars = "<svg class='plot' viewBox='0 0 " + std::to_string(w) + " " +
                     std::to_string(row * order.size() + 8) + "' width='" + std::to_string(w) +
                     "' height='" + std::to_string(row * order.size() + 8) +
                     "' role='img'><title>emotion shares</title>";
  for (size_t i = 0; i < order.size(); ++i) {
    const auto& [v, k] = order[i];
    const double y = 4 + i * row;
    bars += "<text class='tick' x='96' y='" + Num(y + 15) + "' text-anchor='end'>" + Esc(k) + "</text>";
    bars += "<rect x='102' y='" + Num(y + 3) + "' height='16' width='" + Num(std::max(1.0, v * 560)) +
            "' fill='" + LabelColour(k) + "'/>";
    bars += "<text class='tick' x='" + Num(108 + v * 560) + "' y='" + Num(y + 15) + "'>" +
            Num(100 * v) + " %</text>";
  }
  bars += "</svg>";
  // Timeline: one coloured run per stretch of the same label.
  Plot tl(0, t_end, 0, 1, 760, 70);
  std::string runs;
  for (size_t i = 0; i < tr.labels.size();) {
    size_t j = i;
    while (j + 1 < tr.labels.size() && tr.labels[j + 1].second == tr.labels[i].second) ++j;
    const double a = tr.labels[i].first;
    const double b = j + 1 < tr.labels.size() ? tr.labels[j + 1].first : tr.labels[j].first;
    runs += "<rect x='" + Num(tl.X(a)) + "' y='8' height='26' width='" +
            Num(std::max(0.8, tl.X(b) - tl.X(a))) + "' fill='" + LabelColour(tr.labels[i].second) +
            "'><title>" + Esc(tr.labels[i].second) + " " + Num(a) + "-" + Num(b) + " s</title></rect>";
    i = j + 1;
  }
  tl.Raw(runs);
  std::string legend;
  for (const auto& [v, k] : order)
    legend += "<span class='chip' style='background:" + LabelColour(k) + "'></span>" + Esc(k) + " ";
  const double xs = NiceStep(t_end, 8);
  std::string ticks;
  for (double v = 0; v <= t_end + 1e-9; v += xs)
    ticks += "<text class='tick' x='" + Num(tl.X(v)) + "' y='50' text-anchor='middle'>" +
             Num(v, xs < 1 ? 1 : 0) + "</text>";
  tl.Raw(ticks);
  return "<h3>Emotion shares</h3>" + bars + "<h3>Emotion timeline (s)</h3>" +
         tl.Svg("emotion timeline") + "<p class='legend'>" + legend + "</p>";
}

std::string CircumplexPlot(const Track& tr) {
  const int size = 360;
  const double c = size / 2.0, r = size / 2.0 - 30;
  std::string s = "<svg class='plot' viewBox='0 0 " + std::to_string(size) + " " +
                  std::to_string(size) + "' width='" + std::to_string(size) + "' height='" +
                  std::to_string(size) + "' role='img'><title>valence and arousal</title>";
  s += "<circle cx='" + Num(c) + "' cy='" + Num(c) + "' r='" + Num(r) + "' class='frame'/>";
  s += "<line class='grid' x1='" + Num(c - r) + "' x2='" + Num(c + r) + "' y1='" + Num(c) +
       "' y2='" + Num(c) + "'/><line class='grid' y1='" + Num(c - r) + "' y2='" + Num(c + r) +
       "' x1='" + Num(c) + "' x2='" + Num(c) + "'/>";
  s += "<text class='tick' x='" + Num(c + r) + "' y='" + Num(c - 4) + "' text-anchor='end'>pleasant</text>";
  s += "<text class='tick' x='" + Num(c - r) + "' y='" + Num(c - 4) + "'>unpleasant</text>";
  s += "<text class='tick' x='" + Num(c + 4) + "' y='" + Num(c - r + 12) + "'>excited</text>";
  s += "<text class='tick' x='" + Num(c + 4) + "' y='" + Num(c + r - 4) + "'>calm</text>";
  // The path fades from old (light) to new (dark): four stretches of rising opacity.
  const size_t n = tr.valence.size();
  const size_t stride = std::max<size_t>(1, n / kMaxPoints);
  for (int part = 0; part < 4 && n > 0; ++part) {
    std::string pts;
    const size_t a = n * part / 4, b = std::min(n, n * (part + 1) / 4 + 1);
    for (size_t i = a; i < b; i += stride)
      pts += Num(c + std::clamp(tr.valence[i], -1.0, 1.0) * r) + "," +
             Num(c - std::clamp(tr.arousal[i], -1.0, 1.0) * r) + " ";
    s += "<polyline fill='none' stroke='#6a1b9a' stroke-opacity='" + Num(0.25 + 0.25 * part, 2) +
         "' stroke-width='1.5' points='" + pts + "'/>";
  }
  if (n > 0) {
    s += "<circle r='5' fill='#bdbdbd' cx='" + Num(c + tr.valence[0] * r) + "' cy='" +
         Num(c - tr.arousal[0] * r) + "'><title>start</title></circle>";
    s += "<circle r='6' fill='#6a1b9a' cx='" + Num(c + tr.valence[n - 1] * r) + "' cy='" +
         Num(c - tr.arousal[n - 1] * r) + "'><title>end</title></circle>";
  }
  return s + "</svg>";
}

std::string TimePlot(const std::vector<double>& t, const std::vector<std::vector<double>>& ys,
                     const std::vector<std::string>& names, const std::vector<std::string>& colours,
                     double t_end, const std::string& ylabel, double min_span, bool from_zero) {
  std::vector<double> all;
  for (const auto& y : ys) all.insert(all.end(), y.begin(), y.end());
  auto [lo, hi] = Range(all, min_span / 10, min_span);
  // Rates start at 0: the axis does too, and does not go below it.
  if (from_zero) hi += std::max(0.0, -lo), lo = 0;
  Plot p(0, t_end, lo, hi);
  p.Axes("time (s)", ylabel);
  for (size_t k = 0; k < ys.size(); ++k) p.Line(t, ys[k], colours[k]);
  std::string legend;
  if (ys.size() > 1)
    for (size_t k = 0; k < ys.size(); ++k)
      legend += "<span class='chip' style='background:" + colours[k] + "'></span>" + names[k] + " ";
  return p.Svg(ylabel) + (legend.empty() ? "" : "<p class='legend'>" + legend + "</p>");
}

std::optional<double> Number(const json& j, const char* key) {
  if (j.is_object() && j.contains(key) && j[key].is_number()) return j[key].get<double>();
  return std::nullopt;
}

constexpr const char* kStyle = R"CSS(
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:820px;color:#202124}
h1{font-size:22px;margin-bottom:4px} h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:28px}
h3{font-size:14px;margin:14px 0 4px;color:#5f6368} .sub{color:#5f6368}
.plot{display:block;max-width:100%;height:auto} .grid{stroke:#eee} .frame{fill:none;stroke:#bbb}
.tick{font-size:11px;fill:#5f6368} .axis{font-size:12px;fill:#3c4043} .note{font-size:12px}
.big{font-size:28px;font-weight:600} .kv{display:flex;gap:28px;flex-wrap:wrap;margin:8px 0}
.kv div span{display:block;color:#5f6368;font-size:12px}
table{border-collapse:collapse;font-size:13px} td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child{text-align:left} .chip{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}
.legend{font-size:12px;color:#5f6368;margin:2px 0} .warn{color:#b3261e}
)CSS";

}  // namespace

std::string RunSpeedToJson(const RunSpeed& speed) {
  json j{{"wall_s", speed.wall_s}, {"frames", speed.frames}, {"elements", json::array()}};
  for (const ElementStat& e : speed.elements)
    j["elements"].push_back({{"name", e.name}, {"in", e.in}, {"out", e.out}, {"matched", e.matched},
                             {"p50_ms", e.p50_ms}, {"p99_ms", e.p99_ms}});
  return j.dump();
}

bool RunSpeedFromJson(const std::string& text, RunSpeed* speed, std::string* error) {
  try {
    const json j = json::parse(text);
    RunSpeed s;
    s.wall_s = j.value("wall_s", -1.0);
    s.frames = j.value("frames", int64_t{-1});
    for (const json& e : j.value("elements", json::array())) {
      ElementStat r;
      r.name = e.value("name", "");
      r.in = e.value("in", uint64_t{0});
      r.out = e.value("out", uint64_t{0});
      r.matched = e.value("matched", uint64_t{0});
      r.p50_ms = e.value("p50_ms", -1.0);
      r.p99_ms = e.value("p99_ms", -1.0);
      s.elements.push_back(std::move(r));
    }
    *speed = std::move(s);
    return true;
  } catch (const std::exception& e) {
    *error = std::string("not the runner's speed figures: ") + e.what();
    return false;
  }
}

std::string RenderReport(std::istream& in, const RunSpeed* speed, const std::string& title,
                         std::string* error, std::string* warnings) {
  std::map<int64_t, Track> tracks;
  std::string line;
  size_t line_no = 0, frames = 0, skipped = 0, frames_with_faces = 0;
  std::vector<size_t> bad_lines;
  int64_t first_pts = -1, last_pts = -1;
  json summary;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      ++skipped;
      if (bad_lines.size() < 5) bad_lines.push_back(line_no);
      continue;
    }
    if (j.contains("summary")) {
      summary = j["summary"];
      continue;
    }
    if (!j.contains("faces") || !j["faces"].is_array()) {
      ++skipped;
      if (bad_lines.size() < 5) bad_lines.push_back(line_no);
      continue;
    }
    ++frames;
    const int64_t pts = j.value("pts", int64_t{-1});
    if (pts < 0) continue;  // no time: nothing to place on an axis
    if (first_pts < 0) first_pts = pts;
    last_pts = std::max(last_pts, pts);
    const double t = (pts - first_pts) / 1e9;
    if (!j["faces"].empty()) ++frames_with_faces;
    for (const json& f : j["faces"]) {
      const int64_t id = f.value("id", int64_t{-1});
      if (id < 0) continue;
      Track& tr = tracks[id];
      tr.id = id;
      ++tr.frames;
      if (f.contains("vitals") && f["vitals"].is_object()) {
        const json& v = f["vitals"];
        if (auto bpm = Number(v, "bpm"); bpm && *bpm > 0) {
          tr.t_hr.push_back(t);
          tr.bpm.push_back(*bpm);
          tr.conf.push_back(Number(v, "confidence").value_or(0));
        }
        if (auto s = Number(v, "session_bpm")) tr.session_bpm = s;
        if (auto s = Number(v, "session_confidence")) tr.session_conf = s;
        if (auto s = Number(v, "respiration_bpm")) tr.respiration = s;
        if (auto s = Number(v, "sdnn_ms")) tr.sdnn = s;
        if (auto s = Number(v, "rmssd_ms")) tr.rmssd = s;
      }
      if (f.contains("emotion") && f["emotion"].is_object()) {
        const json& e = f["emotion"];
        if (e.contains("label") && e["label"].is_string() && !e["label"].get<std::string>().empty())
          tr.labels.emplace_back(t, e["label"].get<std::string>());
        auto va = Number(e, "valence"), ar = Number(e, "arousal");
        if (va && ar) {
          tr.t_va.push_back(t);
          tr.valence.push_back(*va);
          tr.arousal.push_back(*ar);
        }
      }
      if (auto r = Number(f.value("actions", json::object()), "blinkRate")) {
        tr.t_blink.push_back(t);
        tr.blink_rate.push_back(*r);
      }
      if (f.contains("pose") && f["pose"].is_object()) {
        tr.t_pose.push_back(t);
        tr.yaw.push_back(Number(f["pose"], "yaw").value_or(NAN));
        tr.pitch.push_back(Number(f["pose"], "pitch").value_or(NAN));
        tr.roll.push_back(Number(f["pose"], "roll").value_or(NAN));
      }
    }
  }
  if (frames == 0) {
    *error = line_no == 0 ? "the file is empty (no frame lines)"
                          : "no frame line in " + std::to_string(line_no) +
                                " lines (is it facejson's JSON Lines output?)";
    return "";
  }
  std::string skipped_text;
  if (skipped > 0) {
    skipped_text = std::to_string(skipped) + " line(s) are not frame lines and were skipped (line";
    for (size_t i = 0; i < bad_lines.size(); ++i) skipped_text += (i ? ", " : " ") + std::to_string(bad_lines[i]);
    skipped_text += skipped > bad_lines.size() ? ", ...)" : ")";
    *warnings = skipped_text;
  }
  // facejson's summary: per-track totals (and the session heart rate) by id.
  if (summary.is_object() && summary.contains("tracks") && summary["tracks"].is_array())
    for (const json& s : summary["tracks"]) {
      const int64_t id = s.value("id", int64_t{-1});
      if (!tracks.count(id)) continue;
      tracks[id].summary = s;
      if (s.contains("vitals") && s["vitals"].is_object()) {
        if (auto b = Number(s["vitals"], "bpm")) tracks[id].session_bpm = b;
        if (auto c = Number(s["vitals"], "confidence")) tracks[id].session_conf = c;
      }
    }
  const double t_end = last_pts > first_pts ? (last_pts - first_pts) / 1e9 : 1;

  std::ostringstream h;
  h << "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>" << Esc(title)
    << " - facegraph session report</title><style>" << kStyle << "</style></head><body>";
  h << "<h1>Session report</h1><p class='sub'>" << Esc(title) << " &middot; " << frames
    << " frames, " << Num(t_end) << " s of stream, " << tracks.size() << " tracked face(s)</p>";
  if (!skipped_text.empty()) h << "<p class='warn'>" << Esc(skipped_text) << "</p>";

  // The longest tracks get plots; the rest are listed.
  std::vector<const Track*> order;
  for (const auto& [id, tr] : tracks) order.push_back(&tr);
  std::stable_sort(order.begin(), order.end(), [](const Track* a, const Track* b) { return a->frames > b->frames; });
  if (order.empty()) h << "<p>No tracked face in this session.</p>";
  for (size_t k = 0; k < order.size() && k < static_cast<size_t>(kMaxTracks); ++k) {
    const Track& tr = *order[k];
    h << "<section class='track' id='track-" << tr.id << "'><h2>Face " << tr.id << "</h2>";
    h << "<div class='kv'>";
    if (tr.session_bpm)
      h << "<div><span>session heart rate</span><b class='big hr-session' data-bpm='"
        << Num(*tr.session_bpm, 2) << "'>" << Num(*tr.session_bpm) << "</b> bpm"
        << (tr.session_conf ? " (confidence " + Num(*tr.session_conf, 2) + ")" : "") << "</div>";
    else
      h << "<div><span>session heart rate</span><b class='big'>&ndash;</b></div>";
    if (tr.respiration) h << "<div><span>breathing (last)</span><b class='big'>" << Num(*tr.respiration) << "</b> /min</div>";
    if (tr.rmssd) h << "<div><span>HRV RMSSD (last)</span><b class='big'>" << Num(*tr.rmssd, 0) << "</b> ms</div>";
    if (auto b = Number(tr.summary, "blinks_per_minute"))
      h << "<div><span>blinks</span><b class='big'>" << Num(*b) << "</b> /min</div>";
    h << "<div><span>in view</span><b class='big'>" << Num(Number(tr.summary, "seconds").value_or(0), 0)
      << "</b> s, " << tr.frames << " frames</div></div>";
    if (!tr.bpm.empty()) {
      h << "<h3>Heart rate: solid red where the confidence is " << kConfident
        << " or more, grey dashes below; band &plusmn;(3 + 12&middot;(1 &minus; confidence)) bpm; "
           "blue: the whole-session estimate</h3>"
        << HeartRatePlot(tr, t_end);
    } else {
      h << "<p>No heart rate for this face (facevitals not in the graph, or too short a session).</p>";
    }
    if (!tr.labels.empty()) h << EmotionSection(tr, t_end);
    if (!tr.valence.empty()) h << "<h3>Valence and arousal (light: start, dark: end)</h3>" << CircumplexPlot(tr);
    if (!tr.blink_rate.empty())
      h << "<h3>Blinks per minute</h3>"
        << TimePlot(tr.t_blink, {tr.blink_rate}, {"blinks/min"}, {"#00897b"}, t_end, "blinks per minute", 10, true);
    if (!tr.yaw.empty())
      h << "<h3>Head motion</h3>"
        << TimePlot(tr.t_pose, {tr.yaw, tr.pitch, tr.roll}, {"yaw", "pitch", "roll"},
                    {"#1a73e8", "#e37400", "#188038"}, t_end, "degrees", 10, false);
    h << "</section>";
  }
  if (order.size() > static_cast<size_t>(kMaxTracks)) {
    h << "<p>Other faces (short tracks): ";
    for (size_t k = kMaxTracks; k < order.size(); ++k) h << order[k]->id << " (" << order[k]->frames << " frames) ";
    h << "</p>";
  }

  h << "<h2>Speed</h2><div class='kv' id='speed'>";
  h << "<div><span>frames written</span><b class='big'>" << frames << "</b></div>";
  h << "<div><span>stream time</span><b class='big'>" << Num(t_end) << "</b> s</div>";
  if (t_end > 0 && frames > 1)
    h << "<div><span>stream frame rate</span><b class='big'>" << Num((frames - 1) / t_end) << "</b> fps</div>";
  h << "<div><span>frames with a face</span><b class='big'>" << Num(100.0 * frames_with_faces / frames, 0) << "</b> %</div>";
  if (speed && speed->wall_s > 0) {
    h << "<div><span>wall time</span><b class='big'>" << Num(speed->wall_s) << "</b> s</div>";
    if (speed->frames > 0)
      h << "<div><span>analysed per wall second</span><b class='big'>" << Num(speed->frames / speed->wall_s)
        << "</b> fps</div>";
  }
  h << "</div>";
  if (speed && !speed->elements.empty()) {
    h << "<h3>Latency per element (sink pad to src pad, the runner's table)</h3><table><tr><th>element</th>"
         "<th>in</th><th>out</th><th>median ms</th><th>p99 ms</th></tr>";
    for (const ElementStat& e : speed->elements) {
      h << "<tr><td>" << Esc(e.name) << "</td><td>" << e.in << "</td><td>" << e.out << "</td><td>"
        << (e.p50_ms >= 0 ? Num(e.p50_ms, 2) : "-") << "</td><td>" << (e.p99_ms >= 0 ? Num(e.p99_ms, 2) : "-")
        << "</td></tr>";
    }
    h << "</table>";
  } else {
    h << "<p class='sub'>Wall time and per-element latency come with <code>facegraph run GRAPH --report</code>.</p>";
  }
  h << "<p class='sub'>Written by <code>facegraph report</code> from the JSON Lines of the run "
       "(docs/json.md). Self-contained: no script, nothing fetched.</p></body></html>\n";
  return h.str();
}

std::string DefaultReportPath(const std::string& jsonl_path) {
  std::string base = jsonl_path;
  for (const char* ext : {".jsonl", ".json"})
    if (base.size() > std::strlen(ext) && base.compare(base.size() - std::strlen(ext), std::string::npos, ext) == 0) {
      base.resize(base.size() - std::strlen(ext));
      break;
    }
  return base + ".report.html";
}

bool WriteReport(const std::string& jsonl_path, const std::string& html_path, const RunSpeed* speed,
                 std::string* error, std::string* warnings) {
  std::ifstream in(jsonl_path);
  if (!in) {
    *error = jsonl_path + ": cannot read: " + std::strerror(errno);
    return false;
  }
  RunSpeed from_file;
  if (!speed) {
    std::ifstream sf(jsonl_path + ".speed.json");
    if (sf) {
      std::stringstream ss;
      ss << sf.rdbuf();
      std::string e;
      if (RunSpeedFromJson(ss.str(), &from_file, &e)) speed = &from_file;
    }
  }
  std::string title = jsonl_path;
  const std::string html = RenderReport(in, speed, title, error, warnings);
  if (html.empty()) {
    *error = jsonl_path + ": " + *error;
    return false;
  }
  std::ofstream out(html_path, std::ios::trunc);
  if (!out || !(out << html) || !out.flush()) {
    *error = html_path + ": cannot write: " + std::strerror(errno);
    return false;
  }
  return true;
}

int ReportMain(const std::vector<std::string>& args) {
  std::string in, out;
  for (const std::string& a : args) {
    if (a.rfind("--out=", 0) == 0) {
      out = a.substr(6);
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "facegraph report: unknown option %s\nusage: facegraph report FILE.jsonl [--out=FILE.html]\n", a.c_str());
      return 2;
    } else if (in.empty()) {
      in = a;
    } else {
      std::fprintf(stderr, "usage: facegraph report FILE.jsonl [--out=FILE.html]\n");
      return 2;
    }
  }
  if (in.empty()) {
    std::fprintf(stderr, "usage: facegraph report FILE.jsonl [--out=FILE.html]\n");
    return 2;
  }
  if (out.empty()) out = DefaultReportPath(in);
  std::string error, warnings;
  if (!WriteReport(in, out, nullptr, &error, &warnings)) {
    std::fprintf(stderr, "facegraph report: %s\n", error.c_str());
    return 1;
  }
  if (!warnings.empty()) std::fprintf(stderr, "facegraph report: %s: %s\n", in.c_str(), warnings.c_str());
  std::fprintf(stderr, "facegraph report: %s\n", out.c_str());
  return 0;
}

}  // namespace fg
