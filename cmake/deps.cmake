# Every dependency comes from a Debian package (scripts/install-deps.sh installs them).
find_package(Threads REQUIRED)
find_package(RocksDB CONFIG REQUIRED)
find_package(bson-1.0 CONFIG REQUIRED)
find_package(GTest REQUIRED)
find_package(benchmark REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
find_package(fmt REQUIRED)
