# tuntcp build. `make` builds the stack library, `make test` runs every test
# (unit tests under ASan+UBSan), `make bench` runs the benchmarks.
CC      ?= cc
CSTD    := -std=gnu11 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
OPT     ?= -O2 -g
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
INC     := -Istack -Istack/runtime

BUILD   := build
STACK_SRC := $(wildcard stack/*.c)
UNIT_SRC  := $(wildcard tests/unit/*.c)

STACK_OBJ     := $(STACK_SRC:%.c=$(BUILD)/rel/%.o)
STACK_SAN_OBJ := $(STACK_SRC:%.c=$(BUILD)/san/%.o)
UNIT_OBJ      := $(UNIT_SRC:%.c=$(BUILD)/san/%.o)

# The daemon (the runtime layer) and what the interposer shares with it.
RUNTIME_SRC := $(wildcard stack/runtime/*.c)
RUNTIME_OBJ := $(RUNTIME_SRC:%.c=$(BUILD)/rel/%.o)
SHARED_OBJ  := $(BUILD)/rel/stack/runtime/config.o $(BUILD)/rel/stack/runtime/sockname.o \
               $(BUILD)/rel/stack/runtime/fdpass.o
PRELOAD_SRC := $(wildcard preload/*.c)
PRELOAD_OBJ := $(PRELOAD_SRC:%.c=$(BUILD)/rel/%.o) $(SHARED_OBJ)
EXAMPLES    := $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))
# C programs the integration tests run (tests/tools/*.c)
TEST_TOOLS  := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(wildcard tests/tools/*.c))
# ...and what they preload into tuntcp's own programs (tests/tools/preload/*.c)
TEST_SHIMS  := $(patsubst tests/tools/preload/%.c,$(BUILD)/tools/%.so,$(wildcard tests/tools/preload/*.c))

PREFIX  ?= /usr/local

.PHONY: all test unit bench demo install fuzz clean
all: $(BUILD)/libtuntcpstack.a $(BUILD)/libtuntcp.so $(BUILD)/tuntcpd $(BUILD)/tuntcp $(EXAMPLES) \
     $(TEST_TOOLS) $(TEST_SHIMS) $(BUILD)/lossy_relay $(BUILD)/timed_bulk

$(BUILD)/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(OPT) -fPIC -fvisibility=hidden $(INC) -MMD -MP -c $< -o $@

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O1 -g $(SAN) $(INC) -Itests/unit -MMD -MP -c $< -o $@

$(BUILD)/libtuntcpstack.a: $(STACK_OBJ)
	ar rcs $@ $^

# The interposer: only the libc entry points it serves are exported.
$(BUILD)/libtuntcp.so: $(PRELOAD_OBJ)
	$(CC) -shared -Wl,--no-undefined $^ -o $@ -ldl -lpthread

$(BUILD)/tuntcpd: $(RUNTIME_OBJ) $(BUILD)/libtuntcpstack.a
	$(CC) $^ -o $@

$(BUILD)/rel/preload/%.o: preload/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(OPT) -fPIC -fvisibility=hidden $(INC) -Ipreload -MMD -MP -c $< -o $@

$(BUILD)/tuntcp: preload/tuntcp.sh
	install -m 755 $< $@

$(BUILD)/examples/%: examples/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(OPT) $< -o $@ -lpthread

$(BUILD)/tools/%: tests/tools/%.c tests/tools/tool.h
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(OPT) $< -o $@ -lpthread

$(BUILD)/tools/%.so: tests/tools/preload/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(OPT) -shared -fPIC $< -o $@ -ldl

$(BUILD)/unit_tests: $(UNIT_OBJ) $(STACK_SAN_OBJ)
	$(CC) $(SAN) $^ -o $@

unit: $(BUILD)/unit_tests

test: all $(BUILD)/unit_tests $(TEST_TOOLS) $(TEST_SHIMS)
	@tests/deps
	@tests/run-all

$(BUILD)/bench_mem: tests/bench/bench_mem.c $(BUILD)/libtuntcpstack.a
	$(CC) $(CSTD) $(WARN) $(OPT) $(INC) $< $(BUILD)/libtuntcpstack.a -o $@

# The lossy link for kernel TCP in the benchmark: the stack's impairment
# code (libtuntcpstack.a) and the daemon's TUN and configuration objects.
$(BUILD)/lossy_relay: tests/bench/lossy_relay.c $(BUILD)/rel/stack/runtime/tun.o \
                      $(BUILD)/rel/stack/runtime/config.o $(BUILD)/libtuntcpstack.a
	$(CC) $(CSTD) $(WARN) $(OPT) $(INC) $^ -o $@ -lpthread

$(BUILD)/timed_bulk: tests/bench/timed_bulk.c
	$(CC) $(CSTD) $(WARN) $(OPT) $< -o $@

demo: all
	@tests/demo/run

bench: all $(BUILD)/bench_mem
	@tests/bench/run

# libFuzzer on the packet input path (clang; tests/fuzz/fuzz_input.c says
# what an input stands for); FUZZ_SECONDS bounds the run.
FUZZ_SECONDS ?= 60
$(BUILD)/fuzz_input: tests/fuzz/fuzz_input.c $(STACK_SRC)
	@mkdir -p $(dir $@)
	clang $(CSTD) $(WARN) -g -O1 -fsanitize=fuzzer $(SAN) $(INC) $^ -o $@

fuzz: $(BUILD)/fuzz_input
	@mkdir -p $(BUILD)/fuzz-corpus
	$(BUILD)/fuzz_input -max_total_time=$(FUZZ_SECONDS) -max_len=4096 $(BUILD)/fuzz-corpus

# The launcher finds the library beside itself (through the symlink), the
# library the daemon beside itself.
install: all
	install -d $(DESTDIR)$(PREFIX)/lib/tuntcp $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BUILD)/libtuntcp.so $(BUILD)/tuntcpd $(BUILD)/tuntcp $(DESTDIR)$(PREFIX)/lib/tuntcp/
	ln -sf ../lib/tuntcp/tuntcp $(DESTDIR)$(PREFIX)/bin/tuntcp

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
