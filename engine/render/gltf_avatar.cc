#include "engine/render/gltf_avatar.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>

#if FG_HAVE_TINYGLTF
#include <tiny_gltf.h>
#endif

namespace fg::render {

const std::vector<std::string>& ArkitBlendshapeNames() {
  static const std::vector<std::string> names{
      "browDownLeft",      "browDownRight",      "browInnerUp",        "browOuterUpLeft",
      "browOuterUpRight",  "cheekPuff",          "cheekSquintLeft",    "cheekSquintRight",
      "eyeBlinkLeft",      "eyeBlinkRight",      "eyeLookDownLeft",    "eyeLookDownRight",
      "eyeLookInLeft",     "eyeLookInRight",     "eyeLookOutLeft",     "eyeLookOutRight",
      "eyeLookUpLeft",     "eyeLookUpRight",     "eyeSquintLeft",      "eyeSquintRight",
      "eyeWideLeft",       "eyeWideRight",       "jawForward",         "jawLeft",
      "jawOpen",           "jawRight",           "mouthClose",         "mouthDimpleLeft",
      "mouthDimpleRight",  "mouthFrownLeft",     "mouthFrownRight",    "mouthFunnel",
      "mouthLeft",         "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft",
      "mouthPressRight",   "mouthPucker",        "mouthRight",         "mouthRollLower",
      "mouthRollUpper",    "mouthShrugLower",    "mouthShrugUpper",    "mouthSmileLeft",
      "mouthSmileRight",   "mouthStretchLeft",   "mouthStretchRight",  "mouthUpperUpLeft",
      "mouthUpperUpRight", "noseSneerLeft",      "noseSneerRight",     "tongueOut"};
  return names;
}

int GltfAvatar::TargetIndex(std::string_view name) const {
  for (size_t i = 0; i < target_names.size(); ++i)
    if (target_names[i] == name) return static_cast<int>(i);
  return -1;
}

void GltfAvatar::Apply(std::span<const float> weights, std::span<std::array<float, 3>> out) const {
  if (out.size() != positions.size()) return;
  std::copy(positions.begin(), positions.end(), out.begin());
  const size_t n = std::min(weights.size(), target_deltas.size());
  for (size_t t = 0; t < n; ++t) {
    const float w = weights[t];
    if (w == 0.0f) continue;
    const auto& d = target_deltas[t];
    for (size_t i = 0; i < out.size(); ++i)
      for (int k = 0; k < 3; ++k) out[i][k] += w * d[i][k];
  }
}

#if FG_HAVE_TINYGLTF

bool GltfSupported() { return true; }

namespace {

// Reads a float accessor of `comps` components per element into out (appended).
bool ReadFloats(const tinygltf::Model& m, int index, int comps, std::vector<float>* out,
                std::string* what) {
  if (index < 0 || index >= static_cast<int>(m.accessors.size())) {
    *what = "accessor " + std::to_string(index) + " does not exist";
    return false;
  }
  const tinygltf::Accessor& a = m.accessors[index];
  const int want_type = comps == 2 ? TINYGLTF_TYPE_VEC2 : TINYGLTF_TYPE_VEC3;
  if (a.componentType != TINYGLTF_COMPONENT_TYPE_FLOAT || a.type != want_type) {
    *what = "accessor " + std::to_string(index) + " is not float VEC" + std::to_string(comps);
    return false;
  }
  if (a.sparse.isSparse) {
    *what = "accessor " + std::to_string(index) + " is sparse (not supported)";
    return false;
  }
  if (a.bufferView < 0) {  // no buffer view: all zeros (glTF 3.6.2.3)
    out->insert(out->end(), a.count * comps, 0.0f);
    return true;
  }
  if (a.bufferView >= static_cast<int>(m.bufferViews.size())) {
    *what = "accessor " + std::to_string(index) + ": bufferView out of range";
    return false;
  }
  const tinygltf::BufferView& v = m.bufferViews[a.bufferView];
  if (v.buffer < 0 || v.buffer >= static_cast<int>(m.buffers.size())) {
    *what = "bufferView " + std::to_string(a.bufferView) + ": buffer out of range";
    return false;
  }
  const std::vector<unsigned char>& data = m.buffers[v.buffer].data;
  const size_t elem = sizeof(float) * comps;
  const size_t stride = v.byteStride ? v.byteStride : elem;
  const size_t begin = v.byteOffset + a.byteOffset;
  if (a.count > 0 && (begin + (a.count - 1) * stride + elem > data.size() ||
                      begin + (a.count - 1) * stride + elem > v.byteOffset + v.byteLength)) {
    *what = "accessor " + std::to_string(index) + " reads past its buffer";
    return false;
  }
  const size_t at = out->size();
  out->resize(at + a.count * comps);
  for (size_t i = 0; i < a.count; ++i)
    std::memcpy(out->data() + at + i * comps, data.data() + begin + i * stride, elem);
  return true;
}

bool ReadIndices(const tinygltf::Model& m, int index, std::vector<uint32_t>* out,
                 std::string* what) {
  if (index < 0 || index >= static_cast<int>(m.accessors.size())) {
    *what = "indices accessor " + std::to_string(index) + " does not exist";
    return false;
  }
  const tinygltf::Accessor& a = m.accessors[index];
  int size = 0;
  switch (a.componentType) {
    case TINYGLTF_COMPONENT_TYPE_UNSIGNED_BYTE: size = 1; break;
    case TINYGLTF_COMPONENT_TYPE_UNSIGNED_SHORT: size = 2; break;
    case TINYGLTF_COMPONENT_TYPE_UNSIGNED_INT: size = 4; break;
    default:
      *what = "indices accessor " + std::to_string(index) + " is not unsigned byte/short/int";
      return false;
  }
  if (a.type != TINYGLTF_TYPE_SCALAR || a.bufferView < 0 ||
      a.bufferView >= static_cast<int>(m.bufferViews.size()) || a.sparse.isSparse) {
    *what = "indices accessor " + std::to_string(index) + " is not a plain SCALAR buffer";
    return false;
  }
  const tinygltf::BufferView& v = m.bufferViews[a.bufferView];
  if (v.buffer < 0 || v.buffer >= static_cast<int>(m.buffers.size())) {
    *what = "bufferView " + std::to_string(a.bufferView) + ": buffer out of range";
    return false;
  }
  const std::vector<unsigned char>& data = m.buffers[v.buffer].data;
  const size_t stride = v.byteStride ? v.byteStride : size;
  const size_t begin = v.byteOffset + a.byteOffset;
  if (a.count > 0 && begin + (a.count - 1) * stride + size > data.size()) {
    *what = "indices accessor " + std::to_string(index) + " reads past its buffer";
    return false;
  }
  for (size_t i = 0; i < a.count; ++i) {
    const unsigned char* p = data.data() + begin + i * stride;
    uint32_t idx = 0;
    if (size == 1) idx = p[0];
    if (size == 2) { uint16_t s; std::memcpy(&s, p, 2); idx = s; }
    if (size == 4) std::memcpy(&idx, p, 4);
    out->push_back(idx);
  }
  return true;
}

}  // namespace

std::optional<GltfAvatar> LoadGltfAvatar(const std::string& path,
                                         std::span<const std::string> wanted, std::string* error,
                                         std::string* warning) {
  warning->clear();
  auto fail = [&](const std::string& what) -> std::optional<GltfAvatar> {
    *error = path + ": " + what;
    return std::nullopt;
  };
  std::ifstream f(path, std::ios::binary);
  if (!f) return fail("cannot open the file");
  char magic[4] = {};
  f.read(magic, 4);
  const bool binary = f.gcount() == 4 && std::memcmp(magic, "glTF", 4) == 0;
  f.close();

  tinygltf::TinyGLTF loader;
  tinygltf::Model model;
  std::string err, warn;
  const bool ok = binary ? loader.LoadBinaryFromFile(&model, &err, &warn, path)
                         : loader.LoadASCIIFromFile(&model, &err, &warn, path);
  if (!ok) return fail("not a readable glTF 2.0 file: " + (err.empty() ? warn : err));
  if (model.meshes.empty()) return fail("no mesh");
  const tinygltf::Mesh& mesh = model.meshes[0];

  // Target names: mesh.extras.targetNames.
  std::vector<std::string> names;
  const tinygltf::Value& tn = mesh.extras.Get("targetNames");
  if (tn.IsArray())
    for (size_t i = 0; i < tn.ArrayLen(); ++i)
      names.push_back(tn.Get(static_cast<int>(i)).IsString()
                          ? tn.Get(static_cast<int>(i)).Get<std::string>()
                          : std::string());

  GltfAvatar out;
  std::vector<float> pos, nrm, uv;
  size_t target_count = 0;
  bool first_target_prim = true;
  std::vector<std::vector<float>> deltas;
  bool have_normals = true, have_uvs = true;
  int material = -1;
  for (size_t pi = 0; pi < mesh.primitives.size(); ++pi) {
    const tinygltf::Primitive& p = mesh.primitives[pi];
    const std::string where = "mesh 0 primitive " + std::to_string(pi) + ": ";
    if (p.mode != -1 && p.mode != TINYGLTF_MODE_TRIANGLES) continue;  // lines, points: skip
    auto it = p.attributes.find("POSITION");
    if (it == p.attributes.end()) return fail(where + "no POSITION attribute");
    const size_t base = pos.size() / 3;
    std::string what;
    if (!ReadFloats(model, it->second, 3, &pos, &what)) return fail(where + "POSITION " + what);
    const size_t count = pos.size() / 3 - base;
    if (material < 0) material = p.material;
    auto n = p.attributes.find("NORMAL");
    if (have_normals && n != p.attributes.end()) {
      if (!ReadFloats(model, n->second, 3, &nrm, &what)) return fail(where + "NORMAL " + what);
    } else {
      have_normals = false;
    }
    auto t = p.attributes.find("TEXCOORD_0");
    if (have_uvs && t != p.attributes.end()) {
      if (!ReadFloats(model, t->second, 2, &uv, &what)) return fail(where + "TEXCOORD_0 " + what);
    } else {
      have_uvs = false;
    }
    if (first_target_prim) {
      target_count = p.targets.size();
      deltas.resize(target_count);
      first_target_prim = false;
    } else if (p.targets.size() != target_count) {
      return fail(where + std::to_string(p.targets.size()) + " morph targets, primitive 0 has " +
                  std::to_string(target_count));
    }
    for (size_t k = 0; k < target_count; ++k) {
      auto tp = p.targets[k].find("POSITION");
      if (tp == p.targets[k].end()) {
        deltas[k].insert(deltas[k].end(), count * 3, 0.0f);
        continue;
      }
      const size_t before = deltas[k].size();
      if (!ReadFloats(model, tp->second, 3, &deltas[k], &what))
        return fail(where + "morph target " + std::to_string(k) + " POSITION " + what);
      if (deltas[k].size() - before != count * 3)
        return fail(where + "morph target " + std::to_string(k) + " has " +
                    std::to_string((deltas[k].size() - before) / 3) + " deltas for " +
                    std::to_string(count) + " vertices");
    }
    if (p.indices >= 0) {
      std::vector<uint32_t> idx;
      if (!ReadIndices(model, p.indices, &idx, &what)) return fail(where + what);
      for (size_t i = 0; i + 2 < idx.size(); i += 3) {
        if (idx[i] >= count || idx[i + 1] >= count || idx[i + 2] >= count)
          return fail(where + "index " + std::to_string(std::max({idx[i], idx[i + 1], idx[i + 2]})) +
                      " out of range (" + std::to_string(count) + " vertices)");
        out.triangles.push_back({static_cast<int>(base + idx[i]), static_cast<int>(base + idx[i + 1]),
                                 static_cast<int>(base + idx[i + 2])});
      }
    } else {
      for (size_t i = 0; i + 2 < count; i += 3)
        out.triangles.push_back({static_cast<int>(base + i), static_cast<int>(base + i + 1),
                                 static_cast<int>(base + i + 2)});
    }
  }
  if (pos.empty() || out.triangles.empty()) return fail("mesh 0 has no triangles");
  const size_t nv = pos.size() / 3;
  out.positions.resize(nv);
  std::memcpy(out.positions.data(), pos.data(), pos.size() * sizeof(float));
  if (have_normals && nrm.size() == pos.size()) {
    out.normals.resize(nv);
    std::memcpy(out.normals.data(), nrm.data(), nrm.size() * sizeof(float));
  }
  if (have_uvs && uv.size() == nv * 2) {
    out.uvs.resize(nv);
    std::memcpy(out.uvs.data(), uv.data(), uv.size() * sizeof(float));
  }

  // Keep the wanted names; one warning for both kinds of ignored names.
  std::span<const std::string> want = wanted.empty() ? std::span<const std::string>(ArkitBlendshapeNames()) : wanted;
  const std::set<std::string> want_set(want.begin(), want.end());
  std::vector<std::string> unknown;
  for (size_t k = 0; k < target_count; ++k) {
    const std::string name = k < names.size() ? names[k] : std::string();
    if (name.empty() || !want_set.count(name) || out.TargetIndex(name) >= 0) {
      unknown.push_back(name.empty() ? "#" + std::to_string(k) + " (unnamed)" : name);
      continue;
    }
    out.target_names.push_back(name);
    std::vector<std::array<float, 3>> d(nv);
    std::memcpy(d.data(), deltas[k].data(), nv * 3 * sizeof(float));
    out.target_deltas.push_back(std::move(d));
  }
  std::vector<std::string> lacking;
  for (const std::string& w : want)
    if (out.TargetIndex(w) < 0) lacking.push_back(w);
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  };
  if (!lacking.empty() || !unknown.empty()) {
    *warning = path + ":";
    if (!lacking.empty())
      *warning += " lacks " + std::to_string(lacking.size()) + " of " + std::to_string(want.size()) +
                  " blendshape targets, which are ignored: " + join(lacking) + ".";
    if (!unknown.empty())
      *warning += " Ignores " + std::to_string(unknown.size()) +
                  " morph targets without a known ARKit name: " + join(unknown) + ".";
  }

