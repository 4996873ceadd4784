// fg::MqttPublisher against a real mosquitto on loopback (tests/broker/mqtt_test_util.h):
// order and completeness with QoS 1, a broker that goes away and comes back (nothing lost with
// a large enough buffer; drops counted exactly with a small one), refused credentials, and
// the retained status with its last will.
#include "engine/broker/mqtt_publisher.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "tests/broker/mqtt_test_util.h"

extern char** environ;

namespace {

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/facegraph-broker-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

// "seq N" payloads in the order received: the first arrival of each number (QoS 1 may repeat
// a message that was in flight when the broker went away) must be increasing.
struct Sequence {
  std::vector<int> first;  // unique, in arrival order
  int duplicates = 0;
  bool increasing = true;
};

Sequence Read(const std::vector<fgtest::Received>& msgs, const std::string& topic) {
  Sequence s;
  std::set<int> seen;
  for (const auto& m : msgs) {
    if (m.topic != topic) continue;
    const int n = std::atoi(m.payload.c_str() + 4);
    if (!seen.insert(n).second) {
      ++s.duplicates;
      continue;
    }
    if (!s.first.empty() && n <= s.first.back()) s.increasing = false;
    s.first.push_back(n);
  }
  return s;
}

fg::MqttOptions Options(int port) {
  fg::MqttOptions o;
  o.port = port;
  o.reconnect_min_s = 1;
  o.reconnect_max_s = 1;
  o.connect_timeout_s = 5;
  return o;
}

TEST(MqttPublisher, EveryMessageArrivesInOrderWithQos1) {
  TempDir dir;
  fgtest::Broker broker(dir.path);
  ASSERT_TRUE(broker.Start());
  fgtest::Subscriber sub(broker.port(), "sub-order", "t/#");
  ASSERT_TRUE(sub.WaitSubscribed(5));
  std::string error, warning;
  constexpr int kN = 2000;
  fg::MqttOptions o = Options(broker.port());
  o.buffer_messages = kN;  // all at once, faster than the network: they all wait
  auto pub = fg::MqttPublisher::Start(o, &error, &warning);
  ASSERT_TRUE(pub) << error;
  EXPECT_EQ(warning, "");
  for (int i = 0; i < kN; ++i) pub->Publish("t/seq", "seq " + std::to_string(i));
  ASSERT_TRUE(pub->Flush(10));
  const fg::MqttStats st = pub->stats();
  EXPECT_EQ(st.offered, uint64_t{kN});
  EXPECT_EQ(st.delivered, uint64_t{kN});
  EXPECT_EQ(st.dropped, 0u);
  ASSERT_TRUE(sub.WaitFor([](auto& m) { return m.size() >= kN; }, 10));
  const Sequence s = Read(sub.messages(), "t/seq");
  ASSERT_EQ(s.first.size(), size_t{kN});
  EXPECT_TRUE(s.increasing);
  EXPECT_EQ(s.duplicates, 0);  // no outage, no repeats
}

// Publishes 600 messages over 3 s; the broker is stopped after 0.75 s and restarted 1 s later.
// Returns the publisher's counters; *seq gets what the subscriber received.
fg::MqttStats Outage(size_t buffer, fg::DropPolicy policy, Sequence* seq, std::string* log) {
  TempDir dir;
  fgtest::Broker broker(dir.path);
  EXPECT_TRUE(broker.Start());
  auto sub = std::make_unique<fgtest::Subscriber>(broker.port(), "sub-outage", "t/#");
  EXPECT_TRUE(sub->WaitSubscribed(5));
  fg::MqttOptions o = Options(broker.port());
  o.buffer_messages = buffer;
  o.policy = policy;
  std::string error;
  auto pub = fg::MqttPublisher::Start(o, &error);
  EXPECT_TRUE(pub) << error;
  if (!pub) return {};
  constexpr int kN = 600;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kN; ++i) {
    if (i == 150) broker.Stop();
    if (i == 350) {
      EXPECT_TRUE(broker.Start());
    }
    // Publish never waits for the network: each call returns at once, broker or not.
    const auto before = std::chrono::steady_clock::now();
    pub->Publish("t/seq", "seq " + std::to_string(i));
    EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::milliseconds(50));
    std::this_thread::sleep_until(t0 + std::chrono::milliseconds(5 * (i + 1)));
  }
  EXPECT_TRUE(pub->Flush(15));
  const fg::MqttStats st = pub->stats();
  EXPECT_GE(st.connections, 2u);
  sub->WaitFor([&](auto& m) { return Read(m, "t/seq").first.size() >= st.delivered; }, 10);
  *seq = Read(sub->messages(), "t/seq");
  *log = broker.log();
  return st;
}

