# mk/rules.mk - sources, targets and the test entry points.

# Library layers, bottom first (DESIGN.md section 3). Each folder's *.c
# joins libsluice.a; cmd/ holds main and the CLI.
LAYERS    = core proto resource store net broker triggers sinks sources \
            serving control api
LIB_SRCS  = $(foreach d,$(LAYERS),$(wildcard $(d)/*.c $(d)/*/*.c))
CMD_SRCS  = $(wildcard cmd/*.c)
UNIT_SRCS = $(wildcard test/unit/*_test.c)
UNIT_AUX  = $(filter-out $(UNIT_SRCS),$(wildcard test/unit/*.c))
FUZZ_SRCS = $(wildcard test/fuzz/fuzz_*.c)

LIB_OBJS  = $(LIB_SRCS:%.c=$(O)/%.o)
CMD_OBJS  = $(CMD_SRCS:%.c=$(O)/%.o)
# cmd/ minus main.o is archived too, so unit tests can link the CLI and
# configuration code (test/unit/config_test.c and the like).
CMDLIB_OBJS = $(filter-out $(O)/cmd/main.o,$(CMD_OBJS))
CMDLIB    = $(O)/libsluice-cmd.a
UNIT_BINS = $(UNIT_SRCS:test/unit/%.c=$(O)/test/unit/%)
AUX_OBJS  = $(UNIT_AUX:%.c=$(O)/%.o)
FUZZ_BINS = $(FUZZ_SRCS:test/fuzz/%.c=build/fuzz/%)
LIB       = $(O)/libsluice.a
# Test helpers (test/helpers/*.c): programs the tests start, such as the
# Kafka cluster; plain builds in every configuration, never linked with
# the library.
HELPER_BINS = $(patsubst test/helpers/%.c,build/helpers/%,\
                $(wildcard test/helpers/*.c))

.PHONY: all deps check asan tsan unit integration fuzz fuzz-regress valgrind \
        format format-check lint clean unit-bins fuzz-build bench bench-bins \
        demo
.DEFAULT_GOAL := all

all: $(BIN) $(HELPER_BINS)


build/helpers/%: test/helpers/%.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(STD) $(WARN) -O1 -g $(shell pkg-config --cflags rdkafka) \
	    -o $@ $< $(shell pkg-config --libs rdkafka)

$(BIN): $(O)/cmd/main.o $(CMDLIB) $(LIB)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(O)/cmd/main.o $(CMDLIB) $(LIB) $(LDLIBS)

$(CMDLIB): $(CMDLIB_OBJS)
	@mkdir -p $(@D)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(O)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(O)/test/unit/%: $(O)/test/unit/%.o $(AUX_OBJS) $(CMDLIB) $(LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(AUX_OBJS) $(CMDLIB) $(LIB) $(LDLIBS)

build/fuzz/fuzz_%: build/fuzz/test/fuzz/fuzz_%.o $(LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $< $(LIB) $(LDLIBS)

# ---- entry points that run in one configuration ----

unit-bins: $(UNIT_BINS)
fuzz-build: $(FUZZ_BINS)

# ---- top-level targets (they re-invoke make per configuration) ----

deps:
	@./deploy/install-deps.sh

# make check: deps first, then the release build with gcc (also proves gcc
# is clean), the sanitizer build with clang, the fuzz targets, and the
# runner, which prints "N passed, N failed".
check: deps
	$(Q)$(MAKE) --no-print-directory CONFIG=release all
	$(Q)$(MAKE) --no-print-directory CONFIG=asan all unit-bins
	$(Q)$(MAKE) --no-print-directory CONFIG=fuzz fuzz-build
	$(Q)./tools/run-tests.sh all

# make demo: deps first, the release build, then tools/demo.sh (sluice on
# the embedded backend with deploy/examples/quickstart.yaml, events shown
# as they arrive; Ctrl-C stops it, DEMO_SECONDS=N stops it after N s).
demo: deps
	$(Q)$(MAKE) --no-print-directory CONFIG=release all
	$(Q)SLUICE=$${SLUICE:-build/sluice} ./tools/demo.sh

# Unit and integration tests under the sanitizers (what check runs, minus
# lint and fuzz replay).
asan: deps
	$(Q)$(MAKE) --no-print-directory CONFIG=asan all unit-bins
	$(Q)./tools/run-tests.sh unit
	$(Q)./tools/run-tests.sh integration

unit: deps
	$(Q)$(MAKE) --no-print-directory CONFIG=asan all unit-bins
	$(Q)./tools/run-tests.sh unit

integration: deps
	$(Q)$(MAKE) --no-print-directory CONFIG=asan all
	$(Q)./tools/run-tests.sh integration

fuzz-regress:
	$(Q)$(MAKE) --no-print-directory CONFIG=fuzz fuzz-build
	$(Q)./tools/run-tests.sh fuzz

FUZZ_SECONDS ?= 60
fuzz:
	$(Q)$(MAKE) --no-print-directory CONFIG=fuzz fuzz-build
	$(Q)./tools/fuzz.sh $(FUZZ_SECONDS)

# Benchmarks (not tests, not part of check): the release binary, the
# helpers in bench/ (a baseline server, a load generator, a sink), the
# programs of bench/lib/ (linked with the library: micro-benchmarks of its
# parts), then bench/run.py, which prints ratios against a baseline of the
# same run. BENCH_ARGS picks sections (make bench BENCH_ARGS=filter).
BENCH_BINS = $(patsubst bench/%.c,build/bench/%,$(wildcard bench/*.c))
BENCH_LIB_BINS = $(patsubst bench/lib/%.c,build/bench/lib/%,\
                   $(wildcard bench/lib/*.c))

bench-bins: $(BENCH_BINS) $(BENCH_LIB_BINS)

build/bench/lib/%: bench/lib/%.c $(LIB)
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

build/bench/%: bench/%.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(STD) $(WARN) -O2 -g $(shell pkg-config --cflags libmicrohttpd) \
	    -o $@ $< $(shell pkg-config --libs libmicrohttpd)

bench:
	$(Q)$(MAKE) --no-print-directory CONFIG=release all bench-bins
	$(Q)python3 bench/run.py $(BENCH_ARGS)

# Unit tests under ThreadSanitizer: the loop's cross-thread posts, the
# server and client tests' helper threads, libcurl's resolver thread.
tsan: deps
	$(Q)$(MAKE) --no-print-directory CONFIG=tsan unit-bins
	$(Q)./tools/run-tests.sh tsan

# Unit tests under valgrind need a build without ASan (gcc, still counting
# allocations so each test's leak check runs too).
valgrind: deps
	$(Q)$(MAKE) --no-print-directory CONFIG=valgrind unit-bins
	$(Q)./tools/run-tests.sh valgrind

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	$(Q)./tools/check-format.sh

lint:
	$(Q)./tools/check-layers.sh
	$(Q)./tools/check-banned.sh
	$(Q)./tools/check-format.sh

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d) $(UNIT_BINS:=.d) \
         $(AUX_OBJS:.o=.d) $(FUZZ_SRCS:test/fuzz/%.c=build/fuzz/test/fuzz/%.d)
