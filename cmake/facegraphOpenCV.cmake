# Finds OpenCV's core, imgproc and videoio for the optional OpenCV adapter
# (engine/graph/analyzer_opencv.h) and its example. Used by the build (CMakeLists.txt) and,
# installed next to facegraphConfig.cmake, by the package (target facegraph::opencv).
#
# Debian ships OpenCV's CMake package (OpenCVConfig.cmake) only in libopencv-dev, which pulls
# every module (149 packages, ~550 MB). tools/setup installs just libopencv-core-dev,
# libopencv-imgproc-dev and libopencv-videoio-dev (~150 MB), which have the headers and
# libraries but no CMake package, so: OpenCV's own package when there is one, else the
# headers and the three libraries by name.
#
# Sets FG_OPENCV_FOUND, FG_OPENCV_VERSION, FG_OPENCV_INCLUDE_DIRS, FG_OPENCV_LIBRARIES.
set(FG_OPENCV_FOUND OFF)
find_package(OpenCV QUIET CONFIG COMPONENTS core imgproc videoio)
if(OpenCV_FOUND)
  set(FG_OPENCV_FOUND ON)
  set(FG_OPENCV_VERSION ${OpenCV_VERSION})
  set(FG_OPENCV_INCLUDE_DIRS ${OpenCV_INCLUDE_DIRS})
  set(FG_OPENCV_LIBRARIES opencv_core opencv_imgproc opencv_videoio)
else()
  find_path(FG_OPENCV_INCLUDE_DIR opencv2/core/version.hpp PATH_SUFFIXES opencv4)
  find_path(FG_OPENCV_VIDEOIO_INCLUDE_DIR opencv2/videoio.hpp PATH_SUFFIXES opencv4)
  find_library(FG_OPENCV_CORE_LIB opencv_core)
  find_library(FG_OPENCV_IMGPROC_LIB opencv_imgproc)
  find_library(FG_OPENCV_VIDEOIO_LIB opencv_videoio)
  mark_as_advanced(FG_OPENCV_INCLUDE_DIR FG_OPENCV_VIDEOIO_INCLUDE_DIR FG_OPENCV_CORE_LIB
                   FG_OPENCV_IMGPROC_LIB FG_OPENCV_VIDEOIO_LIB)
  if(FG_OPENCV_INCLUDE_DIR AND FG_OPENCV_VIDEOIO_INCLUDE_DIR AND FG_OPENCV_CORE_LIB
     AND FG_OPENCV_IMGPROC_LIB AND FG_OPENCV_VIDEOIO_LIB)
    file(STRINGS ${FG_OPENCV_INCLUDE_DIR}/opencv2/core/version.hpp _fg_cv_v
         REGEX "^#define CV_VERSION_(MAJOR|MINOR|REVISION) +[0-9]+")
    string(REGEX REPLACE ".*MAJOR +([0-9]+).*MINOR +([0-9]+).*REVISION +([0-9]+).*" "\\1.\\2.\\3"
           FG_OPENCV_VERSION "${_fg_cv_v}")
    if(FG_OPENCV_VERSION VERSION_GREATER_EQUAL 4)
      set(FG_OPENCV_FOUND ON)
      set(FG_OPENCV_INCLUDE_DIRS ${FG_OPENCV_INCLUDE_DIR})
      set(FG_OPENCV_LIBRARIES ${FG_OPENCV_CORE_LIB} ${FG_OPENCV_IMGPROC_LIB} ${FG_OPENCV_VIDEOIO_LIB})
    endif()
  endif()
endif()
