// Test support for tests/plugins: GStreamer initialised once, with the facegraph elements
// registered statically from the linked gstfacegraph_elements library (not loaded from
// build/plugins: two copies of the same GTypes in one process would clash).
//
// Threading: call from the test thread only.
#pragma once

#include <gst/gst.h>

#include <string>

namespace fgtest {

// Initialises GStreamer and registers the "facegraph" plugin statically (idempotent).
void InitGstOnce();

// Pops every ERROR message posted so far and joins their texts and debug strings.
std::string DrainErrors(GstBus* bus);

// A fresh, empty temporary directory (removed by the caller if it wishes).
std::string MakeTempDir();

// Reads a whole file; empty when it cannot be read.
std::string ReadFile(const std::string& path);

}  // namespace fgtest
