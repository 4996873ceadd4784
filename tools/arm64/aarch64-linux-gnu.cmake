# CMake toolchain for Debian's arm64 cross compiler (crossbuild-essential-arm64) against an
# arm64 SYSROOT: Debian 12 arm64 packages extracted into a folder outside the repository by
# tools/arm64-check (mmdebstrap --variant=extract), so the host's dpkg never gets an arm64
# package. Every library, header, CMake package and .pc file comes from the sysroot; test
# binaries run under qemu-user with the sysroot as their root for the loader and libraries
# (CMAKE_CROSSCOMPILING_EMULATOR), so gtest discovery and ctest work as on x86.
#
#   FG_ARM64_SYSROOT  the sysroot (default ~/.cache/facegraph/arm64-sysroot)
#   FG_ARM64_CPU      the CPU qemu emulates (default cortex-a76, the Raspberry Pi 5's core)
# Both are read from the environment at the first configure and kept in the cache.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

if(NOT FG_ARM64_SYSROOT)
  if(DEFINED ENV{FG_ARM64_SYSROOT})
    set(FG_ARM64_SYSROOT "$ENV{FG_ARM64_SYSROOT}")
  else()
    set(FG_ARM64_SYSROOT "$ENV{HOME}/.cache/facegraph/arm64-sysroot")
  endif()
endif()
if(NOT FG_ARM64_CPU)
  if(DEFINED ENV{FG_ARM64_CPU})
    set(FG_ARM64_CPU "$ENV{FG_ARM64_CPU}")
  else()
    set(FG_ARM64_CPU cortex-a76)
  endif()
endif()
if(NOT EXISTS "${FG_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu/libc.so")
  message(FATAL_ERROR "arm64 sysroot missing or incomplete: ${FG_ARM64_SYSROOT} "
                      "(tools/arm64-check makes it)")
endif()
# try_compile projects get the same values (they do not see this project's cache).
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES FG_ARM64_SYSROOT FG_ARM64_CPU)
set(FG_ARM64_SYSROOT "${FG_ARM64_SYSROOT}" CACHE PATH "arm64 sysroot (tools/arm64-check)")
set(FG_ARM64_CPU "${FG_ARM64_CPU}" CACHE STRING "CPU emulated by qemu-aarch64")

set(CMAKE_SYSROOT "${FG_ARM64_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH "${FG_ARM64_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# pkg-config (the host's) reads only the sysroot's .pc files and prefixes their paths with it.
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${FG_ARM64_SYSROOT}")
set(ENV{PKG_CONFIG_LIBDIR}
    "${FG_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${FG_ARM64_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# -L: the loader and libraries (and any absolute path that exists there) come from the
# sysroot; other absolute paths (models, sample photos, the build tree) from the host.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-L;${FG_ARM64_SYSROOT};-cpu;${FG_ARM64_CPU})
set(CMAKE_CUDA_COMPILER "" CACHE FILEPATH "no CUDA in the arm64 cross build")
