# mk/config.mk - compilers, flags and dependencies per configuration.

DEPS      = libmicrohttpd libcurl json-c yaml-0.1 sqlite3 hiredis rdkafka \
            librabbitmq
STD       = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN      = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wvla -Wundef -Wpointer-arith \
            -Wimplicit-fallthrough -Wcast-align -fno-common -Werror
SAN       = -fsanitize=address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer

PKG_CFLAGS := $(shell pkg-config --cflags $(DEPS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(DEPS) 2>/dev/null)

ifeq ($(CONFIG),release)
  O        = build/release
  BIN      = build/sluice
  CFLAGS  ?= -O2 -g
else ifeq ($(CONFIG),asan)
  O        = build/asan
  BIN      = build/asan/sluice
  CC       = clang
  CFLAGS  ?= -O1 -g
  override CFLAGS  += $(SAN) -DSL_ALLOC_COUNT
  override LDFLAGS += $(SAN)
else ifeq ($(CONFIG),valgrind)
  O        = build/valgrind
  BIN      = build/valgrind/sluice
  CFLAGS  ?= -O1 -g
  override CFLAGS  += -DSL_ALLOC_COUNT
else ifeq ($(CONFIG),tsan)
  O        = build/tsan
  BIN      = build/tsan/sluice
  CC       = clang
  CFLAGS  ?= -O1 -g
  override CFLAGS  += -fsanitize=thread -fno-omit-frame-pointer -DSL_ALLOC_COUNT
  override LDFLAGS += -fsanitize=thread
else ifeq ($(CONFIG),fuzz)
  O        = build/fuzz
  BIN      = build/fuzz/sluice
  CC       = clang
  CFLAGS  ?= -O1 -g
  override CFLAGS  += $(SAN) -fsanitize=fuzzer-no-link -DSL_ALLOC_COUNT
  override LDFLAGS += $(SAN)
else
  $(error unknown CONFIG '$(CONFIG)': use release, asan, tsan, valgrind or fuzz)
endif

override CFLAGS   += $(STD) $(WARN) $(PKG_CFLAGS)
override CPPFLAGS += -I. -MMD -MP
LDLIBS   += $(PKG_LIBS) -lm -lpthread

ifeq ($(V),1)
  Q =
else
  Q = @
endif
