# escapes — build, install, test, demo.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR := $(DESTDIR)$(PREFIX)/bin
MANDIR := $(DESTDIR)$(PREFIX)/share/man
SBINDIR := $(DESTDIR)$(PREFIX)/sbin
LIBEXECDIR := $(DESTDIR)$(PREFIX)/libexec/escapes
# Where op's examples look for the standard helpers (issue 14): the same files, linked again.
JACKETDIR := $(DESTDIR)$(PREFIX)/libexec/jacket
CARGO ?= cargo
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)

# What `make build`, `install` and `deb` ship is linked statically (crt-static, static-pie):
# no dynamic loader ever runs in the setuid process, and start-up is ~30 syscalls shorter.
# Static glibc still parses GLIBC_TUNABLES (and its MALLOC_* aliases) and reads some LD_*
# before main; escapes' entry point (escapes_start in src/sys/start.rs, linked in by build.rs)
# renames all of those first, so nothing the caller puts in GLIBC_TUNABLES, LD_* or MALLOC_* is
# read before main (tests/static_start.rs). In a LINK=dynamic build ld.so reads them before that entry runs.
# `make LINK=dynamic build install` builds the ordinary way (needs glibc >= 2.36 to run, for RELR).
LINK ?= static
HOST_TRIPLE := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
ifeq ($(LINK),static)
SHIP_FLAGS := --target $(HOST_TRIPLE)
SHIP_RUSTFLAGS := -C target-feature=+crt-static
SHIP_DIR := $(TARGET_DIR)/$(HOST_TRIPLE)/release
HELPER_DIR := $(TARGET_DIR)/$(HOST_TRIPLE)/helper
else ifeq ($(LINK),dynamic)
SHIP_FLAGS :=
SHIP_RUSTFLAGS :=
SHIP_DIR := $(TARGET_DIR)/release
HELPER_DIR := $(TARGET_DIR)/helper
else
$(error LINK must be static or dynamic, not $(LINK))
endif
# The helpers are one program, escapes-helper, run by the name it is linked as: installed as
# hard links, one per name, in LIBEXECDIR and JACKETDIR (escapes refuses a helper path that is
# a symbolic link).
HELPER_BIN := escapes-helper
HELPERS := timebox envauth manifest signed coat stamp stampctl sheval xdisplay proxy-agent
HELPER_MAIN := $(LIBEXECDIR)/$(firstword $(HELPERS))
# Issue 13: the installed helpers take at most 1.5 MB together (decimal: bytes of every installed
# file counted once, so the one program under all its names). `make build` fails past it (and
# prints the size), `make size` checks an install under DESTDIR/PREFIX, and packaging/test.sh the .deb's.
HELPER_MAX_BYTES := 1500000

# Integration tests run a build whose compiled-in config path points at the test fixture.
TEST_CONFIG := /run/escapes-test/etc/config.toml
TEST_CACHE := /run/escapes-test/cache
# The stamp helpers' compiled-in root for the tests (their tests reset it; never /run/escapes/stamp).
TEST_STAMP_ROOT := /run/escapes-test/stamp

.PHONY: all build size install test test-deps demo fuzz audit-syscalls audit-network lint-man clean

all: build

build:
	RUSTFLAGS="$(SHIP_RUSTFLAGS) $(RUSTFLAGS)" $(CARGO) build --release --locked -p escapes $(SHIP_FLAGS)
	RUSTFLAGS="$(SHIP_RUSTFLAGS) $(RUSTFLAGS)" $(CARGO) build --profile helper --locked -p escapes-helpers $(SHIP_FLAGS)
	@for b in $(SHIP_DIR)/escapes $(HELPER_DIR)/$(HELPER_BIN); do \
	    if [ "$(LINK)" = static ] && { readelf -lW $$b | grep -q INTERP || readelf -dW $$b | grep -q NEEDED; }; then \
	        echo "$$b is not static" >&2; exit 1; fi; done
	@n=$$(stat -c %s $(HELPER_DIR)/$(HELPER_BIN)); echo "$(HELPER_BIN): $$n bytes (at most $(HELPER_MAX_BYTES))"; \
	    if [ $$n -gt $(HELPER_MAX_BYTES) ]; then echo "$(HELPER_BIN) is over $(HELPER_MAX_BYTES) bytes (issue 13)" >&2; exit 1; fi

