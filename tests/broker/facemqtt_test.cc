// facemqtt in a running graph against a real mosquitto on loopback:
//   facesynthsrc ! facetrack ! facemqtt ! fakesink
// every frame's line arrives on P/C/frames in order (QoS 1) with the events and the status;
// the broker stopped mid-run and restarted: nothing lost with a large buffer, drops counted
// exactly (received + dropped == sent) with a small one; refused credentials fail the start
// with an error that says so.
#include <gst/gst.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <thread>

#include "plugins/gstfaceemotion.h"
#include "plugins/gstfacemqtt.h"
#include "plugins/gstfacesynthsrc.h"
#include "plugins/gstfacetrack.h"
#include "plugins/gstfacevitals.h"
#include "tests/broker/mqtt_test_util.h"

namespace {

gboolean RegisterElements(GstPlugin* plugin) {
  return GST_ELEMENT_REGISTER(facesynthsrc, plugin) && GST_ELEMENT_REGISTER(facetrack, plugin) &&
         GST_ELEMENT_REGISTER(faceemotion, plugin) && GST_ELEMENT_REGISTER(facevitals, plugin) &&
         GST_ELEMENT_REGISTER(facemqtt, plugin);
}

class FaceMqtt : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    g_setenv("GST_PLUGIN_PATH", "", FALSE);
    g_setenv("GST_REGISTRY_FORK", "no", FALSE);
    gst_init(nullptr, nullptr);
    ASSERT_TRUE(gst_plugin_register_static(GST_VERSION_MAJOR, GST_VERSION_MINOR, "facegraph",
                                           "facegraph elements (static, tests)", RegisterElements,
                                           "0", "MIT/X11", "facegraph", "facegraph", "facegraph"));
  }
  void SetUp() override {
    char tmpl[] = "/tmp/facegraph-facemqtt-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

struct RunResult {
  bool eos = false;
  std::string error;
  guint64 sent = 0, delivered = 0, dropped = 0;
  int stats_messages = 0;
};

// Runs the pipeline to EOS (or error); `during` is called every 50 ms with the seconds since
// PLAYING (the outage tests stop and start the broker from there).
RunResult RunGraph(const std::string& description, const std::function<void(double)>& during = {}) {
  RunResult r;
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(description.c_str(), &err);
  if (!pipeline) {
    r.error = err ? err->message : "parse failed";
    g_clear_error(&err);
    return r;
  }
  GstBus* bus = gst_element_get_bus(pipeline);
  const auto t0 = std::chrono::steady_clock::now();
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    r.error = "state change failed";
  for (bool done = false; !done;) {
    GstMessage* msg = gst_bus_timed_pop_filtered(
        bus, 50 * GST_MSECOND,
        static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT));
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (during) during(t);
    if (t > 60) {
      r.error += " timeout";
      break;
    }
    if (!msg) continue;
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) {
      r.eos = true;
      done = true;
    } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
      GError* e = nullptr;
      gst_message_parse_error(msg, &e, nullptr);
      r.error += e->message;
      g_clear_error(&e);
      done = true;
    } else if (gst_message_has_name(msg, "facemqtt-stats")) {
      ++r.stats_messages;
    }
    gst_message_unref(msg);
  }
  GstElement* mqtt = gst_bin_get_by_name(GST_BIN(pipeline), "mqtt");
  gst_element_set_state(pipeline, GST_STATE_NULL);
  if (mqtt) {
    g_object_get(mqtt, "sent", &r.sent, "delivered", &r.delivered, "dropped", &r.dropped, nullptr);
    gst_object_unref(mqtt);
  }
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  return r;
}

std::vector<int64_t> FramePts(const std::vector<fgtest::Received>& msgs, const std::string& topic,
                              int* duplicates, bool* increasing) {
  std::vector<int64_t> pts;
  std::set<int64_t> seen;
  *duplicates = 0;
  *increasing = true;
  for (const auto& m : msgs) {
    if (m.topic != topic) continue;
    const int64_t p = nlohmann::json::parse(m.payload)["pts"].get<int64_t>();
    if (!seen.insert(p).second) {
      ++*duplicates;
      continue;
    }
    if (!pts.empty() && p <= pts.back()) *increasing = false;
    pts.push_back(p);
  }
  return pts;
}

