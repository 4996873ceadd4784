# cmake --install and the Debian package (CPack), docs/install.md.
#
#   cmake --install build --prefix /usr/local      # or any prefix; DESTDIR works too
#   (cd build && cpack -G DEB)                      # build/facegraph_<version>_<arch>.deb
#
# What goes where (prefix /usr, as in the .deb):
#   /usr/lib/<multiarch>/gstreamer-1.0/libgstfacegraph.so   the plugin, on GStreamer's own path
#   /usr/bin/facegraph                                     the runner (finds the plugin beside it
#                                                          for any prefix)
#   /usr/share/facegraph/graphs/*.gst                      the graphs
#   /usr/share/facegraph/tools/fetch-models, models.sha256 the model fetcher (needs npm)
#   /lib/systemd/system/facegraph-kiosk.service            the kiosk unit (prefix /usr; else
#                                                          <prefix>/lib/systemd/system)
#   /etc/facegraph/kiosk.conf                              the kiosk config (a conffile)
#   /usr/share/doc/facegraph/                              LICENSE, README, kiosk.md, install.md
# Models are not packaged (they come from npm, tools/fetch-models): the unit reads them from
# /var/lib/facegraph/models.
include(GNUInstallDirs)
# `ninja install` and cpack install what is built and do not first build everything (the
# tests and benchmarks take most of the build): build the plugin and the runner first, e.g.
#   ninja -C build gstfacegraph facegraph_runner && (cd build && cpack -G DEB)
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

# GStreamer's plugin folder below its prefix (tools/runner/CMakeLists.txt asks pkg-config).
if(TARGET gstfacegraph)
  install(TARGETS gstfacegraph LIBRARY DESTINATION ${FG_GST_PLUGIN_SUBDIR})
endif()
if(TARGET facegraph_runner)
  install(TARGETS facegraph_runner RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
file(GLOB FG_GRAPH_FILES ${PROJECT_SOURCE_DIR}/graphs/*.gst)
install(FILES ${FG_GRAPH_FILES} DESTINATION ${CMAKE_INSTALL_DATADIR}/facegraph/graphs)
install(PROGRAMS ${PROJECT_SOURCE_DIR}/tools/fetch-models
        DESTINATION ${CMAKE_INSTALL_DATADIR}/facegraph/tools)
install(FILES ${PROJECT_SOURCE_DIR}/tools/models.sha256
        DESTINATION ${CMAKE_INSTALL_DATADIR}/facegraph/tools)

install(FILES ${PROJECT_SOURCE_DIR}/LICENSE ${PROJECT_SOURCE_DIR}/README.md
              ${PROJECT_SOURCE_DIR}/docs/kiosk.md ${PROJECT_SOURCE_DIR}/docs/install.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/facegraph)
# Debian policy: the licence as /usr/share/doc/<package>/copyright.
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/facegraph
        RENAME copyright)

# The unit (naming the installed runner) and the config are placed at install time, so that
# `cmake --install --prefix P` and the .deb (prefix /usr: /lib/systemd/system and /etc) agree.
install(CODE "
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(_fg_unitdir /lib/systemd/system)
    set(_fg_etc /etc/facegraph)
  else()
    set(_fg_unitdir \${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
    set(_fg_etc \${CMAKE_INSTALL_PREFIX}/etc/facegraph)
  endif()
  set(CMAKE_INSTALL_FULL_BINDIR \${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR})
  set(FG_CONFIG \${_fg_etc}/kiosk.conf)
  set(FG_DOCDIR \${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATADIR}/doc/facegraph)
  configure_file(${PROJECT_SOURCE_DIR}/tools/kiosk/facegraph-kiosk.service.in
                 ${CMAKE_BINARY_DIR}/tools/kiosk/facegraph-kiosk.service @ONLY)
  file(INSTALL DESTINATION \${_fg_unitdir} TYPE FILE
       FILES ${CMAKE_BINARY_DIR}/tools/kiosk/facegraph-kiosk.service)
  file(INSTALL DESTINATION \${_fg_etc} TYPE FILE FILES ${PROJECT_SOURCE_DIR}/tools/kiosk/kiosk.conf)
")

# ---- the .deb --------------------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME facegraph)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Real-time face analytics for GStreamer: tracking, emotion, heart rate, kiosk runner")
set(CPACK_PACKAGE_CONTACT "facegraph project <facegraph@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# The install runs with CMAKE_INSTALL_PREFIX=/usr and DESTDIR=the staging folder, so the
# install(CODE) above puts the unit and config in /lib/systemd/system and /etc.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
# RelWithDebInfo objects carry their debug info (the plugin is ~60 MB with it, ~20 without).
set(CPACK_STRIP_FILES ON)
# The runtime package only: the embedding API's headers, static libraries and CMake package
# (component "dev", cmake/FacegraphPackage.cmake) are for `cmake --install`, not the .deb.
set(CPACK_INSTALL_CMAKE_PROJECTS "${CMAKE_BINARY_DIR};${PROJECT_NAME};Unspecified;/")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION video)
set(CPACK_DEBIAN_PACKAGE_LICENSE MIT)
# Shared-library dependencies are found by dpkg-shlibdeps (libgstreamer, libxnnpack,
# libsystemd, ...); the plugins the graphs use are named here.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "gstreamer1.0-plugins-base, gstreamer1.0-plugins-good")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS
    "gstreamer1.0-plugins-bad, gstreamer1.0-libav, gstreamer1.0-tools, python3-imageio")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "nodejs, npm")
# /etc/facegraph/kiosk.conf is a conffile (local edits survive upgrades); postinst reloads systemd.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/tools/kiosk/conffiles
                                       ${PROJECT_SOURCE_DIR}/tools/kiosk/postinst)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
