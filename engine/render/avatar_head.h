// The default avatar's head beyond the face mask: hair, ears and a neck, generated once from
// the canonical face's own outline (no artwork), so the canonical face reads as a person's
// head rather than a mask floating on the background.
//
//   hair   a cap over the face oval's upper part (from landmark 127 over the forehead's top
//          10 to 356, the temples): four rings outward and back from the oval, its volume
//          2 cm beyond the oval over the forehead, tapering to 0.6 cm at the temples, closed
//          behind the head. Dark brown.
//   ears   one flat ellipse per side (2.8 cm half-height, 1.3 cm half-width), attached
//          behind the oval at its widest point (234 / 454) and angled 30 degrees outward
//          from the head's side, so a frontal view sees about 1.2 cm of each ear.
//   neck   the front half of an elliptic cylinder below the jaw (6.5 cm half-width under
//          the ears, 5.2 cm lower down), in the skin's shadowed tone (the jaw shades it
//          under light from above); hidden behind the face where the two overlap.
//
// Every hair and ear vertex rides on an oval vertex (its anchor) by a fixed offset, so the
// head follows the morphed face's outline (a raised forehead lifts the hair's front edge
// with it); the neck does not move with the jaw. The parts are drawn after the face with the
// same rotation and camera (depth-tested: the face in front keeps its pixels), lit by the
// same light, untextured.
//
// Threading: MakeAvatarHead is a pure function; DrawAvatarHead writes only `raster` and
// `scratch`. Allocation: MakeAvatarHead allocates the head once; DrawAvatarHead allocates
// nothing (scratch sized by the caller to head.vertex_count()).
//
// Example:
//   const fg::render::AvatarHead head = fg::render::MakeAvatarHead(canonical);
//   std::vector<std::array<float, 3>> scratch(head.vertex_count());
//   raster.Draw({morphed, canonical.triangles, canonical.uvs}, rot, cam, face_mat, light, kLit);
//   fg::render::DrawAvatarHead(raster, head, morphed, scratch, rot, cam, light, kLit);
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Core>

#include "engine/geometry/canonical_face.h"
#include "engine/render/rasterizer.h"

namespace fg::render {

struct AvatarHead {
  struct Part {
    std::vector<std::array<int, 3>> triangles;  // into the head's vertices
    std::array<uint8_t, 3> colour{};
  };
  // Per head vertex: the face vertex it rides on (-1: fixed) and its offset from it (cm;
  // the absolute position when fixed).
  std::vector<int> anchor;
  std::vector<std::array<float, 3>> offset;
  Part hair, ears, neck;
  size_t vertex_count() const { return anchor.size(); }
};

// The face oval of MediaPipe's 468-landmark topology (FACEMESH_FACE_OVAL), clockwise from
// the forehead's top (10) as seen from the front: 10 .. 454 (subject's left) .. 152 (chin)
// .. 234 .. 109.
inline constexpr std::array<int, 36> kFaceOval = {
    10,  338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58,  132, 93,  234, 127, 162, 21,  54,  103, 67,  109};

inline constexpr std::array<uint8_t, 3> kHairColour = {58, 44, 36};
inline constexpr std::array<uint8_t, 3> kEarColour = {214, 162, 140};
inline constexpr std::array<uint8_t, 3> kNeckColour = {186, 146, 122};

// A face without 468 vertices gives an empty head (nothing is drawn).
AvatarHead MakeAvatarHead(const CanonicalFace& face);

// Places the head on `morphed` (the face's vertices as drawn) into `scratch`
// (head.vertex_count() entries; else nothing is drawn) and draws its parts.
void DrawAvatarHead(Rasterizer& raster, const AvatarHead& head,
                    std::span<const std::array<float, 3>> morphed,
                    std::span<std::array<float, 3>> scratch, const Eigen::Matrix3f& rotation,
                    const Camera& camera, const Light& light, Shading shading);

}  // namespace fg::render
