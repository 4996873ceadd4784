#include "engine/avatar/timeline.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/avatar/curve.h"
#include "engine/avatar/instruction.h"

namespace fg {

namespace {

using nlohmann::json;

std::string Lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

// The weights of an action name at intensity 1; false when unknown.
bool ActionWeights(const std::string& action, const BlendshapeBasis& basis, std::vector<float>* w,
                   bool* is_blink) {
  w->assign(basis.size(), 0.0f);
  *is_blink = false;
  auto set = [&](std::initializer_list<const char*> names) {
    for (const char* n : names)
      if (int i = basis.Index(n); i >= 0) (*w)[i] = 1;
  };
  const std::string a = Lower(action);
  if (a == "blink") {
    set({"eyeBlinkLeft", "eyeBlinkRight"});
    *is_blink = true;
  } else if (a == "blinkleft" || a == "winkleft") {
    set({"eyeBlinkLeft"});
    *is_blink = true;
  } else if (a == "blinkright" || a == "winkright") {
    set({"eyeBlinkRight"});
    *is_blink = true;
  } else if (a == "smile") {
    set({"mouthSmileLeft", "mouthSmileRight"});
  } else if (a == "frown") {
    set({"mouthFrownLeft", "mouthFrownRight"});
  } else if (a == "browraise") {
    set({"browInnerUp", "browOuterUpLeft", "browOuterUpRight"});
  } else if (const Expression* e = ExpressionForWord(a)) {
    *w = ExpressionWeights(*e, basis, 1.0f);
  } else {
    for (int i = 0; i < basis.size(); ++i)
      if (Lower(basis.names()[i]) == a) {
        (*w)[i] = 1;
        return true;
      }
    return false;
  }
  return true;
}

std::string Where(size_t i, const char* key) {
  return "timeline entry " + std::to_string(i) + ", key \"" + key + "\": ";
}

bool Number(const json& e, size_t i, const char* key, double* out, std::string* err) {
  const json& v = e.at(key);
  if (!v.is_number()) {
    *err = Where(i, key) + "must be a number, got " + v.dump();
    return false;
  }
  *out = v.get<double>();
  if (!std::isfinite(*out)) {
    *err = Where(i, key) + "must be finite";
    return false;
  }
  return true;
}

float Envelope(double t, const TimelineEntry& e) {
  if (t <= e.start || t >= e.end) return 0;
  const double ease = e.ease;
  if (ease <= 0) return 1;
  const double up = MinimumJerk((t - e.start) / ease);
  const double down = MinimumJerk((e.end - t) / ease);
  return static_cast<float>(std::min(up, down));
}

}  // namespace

std::optional<Timeline> Timeline::Parse(std::string_view text, const BlendshapeBasis& basis,
                                        std::string* err) {
  std::string scratch;
  if (!err) err = &scratch;
  json root = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    *err = "timeline: not valid JSON";
    return std::nullopt;
  }
  const json* list = &root;
  if (root.is_object()) {
    if (!root.contains("actions") || root.size() != 1) {
      *err = "timeline: an object must have exactly one key, \"actions\" (an array)";
      return std::nullopt;
    }
    list = &root["actions"];
  }
  if (!list->is_array()) {
    *err = "timeline: expected an array of entries (or {\"actions\": [...]})";
    return std::nullopt;
  }
  Timeline tl;
  tl.dims_ = basis.size();
  static const char* kKeys[] = {"action", "start", "end", "at", "intensity", "ease", "track"};
  for (size_t i = 0; i < list->size(); ++i) {
    const json& e = (*list)[i];
    if (!e.is_object()) {
      *err = "timeline entry " + std::to_string(i) + ": must be an object, got " + e.dump();
      return std::nullopt;
    }
    for (const auto& item : e.items()) {
      const std::string& key = item.key();
      if (std::find_if(std::begin(kKeys), std::end(kKeys),
                       [&key](const char* k) { return key == k; }) == std::end(kKeys)) {
        *err = "timeline entry " + std::to_string(i) + ", key \"" + key +
               "\": unknown key (action, start, end, at, intensity, ease, track)";
        return std::nullopt;
      }
    }
    TimelineEntry t;
    if (!e.contains("action") || !e["action"].is_string()) {
      *err = Where(i, "action") + "required, a string";
      return std::nullopt;
    }
    t.action = e["action"].get<std::string>();
    bool blink = false;
    if (!ActionWeights(t.action, basis, &t.weights, &blink)) {
      *err = Where(i, "action") + "unknown action \"" + t.action +
             "\" (blink, blinkLeft, blinkRight, smile, frown, browRaise, an expression such as "
             "happy or surprised, or an ARKit blendshape name such as jawOpen)";
      return std::nullopt;
    }
    if (e.contains("track")) {
      if (!e["track"].is_string()) {
        *err = Where(i, "track") + "must be a string";
        return std::nullopt;
      }
      t.track = e["track"].get<std::string>();
    }
    if (e.contains("at")) {
      if (!blink) {
        *err = Where(i, "at") + "only blinks and winks take \"at\"; use \"start\" and \"end\"";
        return std::nullopt;
      }
      if (e.contains("start") || e.contains("end")) {
        *err = Where(i, "at") + "give either \"at\" or \"start\"/\"end\", not both";
        return std::nullopt;
      }
      double at = 0;
      if (!Number(e, i, "at", &at, err)) return std::nullopt;
      t.start = at;
      t.end = at + kBlinkDuration;
    } else {
      if (!e.contains("start")) {
        *err = Where(i, "start") + "required (seconds)" + (blink ? " (or \"at\")" : "");
        return std::nullopt;
      }
      if (!e.contains("end")) {
        *err = Where(i, "end") + "required (seconds)";
        return std::nullopt;
      }
      if (!Number(e, i, "start", &t.start, err) || !Number(e, i, "end", &t.end, err))
        return std::nullopt;
    }
    if (t.start < 0) {
      *err = Where(i, e.contains("at") ? "at" : "start") + "must be >= 0 (" +
             std::to_string(t.start) + ")";
      return std::nullopt;
    }
    if (!(t.end > t.start)) {
      *err = Where(i, "end") + "must be greater than start (" + std::to_string(t.end) +
             " <= " + std::to_string(t.start) + ")";
      return std::nullopt;
    }
    if (e.contains("intensity")) {
      double v = 0;
      if (!Number(e, i, "intensity", &v, err)) return std::nullopt;
      if (v < 0 || v > 1) {
        *err = Where(i, "intensity") + "must be in 0..1 (" + std::to_string(v) + ")";
        return std::nullopt;
      }
      t.intensity = static_cast<float>(v);
    }
    t.ease = blink ? 0.08 : 0.2;
    if (e.contains("ease")) {
      if (!Number(e, i, "ease", &t.ease, err)) return std::nullopt;
      if (t.ease < 0) {
        *err = Where(i, "ease") + "must be >= 0 (" + std::to_string(t.ease) + ")";
        return std::nullopt;
      }
    }
    t.ease = std::min(t.ease, 0.5 * (t.end - t.start));
    tl.entries_.push_back(std::move(t));
  }
  return tl;
}

double Timeline::end() const {
  double e = 0;
  for (const TimelineEntry& t : entries_) e = std::max(e, t.end);
  return e;
}

void Timeline::Evaluate(double t, std::span<float> out) const {
  std::fill(out.begin(), out.end(), 0.0f);
  const size_t n = std::min(out.size(), static_cast<size_t>(dims_));
  for (const TimelineEntry& e : entries_) {
    const float k = e.intensity * Envelope(t, e);
    if (k <= 0) continue;
    for (size_t i = 0; i < n; ++i) out[i] = std::max(out[i], k * e.weights[i]);
  }
}

void CombineWeights(std::span<const float> base, std::span<const float> overlay, CombineRule rule,
                    std::span<float> out) {
  const size_t n = std::min({base.size(), overlay.size(), out.size()});
  for (size_t i = 0; i < n; ++i)
    out[i] = rule == CombineRule::kMax ? std::max(base[i], overlay[i])
                                       : std::clamp(base[i] + overlay[i], 0.0f, 1.0f);
}

}  // namespace fg
