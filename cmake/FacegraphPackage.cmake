# Installs libfacegraph (static), its headers and a CMake package, so that a C++ program finds
# the engine with find_package(facegraph) after `cmake --install` (docs/embedding.md):
#
#   cmake --install build --prefix /opt/facegraph --component dev
#   # consumer's CMakeLists.txt:
#   find_package(facegraph 0.1 REQUIRED)
#   target_link_libraries(app PRIVATE facegraph::facegraph)
#
# Installed (component "dev"): lib/facegraph/libfacegraph.a (+ the CUDA backend's static
# libraries when nvcc built them), include/facegraph/engine/**.h (included as
# "engine/graph/analyzer.h", as in the tree), lib/cmake/facegraph/ (the package). The
# package finds the same dependencies the build used (Threads, Eigen3, Boost, nlohmann_json,
# PNG, JPEG; TinyGLTF and the CUDA toolkit where the build had them); XNNPACK and pthreadpool
# are linked by their installed paths. The package also offers facegraph::opencv, the cv::Mat
# adapter (engine/graph/analyzer_opencv.h) with OpenCV's core, imgproc and videoio, when the
# consumer's machine has them (found as cmake/facegraphOpenCV.cmake finds them for the build):
#   find_package(facegraph 0.1 REQUIRED COMPONENTS opencv)   # or OPTIONAL_COMPONENTS, then
#   target_link_libraries(app PRIVATE facegraph::opencv)     # if(TARGET facegraph::opencv)
# Tested by ctest install.find_package (tests/install/install_test.sh).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(FG_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/facegraph)
set(_fg_export facegraph)
foreach(_t fg_cuda_nn fg_cuda_nn_plan)
  if(TARGET ${_t})
    list(APPEND _fg_export ${_t})
  endif()
endforeach()
install(TARGETS ${_fg_export} EXPORT facegraphTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}/facegraph COMPONENT dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/facegraph)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/engine/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/facegraph/engine COMPONENT dev
  FILES_MATCHING PATTERN "*.h")
install(EXPORT facegraphTargets NAMESPACE facegraph::
  DESTINATION ${FG_INSTALL_CMAKEDIR} COMPONENT dev)

# What the package must find again, as the build found it.
set(FG_PACKAGE_HAS_TINYGLTF OFF)
if(TARGET TinyGLTF::TinyGLTF)
  set(FG_PACKAGE_HAS_TINYGLTF ON)
endif()
set(FG_PACKAGE_HAS_CUDA OFF)
if(TARGET fg_cuda_nn)
  set(FG_PACKAGE_HAS_CUDA ON)
endif()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/facegraphConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/facegraphConfig.cmake
  INSTALL_DESTINATION ${FG_INSTALL_CMAKEDIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/facegraphConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/facegraphConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/facegraphConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/facegraphOpenCV.cmake
  DESTINATION ${FG_INSTALL_CMAKEDIR} COMPONENT dev)
