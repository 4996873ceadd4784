// The live page's server (tools/runner/http_page.h) without a pipeline: address parsing, the
// endpoints, the loopback Host check, the client limits and the stats event. The server with a
// running graph, a browser and bad clients: tests/page/page_test.py.
#include "tools/runner/http_page.h"

#include <gst/gst.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace fg {
namespace {

TEST(HttpAddress, ParsesPortAddressAndV6) {
  std::string host, error;
  int port = -1;
  ASSERT_TRUE(ParseHttpAddress("8080", &host, &port, &error)) << error;
  EXPECT_EQ(host, "127.0.0.1");  // loopback unless asked
  EXPECT_EQ(port, 8080);
  ASSERT_TRUE(ParseHttpAddress("0.0.0.0:9000", &host, &port, &error));
  EXPECT_EQ(host, "0.0.0.0");
  EXPECT_EQ(port, 9000);
  ASSERT_TRUE(ParseHttpAddress("[::1]:0", &host, &port, &error));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 0);
  for (const char* bad : {"", "foo", "127.0.0.1:", ":80", "127.0.0.1:65536", "1:-1", "[::1]80", "80x"}) {
    EXPECT_FALSE(ParseHttpAddress(bad, &host, &port, &error)) << bad;
    EXPECT_NE(error.find("wants PORT or ADDRESS:PORT"), std::string::npos) << error;
  }
}

TEST(HttpAddress, Loopback) {
  for (const char* h : {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.2", "localhost"}) EXPECT_TRUE(IsLoopbackAddress(h)) << h;
  for (const char* h : {"0.0.0.0", "192.168.1.2", "::", "localhost.example", "127.example.com", "127.0.0.1.nip.io", "::ffff:10.0.0.1"}) EXPECT_FALSE(IsLoopbackAddress(h)) << h;
}

class HttpPageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpPageOptions o;
    o.port = 0;
    o.max_video_clients = 1;
    page_ = std::make_unique<HttpPage>(o);
    std::string error;
    ASSERT_TRUE(page_->Start(&error)) << error;
    ASSERT_GT(page_->port(), 0);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", page_->port());
    client_->set_read_timeout(5, 0);
  }
  std::unique_ptr<HttpPage> page_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HttpPageTest, ServesThePageFromMemory) {
  auto r = client_->Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(r->body.find("<title>facegraph live</title>"), std::string::npos);
  // Nothing from elsewhere: the page names no other origin.
  EXPECT_EQ(r->body.find("http://"), std::string::npos);
  EXPECT_EQ(r->body.find("https://"), std::string::npos);
  EXPECT_EQ(r->body.find("//cdn"), std::string::npos);
  EXPECT_EQ(page_->Url(), "http://127.0.0.1:" + std::to_string(page_->port()) + "/");
}

TEST_F(HttpPageTest, WithoutAVideoBranchVideoIs404) {
  auto r = client_->Get("/video.mjpg");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_NE(r->body.find("no video branch"), std::string::npos);
  r = client_->Get("/nothing-here");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

// Only what is switched on is served: the page by default (no /healthz, /metrics), both when
// asked (the kiosk with page = on). Any method but GET and HEAD is 405.
TEST_F(HttpPageTest, ServesOnlyWhatIsOnAndOnlyGet) {
  for (const char* path : {"/healthz", "/metrics"}) {
    auto r = client_->Get(path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404) << path;
  }
  auto post = client_->Post("/", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->get_header_value("Allow"), "GET, HEAD");
  auto head = client_->Head("/");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());

  HttpPageOptions both;
  both.port = 0;
  both.health = true;
  HttpPage kiosk(both);
  std::string error;
  ASSERT_TRUE(kiosk.Start(&error)) << error;
  httplib::Client c("127.0.0.1", kiosk.port());
  auto r = c.Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);  // nothing set yet
  EXPECT_EQ(r->body, "starting\n");
  kiosk.SetHealth("up 1\n", true, "ok\n");
  r = c.Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = c.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "up 1\n");
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  r = c.Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);  // and the page
  kiosk.Stop();
}

