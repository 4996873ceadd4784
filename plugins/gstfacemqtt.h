// facemqtt: publishes the face results to an MQTT broker (fg::MqttPublisher,
// engine/broker/mqtt_publisher.h, over libmosquitto) and passes the video through unchanged.
// Details, payloads and a runnable example: docs/broker.md.
//
// Topics (P = topic-prefix, C = camera):
//   P/C/frames             every frame's JSON line (engine/json.h; "gap": true after lost
//                          data, as facejson writes it)
//   P/C/events/appear      a track appears      (fg::FaceEvents, engine/broker/face_events.h)
//   P/C/events/leave       a track leaves (or the stream ended)
//   P/C/events/emotion     a track's emotion label changes
//   P/C/events/heart_rate  a track's heart rate with its confidence, once per
//                          heart-rate-interval seconds
//   P/C/summary            the session summary at EOS (facejson's summary line)
//   P/C/status             "online" / "offline", retained; "offline" is also the last will
// QoS `qos` (default 1) for all of them.
//
// Never blocks the stream on the network: messages wait in a bounded buffer (buffer-size,
// buffer-policy drop-oldest | drop-newest) while the broker is away and go out in order when
// it is back; drops are counted (`dropped`). Only at EOS does the streaming thread wait, at
// most flush-timeout seconds, for what is buffered, before EOS travels on.
//
// Start (READY->PAUSED) connects and waits up to connect-timeout seconds: a broker that
// refuses the credentials, an unresolvable host or bad TLS files fail the state change with
// a RESOURCE error naming the cause; an unreachable broker only warns (messages buffer).
//
// Properties (settable in NULL/READY): host, port, username, password, client-id,
// tls-ca-file, tls-ca-path, tls-cert-file, tls-key-file, tls-insecure, topic-prefix, camera,
// qos, keepalive, buffer-size, buffer-policy, frames, events, heart-rate-interval,
// connect-timeout, flush-timeout.
// Read-only counters (since start; kept after stop): sent (offered), delivered (acknowledged),
// dropped, buffered, connected. Bus: element message "facemqtt-stats" {sent, delivered,
// dropped, buffered: guint64, connected: gboolean} at most once a second while counters move,
// and once at EOS after the flush.
//
// Threading: the publisher is owned by the streaming thread between start() and stop(); its
// own threads do the network I/O.
//
//   mosquitto -p 1883 &  mosquitto_sub -v -t 'facegraph/#' &
//   GST_PLUGIN_PATH=build/plugins gst-launch-1.0 facesynthsrc num-buffers=90 ! facetrack !
//     facemqtt host=127.0.0.1 port=1883 camera=lobby ! fakesink
#pragma once

#include <gst/gst.h>

#include "plugins/gstfacebase.h"

G_BEGIN_DECLS

#define GST_TYPE_FACE_MQTT (gst_face_mqtt_get_type())
G_DECLARE_FINAL_TYPE(GstFaceMqtt, gst_face_mqtt, GST, FACE_MQTT, GstFaceBase)

GST_ELEMENT_REGISTER_DECLARE(facemqtt);

GType gst_face_mqtt_policy_get_type();
#define GST_TYPE_FACE_MQTT_POLICY (gst_face_mqtt_policy_get_type())

G_END_DECLS
