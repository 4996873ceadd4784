// rtsp_camera: a synthetic network camera for the tests: facesynthsrc (the astronaut with a
// 72 bpm pulse) as H.264 over RTSP on 127.0.0.1, with a share of the RTP packets dropped
// before they leave (as a lossy network would), counted.
//
//   rtsp_camera PORT PATH DROP_PROBABILITY SEED
//
// Prints "ready rtsp://127.0.0.1:PORT/PATH" once it listens, and on SIGTERM/SIGINT
// "dropped N of M packets" before it exits. Loopback only: it never binds another address.
#include <gst/gst.h>
#include <glib-unix.h>
#include <gst/rtsp-server/rtsp-server.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

namespace {

std::atomic<long> g_sent{0}, g_dropped{0};
GMainLoop* g_loop = nullptr;

struct Dropper {
  std::mt19937 rng;
  std::bernoulli_distribution drop;
};

GstPadProbeReturn MaybeDrop(GstPad*, GstPadProbeInfo*, gpointer data) {
  auto* d = static_cast<Dropper*>(data);
  g_sent.fetch_add(1);
  if (d->drop(d->rng)) {
    g_dropped.fetch_add(1);
    return GST_PAD_PROBE_DROP;
  }
  return GST_PAD_PROBE_OK;
}

gboolean OnSignal(gpointer) {
  g_main_loop_quit(g_loop);
  return G_SOURCE_REMOVE;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  if (argc != 5) {
    std::fprintf(stderr, "usage: rtsp_camera PORT PATH DROP_PROBABILITY SEED\n");
    return 2;
  }
  const std::string port = argv[1], path = std::string("/") + argv[2];
  auto* dropper = new Dropper{std::mt19937(static_cast<unsigned>(std::atoi(argv[4]))),
                              std::bernoulli_distribution(std::atof(argv[3]))};

  g_loop = g_main_loop_new(nullptr, FALSE);
  GstRTSPServer* server = gst_rtsp_server_new();
  gst_rtsp_server_set_address(server, "127.0.0.1");
  gst_rtsp_server_set_service(server, port.c_str());
  GstRTSPMediaFactory* factory = gst_rtsp_media_factory_new();
  // Keyframes every 15 frames (0.5 s) so a loss damages at most half a second of picture.
  gst_rtsp_media_factory_set_launch(
      factory,
      "( facesynthsrc is-live=true heart-rate=72 "
      "! video/x-raw,width=640,height=480,framerate=30/1 ! videoconvert "
      "! video/x-raw,format=I420 ! x264enc tune=zerolatency speed-preset=ultrafast "
      "key-int-max=15 ! rtph264pay name=pay0 pt=96 config-interval=1 )");
  gst_rtsp_media_factory_set_shared(factory, TRUE);
  g_signal_connect(factory, "media-configure",
                   G_CALLBACK(+[](GstRTSPMediaFactory*, GstRTSPMedia* media, gpointer data) {
                     GstElement* bin = gst_rtsp_media_get_element(media);
                     GstElement* pay = gst_bin_get_by_name(GST_BIN(bin), "pay0");
                     GstPad* src = gst_element_get_static_pad(pay, "src");
                     gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, MaybeDrop, data, nullptr);
                     gst_object_unref(src);
                     gst_object_unref(pay);
                     gst_object_unref(bin);
                   }),
                   dropper);
  GstRTSPMountPoints* mounts = gst_rtsp_server_get_mount_points(server);
  gst_rtsp_mount_points_add_factory(mounts, path.c_str(), factory);
  g_object_unref(mounts);
  if (gst_rtsp_server_attach(server, nullptr) == 0) {
    std::fprintf(stderr, "rtsp_camera: cannot listen on 127.0.0.1:%s\n", port.c_str());
    return 1;
  }
  g_unix_signal_add(SIGTERM, OnSignal, nullptr);
  g_unix_signal_add(SIGINT, OnSignal, nullptr);
  std::printf("ready rtsp://127.0.0.1:%s%s\n", port.c_str(), path.c_str());
  std::fflush(stdout);
  g_main_loop_run(g_loop);
  std::printf("dropped %ld of %ld packets\n", g_dropped.load(), g_sent.load());
  std::fflush(stdout);
  g_object_unref(server);
  g_main_loop_unref(g_loop);
  delete dropper;
  return 0;
}
