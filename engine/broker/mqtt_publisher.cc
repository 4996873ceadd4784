#include "engine/broker/mqtt_publisher.h"

#include <mosquitto.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

namespace fg {

namespace {

constexpr const char* kOnline = "online";
constexpr const char* kOffline = "offline";

void InitLibraryOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });  // never cleaned up: process lifetime
}

std::string Describe(int rc) {
  if (rc == MOSQ_ERR_ERRNO) return std::strerror(errno);
  return mosquitto_strerror(rc);
}

}  // namespace

struct MqttPublisher::Impl {
  explicit Impl(const MqttOptions& o)
      : options(o), buffer(o.buffer_messages, o.policy),
        address(o.host + ":" + std::to_string(o.port)) {}

  const MqttOptions options;
  mosquitto* mosq = nullptr;
  std::thread sender;

  mutable std::mutex mu;          // guards everything below
  std::condition_variable cv;     // any change: the sender, Flush() and Start() wait on it
  MessageBuffer buffer;
  std::set<int> unacked;          // mids handed to libmosquitto, not yet acknowledged
  int handing = 0;                // Send() is inside mosquitto_publish (lock released)
  std::set<int> early_acks;       // acknowledged while handing, before being recorded
  bool connected = false;
  bool resync = false;            // after a reconnection: wait for the re-sent ones first
  bool stop = false;
  int connack = -1;               // the first CONNACK's code; -1: none yet
  int status_mid = -1;            // the "offline" publication awaited by the destructor
  bool status_acked = false;
  uint64_t delivered = 0;
  uint64_t connections = 0;
  std::string last_error;
  const std::string address;

  // libmosquitto's network thread.
  static void OnConnect(mosquitto* m, void* data, int rc) {
    auto* self = static_cast<Impl*>(data);
    std::lock_guard<std::mutex> lock(self->mu);
    if (self->connack < 0) self->connack = rc;
    if (rc != 0) {
      self->last_error = std::string("the broker refused the connection: ") +
                         mosquitto_connack_string(rc);
    } else {
      self->connected = true;
      ++self->connections;
      // libmosquitto re-sends what was unacknowledged right after this callback returns;
      // new messages wait until those are acknowledged, so the order holds.
      self->resync = !self->unacked.empty();
      if (!self->options.status_topic.empty())
        mosquitto_publish(m, nullptr, self->options.status_topic.c_str(),
                          static_cast<int>(std::strlen(kOnline)), kOnline,
                          std::max(self->options.qos, 1), true);
    }
    self->cv.notify_all();
  }

  static void OnDisconnect(mosquitto*, void* data, int rc) {
    auto* self = static_cast<Impl*>(data);
    std::lock_guard<std::mutex> lock(self->mu);
    self->connected = false;
    if (rc != 0 && !self->stop) self->last_error = "connection lost: " + Describe(rc);
    self->cv.notify_all();
  }

  // libmosquitto's errors (a failed TLS handshake is reported only here).
  static void OnLog(mosquitto*, void* data, int level, const char* text) {
    if (level != MOSQ_LOG_ERR || !text) return;
    auto* self = static_cast<Impl*>(data);
    std::lock_guard<std::mutex> lock(self->mu);
    self->log_error = text;
    self->cv.notify_all();
  }

  static void OnPublish(mosquitto*, void* data, int mid) {
    auto* self = static_cast<Impl*>(data);
    std::lock_guard<std::mutex> lock(self->mu);
    if (mid == self->status_mid) self->status_acked = true;
    if (self->unacked.erase(mid)) {
      ++self->delivered;
      if (self->unacked.empty()) self->resync = false;
    } else if (self->handing > 0 && mid != self->status_mid) {
      self->early_acks.insert(mid);  // acknowledged before Send() recorded it
    }
    self->cv.notify_all();
  }

  size_t Window() const { return static_cast<size_t>(std::clamp(options.inflight, 1, 20)); }

