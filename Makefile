# SPDX-License-Identifier: GPL-2.0-only
# cgwarden. Layout and conventions follow libbpf-tools: OUTPUT, CLANG, BPFTOOL,
# V=1, PREFIX/DESTDIR. SANITIZE=1 builds with ASan+UBSan into $(OUTPUT)-asan.

OUTPUT ?= build
# Every core by default: `make check` builds the program three times
# (plain, ASan, and each libFuzzer target over the whole library).
NPROC := $(shell nproc 2>/dev/null || echo 2)
MAKEFLAGS += -j$(NPROC)
ifeq ($(SANITIZE),1)
override OUTPUT := $(OUTPUT)-asan
endif
CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config
PREFIX ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0
# The git revision goes into --version, /metrics and the package; a source
# tree without git (a .deb source package) passes REVISION= on the command
# line or leaves it "unknown".
REVISION ?= $(shell git -C $(CURDIR) describe --always --abbrev=12 --dirty=+dirty \
	--exclude='*' 2>/dev/null || echo unknown)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

PKGS := json-c ncursesw libbpf libmicrohttpd zlib libzstd
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
ifeq ($(PKG_LIBS),)
$(warning pkg-config found none of $(PKGS): run scripts/deps.sh first)
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-missing-field-initializers
CFLAGS ?= -O2 -g
override CFLAGS += -std=gnu11 -D_GNU_SOURCE -DCGWARDEN_VERSION='"$(VERSION)"' \
	$(WARN) -Isrc -Iui $(PKG_CFLAGS)
LDLIBS += $(PKG_LIBS)
ifeq ($(SANITIZE),1)
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
override CFLAGS += $(SAN)
override LDFLAGS += $(SAN)
endif

# eBPF (libbpf-tools style): vmlinux.h from the build host's BTF, the object
# compiled with clang for the bpf target, a bpftool skeleton that src/bpfsrc.c
# embeds. All three live in $(OUTPUT), never in git.
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BPF_OBJ := $(OUTPUT)/bpf/cgwarden.bpf.o
BPF_SKEL := $(OUTPUT)/cgwarden.skel.h
# The cgroup iterator (bpf/cgw_iter.bpf.c), one object per rstat flush
# kfunc: css_rstat_flush (6.16+) and cgroup_rstat_flush (6.1-6.15).
# src/iterbpf.c embeds both skeletons and loads the one the kernel has.
ITER_SKELS := $(OUTPUT)/cgw_iter_css.skel.h $(OUTPUT)/cgw_iter_cgrp.skel.h
override CFLAGS += -I$(OUTPUT) -Ibpf

