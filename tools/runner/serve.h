// `facegraph serve GRAPH --rtsp [ADDRESS:]PORT/PATH`: the graph runs as with `facegraph run`
// (same options, exit codes and report), and its annotated video is also served over RTSP
// (gst-rtsp-server, H.264) at rtsp://ADDRESS:PORT/PATH. ADDRESS defaults to 127.0.0.1
// (loopback); give 0.0.0.0 to serve the network.
//
// What is served: the output of the element named "serve" if the graph has one, else of its
// faceannotate (a graph with several names the one with name=serve). A tee is put after it:
//
//   ... ! faceannotate ! tee ─┬─► (the graph's own downstream: display, file, fakesink)
//                             └─► queue (leaky, 2 frames) ! videoconvert ! I420 ! appsink
//                                                                                  │
//   RTSP server (own thread) : appsrc ! x264enc (zerolatency) ! rtph264pay ◄──────┘
//
// Authentication: with users (RtspSpec::users, from --rtsp-auth-file FILE: `user:password`
// lines) the server asks every client for HTTP basic credentials (GstRTSPAuth) and serves only
// those users; a client without them, or with a wrong password, gets "401 Unauthorized".
// Without users it serves anyone, which ConfigureRtspAuth allows only on a loopback address
// unless the caller said so (--rtsp-no-auth).
//
// The graph never waits for viewers or for the encoder: the branch queue drops frames when
// they fall behind, and nothing is encoded while no client is connected. Clients share one
// encoder (a shared media).
//
// Threading: Start() and Attach() on the runner's thread; the appsink callback runs on the
// graph's streaming thread and only hands a buffer reference to the appsrc under a lock; the
// server runs its own GMainContext on its own thread.
//
//   std::string error;
//   auto serve = fg::RtspServe::Start(spec, &error);
//   if (!serve || !serve->Attach(pipeline, &error)) { ... }
//   fprintf(stderr, "serving %s\n", serve->url().c_str());
#pragma once

#include <gst/gst.h>

#include <memory>
#include <string>
#include <vector>

namespace fg {

struct RtspUser {
  std::string name, password;
};

struct RtspSpec {
  std::string address = "127.0.0.1";
  int port = 0;
  std::string path;  // without the leading '/'
  std::vector<RtspUser> users;  // empty: no authentication
};

// "8554/live", "0.0.0.0:8554/live", "127.0.0.1:8554/cam/1". False with *error naming the
// part that is wrong.
bool ParseRtspSpec(const std::string& text, RtspSpec* spec, std::string* error);

// Reads the users of an auth file: one `user:password` per line (split at the first ':'; the
// user may not be empty, the password may not be empty), blank lines and lines starting with
// '#' skipped. False with *error naming the file and line (never the password), or when it
// holds no user.
bool ReadRtspAuthFile(const std::string& file, std::vector<RtspUser>* users, std::string* error);

// The authentication of `spec` from the options: auth_file ("" = none) read into spec->users;
// without users, a non-loopback address is refused unless no_auth. False with *error (a usage
// error: the command line or the file is wrong).
bool ConfigureRtspAuth(const std::string& auth_file, bool no_auth, RtspSpec* spec,
                       std::string* error);

class RtspServe {
 public:
  // Listens at once (a port in use fails here); nullptr with *error on failure.
  static std::unique_ptr<RtspServe> Start(const RtspSpec& spec, std::string* error);
  ~RtspServe();
  // Tees the annotated video of `pipeline` (not yet started) into the server. Call again for
  // a rebuilt pipeline (reconnection): the server and its clients stay.
  bool Attach(GstElement* pipeline, std::string* error);
  std::string url() const;

  struct Impl;

 private:
  explicit RtspServe(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fg
