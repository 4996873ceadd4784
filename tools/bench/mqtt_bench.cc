// mqtt_bench: what facemqtt costs the streaming thread per frame, and what the publisher
// delivers, against a real mosquitto that the bench starts on 127.0.0.1 (a free port).
//
// Rows (median and p99 in microseconds over --frames calls, steady_clock, one thread):
//   json          fg::ToJsonLine of a frame with one face and its 468-point mesh (what
//                 facejson pays too; the payload of P/C/frames)
//   events        fg::FaceEvents::Update for that frame
//   publish-up    MqttPublisher::Publish of that line, broker connected (QoS 1)
//   publish-away  the same with the broker stopped and the buffer full (drop-oldest): the
//                 outage case, which must cost no more than the connected one
// Then: QoS 1 frame lines acknowledged per second (the --frames lines published at once,
// until Flush returns), and the line's size.
//
//   mqtt_bench [--frames=N]     (default 3000; needs /usr/sbin/mosquitto: tools/setup)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/broker/face_events.h"
#include "engine/broker/mqtt_publisher.h"
#include "engine/json.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

int FreePort() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

pid_t StartBroker(const std::string& conf, int port) {
  std::string bin = FG_MOSQUITTO, c = "-c";
  char* argv[] = {bin.data(), c.data(), const_cast<char*>(conf.c_str()), nullptr};
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv, environ) != 0) return -1;
  for (int i = 0; i < 250; ++i) {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    const bool ok = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(s);
    if (ok) return pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

void StopBroker(pid_t pid) {
  kill(pid, SIGTERM);
  int status;
  waitpid(pid, &status, 0);
}

struct Row {
  const char* name;
  std::vector<double> us;
};

void Print(Row& r) {
  std::sort(r.us.begin(), r.us.end());
  std::printf("  %-13s %10.2f %10.2f\n", r.name, r.us[r.us.size() / 2],
              r.us[std::min(r.us.size() - 1, r.us.size() * 99 / 100)]);
}

fg::FrameFaces SampleFrame() {
  fg::FrameFaces f;
  fg::Face face;
  face.id = 1;
  face.box = {247.4f, 66.5f, 87.4f, 97.2f};
  face.score = 0.99f;
  for (int i = 0; i < fg::kMeshLandmarks; ++i)
    face.landmarks.push_back({250.f + i * 0.173f, 70.f + i * 0.151f, -8.f + i * 0.011f});
  face.pose = fg::HeadPose{3.1f, -2.2f, 0.4f, std::nullopt};
  face.emotion = fg::Emotion{"neutral", {{"neutral", 0.7f}, {"happy", 0.2f}}, 0.7f, 0.1f, -0.2f};
  f.faces.push_back(face);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  int frames = 3000;
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--frames=", 9) == 0) frames = std::max(100, std::atoi(argv[i] + 9));
  char tmpl[] = "/tmp/facegraph-mqtt-bench-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const int port = FreePort();
  const std::string conf = dir + "/mosquitto.conf";
  std::ofstream(conf) << "listener " << port << " 127.0.0.1\nallow_anonymous true\n"
                      << "log_dest none\n" << (geteuid() == 0 ? "user root\n" : "");
  pid_t broker = StartBroker(conf, port);
  if (broker <= 0) {
    std::fprintf(stderr, "mqtt_bench: cannot start %s\n", FG_MOSQUITTO);
    return 1;
  }
  fg::FrameFaces frame = SampleFrame();
  fg::FaceEvents events;
  std::vector<fg::FaceEvent> out;
  Row json{"json", {}}, ev{"events", {}}, up{"publish-up", {}}, away{"publish-away", {}};
  const std::string line = fg::ToJsonLine(frame);

  fg::MqttOptions o;
  o.port = port;
  o.buffer_messages = static_cast<size_t>(frames);
  std::string error;
  auto pub = fg::MqttPublisher::Start(o, &error);
  if (!pub) {
    std::fprintf(stderr, "mqtt_bench: %s\n", error.c_str());
    StopBroker(broker);
    return 1;
  }
  const auto t_all = Clock::now();
  for (int i = 0; i < frames; ++i) {
    frame.pts_ns = i * 33'333'333LL;
    auto t0 = Clock::now();
    std::string l = fg::ToJsonLine(frame);
    auto t1 = Clock::now();
    out.clear();
    events.Update(frame, &out);
    auto t2 = Clock::now();
    pub->Publish("bench/c/frames", std::move(l));
    auto t3 = Clock::now();
    json.us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    ev.us.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
    up.us.push_back(std::chrono::duration<double, std::micro>(t3 - t2).count());
  }
  const bool flushed = pub->Flush(60);
  const double seconds = std::chrono::duration<double>(Clock::now() - t_all).count();
  const fg::MqttStats st = pub->stats();

  StopBroker(broker);  // the outage: buffer of 100, full after 100, then every call drops one
  pub.reset();
  o.buffer_messages = 100;
  o.connect_timeout_s = 0;
  auto off = fg::MqttPublisher::Start(o, &error);
  for (int i = 0; i < frames && off; ++i) {
    std::string l = line;
    auto t0 = Clock::now();
    off->Publish("bench/c/frames", std::move(l));
    away.us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  const uint64_t dropped = off ? off->stats().dropped : 0;
  off.reset();
  std::filesystem::remove_all(dir);

  std::printf("mqtt_bench: %d frames, frame line %zu bytes, QoS 1, mosquitto on loopback\n",
              frames, line.size());
  std::printf("  %-13s %10s %10s   (microseconds per frame, streaming thread)\n", "step",
              "median", "p99");
  for (Row* r : {&json, &ev, &up}) Print(*r);
  if (!away.us.empty()) Print(away);
  std::printf("delivered %llu of %d lines in %.2f s: %.0f acknowledged lines/s%s; "
              "broker away: %llu dropped of %d\n",
              static_cast<unsigned long long>(st.delivered), frames, seconds,
              st.delivered / seconds, flushed ? "" : " (flush timed out)",
              static_cast<unsigned long long>(dropped), frames);
  return flushed ? 0 : 1;
}
