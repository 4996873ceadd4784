// MetricsHttp: the kiosk's tiny HTTP endpoint for /healthz and a Prometheus /metrics page.
//
// It serves two documents that its owner replaces whenever it likes (Set), never computes
// anything itself: GET /healthz answers 200 with the health text while healthy, else 503;
// GET /metrics answers 200 with the metrics text (Prometheus text format 0.0.4); anything else
// 404, a method other than GET/HEAD 405. One blocking accept loop on its own thread, one
// connection at a time, each with a 2 s receive/send timeout (a client that hangs cannot hold
// it for longer); requests larger than 8 KiB are refused (431). Loopback by default: the
// owner passes the address to bind ("127.0.0.1"); binding elsewhere is the owner's choice.
//
// Deliberately minimal and self-contained (plain POSIX sockets, no HTTP library), so that a
// later merge with the live page's server (`facegraph run --http`) can replace it by two routes.
//
// Threading: Start, Set and Stop from any one owner thread; the serving thread only reads the
// documents under a mutex. Stop (or the destructor) closes the socket and joins the thread.
//
// Example:
//   fg::MetricsHttp http;
//   std::string error;
//   if (!http.Start("127.0.0.1", 9464, &error)) Fail(error);
//   http.Set("# TYPE up gauge\nup 1\n", true, "ok\n");
//   // curl http://127.0.0.1:9464/metrics
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

namespace fg {

class MetricsHttp {
 public:
  MetricsHttp() = default;
  MetricsHttp(const MetricsHttp&) = delete;
  MetricsHttp& operator=(const MetricsHttp&) = delete;
  ~MetricsHttp() { Stop(); }

  // Binds host:port (port 0: any free port, see port()) and starts serving. False with *error
  // naming the address and the reason (address in use, not an IPv4 address, ...).
  bool Start(const std::string& host, int port, std::string* error);
  // The bound port (after Start).
  int port() const { return port_; }
  void Set(std::string metrics, bool healthy, std::string health);
  void Stop();

 private:
  void Serve();
  void Handle(int fd);

  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  // Stop writes a byte: the accept loop's poll returns
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::string metrics_ = "";             // guarded by mu_
  std::string health_ = "starting\n";    // guarded by mu_
  bool healthy_ = false;                 // guarded by mu_
};

}  // namespace fg