# The installed helpers (LIBEXECDIR and JACKETDIR, after `make install`), each file once: at most
# HELPER_MAX_BYTES together.
size:
	@l=$$(for h in $(HELPERS); do stat -L -c '%d:%i %s' $(LIBEXECDIR)/$$h $(JACKETDIR)/$$h || exit 1; done) || \
	    { echo "the helpers are not installed in $(LIBEXECDIR) and $(JACKETDIR)" >&2; exit 1; }; \
	n=$$(printf '%s\n' "$$l" | sort -u | awk '{ t += $$2 } END { print t + 0 }'); \
	echo "installed helpers: $$n bytes together (at most $(HELPER_MAX_BYTES))"; \
	if [ $$n -gt $(HELPER_MAX_BYTES) ]; then echo "the installed helpers are over $(HELPER_MAX_BYTES) bytes (issue 13)" >&2; exit 1; fi

install: build
	install -d -m 0755 $(BINDIR) $(SBINDIR) $(MANDIR)/man8 $(MANDIR)/man5
	install -o root -g root -m 4755 $(SHIP_DIR)/escapes $(BINDIR)/escapes
	install -o root -g root -m 0644 man/escapes.8 $(MANDIR)/man8/escapes.8
	install -o root -g root -m 0644 man/escapes.toml.5 $(MANDIR)/man5/escapes.toml.5
	install -o root -g root -m 0644 man/stampctl.8 $(MANDIR)/man8/stampctl.8
	install -d -m 0755 $(LIBEXECDIR) $(JACKETDIR)
	install -o root -g root -m 0755 $(HELPER_DIR)/$(HELPER_BIN) $(HELPER_MAIN)
	for h in $(wordlist 2,$(words $(HELPERS)),$(HELPERS)); do ln -f $(HELPER_MAIN) $(LIBEXECDIR)/$$h; done
	for h in $(HELPERS); do ln -f $(HELPER_MAIN) $(JACKETDIR)/$$h; done
	ln -sfn ../libexec/escapes/stampctl $(SBINDIR)/stampctl
	# Rotation that keeps the audit hash chain (logrotate reads /etc/logrotate.d, whatever PREFIX).
	install -d -m 0755 $(DESTDIR)/etc/logrotate.d
	install -o root -g root -m 0644 packaging/logrotate $(DESTDIR)/etc/logrotate.d/escapes

# Everything CI runs: unit tests, corpus replay, Wycheproof, and the end-to-end suite against
# the installed setuid binary (needs root: it creates test users and installs a setuid copy).
test: test-deps
	ESCAPES_STAMP_ROOT=$(TEST_STAMP_ROOT) ESCAPES_CONFIG_PATH=$(TEST_CONFIG) ESCAPES_CACHE_DIR=$(TEST_CACHE) $(CARGO) test --workspace --locked

# tests/syslog.rs runs the real daemons: rsyslogd, systemd-journald (outside systemd), logrotate.
# (The list is every package `make test` needs and lacks, not only the syslog ones.)
SYSLOG_TEST_PACKAGES := $(if $(wildcard /usr/sbin/rsyslogd),,rsyslog) $(if $(wildcard /usr/sbin/logrotate),,logrotate) \
	$(if $(wildcard /lib/systemd/systemd-journald /usr/lib/systemd/systemd-journald),,systemd)
