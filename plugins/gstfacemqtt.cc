#include "plugins/gstfacemqtt.h"

#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "engine/broker/face_events.h"
#include "engine/broker/mqtt_publisher.h"
#include "engine/emotion/session_summary.h"
#include "engine/json.h"
#include "plugins/gstfacemeta.h"

GST_DEBUG_CATEGORY_STATIC(gst_face_mqtt_debug);
#define GST_CAT_DEFAULT gst_face_mqtt_debug

namespace {

enum {
  PROP_0,
  PROP_HOST,
  PROP_PORT,
  PROP_USERNAME,
  PROP_PASSWORD,
  PROP_CLIENT_ID,
  PROP_TLS_CA_FILE,
  PROP_TLS_CA_PATH,
  PROP_TLS_CERT_FILE,
  PROP_TLS_KEY_FILE,
  PROP_TLS_INSECURE,
  PROP_TOPIC_PREFIX,
  PROP_CAMERA,
  PROP_QOS,
  PROP_KEEPALIVE,
  PROP_BUFFER_SIZE,
  PROP_BUFFER_POLICY,
  PROP_FRAMES,
  PROP_EVENTS,
  PROP_HEART_RATE_INTERVAL,
  PROP_CONNECT_TIMEOUT,
  PROP_FLUSH_TIMEOUT,
  PROP_SENT,
  PROP_DELIVERED,
  PROP_DROPPED,
  PROP_BUFFERED,
  PROP_CONNECTED,
};

// The properties, copied under GST_OBJECT_LOCK; start() reads them once.
struct Settings {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string username, password, client_id;
  std::string tls_ca_file, tls_ca_path, tls_cert_file, tls_key_file;
  bool tls_insecure = false;
  std::string topic_prefix = "facegraph";
  std::string camera = "cam0";
  int qos = 1;
  int keepalive = 30;
  guint buffer_size = 1000;
  int policy = 0;  // GstFaceMqttPolicy: 0 drop-oldest, 1 drop-newest
  bool frames = true;
  bool events = true;
  double heart_rate_interval = 1.0;
  double connect_timeout = 5.0;
  double flush_timeout = 2.0;
};

// Everything that lives from start() to stop().
struct Impl {
  std::unique_ptr<fg::MqttPublisher> mqtt;
  std::string base;              // "P/C/"
  bool frames = true, events = true;
  double flush_timeout = 2.0;
  fg::FaceEvents detector;
  fg::SessionSummary summary;
  std::vector<fg::FaceEvent> pending;  // reused per frame
  fg::FrameFaces empty;
  uint64_t lines = 0;
  int64_t last_pts = -1;
  gint64 last_post_us = 0;       // last facemqtt-stats message (monotonic)
  uint64_t last_posted_sent = 0, last_posted_dropped = 0;
};

}  // namespace

struct _GstFaceMqtt {
  GstFaceBase parent;
  Settings settings;             // GST_OBJECT_LOCK
  std::unique_ptr<Impl> impl;    // created in start(), reset in stop(); pointer under GST_OBJECT_LOCK
  fg::MqttStats last_stats;      // the counters at stop(); GST_OBJECT_LOCK
};

G_DEFINE_TYPE(GstFaceMqtt, gst_face_mqtt, GST_TYPE_FACE_BASE)
GST_ELEMENT_REGISTER_DEFINE(facemqtt, "facemqtt", GST_RANK_NONE, GST_TYPE_FACE_MQTT)

GType gst_face_mqtt_policy_get_type() {
  static GType type = 0;
  static std::once_flag once;
  std::call_once(once, [] {
    static const GEnumValue values[] = {
        {0, "Drop the oldest waiting message to make room", "drop-oldest"},
        {1, "Drop the incoming message", "drop-newest"},
        {0, nullptr, nullptr}};
    type = g_enum_register_static("GstFaceMqttPolicy", values);
  });
  return type;
}

