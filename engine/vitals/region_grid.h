// Fixed-region sampling for rPPG without a face mesh: a rectangle of the frame (a skin-patch
// camera, a pre-cropped forehead or cheek video, a lab rig), cut into a grid of cells that
// become the estimator's patches (vitals_estimator.h, PatchLayout).
//
//   frame ─► rect (clipped to the frame; empty = whole frame)
//             ┌────┬────┬────┬────┐   each cell: mean RGB over its pixels (every `step`-th
//             │ TL │ TL │ TR │ TR │   pixel in x and y once the rect is larger than
//             ├────┼────┼────┼────┤   kGridMaxSamples pixels, so a 1080p frame costs what a
//             │ TL │ C  │ C  │ TR │   256x256 one does), weight = pixels averaged
//             ├────┼────┼────┼────┤
//             │ BL │ C  │ C  │ BR │   fusion regions: the four quadrants and the centre
//             ├────┼────┼────┼────┤   (FaceRegion indices 0..4 reused as plain group ids)
//             │ BL │ BL │ BR │ BR │   neighbours: cells sharing a side
//             └────┴────┴────┴────┘
//
// Threading: free functions, reentrant; SampleGrid does not allocate once `out` has the
// right size.
//
// Example:
//   auto est = fg::VitalsEstimator::Create(fg::GridLayout(4, 4), opts, &err);
//   fg::PatchSamples s;
//   const fg::Box r = fg::ClipRegion(view, region);      // region {0,0,0,0} = whole frame
//   fg::SampleGrid(view, r, 4, 4, &s);
//   est->PushPatches(0, pts, s, {r.x + r.w / 2, r.y + r.h / 2}, std::sqrt(r.w * r.h), {});
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/face.h"
#include "engine/image.h"
#include "engine/vitals/stgraph.h"
#include "engine/vitals/vitals_estimator.h"

namespace fg {

inline constexpr int kGridMaxSamples = 65536;

// The layout of a cols x rows grid (row-major cells): 4-neighbours, quadrant/centre regions.
PatchLayout GridLayout(int cols, int rows);

// The rectangle clipped to the frame in whole pixels; a rectangle with w or h <= 0 means the
// whole frame. Empty (w = 0) when it lies entirely outside.
Box ClipRegion(const ImageView& frame, const Box& rect);

// Mean RGB per cell of `rect` (already clipped, whole pixels) into out->rgb / out->weight
// (cols x rows entries, row-major). A cell with no pixel gets weight 0.
void SampleGrid(const ImageView& frame, const Box& rect, int cols, int rows, PatchSamples* out);

// "x,y,w,h" in pixels (integers or decimals, spaces allowed) -> Box; "" -> whole frame
// ({0,0,0,0}). nullopt with *error saying what is wrong for anything else, or w/h <= 0,
// or x/y < 0.
std::optional<Box> ParseRegion(std::string_view text, std::string* error);

}  // namespace fg
