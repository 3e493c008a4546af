# sluice - one GNU make invocation builds everything.
#
#   make            build/sluice (gcc, -O2)
#   make demo       install missing deps, build, run the quickstart (Ctrl-C)
#   make check      install missing deps, then all tests under ASan+UBSan
#   make deps       install missing Debian packages (deploy/install-deps.sh)
#   make fuzz       run every fuzz target for FUZZ_SECONDS each
#   make valgrind   unit tests under valgrind
#   make format / format-check / lint / clean
#
# Configurations (objects under build/<config>/):
#   release  CC=gcc by default, the binary is build/sluice
#   asan     clang, AddressSanitizer + UBSan, SL_ALLOC_COUNT (tests)
#   fuzz     clang, libFuzzer + ASan + UBSan (fuzz targets only)

CONFIG ?= release
include mk/config.mk
include mk/rules.mk