namespace {

// The counters: live while started, else the last start's.
fg::MqttStats Stats(GstFaceMqtt* self) {
  GST_OBJECT_LOCK(self);
  fg::MqttStats s = self->impl && self->impl->mqtt ? self->impl->mqtt->stats() : self->last_stats;
  GST_OBJECT_UNLOCK(self);
  return s;
}

void PostStats(GstFaceMqtt* self, const fg::MqttStats& s) {
  GstStructure* st = gst_structure_new(
      "facemqtt-stats", "sent", G_TYPE_UINT64, static_cast<guint64>(s.offered), "delivered",
      G_TYPE_UINT64, static_cast<guint64>(s.delivered), "dropped", G_TYPE_UINT64,
      static_cast<guint64>(s.dropped), "buffered", G_TYPE_UINT64, static_cast<guint64>(s.buffered),
      "connected", G_TYPE_BOOLEAN, s.connected, nullptr);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), st));
}

bool ValidLevel(const std::string& s) {
  return s.find_first_of("+#") == std::string::npos;
}

gboolean Start(GstBaseTransform* trans) {
  auto* self = GST_FACE_MQTT(trans);
  GST_OBJECT_LOCK(self);
  const Settings s = self->settings;
  GST_OBJECT_UNLOCK(self);

  if (s.camera.empty() || !ValidLevel(s.camera) || s.camera.find('/') != std::string::npos ||
      !ValidLevel(s.topic_prefix)) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                      ("%s: camera \"%s\" and topic-prefix \"%s\" must not contain '+' or '#' "
                       "(camera: not '/' either, and not empty)",
                       GST_ELEMENT_NAME(self), s.camera.c_str(), s.topic_prefix.c_str()),
                      (nullptr));
    return FALSE;
  }
  auto impl = std::make_unique<Impl>();
  impl->base = (s.topic_prefix.empty() ? "" : s.topic_prefix + "/") + s.camera + "/";
  impl->frames = s.frames;
  impl->events = s.events;
  impl->flush_timeout = s.flush_timeout;
  impl->detector = fg::FaceEvents({s.heart_rate_interval});

  fg::MqttOptions o;
  o.host = s.host;
  o.port = s.port;
  o.username = s.username;
  o.password = s.password;
  o.client_id = s.client_id;
  o.tls_ca_file = s.tls_ca_file;
  o.tls_ca_path = s.tls_ca_path;
  o.tls_cert_file = s.tls_cert_file;
  o.tls_key_file = s.tls_key_file;
  o.tls_insecure = s.tls_insecure;
  o.keepalive_s = s.keepalive;
  o.qos = s.qos;
  o.status_topic = impl->base + "status";
  o.buffer_messages = s.buffer_size;
  o.policy = s.policy == 1 ? fg::DropPolicy::kDropNewest : fg::DropPolicy::kDropOldest;
  o.connect_timeout_s = s.connect_timeout;
  std::string error, warning;
  impl->mqtt = fg::MqttPublisher::Start(o, &error, &warning);
  if (!impl->mqtt) {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE, ("%s: %s", GST_ELEMENT_NAME(self), error.c_str()),
                      (nullptr));
    return FALSE;
  }
  if (!warning.empty())
    GST_ELEMENT_WARNING(self, RESOURCE, OPEN_WRITE, ("%s: %s", GST_ELEMENT_NAME(self), warning.c_str()),
                        (nullptr));
  GST_INFO_OBJECT(self, "publishing to %s under %s (QoS %d, buffer %u %s)",
                  impl->mqtt->address().c_str(), impl->base.c_str(), s.qos, s.buffer_size,
                  s.policy == 1 ? "drop-newest" : "drop-oldest");
  GST_OBJECT_LOCK(self);
  self->impl = std::move(impl);
  self->last_stats = {};
  GST_OBJECT_UNLOCK(self);
  return TRUE;
}

