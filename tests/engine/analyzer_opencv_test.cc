// fg::ToImageView (engine/graph/analyzer_opencv.h), the OpenCV adapter of the embedding API:
//   - BGR, BGRA and GRAY Mats become views of the same pixels (no copy), each pixel reading
//     back as the Mat holds it, with OpenCV's channel order (B, G, R) mapped to RGB;
//   - a ROI of a larger Mat (not continuous: its row stride is the parent's) is wrapped with
//     that stride, and Analyzer::Push copies exactly the ROI's pixels;
//   - an unsupported Mat (16-bit, float, two channels, empty, 3-D) gives an empty view with an
//     error naming its type, and Analyzer::Push refuses that view with an error of its own.
// Built when OpenCV is found (FG_HAVE_OPENCV); label "opencv".
#include "engine/graph/analyzer_opencv.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "engine/graph/analyzer.h"

namespace fg {
namespace {

// A Mat whose every byte is a function of its position, so a wrong stride or offset shows.
cv::Mat Pattern(int rows, int cols, int type) {
  cv::Mat m(rows, cols, type);
  for (int y = 0; y < rows; ++y)
    for (int x = 0; x < cols * m.channels(); ++x)
      m.ptr<uint8_t>(y)[x] = static_cast<uint8_t>(7 * y + 3 * x + 1);
  return m;
}

TEST(ToImageView, BgrBgraAndGrayAreWrappedWithoutACopy) {
  struct Case {
    int type;
    PixelFormat format;
  };
  for (const Case c : {Case{CV_8UC3, PixelFormat::kBGR}, Case{CV_8UC4, PixelFormat::kBGRA},
                       Case{CV_8UC1, PixelFormat::kGRAY8}}) {
    SCOPED_TRACE(cv::typeToString(c.type));
    const cv::Mat m = Pattern(5, 7, c.type);
    std::string err;
    const ImageView v = ToImageView(m, &err);
    EXPECT_EQ(err, "");
    ASSERT_EQ(v.format, c.format);
    EXPECT_EQ(v.width, 7);
    EXPECT_EQ(v.height, 5);
    EXPECT_EQ(v.planes[0], m.data) << "no copy";
    EXPECT_EQ(v.strides[0], static_cast<int>(m.step[0]));
    for (int y = 0; y < m.rows; ++y)
      for (int x = 0; x < m.cols; ++x) {
        const uint8_t* p = m.ptr<uint8_t>(y) + x * m.channels();
        const Rgb8 got = v.At(x, y);
        const Rgb8 want = m.channels() == 1 ? Rgb8{p[0], p[0], p[0]} : Rgb8{p[2], p[1], p[0]};
        ASSERT_TRUE(got.r == want.r && got.g == want.g && got.b == want.b)
            << "pixel " << x << "," << y;
      }
  }
}

TEST(ToImageView, RoiKeepsTheParentsStrideAndPushCopiesOnlyTheRoi) {
  const cv::Mat parent = Pattern(240, 320, CV_8UC3);
  const cv::Mat roi = parent(cv::Rect(50, 30, 101, 77));  // odd width: rows not 4-aligned
  ASSERT_FALSE(roi.isContinuous());
  std::string err;
  const ImageView v = ToImageView(roi, &err);
  ASSERT_EQ(v.width, 101) << err;
  EXPECT_EQ(v.height, 77);
  EXPECT_EQ(v.strides[0], 320 * 3) << "the parent's row";
  EXPECT_EQ(v.planes[0], parent.ptr<uint8_t>(30) + 50 * 3);

  // Through the Analyzer: the frame the callback sees is the ROI, pixel for pixel.
  AnalyzerOptions o;
  o.input_policy = Backpressure::kBlock;
  o.emotion = o.vitals = false;
  int frames = 0, mismatches = 0;
  auto a = Analyzer::Create(o, [&](const FrameFaces&, const ImageView& f) {
    ++frames;
    EXPECT_EQ(f.format, PixelFormat::kBGR);
    ASSERT_EQ(f.width, 101);
    ASSERT_EQ(f.height, 77);
    for (int y = 0; y < 77; ++y)
      mismatches += std::memcmp(f.planes[0] + y * f.strides[0], roi.ptr<uint8_t>(y), 101 * 3) != 0;
  }, &err);
  ASSERT_TRUE(a) << err;
  ASSERT_TRUE(a->Push(v, 0, &err)) << err;
  ASSERT_EQ(a->Finish(), "");
  EXPECT_EQ(frames, 1);
  EXPECT_EQ(mismatches, 0) << "rows of the copied ROI that differ from the Mat";
}

TEST(ToImageView, UnsupportedMatsGiveAnEmptyViewThatPushRefusesByName) {
  AnalyzerOptions o;
  o.emotion = o.vitals = false;
  std::string err;
  auto a = Analyzer::Create(o, &err);  // the queue way
  ASSERT_TRUE(a) << err;
  const int sizes[3] = {2, 3, 4};
  struct Case {
    cv::Mat m;
    std::string names;  // what the adapter's error must say
  };
  const std::vector<Case> cases = {
      {cv::Mat(4, 4, CV_16UC3, cv::Scalar(1)), "16UC3"},
      {cv::Mat(4, 4, CV_32FC1, cv::Scalar(1)), "32FC1"},
      {cv::Mat(4, 4, CV_8UC2, cv::Scalar(1)), "8UC2"},
      {cv::Mat(), "empty"},
      {cv::Mat(3, sizes, CV_8UC1, cv::Scalar(1)), "3 dimensions"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.names);
    std::string adapter_err;
    const ImageView v = ToImageView(c.m, &adapter_err);
    EXPECT_EQ(v.width, 0);
    EXPECT_EQ(v.planes[0], nullptr);
    EXPECT_NE(adapter_err.find(c.names), std::string::npos) << adapter_err;
    EXPECT_NE(adapter_err.find("ToImageView"), std::string::npos) << adapter_err;
    EXPECT_EQ(ToImageView(c.m).width, 0) << "the same without an error string";
    std::string push_err;
    EXPECT_FALSE(a->Push(v, 0, &push_err));
    EXPECT_NE(push_err.find("empty frame"), std::string::npos) << push_err;
  }
  EXPECT_EQ(a->Finish(), "");
  EXPECT_EQ(a->stats().pushed, 0u) << "nothing refused reached the analysis";
  EXPECT_FALSE(a->TryPop());
}

}  // namespace
}  // namespace fg
