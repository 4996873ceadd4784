// The avatar's expression basis: morph targets on the MediaPipe canonical face (468
// vertices, engine/geometry/canonical_face.h) named after Apple ARKit's blendshape set, and
// the seven cardinal expressions as weight vectors over them after Ekman's FACS prototypes.
//
// Units and sides. Deltas are per-vertex offsets in canonical centimetres (+x towards the
// subject's left, i.e. the viewer's right; +y up; +z towards the viewer). ARKit's "Left" is
// the SUBJECT's left (+x): eyeBlinkLeft closes the eye around landmarks 263/362/386/374,
// the one on the image's right in an unmirrored frame. Every Left target is built on the
// +x side and its Right twin is its exact mirror image (x -> -x, vertex -> its mirror
// vertex, found once by nearest mirrored position), so the pair is symmetric by
// construction.
//
// Deformations. Each target is a smooth displacement field over the mesh: a displacement
// vector at a centre, scaled by the C1 bump b(r) = (1 - r^2)^2 for r < 1 (0 beyond), where r
// is the distance to the centre over a radius (in the x-y plane unless said otherwise),
// sometimes gated by a smoothstep S on height. Anchors are FaceMesh landmarks on the
// canonical mesh: eyes (outer/inner corner, upper/lower lid middle) 263/362/386/374 (L) and
// 33/133/159/145 (R); brows 300 (outer) 334 (middle) 336 (inner) L, 70/105/107 R; lips
// 13/14 (inner upper/lower middle), 0/17 (outer), corners 291 (L) / 61 (R); chin 152; nose
// wings 327 (L) / 98 (R). "gap" = the eye's lid gap, 386.y - 374.y, shaped over the eye as
// gap(u) = gap * max(0, 1 - u^2), u = (x - eye centre x) / half eye width.
//
//   eyeBlink{L,R}      upper lid band (vertices above the eye's centre line within 1.25 half
//                      widths) moves down by 0.85 gap(u), fading upward over 1.2 cm (towards
//                      the brow); the lower lid rises by 0.15 gap(u), fading downward over
//                      0.6 cm: the lids meet.
//   eyeSquint{L,R}     lower lid rises 0.45 gap(u) (fading down over 1.4 cm: the lower
//                      lid's cushion), upper lid lowers 0.1 gap(u).
//   eyeWide{L,R}       upper lid band rises 0.6 gap(u), fading upward over 2.2 cm (the
//                      skin up to the brow follows the raised lid).
//   browDown{L,R}      brow centred between 334 and 336: down 0.7 cm at the inner end
//                      (336), tapering outward (0.47 cm at the middle, 334; the outer
//                      end 300 lies beyond the radius and stays): the brows slant down
//                      towards the nose; 0.4 cm towards
//                      the midline (the corrugator draws the brows together), flat within
//                      0.6 of its 2.4 cm radius (334 and 336 get the full amount); it drags the skin above the lid fold with
//                      it (S((y - (386.y + 0.1)) / 0.9): the eye is hooded from above, the
//                      lid margin itself stays).
//   browInnerUp        both inner brows (107, 336): up 0.85 cm, radius 1.9 cm across,
//                      stretched to 2.8 cm above the brow (the lower forehead moves with
//                      it, fading towards the hairline), flat within 0.45 of that, gated
//                      ("gated" = times S((y - (386.y + 0.5)) / 0.8): nothing at the
//                      eyelids, full from 1.3 cm above the lid up).
//   browOuterUp{L,R}   outer brow (between 300 and 334): up 0.8 cm, radius 2.1 cm across,
//                      2.8 cm above, flat within 0.45 (334 and 300 get the full amount),
//                      gated.
//   cheekSquint{L,R}   cheek below the eye (1.8 cm below the eye centre): up 0.5 cm and
//                      forward 0.1 cm, flat within 0.3 of its 2.2 cm radius, fading out over
//                      the lower lid's cushion (the lids are eyeSquint's); the outer brow
//                      (300) is drawn down 0.15 cm (radius 1.6 cm, gated).
//   cheekPuff          both cheeks (centres (+-3.9, -2.3) cm, beside and above the mouth
//                      corners): outward 0.45 cm, forward 0.15 cm, radius 2.2 cm.
//   noseSneer{L,R}     nose wing and the side of the nose (centre 0.2 cm above 327, flat
//                      within 0.36 cm): up 0.45 cm, radius 1.8 cm; this side's half of the
//                      skin between the brows down 0.2 cm (radius 1.5 cm); the upper lip
//                      beside the philtrum up 0.2 cm (radius 1.3 cm, above the lip line).
//   jawOpen            the lower face rotates 14 degrees about a horizontal axis through
//                      (0, 0, -2) (near the jaw joints): weight 1 below the inner lip line
//                      (y of 13/14 mid), 0 above, with a transition band that is sharp
//                      between the lips and widens to 2.5 cm at the jaw's sides.
//   mouthClose         lips meet against an open jaw: the lower lip up 0.45 cm, the upper
//                      lip down 0.1 cm (full within 0.6 cm of the lip line, fading to 0 at
//                      1.4 cm; full for |x| <= 1.8 cm, fading to 0 at 3.0 cm).
//   mouthFunnel        lips (ellipse 3.0 x 1.6 cm about the mouth centre, flat inside 0.75
//                      of it) forward 0.45 cm, corners in by 0.2 cm, lip lines flare apart
//                      0.2 cm each.
//   mouthPucker        lips forward 0.35 cm, corners in 0.6 cm (ellipse 3.2 x 1.8 cm),
//                      no opening.
//   mouth{Left,Right}  mouth (radius 3.2 cm about the mouth centre) sideways 0.5 cm
//                      towards the subject's left / right.
//   mouthSmile{L,R}    corner 291/61: out 0.66, up 0.71, back 0.2 cm, radius 2.8 cm (flat
//                      within 0.15 of it; the cheek beside the corner rises with it).
//   mouthFrown{L,R}    corner: down 0.5 cm, out 0.1 cm, radius 2.2 cm (flat within 0.15).
//   mouthDimple{L,R}   corner: back 0.35 cm, out 0.15 cm, radius 1.6 cm.
//   mouthStretch{L,R}  corner and the lower lip's side: out 0.6 cm, down 0.2 cm, radius
//                      2.7 cm centred 0.3 cm below the corner (flat within 0.15).
//   mouthPress{L,R}    lips on that side (window 0..2.8 cm from the midline) squeeze
//                      towards the lip line by 0.25 cm each and back by 0.12 cm, within
//                      1.1 cm of it.
//   mouthUpperUp{L,R}  upper lip on that side (centre 1.2 cm out, 0.55 cm above the lip
//                      line): up 0.45 cm, radius 1.8 cm, only above the lip line.
//   mouthLowerDown{L,R} lower lip on that side (1.2 cm out, 0.6 cm below the line): down
//                      0.5 cm, radius 1.8 cm, only below the lip line.
//   mouthShrugLower    chin boss and lower lip (centre 2.2 cm below the lip line): up
//                      0.3 cm and forward 0.15 cm, radius 2.2 cm, only below the lip line.
//
// Amplitudes (issue 15: expressions a person can see on a real photo). Each AU's amount at
// full intensity, on the canonical face (whose proportions are an adult's: mouth 4.9 cm
// wide, brow 2 cm above the upper lid, 17.7 cm forehead top to chin):
//   AU1/AU2  brow raise 0.85 / 0.8 cm: maximal frontalis excursion of the mid-brow,
//            7.6-9.0 mm in 81 normal subjects (Cruz & Cruz 2004, Arq Bras Oftalmol
//            67:237); ~10 mm is the clinical norm for frontalis action. The lower forehead
//            moves up with the brow, the upper part much less (Cotofana et al., "The
//            bidirectional movement of the frontalis muscle", Plast
//            Reconstr Surg: the forehead's skin moves up below a line at ~60% of its
//            height): hence the 2.8 cm upward reach.
//   AU4      inner brow down 0.7 cm (middle 0.47 cm), in 0.4 cm: about four fifths
//            of the raise at the inner end; no measured figure at hand, chosen so that the
//            inner brows visibly meet, slant and hood the eye (FACS: AU4 lowers the brow,
//            mostly its inner portion, and draws the brows together; the depressors' range
//            is smaller than the frontalis's).
//   AU5      upper lid up 0.6 of the 0.67 cm lid gap (0.4 cm: sclera shows above the iris).
//   AU6      cheek up 0.5 cm, outer brow down 0.15 cm (chosen: a visible cheek lift); the
//            eye narrows from below through eyeSquint 0.5 (the lower lid up 0.15 cm, half
//            of AU7's 0.3 cm).
//   AU7      lower lid up 0.45 gap (0.3 cm).
//   AU9      nose wing up 0.45 cm (chosen), the glabella down 0.2 cm, the upper lip 0.2 cm.
//   AU12     corner out 0.66 cm, up 0.71 cm: smiles widen the mouth by 27% with the
//            corners moving up-and-out at ~47 degrees (Van der Geld et al. 2005, Am J
//            Orthod Dentofacial Orthop 128:8-15): 27% of 4.9 cm is 1.32 cm, 0.66 cm per
//            corner, and tan(47) x 0.66 = 0.71 cm up.
//   AU15     corner down 0.5 cm (chosen: half the AU12 excursion), AU16 lower lip 0.5 cm,
//   AU20     corner out 0.6 cm (about the smile's widening without its lift).
//   AU26     jawOpen 0.7: 9.8 degrees, the lower lip 1.2 cm down (AU26 spans lips parted to
//            about half of a full opening; the chin 0.85 cm down and forward; AU27 =
//            jawOpen 1, 14 degrees, the lower lip 1.65 cm).
// tests/avatar/facs_amplitude_test asserts each of these at its landmark, alone and in
// each prototype.
//
// FACS. Action units (AU) map to blendshapes as follows (the usual ARKit <-> FACS
// correspondence; L/R pairs both at the AU's weight):
//   AU1  inner brow raiser   -> browInnerUp
//   AU2  outer brow raiser   -> browOuterUpLeft/Right
//   AU4  brow lowerer        -> browDownLeft/Right
//   AU5  upper lid raiser    -> eyeWideLeft/Right
//   AU6  cheek raiser        -> cheekSquintLeft/Right, eyeSquintLeft/Right 0.5
//   AU7  lid tightener       -> eyeSquintLeft/Right
//   AU9  nose wrinkler       -> noseSneerLeft/Right
//   AU10 upper lip raiser    -> mouthUpperUpLeft/Right
//   AU12 lip corner puller   -> mouthSmileLeft/Right
//   AU14 dimpler             -> mouthDimpleLeft/Right
//   AU15 lip corner depressor-> mouthFrownLeft/Right
//   AU16 lower lip depressor -> mouthLowerDownLeft/Right
//   AU17 chin raiser         -> mouthShrugLower
//   AU18 lip pucker          -> mouthPucker
//   AU20 lip stretcher       -> mouthStretchLeft/Right
//   AU22 lip funneler        -> mouthFunnel
//   AU23 lip tightener       -> mouthPressLeft/Right
//   AU24 lip pressor         -> mouthPressLeft/Right
//   AU26 jaw drop            -> jawOpen 0.7   (AU27 mouth stretch = jawOpen 1)
//   AU43 eyes closed         -> eyeBlinkLeft/Right
// Cardinal expressions (Ekman & Friesen's prototypes; every AU at 1 unless said):
//   neutral   no AU                          (all weights 0)
//   happy     AU6 + AU12
//   sad       AU1 + AU4 + AU15
//   surprise  AU1 + AU2 + AU5 + AU26
//   fear      AU1 + AU2 + AU4 + AU5 + AU7 + AU20 + AU26
//   anger     AU4 + AU5 + AU7 + AU23
//   disgust   AU9 + AU15 + AU16
//
// Threading: immutable after Create; share one instance between threads.
//
// Example:
//   auto basis = fg::BlendshapeBasis::Create(canonical, &err);
//   std::vector<float> w(basis->size(), 0.f);
//   w[basis->Index("jawOpen")] = 0.5f;
//   std::vector<std::array<float, 3>> mesh(basis->vertex_count());
//   basis->Apply(w, mesh);
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/geometry/canonical_face.h"