gboolean Stop(GstBaseTransform* trans) {
  auto* self = GST_FACE_MQTT(trans);
  GST_OBJECT_LOCK(self);
  std::unique_ptr<Impl> impl = std::move(self->impl);
  if (impl && impl->mqtt) self->last_stats = impl->mqtt->stats();
  GST_OBJECT_UNLOCK(self);
  impl.reset();  // "offline", disconnect (outside the object lock: it may wait up to 1 s)
  return TRUE;
}

void Send(Impl& impl, GstFaceMqtt* self) {
  for (fg::FaceEvent& e : impl.pending)
    impl.mqtt->Publish(impl.base + "events/" + e.kind, std::move(e.json));
  impl.pending.clear();
  // Counters on the bus: at most once a second, and only when they moved.
  const gint64 now = g_get_monotonic_time();
  if (now - impl.last_post_us >= G_USEC_PER_SEC) {
    const fg::MqttStats s = impl.mqtt->stats();
    if (s.offered != impl.last_posted_sent || s.dropped != impl.last_posted_dropped) {
      PostStats(self, s);
      impl.last_posted_sent = s.offered;
      impl.last_posted_dropped = s.dropped;
    }
    impl.last_post_us = now;
  }
}

GstFlowReturn Process(GstFaceBase* base, const fg::ImageView& /*view*/, GstBuffer* buffer) {
  auto* self = GST_FACE_MQTT(base);
  Impl& impl = *self->impl;
  const int64_t pts =
      GST_BUFFER_PTS_IS_VALID(buffer) ? static_cast<int64_t>(GST_BUFFER_PTS(buffer)) : -1;
  const fg::FrameFaces* faces = &impl.empty;
  fg::FrameFaces restamped;
  if (const GstFaceGraphMeta* meta = gst_buffer_get_face_graph_meta(buffer)) {
    faces = &meta->faces;
    if (meta->faces.pts_ns != pts) {  // the buffer's PTS is the truth (as in facejson)
      restamped = meta->faces;
      restamped.pts_ns = pts;
      faces = &restamped;
    }
  } else {
    impl.empty.pts_ns = pts;
  }
  impl.summary.Add(*faces);
  impl.last_pts = pts;
  if (impl.frames) {
    std::string line = fg::ToJsonLine(*faces);
    if (GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DISCONT) && impl.lines > 0)
      line.insert(1, "\"gap\": true, ");
    impl.mqtt->Publish(impl.base + "frames", std::move(line));
  }
  ++impl.lines;
  if (impl.events) impl.detector.Update(*faces, &impl.pending);
  Send(impl, self);
  return GST_FLOW_OK;
}

// EOS: leave events, the summary, then a bounded wait for what is buffered, then the final
// counters on the bus, before EOS travels on.
gboolean SinkEvent(GstBaseTransform* trans, GstEvent* event) {
  auto* self = GST_FACE_MQTT(trans);
  if (GST_EVENT_TYPE(event) == GST_EVENT_EOS && self->impl && !self->impl->summary.finished()) {
    Impl& impl = *self->impl;
    if (impl.events) impl.detector.Finish(impl.last_pts, &impl.pending);
    for (fg::FaceEvent& e : impl.pending)
      impl.mqtt->Publish(impl.base + "events/" + e.kind, std::move(e.json));
    impl.pending.clear();
    impl.summary.Finish();
    impl.mqtt->Publish(impl.base + "summary", impl.summary.ToJsonLine());
    const bool flushed = impl.mqtt->Flush(impl.flush_timeout);
    const fg::MqttStats s = impl.mqtt->stats();
    if (!flushed)
      GST_ELEMENT_WARNING(self, RESOURCE, WRITE,
                          ("%s: %zu messages not delivered to %s within flush-timeout (%.1f s)%s%s",
                           GST_ELEMENT_NAME(self), s.buffered + s.in_flight,
                           impl.mqtt->address().c_str(), impl.flush_timeout,
                           s.last_error.empty() ? "" : ": ", s.last_error.c_str()),
                          (nullptr));
    if (s.dropped > 0)
      GST_WARNING_OBJECT(self, "%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                               " messages dropped (buffer full while the broker was away)",
                         static_cast<guint64>(s.dropped), static_cast<guint64>(s.offered));
    PostStats(self, s);
  }
  return GST_BASE_TRANSFORM_CLASS(gst_face_mqtt_parent_class)->sink_event(trans, event);
}

