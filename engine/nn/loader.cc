// TF.js graph-model loader. See loader.h for the contract.
//
// Structure: ReadManifest (weight specs, byte ranges) -> fetch shard bytes (sizes checked
// first) -> decode weights -> ParseNodes (typed attributes) -> order nodes -> graph I/O ->
// InferShapes at batch 1 (validates every weight against its consumer) -> normalise axes.
// Every failure is a Status built by Fail(); nlohmann_json is used without exceptions and
// a last-resort catch keeps std::bad_alloc and friends from escaping the API.
#include "engine/nn/loader.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "engine/nn/shape_inference.h"

namespace fg::nn {
namespace {

using Json = nlohmann::ordered_json;

// Weights larger than this are refused (a corrupt manifest must not make us allocate).
constexpr uint64_t kMaxWeightBytes = uint64_t{1} << 31;

struct Context {
  std::string file;  // for messages
  Status Fail(const std::string& what) const { return Status::Error(file + ": " + what); }
  Status NodeFail(const std::string& node, const std::string& op, const std::string& what) const {
    return Status::Error(file + ": node '" + node + "' (" + op + "): " + what);
  }
};

// ---------------------------------------------------------------------------------------
// Small JSON helpers: every access checks the type first.

const Json* Get(const Json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end()) return nullptr;
  return &*it;
}

// TF AttrValue ints are JSON strings ("1") or, from some converters, numbers.
bool JsonToInt64(const Json& v, int64_t* out) {
  if (v.is_number_integer()) {
    *out = v.get<int64_t>();
    return true;
  }
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
    *out = static_cast<int64_t>(u);
    return true;
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s.empty() || s.size() > 20) return false;
    size_t i = 0;
    bool neg = false;
    if (s[0] == '-') {
      neg = true;
      i = 1;
      if (s.size() == 1) return false;
    }
    int64_t r = 0;
    for (; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      int d = s[i] - '0';
      if (r > (std::numeric_limits<int64_t>::max() - d) / 10) return false;
      r = r * 10 + d;
    }
    *out = neg ? -r : r;
    return true;
  }
  return false;
}