TEST(MqttPublisher, BrokerRestartLosesNothingWithALargeEnoughBuffer) {
  Sequence seq;
  std::string log;
  const fg::MqttStats st = Outage(1000, fg::DropPolicy::kDropOldest, &seq, &log);
  EXPECT_EQ(st.offered, 600u);
  EXPECT_EQ(st.dropped, 0u);
  EXPECT_EQ(st.delivered, 600u);
  EXPECT_EQ(seq.first.size(), 600u) << "duplicates " << seq.duplicates << "\n" << log;
  EXPECT_TRUE(seq.increasing);
}

TEST(MqttPublisher, BrokerRestartWithASmallBufferCountsEveryDrop) {
  for (fg::DropPolicy policy : {fg::DropPolicy::kDropOldest, fg::DropPolicy::kDropNewest}) {
    SCOPED_TRACE(fg::DropPolicyName(policy));
    Sequence seq;
    std::string log;
    const fg::MqttStats st = Outage(20, policy, &seq, &log);
    EXPECT_EQ(st.offered, 600u);
    EXPECT_GT(st.dropped, 100u);  // ~1-2 s at 200 messages/s against 20 places
    EXPECT_EQ(st.delivered + st.dropped, st.offered);
    // Exactly: everything not dropped arrived, once counted.
    EXPECT_EQ(seq.first.size() + st.dropped, st.offered) << log;
    EXPECT_TRUE(seq.increasing);
    if (policy == fg::DropPolicy::kDropNewest) {
      // The start of the outage is kept: 150..169 arrive, the last before the gap.
      EXPECT_NE(std::find(seq.first.begin(), seq.first.end(), 150), seq.first.end());
    }
  }
}

TEST(MqttPublisher, RefusedCredentialsFailTheStartWithAClearError) {
  TempDir dir;
  fgtest::Broker broker(dir.path, "camera", "s3cret");
  ASSERT_TRUE(broker.Start());
  fg::MqttOptions o = Options(broker.port());
  std::string error;
  o.username = "camera";
  o.password = "wrong";
  EXPECT_FALSE(fg::MqttPublisher::Start(o, &error));
  EXPECT_NE(error.find("refused the connection"), std::string::npos) << error;
  EXPECT_NE(error.find("check username and password"), std::string::npos) << error;
  EXPECT_NE(error.find(std::to_string(broker.port())), std::string::npos) << error;
  o.username.clear();
  o.password.clear();
  error.clear();
  EXPECT_FALSE(fg::MqttPublisher::Start(o, &error));
  EXPECT_NE(error.find("wants a username and password"), std::string::npos) << error;
  o.username = "camera";
  o.password = "s3cret";
  error.clear();
  auto pub = fg::MqttPublisher::Start(o, &error);
  EXPECT_TRUE(pub) << error;
}

TEST(MqttPublisher, BadSettingsFailTheStart) {
  fg::MqttOptions o = Options(fgtest::FreePort());
  std::string error;
  o.tls_ca_file = "/nonexistent/ca.pem";
  EXPECT_FALSE(fg::MqttPublisher::Start(o, &error));
  EXPECT_NE(error.find("/nonexistent/ca.pem"), std::string::npos) << error;
  o = Options(fgtest::FreePort());
  o.host = "no-such-host.invalid";
  EXPECT_FALSE(fg::MqttPublisher::Start(o, &error));
  EXPECT_NE(error.find("resolve"), std::string::npos) << error;
}

TEST(MqttPublisher, UnreachableBrokerBuffersAndDeliversWhenItComes) {
  TempDir dir;
  fgtest::Broker broker(dir.path);  // not started yet
  fg::MqttOptions o = Options(broker.port());
  o.connect_timeout_s = 0.2;
  std::string error, warning;
  auto pub = fg::MqttPublisher::Start(o, &error, &warning);
  ASSERT_TRUE(pub) << error;
  EXPECT_NE(warning.find("buffered"), std::string::npos) << warning;
  for (int i = 0; i < 50; ++i) pub->Publish("t/seq", "seq " + std::to_string(i));
  EXPECT_FALSE(pub->stats().connected);
  EXPECT_EQ(pub->stats().buffered, 50u);
  ASSERT_TRUE(broker.Start());
  EXPECT_TRUE(pub->Flush(10));
  EXPECT_EQ(pub->stats().delivered, 50u);
}

// A CA and a broker certificate for 127.0.0.1 made at test time (openssl), and a second CA
// that did not sign it.
bool MakeCertificates(const std::string& d) {
  auto key = [&](const std::string& name) {
    return fgtest::RunCommand({"openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout",
                               "-out", d + "/" + name + ".key"}) == 0;
  };
  auto ca = [&](const std::string& name) {
    return key(name) && fgtest::RunCommand({"openssl", "req", "-x509", "-new", "-key",
                                            d + "/" + name + ".key", "-out", d + "/" + name + ".crt",
                                            "-days", "1", "-subj", "/CN=" + name}) == 0;
  };
  std::ofstream(d + "/san.ext") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
  return ca("ca") && ca("other-ca") && key("server") &&
         fgtest::RunCommand({"openssl", "req", "-new", "-key", d + "/server.key", "-out",
                             d + "/server.csr", "-subj", "/CN=127.0.0.1"}) == 0 &&
         fgtest::RunCommand({"openssl", "x509", "-req", "-in", d + "/server.csr", "-CA",
                             d + "/ca.crt", "-CAkey", d + "/ca.key", "-CAcreateserial", "-out",
                             d + "/server.crt", "-days", "1", "-extfile", d + "/san.ext"}) == 0;
}

