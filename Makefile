# escapes — build, install, test, demo.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR := $(DESTDIR)$(PREFIX)/bin
MANDIR := $(DESTDIR)$(PREFIX)/share/man
CARGO ?= cargo
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)

# Integration tests run a build whose compiled-in config path points at the test fixture.
TEST_CONFIG := /run/escapes-test/etc/config.toml
TEST_CACHE := /run/escapes-test/cache

.PHONY: all build install test test-deps demo fuzz audit-syscalls lint-man clean

all: build

build:
	$(CARGO) build --release --locked -p escapes

install: build
	install -d -m 0755 $(BINDIR) $(MANDIR)/man8 $(MANDIR)/man5
	install -o root -g root -m 4755 $(TARGET_DIR)/release/escapes $(BINDIR)/escapes
	install -o root -g root -m 0644 man/escapes.8 $(MANDIR)/man8/escapes.8
	install -o root -g root -m 0644 man/escapes.toml.5 $(MANDIR)/man5/escapes.toml.5

# Everything CI runs: unit tests, corpus replay, Wycheproof, and the end-to-end suite against
# the installed setuid binary (needs root: it creates test users and installs a setuid copy).
test: test-deps
	ESCAPES_CONFIG_PATH=$(TEST_CONFIG) ESCAPES_CACHE_DIR=$(TEST_CACHE) $(CARGO) test --workspace --locked

test-deps:
	@python3 -c 'import cryptography' 2>/dev/null || python3 -m pip install --quiet cryptography

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

# mandoc -Tlint (and groff -ww where installed) on both man pages; any warning fails.
lint-man:
	sh man/lint.sh

clean:
	$(CARGO) clean
