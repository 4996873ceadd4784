#include "tests/plugins/gst_test_env.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "plugins/gstfaceavatar.h"
#include "plugins/gstfacejson.h"
#include "plugins/gstfacesynthsrc.h"
#include "plugins/gstfaceannotate.h"
#include "plugins/gstfaceemotion.h"
#include "plugins/gstfacetrack.h"

namespace fgtest {
namespace {

gboolean RegisterElements(GstPlugin* plugin) {
  gboolean ok = GST_ELEMENT_REGISTER(facejson, plugin);
  ok &= GST_ELEMENT_REGISTER(facetrack, plugin);
  ok &= GST_ELEMENT_REGISTER(faceannotate, plugin);
  ok &= GST_ELEMENT_REGISTER(faceemotion, plugin);
  ok &= GST_ELEMENT_REGISTER(facesynthsrc, plugin);
  ok &= GST_ELEMENT_REGISTER(faceavatar, plugin);
  return ok;
}

}  // namespace

void InitGstOnce() {
  static bool done = false;
  if (done) return;
  done = true;
  // The environment the tests were designed for, set here rather than by ctest: CMake 3.25's
  // gtest_discover_tests keeps only the first item of a list-valued ENVIRONMENT property, so
  // the registry, the in-process scan and fatal criticals were silently lost. A variable the
  // caller already set (tools/test's AddressSanitizer stage) wins.
  g_setenv("GST_PLUGIN_PATH", "", FALSE);
  g_setenv("GST_REGISTRY", FG_TEST_REGISTRY, FALSE);
  g_setenv("GST_REGISTRY_FORK", "no", FALSE);
  // G_DEBUG=fatal-criticals is read when GLib loads, before main: the same effect by call.
  g_log_set_always_fatal(static_cast<GLogLevelFlags>(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR));
  gst_init(nullptr, nullptr);
  ASSERT_TRUE(gst_plugin_register_static(GST_VERSION_MAJOR, GST_VERSION_MINOR, "facegraph",
                                         "facegraph elements (statically registered for tests)",
                                         RegisterElements, "0", GST_LICENSE_UNKNOWN, "facegraph",
                                         "facegraph", "facegraph"));
}

std::string DrainErrors(GstBus* bus) {
  std::string out;
  while (GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
    GError* err = nullptr;
    gchar* debug = nullptr;
    gst_message_parse_error(msg, &err, &debug);
    out += std::string(GST_MESSAGE_SRC_NAME(msg)) + ": " + err->message + " [" +
           (debug ? debug : "") + "]\n";
    g_clear_error(&err);
    g_free(debug);
    gst_message_unref(msg);
  }
  return out;
}

std::pair<GstStateChangeReturn, std::string> StartWithModels(const char* factory,
                                                             const std::string& dir,
                                                             GError** first_error) {
  GstElement* e = gst_element_factory_make(factory, nullptr);
  g_object_set(e, "models-dir", dir.c_str(), nullptr);
  return StartConfigured(e, first_error);
}

std::pair<GstStateChangeReturn, std::string> StartConfigured(GstElement* e,
                                                             GError** first_error) {
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(e, bus);
  const GstStateChangeReturn ret = gst_element_set_state(e, GST_STATE_PAUSED);
  std::string errors;
  if (GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
    gchar* debug = nullptr;
    gst_message_parse_error(msg, first_error, &debug);
    errors = std::string((*first_error)->message) + " [" + (debug ? debug : "") + "]\n";
    g_free(debug);
    gst_message_unref(msg);
  }
  errors += DrainErrors(bus);
  gst_element_set_state(e, GST_STATE_NULL);
  gst_element_set_bus(e, nullptr);
  gst_object_unref(bus);
  gst_object_unref(e);
  return {ret, errors};
}

std::string MakeTempDir() {
  GError* err = nullptr;
  gchar* dir = g_dir_make_tmp("facegraph-test-XXXXXX", &err);
  EXPECT_NE(dir, nullptr) << (err ? err->message : "");
  std::string s = dir ? dir : "/tmp";
  g_free(dir);
  g_clear_error(&err);
  return s;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace fgtest
