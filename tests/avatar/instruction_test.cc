// The instruction language: valid sentences become the keyframes the grammar in
// instruction.h defines; invalid ones point at the column and word; edge values of
// intensities and durations.
#include "engine/avatar/instruction.h"

#include <gtest/gtest.h>

#include "tests/avatar/avatar_test_util.h"

namespace fg {
namespace {

using avatar_testing::Basis;

float W(const Keyframe& k, const char* name) { return k.weights.at(Basis().Index(name)); }

InstructionResult Parse(std::string_view s) {
  InstructionResult r = ParseInstruction(s, Basis());
  if (!r.ok()) ADD_FAILURE() << s << ": " << FormatInstructionError(*r.error);
  return r;
}

// The error must be at `word` (its first occurrence in the text, 1-based column).
void ExpectError(std::string_view s, std::string_view word, std::string_view message_part) {
  InstructionResult r = ParseInstruction(s, Basis());
  ASSERT_FALSE(r.ok()) << s;
  EXPECT_TRUE(r.keyframes.empty());
  EXPECT_EQ(r.error->word, word) << s << ": " << FormatInstructionError(*r.error);
  const int column =
      word.empty() ? static_cast<int>(s.size()) + 1 : static_cast<int>(s.find(word)) + 1;
  EXPECT_EQ(r.error->column, column) << s << ": " << FormatInstructionError(*r.error);
  EXPECT_NE(r.error->message.find(message_part), std::string::npos)
      << s << ": " << r.error->message;
}

TEST(Instruction, TheIssueExample) {
  auto r = Parse("neutral, then very happy over 1.5 s, hold 1 s, then surprised over 0.5 s");
  ASSERT_EQ(r.keyframes.size(), 4u);
  const auto& k = r.keyframes;
  EXPECT_DOUBLE_EQ(k[0].t, 0.0);
  EXPECT_DOUBLE_EQ(k[1].t, 1.5);
  EXPECT_DOUBLE_EQ(k[2].t, 2.5);
  EXPECT_DOUBLE_EQ(k[3].t, 3.0);
  for (float w : k[0].weights) EXPECT_EQ(w, 0.0f);
  EXPECT_FLOAT_EQ(W(k[1], "mouthSmileLeft"), 1.0f);  // "very" = 1.0, happy = AU6 + AU12
  EXPECT_FLOAT_EQ(W(k[1], "cheekSquintRight"), 1.0f);
  EXPECT_EQ(k[2].weights, k[1].weights);  // hold
  // surprised at the default intensity 0.8: AU1+2+5 at 0.8, AU26 = jawOpen 0.7 -> 0.56.
  EXPECT_FLOAT_EQ(W(k[3], "browInnerUp"), 0.8f);
  EXPECT_FLOAT_EQ(W(k[3], "eyeWideLeft"), 0.8f);
  EXPECT_FLOAT_EQ(W(k[3], "jawOpen"), 0.56f);
  EXPECT_FLOAT_EQ(W(k[3], "mouthSmileLeft"), 0.0f);
}

TEST(Instruction, FromToWordsAndSynonyms) {
  auto r = Parse("from happy to astonished over two seconds");
  ASSERT_EQ(r.keyframes.size(), 2u);
  EXPECT_DOUBLE_EQ(r.keyframes[1].t, 2.0);
  EXPECT_FLOAT_EQ(W(r.keyframes[0], "mouthSmileLeft"), 0.8f);
  EXPECT_FLOAT_EQ(W(r.keyframes[1], "eyeWideRight"), 0.8f);
  // Synonyms give the same weights as the canonical names.
  const auto a = Parse("joy").keyframes, b = Parse("Smiling").keyframes,
             c = Parse("happy").keyframes;
  EXPECT_EQ(a[0].weights, c[0].weights);
  EXPECT_EQ(b[0].weights, c[0].weights);
  EXPECT_EQ(Parse("furious").keyframes[0].weights, Parse("anger").keyframes[0].weights);
  EXPECT_EQ(Parse("scared").keyframes[0].weights, Parse("fear").keyframes[0].weights);
  EXPECT_EQ(Parse("disgusted").keyframes[0].weights, Parse("disgust").keyframes[0].weights);
  EXPECT_EQ(Parse("unhappy").keyframes[0].weights, Parse("sad").keyframes[0].weights);
}

TEST(Instruction, IntensitiesAndDurations) {
  auto r = Parse("slightly sad in 500 ms");
  ASSERT_EQ(r.keyframes.size(), 2u);  // a first step with a timing starts from neutral
  EXPECT_DOUBLE_EQ(r.keyframes[1].t, 0.5);
  EXPECT_FLOAT_EQ(W(r.keyframes[1], "mouthFrownLeft"), 0.3f);
  EXPECT_FLOAT_EQ(W(Parse("somewhat happy").keyframes[0], "mouthSmileLeft"), 0.5f);
  EXPECT_FLOAT_EQ(W(Parse("a little happy").keyframes[0], "mouthSmileLeft"), 0.3f);
  EXPECT_FLOAT_EQ(W(Parse("0.25 happy").keyframes[0], "mouthSmileLeft"), 0.25f);
  EXPECT_FLOAT_EQ(W(Parse("40% happy").keyframes[0], "mouthSmileLeft"), 0.4f);
  EXPECT_DOUBLE_EQ(Parse("happy over half a second").keyframes[1].t, 0.5);
  EXPECT_DOUBLE_EQ(Parse("happy over one and a half seconds").keyframes[1].t, 1.5);
  EXPECT_DOUBLE_EQ(Parse("happy over 1.5s").keyframes[1].t, 1.5);
  EXPECT_DOUBLE_EQ(Parse("happy in 250ms").keyframes[1].t, 0.25);
  EXPECT_DOUBLE_EQ(Parse("happy over a second").keyframes[1].t, 1.0);
  // No timing after the first step: the default transition.
  auto d = Parse("happy, then sad");
  ASSERT_EQ(d.keyframes.size(), 2u);
  EXPECT_DOUBLE_EQ(d.keyframes[1].t, kDefaultTransitionS);
}

TEST(Instruction, RawBlendshapesAndCombinations) {
  auto r = Parse("jawOpen 0.5");
  ASSERT_EQ(r.keyframes.size(), 1u);
  EXPECT_FLOAT_EQ(W(r.keyframes[0], "jawOpen"), 0.5f);
  EXPECT_FLOAT_EQ(W(Parse("JAWOPEN 50%").keyframes[0], "jawOpen"), 0.5f);
  EXPECT_FLOAT_EQ(W(Parse("jawopen 50 %").keyframes[0], "jawOpen"), 0.5f);
  EXPECT_FLOAT_EQ(W(Parse("slightly eyeBlinkLeft").keyframes[0], "eyeBlinkLeft"), 0.3f);
  auto c = Parse("neutral, then somewhat happy and jawOpen 0.4 and eyeBlinkLeft 1 over 1 s");
  ASSERT_EQ(c.keyframes.size(), 2u);
  const Keyframe& k = c.keyframes[1];
  EXPECT_FLOAT_EQ(W(k, "mouthSmileLeft"), 0.5f);
  EXPECT_FLOAT_EQ(W(k, "jawOpen"), 0.4f);
  EXPECT_FLOAT_EQ(W(k, "eyeBlinkLeft"), 1.0f);
  EXPECT_FLOAT_EQ(W(k, "eyeBlinkRight"), 0.0f);
  // Sums clamp at 1.
  EXPECT_FLOAT_EQ(W(Parse("jawOpen 0.7 + jawOpen 0.6").keyframes[0], "jawOpen"), 1.0f);
}

TEST(Instruction, EdgeValues) {
  EXPECT_FLOAT_EQ(W(Parse("jawOpen 0").keyframes[0], "jawOpen"), 0.0f);
  EXPECT_FLOAT_EQ(W(Parse("jawOpen 1").keyframes[0], "jawOpen"), 1.0f);
  EXPECT_FLOAT_EQ(W(Parse("jawOpen 100%").keyframes[0], "jawOpen"), 1.0f);
  ExpectError("jawOpen 1.5", "1.5", "outside 0..1");
  ExpectError("jawOpen 101%", "101%", "outside 0..100%");
  ExpectError("jawOpen -0.1", "-0.1", "outside 0..1");
  ExpectError("1.5 happy", "1.5", "outside 0..1");
  auto z = Parse("happy, then sad over 0 s");  // zero duration: an instant jump
  ASSERT_EQ(z.keyframes.size(), 2u);
  EXPECT_DOUBLE_EQ(z.keyframes[1].t, 0.0);
  ExpectError("happy over -1 s", "-1", "negative");
}

TEST(Instruction, ErrorsPointAtTheWord) {
  ExpectError("neutral, then very hapy over 1.5 s", "hapy", "unknown word");
  ExpectError("happy over fast", "fast", "expected a duration");
  ExpectError("happy over 2 parsecs", "parsecs", "time unit");
  ExpectError("happy over 1.5", "", "unit");  // at the end of the text
  ExpectError("happy over", "", "needs a duration");
  ExpectError("happy, hold", "hold", "needs a duration");
  ExpectError("happy sad", "sad", "expected ',' or 'then'");
  ExpectError("from happy over 1 s", "over", "expected 'to'");
  ExpectError("happy 2 s", "2", "needs 'over'");
  ExpectError("very", "", "expected an expression");
  ExpectError("very, happy", ",", "unknown word");
  InstructionResult e = ParseInstruction("   ", Basis());
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error->column, 0);
  EXPECT_EQ(FormatInstructionError({7, "x", "m"}), "column 7 (\"x\"): m");
}

TEST(Instruction, HoldFirstAndSeparators) {
  auto r = Parse("hold 1 s; happy over 1 s and then sad over 2 seconds. ");
  ASSERT_EQ(r.keyframes.size(), 4u);
  EXPECT_DOUBLE_EQ(r.keyframes[1].t, 1.0);
  EXPECT_DOUBLE_EQ(r.keyframes[2].t, 2.0);
  EXPECT_DOUBLE_EQ(r.keyframes[3].t, 4.0);
}

}  // namespace
}  // namespace fg
