# Warden build. Everything goes to $(OUT); `make V=1` shows the commands.
#   make            build/warden (BPF objects embedded as libbpf skeletons)
#   make check      host unit tests, then the VM tests; ends with "N passed, N failed"
#   make deps       install the Debian packages the build and tests need
#   make demo       README's main job: a sample agent confined in the VM
#   make bench      benchmarks (host + one VM boot): table, build/bench/results.json
#   make install    PREFIX=/usr/local DESTDIR=
#   make check SAN=1  ASan+UBSan build in build-san/, host suites only
#   make fuzz       libFuzzer harnesses (tests/fuzz) in $(OUT)/fuzz/
#   make fuzz-run   run each for FUZZ_SECONDS (default 60); fails on a crash
#   make valgrind   unit tests and CLI runs under valgrind, no leaks or errors

SAN ?=
# Sanitized objects never mix with normal ones.
ifeq ($(SAN),1)
OUT ?= build-san
endif
OUT ?= build
ARCH ?= x86
PREFIX ?= /usr/local
DESTDIR ?=
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc

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
	-DWARDEN_VERSION='"$(VERSION)"' $(shell pkg-config --cflags libbpf libcjson ldns libmicrohttpd)
LDLIBS += $(shell pkg-config --libs libbpf libcjson ldns libcurl libmicrohttpd nettle) -lelf -lz -lpthread
ifeq ($(SAN),1)
# clang, as for the fuzzers: gcc's instrumentation gives false
# -Wformat-truncation warnings, which -Werror turns into failures.
ifeq ($(origin CC),default)
CC := $(CLANG)
endif
# No recovery: undefined behaviour fails the test that reaches it.
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS))

# The policy compiler, JSON and event code has no BPF in it: unit tests link it alone.
CORE_SRCS := user/policy.c user/mxc.c user/jsonpos.c user/event.c user/util.c user/netcompile.c \
	user/caps.c
CORE_SRCS += user/dns.c
CORE_SRCS += user/learn.c
CORE_SRCS += user/ocsf.c
CORE_SRCS += user/sink.c user/sink_syslog.c user/sink_http.c
CORE_SRCS += user/metrics.c
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
.PHONY: all check unit vmtest deps demo install clean bench fuzz fuzz-run valgrind

all: $(OUT)/warden $(HELPER_BINS) $(TEST_BPF_OBJS)

$(OUT) $(OUT)/user $(OUT)/tests:
	$(Q)mkdir -p $@

$(OUT)/%.bpf.o: bpf/%.bpf.c bpf/warden.h bpf/ratelimit.h bpf/srcroute.h $(VMLINUX_H) | $(OUT)
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
.SECONDARY: $(OUT)/bench/evgen.bpf.o $(OUT)/bench/floor.bpf.o

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
	$(Q)set -e; for t in $(UNIT_BINS); do $$t; done

# Everything: host tests, then the VM tests; the last line is "N passed, N failed".
# Under SAN=1 only the host suites run (tests/run-all says so).
check: all $(UNIT_BINS)
	$(Q)WARDEN_OUT=$(OUT) WARDEN_SAN=$(SAN) tests/run-all $(UNIT_BINS)

# libFuzzer harnesses: clang, ASan+UBSan, the core sources built apart in
# $(OUT)/fuzz/ (they need -fsanitize=fuzzer-no-link).
FUZZ_DIR := $(OUT)/fuzz
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(FUZZ_SRCS))
FUZZ_OBJS := $(patsubst user/%.c,$(FUZZ_DIR)/obj/%.o,$(CORE_SRCS))
FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -MMD -MP -Iuser -Ibpf \
	$(shell pkg-config --cflags libbpf libcjson ldns) -fsanitize=address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SECONDS ?= 60
.SECONDARY: $(FUZZ_OBJS)

$(FUZZ_DIR)/obj:
	$(Q)mkdir -p $@

$(FUZZ_DIR)/obj/%.o: user/%.c | $(FUZZ_DIR)/obj
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS)
	$(call msg,FUZZ-LD,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_OBJS) $(LDLIBS) -o $@

fuzz: $(FUZZ_BINS)

fuzz-run: $(FUZZ_BINS)
	$(Q)tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

# Unit tests and the CLI on every policy, under valgrind (never a SAN build:
# valgrind and ASan do not mix).
valgrind: all $(UNIT_BINS)
	$(Q)$(if $(filter 1,$(SAN)),$(error make valgrind: not with SAN=1))WARDEN_OUT=$(OUT) tests/valgrind/run.sh $(UNIT_BINS)

deps:
	$(Q)tools/deps

demo: all
	$(Q)tools/demo