  // Material: base colour factor and texture.
  if (material >= 0 && material < static_cast<int>(model.materials.size())) {
    const auto& pbr = model.materials[material].pbrMetallicRoughness;
    if (pbr.baseColorFactor.size() >= 3)
      for (int k = 0; k < 3; ++k)
        out.base_color[k] = static_cast<uint8_t>(std::clamp(pbr.baseColorFactor[k], 0.0, 1.0) * 255 + 0.5);
    const int tex = pbr.baseColorTexture.index;
    if (tex >= 0 && tex < static_cast<int>(model.textures.size())) {
      const int src = model.textures[tex].source;
      if (src >= 0 && src < static_cast<int>(model.images.size())) {
        const tinygltf::Image& im = model.images[src];
        if (im.bits == 8 && (im.component == 3 || im.component == 4) && im.width > 0 &&
            im.height > 0 &&
            im.image.size() == static_cast<size_t>(im.width) * im.height * im.component) {
          Texture t;
          t.width = im.width;
          t.height = im.height;
          t.rgba.resize(static_cast<size_t>(im.width) * im.height * 4, 255);
          for (size_t i = 0; i < static_cast<size_t>(im.width) * im.height; ++i)
            for (int k = 0; k < im.component; ++k) t.rgba[4 * i + k] = im.image[i * im.component + k];
          out.texture = std::move(t);
          out.base_color = {255, 255, 255};  // the texture carries the colour
        }
      }
    }
  }
  return out;
}

#else  // !FG_HAVE_TINYGLTF

bool GltfSupported() { return false; }

std::optional<GltfAvatar> LoadGltfAvatar(const std::string& path, std::span<const std::string>,
                                         std::string* error, std::string* warning) {
  warning->clear();
  *error = path + ": this build has no glTF support (install libtinygltf-dev: tools/setup) ";
  return std::nullopt;
}

#endif

}  // namespace fg::render
