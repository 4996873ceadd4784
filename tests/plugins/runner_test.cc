// The runner (tools/runner/facegraph) as a user meets it: graphs run to EOS and leave their
// outputs; parse errors, missing elements, unreadable inputs and absent cameras exit with
// the documented status and say what and where; SIGINT stops a live graph cleanly.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/json.h"

namespace {

const std::string kRunner = FG_RUNNER;
const std::string kSource = FG_SOURCE_DIR;
const std::string kGraphs = FG_SOURCE_DIR "/tests/plugins/graphs/";

struct Result {
  int status = -1;       // exit status, or 128 + signal when killed by one
  bool timed_out = false;
  std::string out, err;  // stdout, stderr
};

// Starts the runner with args; FACEGRAPH_OUT=out_dir. Returns the pid and the pipes.
struct Child {
  pid_t pid = -1;
  int out_fd = -1, err_fd = -1;
};

// FACEGRAPH_INPUT is set to `input`, or unset when it is empty.
Child Start(const std::vector<std::string>& args, const std::string& out_dir,
            const std::string& input = "") {
  int out_pipe[2], err_pipe[2];
  EXPECT_EQ(pipe(out_pipe), 0);
  EXPECT_EQ(pipe(err_pipe), 0);
  Child c;
  c.pid = fork();
  if (c.pid == 0) {
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    close(out_pipe[0]);
    close(err_pipe[0]);
    setenv("FACEGRAPH_OUT", out_dir.c_str(), 1);
    if (input.empty())
      unsetenv("FACEGRAPH_INPUT");
    else
      setenv("FACEGRAPH_INPUT", input.c_str(), 1);
    std::vector<char*> argv{const_cast<char*>(kRunner.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(kRunner.c_str(), argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  c.out_fd = out_pipe[0];
  c.err_fd = err_pipe[0];
  return c;
}

// Reads until both pipes close or the timeout passes (then kills), and reaps the child.
// `on_stderr` sees stderr as it grows (e.g. to send SIGINT once the graph plays).
template <class F>
Result Wait(Child c, std::chrono::seconds timeout, F on_stderr) {
  Result r;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{c.out_fd, POLLIN, 0}, {c.err_fd, POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      kill(c.pid, SIGKILL);
      break;
    }
    if (poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 100))) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[4096];
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
        continue;
      }
      (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      if (i == 1) on_stderr(r.err);
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  int status = 0;
  waitpid(c.pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

Result RunRunner(const std::vector<std::string>& args, const std::string& out_dir,
           std::chrono::seconds timeout = std::chrono::seconds(60), const std::string& input = "") {
  return Wait(Start(args, out_dir, input), timeout, [](const std::string&) {});
}

// A fresh directory under /tmp, removed when the test program exits.
std::string TempDir() {
  static struct Cleanup {
    std::vector<std::string> dirs;
    ~Cleanup() {
      for (const auto& d : dirs) std::filesystem::remove_all(d);
    }
  } cleanup;
  char tmpl[] = "/tmp/facegraph-runner-XXXXXX";
  const char* dir = mkdtemp(tmpl);
  EXPECT_NE(dir, nullptr);
  if (!dir) return "/tmp";
  cleanup.dirs.push_back(dir);
  return dir;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// facejson's session summary, its last line on EOS (README "JSON output contract"): told
// from frame lines by its "summary" key.
bool IsSummaryLine(const std::string& line) { return line.rfind("{\"summary\":", 0) == 0; }

std::string Describe(const Result& r) {
  return "exit " + std::to_string(r.status) + (r.timed_out ? " (timed out)" : "") +
         "\nstderr:\n" + r.err;
}

TEST(Runner, DemoRunsToEosWithMp4AndOneJsonLinePerFrame) {
  const std::string out = TempDir();
  const Result r = RunRunner({"run", kSource + "/graphs/demo.gst", "--fatal-warnings"}, out);
  ASSERT_EQ(r.status, 0) << Describe(r);
  EXPECT_NE(r.err.find("latency per element"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("facejson"), std::string::npos) << "facejson missing from latency table";

  const std::string mp4 = ReadFile(out + "/demo.mp4");
  ASSERT_GT(mp4.size(), 1000u);
  EXPECT_EQ(mp4.substr(4, 4), "ftyp") << "not an MP4";

  std::istringstream jsonl(ReadFile(out + "/demo.jsonl"));
  int lines = 0;
  int64_t last_pts = -1;
  int with_vitals = 0, confident = 0;
  std::string summary;
  for (std::string line; std::getline(jsonl, line); ++lines) {
    ASSERT_TRUE(summary.empty()) << "a line after the summary: " << line;
    if (IsSummaryLine(line)) {
      summary = line;
      --lines;  // not a frame
      continue;
    }
    std::string err;
    const auto frame = fg::FromJsonLine(line, &err);
    ASSERT_TRUE(frame) << "line " << lines << ": " << err << ": " << line;
    EXPECT_GT(frame->pts_ns, last_pts) << "line " << lines;
    last_pts = frame->pts_ns;
    // facetrack: the astronaut, one face with one id throughout.
    ASSERT_EQ(frame->faces.size(), 1u) << "line " << lines;
    EXPECT_EQ(frame->faces[0].id, 1) << "line " << lines;
    EXPECT_EQ(frame->faces[0].landmarks.size(), 468u) << "line " << lines;
    // facevitals: the source beats at 72 bpm (heart-rate=72 in graphs/demo.gst); a
    // confident estimate is within 3 bpm (README: the synthetic grid's still-face MAE is
    // 0.12 bpm, breathing motion and noise included here).
    if (frame->faces[0].vitals) {
      ++with_vitals;
      const fg::Vitals& v = *frame->faces[0].vitals;
      if (v.confidence >= 0.5f) {
        ++confident;
        EXPECT_NEAR(v.bpm, 72.0f, 3.0f) << "line " << lines;
      }
    }
  }
  EXPECT_EQ(lines, 450);  // facesynthsrc num-buffers=450 in graphs/demo.gst
  // Vitals from 5 s of data on (min_seconds), so at most the first 150 frames lack them;
  // the worker may lag a little behind a file-speed run.
  EXPECT_GE(with_vitals, 250);
  EXPECT_GE(confident, 100) << "the clean synthetic pulse should be read confidently";
  // The session summary: one track, in every frame, all of its time happy.
  EXPECT_NE(summary.find("\"id\":1,"), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"frames\":" + std::to_string(lines) + ","), std::string::npos)
      << summary;
  EXPECT_NE(summary.find("\"emotion_share\":{\"happy\":1.0}"), std::string::npos) << summary;
  EXPECT_NE(r.err.find("facetrack"), std::string::npos) << "facetrack missing from latency table";
  EXPECT_NE(r.err.find("faceannotate"), std::string::npos) << "faceannotate missing from latency table";
}

TEST(Runner, FileTrackWithoutInputExits2SayingToSetIt) {
  const Result r = RunRunner({"run", kSource + "/graphs/file-track.gst"}, TempDir());
  EXPECT_EQ(r.status, 2) << Describe(r);
  EXPECT_NE(r.err.find("set FACEGRAPH_INPUT"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("file-track.gst"), std::string::npos) << r.err;
}

// A video file made by a graph (tests/plugins/graphs/make-video.gst), then tracked by
// graphs/file-track.gst: one JSON line per frame with the face, and an MP4.
TEST(Runner, FileTrackTracksAVideoFile) {
  const std::string out = TempDir();
  const Result made = RunRunner({"run", kGraphs + "make-video.gst", "--fatal-warnings"}, out);
  ASSERT_EQ(made.status, 0) << Describe(made);
  const Result r = RunRunner({"run", kSource + "/graphs/file-track.gst", "--fatal-warnings"}, out,
                             std::chrono::seconds(60), out + "/input.avi");
  ASSERT_EQ(r.status, 0) << Describe(r);
  const std::string mp4 = ReadFile(out + "/track.mp4");
  ASSERT_GT(mp4.size(), 1000u);
  EXPECT_EQ(mp4.substr(4, 4), "ftyp") << "not an MP4";
  std::istringstream jsonl(ReadFile(out + "/track.jsonl"));
  int lines = 0;
  for (std::string line; std::getline(jsonl, line); ++lines) {
    if (IsSummaryLine(line)) {
      --lines;  // the session summary, not a frame
      continue;
    }
    std::string err;
    const auto frame = fg::FromJsonLine(line, &err);
    ASSERT_TRUE(frame) << "line " << lines << ": " << err;
    EXPECT_EQ(frame->faces.size(), 1u) << "line " << lines;
  }
  EXPECT_EQ(lines, 10);  // num-buffers=10 in make-video.gst
}

TEST(Runner, JsonOnStdoutRunnerMessagesOnStderr) {
  const Result r = RunRunner({"run", kGraphs + "stdout.gst", "--verbose"}, TempDir());
  ASSERT_EQ(r.status, 0) << Describe(r);
  std::istringstream out(r.out);
  int lines = 0;
  for (std::string line; std::getline(out, line); ++lines) {
    if (IsSummaryLine(line)) {
      --lines;  // the session summary, not a frame
      continue;
    }
    std::string err;
    ASSERT_TRUE(fg::FromJsonLine(line, &err)) << err << ": " << line;
  }
  EXPECT_EQ(lines, 3);
  EXPECT_NE(r.err.find("latency per element"), std::string::npos) << r.err;
}

TEST(Runner, CheckParsesWithoutRunning) {
  const Result r = RunRunner({"check", kSource + "/graphs/webcam-preview.gst"}, TempDir());
  EXPECT_EQ(r.status, 0) << Describe(r);
}

TEST(Runner, ParseErrorExits2NamingTheFile) {
  const std::string file = kGraphs + "bad-syntax.gst";
  const Result r = RunRunner({"run", file}, TempDir());
  EXPECT_EQ(r.status, 2) << Describe(r);
  EXPECT_NE(r.err.find("facegraph: " + file + ": "), std::string::npos) << r.err;
}

TEST(Runner, MissingElementExits2NamingIt) {
  const std::string file = kGraphs + "missing-element.gst";
  const Result r = RunRunner({"run", file}, TempDir());
  EXPECT_EQ(r.status, 2) << Describe(r);
  EXPECT_NE(r.err.find(file), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nosuchelement"), std::string::npos) << r.err;
}

TEST(Runner, UnreadableGraphFileExits2) {
  const Result r = RunRunner({"run", "/nonexistent/graph.gst"}, TempDir());
  EXPECT_EQ(r.status, 2) << Describe(r);
  EXPECT_NE(r.err.find("/nonexistent/graph.gst"), std::string::npos) << r.err;
}

TEST(Runner, UsageErrorsExit2) {
  EXPECT_EQ(RunRunner({}, TempDir()).status, 2);
  EXPECT_EQ(RunRunner({"walk", "x.gst"}, TempDir()).status, 2);
  EXPECT_EQ(RunRunner({"run"}, TempDir()).status, 2);
  EXPECT_EQ(RunRunner({"run", "x.gst", "--frobnicate"}, TempDir()).status, 2);
}

TEST(Runner, MissingInputFileExits1NamingElementAndPath) {
  const Result r = RunRunner({"run", kGraphs + "missing-file.gst"}, TempDir());
  EXPECT_EQ(r.status, 1) << Describe(r);
  EXPECT_NE(r.err.find("filesrc0"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/nonexistent"), std::string::npos) << r.err;
}

TEST(Runner, RefusedFormatIsALinkErrorNamingElementAndFormat) {
  // The caps filter sits right before facejson, so gst_parse_launch fails to link them.
  const Result r = RunRunner({"run", kGraphs + "refused-format.gst"}, TempDir());
  EXPECT_EQ(r.status, 2) << Describe(r);
  EXPECT_NE(r.err.find("facejson0"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Y444"), std::string::npos) << r.err;
}

TEST(Runner, AbsentCameraIsAClearErrorNotACrash) {
  const Result r = RunRunner({"run", kGraphs + "no-camera.gst"}, TempDir());
  EXPECT_EQ(r.status, 1) << Describe(r);
  EXPECT_NE(r.err.find("v4l2src0"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/dev/video99"), std::string::npos) << r.err;
}

TEST(Runner, WebcamPreviewWithoutACameraFailsCleanly) {
  if (access("/dev/video0", F_OK) == 0) GTEST_SKIP() << "a camera is attached; not run here";
  const Result r = RunRunner({"run", kSource + "/graphs/webcam-preview.gst"}, TempDir(),
                       std::chrono::seconds(20));
  EXPECT_FALSE(r.timed_out) << Describe(r);
  EXPECT_EQ(r.status, 1) << Describe(r);
  EXPECT_NE(r.err.find("error from element"), std::string::npos) << r.err;
}

TEST(Runner, SigintStopsALiveGraphWith130) {
  const std::string out = TempDir();
  Child c = Start({"run", kGraphs + "live.gst", "--verbose"}, out);
  bool sent = false;
  auto sent_at = std::chrono::steady_clock::now();
  const Result r = Wait(c, std::chrono::seconds(20), [&](const std::string& err) {
    if (!sent && err.find("-> PLAYING") != std::string::npos) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let some frames flow
      kill(c.pid, SIGINT);
      sent = true;
      sent_at = std::chrono::steady_clock::now();
    }
  });
  ASSERT_TRUE(sent) << Describe(r);
  EXPECT_FALSE(r.timed_out) << Describe(r);
  EXPECT_EQ(r.status, 130) << Describe(r);
  EXPECT_LT(std::chrono::steady_clock::now() - sent_at, std::chrono::seconds(6));
  EXPECT_NE(r.err.find("end of stream"), std::string::npos) << "EOS was not awaited\n" << r.err;
  // The frames that flowed were written, each line complete.
  std::istringstream jsonl(ReadFile(out + "/live.jsonl"));
  int lines = 0;
  for (std::string line; std::getline(jsonl, line); ++lines) {
    if (IsSummaryLine(line)) {
      --lines;  // the session summary (EOS was sent), not a frame
      continue;
    }
    std::string err;
    ASSERT_TRUE(fg::FromJsonLine(line, &err)) << err << ": " << line;
  }
  EXPECT_GT(lines, 0);
}

// ---- Cameras (docs/cameras.md) ----------------------------------------------------------------

bool AnyVideoDevice() {
  for (int i = 0; i < 64; ++i)
    if (access(("/dev/video" + std::to_string(i)).c_str(), F_OK) == 0) return true;
  return false;
}

TEST(Runner, CamerasWithoutACameraSaysNoCamerasFound) {
  if (AnyVideoDevice()) GTEST_SKIP() << "a camera is attached; not run here";
  const Result r = RunRunner({"cameras"}, TempDir(), std::chrono::seconds(30));
  EXPECT_FALSE(r.timed_out) << Describe(r);
  EXPECT_EQ(r.status, 0) << Describe(r);
  EXPECT_NE(r.out.find("no cameras found"), std::string::npos) << Describe(r);
}

// The listing and the choice for a recorded mode list (a USB 2 1080p webcam): MJPG 1080p, and
// with --max-height=480 raw 640x480 (raw reaches 30 fps there).
TEST(Runner, CamerasFromAModesFilePrintTheChoiceAndItsCaps) {
  const std::string file = "--modes-file=" + kSource + "/tests/cameras/data/usb2-1080p-webcam.txt";
  Result r = RunRunner({"cameras", file}, TempDir());
  EXPECT_EQ(r.status, 0) << Describe(r);
  EXPECT_NE(r.out.find("YUY2 1280x720 @ 10, 7.50, 5 fps"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("caps:       image/jpeg,width=1920,height=1080,framerate=30/1"),
            std::string::npos) << r.out;
  r = RunRunner({"cameras", file, "--max-height=480"}, TempDir());
  EXPECT_NE(r.out.find("caps:       video/x-raw,format=YUY2,width=640,height=480,framerate=30/1"),
            std::string::npos) << r.out;
}

TEST(Runner, CamerasWithAnUnreadableModesFileExits2) {
  const Result r = RunRunner({"cameras", "--modes-file=/nonexistent/modes.txt"}, TempDir());
  EXPECT_EQ(r.status, 2) << Describe(r);
  EXPECT_NE(r.err.find("/nonexistent/modes.txt"), std::string::npos) << r.err;
}

// --camera reaches v4l2src (its error names the device) and --camera-caps the capsfilter.
TEST(Runner, CameraFlagSetsTheDeviceAndTheCaps) {
  if (access("/dev/video77", F_OK) == 0) GTEST_SKIP() << "/dev/video77 exists";
  const Result r = RunRunner({"run", kSource + "/graphs/webcam-track.gst", "--camera=/dev/video77",
                              "--camera-caps=image/jpeg,width=1280,height=720,framerate=30/1"},
                             TempDir(), std::chrono::seconds(20));
  EXPECT_EQ(r.status, 1) << Describe(r);
  EXPECT_NE(r.err.find("v4l2src"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/dev/video77"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("image/jpeg,width=1280,height=720,framerate=30/1 (given)"),
            std::string::npos) << r.err;
}

TEST(Runner, CameraFlagOnAGraphWithoutACameraIsAUsageError) {
  const Result r = RunRunner({"run", kSource + "/graphs/demo.gst", "--camera=/dev/video0"}, TempDir());
  EXPECT_EQ(r.status, 2) << Describe(r);
  EXPECT_NE(r.err.find("no v4l2src"), std::string::npos) << r.err;
}

TEST(Runner, CameraCapsThatDoNotParseAreAUsageError) {
  const Result r = RunRunner({"run", kSource + "/graphs/webcam-track.gst", "--camera-caps=video/x-raw,width=(int"},
                             TempDir());
  EXPECT_EQ(r.status, 2) << Describe(r);
  EXPECT_NE(r.err.find("camera caps do not parse"), std::string::npos) << r.err;
}

// A live source faster than its analysis: the leaky queue drops frames and the runner says how
// many. 30 frames in 1 s, 100 ms per frame downstream: about 10 pass, about 20 are dropped.
TEST(Runner, LeakyQueueDropsAreCountedAndReported) {
  const Result r = RunRunner({"run", kGraphs + "live-slow.gst"}, TempDir(), std::chrono::seconds(30));
  ASSERT_EQ(r.status, 0) << Describe(r);
  unsigned long long in = 0, dropped = 0;
  const size_t at = r.err.find("facegraph: leaky queue leak: ");
  ASSERT_NE(at, std::string::npos) << r.err;
  ASSERT_EQ(std::sscanf(r.err.c_str() + at, "facegraph: leaky queue leak: %llu frames in, %llu dropped",
                        &in, &dropped), 2) << r.err;
  EXPECT_EQ(in, 30u) << r.err;
  // Tolerance: the sleeping element passes 8-14 frames in the ~1 s the source runs (scheduling
  // on a loaded machine), so 14-22 are dropped; none dropped would mean the count is broken.
  EXPECT_GE(dropped, 14u) << r.err;
  EXPECT_LE(dropped, 22u) << r.err;
}

}  // namespace