# Benchmarks (tests/bench/, BENCHMARKS.md): not part of check, timing is not a test.
BENCH_BINS := $(OUT)/bench/opbench $(OUT)/bench/nop $(OUT)/bench/landlock-run $(OUT)/bench/flood \
	$(OUT)/bench/evbench $(OUT)/bench/loadbench $(OUT)/bench/evrate $(OUT)/bench/attachbench \
	$(OUT)/bench/insncount.so $(OUT)/bench/floor-run

$(OUT)/bench:
	$(Q)mkdir -p $@

# Run in the VM and under Landlock: plain C, no project code.
$(OUT)/bench/opbench $(OUT)/bench/landlock-run $(OUT)/bench/flood $(OUT)/bench/attachbench: \
		$(OUT)/bench/%: tests/bench/%.c | $(OUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -D_GNU_SOURCE -Wall -Wextra -Werror -MMD -MP $< -o $@

# Static: opbench's exec cost is then the kernel's, not the dynamic loader's.
$(OUT)/bench/nop: tests/bench/nop.c | $(OUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -static -Wall -Wextra -Werror $< -o $@

$(OUT)/bench/evbench: tests/bench/evbench.c $(CORE_OBJS) | $(OUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(CORE_OBJS) $(LDLIBS) -o $@

# The loader and the kernel probe it reads (user/kfeatures.c) come with it.
LOADER_OBJS := $(OUT)/user/lsm.o $(OUT)/user/kfeatures.o
$(OUT)/bench/loadbench: tests/bench/loadbench.c $(CORE_OBJS) $(LOADER_OBJS) | $(OUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(CORE_OBJS) $(LOADER_OBJS) $(LDLIBS) -o $@

# Bench-only BPF programs (never part of warden) and their skeletons.
$(OUT)/bench/%.bpf.o: tests/bench/%.bpf.c bpf/warden.h $(VMLINUX_H) | $(OUT)/bench
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp
	$(Q)rm -f $@.tmp

$(OUT)/bench/%.skel.h: $(OUT)/bench/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# evrate: warden's event drain fed by a bench-only BPF program (evgen), not by denials.
$(OUT)/bench/evrate: tests/bench/evrate.c $(OUT)/bench/evgen.skel.h $(CORE_OBJS) | $(OUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -I$(OUT)/bench $(LDFLAGS) $< $(CORE_OBJS) $(LDLIBS) -o $@

# floor-run: the cost of a bare BPF LSM hook on open, beside Warden's.
$(OUT)/bench/floor-run: tests/bench/floor-run.c $(OUT)/bench/floor.skel.h | $(OUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -I$(OUT)/bench $(LDFLAGS) $< $(LDLIBS) -o $@

# insncount: a QEMU TCG plugin that counts guest instructions between
# opbench's markers; qemu resolves its qemu_plugin_* symbols at load.
$(OUT)/bench/insncount.so: tests/bench/insncount.c | $(OUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -Wall -Wextra -Werror -MMD -fPIC -shared -fvisibility=hidden $< -o $@

bench: all $(BENCH_BINS)
	$(Q)tests/bench/run

# The unit's paths follow PREFIX; /etc/warden/policies is the daemon's policy
# directory: created if absent, never overwritten (it is the admin's).
install: $(OUT)/warden
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/warden/policies
	install -m 0755 $(OUT)/warden $(DESTDIR)$(PREFIX)/bin/warden
	install -m 0644 policies/*.json $(DESTDIR)$(PREFIX)/share/warden/policies/
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/share/doc/warden/kubernetes
	sed 's|@PREFIX@|$(PREFIX)|g' dist/warden.service >$(DESTDIR)$(PREFIX)/lib/systemd/system/warden.service.tmp
	chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/warden.service.tmp
	mv $(DESTDIR)$(PREFIX)/lib/systemd/system/warden.service.tmp $(DESTDIR)$(PREFIX)/lib/systemd/system/warden.service
	install -m 0644 dist/ROLLOUT.md $(DESTDIR)$(PREFIX)/share/doc/warden/
	install -m 0644 dist/kubernetes/*.yaml $(DESTDIR)$(PREFIX)/share/doc/warden/kubernetes/
	[ -d $(DESTDIR)/etc/warden/policies ] || install -d -m 0755 $(DESTDIR)/etc/warden/policies

clean:
	rm -rf $(OUT)

-include $(wildcard $(OUT)/user/*.d $(OUT)/tests/*.d)
-include $(wildcard $(OUT)/bench/*.d)
-include $(wildcard $(FUZZ_DIR)/obj/*.d $(FUZZ_DIR)/*.d)
