#include "engine/geometry/canonical_face.h"

#include <cstring>
#include <fstream>
#include <sstream>

namespace fg {

namespace {

// Minimal protobuf wire-format reader over a byte range. Every read is bounds-checked; a
// failure records the byte offset and stops.
class Wire {
 public:
  Wire(std::string_view bytes, size_t base) : p_(bytes), base_(base) {}
  bool done() const { return pos_ >= p_.size(); }
  size_t offset() const { return base_ + pos_; }

  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= p_.size()) return false;
      const uint8_t b = static_cast<uint8_t>(p_[pos_++]);
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) return true;
    }
    return false;  // over-long varint
  }
  bool Fixed32(uint32_t* v) {
    if (p_.size() - pos_ < 4) return false;
    std::memcpy(v, p_.data() + pos_, 4);  // little-endian hosts only (x86, arm64)
    pos_ += 4;
    return true;
  }
  bool Bytes(std::string_view* out, size_t* at) {
    uint64_t len;
    if (!Varint(&len) || len > p_.size() - pos_) return false;
    *at = base_ + pos_;
    *out = p_.substr(pos_, len);
    pos_ += len;
    return true;
  }
  bool Skip(int wire_type) {
    uint64_t v;
    uint32_t f;
    std::string_view s;
    size_t at;
    switch (wire_type) {
      case 0: return Varint(&v);
      case 1:
        if (p_.size() - pos_ < 8) return false;
        pos_ += 8;
        return true;
      case 2: return Bytes(&s, &at);
      case 5: return Fixed32(&f);
      default: return false;  // groups (3, 4) are not used by this schema
    }
  }

 private:
  std::string_view p_;
  size_t base_;
  size_t pos_ = 0;
};

struct Parser {
  std::string_view name;
  std::string* error;

  bool Fail(size_t offset, const std::string& what) {
    *error = std::string(name) + ": byte " + std::to_string(offset) + ": " + what;
    return false;
  }

  bool Mesh(std::string_view bytes, size_t base, std::vector<float>* vb, std::vector<uint32_t>* ib,
            uint64_t* vertex_type, uint64_t* prim_type) {
    Wire w(bytes, base);
    while (!w.done()) {
      uint64_t key;
      const size_t at = w.offset();
      if (!w.Varint(&key)) return Fail(at, "truncated field key in canonical_mesh");
      const int field = static_cast<int>(key >> 3), wt = static_cast<int>(key & 7);
      if (field == 1 && wt == 0) {
        if (!w.Varint(vertex_type)) return Fail(at, "truncated vertex_type");
      } else if (field == 2 && wt == 0) {
        if (!w.Varint(prim_type)) return Fail(at, "truncated primitive_type");
      } else if (field == 3 && wt == 5) {
        uint32_t u;
        if (!w.Fixed32(&u)) return Fail(at, "truncated vertex_buffer value");
        float f;
        std::memcpy(&f, &u, 4);
        vb->push_back(f);
      } else if (field == 3 && wt == 2) {  // packed floats
        std::string_view s;
        size_t sat;
        if (!w.Bytes(&s, &sat) || s.size() % 4 != 0)
          return Fail(at, "bad packed vertex_buffer");
        for (size_t i = 0; i < s.size(); i += 4) {
          float f;
          std::memcpy(&f, s.data() + i, 4);
          vb->push_back(f);
        }
      } else if (field == 4 && wt == 0) {
        uint64_t v;
        if (!w.Varint(&v)) return Fail(at, "truncated index_buffer value");
        ib->push_back(static_cast<uint32_t>(v));
      } else if (field == 4 && wt == 2) {  // packed varints
        std::string_view s;
        size_t sat;
        if (!w.Bytes(&s, &sat)) return Fail(at, "bad packed index_buffer");
        Wire inner(s, sat);
        while (!inner.done()) {
          uint64_t v;
          if (!inner.Varint(&v)) return Fail(inner.offset(), "bad packed index_buffer value");
          ib->push_back(static_cast<uint32_t>(v));
        }
      } else if (!w.Skip(wt)) {
        return Fail(at, "cannot skip field " + std::to_string(field));
      }
    }
    return true;
  }