TEST_F(FaceMqtt, EveryFrameAndItsEventsArriveInOrder) {
  fgtest::Broker broker(dir_);
  ASSERT_TRUE(broker.Start());
  fgtest::Subscriber sub(broker.port(), "sub", "facegraph/#");
  ASSERT_TRUE(sub.WaitSubscribed(5));
  const RunResult r =
      RunGraph("facesynthsrc num-buffers=45 ! facetrack ! facemqtt name=mqtt camera=lobby port=" +
          std::to_string(broker.port()) + " ! fakesink");
  ASSERT_TRUE(r.eos) << r.error;
  ASSERT_TRUE(sub.WaitFor(
      [](auto& m) { return !m.empty() && m.back().topic == "facegraph/lobby/status" &&
                           m.back().payload == "offline"; },
      5));
  const auto msgs = sub.messages();
  int dup;
  bool increasing;
  const auto pts = FramePts(msgs, "facegraph/lobby/frames", &dup, &increasing);
  EXPECT_EQ(pts.size(), 45u);
  EXPECT_TRUE(increasing);
  EXPECT_EQ(dup, 0);
  // In publication order: online, frame 0, appear (of frame 0), ..., leave, summary, offline.
  EXPECT_EQ(msgs.front().topic, "facegraph/lobby/status");
  EXPECT_EQ(msgs.front().payload, "online");
  EXPECT_EQ(msgs[1].topic, "facegraph/lobby/frames");
  EXPECT_EQ(msgs[2].topic, "facegraph/lobby/events/appear");
  const auto appear = nlohmann::json::parse(msgs[2].payload);
  EXPECT_EQ(appear["pts"], 0);
  EXPECT_GE(appear["id"].get<int>(), 0);
  const size_t n = msgs.size();
  ASSERT_GE(n, 4u);
  EXPECT_EQ(msgs[n - 3].topic, "facegraph/lobby/events/leave");
  EXPECT_EQ(nlohmann::json::parse(msgs[n - 3].payload)["reason"], "end");
  EXPECT_EQ(msgs[n - 2].topic, "facegraph/lobby/summary");
  EXPECT_EQ(r.sent, 45u + 3u);  // frames, appear, leave, summary
  EXPECT_EQ(r.delivered, r.sent);
  EXPECT_EQ(r.dropped, 0u);
  EXPECT_GE(r.stats_messages, 1);  // at least the one at EOS
}