bool Base64Decode(const std::string& in, std::string* out) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  out->clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    int v = val(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// Attributes of one node, with messages naming the node.

class Attrs {
 public:
  Attrs(const Context& ctx, const std::string& node, const std::string& op, const Json* attr)
      : ctx_(ctx), node_(node), op_(op), attr_(attr) {}

  bool Has(const char* key) const { return attr_ && Get(*attr_, key); }

  Status Fail(const std::string& what) const { return ctx_.NodeFail(node_, op_, what); }

  Status String(const char* key, std::string* out, const char* def = nullptr) const {
    const Json* a = attr_ ? Get(*attr_, key) : nullptr;
    if (!a) {
      if (def) {
        *out = def;
        return Status::Ok();
      }
      return Fail(std::string("missing attribute '") + key + "'");
    }
    const Json* s = Get(*a, "s");
    if (!s || !s->is_string() || !Base64Decode(s->get_ref<const std::string&>(), out))
      return Fail(std::string("attribute '") + key + "' is not a base64 string");
    return Status::Ok();
  }

  Status Int(const char* key, int64_t* out, std::optional<int64_t> def = std::nullopt) const {
    const Json* a = attr_ ? Get(*attr_, key) : nullptr;
    if (!a) {
      if (def) {
        *out = *def;
        return Status::Ok();
      }
      return Fail(std::string("missing attribute '") + key + "'");
    }
    const Json* i = Get(*a, "i");
    if (!i || !JsonToInt64(*i, out))
      return Fail(std::string("attribute '") + key + "' is not an integer");
    return Status::Ok();
  }

  Status Bool(const char* key, bool* out, bool def) const {
    const Json* a = attr_ ? Get(*attr_, key) : nullptr;
    if (!a) {
      *out = def;
      return Status::Ok();
    }
    const Json* b = Get(*a, "b");
    if (!b) {  // proto3 JSON omits false values: {"b": false} may appear as {}
      if (a->is_object() && a->empty()) {
        *out = false;
        return Status::Ok();
      }
      return Fail(std::string("attribute '") + key + "' is not a bool");
    }
    if (!b->is_boolean()) return Fail(std::string("attribute '") + key + "' is not a bool");
    *out = b->get<bool>();
    return Status::Ok();
  }

  // list.i; a missing attribute gives an empty list only when allow_missing.
  Status IntList(const char* key, std::vector<int64_t>* out, bool allow_missing) const {
    out->clear();
    const Json* a = attr_ ? Get(*attr_, key) : nullptr;
    if (!a) {
      if (allow_missing) return Status::Ok();
      return Fail(std::string("missing attribute '") + key + "'");
    }
    const Json* list = Get(*a, "list");
    if (!list || !list->is_object())
      return Fail(std::string("attribute '") + key + "' is not a list");
    const Json* i = Get(*list, "i");
    if (!i) return Status::Ok();  // empty list
    if (!i->is_array()) return Fail(std::string("attribute '") + key + "' has no integer list");
    if (i->size() > 64) return Fail(std::string("attribute '") + key + "' is too long");
    for (const Json& v : *i) {
      int64_t x;
      if (!JsonToInt64(v, &x))
        return Fail(std::string("attribute '") + key + "' holds a non-integer");
      out->push_back(x);
    }
    return Status::Ok();
  }

  Status StringList(const char* key, std::vector<std::string>* out) const {
    out->clear();
    const Json* a = attr_ ? Get(*attr_, key) : nullptr;
    if (!a) return Fail(std::string("missing attribute '") + key + "'");
    const Json* list = Get(*a, "list");
    if (!list || !list->is_object())
      return Fail(std::string("attribute '") + key + "' is not a list");
    const Json* s = Get(*list, "s");
    if (!s) return Status::Ok();
    if (!s->is_array()) return Fail(std::string("attribute '") + key + "' has no string list");
    for (const Json& v : *s) {
      std::string d;
      if (!v.is_string() || !Base64Decode(v.get_ref<const std::string&>(), &d))
        return Fail(std::string("attribute '") + key + "' holds a non-base64 string");
      out->push_back(std::move(d));
    }
    return Status::Ok();
  }

  // The "T"/"dtype" type attribute, when present, must be DT_FLOAT.
  Status RequireFloat(const char* key) const {
    const Json* a = attr_ ? Get(*attr_, key) : nullptr;
    if (!a) return Status::Ok();
    const Json* t = Get(*a, "type");
    if (!t || !t->is_string()) return Fail(std::string("attribute '") + key + "' is not a type");
    if (t->get_ref<const std::string&>() != "DT_FLOAT")
      return Fail(std::string("unsupported dtype ") + t->get_ref<const std::string&>() +
                  " (only DT_FLOAT activations are supported)");
    return Status::Ok();
  }

 private:
  const Context& ctx_;
  const std::string& node_;
  const std::string& op_;
  const Json* attr_;
};

// ---------------------------------------------------------------------------------------
// Weights manifest.

struct WeightSpec {
  std::string name;
  DType dtype = DType::kFloat32;
  Shape shape;
  enum class Storage { kFloat32, kInt32, kFloat16, kUint8, kUint16 } storage = Storage::kFloat32;
  double scale = 1.0, min = 0.0;
  size_t group = 0;
  uint64_t offset = 0;  // in the group's concatenated bytes
  uint64_t bytes = 0;
};

struct Group {
  std::vector<std::string> paths;
  uint64_t required = 0;
};

Status ParseShapeArray(const Context& ctx, const Json& j, const std::string& what, Shape* out) {
  if (!j.is_array()) return ctx.Fail(what + ": shape is not an array");
  if (j.size() > static_cast<size_t>(kMaxRank))
    return ctx.Fail(what + ": rank " + std::to_string(j.size()) + " exceeds " +
                    std::to_string(kMaxRank));
  out->clear();
  for (const Json& d : j) {
    int64_t v;
    if (!JsonToInt64(d, &v) || v < 0 || v > (int64_t{1} << 31))
      return ctx.Fail(what + ": bad dimension in shape");
    out->push_back(v);
  }
  return Status::Ok();
}

Status ReadManifest(const Context& ctx, const Json& root, std::vector<Group>* groups,
                    std::vector<WeightSpec>* weights) {
  const Json* wm = Get(root, "weightsManifest");
  if (!wm) return ctx.Fail("missing 'weightsManifest'");
  if (!wm->is_array()) return ctx.Fail("'weightsManifest' is not an array");
  for (size_t g = 0; g < wm->size(); ++g) {
    const Json& group = (*wm)[g];
    std::string gname = "weightsManifest[" + std::to_string(g) + "]";
    const Json* paths = Get(group, "paths");
    const Json* ws = Get(group, "weights");
    if (!paths || !paths->is_array()) return ctx.Fail(gname + ": missing 'paths' array");
    if (!ws || !ws->is_array()) return ctx.Fail(gname + ": missing 'weights' array");
    Group out;
    for (const Json& p : *paths) {
      if (!p.is_string() || p.get_ref<const std::string&>().empty())
        return ctx.Fail(gname + ": a path is not a non-empty string");
      const std::string& ps = p.get_ref<const std::string&>();
      std::filesystem::path fp(ps);
      if (fp.is_absolute()) return ctx.Fail(gname + ": shard path '" + ps + "' is absolute");
      for (const auto& part : fp)
        if (part == "..") return ctx.Fail(gname + ": shard path '" + ps + "' contains '..'");
      out.paths.push_back(ps);
    }
    uint64_t offset = 0;
    for (const Json& w : *ws) {
      WeightSpec spec;
      const Json* name = Get(w, "name");
      if (!name || !name->is_string()) return ctx.Fail(gname + ": a weight has no name");
      spec.name = name->get<std::string>();
      std::string what = "weight '" + spec.name + "'";
      const Json* shape = Get(w, "shape");
      if (!shape) return ctx.Fail(what + ": missing shape");
      Status s = ParseShapeArray(ctx, *shape, what, &spec.shape);
      if (!s.ok()) return s;
      const Json* dtype = Get(w, "dtype");
      if (!dtype || !dtype->is_string()) return ctx.Fail(what + ": missing dtype");
      const std::string& dt = dtype->get_ref<const std::string&>();
      if (dt == "float32") {
        spec.dtype = DType::kFloat32;
        spec.storage = WeightSpec::Storage::kFloat32;
      } else if (dt == "int32") {
        spec.dtype = DType::kInt32;
        spec.storage = WeightSpec::Storage::kInt32;
      } else {
        return ctx.Fail(what + ": unsupported dtype '" + dt + "'");
      }
      if (const Json* q = Get(w, "quantization")) {
        const Json* qd = Get(*q, "dtype");
        if (!qd || !qd->is_string()) return ctx.Fail(what + ": quantization has no dtype");
        const std::string& qs = qd->get_ref<const std::string&>();
        if (spec.dtype != DType::kFloat32)
          return ctx.Fail(what + ": quantized " + dt + " weights are not supported");
        if (qs == "float16") {
          spec.storage = WeightSpec::Storage::kFloat16;
        } else if (qs == "uint8" || qs == "uint16") {
          spec.storage = qs == "uint8" ? WeightSpec::Storage::kUint8 : WeightSpec::Storage::kUint16;
          const Json* scale = Get(*q, "scale");
          const Json* mn = Get(*q, "min");
          if (!scale || !scale->is_number() || !mn || !mn->is_number())
            return ctx.Fail(what + ": " + qs + " quantization needs numeric 'scale' and 'min'");
          spec.scale = scale->get<double>();
          spec.min = mn->get<double>();
          // Every dequantized value q * scale + min (q <= 65535) must be a finite float.
          if (!std::isfinite(spec.scale) || !std::isfinite(spec.min) ||
              std::abs(spec.scale) * 65535.0 + std::abs(spec.min) >
                  static_cast<double>(std::numeric_limits<float>::max()))
            return ctx.Fail(what + ": quantization scale/min out of float range");
        } else {
          return ctx.Fail(what + ": unsupported quantization dtype '" + qs + "'");
        }
      }
      uint64_t elem_bytes = 4;
      if (spec.storage == WeightSpec::Storage::kFloat16 ||
          spec.storage == WeightSpec::Storage::kUint16)
        elem_bytes = 2;
      if (spec.storage == WeightSpec::Storage::kUint8) elem_bytes = 1;
      uint64_t n = 1;
      for (int64_t d : spec.shape) {
        if (d != 0 && n > kMaxWeightBytes / static_cast<uint64_t>(d))
          return ctx.Fail(what + ": shape " + ShapeToString(spec.shape) + " is too large");
        n *= static_cast<uint64_t>(d);
      }
      if (n > kMaxWeightBytes / 4)
        return ctx.Fail(what + ": shape " + ShapeToString(spec.shape) + " is too large");
      spec.group = groups->size();
      spec.offset = offset;
      spec.bytes = n * elem_bytes;
      offset += spec.bytes;
      if (offset > (uint64_t{1} << 40)) return ctx.Fail(gname + ": weights too large");
      weights->push_back(std::move(spec));
    }
    out.required = offset;
    groups->push_back(std::move(out));
  }
  return Status::Ok();
}

float HalfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      mant &= 0x3ffu;
      bits = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | (mant << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + (127 - 15)) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

void DecodeWeight(const WeightSpec& spec, const unsigned char* p, Tensor* t) {
  size_t n = static_cast<size_t>(NumElements(spec.shape));
  switch (spec.storage) {
    case WeightSpec::Storage::kInt32:
      t->i32.resize(n);
      if (n) std::memcpy(t->i32.data(), p, n * 4);  // little-endian host, as TF.js writes
      break;
    case WeightSpec::Storage::kFloat32:
      t->f32.resize(n);
      if (n) std::memcpy(t->f32.data(), p, n * 4);
      break;
    case WeightSpec::Storage::kFloat16:
      t->f32.resize(n);
      for (size_t i = 0; i < n; ++i)
        t->f32[i] = HalfToFloat(static_cast<uint16_t>(p[2 * i] | (p[2 * i + 1] << 8)));
      break;
    case WeightSpec::Storage::kUint8:
      t->f32.resize(n);
      for (size_t i = 0; i < n; ++i) t->f32[i] = static_cast<float>(p[i] * spec.scale + spec.min);
      break;
    case WeightSpec::Storage::kUint16:
      t->f32.resize(n);
      for (size_t i = 0; i < n; ++i)
        t->f32[i] = static_cast<float>((p[2 * i] | (p[2 * i + 1] << 8)) * spec.scale + spec.min);
      break;
  }
}

// Where shard bytes come from: files next to model.json, or memory.
class ShardSource {
 public:
  virtual ~ShardSource() = default;
  virtual std::optional<uint64_t> Size(const std::string& path) const = 0;
  // Appends exactly `size` bytes of `path` (as returned by Size) to *out.
  virtual bool Append(const std::string& path, uint64_t size, std::string* out) const = 0;
};

class FileShards : public ShardSource {
 public:
  explicit FileShards(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::optional<uint64_t> Size(const std::string& path) const override {
    std::error_code ec;
    std::filesystem::path p = dir_ / path;
    if (!std::filesystem::is_regular_file(p, ec)) return std::nullopt;
    uint64_t s = std::filesystem::file_size(p, ec);
    if (ec) return std::nullopt;
    return s;
  }
  bool Append(const std::string& path, uint64_t size, std::string* out) const override {
    std::ifstream f(dir_ / path, std::ios::binary);
    if (!f) return false;
    size_t old = out->size();
    out->resize(old + size);
    f.read(out->data() + old, static_cast<std::streamsize>(size));
    return static_cast<uint64_t>(f.gcount()) == size;
  }

 private:
  std::filesystem::path dir_;
};

class MemoryShards : public ShardSource {
 public:
  explicit MemoryShards(const ShardMap& m) : m_(m) {}
  std::optional<uint64_t> Size(const std::string& path) const override {
    auto it = m_.find(path);
    if (it == m_.end()) return std::nullopt;
    return it->second.size();
  }
  bool Append(const std::string& path, uint64_t size, std::string* out) const override {
    auto it = m_.find(path);
    if (it == m_.end() || it->second.size() != size) return false;
    out->append(it->second);
    return true;
  }

 private:
  const ShardMap& m_;
};

// ---------------------------------------------------------------------------------------
// Nodes.

struct RawNode {
  std::string name;
  std::string op;
  std::vector<std::string> inputs;  // tensor names (":0" stripped, control inputs dropped)
  const Json* attr = nullptr;
};

Status ParseInputName(const Context& ctx, const RawNode& n, const std::string& in, std::string* out,
                      bool* control) {
  *control = false;
  if (!in.empty() && in[0] == '^') {
    *control = true;
    return Status::Ok();
  }
  size_t colon = in.rfind(':');
  if (colon != std::string::npos) {
    std::string idx = in.substr(colon + 1);
    if (idx != "0")
      return ctx.NodeFail(n.name, n.op, "input '" + in + "': only output 0 of a node is supported");
    *out = in.substr(0, colon);
  } else {
    *out = in;
  }
  if (out->empty()) return ctx.NodeFail(n.name, n.op, "empty input name");
  return Status::Ok();
}

Status ParseWindowAttrs(const Attrs& a, bool is_pool, Padding* padding, int* sh, int* sw, int* dh,
                        int* dw, int* kh, int* kw, int pads[4]) {
  std::string fmt;
  Status s = a.String("data_format", &fmt, "NHWC");
  if (!s.ok()) return s;
  if (fmt != "NHWC") return a.Fail("data_format '" + fmt + "' is not supported (only NHWC)");
  std::string pad;
  if (!(s = a.String("padding", &pad)).ok()) return s;
  if (pad == "SAME") {
    *padding = Padding::kSame;
  } else if (pad == "VALID") {
    *padding = Padding::kValid;
  } else if (pad == "EXPLICIT") {
    *padding = Padding::kExplicit;
  } else {
    return a.Fail("padding '" + pad + "' is not SAME, VALID or EXPLICIT");
  }
  auto four = [&](const char* key, bool required, int* h, int* w) -> Status {
    std::vector<int64_t> v;
    Status st = a.IntList(key, &v, !required);
    if (!st.ok()) return st;
    if (v.empty() && !required) {
      *h = *w = 1;
      return Status::Ok();
    }
    if (v.size() != 4) return a.Fail(std::string("attribute '") + key + "' must have 4 values");
    if (v[0] != 1 || v[3] != 1)
      return a.Fail(std::string("attribute '") + key + "' must be 1 on batch and channels");
    if (v[1] < 1 || v[2] < 1 || v[1] > 4096 || v[2] > 4096)
      return a.Fail(std::string("attribute '") + key + "' out of range");
    *h = static_cast<int>(v[1]);
    *w = static_cast<int>(v[2]);
    return Status::Ok();
  };
  if (!(s = four("strides", true, sh, sw)).ok()) return s;
  if (is_pool) {
    if (!(s = four("ksize", true, kh, kw)).ok()) return s;
  } else {
    if (!(s = four("dilations", false, dh, dw)).ok()) return s;
  }
  pads[0] = pads[1] = pads[2] = pads[3] = 0;
  std::vector<int64_t> ep;
  if (!(s = a.IntList("explicit_paddings", &ep, true)).ok()) return s;
  if (*padding == Padding::kExplicit) {
    if (ep.size() != 8) return a.Fail("EXPLICIT padding needs 8 explicit_paddings");
    if (ep[0] || ep[1] || ep[6] || ep[7])
      return a.Fail("explicit_paddings on batch or channels are not supported");
    for (int i = 2; i < 6; ++i)
      if (ep[i] < 0 || ep[i] > 4096) return a.Fail("explicit_paddings out of range");
    pads[0] = static_cast<int>(ep[2]);
    pads[1] = static_cast<int>(ep[3]);
    pads[2] = static_cast<int>(ep[4]);
    pads[3] = static_cast<int>(ep[5]);
  }
  return Status::Ok();
}

// fused_ops / num_args of _FusedConv2D, FusedDepthwiseConv2dNative and _FusedMatMul.
Status ParseFused(const Attrs& a, size_t num_inputs, bool* has_bias, Activation* act) {
  std::vector<std::string> ops;
  Status s = a.StringList("fused_ops", &ops);
  if (!s.ok()) return s;
  int64_t num_args = 0;
  if (!(s = a.Int("num_args", &num_args)).ok()) return s;
  *has_bias = false;
  *act = Activation::kNone;
  size_t i = 0;
  if (i < ops.size() && ops[i] == "BiasAdd") {
    *has_bias = true;
    ++i;
  }
  if (i < ops.size()) {
    if (ops[i] == "Relu") {
      *act = Activation::kRelu;
    } else if (ops[i] == "Relu6") {
      *act = Activation::kRelu6;
    } else if (ops[i] == "Prelu") {
      *act = Activation::kPrelu;
    } else {
      return a.Fail("unsupported fused op '" + ops[i] + "'");
    }
    ++i;
  }
  if (i != ops.size() || (!*has_bias && ops.size() > 0 && *act == Activation::kNone))
    return a.Fail("unsupported fused_ops combination");
  if (!*has_bias) return a.Fail("fused ops without BiasAdd are not supported");
  int64_t expect_args = (*has_bias ? 1 : 0) + (*act == Activation::kPrelu ? 1 : 0);
  if (num_args != expect_args)
    return a.Fail("num_args " + std::to_string(num_args) + " does not match fused_ops (expected " +
                  std::to_string(expect_args) + ")");
  if (num_inputs != static_cast<size_t>(2 + num_args))
    return a.Fail("expected " + std::to_string(2 + num_args) + " inputs, got " +
                  std::to_string(num_inputs));
  return Status::Ok();
}

struct Builder {
  Context ctx;
  Model model;
  std::unordered_map<std::string, int> tensor_index;
  std::unordered_map<std::string, const WeightSpec*> weight_by_name;

  // Resolves an input of `n` to a tensor index; it must exist.
  Status Resolve(const RawNode& n, const std::string& name, int* out) {
    auto it = tensor_index.find(name);
    if (it == tensor_index.end())
      return ctx.NodeFail(n.name, n.op, "input '" + name + "' is not produced by any node");
    *out = it->second;
    return Status::Ok();
  }

  // An int32 constant input (shape, axes, paddings).
  Status ConstInt(const RawNode& n, const std::string& name, const Tensor** out) {
    int idx = -1;
    Status s = Resolve(n, name, &idx);
    if (!s.ok()) return s;
    const Tensor& t = model.tensors[idx];
    if (!t.is_constant || t.dtype != DType::kInt32)
      return ctx.NodeFail(n.name, n.op, "input '" + name + "' must be an int32 constant");
    *out = &t;
    return Status::Ok();
  }

  Status FloatInputs(const RawNode& n, size_t first, size_t count, Node* node) {
    for (size_t i = first; i < first + count; ++i) {
      int idx = -1;
      Status s = Resolve(n, n.inputs[i], &idx);
      if (!s.ok()) return s;
      if (model.tensors[idx].dtype != DType::kFloat32)
        return ctx.NodeFail(n.name, n.op,
                            "input '" + n.inputs[i] + "' is " +
                                std::string(DTypeName(model.tensors[idx].dtype)) +
                                ", expected float32");
      node->inputs.push_back(idx);
    }
    return Status::Ok();
  }

  Status BuildNode(const RawNode& n, Node* node) {
    Attrs a(ctx, n.name, n.op, n.attr);
    node->name = n.name;
    node->tf_op = n.op;
    const std::string& op = n.op;
    size_t ni = n.inputs.size();
    auto expect_inputs = [&](size_t k) -> Status {
      if (ni != k)
        return a.Fail("expected " + std::to_string(k) + " inputs, got " + std::to_string(ni));
      return Status::Ok();
    };
    Status s = a.RequireFloat("T");
    if (!s.ok()) return s;

    if (op == "_FusedConv2D" || op == "Conv2D" || op == "DepthwiseConv2dNative" ||
        op == "FusedDepthwiseConv2dNative") {
      bool depthwise = op == "DepthwiseConv2dNative" || op == "FusedDepthwiseConv2dNative";
      node->op = depthwise ? OpType::kDepthwiseConv2D : OpType::kConv2D;
      ConvParams& c = node->conv;
      int kh, kw, pads[4];
      s = ParseWindowAttrs(a, false, &c.padding, &c.stride_h, &c.stride_w, &c.dilation_h,
                           &c.dilation_w, &kh, &kw, pads);
      if (!s.ok()) return s;
      c.pad_top = pads[0];
      c.pad_bottom = pads[1];
      c.pad_left = pads[2];
      c.pad_right = pads[3];
      if (op == "_FusedConv2D" || op == "FusedDepthwiseConv2dNative") {
        if (!(s = ParseFused(a, ni, &c.has_bias, &c.activation)).ok()) return s;
      } else if (!(s = expect_inputs(2)).ok()) {
        return s;
      }
      return FloatInputs(n, 0, ni, node);
    }
    if (op == "_FusedMatMul" || op == "MatMul") {
      node->op = OpType::kMatMul;
      MatMulParams& m = node->matmul;
      if (!(s = a.Bool("transpose_a", &m.transpose_a, false)).ok()) return s;
      if (!(s = a.Bool("transpose_b", &m.transpose_b, false)).ok()) return s;
      if (op == "_FusedMatMul") {
        if (!(s = ParseFused(a, ni, &m.has_bias, &m.activation)).ok()) return s;
      } else if (!(s = expect_inputs(2)).ok()) {
        return s;
      }
      return FloatInputs(n, 0, ni, node);
    }
    static const std::map<std::string, OpType, std::less<>> kBinary = {
        {"Add", OpType::kAdd},         {"AddV2", OpType::kAdd},       {"Mul", OpType::kMul},
        {"Minimum", OpType::kMinimum}, {"Maximum", OpType::kMaximum}, {"Prelu", OpType::kPrelu}};
    static const std::map<std::string, OpType, std::less<>> kUnary = {
        {"Relu", OpType::kRelu},
        {"Sigmoid", OpType::kSigmoid},
        {"Softmax", OpType::kSoftmax},
        {"Identity", OpType::kIdentity}};
    if (auto it = kBinary.find(op); it != kBinary.end()) {
      node->op = it->second;
      if (!(s = expect_inputs(2)).ok()) return s;
      return FloatInputs(n, 0, 2, node);
    }
    if (auto it = kUnary.find(op); it != kUnary.end()) {
      node->op = it->second;
      if (!(s = expect_inputs(1)).ok()) return s;
      return FloatInputs(n, 0, 1, node);
    }
    if (op == "MaxPool") {
      node->op = OpType::kMaxPool;
      PoolParams& p = node->pool;
      int dh, dw, pads[4];
      s = ParseWindowAttrs(a, true, &p.padding, &p.stride_h, &p.stride_w, &dh, &dw, &p.kernel_h,
                           &p.kernel_w, pads);
      if (!s.ok()) return s;
      p.pad_top = pads[0];
      p.pad_bottom = pads[1];
      p.pad_left = pads[2];
      p.pad_right = pads[3];
      if (!(s = expect_inputs(1)).ok()) return s;
      return FloatInputs(n, 0, 1, node);
    }
    if (op == "Pad") {
      node->op = OpType::kPad;
      if (!(s = expect_inputs(2)).ok()) return s;
      const Tensor* p;
      if (!(s = ConstInt(n, n.inputs[1], &p)).ok()) return s;
      if (p->shape.size() != 2 || p->shape[1] != 2)
        return a.Fail("paddings must have shape [rank,2], got " + ShapeToString(p->shape));
      for (int64_t r = 0; r < p->shape[0]; ++r) {
        int32_t b = p->i32[2 * r], e = p->i32[2 * r + 1];
        if (b < 0 || e < 0 || b > 65536 || e > 65536)
          return a.Fail("paddings must be in [0, 65536]");
        node->pad_before.push_back(b);
        node->pad_after.push_back(e);
      }
      return FloatInputs(n, 0, 1, node);
    }
    if (op == "Reshape") {
      node->op = OpType::kReshape;
      if (!(s = expect_inputs(2)).ok()) return s;
      const Tensor* p;
      if (!(s = ConstInt(n, n.inputs[1], &p)).ok()) return s;
      if (p->shape.size() > 1) return a.Fail("shape input must be 1-D");
      if (p->i32.size() > static_cast<size_t>(kMaxRank)) return a.Fail("target rank too large");
      for (int32_t d : p->i32) node->new_shape.push_back(d);
      return FloatInputs(n, 0, 1, node);
    }
    if (op == "Mean") {
      node->op = OpType::kMean;
      if (!(s = expect_inputs(2)).ok()) return s;
      if (!(s = a.Bool("keep_dims", &node->keep_dims, false)).ok()) return s;
      const Tensor* p;
      if (!(s = ConstInt(n, n.inputs[1], &p)).ok()) return s;
      if (p->shape.size() > 1) return a.Fail("axes must be a scalar or 1-D");
      if (p->i32.size() > static_cast<size_t>(kMaxRank)) return a.Fail("too many axes");
      for (int32_t d : p->i32) node->axes.push_back(d);  // normalised after shape inference
      return FloatInputs(n, 0, 1, node);
    }
    if (op == "ConcatV2") {
      node->op = OpType::kConcat;
      if (ni < 2) return a.Fail("expected at least 2 inputs");
      int64_t count = static_cast<int64_t>(ni) - 1;
      if (a.Has("N")) {
        if (!(s = a.Int("N", &count)).ok()) return s;
        if (count != static_cast<int64_t>(ni) - 1)
          return a.Fail("attribute N=" + std::to_string(count) + " but " + std::to_string(ni - 1) +
                        " data inputs");
      }
      const Tensor* p;
      if (!(s = ConstInt(n, n.inputs[ni - 1], &p)).ok()) return s;
      if (p->i32.size() != 1) return a.Fail("axis must be a scalar");
      node->axis = p->i32[0];
      return FloatInputs(n, 0, ni - 1, node);
    }
    return a.Fail("unknown op '" + op + "'");
  }
};

Status ParseDeclaredShape(const Context& ctx, const Json* shape_proto, const std::string& what,
                          Shape* out) {
  // TensorShapeProto JSON: {"dim": [{"size": "-1"}, ...]} or {"unknownRank": true}.
  if (!shape_proto || !shape_proto->is_object()) return ctx.Fail(what + ": no declared shape");
  const Json* dims = Get(*shape_proto, "dim");
  if (!dims || !dims->is_array()) return ctx.Fail(what + ": declared shape has unknown rank");
  if (dims->size() > static_cast<size_t>(kMaxRank)) return ctx.Fail(what + ": rank too large");
  out->clear();
  for (const Json& d : *dims) {
    const Json* size = Get(d, "size");
    int64_t v;
    if (!size || !JsonToInt64(*size, &v) || v < -1 || v > (int64_t{1} << 24))
      return ctx.Fail(what + ": bad dimension in declared shape");
    out->push_back(v);
  }
  return Status::Ok();
}

std::string StripOutputIndex(std::string s) {
  size_t colon = s.rfind(':');
  if (colon != std::string::npos && s.substr(colon + 1) == "0") s.resize(colon);
  return s;
}

Result<Model> Load(const Context& ctx, std::string_view json_text, const ShardSource& shards) {
  Json root = Json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return ctx.Fail("malformed JSON");
  if (!root.is_object()) return ctx.Fail("top level is not a JSON object");
  if (const Json* fmt = Get(root, "format")) {
    if (!fmt->is_string() || fmt->get_ref<const std::string&>() != "graph-model")
      return ctx.Fail("format is not 'graph-model'");
  }
  const Json* topo = Get(root, "modelTopology");
  if (!topo || !topo->is_object()) return ctx.Fail("'modelTopology' is missing or not an object");
  const Json* jnodes = Get(*topo, "node");
  if (!jnodes || !jnodes->is_array()) return ctx.Fail("modelTopology has no 'node' array");
  if (const Json* lib = Get(*topo, "library")) {
    const Json* fn = Get(*lib, "function");
    if (fn && fn->is_array() && !fn->empty())
      return ctx.Fail("models with functions (control flow) are not supported");
  }

  // 1. Manifest and shard bytes (sizes checked before reading anything).
  std::vector<Group> groups;
  std::vector<WeightSpec> specs;
  Status s = ReadManifest(ctx, root, &groups, &specs);
  if (!s.ok()) return s;
  std::vector<std::string> group_bytes(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    uint64_t total = 0;
    std::vector<uint64_t> sizes;
    for (const std::string& p : groups[g].paths) {
      std::optional<uint64_t> sz = shards.Size(p);
      if (!sz) return ctx.Fail("weight shard '" + p + "' is missing or unreadable");
      sizes.push_back(*sz);
      total += *sz;
    }
    if (total < groups[g].required)
      return ctx.Fail("weight shards of weightsManifest[" + std::to_string(g) + "] (" +
                      (groups[g].paths.empty() ? std::string("none") : groups[g].paths[0]) +
                      ") hold " + std::to_string(total) + " bytes but the manifest needs " +
                      std::to_string(groups[g].required) + " (truncated .bin?)");
    group_bytes[g].reserve(total);
    for (size_t i = 0; i < groups[g].paths.size(); ++i)
      if (!shards.Append(groups[g].paths[i], sizes[i], &group_bytes[g]))
        return ctx.Fail("weight shard '" + groups[g].paths[i] + "' could not be read completely");
  }

  Builder b{ctx, Model{}, {}, {}};
  b.model.path = ctx.file;
  for (const WeightSpec& w : specs) {
    if (b.weight_by_name.count(w.name)) return ctx.Fail("weight '" + w.name + "' listed twice");
    b.weight_by_name[w.name] = &w;
  }

  // 2. Raw nodes, one tensor per node.
  std::vector<RawNode> raw;
  raw.reserve(jnodes->size());
  for (const Json& jn : *jnodes) {
    RawNode r;
    const Json* name = Get(jn, "name");
    const Json* op = Get(jn, "op");
    if (!name || !name->is_string() || name->get_ref<const std::string&>().empty())
      return ctx.Fail("a node has no name");
    r.name = name->get<std::string>();
    if (!op || !op->is_string()) return ctx.Fail("node '" + r.name + "' has no op");
    r.op = op->get<std::string>();
    if (const Json* attr = Get(jn, "attr")) {
      if (!attr->is_object()) return ctx.NodeFail(r.name, r.op, "'attr' is not an object");
      r.attr = attr;
    }
    if (const Json* ins = Get(jn, "input")) {
      if (!ins->is_array()) return ctx.NodeFail(r.name, r.op, "'input' is not an array");
      for (const Json& in : *ins) {
        if (!in.is_string()) return ctx.NodeFail(r.name, r.op, "an input is not a string");
        std::string nm;
        bool control;
        if (!(s = ParseInputName(ctx, r, in.get<std::string>(), &nm, &control)).ok()) return s;
        if (!control) r.inputs.push_back(std::move(nm));
      }
    }
    if (b.tensor_index.count(r.name)) return ctx.NodeFail(r.name, r.op, "duplicate node name");
    b.tensor_index[r.name] = static_cast<int>(b.model.tensors.size());
    Tensor t;
    t.name = r.name;
    b.model.tensors.push_back(std::move(t));
    raw.push_back(std::move(r));
  }

  // 3. Constants and placeholders.
  std::vector<int> placeholders;
  std::vector<Shape> placeholder_shapes(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    const RawNode& r = raw[i];
    Tensor& t = b.model.tensors[i];
    if (r.op == "Const") {
      auto it = b.weight_by_name.find(r.name);
      if (it == b.weight_by_name.end())
        return ctx.NodeFail(r.name, r.op, "no weight of that name in weightsManifest");
      const WeightSpec& w = *it->second;
      t.dtype = w.dtype;
      t.shape = w.shape;
      t.is_constant = true;
      DecodeWeight(
          w, reinterpret_cast<const unsigned char*>(group_bytes[w.group].data()) + w.offset, &t);
    } else if (r.op == "Placeholder") {
      Attrs a(ctx, r.name, r.op, r.attr);
      if (!(s = a.RequireFloat("dtype")).ok()) return s;
      const Json* shp = r.attr ? Get(*r.attr, "shape") : nullptr;
      if (shp) shp = Get(*shp, "shape");
      Shape declared;
      if (shp && (s = ParseDeclaredShape(ctx, shp, "input '" + r.name + "'", &declared)).ok()) {
        placeholder_shapes[i] = declared;
      } else if (shp && !s.ok()) {
        return s;
      }
      placeholders.push_back(static_cast<int>(i));
    }
  }
  for (auto& g : group_bytes) std::string().swap(g);  // weights decoded: free the raw bytes

  // 4. Compute nodes, then execution order (inputs before consumers; cycles rejected).
  std::vector<Node> built(raw.size());
  std::vector<bool> is_compute(raw.size(), false);
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i].op == "Const" || raw[i].op == "Placeholder") continue;
    if (!(s = b.BuildNode(raw[i], &built[i])).ok()) return s;
    built[i].output = static_cast<int>(i);
    is_compute[i] = true;
  }
  {
    std::vector<int> state(raw.size(), 0);  // 0 new, 1 on stack, 2 done
    std::vector<std::pair<int, size_t>> stack;
    for (size_t root_i = 0; root_i < raw.size(); ++root_i) {
      if (!is_compute[root_i] || state[root_i]) continue;
      stack.push_back({static_cast<int>(root_i), 0});
      state[root_i] = 1;
      while (!stack.empty()) {
        auto& [n, k] = stack.back();
        // Walk every raw input (int32 constants included) so cycles through them are seen.
        const std::vector<std::string>& ins = raw[n].inputs;
        if (k < ins.size()) {
          int dep = b.tensor_index.at(ins[k++]);  // resolved in BuildNode already
          if (!is_compute[dep] || state[dep] == 2) continue;
          if (state[dep] == 1)
            return ctx.NodeFail(raw[dep].name, raw[dep].op, "graph has a cycle through this node");
          state[dep] = 1;
          stack.push_back({dep, 0});
        } else {
          state[n] = 2;
          b.model.nodes.push_back(std::move(built[n]));
          stack.pop_back();
        }
      }
    }
  }

  // 5. Graph inputs and outputs.
  // The signature: top level, or (older converters, e.g. blazeface) in userDefinedMetadata.
  // TF.js orders model.outputs by it, so Model::outputs follows the same order.
  const Json* sig = Get(root, "signature");
  if (!sig || !sig->is_object()) {
    const Json* udm = Get(root, "userDefinedMetadata");
    sig = udm ? Get(*udm, "signature") : nullptr;
  }
  const Json* sig_in = sig ? Get(*sig, "inputs") : nullptr;
  const Json* sig_out = sig ? Get(*sig, "outputs") : nullptr;
  auto from_signature = [&](const Json* block, bool inputs, std::vector<IoSpec>* out) -> Status {
    if (!block->is_object()) return ctx.Fail("signature block is not an object");
    for (auto it = block->begin(); it != block->end(); ++it) {
      IoSpec io;
      io.alias = StripOutputIndex(it.key());  // keys may be "Identity:0"
      const Json* nm = Get(it.value(), "name");
      if (!nm || !nm->is_string())
        return ctx.Fail("signature entry '" + io.alias + "' has no name");
      io.name = StripOutputIndex(nm->get<std::string>());
      auto ti = b.tensor_index.find(io.name);
      if (ti == b.tensor_index.end())
        return ctx.Fail("signature entry '" + io.alias + "' names unknown tensor '" + io.name +
                        "'");
      io.tensor = ti->second;
      if (inputs) {
        if (raw[io.tensor].op != "Placeholder")
          return ctx.Fail("signature input '" + io.alias + "' is not a Placeholder");
        Shape declared;
        s = ParseDeclaredShape(ctx, Get(it.value(), "tensorShape"), "input '" + io.name + "'",
                               &declared);
        if (!s.ok()) {
          if (placeholder_shapes[io.tensor].empty()) return s;
          declared = placeholder_shapes[io.tensor];
        }
        io.shape = declared;
      }
      out->push_back(std::move(io));
    }
    return Status::Ok();
  };
  if (sig_in) {
    if (!(s = from_signature(sig_in, true, &b.model.inputs)).ok()) return s;
  } else {
    for (int p : placeholders) {
      IoSpec io;
      io.name = io.alias = raw[p].name;
      io.tensor = p;
      if (raw[p].attr == nullptr || placeholder_shapes[p].empty()) {
        // A scalar placeholder is legal TF, but our models never have one.
        const Json* shp = raw[p].attr ? Get(*raw[p].attr, "shape") : nullptr;
        if (!shp) return ctx.NodeFail(raw[p].name, raw[p].op, "missing attribute 'shape'");
      }
      io.shape = placeholder_shapes[p];
      b.model.inputs.push_back(std::move(io));
    }
  }
  if (sig_out) {
    if (!(s = from_signature(sig_out, false, &b.model.outputs)).ok()) return s;
  } else {
    std::vector<bool> consumed(raw.size(), false);
    for (const RawNode& r : raw)
      for (const std::string& in : r.inputs)
        if (auto it = b.tensor_index.find(in); it != b.tensor_index.end())
          consumed[it->second] = true;
    bool any_identity = false;
    for (size_t i = 0; i < raw.size(); ++i)
      if (is_compute[i] && !consumed[i] && raw[i].op == "Identity") any_identity = true;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (!is_compute[i] || consumed[i]) continue;
      if (any_identity && raw[i].op != "Identity") continue;
      IoSpec io;
      io.name = io.alias = raw[i].name;
      io.tensor = static_cast<int>(i);
      b.model.outputs.push_back(std::move(io));
    }
  }
  if (b.model.inputs.empty()) return ctx.Fail("model has no inputs");
  if (b.model.outputs.empty()) return ctx.Fail("model has no outputs");

  // 6. Shapes at batch 1: checks every weight against its consumer.
  std::vector<Shape> shapes;
  if (!(s = InferShapes(b.model, NativeInputShapes(b.model, 1), &shapes)).ok()) return s;
  for (size_t t = 0; t < shapes.size(); ++t)
    if (!b.model.tensors[t].is_constant) b.model.tensors[t].shape = shapes[t];
  for (Node& n : b.model.nodes) {
    int rank = static_cast<int>(shapes[n.inputs[0]].size());
    if (n.op == OpType::kMean) {
      for (int& ax : n.axes) ax = ax < 0 ? ax + rank : ax;  // range checked by InferShapes
      std::sort(n.axes.begin(), n.axes.end());
      n.axes.erase(std::unique(n.axes.begin(), n.axes.end()), n.axes.end());
    } else if (n.op == OpType::kConcat) {
      n.axis = n.axis < 0 ? n.axis + rank : n.axis;
    }
  }
  return std::move(b.model);
}

}  // namespace

Result<Model> LoadModelFromMemory(std::string_view json, std::string_view label,
                                  const ShardMap& shards) {
  Context ctx{std::string(label)};
  try {
    MemoryShards src(shards);
    return Load(ctx, json, src);
  } catch (const std::exception& e) {
    return ctx.Fail(std::string("internal error while loading: ") + e.what());
  }
}

Result<Model> LoadModel(const std::string& path) {
  Context ctx{path};
  try {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return ctx.Fail("cannot open model file");
    uint64_t size = std::filesystem::file_size(path, ec);
    if (ec) return ctx.Fail("cannot read model file size");
    if (size > (uint64_t{256} << 20)) return ctx.Fail("model.json larger than 256 MiB");
    std::string text(size, '\0');
    std::ifstream f(path, std::ios::binary);
    if (!f || !f.read(text.data(), static_cast<std::streamsize>(size)))
      return ctx.Fail("cannot read model file");
    FileShards src(std::filesystem::path(path).parent_path());
    return Load(ctx, text, src);
  } catch (const std::exception& e) {
    return ctx.Fail(std::string("internal error while loading: ") + e.what());
  }
}

}  // namespace fg::nn
