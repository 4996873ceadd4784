#include "tools/runner/serve.h"

#include "tools/runner/http_page.h"  // IsLoopbackAddress

#ifdef FG_HAVE_RTSP_SERVE
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/rtsp-server/rtsp-server.h>
#endif

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

namespace fg {

bool ParseRtspSpec(const std::string& text, RtspSpec* spec, std::string* error) {
  RtspSpec s;
  const size_t slash = text.find('/');
  if (slash == std::string::npos || slash + 1 >= text.size()) {
    *error = "--rtsp wants [ADDRESS:]PORT/PATH (e.g. 8554/live), not \"" + text + "\"";
    return false;
  }
  std::string host_port = text.substr(0, slash);
  s.path = text.substr(slash + 1);
  const size_t colon = host_port.rfind(':');
  if (colon != std::string::npos) {
    s.address = host_port.substr(0, colon);
    host_port = host_port.substr(colon + 1);
    if (s.address.empty()) {
      *error = "--rtsp: empty address in \"" + text + "\"";
      return false;
    }
  }
  char* end = nullptr;
  const long port = std::strtol(host_port.c_str(), &end, 10);
  if (host_port.empty() || *end || port <= 0 || port > 65535) {
    *error = "--rtsp: the port must be 1..65535, not \"" + host_port + "\"";
    return false;
  }
  s.port = static_cast<int>(port);
  *spec = s;
  return true;
}

bool ReadRtspAuthFile(const std::string& file, std::vector<RtspUser>* users, std::string* error) {
  std::ifstream in(file);
  if (!in) {
    *error = "--rtsp-auth-file: cannot read \"" + file + "\"";
    return false;
  }
  std::vector<RtspUser> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // a file written on Windows
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    const size_t colon = line.find(':');
    // The line itself is never shown: it holds a password.
    if (colon == std::string::npos || colon == 0 || colon + 1 >= line.size()) {
      *error = "--rtsp-auth-file " + file + ": line " + std::to_string(n) +
               " is not user:password (a user and a password, both non-empty)";
      return false;
    }
    out.push_back({line.substr(0, colon), line.substr(colon + 1)});
  }
  if (out.empty()) {
    *error = "--rtsp-auth-file " + file + ": no user:password line";
    return false;
  }
  *users = std::move(out);
  return true;
}

bool ConfigureRtspAuth(const std::string& auth_file, bool no_auth, RtspSpec* spec,
                       std::string* error) {
  if (!auth_file.empty() && no_auth) {
    *error = "--rtsp-auth-file and --rtsp-no-auth contradict each other: give one";
    return false;
  }
  spec->users.clear();
  if (!auth_file.empty()) {
    if (!ReadRtspAuthFile(auth_file, &spec->users, error)) return false;
    struct stat st {};
    if (stat(auth_file.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)))
      std::fprintf(stderr, "facegraph: warning: %s holds passwords and other users may read it "
                           "(chmod 600 %s)\n", auth_file.c_str(), auth_file.c_str());
    return true;
  }
  if (!no_auth && !IsLoopbackAddress(spec->address)) {
    *error = "--rtsp " + spec->address + ":" + std::to_string(spec->port) + "/" + spec->path +
             " would serve the video to the network without authentication: give "
             "--rtsp-auth-file FILE (user:password lines), or --rtsp-no-auth to serve it to "
             "anyone";
    return false;
  }
  return true;
}

#ifdef FG_HAVE_RTSP_SERVE

struct RtspServe::Impl {
  RtspSpec spec;
  GMainContext* context = nullptr;
  GMainLoop* loop = nullptr;
  GstRTSPServer* server = nullptr;
  guint source_id = 0;
  std::thread thread;

  std::mutex mu;                 // guards appsrc and caps
  GstElement* appsrc = nullptr;  // the current shared media's source (a reference); null: no viewer
  GstCaps* caps = nullptr;       // the newest frames' caps