# Everything but the command front end is a library the tests link against;
# the dashboard (ui/, the only user of curses) is part of it.
CMD_SRCS := src/main.c $(wildcard src/cmd_*.c)
LIB_SRCS := $(filter-out $(CMD_SRCS),$(wildcard src/*.c)) $(wildcard ui/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(OUTPUT)/%.o)
CMD_OBJS := $(CMD_SRCS:%.c=$(OUTPUT)/%.o)
LIB := $(OUTPUT)/libcgwarden.a
BIN := $(OUTPUT)/cgwarden

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(OUTPUT)/tests/%)
BENCH_BINS := $(OUTPUT)/bench/floor $(OUTPUT)/bench/json_tick $(OUTPUT)/bench/pingpong \
	$(OUTPUT)/bench/prom_render $(OUTPUT)/bench/tick_floor $(OUTPUT)/bench/top_frame \
	$(OUTPUT)/bench/iterwalk $(OUTPUT)/bench/rec_size $(OUTPUT)/bench/rec_synth

# libFuzzer targets, built with clang; their corpora are replayed by check.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(OUTPUT)/fuzz/%)
FUZZ_FLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -Isrc -Iui $(PKG_CFLAGS) \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

.PHONY: all check unit fuzz bench run install clean vmcheck
.DELETE_ON_ERROR:

all: $(BIN)

$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,BTF,$@)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

$(BPF_OBJ): bpf/cgwarden.bpf.c bpf/cgwarden.h $(OUTPUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) \
		-I$(OUTPUT) -Ibpf -c $< -o $@

$(BPF_SKEL): $(BPF_OBJ)
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name cgwarden_bpf > $@.tmp && mv $@.tmp $@

$(OUTPUT)/src/bpfsrc.o: $(BPF_SKEL)

$(OUTPUT)/bpf/cgw_iter_css.bpf.o: ITER_FLUSH := -DCGW_ITER_FLUSH_CSS
$(OUTPUT)/bpf/cgw_iter_cgrp.bpf.o: ITER_FLUSH := -DCGW_ITER_FLUSH_CGROUP
$(OUTPUT)/bpf/cgw_iter_%.bpf.o: bpf/cgw_iter.bpf.c bpf/cgw_iter.h $(OUTPUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) $(ITER_FLUSH) \
		-I$(OUTPUT) -Ibpf -c $< -o $@

$(OUTPUT)/cgw_iter_%.skel.h: $(OUTPUT)/bpf/cgw_iter_%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name cgw_iter_$* > $@.tmp && mv $@.tmp $@

$(OUTPUT)/src/iterbpf.o: $(ITER_SKELS)

# Only version.o sees the revision; its stamp file changes only when the
# revision does, so a commit rebuilds one object and relinks.
$(OUTPUT)/revision.stamp: FORCE | $(OUTPUT)
	$(Q)echo '$(REVISION)' | cmp -s - $@ || echo '$(REVISION)' > $@
$(OUTPUT)/src/version.o: $(OUTPUT)/revision.stamp
$(OUTPUT)/src/version.o: override CFLAGS += -DCGWARDEN_REVISION='"$(REVISION)"'
.PHONY: FORCE
FORCE:

# Each compile writes the headers it read into a .d file beside its output
# (-MMD), with an empty rule per header (-MP) so a deleted header does not
# stop the build: a header change rebuilds exactly what includes it. Test and
# bench programs keep theirs under $(OUTPUT)/dep, out of the runner's
# tests/test_* glob. A missing .d (a build from before, or deleted) remakes
# its output: it is a prerequisite with an empty rule.
DEPFLAGS = -MMD -MP
DEPFILE = $(patsubst $(OUTPUT)/%,$(OUTPUT)/dep/%.d,$@)

DEPFILES := $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d) \
	$(patsubst $(OUTPUT)/%,$(OUTPUT)/dep/%.d,$(UNIT_BINS) $(BENCH_BINS))
$(DEPFILES):

$(OUTPUT)/%.o: %.c $(OUTPUT)/%.d | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(CMD_OBJS) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CMD_OBJS) $(LIB) $(LDLIBS)

$(OUTPUT)/tests/%: tests/unit/%.c $(OUTPUT)/dep/tests/%.d $(LIB)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D) $(dir $(DEPFILE))
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -MF $(DEPFILE) -Itests/unit $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(OUTPUT)/bench/%: tests/bench/%.c $(OUTPUT)/dep/bench/%.d $(LIB)
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(@D) $(dir $(DEPFILE))
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -MF $(DEPFILE) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# The library is compiled once for every fuzz target (coverage and
# sanitizers, no libFuzzer main: fuzzer-no-link) into its own archive;
# each target links it. Every object depends on every header: a header
# change recompiles them all, which is the safe side.
FUZZ_OBJS := $(LIB_SRCS:%.c=$(OUTPUT)/fuzzobj/%.o)
$(OUTPUT)/fuzzobj/%.o: %.c $(wildcard src/*.h ui/*.h) $(BPF_SKEL) $(ITER_SKELS)
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_FLAGS:-fsanitize=fuzzer,%=-fsanitize=fuzzer-no-link,%) -I$(OUTPUT) -Ibpf \
		-c $< -o $@
$(OUTPUT)/fuzzobj/libfuzz.a: $(FUZZ_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^
$(OUTPUT)/fuzz/%: tests/fuzz/%.c $(OUTPUT)/fuzzobj/libfuzz.a
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_FLAGS) -I$(OUTPUT) -Ibpf -o $@ $< $(OUTPUT)/fuzzobj/libfuzz.a $(PKG_LIBS)

$(OUTPUT):
	$(Q)mkdir -p $@

include $(wildcard $(DEPFILES))

unit: $(UNIT_BINS)
fuzz: $(FUZZ_BINS)

# Every test layer through one runner; its last line is the summary.
# Unit tests run twice: as built, and under ASan+UBSan. With SANITIZE=1 the
# whole suite (integration and VM included) runs on the sanitized build.
ifeq ($(SANITIZE),1)
check: $(BIN) $(UNIT_BINS) $(FUZZ_BINS) $(BENCH_BINS)
	$(Q)BUILD=$(OUTPUT) ASAN_BUILD= tests/run
else
check: $(BIN) $(UNIT_BINS) $(FUZZ_BINS) $(BENCH_BINS)
	$(Q)$(MAKE) --no-print-directory SANITIZE=1 OUTPUT=$(OUTPUT) $(OUTPUT)-asan/cgwarden unit
	$(Q)BUILD=$(OUTPUT) ASAN_BUILD=$(OUTPUT)-asan tests/run
endif

vmcheck: $(BIN)
	$(Q)BUILD=$(OUTPUT) tests/run --only vm

bench: $(BIN) $(BENCH_BINS)
	$(Q)BUILD=$(OUTPUT) tests/bench/run.sh

# The dashboard; q quits.
run: $(BIN)
	$(BIN) top

# The Debian package (debian/) into $(OUTPUT), then lintian: an error fails.
# The outer make's flags and variables stay out of the package's own build.
DEB_DIR := $(abspath $(OUTPUT))
DEB_NAME = cgwarden_$(VERSION)_$(shell dpkg --print-architecture 2>/dev/null)
.PHONY: deb
deb:
	$(Q)mkdir -p $(DEB_DIR)
	$(Q)env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL REVISION='$(REVISION)' \
		CGWARDEN_DEB_DIR=$(DEB_DIR) dpkg-buildpackage -b -uc -us \
		--buildinfo-option=-u$(DEB_DIR) --buildinfo-file=$(DEB_DIR)/$(DEB_NAME).buildinfo \
		--changes-option=-u$(DEB_DIR) --changes-file=$(DEB_DIR)/$(DEB_NAME).changes
	$(Q)lintian --fail-on error $(DEB_DIR)/$(DEB_NAME).deb

install: $(BIN)
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/cgwarden
	install -D -m 0644 man/cgwarden.8 $(DESTDIR)$(PREFIX)/share/man/man8/cgwarden.8
	install -D -m 0644 man/cgwarden-json.7 $(DESTDIR)$(PREFIX)/share/man/man7/cgwarden-json.7
	install -D -m 0644 man/cgwarden-policy.5 $(DESTDIR)$(PREFIX)/share/man/man5/cgwarden-policy.5
	install -D -m 0644 man/cgwarden-record.8 $(DESTDIR)$(PREFIX)/share/man/man8/cgwarden-record.8
	install -D -m 0644 man/cgwarden-store.5 $(DESTDIR)$(PREFIX)/share/man/man5/cgwarden-store.5
	install -D -m 0644 schema/cgwarden.schema.json \
		$(DESTDIR)$(PREFIX)/share/cgwarden/cgwarden.schema.json
	install -D -m 0644 completion/cgwarden.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/cgwarden
	install -D -m 0644 completion/_cgwarden \
		$(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_cgwarden
	install -D -m 0644 completion/cgwarden.fish \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/cgwarden.fish

# The OCI image localhost/cgwarden:$(VERSION) from scratch (deploy/README.md).
.PHONY: image
image: $(BIN)
	$(Q)BIN=$(BIN) VERSION=$(VERSION) REVISION=$(REVISION) scripts/image.sh

clean:
	rm -rf $(OUTPUT) $(OUTPUT)-asan