namespace fg {

class BlendshapeBasis {
 public:
  // Builds every target on `face` (needs the 468-vertex canonical mesh); nullopt and *err
  // when the mesh is not that topology.
  static std::optional<BlendshapeBasis> Create(const CanonicalFace& face, std::string* err);

  // ARKit names, in basis order (Left before Right).
  const std::vector<std::string>& names() const { return names_; }
  int size() const { return static_cast<int>(names_.size()); }
  int vertex_count() const { return static_cast<int>(neutral_.size()); }
  // Index of a name (exact, case-sensitive ARKit spelling); -1 when unknown.
  int Index(std::string_view name) const;
  // The target's per-vertex offsets (vertex_count() entries, canonical cm).
  const std::vector<std::array<float, 3>>& Delta(int target) const { return deltas_[target]; }
  // The neutral mesh (the canonical vertices).
  const std::vector<std::array<float, 3>>& neutral() const { return neutral_; }
  // The L/R counterpart of a target (itself for unpaired ones, e.g. jawOpen).
  int MirrorTarget(int target) const { return mirror_target_[target]; }
  // The vertex mirrored across the face's midline (x -> -x); itself on the midline.
  int MirrorVertex(int vertex) const { return mirror_vertex_[vertex]; }

  // out = neutral + sum_i weights[i] * Delta(i). weights may be shorter than size() (the
  // rest count as 0); out must have vertex_count() entries (else nothing is written).
  void Apply(std::span<const float> weights, std::span<std::array<float, 3>> out) const;

 private:
  std::vector<std::string> names_;
  std::vector<std::array<float, 3>> neutral_;
  std::vector<std::vector<std::array<float, 3>>> deltas_;
  std::vector<int> mirror_target_, mirror_vertex_;
};

// A named expression as blendshape weights (ARKit names, 0..1).
struct Expression {
  std::string name;
  std::vector<std::pair<std::string, float>> weights;
};

// neutral, happy, sad, surprise, fear, anger, disgust (that order), built from the AU table
// above.
const std::vector<Expression>& CardinalExpressions();
// One action unit and the blendshapes it drives.
struct ActionUnit {
  int au;
  std::string name;
  std::vector<std::pair<std::string, float>> blendshapes;
};
const std::vector<ActionUnit>& ActionUnitTable();
// The cardinal expression by its canonical name ("happy", ...); nullptr when unknown.
const Expression* FindExpression(std::string_view name);
// The expression's weights times `intensity`, in basis order (size() entries; names the
// basis lacks are skipped).
std::vector<float> ExpressionWeights(const Expression& e, const BlendshapeBasis& basis,
                                     float intensity = 1.0f);

}  // namespace fg
