#include "tests/render/gltf_writer.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

namespace fgtest {

namespace {

std::string Base64(const std::vector<uint8_t>& data) {
  static const char* kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const uint32_t v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    for (int k = 3; k >= 0; --k) out += kAlphabet[(v >> (6 * k)) & 63];
  }
  if (i + 1 == data.size()) {
    const uint32_t v = data[i] << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    const uint32_t v = (data[i] << 16) | (data[i + 1] << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

void Append(std::vector<uint8_t>& buf, const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  buf.insert(buf.end(), b, b + n);
  while (buf.size() % 4) buf.push_back(0);
}

}  // namespace

std::string WriteGltf(const std::string& path, const GltfMesh& mesh, bool binary) {
  using nlohmann::json;
  std::vector<uint8_t> buf;
  json views = json::array(), accessors = json::array();
  auto add_vec3 = [&](const std::vector<std::array<float, 3>>& v, bool bounds) {
    const size_t offset = buf.size();
    Append(buf, v.data(), v.size() * 12);
    views.push_back({{"buffer", 0}, {"byteOffset", offset}, {"byteLength", v.size() * 12}});
    json acc = {{"bufferView", views.size() - 1}, {"componentType", 5126},
                {"count", v.size()}, {"type", "VEC3"}};
    if (bounds) {  // POSITION accessors must carry min and max
      std::array<float, 3> lo = v[0], hi = v[0];
      for (const auto& p : v)
        for (int k = 0; k < 3; ++k) lo[k] = std::min(lo[k], p[k]), hi[k] = std::max(hi[k], p[k]);
      acc["min"] = lo;
      acc["max"] = hi;
    }
    accessors.push_back(acc);
    return accessors.size() - 1;
  };
  const size_t pos = add_vec3(mesh.positions, true);
  std::vector<uint16_t> idx;
  for (const auto& t : mesh.triangles)
    for (int k = 0; k < 3; ++k) idx.push_back(static_cast<uint16_t>(t[k]));
  const size_t idx_offset = buf.size();
  Append(buf, idx.data(), idx.size() * 2);
  views.push_back({{"buffer", 0}, {"byteOffset", idx_offset}, {"byteLength", idx.size() * 2}});
  accessors.push_back({{"bufferView", views.size() - 1}, {"componentType", 5123},
                       {"count", idx.size()}, {"type", "SCALAR"}});
  const size_t ind = accessors.size() - 1;
  json targets = json::array(), names = json::array();
  for (const auto& t : mesh.targets) {
    targets.push_back({{"POSITION", add_vec3(t.deltas, true)}});
    names.push_back(t.name);
  }
  json prim = {{"attributes", {{"POSITION", pos}}}, {"indices", ind}, {"mode", 4}, {"material", 0}};
  if (!targets.empty()) prim["targets"] = targets;
  json m = {{"primitives", json::array({prim})}};
  if (!names.empty()) m["extras"] = {{"targetNames", names}};
  json doc = {
      {"asset", {{"version", "2.0"}, {"generator", "facegraph tests/render/gltf_writer"}}},
      {"scene", 0},
      {"scenes", json::array({{{"nodes", json::array({0})}}})},
      {"nodes", json::array({{{"mesh", 0}}})},
      {"meshes", json::array({m})},
      {"materials", json::array({{{"pbrMetallicRoughness", {{"baseColorFactor", mesh.base_color}}}}})},
      {"accessors", accessors},
      {"bufferViews", views}};
  json buffer = {{"byteLength", buf.size()}};
  if (!binary) buffer["uri"] = "data:application/octet-stream;base64," + Base64(buf);
  doc["buffers"] = json::array({buffer});

  std::ofstream f(path, std::ios::binary);
  if (!f) return "cannot write " + path;
  if (!binary) {
    f << doc.dump(1);
    return f ? "" : "write failed: " + path;
  }
  std::string text = doc.dump();
  while (text.size() % 4) text += ' ';
  auto u32 = [&](uint32_t v) { f.write(reinterpret_cast<const char*>(&v), 4); };
  u32(0x46546C67);  // "glTF"
  u32(2);
  u32(static_cast<uint32_t>(12 + 8 + text.size() + 8 + buf.size()));
  u32(static_cast<uint32_t>(text.size()));
  u32(0x4E4F534A);  // "JSON"
  f.write(text.data(), static_cast<std::streamsize>(text.size()));
  u32(static_cast<uint32_t>(buf.size()));
  u32(0x004E4942);  // "BIN\0"
  f.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(buf.size()));
  return f ? "" : "write failed: " + path;
}

}  // namespace fgtest
