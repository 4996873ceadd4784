// The kiosk's parts without a running graph (tools/runner/kiosk.h, kiosk_config.h): the
// config parser and its errors, the generated graph, the privacy check, pixelation of every
// plane layout, and /healthz + /metrics of the runner's HTTP server (http_page.h) over a real
// loopback socket.
// tests/kiosk/kiosk_test.py runs the whole kiosk (unplug, stall, sd_notify, scraping).
#include <arpa/inet.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tools/runner/http_page.h"
#include "tools/runner/kiosk.h"

namespace {

class KioskEnv : public ::testing::Environment {
 public:
  void SetUp() override { gst_init(nullptr, nullptr); }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new KioskEnv);

TEST(KioskConfig, DefaultsAndValues) {
  fg::KioskConfig cfg;
  std::string error;
  ASSERT_TRUE(fg::ParseKioskConfig("# comment\n\n camera = /dev/video2 \njson-max-size = 64M\n"
                                   "json-max-age = 1h\nprivacy = on\nanalysis = track, vitals\n"
                                   "metrics = 127.0.0.1:0\n",
                                   "k.conf", &cfg, &error))
      << error;
  EXPECT_EQ(cfg.camera, "/dev/video2");
  EXPECT_EQ(cfg.json_max_size, 64u << 20);
  EXPECT_EQ(cfg.json_max_age_s, 3600u);
  EXPECT_TRUE(cfg.privacy);
  EXPECT_FALSE(cfg.emotion);
  EXPECT_TRUE(cfg.vitals);
  EXPECT_EQ(cfg.metrics_port, 0);
  EXPECT_EQ(cfg.stall_timeout_s, 2);  // the defaults stay
  EXPECT_EQ(cfg.max_backoff_s, 1);
}

TEST(KioskConfig, ErrorsNameTheLine) {
  struct Case {
    const char* text;
    const char* want;
  } cases[] = {
      {"display = none\nno equals sign\n", "k.conf:2: expected \"key = value\""},
      {"\n\ncolour = red\n", "k.conf:3: unknown key \"colour\""},
      {"fps = 30\nfps = 25\n", "k.conf:2: \"fps\" is set twice (first on line 1)"},
      {"json-max-size = 12Q\n", "k.conf:1: json-max-size: \"12Q\" is not a size"},
      {"display = tv\n", "k.conf:1: display: \"tv\" is not fullscreen, window or none"},
      {"analysis = emotion\n", "k.conf:1: analysis: must name track"},
      {"metrics = 9464\n", "k.conf:1: metrics: \"9464\" is not HOST:PORT or off"},
      {"stall-timeout = 0\n", "k.conf:1: stall-timeout"},
      // Values that would overflow the integer they become (found by reading; the fuzzer,
      // tools/fuzz/fuzz_kiosk_config.cc, checks the ranges of every accepted value).
      {"json-max-size = 1e30\n", "k.conf:1: json-max-size: \"1e30\" is not a size"},
      {"json-max-size = inf\n", "k.conf:1: json-max-size: \"inf\" is not a size"},
      {"json-max-age = 1e300d\n", "k.conf:1: json-max-age: \"1e300d\" is not a duration"},
      {"stall-timeout = 1e300\n", "k.conf:1: stall-timeout: \"1e300\" is not seconds (0.2 to 3600)"},
      {"max-backoff = 7200\n", "k.conf:1: max-backoff: \"7200\" is not seconds (0.1 to 3600)"},
      {"metrics = :9464\n", "k.conf:1: metrics: \":9464\" is not HOST:PORT"},
      // The page with privacy, or without a server to serve it on: named at the page line.
      {"privacy = on\n# x\npage = on\n",
       "k.conf:3: page: the live page sends the video over HTTP, which privacy = on (line 1) forbids"},
      {"page = on\nmetrics = off\n", "k.conf:1: page: the page is served on the metrics address, but metrics = off (line 2)"},
      {"page = maybe\n", "k.conf:1: page: \"maybe\" is not on or off"},
  };
  for (const Case& c : cases) {
    fg::KioskConfig cfg;
    std::string error;
    EXPECT_FALSE(fg::ParseKioskConfig(c.text, "k.conf", &cfg, &error)) << c.text;
    EXPECT_NE(error.find(c.want), std::string::npos) << "got: " << error << "\nwant: " << c.want;
  }
}

TEST(KioskConfig, PageAndV6Metrics) {
  fg::KioskConfig cfg;
  std::string error;
  ASSERT_TRUE(fg::ParseKioskConfig("page = on\nmetrics = [::1]:9000\n", "k.conf", &cfg, &error)) << error;
  EXPECT_TRUE(cfg.page);
  EXPECT_EQ(cfg.metrics_host, "::1");
  EXPECT_EQ(cfg.metrics_port, 9000);
}

// A binary or huge line: the message stays one short line (values cut to 80 bytes, control
// characters shown as '?').
TEST(KioskConfig, ErrorsQuoteValuesReadably) {
  fg::KioskConfig cfg;
  std::string error;
  EXPECT_FALSE(fg::ParseKioskConfig("fps = \x1b[2J" + std::string(5000, '9') + "\n", "k.conf", &cfg, &error));
  EXPECT_EQ(error.rfind("k.conf:1: a control character (byte 0x1b) in \"fps = ?[2J999", 0), 0u) << error;
  EXPECT_LT(error.size(), 200u) << error;
  EXPECT_EQ(error.find('\x1b'), std::string::npos);
  EXPECT_FALSE(fg::ParseKioskConfig("fps = " + std::string(5000, '9') + "\n", "k.conf", &cfg, &error));
  EXPECT_EQ(error, "k.conf:1: fps: \"" + std::string(80, '9') + "...\" is not frames per second (1 to 240)");
  EXPECT_FALSE(fg::ParseKioskConfig(std::string("json = /tmp/a\0b\n", 16), "k.conf", &cfg, &error));
  EXPECT_EQ(error, "k.conf:1: a control character (byte 0x00) in \"json = /tmp/a?b\": a kiosk config is plain text");
  EXPECT_TRUE(fg::ParseKioskConfig("fps =\t25\n", "k.conf", &cfg, &error)) << error;  // tabs are spaces
}

TEST(KioskConfig, LoadRefusesWhatIsNotAConfigFile) {
  fg::KioskConfig cfg;
  std::string error;
  const std::string dir = ::testing::TempDir();
  EXPECT_FALSE(fg::LoadKioskConfig(dir, &cfg, &error));  // a directory is not an empty config
  EXPECT_NE(error.find("not a regular file"), std::string::npos) << error;
  EXPECT_FALSE(fg::LoadKioskConfig(dir + "/no-such.conf", &cfg, &error));
  EXPECT_NE(error.find("no-such.conf: cannot read: No such file"), std::string::npos) << error;
  const std::string big = dir + "/big.conf";
  std::ofstream(big) << std::string(fg::kMaxKioskConfigBytes + 1, '#');
  EXPECT_FALSE(fg::LoadKioskConfig(big, &cfg, &error));
  EXPECT_NE(error.find("a kiosk config is at most"), std::string::npos) << error;
  std::ofstream(big) << "fps = 25\n";
  EXPECT_TRUE(fg::LoadKioskConfig(big, &cfg, &error)) << error;
  EXPECT_EQ(cfg.fps, 25);
  std::filesystem::remove(big);
}

TEST(KioskConfig, GeneratedGraph) {
  fg::KioskConfig cfg;
  std::string error;
  ASSERT_TRUE(fg::ParseKioskConfig("display = none\njson = /tmp/f.jsonl\njson-max-size = 1K\n"
                                   "json-max-files = 4\nwidth = 1280\nheight = 720\n",
                                   "k.conf", &cfg, &error));
  const std::string g = fg::KioskGraph(cfg);
  EXPECT_EQ(g.rfind("v4l2src device=\"/dev/video0\" ! video/x-raw,width=1280,height=720,framerate=30/1;"
                    "image/jpeg,width=1280,height=720,framerate=30/1 ! decodebin",
                    0),
            0u)
      << g;
  for (const char* part : {"leaky=downstream", "facetrack ! faceemotion ! facevitals bvp=true",
                           "faceannotate", "facejson location=\"/tmp/f.jsonl\" max-size=1024 max-files=4",
                           "fakesink name=display sync=true"})
    EXPECT_NE(g.find(part), std::string::npos) << part << " not in " << g;
}

// display = fullscreen follows the session: Wayland, X11, or the console through KMS.
TEST(KioskConfig, FullScreenSinkFollowsTheSession) {
  fg::KioskConfig cfg;
  std::string error;
  ASSERT_TRUE(fg::ParseKioskConfig("display = fullscreen\n", "k.conf", &cfg, &error));
  const std::string wayland = std::getenv("WAYLAND_DISPLAY") ? std::getenv("WAYLAND_DISPLAY") : "";
  const std::string x11 = std::getenv("DISPLAY") ? std::getenv("DISPLAY") : "";
  setenv("WAYLAND_DISPLAY", "wayland-0", 1);
  EXPECT_NE(fg::KioskGraph(cfg).find("! waylandsink name=display fullscreen=true"), std::string::npos);
  unsetenv("WAYLAND_DISPLAY");
  setenv("DISPLAY", ":0", 1);
  EXPECT_NE(fg::KioskGraph(cfg).find("! autovideosink name=display"), std::string::npos);
  unsetenv("DISPLAY");
  EXPECT_NE(fg::KioskGraph(cfg).find("! kmssink name=display"), std::string::npos);
  if (!wayland.empty()) setenv("WAYLAND_DISPLAY", wayland.c_str(), 1);
  if (!x11.empty()) setenv("DISPLAY", x11.c_str(), 1);
  cfg.display_sink = "kmssink connector-id=32";
  EXPECT_NE(fg::KioskGraph(cfg).find("! videoconvert ! kmssink connector-id=32"), std::string::npos);
}

// Privacy: parses a pipeline and checks it.
bool Private(const char* description, std::string* error) {
  GError* e = nullptr;
  GstElement* p = gst_parse_launch(description, &e);
  EXPECT_TRUE(p && !e) << description << ": " << (e ? e->message : "");
  g_clear_error(&e);
  if (!p) return false;
  const bool ok = fg::CheckPrivacy(p, error);
  gst_object_unref(p);
  return ok;
}

TEST(KioskPrivacy, OnlyDisplaysMayTakeFrames) {
  std::string error;
  EXPECT_TRUE(Private("videotestsrc ! videoconvert ! fakesink", &error)) << error;
  EXPECT_TRUE(Private("videotestsrc ! tee name=t ! queue ! fakesink t. ! queue ! autovideosink", &error))
      << error;
  EXPECT_FALSE(Private("videotestsrc ! videoconvert ! filesink name=out location=/dev/null", &error));
  EXPECT_NE(error.find("element out (filesink) is a sink that is not a display"), std::string::npos)
      << error;
  EXPECT_FALSE(Private("videotestsrc ! jpegenc name=enc ! fakesink", &error));
  EXPECT_NE(error.find("enc (jpegenc) is an encoder"), std::string::npos) << error;
  EXPECT_FALSE(Private("videotestsrc ! tee name=t ! queue ! fakesink t. ! queue ! "
                       "multifilesink name=m location=/tmp/x%d",
                       &error));
  EXPECT_NE(error.find("m (multifilesink)"), std::string::npos) << error;
}

// A frame of `format`, every byte a function of its position, pixelated in the middle.
struct Pixelated {
  std::vector<uint8_t> before, after;
  GstVideoInfo info;
};

Pixelated Pixelate(GstVideoFormat format, int x, int y, int w, int h, int block) {
  Pixelated r;
  gst_video_info_set_format(&r.info, format, 64, 48);
  GstBuffer* buffer = gst_buffer_new_allocate(nullptr, r.info.size, nullptr);
  GstMapInfo map;
  gst_buffer_map(buffer, &map, GST_MAP_WRITE);
  for (size_t i = 0; i < map.size; ++i) map.data[i] = static_cast<uint8_t>((i * 37 + i / 7) & 0xff);
  r.before.assign(map.data, map.data + map.size);
  gst_buffer_unmap(buffer, &map);
  GstVideoFrame frame;
  EXPECT_TRUE(gst_video_frame_map(&frame, &r.info, buffer, GST_MAP_READWRITE));
  EXPECT_TRUE(fg::PixelateRegion(&frame, x, y, w, h, block));
  gst_video_frame_unmap(&frame);
  gst_buffer_map(buffer, &map, GST_MAP_READ);
  r.after.assign(map.data, map.data + map.size);
  gst_buffer_unmap(buffer, &map);
  gst_buffer_unref(buffer);
  return r;
}

// Inside the region, within one block, every component's samples are equal; outside the
// (chroma-rounded) region nothing changed; padding bytes of RGBx never change.
TEST(KioskBlur, EveryLayout) {
  for (GstVideoFormat format : {GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_NV12, GST_VIDEO_FORMAT_YUY2,
                                GST_VIDEO_FORMAT_RGB, GST_VIDEO_FORMAT_RGBx, GST_VIDEO_FORMAT_GRAY8}) {
    SCOPED_TRACE(gst_video_format_to_string(format));
    const Pixelated p = Pixelate(format, 16, 8, 32, 16, 8);  // blocks aligned to the region
    const GstVideoInfo& info = p.info;
    const int ncomp = GST_VIDEO_INFO_N_COMPONENTS(&info);
    int changed = 0;
    for (int c = 0; c < ncomp; ++c) {
      const int plane = GST_VIDEO_INFO_COMP_PLANE(&info, c);
      const int ps = GST_VIDEO_INFO_COMP_PSTRIDE(&info, c);
      const int ws = GST_VIDEO_FORMAT_INFO_W_SUB(info.finfo, c);
      const int hs = GST_VIDEO_FORMAT_INFO_H_SUB(info.finfo, c);
      auto at = [&](const std::vector<uint8_t>& d, int px, int py) {
        return d[GST_VIDEO_INFO_PLANE_OFFSET(&info, plane) +
                 static_cast<size_t>(py) * GST_VIDEO_INFO_PLANE_STRIDE(&info, plane) +
                 GST_VIDEO_INFO_COMP_POFFSET(&info, c) + static_cast<size_t>(px) * ps];
      };
      const int cw = GST_VIDEO_INFO_COMP_WIDTH(&info, c), ch = GST_VIDEO_INFO_COMP_HEIGHT(&info, c);
      for (int py = 0; py < ch; ++py)
        for (int px = 0; px < cw; ++px) {
          const int fx = px << ws, fy = py << hs;  // the frame pixel of this sample
          const bool inside = fx >= 16 && fx < 48 && fy >= 8 && fy < 24;
          if (!inside) {
            ASSERT_EQ(at(p.after, px, py), at(p.before, px, py)) << "outside changed at " << fx << "," << fy;
            continue;
          }
          // The block's first sample holds the block's value.
          const int bx = 16 + (fx - 16) / 8 * 8, by = 8 + (fy - 8) / 8 * 8;
          ASSERT_EQ(at(p.after, px, py), at(p.after, bx >> ws, by >> hs)) << "comp " << c << " at " << fx << "," << fy;
          changed += at(p.after, px, py) != at(p.before, px, py);
        }
    }
    EXPECT_GT(changed, 100);
    if (format == GST_VIDEO_FORMAT_RGBx) {
      for (size_t i = 3; i < p.after.size(); i += 4) ASSERT_EQ(p.after[i], p.before[i]) << "padding byte " << i;
    }
  }
}

TEST(KioskBlur, ClipsToTheFrame) {
  const Pixelated p = Pixelate(GST_VIDEO_FORMAT_I420, -20, -20, 30, 30, 8);
  EXPECT_NE(p.after, p.before);  // the corner that is inside
  const Pixelated q = Pixelate(GST_VIDEO_FORMAT_I420, 100, 100, 30, 30, 8);
  EXPECT_EQ(q.after, q.before);  // wholly outside: nothing
}

// One request on a new connection; the response (head and body) as it came. It reads one whole
// response by its Content-Length and closes: the server may keep an HTTP/1.1 connection open
// (keep-alive, 2 s), and it drops the answer to a client that half-closed its end.
std::string Get(int port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  char buf[1024];
  size_t want = std::string::npos;  // head + body, once the head is in
  while (out.size() < want) {
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    const size_t head = out.find("\r\n\r\n");
    if (want == std::string::npos && head != std::string::npos) {
      std::string lower = out.substr(0, head);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const size_t cl = lower.find("\r\ncontent-length:");
      const size_t body = request.rfind("HEAD ", 0) == 0 || cl == std::string::npos
                              ? 0
                              : std::strtoul(lower.c_str() + cl + 17, nullptr, 10);
      want = head + 4 + body;
    }
  }
  close(fd);
  return out;
}

// The kiosk's server: the runner's HTTP server (http_page.h) with only /healthz and /metrics.
fg::HttpPageOptions HealthOnly(int port) {
  fg::HttpPageOptions o;
  o.port = port;
  o.page = false;
  o.health = true;
  o.max_connections = 8;
  return o;
}

TEST(KioskHttp, ServesHealthAndMetrics) {
  fg::HttpPage http(HealthOnly(0));
  std::string error;
  ASSERT_TRUE(http.Start(&error)) << error;
  ASSERT_GT(http.port(), 0);
  const std::string starting = Get(http.port(), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(starting.rfind("HTTP/1.1 503", 0), 0u) << starting;
  EXPECT_NE(starting.find("\r\n\r\nstarting\n"), std::string::npos) << starting;
  http.SetHealth("# TYPE up gauge\nup 1\n", true, "ok\n");
  // HTTP/1.0 without Host (curl -0, a shell script): answered, and the connection closed.
  const std::string h = Get(http.port(), "GET /healthz HTTP/1.0\r\n\r\n");
  EXPECT_EQ(h.rfind("HTTP/1.1 200 OK", 0), 0u) << h;
  EXPECT_NE(h.find("\r\n\r\nok\n"), std::string::npos) << h;
  const std::string m = Get(http.port(), "GET /metrics?x=1 HTTP/1.1\r\nHost: localhost:9464\r\n"
                                         "Connection: close\r\n\r\n");
  EXPECT_NE(m.find("text/plain; version=0.0.4"), std::string::npos) << m;
  EXPECT_NE(m.find("\r\n\r\n# TYPE up gauge\nup 1\n"), std::string::npos) << m;
  const std::string head = Get(http.port(), "HEAD /metrics HTTP/1.0\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
  EXPECT_EQ(head.find("up 1"), std::string::npos) << head;  // no body
  http.SetHealth("", false, "unhealthy: source lost, reconnecting\n");
  EXPECT_EQ(Get(http.port(), "GET /healthz HTTP/1.0\r\n\r\n").rfind("HTTP/1.1 503", 0), 0u);
  // Only the health endpoints: the page's are not there.
  for (const char* path : {"/x", "/", "/video.mjpg", "/events", "/stats.json"})
    EXPECT_EQ(Get(http.port(), std::string("GET ") + path + " HTTP/1.0\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u) << path;
  EXPECT_EQ(Get(http.port(), "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n").rfind("HTTP/1.1 405", 0), 0u);
  EXPECT_EQ(Get(http.port(), "GARBAGE\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  EXPECT_EQ(Get(http.port(), "GET /" + std::string(9000, 'A') + " HTTP/1.0\r\n\r\n").rfind("HTTP/1.1 414", 0), 0u);
  // On loopback a foreign Host is refused (DNS rebinding), as for the page.
  EXPECT_EQ(Get(http.port(), "GET /metrics HTTP/1.1\r\nHost: evil.example\r\n\r\n").rfind("HTTP/1.1 403", 0), 0u);
  // A second server on the same port: a clear error.
  fg::HttpPage other(HealthOnly(http.port()));
  EXPECT_FALSE(other.Start(&error));
  EXPECT_NE(error.find("cannot listen on 127.0.0.1:" + std::to_string(http.port()) + " (address in use)"),
            std::string::npos) << error;
  http.Stop();
}

// A client that sends half a request and waits: closed after the read timeout (2 s), and the
// server answers the next client meanwhile (it is not one connection at a time any more).
TEST(KioskHttp, SlowClientDoesNotBlockOthers) {
  fg::HttpPage http(HealthOnly(0));
  std::string error;
  ASSERT_TRUE(http.Start(&error)) << error;
  http.SetHealth("up 1\n", true, "ok\n");
  const int slow = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(http.port()));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(connect(slow, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_GT(send(slow, "GET /metr", 9, 0), 0);
  EXPECT_EQ(Get(http.port(), "GET /healthz HTTP/1.0\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
  timeval tv{10, 0};
  setsockopt(slow, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[256];
  const ssize_t n = recv(slow, buf, sizeof buf, 0);  // the server gives up on it: closed (0) or 400
  EXPECT_TRUE(n == 0 || (n > 0 && std::string(buf, static_cast<size_t>(n)).rfind("HTTP/1.1 400", 0) == 0)) << n;
  close(slow);
}

}  // namespace
