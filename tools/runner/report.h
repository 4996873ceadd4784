// The session report: `facegraph report OUT/run.jsonl [--out=FILE.html]`, or at the end of
// `facegraph run GRAPH --report[=FILE.html]` (docs/page.md). One self-contained HTML file
// (inline CSS and SVG, no script, nothing fetched) from the JSON Lines the project writes
// (engine/json.h: frame lines, then facejson's session summary line):
//   - heart rate over time per track, with a confidence band and the session estimate;
//   - emotion shares and the emotion timeline;
//   - the valence/arousal trajectory on the circumplex;
//   - blinks per minute; head motion (yaw, pitch, roll);
//   - the run's speed figures (frames, stream time, frame rate; with the runner's figures,
//     wall time and per-element latency).
//
// Bad input: a missing or unreadable file, or one without a single frame line, is an error
// naming the cause; lines that are not JSON (a run killed mid-line) are skipped, counted and
// named by line number in the warnings and in the report.
//
// Threading: free functions, reentrant.
//
// Example:
//   fg::RunSpeed speed;                       // optional: what the runner measured
//   std::string error, warnings;
//   if (!fg::WriteReport("out/demo.jsonl", "out/demo.report.html", &speed, &error, &warnings)) ...
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

namespace fg {

// One row of the runner's per-element latency table (also the live page's "stats").
struct ElementStat {
  std::string name;
  uint64_t in = 0, out = 0, matched = 0;
  double p50_ms = -1, p99_ms = -1;  // -1: no matched buffers
};

// The run's speed as the runner measured it.
struct RunSpeed {
  double wall_s = -1;       // from PLAYING to the end
  int64_t frames = -1;      // frames that reached the analysis
  std::vector<ElementStat> elements;
};

std::string RunSpeedToJson(const RunSpeed& speed);
bool RunSpeedFromJson(const std::string& text, RunSpeed* speed, std::string* error);

// The report's HTML for the JSON Lines in `jsonl`. `speed` may be null. Empty with *error set
// when there is no frame line. *warnings lists skipped lines.
std::string RenderReport(std::istream& jsonl, const RunSpeed* speed, const std::string& title,
                         std::string* error, std::string* warnings);

// Reads jsonl_path, writes html_path. When speed is null, "<jsonl_path>.speed.json" (written
// by `facegraph run --report`) is read if it exists.
bool WriteReport(const std::string& jsonl_path, const std::string& html_path,
                 const RunSpeed* speed, std::string* error, std::string* warnings);

// The default report path: run.jsonl -> run.report.html.
std::string DefaultReportPath(const std::string& jsonl_path);

// `facegraph report FILE.jsonl [--out=FILE.html]`: exit status 0, 1 (bad input), 2 (usage).
int ReportMain(const std::vector<std::string>& args);

}  // namespace fg