  // The sender thread: hands buffered messages to libmosquitto, in order, `Window()` at a
  // time, only while connected.
  void Send() {
    std::unique_lock<std::mutex> lock(mu);
    int delay_s = std::max(1, options.reconnect_min_s);
    while (initial_pending && !stop) {
      // The first connection failed before libmosquitto's loop took over (its thread waits
      // for a first connection that it does not retry itself): retry here, with back-off.
      cv.wait_for(lock, std::chrono::seconds(delay_s), [&] { return stop; });
      if (stop) return;
      lock.unlock();  // may resolve the host name: never under the lock Publish() takes
      const int rc = mosquitto_reconnect_async(mosq);
      lock.lock();
      if (rc == MOSQ_ERR_SUCCESS) initial_pending = false;
      else last_error = "cannot connect: " + Describe(rc);
      delay_s = std::min(delay_s * 2, std::max(delay_s, options.reconnect_max_s));
    }
    for (;;) {
      cv.wait(lock, [&] {
        return stop || (connected && !resync && !buffer.empty() && unacked.size() < Window());
      });
      if (stop) return;
      OutMessage m = *buffer.Pop();
      int mid = 0;
      // Outside the lock, so Publish() never waits for this thread (which the scheduler may
      // preempt inside libmosquitto): libmosquitto copies the message and wakes its network
      // thread, no I/O here. Only this thread hands messages over, so the order holds; an
      // acknowledgement that overtakes the bookkeeping below is kept in early_acks.
      ++handing;
      lock.unlock();
      const int rc = mosquitto_publish(mosq, &mid, m.topic.c_str(),
                                       static_cast<int>(m.payload.size()), m.payload.data(),
                                       options.qos, m.retain);
      lock.lock();
      --handing;
      if (rc == MOSQ_ERR_SUCCESS || (rc == MOSQ_ERR_NO_CONN && options.qos > 0)) {
        // QoS 1/2: queued inside libmosquitto even without a socket; sent on reconnection.
        if (early_acks.erase(mid)) {
          ++delivered;
          if (unacked.empty()) resync = false;
        } else {
          unacked.insert(mid);
        }
      } else if (rc == MOSQ_ERR_NO_CONN) {
        buffer.PushFront(std::move(m));  // QoS 0 is not kept by libmosquitto: try again later
        connected = false;
      } else {
        // Not sendable at all (oversize packet, bad topic): counted as dropped, said why.
        last_error = "cannot publish on \"" + m.topic + "\": " + Describe(rc);
        ++bad_messages;
      }
      cv.notify_all();
    }
  }
  uint64_t bad_messages = 0;  // counted with the dropped ones
  bool initial_pending = false;  // the first connect_async failed: Send() retries it
  std::string log_error;         // libmosquitto's last error log line
};

MqttPublisher::MqttPublisher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

const std::string& MqttPublisher::address() const { return impl_->address; }

std::unique_ptr<MqttPublisher> MqttPublisher::Start(const MqttOptions& o, std::string* error,
                                                    std::string* warning) {
  InitLibraryOnce();
  auto fail = [&](const std::string& why) -> std::unique_ptr<MqttPublisher> {
    *error = "MQTT broker " + o.host + ":" + std::to_string(o.port) + ": " + why;
    return nullptr;
  };
  if (o.host.empty()) return fail("no host given");
  if (o.port <= 0 || o.port > 65535) return fail("port must be 1..65535");
  if (o.qos < 0 || o.qos > 2) return fail("qos must be 0, 1 or 2");

  auto impl = std::make_unique<Impl>(o);
  Impl* im = impl.get();
  im->mosq = mosquitto_new(o.client_id.empty() ? nullptr : o.client_id.c_str(), true, im);
  if (!im->mosq) return fail(std::string("could not create the client: ") + std::strerror(errno));
  std::unique_ptr<MqttPublisher> pub(new MqttPublisher(std::move(impl)));
  mosquitto* m = im->mosq;
  mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_connect_callback_set(m, &Impl::OnConnect);
  mosquitto_disconnect_callback_set(m, &Impl::OnDisconnect);
  mosquitto_publish_callback_set(m, &Impl::OnPublish);
  mosquitto_log_callback_set(m, &Impl::OnLog);
  mosquitto_max_inflight_messages_set(m, static_cast<unsigned>(im->Window()));
  mosquitto_reconnect_delay_set(m, static_cast<unsigned>(std::max(1, o.reconnect_min_s)),
                                static_cast<unsigned>(std::max(o.reconnect_min_s, o.reconnect_max_s)),
                                true);
  int rc;
  if (!o.username.empty()) {
    rc = mosquitto_username_pw_set(m, o.username.c_str(),
                                   o.password.empty() ? nullptr : o.password.c_str());
    if (rc) return fail("username/password: " + Describe(rc));
  } else if (!o.password.empty()) {
    return fail("a password was given without a username");
  }
  if (!o.tls_ca_file.empty() || !o.tls_ca_path.empty()) {
    if (o.tls_cert_file.empty() != o.tls_key_file.empty())
      return fail("TLS: the client certificate and its key go together (give both or neither)");
    auto opt = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
    rc = mosquitto_tls_set(m, opt(o.tls_ca_file), opt(o.tls_ca_path), opt(o.tls_cert_file),
                           opt(o.tls_key_file), nullptr);
    if (rc)
      return fail("TLS: cannot use ca-file \"" + o.tls_ca_file + "\" / ca-path \"" +
                  o.tls_ca_path + "\" / cert \"" + o.tls_cert_file + "\" / key \"" +
                  o.tls_key_file + "\": " + Describe(rc) + " (a file missing or unreadable?)");
    if (o.tls_insecure) mosquitto_tls_insecure_set(m, true);
  } else if (!o.tls_cert_file.empty() || !o.tls_key_file.empty()) {
    return fail("TLS: a client certificate needs a CA file or path to check the broker with");
  }
  if (!o.status_topic.empty()) {
    rc = mosquitto_will_set(m, o.status_topic.c_str(), static_cast<int>(std::strlen(kOffline)),
                            kOffline, std::max(o.qos, 1), true);
    if (rc) return fail("status topic \"" + o.status_topic + "\": " + Describe(rc));
  }

  // An unreachable broker (connection refused, timeout) is not an error here: the network
  // thread retries. A name that does not resolve is (libmosquitto's loop gives up on it).
  rc = mosquitto_connect_async(m, o.host.c_str(), o.port, std::max(5, o.keepalive_s));
  std::string connect_problem;
  if (rc == MOSQ_ERR_EAI) return fail("cannot resolve the host name");
  if (rc == MOSQ_ERR_INVAL) return fail("invalid connection settings");
  if (rc != MOSQ_ERR_SUCCESS) {
    connect_problem = Describe(rc);
    im->initial_pending = true;
    im->last_error = "cannot connect: " + connect_problem;
  }
  rc = mosquitto_loop_start(m);
  if (rc) return fail("cannot start the network thread: " + Describe(rc));
  im->sender = std::thread([im] { im->Send(); });

  std::unique_lock<std::mutex> lock(im->mu);
  const bool tls = !o.tls_ca_file.empty() || !o.tls_ca_path.empty();
  const bool answered = im->cv.wait_for(
      lock, std::chrono::duration<double>(std::max(0.0, o.connect_timeout_s)),
      [&] { return im->connack >= 0 || (tls && !im->log_error.empty()); });
  if (im->connack < 0 && tls && !im->log_error.empty()) {
    // A TLS handshake that failed (unknown CA, wrong host name) does not cure itself, and
    // libmosquitto's loop stops on it: an error, not a wait.
    const std::string why = im->log_error;
    lock.unlock();
    return fail("TLS handshake failed: " + why +
                " (is tls-ca-file the CA that signed the broker's certificate, and does the "
                "certificate name the host?)");
  }
  if (answered && im->connack != 0) {
    const int code = im->connack;
    lock.unlock();
    std::string why = std::string("the broker refused the connection: ") +
                      mosquitto_connack_string(code);
    if (code == 4 || code == 5)
      why += o.username.empty() ? " (it wants a username and password: set username/password)"
                                : " (check username and password)";
    return fail(why);  // the destructor stops the threads
  }
  if (!answered && warning) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1f", o.connect_timeout_s);
    *warning = "MQTT broker " + im->address + " did not answer within " + seconds + " s" +
               (connect_problem.empty() ? "" : " (" + connect_problem + ")") +
               "; messages are buffered (up to " + std::to_string(im->buffer.capacity()) +
               ", " + DropPolicyName(o.policy) + ") until it does";
  }
  return pub;
}

