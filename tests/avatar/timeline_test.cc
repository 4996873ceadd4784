// JSON timelines: parsing, evaluation (envelopes, overlaps by maximum), combination with a
// base (max and additive clamp), and errors that name the entry and the key.
#include "engine/avatar/timeline.h"

#include <gtest/gtest.h>

#include "tests/avatar/avatar_test_util.h"

namespace fg {
namespace {

using avatar_testing::Basis;

int I(const char* n) { return Basis().Index(n); }

Timeline MustParse(std::string_view json) {
  std::string err;
  auto t = Timeline::Parse(json, Basis(), &err);
  EXPECT_TRUE(t.has_value()) << err;
  return t.value_or(Timeline{});
}

void ExpectError(std::string_view json, std::string_view part1, std::string_view part2 = "") {
  std::string err;
  EXPECT_FALSE(Timeline::Parse(json, Basis(), &err).has_value()) << json;
  EXPECT_NE(err.find(part1), std::string::npos) << json << " -> " << err;
  EXPECT_NE(err.find(part2), std::string::npos) << json << " -> " << err;
}

TEST(Timeline, EvaluatesBlinkSmileAndExpressions) {
  const Timeline tl = MustParse(R"([
    {"action": "blink", "at": 1.2},
    {"action": "smile", "start": 2, "end": 4, "intensity": 0.7, "ease": 0.3},
    {"action": "surprised", "start": 3.5, "end": 5, "track": "face"},
    {"action": "jawOpen", "start": 4, "end": 4.6, "intensity": 0.9}])");
  ASSERT_EQ(tl.entries().size(), 4u);
  EXPECT_DOUBLE_EQ(tl.end(), 5.0);
  std::vector<float> w(Basis().size());
  tl.Evaluate(1.0, w);
  for (float x : w) EXPECT_EQ(x, 0.0f);
  tl.Evaluate(1.3, w);  // mid-blink (1.2 .. 1.4, 0.08 s ramps)
  EXPECT_FLOAT_EQ(w[I("eyeBlinkLeft")], 1.0f);
  EXPECT_FLOAT_EQ(w[I("eyeBlinkRight")], 1.0f);
  EXPECT_FLOAT_EQ(w[I("mouthSmileLeft")], 0.0f);
  tl.Evaluate(1.2 + kBlinkDuration + 0.01, w);
  EXPECT_FLOAT_EQ(w[I("eyeBlinkLeft")], 0.0f);
  tl.Evaluate(3.0, w);
  EXPECT_FLOAT_EQ(w[I("mouthSmileLeft")], 0.7f);
  EXPECT_FLOAT_EQ(w[I("mouthSmileRight")], 0.7f);
  tl.Evaluate(2.15, w);  // half way up the 0.3 s ramp: the minimum-jerk midpoint
  EXPECT_NEAR(w[I("mouthSmileLeft")], 0.35f, 1e-5);
  tl.Evaluate(4.3, w);  // overlaps: surprise (eyeWide 1, jawOpen 0.7) and jawOpen 0.9: max
  EXPECT_FLOAT_EQ(w[I("eyeWideLeft")], 1.0f);
  EXPECT_FLOAT_EQ(w[I("jawOpen")], 0.9f);
  tl.Evaluate(4.8, w);
  EXPECT_FLOAT_EQ(w[I("jawOpen")], 0.7f);  // surprise's AU26 alone
}

TEST(Timeline, ObjectFormWinksAndEmpty) {
  const Timeline tl = MustParse(R"({"actions": [{"action": "winkLeft", "at": 0.5, "ease": 0}]})");
  std::vector<float> w(Basis().size());
  tl.Evaluate(0.51, w);
  EXPECT_FLOAT_EQ(w[I("eyeBlinkLeft")], 1.0f);
  EXPECT_FLOAT_EQ(w[I("eyeBlinkRight")], 0.0f);
  const Timeline empty = MustParse("[]");
  EXPECT_DOUBLE_EQ(empty.end(), 0.0);
}

TEST(Timeline, CombinesWithABase) {
  // A base (an instruction curve or mirroring) and a timeline on top.
  std::vector<float> b(Basis().size(), 0.0f), o(Basis().size(), 0.0f), out(Basis().size());
  b[I("mouthSmileLeft")] = 0.6f;
  o[I("mouthSmileLeft")] = 0.7f;
  o[I("eyeBlinkLeft")] = 1.0f;
  CombineWeights(b, o, CombineRule::kMax, out);
  EXPECT_FLOAT_EQ(out[I("mouthSmileLeft")], 0.7f);
  EXPECT_FLOAT_EQ(out[I("eyeBlinkLeft")], 1.0f);
  CombineWeights(b, o, CombineRule::kAdd, out);
  EXPECT_FLOAT_EQ(out[I("mouthSmileLeft")], 1.0f);  // 1.3 clamped
  CombineWeights(b, o, CombineRule::kMax, b);       // in place
  EXPECT_FLOAT_EQ(b[I("mouthSmileLeft")], 0.7f);
}

TEST(Timeline, ErrorsNameTheEntryAndTheKey) {
  ExpectError("[{", "not valid JSON");
  ExpectError(R"({"entries": []})", "\"actions\"");
  ExpectError(R"([1])", "timeline entry 0", "object");
  ExpectError(R"([{"action": "blink", "at": 1}, {"action": "smile", "start": 2, "end": 1}])",
              "timeline entry 1, key \"end\"", "greater than start");
  ExpectError(R"([{"action": "grin", "start": 0, "end": 1}])", "timeline entry 0, key \"action\"",
              "grin");
  ExpectError(R"([{"start": 0, "end": 1}])", "timeline entry 0, key \"action\"", "required");
  ExpectError(R"([{"action": "smile", "strat": 0, "end": 1}])", "key \"strat\"", "unknown key");
  ExpectError(R"([{"action": "smile", "end": 1}])", "key \"start\"", "required");
  ExpectError(R"([{"action": "smile", "start": 0, "end": 1, "intensity": 1.5}])",
              "key \"intensity\"", "0..1");
  ExpectError(R"([{"action": "smile", "start": "0", "end": 1}])", "key \"start\"", "number");
  ExpectError(R"([{"action": "smile", "at": 1}])", "key \"at\"", "only blinks");
  ExpectError(R"([{"action": "blink", "at": 1, "start": 1}])", "key \"at\"", "not both");
  ExpectError(R"([{"action": "blink", "at": -1}])", "key \"at\"", ">= 0");
  ExpectError(R"([{"action": "smile", "start": 0, "end": 1, "ease": -1}])", "key \"ease\"");
}

}  // namespace
}  // namespace fg
