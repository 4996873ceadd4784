#include "tests/broker/mqtt_test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace fgtest {

int FreePort() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

namespace {

bool Accepts(int port) {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(s);
  return ok;
}

int Spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
  return pid;
}

}  // namespace

int RunCommand(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Broker::Broker(std::string dir, std::string user, std::string password,
               std::string listener_extra)
    : dir_(std::move(dir)), conf_(dir_ + "/mosquitto.conf"), port_(FreePort()) {
  std::ofstream c(conf_);
  c << "listener " << port_ << " 127.0.0.1\n"
    << listener_extra
    << "persistence true\n"
    << "persistence_location " << dir_ << "/\n"
    << "max_queued_messages 0\n"
    << "log_dest file " << dir_ << "/mosquitto.log\n"
    << "log_type error\nlog_type warning\nlog_type notice\n";
  // Started as root, mosquitto switches to the user "mosquitto", which cannot write here.
  if (geteuid() == 0) c << "user root\n";
  if (!user.empty()) {
    const std::string pw = dir_ + "/passwd";
    std::ofstream(pw) << user << ":" << password << "\n";
    const int pid = Spawn({FG_MOSQUITTO_PASSWD, "-U", pw});  // hashes the file in place
    int status = 0;
    if (pid > 0) waitpid(pid, &status, 0);
    c << "allow_anonymous false\npassword_file " << pw << "\n";
  } else {
    c << "allow_anonymous true\n";
  }
}

Broker::~Broker() { Stop(); }

bool Broker::Start() {
  if (pid_ > 0) return true;
  pid_ = Spawn({FG_MOSQUITTO, "-c", conf_});
  if (pid_ <= 0) return false;
  for (int i = 0; i < 250; ++i) {
    if (Accepts(port_)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void Broker::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string Broker::log() const {
  std::ifstream in(dir_ + "/mosquitto.log");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Subscriber::Subscriber(int port, std::string id, std::string filter) : filter_(std::move(filter)) {
  mosquitto_lib_init();
  mosq_ = mosquitto_new(id.c_str(), false, this);
  mosquitto_connect_callback_set(mosq_, OnConnect);
  mosquitto_subscribe_callback_set(mosq_, OnSubscribe);
  mosquitto_message_callback_set(mosq_, OnMessage);
  mosquitto_reconnect_delay_set(mosq_, 1, 1, false);
  mosquitto_connect_async(mosq_, "127.0.0.1", port, 10);
  mosquitto_loop_start(mosq_);
}

Subscriber::~Subscriber() {
  mosquitto_disconnect(mosq_);
  mosquitto_loop_stop(mosq_, false);
  mosquitto_destroy(mosq_);
}

void Subscriber::OnConnect(mosquitto* m, void* data, int rc) {
  auto* self = static_cast<Subscriber*>(data);
  if (rc == 0) mosquitto_subscribe(m, nullptr, self->filter_.c_str(), 1);
}

void Subscriber::OnSubscribe(mosquitto*, void* data, int, int, const int*) {
  auto* self = static_cast<Subscriber*>(data);
  std::lock_guard<std::mutex> lock(self->mu_);
  self->subscribed_ = true;
  self->cv_.notify_all();
}

void Subscriber::OnMessage(mosquitto*, void* data, const mosquitto_message* m) {
  auto* self = static_cast<Subscriber*>(data);
  std::lock_guard<std::mutex> lock(self->mu_);
  self->messages_.push_back({m->topic, std::string(static_cast<const char*>(m->payload),
                                                   static_cast<size_t>(m->payloadlen)),
                             m->retain});
  self->cv_.notify_all();
}

bool Subscriber::WaitSubscribed(double seconds) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return subscribed_; });
}

bool Subscriber::WaitFor(const std::function<bool(const std::vector<Received>&)>& pred,
                         double seconds) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return pred(messages_); });
}

std::vector<Received> Subscriber::messages() const {
  std::lock_guard<std::mutex> lock(mu_);
  return messages_;
}

}  // namespace fgtest
