// A small built-in bitmap font for ids and labels on video: 5x7 pixel glyphs on a 6-pixel
// advance (one column of spacing), scalable by an integer factor. Covers the digits, A-Z,
// a-z, space and . , : ; - + # % / ( ) [ ] = _ ? ! < > * ' "; any other character is
// drawn as '?'. The design is our own (plain row bitmaps in font.cc), so it needs no file.
//
// Threading: the glyph table is constant; Text() writes only into the caller's frame.
//
// Example:
//   fg::draw::Text(img, pen, box_x, box_y - fg::draw::TextHeight(2) - 2, "id 7", 2);
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "engine/draw/canvas.h"

namespace fg::draw {

inline constexpr int kGlyphWidth = 5;
inline constexpr int kGlyphHeight = 7;
inline constexpr int kGlyphAdvance = 6;

// The 7 rows of a glyph, top first; bit 4 is the leftmost column. Unknown characters give
// the rows of '?'.
const std::array<uint8_t, kGlyphHeight>& Glyph(char c);
// Whether c has a glyph of its own (not the '?' fallback).
bool HasGlyph(char c);

// Size of `text` drawn at `scale` (>= 1): advance per character, no trailing spacing.
int TextWidth(std::string_view text, int scale);
inline int TextHeight(int scale) { return kGlyphHeight * scale; }

// Draws `text` with its top-left corner at (x, y), each font pixel a scale x scale block
// (scale clamped to 1..16), clipped to the frame. Returns TextWidth(text, scale).
int Text(const MutableImageView& img, const Pen& pen, int x, int y, std::string_view text,
         int scale = 1);

}  // namespace fg::draw
