#include "engine/json.h"

#include <nlohmann/json.hpp>

namespace fg {

using nlohmann::json;

std::string ToJsonLine(const FrameFaces& frame) {
  json faces = json::array();
  for (const Face& f : frame.faces) {
    json jf = {{"id", f.id}, {"box", {f.box.x, f.box.y, f.box.w, f.box.h}}, {"score", f.score}};
    if (!f.landmarks.empty()) {
      json lm = json::array();
      for (const auto& p : f.landmarks) lm.push_back({p[0], p[1], p[2]});
      jf["landmarks"] = std::move(lm);
    }
    if (f.pose) {
      jf["pose"] = {{"yaw", f.pose->yaw}, {"pitch", f.pose->pitch}, {"roll", f.pose->roll}};
      if (f.pose->translation) {
        const auto& t = *f.pose->translation;
        jf["pose"]["translation"] = {t[0], t[1], t[2]};
      }
    }
    if (f.emotion) {
      json je = {{"label", f.emotion->label}, {"scores", f.emotion->scores}};
      if (f.emotion->confidence) je["confidence"] = *f.emotion->confidence;
      if (f.emotion->valence) je["valence"] = *f.emotion->valence;
      if (f.emotion->arousal) je["arousal"] = *f.emotion->arousal;
      jf["emotion"] = std::move(je);
    }
    if (f.vitals) {
      const Vitals& v = *f.vitals;
      json jv = {{"bpm", v.bpm}, {"snr", v.snr}, {"confidence", v.confidence}};
      if (v.sdnn_ms) jv["sdnn_ms"] = *v.sdnn_ms;
      if (v.rmssd_ms) jv["rmssd_ms"] = *v.rmssd_ms;
      if (v.respiration_bpm) jv["respiration_bpm"] = *v.respiration_bpm;
      if (v.session_bpm) jv["session_bpm"] = *v.session_bpm;
      if (v.session_confidence) jv["session_confidence"] = *v.session_confidence;
      // The waveform only when attached (it is 300 numbers at 10 s x 30 Hz); its rate with it.
      if (!v.bvp.empty()) {
        jv["bvp"] = v.bvp;
        jv["bvp_fs"] = v.bvp_fs;
      }
      jf["vitals"] = std::move(jv);
    }
    if (!f.blendshapes.empty()) jf["blendshapes"] = f.blendshapes;
    if (!f.actions.empty()) jf["actions"] = f.actions;
    if (f.liveness) {
      const Liveness& l = *f.liveness;
      json jl = {{"decision", l.decision}};
      if (l.real) jl["real"] = *l.real;
      if (l.live) jl["live"] = *l.live;
      if (l.challenge) {
        const LivenessChallenge& c = *l.challenge;
        jl["challenge"] = {{"ask", c.ask},   {"state", c.state},
                           {"step", c.step}, {"steps", c.steps},
                           {"remaining_s", c.remaining_s}};
      }
      jf["liveness"] = std::move(jl);
    }
    faces.push_back(std::move(jf));
  }
  json j = {{"pts", frame.pts_ns}, {"faces", std::move(faces)}};
  return j.dump();
}

namespace {
// Reads a number at j[key] into *out; names the path on error.
template <class T>
bool Num(const json& j, const char* key, const std::string& path, T* out, std::string* err) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) {
    *err = path + "." + key + ": missing or not a number";
    return false;
  }
  *out = it->get<T>();
  return true;
}

bool Floats(const json& j, size_t n, const std::string& path, float* out, std::string* err) {
  if (!j.is_array() || j.size() != n) {
    *err = path + ": expected an array of " + std::to_string(n) + " numbers";
    return false;
  }
  for (size_t i = 0; i < n; ++i) {
    if (!j[i].is_number()) {
      *err = path + "[" + std::to_string(i) + "]: not a number";
      return false;
    }
    out[i] = j[i].get<float>();
  }
  return true;
}
}  // namespace