TEST(MqttPublisher, TlsWithTheRightCaDeliversAndWithAnotherCaFailsClearly) {
  TempDir dir;
  ASSERT_TRUE(MakeCertificates(dir.path));
  fgtest::Broker broker(dir.path, "", "",
                        "cafile " + dir.path + "/ca.crt\ncertfile " + dir.path +
                            "/server.crt\nkeyfile " + dir.path + "/server.key\n");
  ASSERT_TRUE(broker.Start());
  fg::MqttOptions o = Options(broker.port());
  o.tls_ca_file = dir.path + "/ca.crt";
  std::string error, warning;
  {
    auto pub = fg::MqttPublisher::Start(o, &error, &warning);
    ASSERT_TRUE(pub) << error;
    EXPECT_EQ(warning, "");
    for (int i = 0; i < 10; ++i) pub->Publish("t/seq", "seq " + std::to_string(i));
    EXPECT_TRUE(pub->Flush(5));
    EXPECT_EQ(pub->stats().delivered, 10u);
  }
  o.tls_ca_file = dir.path + "/other-ca.crt";
  o.connect_timeout_s = 5;
  EXPECT_FALSE(fg::MqttPublisher::Start(o, &error));
  EXPECT_NE(error.find("TLS handshake failed"), std::string::npos) << error;
  // Plain MQTT to a TLS listener is not answered: buffered with a warning, never an error.
  o.tls_ca_file.clear();
  o.connect_timeout_s = 0.5;
  warning.clear();
  auto plain = fg::MqttPublisher::Start(o, &error, &warning);
  EXPECT_TRUE(plain);
  EXPECT_NE(warning.find("did not answer"), std::string::npos) << warning;
}

// Run as a child process by the will test: connects with a status topic, then dies without
// a DISCONNECT (as a crashed or unplugged box would).
TEST(MqttPublisher, WillChild) {
  const char* port = std::getenv("FG_WILL_CHILD_PORT");
  if (!port) GTEST_SKIP() << "run by MqttPublisher.LastWillAnnouncesALostPublisher";
  fg::MqttOptions o = Options(std::atoi(port));
  o.status_topic = "t/status";
  o.keepalive_s = 5;
  std::string error;
  auto pub = fg::MqttPublisher::Start(o, &error);
  if (!pub || !pub->Flush(5)) _exit(3);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // "online" acknowledged
  _exit(0);
}

TEST(MqttPublisher, LastWillAnnouncesALostPublisherAndStatusIsRetained) {
  TempDir dir;
  fgtest::Broker broker(dir.path);
  ASSERT_TRUE(broker.Start());
  {
    // A clean stop: "online" then "offline", both retained.
    fg::MqttOptions o = Options(broker.port());
    o.status_topic = "t/status";
    std::string error;
    auto pub = fg::MqttPublisher::Start(o, &error);
    ASSERT_TRUE(pub) << error;
  }
  {
    fgtest::Subscriber late(broker.port(), "sub-late", "t/status");
    ASSERT_TRUE(late.WaitFor([](auto& m) { return !m.empty(); }, 5));
    const auto m = late.messages();
    EXPECT_EQ(m[0].payload, "offline");
    EXPECT_TRUE(m[0].retain);
  }
  fgtest::Subscriber sub(broker.port(), "sub-will", "t/status");
  ASSERT_TRUE(sub.WaitSubscribed(5));
  // The child: "online", then gone without a word.
  const std::string env = "FG_WILL_CHILD_PORT=" + std::to_string(broker.port());
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e) envp.push_back(*e);
  envp.push_back(const_cast<char*>(env.c_str()));
  envp.push_back(nullptr);
  std::string self = std::filesystem::read_symlink("/proc/self/exe");
  std::string filter = "--gtest_filter=MqttPublisher.WillChild";
  char* argv[] = {self.data(), filter.data(), nullptr};
  pid_t pid;
  ASSERT_EQ(posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv, envp.data()), 0);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  // The broker notices the closed socket and publishes the will, "offline", at once.
  ASSERT_TRUE(sub.WaitFor(
      [](auto& m) {
        for (size_t i = 0; i + 1 < m.size(); ++i)
          if (m[i].payload == "online" && m[i + 1].payload == "offline") return true;
        return false;
      },
      10));
}

}  // namespace
