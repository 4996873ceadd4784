// Several streams in one runner process (tools/runner/streams.h), as a user meets it:
//   - `facegraph run a.gst b.gst` runs both graphs side by side, each writing its own JSON
//     under $FACEGRAPH_OUT/<stem>/, and reports counters per stream (table and --stats-json);
//   - the models are loaded once per process, shared by every element instance (counted by
//     the model cache's own log, FG_MODEL_CACHE_LOG=1);
//   - a graph with two branches is two streams; a leaky queue's drops are counted exactly
//     (frames analysed + drops = frames sent);
//   - one stream's failure does not stop the others, and the exit status says it failed.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace {

const std::string kRunner = FG_RUNNER;

struct Result {
  int status = -1;
  std::string err;  // stderr (stdout is discarded)
};

// Runs the runner with FACEGRAPH_OUT=out and FG_MODEL_CACHE_LOG=1, capturing stderr.
Result RunRunner(const std::vector<std::string>& args, const std::string& out) {
  std::string cmd = "FACEGRAPH_OUT='" + out + "' FG_MODEL_CACHE_LOG=1 timeout 120 '" + kRunner + "'";
  for (const std::string& a : args) cmd += " '" + a + "'";
  cmd += " 2>&1 >/dev/null";
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.err.append(buf.data(), n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

class StreamsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/facegraph-streams-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  static std::string Camera(int frames, const std::string& json) {
    return "# a synthetic camera\nfacesynthsrc num-buffers=" + std::to_string(frames) +
           " ! video/x-raw,width=320,height=240,framerate=30/1 ! facetrack ! faceemotion"
           " ! facejson location=" + json + " ! fakesink\n";
  }
  static int FrameLines(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) n += line.rfind("{\"summary\":", 0) == 0 ? 0 : 1;
    return n;
  }
  static int Count(const std::string& text, const std::string& what) {
    int n = 0;
    for (size_t p = 0; (p = text.find(what, p)) != std::string::npos; p += what.size()) ++n;
    return n;
  }
  // Lines of `text` holding `a` and ending with `b`.
  static int Lines(const std::string& text, const std::string& a, const std::string& b) {
    std::istringstream in(text);
    std::string line;
    int n = 0;
    while (std::getline(in, line))
      n += line.find(a) != std::string::npos && line.size() >= b.size() &&
           line.compare(line.size() - b.size(), b.size(), b) == 0;
    return n;
  }
  std::string dir_;
};

TEST_F(StreamsTest, TwoGraphFilesShareModelsAndWriteTheirOwnJsonAndCounters) {
  const std::string a = Write("lobby.gst", Camera(30, "$FACEGRAPH_OUT/faces.jsonl"));
  const std::string b = Write("hall.gst", Camera(20, "$FACEGRAPH_OUT/faces.jsonl"));
  const std::string out = dir_ + "/out", stats = dir_ + "/stats.json";
  const Result r = RunRunner({"run", a, b, "--stats-json=" + stats}, out);
  ASSERT_EQ(r.status, 0) << r.err;
  // Per-stream JSON: each graph's $FACEGRAPH_OUT is its own folder.
  EXPECT_EQ(FrameLines(out + "/lobby/faces.jsonl"), 30);
  EXPECT_EQ(FrameLines(out + "/hall/faces.jsonl"), 20);
  // Models once per process: two facetrack + two faceemotion instances (and facesynthsrc's
  // none) load BlazeFace, FaceMesh and the emotion network once each; the rest is shared.
  for (const char* model : {"/blazeface.json", "/facemesh.json", "/emotion.json"})
    EXPECT_EQ(Lines(r.err, "model loaded: ", model), 1) << model << "\n" << r.err;
  EXPECT_EQ(Count(r.err, "model loaded: "), 3) << r.err;
  // The second tracker and classifier share: BlazeFace (each tracker opens it twice: frame
  // and zoom tiles) 3 times, FaceMesh once, the emotion network once.
  EXPECT_EQ(Lines(r.err, "model shared: ", "/blazeface.json"), 3) << r.err;
  EXPECT_EQ(Lines(r.err, "model shared: ", "/facemesh.json"), 1) << r.err;
  EXPECT_EQ(Lines(r.err, "model shared: ", "/emotion.json"), 1) << r.err;
  // Counters per stream.
  std::ifstream in(stats);
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  ASSERT_TRUE(j.is_object() && j["streams"].is_array()) << stats;
  ASSERT_EQ(j["streams"].size(), 2u) << j.dump();
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& s : j["streams"]) by_name[s["stream"].get<std::string>().substr(0, 4)] = s;
  ASSERT_TRUE(by_name.count("lobb") && by_name.count("hall")) << j.dump();
  for (auto [name, frames] : {std::pair<const char*, int>{"lobb", 30}, {"hall", 20}}) {
    const nlohmann::json& s = by_name[name];
    EXPECT_EQ(s["frames"].get<int>(), frames) << s.dump();
    EXPECT_EQ(s["latency_ms"]["matched"].get<int>(), frames) << "every frame left the tail";
    EXPECT_GT(s["fps"].get<double>(), 0) << s.dump();
    EXPECT_GT(s["latency_ms"]["p99"].get<double>(), 0) << s.dump();
    EXPECT_GE(s["latency_ms"]["p99"].get<double>(), s["latency_ms"]["median"].get<double>());
    EXPECT_EQ(s["drops"].get<int>(), 0) << s.dump();
  }
  EXPECT_NE(r.err.find("2 streams"), std::string::npos) << r.err;
}

TEST_F(StreamsTest, BranchesOfOneGraphAreStreamsAndLeakyDropsAreCountedExactly) {
  // Branch 1 drops in a leaky queue of one buffer in front of the analysis (the source runs
  // unthrottled); branch 2 drops nothing.
  const std::string g = Write(
      "two.gst",
      "facesynthsrc num-buffers=60 ! video/x-raw,width=320,height=240,framerate=30/1"
      " ! queue leaky=downstream max-size-buffers=1 ! facetrack ! faceemotion ! fakesink\n"
      "facesynthsrc num-buffers=25 ! video/x-raw,width=320,height=240,framerate=30/1"
      " ! facetrack ! fakesink\n");
  const std::string stats = dir_ + "/stats.json";
  const Result r = RunRunner({"run", g, "--stats-json=" + stats}, dir_ + "/out");
  ASSERT_EQ(r.status, 0) << r.err;
  std::ifstream in(stats);
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  ASSERT_TRUE(j.is_object() && j["streams"].size() == 2u) << r.err;
  int leaky_total = -1, plain = -1;
  for (const auto& s : j["streams"]) {
    const int frames = s["frames"].get<int>(), drops = s["drops"].get<int>();
    if (frames + drops == 60) leaky_total = frames + drops;
    if (frames == 25 && drops == 0) plain = frames;
  }
  EXPECT_EQ(leaky_total, 60) << "frames analysed + frames dropped = frames sent\n" << j.dump();
  EXPECT_EQ(plain, 25) << j.dump();
}

TEST_F(StreamsTest, AFailingStreamDoesNotStopTheOthers) {
  const std::string good = Write("good.gst", Camera(15, "$FACEGRAPH_OUT/faces.jsonl"));
  const std::string bad = Write("bad.gst", "facesynthsrc num-buffers=5 ! no-such-element ! fakesink\n");
  const std::string out = dir_ + "/out";
  const Result r = RunRunner({"run", good, bad}, out);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("no-such-element"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bad.gst ended with status 2"), std::string::npos) << r.err;
  EXPECT_EQ(FrameLines(out + "/good/faces.jsonl"), 15) << r.err;
}

}  // namespace