# The helpers' peers (helpers/tests, tests/helpers_e2e.rs): ssh-agent/ssh-add/ssh-keygen, /usr/bin/xauth.
SYSLOG_TEST_PACKAGES += $(if $(wildcard /usr/bin/ssh-agent),$(if $(wildcard /usr/bin/ssh-add),$(if $(wildcard /usr/bin/ssh-keygen),,openssh-client),openssh-client),openssh-client) \
	$(if $(wildcard /usr/bin/xauth),,xauth)
test-deps:
	@python3 -c 'import cryptography' 2>/dev/null || python3 -m pip install --quiet cryptography
	@if [ -n "$(strip $(SYSLOG_TEST_PACKAGES))" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSLOG_TEST_PACKAGES) >/dev/null; fi

demo: test-deps
	sh demo/demo.sh

# Every fuzz target for FUZZ_SECONDS each (cargo-fuzz on stable via RUSTC_BOOTSTRAP).
FUZZ_SECONDS ?= 60
fuzz:
	sh fuzz/run.sh $(FUZZ_SECONDS)

# Runs the end-to-end scenarios under strace and fails on any syscall not listed in
# audit/syscalls for its phase.
audit-syscalls:
	sh audit/check.sh

# The network child under strace against the test IdP (25 cases: name resolution, every fault
# mode): each syscall before its seccomp filter must be listed network-setup, each after it
# network. Uses the test build's compiled-in config path.
audit-network:
	ESCAPES_CONFIG_PATH=$(TEST_CONFIG) ESCAPES_CACHE_DIR=$(TEST_CACHE) $(CARGO) build --locked -p escapes -p escapes-testidp -p escapes-testkit
	BIN=$(TARGET_DIR)/debug/escapes TESTIDP=$(TARGET_DIR)/debug/escapes-testidp MINT=$(TARGET_DIR)/debug/escapes-mint \
	    bash audit/network-trace.sh

# The trusted computing base counted from the source: code lines per module, where each runs
# (root, confined child, after the privilege drop), and the root-executed total; fails on a
# module cycle or on root code reaching into a child-only module (audit/tcb.py).
# It also fails when SECURITY.md's table is not what the source gives; `make tcb-doc` rewrites it.
.PHONY: tcb tcb-doc
tcb:
	python3 audit/tcb.py --check SECURITY.md

tcb-doc:
	python3 audit/tcb.py --write SECURITY.md

# mandoc -Tlint (and groff -ww where installed) on both man pages; any warning fails.
lint-man:
	sh man/lint.sh

clean:
	$(CARGO) clean

# --- Packaging (packaging/README.md) -----------------------------------------------------------
# `make deb`: target/deb/escapes_<version>_<arch>.deb, built with dpkg-deb alone. Its own cargo
# target dir, the build-time paths unset (so the compiled-in config is /etc/openape/config.toml
# whatever the caller's environment says) and source paths remapped, so the binary does not
# depend on where it was built; dates come from SOURCE_DATE_EPOCH (the last commit).
# `make static`: a fully static escapes (crt-static, static-pie) for minimal images, in the
# --target directory so it never disturbs the normal build.
# `make test-packaging` (root): installs the .deb in a fresh root and runs the static binary in
# a chroot built from an empty directory (packaging/test.sh).
DEB_VERSION := $(shell sed -n 's/^version *= *"\(.*\)"$$/\1/p' Cargo.toml | head -n 1)
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
DEB_DIR := $(TARGET_DIR)/deb
DEB := $(DEB_DIR)/escapes_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB_HELPERS := $(HELPERS)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
REPRO_RUSTFLAGS := --remap-path-prefix=$(CURDIR)=/usr/src/escapes --remap-path-prefix=$(or $(CARGO_HOME),$(HOME)/.cargo)=/usr/share/cargo
STATIC_TRIPLE ?= $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
STATIC_CONFIG_PATH ?= /etc/openape/config.toml
STATIC_CACHE_DIR ?= /var/cache/openape
STATIC_BIN := $(TARGET_DIR)/$(STATIC_TRIPLE)/release/escapes