  bool Landmark(std::string_view bytes, size_t base, CanonicalFace::Weighted* out) {
    Wire w(bytes, base);
    out->landmark = -1;
    out->weight = 0;
    while (!w.done()) {
      uint64_t key;
      const size_t at = w.offset();
      if (!w.Varint(&key)) return Fail(at, "truncated procrustes_landmark_basis entry");
      const int field = static_cast<int>(key >> 3), wt = static_cast<int>(key & 7);
      if (field == 1 && wt == 0) {
        uint64_t v;
        if (!w.Varint(&v)) return Fail(at, "truncated landmark_id");
        out->landmark = static_cast<int>(v);
      } else if (field == 2 && wt == 5) {
        uint32_t u;
        if (!w.Fixed32(&u)) return Fail(at, "truncated weight");
        std::memcpy(&out->weight, &u, 4);
      } else if (!w.Skip(wt)) {
        return Fail(at, "cannot skip field " + std::to_string(field));
      }
    }
    return true;
  }
};

}  // namespace

std::optional<CanonicalFace> ParseCanonicalFace(std::string_view bytes, std::string_view name,
                                                std::string* error) {
  std::string scratch;
  Parser p{name, error ? error : &scratch};
  Wire w(bytes, 0);
  std::vector<float> vb;
  std::vector<uint32_t> ib;
  uint64_t vertex_type = 0, prim_type = 0;
  bool have_mesh = false;
  CanonicalFace face;
  while (!w.done()) {
    uint64_t key;
    const size_t at = w.offset();
    if (!w.Varint(&key)) return p.Fail(at, "truncated field key"), std::nullopt;
    const int field = static_cast<int>(key >> 3), wt = static_cast<int>(key & 7);
    if ((field == 1 || field == 2) && wt == 2) {
      std::string_view s;
      size_t sat;
      if (!w.Bytes(&s, &sat)) return p.Fail(at, "truncated message field " + std::to_string(field)), std::nullopt;
      if (field == 1) {
        have_mesh = true;
        if (!p.Mesh(s, sat, &vb, &ib, &vertex_type, &prim_type)) return std::nullopt;
      } else {
        CanonicalFace::Weighted lw;
        if (!p.Landmark(s, sat, &lw)) return std::nullopt;
        face.procrustes_basis.push_back(lw);
      }
    } else if (!w.Skip(wt)) {
      return p.Fail(at, "cannot skip field " + std::to_string(field)), std::nullopt;
    }
  }
  if (!have_mesh) return p.Fail(bytes.size(), "no canonical_mesh"), std::nullopt;
  if (vertex_type != 0 || prim_type != 0)
    return p.Fail(0, "canonical_mesh is not VERTEX_PT triangles"), std::nullopt;
  if (vb.size() % 5 != 0)
    return p.Fail(0, "vertex_buffer has " + std::to_string(vb.size()) + " floats, not a multiple of 5 (x,y,z,u,v)"), std::nullopt;
  const size_t nv = vb.size() / 5;
  if (ib.size() % 3 != 0)
    return p.Fail(0, "index_buffer has " + std::to_string(ib.size()) + " indices, not whole triangles"), std::nullopt;
  for (size_t i = 0; i < nv; ++i) {
    face.vertices.push_back({vb[5 * i], vb[5 * i + 1], vb[5 * i + 2]});
    face.uvs.push_back({vb[5 * i + 3], vb[5 * i + 4]});
  }
  for (size_t t = 0; t < ib.size(); t += 3) {
    for (int k = 0; k < 3; ++k)
      if (ib[t + k] >= nv)
        return p.Fail(0, "triangle " + std::to_string(t / 3) + " refers to vertex " +
                             std::to_string(ib[t + k]) + " of " + std::to_string(nv)),
               std::nullopt;
    face.triangles.push_back({static_cast<int>(ib[t]), static_cast<int>(ib[t + 1]), static_cast<int>(ib[t + 2])});
  }
  for (const auto& lw : face.procrustes_basis)
    if (lw.landmark < 0 || static_cast<size_t>(lw.landmark) >= nv)
      return p.Fail(0, "procrustes landmark " + std::to_string(lw.landmark) + " out of range"), std::nullopt;
  return face;
}

std::optional<CanonicalFace> LoadCanonicalFace(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (error) *error = path + ": cannot open (run tools/fetch-models)";
    return std::nullopt;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string bytes = ss.str();
  return ParseCanonicalFace(bytes, path, error);
}

}  // namespace fg
