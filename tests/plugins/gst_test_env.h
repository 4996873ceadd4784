// Test support for tests/plugins: GStreamer initialised once, with the facegraph elements
// registered statically from the linked gstfacegraph_elements library (not loaded from
// build/plugins: two copies of the same GTypes in one process would clash).
//
// Threading: call from the test thread only.
#pragma once

#include <gst/gst.h>

#include <string>
#include <utility>

namespace fgtest {

// Initialises GStreamer and registers the "facegraph" plugin statically (idempotent).
void InitGstOnce();

// Pops every ERROR message posted so far and joins their texts and debug strings.
std::string DrainErrors(GstBus* bus);

// Creates `factory` with models-dir = `dir` and takes it READY->PAUSED on its own bus: the
// state change result and every error posted (the first one also returned in *first_error,
// owned by the caller). The element is set back to NULL and freed.
std::pair<GstStateChangeReturn, std::string> StartWithModels(const char* factory,
                                                             const std::string& dir,
                                                             GError** first_error);

// The same for an element already configured (takes ownership of `element`).
std::pair<GstStateChangeReturn, std::string> StartConfigured(GstElement* element,
                                                             GError** first_error);

// A fresh, empty temporary directory (removed by the caller if it wishes).
std::string MakeTempDir();

// A fresh temporary directory removed with everything in it when this goes out of scope
// (an early ASSERT return included).
class TempDir {
 public:
  TempDir() : path_(MakeTempDir()) {}
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Reads a whole file; empty when it cannot be read.
std::string ReadFile(const std::string& path);

}  // namespace fgtest
