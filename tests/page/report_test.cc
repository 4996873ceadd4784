// The session report (tools/runner/report.h) on JSON Lines generated here: a 60 s session at
// 10 frames a second of one face whose heart rate, emotion, valence/arousal, blinks and pose
// are known, followed by facejson's summary line (fg::SessionSummary, as facejson writes it).
#include "tools/runner/report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

#include "engine/emotion/session_summary.h"
#include "engine/json.h"

namespace fg {
namespace {

constexpr double kTrueBpm = 72;

// One face, id 3: bpm 72 with +-1 bpm wobble, confidence rising 0 -> 1 over the first 20 s,
// "happy" for the first 30 s then "neutral", valence falling from 0.8 to 0, blink rate 15/min,
// yaw swinging +-10 degrees.
std::string MakeSession(int seconds, bool with_summary) {
  std::string text;
  SessionSummary summary;
  for (int i = 0; i < seconds * 10; ++i) {
    const double t = i / 10.0;
    FrameFaces frame;
    frame.pts_ns = static_cast<int64_t>(1e9 + t * 1e9);  // streams rarely start at 0
    Face f;
    f.id = 3;
    f.box = {100, 100, 80, 100};
    f.score = 1;
    f.pose = HeadPose{static_cast<float>(10 * std::sin(t)), 2, -1, std::nullopt};
    Emotion e;
    e.label = t < 30 ? "happy" : "neutral";
    e.confidence = 0.9f;
    e.valence = static_cast<float>(0.8 * (1 - t / seconds));
    e.arousal = 0.3f;
    f.emotion = e;
    if (t >= 5) {
      Vitals v;
      v.bpm = static_cast<float>(kTrueBpm + std::sin(t / 3));
      v.confidence = static_cast<float>(std::min(1.0, (t - 5) / 15));
      v.session_bpm = static_cast<float>(kTrueBpm + 0.4);
      v.session_confidence = 0.9f;
      v.respiration_bpm = 14;
      v.rmssd_ms = 35;
      f.vitals = v;
    }
    f.actions = {{"blinks", static_cast<float>(std::floor(t / 4))}, {"blinkRate", 15}};
    frame.faces.push_back(f);
    summary.Add(frame);
    text += ToJsonLine(frame) + "\n";
  }
  summary.Finish();
  if (with_summary) text += summary.ToJsonLine() + "\n";
  return text;
}

std::string Render(const std::string& jsonl, std::string* error, std::string* warnings,
                   const RunSpeed* speed = nullptr) {
  std::istringstream in(jsonl);
  return RenderReport(in, speed, "test session", error, warnings);
}

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = 0; (p = s.find(what, p)) != std::string::npos; p += what.size()) ++n;
  return n;
}

TEST(Report, HasEveryPlotAndTheSessionEstimate) {
  std::string error, warnings;
  const std::string html = Render(MakeSession(60, true), &error, &warnings);
  ASSERT_FALSE(html.empty()) << error;
  EXPECT_TRUE(warnings.empty()) << warnings;
  // heart rate, emotion shares, emotion timeline, circumplex, blinks, head motion
  EXPECT_EQ(Count(html, "<svg"), 6u);
  EXPECT_NE(html.find("<title>heart rate of face 3</title>"), std::string::npos);
  EXPECT_NE(html.find("<title>valence and arousal</title>"), std::string::npos);
  // The session estimate from the summary line (72.4), shown to 0.1 bpm and kept as data.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(html, m, std::regex("class='big hr-session' data-bpm='([0-9.]+)'>([0-9.]+)<")));
  EXPECT_NEAR(std::stod(m[1]), kTrueBpm + 0.4, 0.01);
  EXPECT_EQ(m[2], "72.4");
  // Emotion shares from the summary: happy 30 s of 60 = 50 %, neutral 50 %.
  EXPECT_NE(html.find(">50.0 %<"), std::string::npos);
  // Blinks per minute from the summary: 14 or 15 blinks in 60 s.
  EXPECT_TRUE(html.find(">14.0</b> /min") != std::string::npos ||
              html.find(">15.0</b> /min") != std::string::npos);
  // Stream time: 59.9 s between the first and the last pts.
  EXPECT_NE(html.find(">59.9</b> s"), std::string::npos);
}

TEST(Report, IsSelfContained) {
  std::string error, warnings;
  const std::string html = Render(MakeSession(20, true), &error, &warnings);
  ASSERT_FALSE(html.empty()) << error;
  // Nothing to fetch: no script, no external reference of any kind.
  for (const char* bad : {"<script", "src=", "href=", "url(", "http:", "https:", "@import"})
    EXPECT_EQ(html.find(bad), std::string::npos) << bad;
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("</html>"), std::string::npos);
}

TEST(Report, ConfidenceDrawsTheHeartRateSolidOnlyWhereConfident) {
  std::string error, warnings;
  const std::string html = Render(MakeSession(60, true), &error, &warnings);
  // Confidence is below 0.5 from 5 s to 12.5 s: the solid red line starts after that, the
  // grey dashed one covers everything; one band polygon.
  EXPECT_EQ(Count(html, "fill='#d93025' fill-opacity='0.18'"), 1u);
  EXPECT_GE(Count(html, "stroke='#9e9e9e' stroke-width='1.6' stroke-dasharray='3 3'"), 1u);
  EXPECT_GE(Count(html, "stroke='#d93025' stroke-width='1.6'"), 1u);
}

