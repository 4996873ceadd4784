// The instruction language: expressions and blendshapes over time, in words, e.g.
//   neutral, then very happy over 1.5 s, hold 1 s, then surprised over 0.5 s
//   from happy to surprised over two seconds
//   slightly sad in 500 ms, then jawOpen 0.5 and eyeBlinkLeft over 0.2 s
// parsed into keyframes in blendshape-weight space (curve.h interpolates them). No network
// model: a small hand-written grammar, case-insensitive for words.
//
// Grammar (EBNF; words are separated by spaces; "," ";" and a sentence's "." are also
// separators):
//   instruction := step { separator step }
//   separator   := "," | ";" | "." | "then" | "and then" | "after that" | "next"  (any run of them)
//   step        := hold | transition
//   hold        := ("hold" | "wait" | "pause" | "stay") [ "for" ] duration
//   transition  := [ "from" pose "to" ] [ "go" "to" | "become" | "to" ] pose [ timing ]
//   timing      := ("over" | "in" | "for" | "during" | "within") duration
//   pose        := term { ("and" | "with" | "plus" | "+") term }
//   term        := [ intensity ] name [ amount ]
//   name        := expression | blendshape
//   expression  := neutral (neutral calm relaxed rest resting blank)
//                | happy (happy happiness joy joyful smiling smile glad pleased)
//                | sad (sad sadness unhappy sorrow sorrowful upset)
//                | surprise (surprise surprised astonished astonishment amazed shocked)
//                | fear (fear afraid scared fearful frightened terrified)
//                | anger (anger angry mad furious annoyed)
//                | disgust (disgust disgusted revolted grossed)
//                (optional "a"/"an"/"the"/"look"/"looking"/"face" before a name are skipped)
//   blendshape  := an ARKit name of the basis (blendshapes.h), any letter case: jawOpen
//   intensity   := word | amount
//        barely 0.15, slightly 0.3, a little 0.3, a bit 0.3, mildly 0.35, somewhat 0.5,
//        moderately 0.5, half 0.5, fairly 0.6, rather 0.6, quite 0.7, pretty 0.7,
//        really 0.9, very 1.0, fully 1.0, completely 1.0, totally 1.0, extremely 1.0
//   amount      := number in [0, 1] | number "%" in [0, 100]   ("50%" or "50 %")
//   duration    := count unit
//   count       := number >= 0 | zero | a | an | one | two | ... | ten | half | "half a"
//                  | "one and a half"
//   unit        := ms | msec | millisecond(s) | s | sec | secs | second(s) | min | minute(s)
//                  (also glued: "500ms", "1.5s")
// Semantics. Time starts at 0 with nothing set. A pose's weights are the sum over its terms
// of intensity x the term's weights (an expression's prototype, or 1 on a blendshape),
// clamped to [0, 1]; a term without intensity has intensity kDefaultIntensity (0.8), so
// "very happy" is fuller than "happy". A blendshape name may take its amount after it
// ("jawOpen 0.5") or before it ("slightly jawOpen").
//   - The first step without a timing sets its pose at t = 0. A first step with a timing
//     starts from neutral at 0.
//   - A transition moves from the current pose to its pose over its duration (default
//     kDefaultTransitionS = 0.5 s): one keyframe at now + duration.
//   - "from A to B over d": a keyframe with A now (an instant jump from the current pose if
//     they differ), then B at now + d.
//   - "hold d": the current pose stays for d (a keyframe with the same weights at now + d).
// Errors: the first problem stops parsing, with the 1-based column (in characters) and the
// word where it was found, e.g. {column 7, word "1.5", "intensity 1.5 is outside 0..1"};
// unknown words, a missing duration, a number without a unit, negative durations,
// intensities above 1 or 100% and an empty instruction are errors.
//
// Threading: stateless; reentrant.
//
// Example:
//   auto r = fg::ParseInstruction("neutral, then very happy over 1.5 s", basis);
//   if (!r.ok()) return fg::FormatInstructionError(*r.error);  // column 22 ("ovr"): ...
//   fg::WeightCurve curve(r.keyframes);
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/avatar/blendshapes.h"

namespace fg {

// Blendshape weights (basis order, basis.size() entries) reached at time t (seconds).
struct Keyframe {
  double t = 0;
  std::vector<float> weights;
};

struct InstructionError {
  int column = 0;    // 1-based, in characters of the instruction; 0 = the whole text
  std::string word;  // the offending word (empty at the end of the text)
  std::string message;
};

struct InstructionResult {
  std::vector<Keyframe> keyframes;        // time-ordered; empty on error
  std::optional<InstructionError> error;  // set on error
  bool ok() const { return !error.has_value(); }
};

inline constexpr float kDefaultIntensity = 0.8f;
inline constexpr double kDefaultTransitionS = 0.5;

InstructionResult ParseInstruction(std::string_view text, const BlendshapeBasis& basis);

// The cardinal expression (blendshapes.h) named by an expression word or synonym of the
// grammar above, any letter case ("Astonished" -> surprise); nullptr when none.
const Expression* ExpressionForWord(std::string_view word);

// "column 22 (\"ovr\"): unknown word ..." (for logs and element errors).
std::string FormatInstructionError(const InstructionError& e);

}  // namespace fg
