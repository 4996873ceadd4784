#include "tools/runner/camera_controls.h"

#include <cstdio>
#include <sstream>

namespace fg {
namespace {

const CameraControl* Find(const std::vector<CameraControl>& controls, uint32_t id) {
  for (const CameraControl& c : controls)
    if (c.id == id) return &c;
  return nullptr;
}

// One automatic and the manual control it drives.
struct Pair {
  const char* what;
  uint32_t automatic;
  int64_t off;  // the automatic's value that means "manual"
  uint32_t manual;
};

}  // namespace

ControlPlan PlanControlLock(const std::vector<CameraControl>& controls) {
  static const Pair kPairs[] = {
      {"exposure", kV4l2ExposureAuto, kV4l2ExposureManual, kV4l2ExposureAbsolute},
      {"gain", kV4l2AutoGain, 0, kV4l2Gain},
      {"white balance", kV4l2AutoWhiteBalance, 0, kV4l2WhiteBalanceTemperature},
  };
  ControlPlan plan;
  auto write = [&](const CameraControl& c, int64_t value) {
    plan.lock.push_back({c.name, c.id, value});
  };
  for (const Pair& p : kPairs) {
    const CameraControl* a = Find(controls, p.automatic);
    const CameraControl* m = Find(controls, p.manual);
    if (!a) {
      plan.notes.push_back(std::string("no automatic ") + p.what + " control: " +
                           (m ? "the camera keeps it as set" : "not offered"));
      continue;
    }
    if (a->value == p.off) {
      plan.notes.push_back(a->name + " is already manual: " + p.what + " is held");
      continue;
    }
    write(*a, p.off);
    plan.restore.push_back({a->name, a->id, a->value});
    if (p.automatic == kV4l2ExposureAuto) {
      if (const CameraControl* prio = Find(controls, kV4l2ExposureAutoPriority); prio && prio->value != 0) {
        write(*prio, 0);
        plan.restore.push_back({prio->name, prio->id, prio->value});
      }
    }
    if (m)
      write(*m, m->value);
    else
      plan.notes.push_back(a->name + " has no manual control: the camera keeps its own value");
  }
  std::ostringstream s;
  s << "c";
  for (const ControlWrite& w : plan.lock) s << "," << w.name << "=" << w.value;
  plan.extra_controls = plan.lock.empty() ? "" : s.str();
  return plan;
}

std::vector<CameraControl> ParseV4l2ControlList(const std::string& text, std::string* error) {
  std::vector<CameraControl> controls;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    // "   white_balance_automatic 0x0098090c (bool)   : default=1 value=1"
    char name[128], type[32];
    unsigned id = 0;
    if (std::sscanf(line.c_str(), " %127s 0x%x (%31[^)])", name, &id, type) != 3) continue;
    CameraControl c;
    c.name = name;
    c.id = id;
    c.type = type;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::istringstream fields(line.substr(colon + 1));
    std::string field;
    bool has_value = false;
    while (fields >> field) {
      const size_t eq = field.find('=');
      if (eq == std::string::npos) continue;
      const std::string key = field.substr(0, eq);
      long long v = 0;
      if (std::sscanf(field.c_str() + eq + 1, "%lld", &v) != 1) continue;
      if (key == "min") c.min = v;
      if (key == "max") c.max = v;
      if (key == "value") {
        c.value = v;
        has_value = true;
      }
    }
    if (has_value) controls.push_back(c);
  }
  if (controls.empty() && error) *error = "no controls found (not v4l2-ctl --list-ctrls output?)";
  return controls;
}

}  // namespace fg