  ~Impl() {
    if (loop && thread.joinable()) {
      // Quit from inside the loop: a g_main_loop_quit() before the thread reached
      // g_main_loop_run() would be lost.
      GSource* quit = g_idle_source_new();
      g_source_set_callback(
          quit, [](gpointer l) { g_main_loop_quit(static_cast<GMainLoop*>(l)); return G_SOURCE_REMOVE; },
          loop, nullptr);
      g_source_attach(quit, context);
      g_source_unref(quit);
      thread.join();
    }
    if (source_id) {
      if (GSource* src = g_main_context_find_source_by_id(context, source_id)) g_source_destroy(src);
    }
    if (server) g_object_unref(server);
    if (loop) g_main_loop_unref(loop);
    if (context) g_main_context_unref(context);
    if (appsrc) gst_object_unref(appsrc);
    if (caps) gst_caps_unref(caps);
  }

  // The graph's streaming thread (appsink): hands the frame to the viewers' encoder, if any.
  static GstFlowReturn OnSample(GstAppSink* sink, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    GstSample* sample = gst_app_sink_pull_sample(sink);
    if (!sample) return GST_FLOW_OK;  // flushing or EOS
    GstCaps* caps = gst_sample_get_caps(sample);
    std::lock_guard<std::mutex> lock(self->mu);
    if (caps && (!self->caps || !gst_caps_is_equal(caps, self->caps))) {
      gst_caps_replace(&self->caps, caps);
      if (self->appsrc) gst_app_src_set_caps(GST_APP_SRC(self->appsrc), caps);
    }
    if (self->appsrc) {
      // A new buffer struct over the same memory (no pixel copy); the appsrc stamps it with
      // its own running time (do-timestamp), so the graph's timeline does not matter.
      GstBuffer* buf = gst_buffer_copy(gst_sample_get_buffer(sample));
      GST_BUFFER_PTS(buf) = GST_BUFFER_DTS(buf) = GST_BUFFER_DURATION(buf) = GST_CLOCK_TIME_NONE;
      gst_app_src_push_buffer(GST_APP_SRC(self->appsrc), buf);  // takes it; never blocks (leaky)
    }
    gst_sample_unref(sample);
    return GST_FLOW_OK;
  }

  // The server's thread: a shared media was made for the first viewer.
  static void OnMediaConfigure(GstRTSPMediaFactory*, GstRTSPMedia* media, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    GstElement* bin = gst_rtsp_media_get_element(media);
    GstElement* src = gst_bin_get_by_name(GST_BIN(bin), "src");
    gst_object_unref(bin);
    if (!src) return;
    g_object_set(src, "is-live", TRUE, "format", GST_FORMAT_TIME, "do-timestamp", TRUE,
                 "max-buffers", static_cast<guint64>(4), nullptr);
    gst_util_set_object_arg(G_OBJECT(src), "leaky-type", "downstream");
    {
      std::lock_guard<std::mutex> lock(self->mu);
      if (self->caps) gst_app_src_set_caps(GST_APP_SRC(src), self->caps);
      if (self->appsrc) gst_object_unref(self->appsrc);
      self->appsrc = GST_ELEMENT(gst_object_ref(src));
    }
    g_signal_connect(media, "unprepared", G_CALLBACK(OnUnprepared), self);
    gst_object_unref(src);
  }

  // The last viewer left: stop feeding the encoder.
  static void OnUnprepared(GstRTSPMedia*, gpointer data) {
    auto* self = static_cast<Impl*>(data);
    std::lock_guard<std::mutex> lock(self->mu);
    if (self->appsrc) gst_object_unref(self->appsrc);
    self->appsrc = nullptr;
  }
};