TEST(Report, WithoutSummaryTheLastFrameGivesTheEstimate) {
  std::string error, warnings;
  const std::string html = Render(MakeSession(30, false), &error, &warnings);
  ASSERT_FALSE(html.empty()) << error;
  EXPECT_NE(html.find("data-bpm='72.40'"), std::string::npos);
  // Shares from frame counts: 100 % happy.
  EXPECT_NE(html.find(">100.0 %<"), std::string::npos);
}

TEST(Report, SpeedFiguresFromTheRunner) {
  RunSpeed speed;
  speed.wall_s = 20;
  speed.frames = 200;
  speed.elements = {{"facetrack0", 200, 200, 200, 6.5, 30.25}, {"queue0", 200, 180, 0, -1, -1}};
  RunSpeed back;
  std::string error, warnings;
  ASSERT_TRUE(RunSpeedFromJson(RunSpeedToJson(speed), &back, &error)) << error;
  ASSERT_EQ(back.elements.size(), 2u);
  EXPECT_EQ(back.elements[0].name, "facetrack0");
  EXPECT_DOUBLE_EQ(back.elements[0].p99_ms, 30.25);
  const std::string html = Render(MakeSession(20, true), &error, &warnings, &back);
  EXPECT_NE(html.find("<td>facetrack0</td><td>200</td><td>200</td><td>6.50</td><td>30.25</td>"), std::string::npos);
  EXPECT_NE(html.find(">10.0</b> fps"), std::string::npos);  // 200 frames in 20 s of wall time
  EXPECT_FALSE(RunSpeedFromJson("{not json", &back, &error));
  EXPECT_NE(error.find("not the runner's speed figures"), std::string::npos);
}

TEST(Report, BadLinesAreSkippedAndNamed) {
  std::string text = MakeSession(10, true);
  // Line 3 broken, and a run killed mid-line at the end.
  size_t p = 0;
  for (int i = 0; i < 2; ++i) p = text.find('\n', p) + 1;
  text.insert(p, "{\"faces\": [oops\n");
  text += "{\"pts\": 1234, \"fa";
  std::string error, warnings;
  const std::string html = Render(text, &error, &warnings);
  ASSERT_FALSE(html.empty()) << error;
  EXPECT_NE(warnings.find("2 line(s)"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("line 3,"), std::string::npos) << warnings;
  EXPECT_NE(html.find("class='warn'"), std::string::npos);
}

TEST(Report, LabelsFromTheFileAreEscaped) {
  std::string text = MakeSession(10, false);
  text = std::regex_replace(text, std::regex("\"happy\""), "\"<img src=x onerror=alert(1)>\"");
  std::string error, warnings;
  const std::string html = Render(text, &error, &warnings);
  ASSERT_FALSE(html.empty()) << error;
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
}

TEST(Report, NoFramesIsAnErrorNamingTheCause) {
  std::string error, warnings;
  EXPECT_TRUE(Render("", &error, &warnings).empty());
  EXPECT_NE(error.find("empty"), std::string::npos) << error;
  EXPECT_TRUE(Render("hello\nworld\n", &error, &warnings).empty());
  EXPECT_NE(error.find("no frame line in 2 lines"), std::string::npos) << error;
  EXPECT_FALSE(WriteReport("/nonexistent/run.jsonl", "/tmp/x.html", nullptr, &error, &warnings));
  EXPECT_NE(error.find("/nonexistent/run.jsonl: cannot read"), std::string::npos) << error;
}

TEST(Report, WritesTheFileAndReadsTheRunnersSpeedBesideIt) {
  const std::string dir = ::testing::TempDir();
  const std::string jsonl = dir + "/report_test_run.jsonl";
  std::ofstream(jsonl) << MakeSession(20, true);
  RunSpeed speed;
  speed.wall_s = 21;
  speed.frames = 200;
  speed.elements = {{"facevitals0", 200, 200, 200, 1.25, 9.5}};
  std::ofstream(jsonl + ".speed.json") << RunSpeedToJson(speed);
  EXPECT_EQ(DefaultReportPath(jsonl), dir + "/report_test_run.report.html");
  EXPECT_EQ(ReportMain({jsonl}), 0);
  std::ifstream in(DefaultReportPath(jsonl));
  std::stringstream html;
  html << in.rdbuf();
  EXPECT_NE(html.str().find("<td>facevitals0</td>"), std::string::npos);
  EXPECT_EQ(ReportMain({}), 2);
  EXPECT_EQ(ReportMain({"--bogus", jsonl}), 2);
  EXPECT_EQ(ReportMain({dir + "/missing.jsonl"}), 1);
  std::remove(jsonl.c_str());
  std::remove((jsonl + ".speed.json").c_str());
  std::remove(DefaultReportPath(jsonl).c_str());
}

}  // namespace
}  // namespace fg
