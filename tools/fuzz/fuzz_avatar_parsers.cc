// libFuzzer target: the avatar's text and file parsers. The first byte picks the parser,
// the rest is its input:
//   0  instruction text   -> ParseInstruction -> WeightCurve::Evaluate
//   1  timeline JSON      -> Timeline::Parse  -> Timeline::Evaluate
//   2  canonical face     -> ParseCanonicalFace (the protobuf wire reader)
//   3  response basis     -> ParseResponseBasis (.fgrb, avatar-calibrate's file) ->
//                            MirrorSolver::SetResponseBasis
// Besides crashes and sanitizer reports, a result that breaks the parser's promise aborts:
// an accepted instruction or timeline whose weights leave [0, 1] or are not finite, keyframe
// times out of order, a parse error whose column is outside the text, a canonical face with
// a triangle index out of range or a non-finite vertex, a response basis whose names and
// delta sets differ in number. Those are the "silent wrong numbers" a parser must not let
// through.
//
// The instruction and timeline parsers need the blendshape basis: it is built once from the
// canonical face in the model cache ($FACEGRAPH_MODELS, else the build's default folder).
//
// Build and run: see tools/fuzz/CMakeLists.txt and tools/fuzz/run (seeds: the checked-in
// texts in corpus_avatar_parsers plus, made at run time, the cached canonical face and a
// response basis written by SaveResponseBasis).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/avatar/blendshapes.h"
#include "engine/avatar/curve.h"
#include "engine/avatar/instruction.h"
#include "engine/avatar/mirror.h"
#include "engine/avatar/timeline.h"
#include "engine/geometry/canonical_face.h"

namespace {

struct Env {
  fg::CanonicalFace face;
  std::unique_ptr<fg::BlendshapeBasis> basis;
  std::unique_ptr<fg::MirrorSolver> mirror;
};

const Env& Shared() {
  static const Env* env = [] {
    const char* dir = std::getenv("FACEGRAPH_MODELS");
    const std::string path =
        std::string(dir ? dir : FG_MODELS_DEFAULT_DIR) + "/" + fg::kCanonicalFaceFile;
    std::string err;
    auto face = fg::LoadCanonicalFace(path, &err);
    if (!face) {
      std::fprintf(stderr, "fuzz_avatar_parsers: %s (run tools/fetch-models)\n", err.c_str());
      std::abort();
    }
    auto basis = fg::BlendshapeBasis::Create(*face, &err);
    if (!basis) {
      std::fprintf(stderr, "fuzz_avatar_parsers: %s\n", err.c_str());
      std::abort();
    }
    auto* e = new Env;
    e->face = std::move(*face);
    e->basis = std::make_unique<fg::BlendshapeBasis>(std::move(*basis));
    e->mirror = std::make_unique<fg::MirrorSolver>(e->face, *e->basis);
    return e;
  }();
  return *env;
}

void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz_avatar_parsers: broken promise: %s\n", what);
  std::abort();
}

bool InUnit(float w) { return std::isfinite(w) && w >= 0.0f && w <= 1.0f; }

void Instruction(std::string_view text) {
  const Env& env = Shared();
  const fg::InstructionResult r = fg::ParseInstruction(text, *env.basis);
  if (!r.ok()) {
    Check(r.keyframes.empty(), "keyframes returned with an error");
    Check(r.error->column >= 0 && r.error->column <= static_cast<int>(text.size()) + 1,
          "error column outside the text");
    (void)fg::FormatInstructionError(*r.error);
    return;
  }
  double last = -1e300;
  for (const fg::Keyframe& k : r.keyframes) {
    Check(std::isfinite(k.t) && k.t >= last, "keyframe times not finite and ordered");
    last = k.t;
    Check(k.weights.size() == static_cast<size_t>(env.basis->size()), "keyframe size");
    for (float w : k.weights) Check(InUnit(w), "keyframe weight outside [0, 1]");
  }
  const fg::WeightCurve curve(r.keyframes);
  std::vector<float> w(env.basis->size()), v(env.basis->size());
  const double span = curve.end() - curve.start();
  for (double f : {-0.5, 0.0, 0.13, 0.5, 0.77, 1.0, 1.5}) {
    curve.Evaluate(curve.start() + f * span, w, v);
    for (size_t i = 0; i < w.size(); ++i) {
      Check(w[i] >= -1e-5f && w[i] <= 1.0f + 1e-5f, "curve weight outside [0, 1]");
      Check(std::isfinite(v[i]), "curve velocity not finite");
    }
  }
}

void TimelineJson(std::string_view json) {
  const Env& env = Shared();
  std::string err;
  const auto tl = fg::Timeline::Parse(json, *env.basis, &err);
  if (!tl) {
    Check(!err.empty(), "timeline refused without a message");
    return;
  }
  for (const fg::TimelineEntry& e : tl->entries()) {
    Check(std::isfinite(e.start) && std::isfinite(e.end) && e.start <= e.end,
          "timeline entry times");
    Check(InUnit(e.intensity), "timeline intensity outside [0, 1]");
    Check(std::isfinite(e.ease) && e.ease >= 0, "timeline ease");
  }
  std::vector<float> w(env.basis->size());
  for (double t : {-1.0, 0.0, 0.1, 0.5 * tl->end(), tl->end(), tl->end() + 1.0}) {
    tl->Evaluate(t, w);
    for (float x : w) Check(InUnit(x), "timeline weight outside [0, 1]");
  }
}

void Face(std::string_view bytes) {
  std::string err;
  const auto face = fg::ParseCanonicalFace(bytes, "fuzz.binarypb", &err);
  if (!face) {
    Check(!err.empty(), "canonical face refused without a message");
    return;
  }
  for (const auto& v : face->vertices)
    Check(std::isfinite(v[0]) && std::isfinite(v[1]) && std::isfinite(v[2]),
          "non-finite canonical vertex");
  Check(face->uvs.empty() || face->uvs.size() == face->vertices.size(), "uv count");
  for (const auto& t : face->triangles)
    for (int i : t)
      Check(i >= 0 && static_cast<size_t>(i) < face->vertices.size(), "triangle index");
  for (const auto& b : face->procrustes_basis)
    Check(b.landmark >= 0 && static_cast<size_t>(b.landmark) < face->vertices.size() &&
              std::isfinite(b.weight),
          "procrustes landmark");
}

void Response(std::string_view bytes) {
  std::string err;
  const auto r = fg::ParseResponseBasis(bytes, "fuzz.fgrb", &err);
  if (!r) {
    Check(!err.empty(), "response basis refused without a message");
    return;
  }
  Check(r->names.size() == r->deltas.size(), "names and delta sets differ in number");
  for (const auto& d : r->deltas) Check(d.size() == 468, "delta set size");
  // The solver takes it or refuses it with a message; never a crash.
  fg::MirrorSolver solver(Shared().face, *Shared().basis);
  if (!solver.SetResponseBasis(*r, &err)) Check(!err.empty(), "solver refusal without a message");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: Instruction(rest); break;
    case 1: TimelineJson(rest); break;
    case 2: Face(rest); break;
    case 3: Response(rest); break;
  }
  return 0;
}