RtspServe::RtspServe(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RtspServe::~RtspServe() = default;

std::string RtspServe::url() const {
  return "rtsp://" + impl_->spec.address + ":" + std::to_string(impl_->spec.port) + "/" +
         impl_->spec.path;
}

std::unique_ptr<RtspServe> RtspServe::Start(const RtspSpec& spec, std::string* error) {
  auto impl = std::make_unique<Impl>();
  Impl* im = impl.get();
  im->spec = spec;
  for (const char* needed : {"x264enc", "rtph264pay", "appsrc"}) {
    if (GstElementFactory* f = gst_element_factory_find(needed)) {
      gst_object_unref(f);
    } else {
      *error = std::string("--rtsp needs the GStreamer element ") + needed +
               (std::string(needed) == "x264enc" ? " (Debian: gstreamer1.0-plugins-ugly)"
                                                 : " (Debian: gstreamer1.0-plugins-good/base)");
      return nullptr;
    }
  }
  im->context = g_main_context_new();
  im->loop = g_main_loop_new(im->context, FALSE);
  im->server = gst_rtsp_server_new();
  gst_rtsp_server_set_address(im->server, spec.address.c_str());
  gst_rtsp_server_set_service(im->server, std::to_string(spec.port).c_str());
  GstRTSPMediaFactory* factory = gst_rtsp_media_factory_new();
  // One keyframe a second so a viewer that joins sees a picture within a second.
  gst_rtsp_media_factory_set_launch(
      factory,
      "( appsrc name=src ! queue max-size-buffers=4 leaky=downstream ! videoconvert "
      "! video/x-raw,format=I420 ! x264enc tune=zerolatency speed-preset=ultrafast "
      "key-int-max=30 ! rtph264pay name=pay0 pt=96 config-interval=1 )");
  gst_rtsp_media_factory_set_shared(factory, TRUE);
  if (!spec.users.empty()) {
    // Basic authentication: every listed user gets the role "viewer", which may open and
    // play the one mount; a client without valid credentials has no role, so the server
    // answers 401 Unauthorized (with a WWW-Authenticate: Basic challenge).
    GstRTSPAuth* auth = gst_rtsp_auth_new();
    gst_rtsp_auth_set_supported_methods(auth, GST_RTSP_AUTH_BASIC);
    GstRTSPToken* token =
        gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, "viewer", nullptr);
    for (const RtspUser& u : spec.users) {
      gchar* basic = gst_rtsp_auth_make_basic(u.name.c_str(), u.password.c_str());
      gst_rtsp_auth_add_basic(auth, basic, token);
      g_free(basic);
    }
    gst_rtsp_token_unref(token);
    gst_rtsp_server_set_auth(im->server, auth);
    g_object_unref(auth);
    gst_rtsp_media_factory_add_role(factory, "viewer", GST_RTSP_PERM_MEDIA_FACTORY_ACCESS,
                                    G_TYPE_BOOLEAN, TRUE, GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT,
                                    G_TYPE_BOOLEAN, TRUE, nullptr);
  }
  g_signal_connect(factory, "media-configure", G_CALLBACK(Impl::OnMediaConfigure), im);
  GstRTSPMountPoints* mounts = gst_rtsp_server_get_mount_points(im->server);
  gst_rtsp_mount_points_add_factory(mounts, ("/" + spec.path).c_str(), factory);
  g_object_unref(mounts);
  im->source_id = gst_rtsp_server_attach(im->server, im->context);
  if (im->source_id == 0) {
    *error = "--rtsp: cannot listen on " + spec.address + ":" + std::to_string(spec.port) +
             " (in use, or not an address of this machine)";
    im->loop = (g_main_loop_unref(im->loop), nullptr);
    return nullptr;
  }
  im->thread = std::thread([im] {
    g_main_context_push_thread_default(im->context);
    g_main_loop_run(im->loop);
    g_main_context_pop_thread_default(im->context);
  });
  return std::unique_ptr<RtspServe>(new RtspServe(std::move(impl)));
}

