#include "engine/broker/face_events.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

namespace fg {

namespace {

// Floats as JSON numbers; a non-finite value (which JSON cannot hold) as null.
nlohmann::json Num(float v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

}  // namespace

void FaceEvents::Leave(int64_t id, const Track& t, int64_t pts, const char* reason,
                       std::vector<FaceEvent>* out) const {
  nlohmann::json j = {{"event", "leave"},      {"id", id},
                      {"pts", pts},            {"reason", reason},
                      {"first_pts", t.first_pts}, {"last_pts", t.last_pts},
                      {"frames", t.frames}};
  out->push_back({"leave", j.dump()});
}

void FaceEvents::Update(const FrameFaces& frame, std::vector<FaceEvent>* out) {
  const int64_t pts = frame.pts_ns;
  std::set<int64_t> present;
  for (const Face& f : frame.faces)
    if (f.id >= 0) present.insert(f.id);

  for (auto it = tracks_.begin(); it != tracks_.end();) {
    if (present.count(it->first)) {
      ++it;
      continue;
    }
    Leave(it->first, it->second, pts, "lost", out);
    it = tracks_.erase(it);
  }

  std::vector<FaceEvent> appears, emotions, rates;
  std::vector<const Face*> faces;
  for (const Face& f : frame.faces)
    if (f.id >= 0) faces.push_back(&f);
  std::sort(faces.begin(), faces.end(), [](const Face* a, const Face* b) { return a->id < b->id; });
  for (const Face* f : faces) {
    auto [it, fresh] = tracks_.try_emplace(f->id);
    Track& t = it->second;
    if (fresh) {
      t.first_pts = pts;
      nlohmann::json j = {{"event", "appear"},
                          {"id", f->id},
                          {"pts", pts},
                          {"box", {Num(f->box.x), Num(f->box.y), Num(f->box.w), Num(f->box.h)}},
                          {"score", Num(f->score)}};
      appears.push_back({"appear", j.dump()});
    } else if (t.last_pts == pts && pts >= 0) {
      continue;  // the same id twice in one frame: counted once
    }
    t.last_pts = pts;
    ++t.frames;
    if (f->emotion && !f->emotion->label.empty() && f->emotion->label != t.label) {
      nlohmann::json j = {{"event", "emotion"},
                          {"id", f->id},
                          {"pts", pts},
                          {"label", f->emotion->label},
                          {"previous", t.label.empty() ? nlohmann::json() : nlohmann::json(t.label)}};
      if (f->emotion->confidence) j["confidence"] = Num(*f->emotion->confidence);
      emotions.push_back({"emotion", j.dump()});
      t.label = f->emotion->label;
    }
    if (f->vitals) {
      const Vitals& v = *f->vitals;
      bool due;
      if (!t.hr_sent) {
        due = true;
      } else if (pts >= 0 && t.hr_pts >= 0) {
        due = static_cast<double>(pts - t.hr_pts) >= options_.heart_rate_interval_s * 1e9;
      } else {
        due = v.bpm != t.hr_bpm;
      }
      if (due) {
        nlohmann::json j = {{"event", "heart_rate"}, {"id", f->id},          {"pts", pts},
                            {"bpm", Num(v.bpm)},     {"confidence", Num(v.confidence)},
                            {"snr", Num(v.snr)}};
        if (v.session_bpm) j["session_bpm"] = Num(*v.session_bpm);
        if (v.session_confidence) j["session_confidence"] = Num(*v.session_confidence);
        rates.push_back({"heart_rate", j.dump()});
        t.hr_sent = true;
        t.hr_pts = pts;
        t.hr_bpm = v.bpm;
      }
    }
  }
  for (auto* group : {&appears, &emotions, &rates})
    for (FaceEvent& e : *group) out->push_back(std::move(e));
}

void FaceEvents::Finish(int64_t pts_ns, std::vector<FaceEvent>* out) {
  for (const auto& [id, t] : tracks_) Leave(id, t, pts_ns, "end", out);
  tracks_.clear();
}

}  // namespace fg
