// Reading real photos: ReadImageRgb tells PNG from JPEG by signature, decodes the two public-
// domain faces the tests use, and refuses truncated, empty and foreign files by name.
#include "engine/io/jpeg.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>


namespace fg {
namespace {

// A fresh folder, removed with its files on every path out of the test.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "fg-image-file-XXXXXX").string();
    path_ = mkdtemp(tmpl.data()) ? tmpl : std::string();
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::vector<char> Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void Spill(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(ReadImageRgb, GraceHopperJpeg) {
  RgbImage img;
  auto err = ReadImageRgb(FG_GRACE_HOPPER, &img);
  ASSERT_FALSE(err.has_value()) << *err;
  // matplotlib's sample: 512 wide, 600 high, a colour portrait.
  EXPECT_EQ(img.width, 512);
  EXPECT_EQ(img.height, 600);
  ASSERT_EQ(img.pixels.size(), 512u * 600u * 3u);
  // The sky at the top right is blue, her face (between the glasses and the mouth) is skin:
  // red above blue. A decoder that swapped channels or mis-sized rows fails one of the two.
  auto mean = [&](int x0, int y0, int x1, int y1, int c) {
    double s = 0;
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) s += img.pixels[(static_cast<size_t>(y) * 512 + x) * 3 + c];
    return s / ((x1 - x0) * (y1 - y0));
  };
  EXPECT_GT(mean(420, 20, 500, 80, 2), mean(420, 20, 500, 80, 0) + 40);
  EXPECT_GT(mean(230, 230, 290, 260, 0), mean(230, 230, 290, 260, 2) + 30);
}

TEST(ReadImageRgb, AstronautPngBySignature) {
  RgbImage img;
  auto err = ReadImageRgb(FG_ASTRONAUT, &img);
  ASSERT_FALSE(err.has_value()) << *err;
  EXPECT_EQ(img.width, 512);
  EXPECT_EQ(img.height, 512);
}

TEST(ReadImageRgb, RefusesBadFilesByName) {
  ScratchDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::vector<char> jpeg = Slurp(FG_GRACE_HOPPER);
  ASSERT_GT(jpeg.size(), 1000u);

  struct Case { std::string name; std::vector<char> bytes; std::string says; };
  std::vector<Case> cases = {
      {"truncated.jpg", std::vector<char>(jpeg.begin(), jpeg.begin() + jpeg.size() / 2), "cannot decode JPEG"},
      {"empty.jpg", {}, "too short"},
      {"text.png", std::vector<char>{'h', 'e', 'l', 'l', 'o', '\n'}, "not a PNG or JPEG"},
      // A JPEG named .png is still read: the signature decides.
      {"photo.png", jpeg, ""},
  };
  for (const Case& c : cases) {
    const std::string path = dir.path() + "/" + c.name;
    Spill(path, c.bytes);
    RgbImage img;
    auto err = ReadImageRgb(path, &img);
    if (c.says.empty()) {
      EXPECT_FALSE(err.has_value()) << c.name << ": " << *err;
      continue;
    }
    ASSERT_TRUE(err.has_value()) << c.name;
    EXPECT_NE(err->find(c.says), std::string::npos) << c.name << ": " << *err;
    EXPECT_NE(err->find(path), std::string::npos) << c.name << ": " << *err;
  }
  RgbImage img;
  auto err = ReadImageRgb(dir.path() + "/missing.jpg", &img);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("cannot open"), std::string::npos) << *err;
}

}  // namespace
}  // namespace fg