std::optional<FrameFaces> FromJsonLine(std::string_view line, std::string* error) {
  std::string scratch;
  std::string* err = error ? error : &scratch;
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    *err = "not a JSON object";
    return std::nullopt;
  }
  FrameFaces frame;
  if (!Num(j, "pts", "frame", &frame.pts_ns, err)) return std::nullopt;
  auto fit = j.find("faces");
  if (fit == j.end() || !fit->is_array()) {
    *err = "frame.faces: missing or not an array";
    return std::nullopt;
  }
  for (size_t i = 0; i < fit->size(); ++i) {
    const json& jf = (*fit)[i];
    const std::string path = "faces[" + std::to_string(i) + "]";
    if (!jf.is_object()) {
      *err = path + ": not an object";
      return std::nullopt;
    }
    Face f;
    float box[4];
    if (!Num(jf, "id", path, &f.id, err) || !Num(jf, "score", path, &f.score, err))
      return std::nullopt;
    if (!jf.contains("box") || !Floats(jf["box"], 4, path + ".box", box, err)) {
      if (!jf.contains("box")) *err = path + ".box: missing";
      return std::nullopt;
    }
    f.box = {box[0], box[1], box[2], box[3]};
    if (auto lm = jf.find("landmarks"); lm != jf.end()) {
      if (!lm->is_array()) {
        *err = path + ".landmarks: not an array";
        return std::nullopt;
      }
      for (size_t k = 0; k < lm->size(); ++k) {
        std::array<float, 3> p;
        if (!Floats((*lm)[k], 3, path + ".landmarks[" + std::to_string(k) + "]", p.data(), err))
          return std::nullopt;
        f.landmarks.push_back(p);
      }
    }
    if (auto jp = jf.find("pose"); jp != jf.end()) {
      HeadPose p;
      if (!Num(*jp, "yaw", path + ".pose", &p.yaw, err) ||
          !Num(*jp, "pitch", path + ".pose", &p.pitch, err) ||
          !Num(*jp, "roll", path + ".pose", &p.roll, err))
        return std::nullopt;
      if (auto t = jp->find("translation"); t != jp->end()) {
        std::array<float, 3> tr;
        if (!Floats(*t, 3, path + ".pose.translation", tr.data(), err)) return std::nullopt;
        p.translation = tr;
      }
      f.pose = p;
    }
    if (auto je = jf.find("emotion"); je != jf.end()) {
      Emotion e;
      auto lab = je->find("label");
      auto sc = je->find("scores");
      if (lab == je->end() || !lab->is_string() || sc == je->end() || !sc->is_object()) {
        *err = path + ".emotion: needs a string label and an object of scores";
        return std::nullopt;
      }
      e.label = lab->get<std::string>();
      for (const auto& [key, field] : {std::pair{"confidence", &Emotion::confidence},
                                       std::pair{"valence", &Emotion::valence},
                                       std::pair{"arousal", &Emotion::arousal}}) {
        auto it = je->find(key);
        if (it == je->end()) continue;
        if (!it->is_number()) {
          *err = path + ".emotion." + key + ": not a number";
          return std::nullopt;
        }
        e.*field = it->get<float>();
      }
      for (const auto& [k, v] : sc->items()) {
        if (!v.is_number()) {
          *err = path + ".emotion.scores." + k + ": not a number";
          return std::nullopt;
        }
        e.scores[k] = v.get<float>();
      }
      f.emotion = std::move(e);
    }
    if (auto jv = jf.find("vitals"); jv != jf.end()) {
      Vitals v;
      if (!Num(*jv, "bpm", path + ".vitals", &v.bpm, err) ||
          !Num(*jv, "snr", path + ".vitals", &v.snr, err) ||
          !Num(*jv, "confidence", path + ".vitals", &v.confidence, err))
        return std::nullopt;
      for (const auto& [key, field] : {std::pair{"sdnn_ms", &Vitals::sdnn_ms},
                                       std::pair{"rmssd_ms", &Vitals::rmssd_ms},
                                       std::pair{"respiration_bpm", &Vitals::respiration_bpm},
                                       std::pair{"session_bpm", &Vitals::session_bpm},
                                       std::pair{"session_confidence", &Vitals::session_confidence}}) {
        auto it = jv->find(key);
        if (it == jv->end()) continue;
        if (!it->is_number()) {
          *err = path + ".vitals." + key + ": not a number";
          return std::nullopt;
        }
        v.*field = it->get<float>();
      }
      if (auto jb = jv->find("bvp"); jb != jv->end()) {
        if (!jb->is_array()) {
          *err = path + ".vitals.bvp: not an array";
          return std::nullopt;
        }
        v.bvp.resize(jb->size());
        for (size_t k = 0; k < jb->size(); ++k) {
          if (!(*jb)[k].is_number()) {
            *err = path + ".vitals.bvp[" + std::to_string(k) + "]: not a number";
            return std::nullopt;
          }
          v.bvp[k] = (*jb)[k].get<float>();
        }
        // A waveform without its sampling rate cannot be read on a time axis.
        if (!v.bvp.empty() && !Num(*jv, "bvp_fs", path + ".vitals", &v.bvp_fs, err))
          return std::nullopt;
      }
      f.vitals = std::move(v);
    }
    for (const auto& [key, target] : {std::pair{"blendshapes", &f.blendshapes},
                                      std::pair{"actions", &f.actions}}) {
      auto jb = jf.find(key);
      if (jb == jf.end()) continue;
      if (!jb->is_object()) {
        *err = path + "." + key + ": not an object";
        return std::nullopt;
      }
      for (const auto& [k, v] : jb->items()) {
        if (!v.is_number()) {
          *err = path + "." + key + "." + k + ": not a number";
          return std::nullopt;
        }
        (*target)[k] = v.get<float>();
      }
    }
    if (auto jl = jf.find("liveness"); jl != jf.end()) {
      Liveness l;
      auto d = jl->find("decision");
      if (!jl->is_object() || d == jl->end() || !d->is_string()) {
        *err = path + ".liveness: needs a string decision";
        return std::nullopt;
      }
      l.decision = d->get<std::string>();
      for (const auto& [key, field] : {std::pair{"real", &Liveness::real},
                                       std::pair{"live", &Liveness::live}}) {
        auto it = jl->find(key);
        if (it == jl->end()) continue;
        if (!it->is_number()) {
          *err = path + ".liveness." + key + ": not a number";
          return std::nullopt;
        }
        l.*field = it->get<float>();
      }
      if (auto jc = jl->find("challenge"); jc != jl->end()) {
        LivenessChallenge c;
        auto ask = jc->find("ask");
        auto state = jc->find("state");
        if (!jc->is_object() || ask == jc->end() || !ask->is_string() || state == jc->end() ||
            !state->is_string()) {
          *err = path + ".liveness.challenge: needs a string ask and a string state";
          return std::nullopt;
        }
        const std::string cp = path + ".liveness.challenge";
        if (!Num(*jc, "step", cp, &c.step, err) || !Num(*jc, "steps", cp, &c.steps, err) ||
            !Num(*jc, "remaining_s", cp, &c.remaining_s, err))
          return std::nullopt;
        c.ask = ask->get<std::string>();
        c.state = state->get<std::string>();
        l.challenge = std::move(c);
      }
      f.liveness = std::move(l);
    }
    frame.faces.push_back(std::move(f));
  }
  return frame;
}

}  // namespace fg
