// The GStreamer plugin "facegraph": registers the elements, nothing else. Each element is a
// thin adapter in gst<elem>.{h,cc}; the shared base class is gstfacebase.h.
//
//   GST_PLUGIN_PATH=build/plugins gst-inspect-1.0 facegraph
#include <gst/gst.h>

#include "plugins/gstfaceavatar.h"
#include "plugins/gstfaceemotion.h"
#include "plugins/gstfacejson.h"
#include "plugins/gstfaceliveness.h"
#include "plugins/gstfaceannotate.h"
#include "plugins/gstfacesynthsrc.h"
#include "plugins/gstfacetrack.h"
#include "plugins/gstfacevitals.h"
#ifdef FG_HAVE_MQTT
#include "plugins/gstfacemqtt.h"
#endif

static gboolean plugin_init(GstPlugin* plugin) {
  gboolean ok = FALSE;
  ok |= GST_ELEMENT_REGISTER(facejson, plugin);
  ok |= GST_ELEMENT_REGISTER(facetrack, plugin);
  ok |= GST_ELEMENT_REGISTER(faceannotate, plugin);
  ok |= GST_ELEMENT_REGISTER(faceemotion, plugin);
  ok |= GST_ELEMENT_REGISTER(facevitals, plugin);
  ok |= GST_ELEMENT_REGISTER(facesynthsrc, plugin);
  ok |= GST_ELEMENT_REGISTER(faceavatar, plugin);
#ifdef FG_HAVE_MQTT
  ok |= GST_ELEMENT_REGISTER(facemqtt, plugin);  // built with libmosquitto
#endif
  ok |= GST_ELEMENT_REGISTER(faceliveness, plugin);
  return ok;
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, facegraph,
                  "Real-time face analytics (facegraph engine)", plugin_init, FG_VERSION,
                  "MIT/X11", "facegraph", "facegraph")  // LICENSE: MIT
