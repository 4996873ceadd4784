// Test support for the broker tests: a real mosquitto broker on 127.0.0.1 (free port, temp
// config, persistence so that a restart keeps the subscriber's session) and a libmosquitto
// subscriber with a persistent session (clean_session=false, QoS 1) that records what it gets.
//
// Threading: Broker is used from the test thread. Subscriber's callbacks run on its network
// thread; its accessors take its lock.
#pragma once

#include <mosquitto.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace fgtest {

// A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
int FreePort();

// Runs a command (argv[0] a path or a name on PATH); its exit status, -1 when it did not run.
int RunCommand(const std::vector<std::string>& args);

class Broker {
 public:
  // Writes DIR/mosquitto.conf: listener on 127.0.0.1:port, persistence in DIR, unlimited
  // queues for offline persistent sessions. With a password, anonymous clients are refused and
  // only user:password is accepted (mosquitto_passwd).
  // `listener_extra`: lines for the listener (e.g. TLS: cafile/certfile/keyfile).
  Broker(std::string dir, std::string user = "", std::string password = "",
         std::string listener_extra = "");
  ~Broker();
  bool Start();  // spawns mosquitto, waits until it accepts connections (5 s)
  void Stop();   // SIGTERM (it saves its persistence) and wait
  int port() const { return port_; }
  std::string log() const;

 private:
  std::string dir_, conf_;
  int port_;
  int pid_ = -1;
};

struct Received {
  std::string topic, payload;
  bool retain;
};

class Subscriber {
 public:
  // Connects to 127.0.0.1:port as client `id` (persistent session) and subscribes to `filter`.
  Subscriber(int port, std::string id, std::string filter);
  ~Subscriber();
  bool WaitSubscribed(double seconds);
  // Waits until pred(messages) holds or the time is up; returns pred's last value.
  bool WaitFor(const std::function<bool(const std::vector<Received>&)>& pred, double seconds);
  std::vector<Received> messages() const;

 private:
  static void OnConnect(mosquitto*, void*, int);
  static void OnSubscribe(mosquitto*, void*, int, int, const int*);
  static void OnMessage(mosquitto*, void*, const mosquitto_message*);
  mosquitto* mosq_ = nullptr;
  std::string filter_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Received> messages_;
  bool subscribed_ = false;
};

}  // namespace fgtest