namespace {

// The element whose output is served: name=serve, else the only faceannotate.
GstElement* FindServed(GstElement* pipeline, std::string* error) {
  if (GstElement* named = gst_bin_get_by_name(GST_BIN(pipeline), "serve")) return named;
  std::vector<GstElement*> annotates;
  GstIterator* it = gst_bin_iterate_recurse(GST_BIN(pipeline));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    auto* e = GST_ELEMENT(g_value_get_object(&item));
    GstElementFactory* f = gst_element_get_factory(e);
    if (f && std::string(GST_OBJECT_NAME(f)) == "faceannotate")
      annotates.push_back(GST_ELEMENT(gst_object_ref(e)));
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  if (annotates.size() == 1) return annotates[0];
  for (GstElement* e : annotates) gst_object_unref(e);
  *error = annotates.empty()
               ? "the graph has no faceannotate to serve (add one, or name the element to "
                 "serve: name=serve)"
               : "the graph has several faceannotate elements: name the one to serve "
                 "(name=serve)";
  return nullptr;
}

}  // namespace

bool RtspServe::Attach(GstElement* pipeline, std::string* error) {
  GstElement* served = FindServed(pipeline, error);
  if (!served) return false;
  GstBin* parent = GST_BIN(GST_ELEMENT_PARENT(served));
  GstPad* src = gst_element_get_static_pad(served, "src");
  if (!src) {
    *error = std::string("the element to serve (") + GST_ELEMENT_NAME(served) +
             ") has no always src pad";
    gst_object_unref(served);
    return false;
  }
  GstPad* peer = gst_pad_get_peer(src);
  if (peer) gst_pad_unlink(src, peer);
  GstElement* tee = gst_element_factory_make("tee", "serve_tee");
  GstElement* queue = gst_element_factory_make("queue", "serve_queue");
  GstElement* convert = gst_element_factory_make("videoconvert", "serve_convert");
  GstElement* filter = gst_element_factory_make("capsfilter", "serve_caps");
  GstElement* sink = gst_element_factory_make("appsink", "serve_sink");
  // Never hold the graph back: 2 frames at most, the oldest dropped.
  g_object_set(queue, "max-size-buffers", 2u, "max-size-bytes", 0u, "max-size-time",
               static_cast<guint64>(0), nullptr);
  gst_util_set_object_arg(G_OBJECT(queue), "leaky", "downstream");
  GstCaps* i420 = gst_caps_from_string("video/x-raw,format=I420");
  g_object_set(filter, "caps", i420, nullptr);
  gst_caps_unref(i420);
  g_object_set(sink, "sync", FALSE, "async", FALSE, "drop", TRUE, "max-buffers", 1u, nullptr);
  GstAppSinkCallbacks callbacks{};
  callbacks.new_sample = &Impl::OnSample;
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, impl_.get(), nullptr);
  gst_bin_add_many(parent, tee, queue, convert, filter, sink, nullptr);
  bool ok = gst_element_link(served, tee) &&
            gst_element_link_many(tee, queue, convert, filter, sink, nullptr);
  if (ok && peer) {
    GstPad* branch = gst_element_request_pad_simple(tee, "src_%u");
    ok = gst_pad_link(branch, peer) == GST_PAD_LINK_OK;
    gst_object_unref(branch);
  }
  if (!ok) *error = std::string("could not insert the RTSP branch after ") + GST_ELEMENT_NAME(served);
  if (peer) gst_object_unref(peer);
  gst_object_unref(src);
  gst_object_unref(served);
  return ok;
}

#else  // built without gst-rtsp-server: serve says so

struct RtspServe::Impl {};
RtspServe::RtspServe(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RtspServe::~RtspServe() = default;
std::string RtspServe::url() const { return ""; }
std::unique_ptr<RtspServe> RtspServe::Start(const RtspSpec&, std::string* error) {
  *error = "this runner was built without gst-rtsp-server (Debian libgstrtspserver-1.0-dev, "
           "installed by tools/setup): no RTSP serving";
  return nullptr;
}
bool RtspServe::Attach(GstElement*, std::string*) { return false; }

#endif

}  // namespace fg
