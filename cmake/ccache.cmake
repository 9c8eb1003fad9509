# ccache for every build dir of this checkout. base_dir + no hash_dir make object files
# shareable between build dirs (build/, build-<name>/ used by parallel work on one machine):
# without them, -g embeds the cwd in the hash and every build dir compiles from scratch.
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(EDDY_CCACHE_LAUNCHER
      ${CMAKE_COMMAND} -E env CCACHE_BASEDIR=${CMAKE_SOURCE_DIR} CCACHE_NOHASHDIR=1
      ${CCACHE_PROGRAM})
  set(CMAKE_C_COMPILER_LAUNCHER ${EDDY_CCACHE_LAUNCHER})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${EDDY_CCACHE_LAUNCHER})
endif()