// The events of the full analysis: the emotion label (its first, "previous": null) and the
// heart rate with its confidence once facevitals has 5 s of pulse (the source's truth: 72 bpm;
// tolerance 5 bpm, what the synthetic grid holds with a wide margin, docs/vitals-synthetic.md).
TEST_F(FaceMqtt, EmotionAndHeartRateEvents) {
  fgtest::Broker broker(dir_);
  ASSERT_TRUE(broker.Start());
  fgtest::Subscriber sub(broker.port(), "sub", "facegraph/v/events/#");
  ASSERT_TRUE(sub.WaitSubscribed(5));
  const RunResult r = RunGraph(
      "facesynthsrc num-buffers=200 heart-rate=72 ! facetrack ! faceemotion ! facevitals "
      "! facemqtt name=mqtt camera=v frames=false heart-rate-interval=1 port=" +
      std::to_string(broker.port()) + " ! fakesink");
  ASSERT_TRUE(r.eos) << r.error;
  ASSERT_TRUE(sub.WaitFor([](auto& m) { return !m.empty() && m.back().topic ==
                                                 "facegraph/v/events/leave"; }, 5));
  std::vector<nlohmann::json> emotions, rates;
  for (const auto& m : sub.messages()) {
    if (m.topic == "facegraph/v/events/emotion") emotions.push_back(nlohmann::json::parse(m.payload));
    if (m.topic == "facegraph/v/events/heart_rate") rates.push_back(nlohmann::json::parse(m.payload));
  }
  ASSERT_FALSE(emotions.empty());
  EXPECT_TRUE(emotions[0]["previous"].is_null());
  EXPECT_TRUE(emotions[0]["label"].is_string());
  ASSERT_FALSE(rates.empty()) << "no heart_rate event in 6.7 s of a face with a pulse";
  EXPECT_LE(rates.size(), 3u);  // at most one per second of the 1.7 s after the 5 s window
  for (size_t i = 1; i < rates.size(); ++i)
    EXPECT_GE(rates[i]["pts"].get<int64_t>() - rates[i - 1]["pts"].get<int64_t>(), 1'000'000'000);
  const auto& last = rates.back();
  EXPECT_NEAR(last["bpm"].get<double>(), 72.0, 5.0) << last.dump();
  EXPECT_GE(last["confidence"].get<double>(), 0.0);
  EXPECT_LE(last["confidence"].get<double>(), 1.0);
  EXPECT_EQ(r.dropped, 0u);
}

// 120 live frames (4 s); the broker is stopped after 1 s and restarted after 2 s.
void Outage(const std::string& dir, unsigned buffer, RunResult* r, size_t* received,
            bool* increasing, std::string* log) {
  fgtest::Broker broker(dir);
  ASSERT_TRUE(broker.Start());
  fgtest::Subscriber sub(broker.port(), "sub", "facegraph/#");
  ASSERT_TRUE(sub.WaitSubscribed(5));
  bool stopped = false, restarted = false;
  *r = RunGraph("facesynthsrc is-live=true num-buffers=120 ! facetrack ! facemqtt name=mqtt "
           "camera=c port=" + std::to_string(broker.port()) +
               " buffer-size=" + std::to_string(buffer) + " flush-timeout=10 ! fakesink",
           [&](double t) {
             if (t > 1.0 && !stopped) {
               broker.Stop();
               stopped = true;
             }
             if (t > 2.0 && !restarted) {
               broker.Start();
               restarted = true;
             }
           });
  ASSERT_TRUE(r->eos) << r->error;
  ASSERT_TRUE(restarted);
  // Everything except the status: frames, events, summary (each counted by `sent`).
  auto unique = [&](const std::vector<fgtest::Received>& m) {
    std::set<std::string> s;
    for (const auto& x : m)
      if (x.topic != "facegraph/c/status") s.insert(x.topic + x.payload);
    return s.size();
  };
  sub.WaitFor([&](auto& m) { return unique(m) >= r->delivered; }, 10);
  const auto msgs = sub.messages();
  *received = unique(msgs);
  int dup;
  FramePts(msgs, "facegraph/c/frames", &dup, increasing);
  *log = broker.log();
}

TEST_F(FaceMqtt, BrokerRestartMidRunLosesNothingWithALargeBuffer) {
  RunResult r;
  size_t received = 0;
  bool increasing = false;
  std::string log;
  Outage(dir_, 1000, &r, &received, &increasing, &log);
  EXPECT_EQ(r.dropped, 0u);
  EXPECT_EQ(r.delivered, r.sent);
  EXPECT_GE(r.sent, 120u + 3u);
  EXPECT_EQ(received, r.sent) << log;
  EXPECT_TRUE(increasing);
}

TEST_F(FaceMqtt, BrokerRestartMidRunWithASmallBufferCountsDropsExactly) {
  RunResult r;
  size_t received = 0;
  bool increasing = false;
  std::string log;
  Outage(dir_, 5, &r, &received, &increasing, &log);
  EXPECT_GT(r.dropped, 0u);
  EXPECT_EQ(received + r.dropped, r.sent) << log;
  EXPECT_TRUE(increasing);
}

TEST_F(FaceMqtt, RefusedCredentialsFailTheStartWithAClearError) {
  fgtest::Broker broker(dir_, "camera", "s3cret");
  ASSERT_TRUE(broker.Start());
  const RunResult r = RunGraph("facesynthsrc num-buffers=5 ! facemqtt name=mqtt username=camera "
                          "password=wrong port=" + std::to_string(broker.port()) + " ! fakesink");
  EXPECT_FALSE(r.eos);
  EXPECT_NE(r.error.find("refused the connection"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("check username and password"), std::string::npos) << r.error;
  const RunResult ok = RunGraph("facesynthsrc num-buffers=5 ! facemqtt name=mqtt username=camera "
                           "password=s3cret port=" + std::to_string(broker.port()) + " ! fakesink");
  EXPECT_TRUE(ok.eos) << ok.error;
  EXPECT_EQ(ok.delivered, ok.sent);
}

}  // namespace
