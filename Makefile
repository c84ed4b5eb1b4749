# Warden build. Everything goes to $(OUT); `make V=1` shows the commands.
#   make            build/warden (BPF objects embedded as libbpf skeletons)
#   make check      host unit tests, then the VM tests; ends with "N passed, N failed"
#   make deps       install the Debian packages the build and tests need
#   make demo       README's main job: a sample agent confined in the VM
#   make bench      benchmarks (host + one VM boot): table, build/bench/results.json
#   make install    PREFIX=/usr/local DESTDIR=

OUT ?= build
ARCH ?= x86
PREFIX ?= /usr/local
DESTDIR ?=
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
SAN ?=

VMLINUX_H := vmlinux/$(ARCH)/vmlinux.h
ifeq ($(wildcard $(VMLINUX_H)),)
$(error unknown ARCH '$(ARCH)': no $(VMLINUX_H) (tools/gen-vmlinux.sh makes one))
endif

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

BPF_CFLAGS := -g -O2 --target=bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-I$(OUT) -Ivmlinux/$(ARCH) -Ibpf
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -MMD -MP -I$(OUT) -Ibpf -Iuser \
	-DWARDEN_VERSION='"$(VERSION)"' $(shell pkg-config --cflags libbpf libcjson ldns)
LDLIBS += $(shell pkg-config --libs libbpf libcjson ldns libcurl) -lelf -lz -lpthread
ifeq ($(SAN),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS))

# The policy compiler, JSON and event code has no BPF in it: unit tests link it alone.
CORE_SRCS := user/policy.c user/mxc.c user/jsonpos.c user/event.c user/util.c user/netcompile.c
CORE_SRCS += user/dns.c
CORE_SRCS += user/learn.c
CORE_SRCS += user/ocsf.c
CORE_SRCS += user/sink.c user/sink_syslog.c user/sink_http.c
CORE_OBJS := $(patsubst user/%.c,$(OUT)/user/%.o,$(CORE_SRCS))
APP_SRCS := $(filter-out $(CORE_SRCS),$(wildcard user/*.c))
APP_OBJS := $(patsubst user/%.c,$(OUT)/user/%.o,$(APP_SRCS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(UNIT_SRCS))
HELPER_SRCS := $(wildcard tests/helpers/*.c)
HELPER_BINS := $(patsubst tests/helpers/%.c,$(OUT)/tests/%,$(HELPER_SRCS))
TEST_BPF_OBJS := $(patsubst tests/bpf/%.bpf.c,$(OUT)/tests/%.bpf.o,$(wildcard tests/bpf/*.bpf.c))

.DELETE_ON_ERROR:
.SECONDARY: $(BPF_OBJS)
.PHONY: all check unit vmtest deps demo install clean bench

all: $(OUT)/warden $(HELPER_BINS) $(TEST_BPF_OBJS)

$(OUT) $(OUT)/user $(OUT)/tests:
	$(Q)mkdir -p $@

$(OUT)/%.bpf.o: bpf/%.bpf.c bpf/warden.h bpf/ratelimit.h $(VMLINUX_H) | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp
	$(Q)rm -f $@.tmp

# BPF programs the tests use against warden (not part of warden).
$(OUT)/tests/%.bpf.o: tests/bpf/%.bpf.c $(VMLINUX_H) | $(OUT)/tests
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(APP_OBJS): $(SKELS)

$(OUT)/user/%.o: user/%.c | $(OUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/warden: $(APP_OBJS) $(CORE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/tests/test_%: tests/unit/test_%.c $(CORE_OBJS) | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(CORE_OBJS) $(LDLIBS) -lcmocka -o $@

# Test helpers run inside the VM: plain C, threads, cJSON (fakedns: ldns too).
$(OUT)/tests/fakedns: HELPER_LIBS = $(shell pkg-config --libs ldns)
$(OUT)/tests/%: tests/helpers/%.c | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -D_GNU_SOURCE -Wall -Wextra -Werror -MMD -MP $< -lpthread $(shell pkg-config --libs libcjson) $(HELPER_LIBS) -o $@

# test_dns runs build/tests/fakedns as its upstream
$(OUT)/tests/test_dns: | $(OUT)/tests/fakedns

# Sink test helpers: sinkfeed drives the sink code, collector is an HTTP receiver.
$(OUT)/tests/sinkfeed: tests/helpers/sinkfeed.c $(CORE_OBJS) | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(CORE_OBJS) $(LDLIBS) -o $@

$(OUT)/tests/collector: tests/helpers/collector.c | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(shell pkg-config --libs libmicrohttpd libcjson) -o $@

unit: $(UNIT_BINS)
	$(Q)tests/run-unit $(UNIT_BINS)

# Everything: host tests, then the VM tests; the last line is "N passed, N failed".
check: all $(UNIT_BINS)
	$(Q)tests/run-all $(UNIT_BINS)

deps:
	$(Q)tools/deps

demo: all
	$(Q)tools/demo

# Benchmarks (tests/bench/, BENCHMARKS.md): not part of check, timing is not a test.
BENCH_BINS := $(OUT)/bench/opbench $(OUT)/bench/nop $(OUT)/bench/landlock-run \
	$(OUT)/bench/evbench $(OUT)/bench/loadbench

$(OUT)/bench:
	$(Q)mkdir -p $@

# Run in the VM and under Landlock: plain C, no project code.
$(OUT)/bench/opbench $(OUT)/bench/landlock-run: $(OUT)/bench/%: tests/bench/%.c | $(OUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -D_GNU_SOURCE -Wall -Wextra -Werror -MMD -MP $< -o $@

# Static: opbench's exec cost is then the kernel's, not the dynamic loader's.
$(OUT)/bench/nop: tests/bench/nop.c | $(OUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -static -Wall -Wextra -Werror $< -o $@

$(OUT)/bench/evbench: tests/bench/evbench.c $(CORE_OBJS) | $(OUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(CORE_OBJS) $(LDLIBS) -o $@

$(OUT)/bench/loadbench: tests/bench/loadbench.c $(CORE_OBJS) $(OUT)/user/lsm.o | $(OUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(CORE_OBJS) $(OUT)/user/lsm.o $(LDLIBS) -o $@

bench: all $(BENCH_BINS)
	$(Q)tests/bench/run

install: $(OUT)/warden
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/warden/policies
	install -m 0755 $(OUT)/warden $(DESTDIR)$(PREFIX)/bin/warden
	install -m 0644 policies/*.json $(DESTDIR)$(PREFIX)/share/warden/policies/

clean:
	rm -rf $(OUT)

-include $(wildcard $(OUT)/user/*.d $(OUT)/tests/*.d)
-include $(wildcard $(OUT)/bench/*.d)