.PHONY: deb static test-packaging

deb:
	env -u ESCAPES_CONFIG_PATH -u ESCAPES_CACHE_DIR CARGO_TARGET_DIR=$(DEB_DIR)/cargo RUSTFLAGS="$(SHIP_RUSTFLAGS) $(REPRO_RUSTFLAGS)" \
	    $(CARGO) build --release --locked -p escapes $(SHIP_FLAGS)
	env -u ESCAPES_CONFIG_PATH -u ESCAPES_CACHE_DIR -u ESCAPES_STAMP_ROOT CARGO_TARGET_DIR=$(DEB_DIR)/cargo RUSTFLAGS="$(SHIP_RUSTFLAGS) $(REPRO_RUSTFLAGS)" \
	    $(CARGO) build --profile helper --locked -p escapes-helpers $(SHIP_FLAGS)
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) CARGO=$(CARGO) HELPER_DIR=$(patsubst $(TARGET_DIR)/%,$(DEB_DIR)/cargo/%,$(HELPER_DIR)) \
	    sh packaging/build-deb.sh $(patsubst $(TARGET_DIR)/%,$(DEB_DIR)/cargo/%,$(SHIP_DIR)) $(DEB) $(DEB_HELPERS)

static:
	ESCAPES_CONFIG_PATH=$(STATIC_CONFIG_PATH) ESCAPES_CACHE_DIR=$(STATIC_CACHE_DIR) \
	RUSTFLAGS="-C target-feature=+crt-static $(REPRO_RUSTFLAGS)" \
	    $(CARGO) build --release --locked -p escapes --target $(STATIC_TRIPLE)
	@if readelf -lW $(STATIC_BIN) | grep -q INTERP || readelf -dW $(STATIC_BIN) | grep -q NEEDED; then \
	    echo "$(STATIC_BIN) is not static" >&2; exit 1; fi
	@echo "static: $(STATIC_BIN) (config $(STATIC_CONFIG_PATH))"

test-packaging: deb static
	$(CARGO) build --release --locked -p escapes-testkit
	HELPER_MAX_BYTES=$(HELPER_MAX_BYTES) bash packaging/test.sh $(DEB) $(STATIC_BIN) $(TARGET_DIR)/release/escapes-mint

# --- Benchmark (issue 8) --------------------------------------------------------------------------
# `make bench` (root): escapes side by side with /bin/true, doas, sudo and sudo-rs, interleaved, as
# one unprivileged user; writes and prints bench/RESULTS.md. BENCH_RUNS (default 100) timed runs
# per row; see bench/run.sh for the other knobs. Installs what it is missing; removes its setup.
.PHONY: bench
bench:
	BENCH_RUNS=$(or $(BENCH_RUNS),100) CARGO=$(CARGO) bash bench/run.sh

# --- Supply chain (issue 6) -----------------------------------------------------------------------
# `make deny`: cargo-deny bans (only the runtime crates listed in deny.toml), licenses and sources
# (crates.io only), offline; installs cargo-deny if it is missing. Advisories need the network and
# are not part of this check.
# `make repro`: builds the release escapes and helpers twice, from two source paths into two
# target dirs, and fails unless the binaries are byte-for-byte identical (packaging/repro.sh).
.PHONY: deny repro
deny:
	@$(CARGO) deny --version >/dev/null 2>&1 || $(CARGO) install cargo-deny --locked
	# cargo metadata wants every platform's crates, not just the ones this host builds.
	$(CARGO) fetch --locked >/dev/null
	$(CARGO) deny --offline check bans licenses sources

repro:
	CARGO=$(CARGO) SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) SHIP_FLAGS="$(SHIP_FLAGS)" SHIP_RUSTFLAGS="$(SHIP_RUSTFLAGS)" \
	    sh packaging/repro.sh