void SetProperty(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_FACE_MQTT(object);
  GST_OBJECT_LOCK(self);
  Settings& s = self->settings;
  auto str = [&] { const gchar* v = g_value_get_string(value); return std::string(v ? v : ""); };
  switch (id) {
    case PROP_HOST: s.host = str(); break;
    case PROP_PORT: s.port = g_value_get_int(value); break;
    case PROP_USERNAME: s.username = str(); break;
    case PROP_PASSWORD: s.password = str(); break;
    case PROP_CLIENT_ID: s.client_id = str(); break;
    case PROP_TLS_CA_FILE: s.tls_ca_file = str(); break;
    case PROP_TLS_CA_PATH: s.tls_ca_path = str(); break;
    case PROP_TLS_CERT_FILE: s.tls_cert_file = str(); break;
    case PROP_TLS_KEY_FILE: s.tls_key_file = str(); break;
    case PROP_TLS_INSECURE: s.tls_insecure = g_value_get_boolean(value); break;
    case PROP_TOPIC_PREFIX: s.topic_prefix = str(); break;
    case PROP_CAMERA: s.camera = str(); break;
    case PROP_QOS: s.qos = g_value_get_int(value); break;
    case PROP_KEEPALIVE: s.keepalive = g_value_get_int(value); break;
    case PROP_BUFFER_SIZE: s.buffer_size = g_value_get_uint(value); break;
    case PROP_BUFFER_POLICY: s.policy = g_value_get_enum(value); break;
    case PROP_FRAMES: s.frames = g_value_get_boolean(value); break;
    case PROP_EVENTS: s.events = g_value_get_boolean(value); break;
    case PROP_HEART_RATE_INTERVAL: s.heart_rate_interval = g_value_get_double(value); break;
    case PROP_CONNECT_TIMEOUT: s.connect_timeout = g_value_get_double(value); break;
    case PROP_FLUSH_TIMEOUT: s.flush_timeout = g_value_get_double(value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
  GST_OBJECT_UNLOCK(self);
}

void GetProperty(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_FACE_MQTT(object);
  if (id >= PROP_SENT) {
    const fg::MqttStats st = Stats(self);
    switch (id) {
      case PROP_SENT: g_value_set_uint64(value, st.offered); break;
      case PROP_DELIVERED: g_value_set_uint64(value, st.delivered); break;
      case PROP_DROPPED: g_value_set_uint64(value, st.dropped); break;
      case PROP_BUFFERED: g_value_set_uint64(value, st.buffered + st.in_flight); break;
      case PROP_CONNECTED: g_value_set_boolean(value, st.connected); break;
      default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
    return;
  }
  GST_OBJECT_LOCK(self);
  const Settings& s = self->settings;
  switch (id) {
    case PROP_HOST: g_value_set_string(value, s.host.c_str()); break;
    case PROP_PORT: g_value_set_int(value, s.port); break;
    case PROP_USERNAME: g_value_set_string(value, s.username.c_str()); break;
    case PROP_PASSWORD: g_value_set_string(value, s.password.empty() ? "" : "********"); break;
    case PROP_CLIENT_ID: g_value_set_string(value, s.client_id.c_str()); break;
    case PROP_TLS_CA_FILE: g_value_set_string(value, s.tls_ca_file.c_str()); break;
    case PROP_TLS_CA_PATH: g_value_set_string(value, s.tls_ca_path.c_str()); break;
    case PROP_TLS_CERT_FILE: g_value_set_string(value, s.tls_cert_file.c_str()); break;
    case PROP_TLS_KEY_FILE: g_value_set_string(value, s.tls_key_file.c_str()); break;
    case PROP_TLS_INSECURE: g_value_set_boolean(value, s.tls_insecure); break;
    case PROP_TOPIC_PREFIX: g_value_set_string(value, s.topic_prefix.c_str()); break;
    case PROP_CAMERA: g_value_set_string(value, s.camera.c_str()); break;
    case PROP_QOS: g_value_set_int(value, s.qos); break;
    case PROP_KEEPALIVE: g_value_set_int(value, s.keepalive); break;
    case PROP_BUFFER_SIZE: g_value_set_uint(value, s.buffer_size); break;
    case PROP_BUFFER_POLICY: g_value_set_enum(value, s.policy); break;
    case PROP_FRAMES: g_value_set_boolean(value, s.frames); break;
    case PROP_EVENTS: g_value_set_boolean(value, s.events); break;
    case PROP_HEART_RATE_INTERVAL: g_value_set_double(value, s.heart_rate_interval); break;
    case PROP_CONNECT_TIMEOUT: g_value_set_double(value, s.connect_timeout); break;
    case PROP_FLUSH_TIMEOUT: g_value_set_double(value, s.flush_timeout); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
  GST_OBJECT_UNLOCK(self);
}

void Finalize(GObject* object) {
  auto* self = GST_FACE_MQTT(object);
  self->impl.~unique_ptr();
  self->settings.~Settings();
  self->last_stats.~MqttStats();
  G_OBJECT_CLASS(gst_face_mqtt_parent_class)->finalize(object);
}

constexpr GParamFlags kRw = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                     GST_PARAM_MUTABLE_READY);
constexpr GParamFlags kRo = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

void String(GObjectClass* k, guint id, const char* name, const char* blurb, const char* def) {
  g_object_class_install_property(k, id, g_param_spec_string(name, name, blurb, def, kRw));
}

}  // namespace

static void gst_face_mqtt_class_init(GstFaceMqttClass* klass) {
  GST_DEBUG_CATEGORY_INIT(gst_face_mqtt_debug, "facemqtt", 0, "facegraph MQTT output");
  auto* k = G_OBJECT_CLASS(klass);
  k->set_property = SetProperty;
  k->get_property = GetProperty;
  k->finalize = Finalize;
  String(k, PROP_HOST, "host", "MQTT broker host name or address", "127.0.0.1");
  g_object_class_install_property(
      k, PROP_PORT, g_param_spec_int("port", "port", "MQTT broker port (8883 is usual with TLS)",
                                     1, 65535, 1883, kRw));
  String(k, PROP_USERNAME, "username", "User name (empty: anonymous)", "");
  String(k, PROP_PASSWORD, "password", "Password (read back as ********)", "");
  String(k, PROP_CLIENT_ID, "client-id", "MQTT client id (empty: generated)", "");
  String(k, PROP_TLS_CA_FILE, "tls-ca-file",
         "PEM file of the CA that signed the broker's certificate; set: TLS is on", "");
  String(k, PROP_TLS_CA_PATH, "tls-ca-path", "Directory of CA certificates; set: TLS is on", "");
  String(k, PROP_TLS_CERT_FILE, "tls-cert-file", "Client certificate (PEM), with tls-key-file", "");
  String(k, PROP_TLS_KEY_FILE, "tls-key-file", "Client private key (PEM), with tls-cert-file", "");
  g_object_class_install_property(
      k, PROP_TLS_INSECURE,
      g_param_spec_boolean("tls-insecure", "tls-insecure",
                           "Do not check that the broker's certificate names host (tests only)",
                           FALSE, kRw));
  String(k, PROP_TOPIC_PREFIX, "topic-prefix", "First topic level(s): PREFIX/CAMERA/...", "facegraph");
  String(k, PROP_CAMERA, "camera", "Camera name: the topic level after the prefix", "cam0");
  g_object_class_install_property(
      k, PROP_QOS, g_param_spec_int("qos", "qos", "MQTT quality of service of every message",
                                    0, 2, 1, kRw));
  g_object_class_install_property(
      k, PROP_KEEPALIVE, g_param_spec_int("keepalive", "keepalive",
                                          "Seconds between keep-alive pings (the will fires after "
                                          "1.5x this without the client)",
                                          5, 65535, 30, kRw));
  g_object_class_install_property(
      k, PROP_BUFFER_SIZE,
      g_param_spec_uint("buffer-size", "buffer-size",
                        "Messages that may wait while the broker is unreachable", 1,
                        G_MAXUINT, 1000, kRw));
  g_object_class_install_property(
      k, PROP_BUFFER_POLICY,
      g_param_spec_enum("buffer-policy", "buffer-policy", "Which message a full buffer drops",
                        GST_TYPE_FACE_MQTT_POLICY, 0, kRw));
  g_object_class_install_property(
      k, PROP_FRAMES, g_param_spec_boolean("frames", "frames",
                                           "Publish every frame's JSON line on PREFIX/CAMERA/frames",
                                           TRUE, kRw));
  g_object_class_install_property(
      k, PROP_EVENTS, g_param_spec_boolean("events", "events",
                                           "Publish appear/leave/emotion/heart_rate events",
                                           TRUE, kRw));
  g_object_class_install_property(
      k, PROP_HEART_RATE_INTERVAL,
      g_param_spec_double("heart-rate-interval", "heart-rate-interval",
                          "Seconds (of stream time) between heart_rate events of a track", 0,
                          3600, 1.0, kRw));
  g_object_class_install_property(
      k, PROP_CONNECT_TIMEOUT,
      g_param_spec_double("connect-timeout", "connect-timeout",
                          "Seconds start waits for the broker's answer", 0, 600, 5.0, kRw));
  g_object_class_install_property(
      k, PROP_FLUSH_TIMEOUT,
      g_param_spec_double("flush-timeout", "flush-timeout",
                          "Seconds EOS waits for buffered messages to be delivered", 0, 600, 2.0,
                          kRw));
  g_object_class_install_property(
      k, PROP_SENT, g_param_spec_uint64("sent", "sent", "Messages offered since start", 0,
                                        G_MAXUINT64, 0, kRo));
  g_object_class_install_property(
      k, PROP_DELIVERED, g_param_spec_uint64("delivered", "delivered",
                                             "Messages acknowledged by the broker", 0,
                                             G_MAXUINT64, 0, kRo));
  g_object_class_install_property(
      k, PROP_DROPPED, g_param_spec_uint64("dropped", "dropped",
                                           "Messages dropped because the buffer was full", 0,
                                           G_MAXUINT64, 0, kRo));
  g_object_class_install_property(
      k, PROP_BUFFERED, g_param_spec_uint64("buffered", "buffered",
                                            "Messages waiting or unacknowledged now", 0,
                                            G_MAXUINT64, 0, kRo));
  g_object_class_install_property(
      k, PROP_CONNECTED, g_param_spec_boolean("connected", "connected",
                                              "Connected to the broker now", FALSE, kRo));

  gst_element_class_set_static_metadata(
      GST_ELEMENT_CLASS(klass), "Face results to MQTT", "Filter/Analyzer/Video",
      "Publishes each frame's face results and face events to an MQTT broker and passes the "
      "video through",
      "facegraph");
  GST_BASE_TRANSFORM_CLASS(klass)->start = Start;
  GST_BASE_TRANSFORM_CLASS(klass)->stop = Stop;
  GST_BASE_TRANSFORM_CLASS(klass)->sink_event = SinkEvent;
  GST_FACE_BASE_CLASS(klass)->process = Process;
  gst_type_mark_as_plugin_api(GST_TYPE_FACE_MQTT_POLICY, static_cast<GstPluginAPIFlags>(0));
}

static void gst_face_mqtt_init(GstFaceMqtt* self) {
  // GObject allocates the instance as raw memory: construct the C++ members in place (they
  // are destroyed in finalize).
  new (&self->impl) std::unique_ptr<Impl>();
  new (&self->settings) Settings();
  new (&self->last_stats) fg::MqttStats();
}