MqttPublisher::~MqttPublisher() {
  Impl& im = *impl_;
  if (!im.mosq) return;
  {
    std::unique_lock<std::mutex> lock(im.mu);
    if (im.connected && !im.options.status_topic.empty() && im.sender.joinable()) {
      int mid = -1;
      const int rc = mosquitto_publish(im.mosq, &mid, im.options.status_topic.c_str(),
                                       static_cast<int>(std::strlen(kOffline)), kOffline,
                                       std::max(im.options.qos, 1), true);
      if (rc == MOSQ_ERR_SUCCESS) {
        im.status_mid = mid;
        im.cv.wait_for(lock, std::chrono::seconds(1),
                       [&] { return im.status_acked || !im.connected; });
      }
    }
    im.stop = true;
    im.cv.notify_all();
  }
  if (im.sender.joinable()) im.sender.join();
  mosquitto_disconnect(im.mosq);  // a clean DISCONNECT: the broker discards the will
  mosquitto_loop_stop(im.mosq, false);  // disconnecting: its loop ends by itself
  mosquitto_destroy(im.mosq);
  im.mosq = nullptr;
}

void MqttPublisher::Publish(std::string topic, std::string payload, bool retain) {
  Impl& im = *impl_;
  std::lock_guard<std::mutex> lock(im.mu);
  im.buffer.Push({std::move(topic), std::move(payload), retain});
  im.cv.notify_all();
}

bool MqttPublisher::Flush(double timeout_s) {
  Impl& im = *impl_;
  std::unique_lock<std::mutex> lock(im.mu);
  return im.cv.wait_for(lock, std::chrono::duration<double>(std::max(0.0, timeout_s)),
                        [&] { return im.buffer.empty() && im.unacked.empty() && im.handing == 0; });
}

MqttStats MqttPublisher::stats() const {
  const Impl& im = *impl_;
  std::lock_guard<std::mutex> lock(im.mu);
  MqttStats s;
  s.offered = im.buffer.offered();
  s.delivered = im.delivered;
  s.dropped = im.buffer.dropped() + im.bad_messages;
  s.buffered = im.buffer.size();
  s.in_flight = im.unacked.size();
  s.connected = im.connected;
  s.connections = im.connections;
  s.last_error = im.last_error;
  return s;
}

}  // namespace fg