TEST_F(HttpPageTest, ForeignHostIsRefused) {
  auto r = client_->Get("/", {{"Host", "rebound.invalid"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  r = client_->Get("/", {{"Host", "localhost:1234"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpPageTest, StatsArePublishedAsJsonAndAsAnEvent) {
  page_->PublishStats({{"facetrack0", 100, 99, 98, 2.5, 9.75}}, 100);
  auto r = client_->Get("/stats.json");
  ASSERT_TRUE(r);
  const auto j = nlohmann::json::parse(r->body);
  EXPECT_EQ(j["frames"], 100);
  EXPECT_EQ(j["elements"][0]["name"], "facetrack0");
  EXPECT_DOUBLE_EQ(j["elements"][0]["p99_ms"].get<double>(), 9.75);
  EXPECT_FALSE(j["video"].get<bool>());
  // The event stream starts with the newest stats (after the history, empty here).
  std::string got;
  httplib::Client c("127.0.0.1", page_->port());
  c.Get("/events", [&](const char* data, size_t n) {
    got.append(data, n);
    return got.find("event: stats") == std::string::npos;  // stop once it came
  });
  EXPECT_NE(got.find("retry: 2000"), std::string::npos);
  EXPECT_NE(got.find("event: stats\ndata: {"), std::string::npos);
  EXPECT_GE(page_->counters().event_clients_total, 1u);
}

// The video branch in a real pipeline (no facegraph element: the anchor named), MJPEG read by
// a client: multipart parts that are JPEGs, and the pipeline never waits for the client.
TEST(HttpPageVideo, StreamsMjpegFromTheBranch) {
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(
      "videotestsrc is-live=true pattern=ball ! video/x-raw,width=160,height=120,framerate=30/1 "
      "! identity name=anchor ! fakesink sync=true", &err);
  ASSERT_TRUE(pipeline) << (err ? err->message : "");
  HttpPageOptions o;
  o.port = 0;
  o.anchor = "anchor";
  HttpPage page(o);
  std::string error;
  ASSERT_TRUE(page.Start(&error)) << error;
  ASSERT_TRUE(page.Attach(pipeline, &error)) << error;
  ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  httplib::Client c("127.0.0.1", page.port());
  c.set_read_timeout(5, 0);
  std::string got;
  std::string content_type;
  c.Get("/video.mjpg",
        [&](const httplib::Response& r) {
          content_type = r.get_header_value("Content-Type");
          return true;
        },
        [&](const char* data, size_t n) {
          got.append(data, n);
          return got.size() < 20000 || std::count(got.begin(), got.end(), '\xd9') < 3;
        });
  EXPECT_EQ(content_type, "multipart/x-mixed-replace; boundary=fgframe");
  const size_t first = got.find("--fgframe\r\nContent-Type: image/jpeg\r\nContent-Length: ");
  ASSERT_EQ(first, 0u) << got.substr(0, 100);
  const size_t body = got.find("\r\n\r\n") + 4;
  EXPECT_EQ(static_cast<unsigned char>(got[body]), 0xFF);  // JPEG SOI
  EXPECT_EQ(static_cast<unsigned char>(got[body + 1]), 0xD8);
  EXPECT_NE(got.find("--fgframe", body), std::string::npos);  // a second part
  // A wrong anchor is a clear error.
  HttpPageOptions bad = o;
  bad.anchor = "nope";
  HttpPage other(bad);
  EXPECT_FALSE(other.Attach(pipeline, &error));
  EXPECT_NE(error.find("no element named \"nope\""), std::string::npos) << error;
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  EXPECT_GE(page.counters().frames_sent, 2u);
}

TEST_F(HttpPageTest, BusyPortIsAnError) {
  HttpPageOptions o;
  o.port = page_->port();
  HttpPage second(o);
  std::string error;
  EXPECT_FALSE(second.Start(&error));
  EXPECT_NE(error.find("cannot listen on 127.0.0.1:" + std::to_string(o.port)), std::string::npos) << error;
}

TEST_F(HttpPageTest, StopClosesAndIsIdempotent) {
  page_->Stop();
  page_->Stop();
  auto r = client_->Get("/");
  EXPECT_FALSE(r);
}

}  // namespace
}  // namespace fg

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
