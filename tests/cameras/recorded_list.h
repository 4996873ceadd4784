// The text of a recorded `v4l2-ctl` listing in tests/cameras/data (what camera_modes_test and
// camera_controls_test parse). A missing file fails the calling test and returns "".
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace fg::testing {

inline std::string RecordedList(const std::string& name) {
  const std::string path = std::string(FG_SOURCE_DIR) + "/tests/cameras/data/" + name;
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace fg::testing
