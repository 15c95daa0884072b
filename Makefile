# spamd for Linux: one GNU Makefile, pkg-config, no autotools.
# Programs are built in place (spamd/spamd, spamdb/spamdb, ...).

PREFIX	?= /usr/local
DESTDIR	?=
SBINDIR	 = $(PREFIX)/sbin
LIBEXEC	 = $(PREFIX)/libexec
MANDIR	 = $(PREFIX)/share/man

CC	?= cc
CFLAGS	?= -O2 -g
CPPFLAGS ?=
LDFLAGS	?=
WARNINGS = -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes \
	   -Wmissing-declarations -Wshadow -Wpointer-arith -Wsign-compare
# WERROR=1, as make check builds: a warning fails the build.
WARNINGS += $(if $(filter 1,$(WERROR)),-Werror)
# Recursively expanded, so pkg-config runs only when a recipe needs it
# (after `make deps' has installed what was missing).
pc_cflags = $(shell pkg-config --cflags $(1))
pc_libs	  = $(shell pkg-config --libs $(1))
ALL_CFLAGS = $(CPPFLAGS) $(CFLAGS) $(WARNINGS) -std=gnu11 -D_GNU_SOURCE \
	     -Ilib $(call pc_cflags,libbsd-overlay libnftnl libmnl) -MMD -MP

# SANITIZE=1: everything (programs, unit tests, tools) built with ASan
# and UBSan in the same places, a finding fatal.  The last build's
# flavour is kept in .sanitize, so switching rebuilds every object.
ifeq ($(SANITIZE),1)
SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all \
	    -fno-omit-frame-pointer
CFLAGS	 += $(SAN_FLAGS)
LDFLAGS	 += $(SAN_FLAGS)
# For the tests: a report aborts (so a daemon's death is seen) and goes
# to stderr, which tests keep (spamd -d logs there, and fd 2 stays open
# through its chroot).  Leaks at exit are by design for the daemons.
SAN_ENV	  = ASAN_OPTIONS=abort_on_error=1:detect_leaks=0:print_summary=1 \
	    UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
endif
SAN_STAMP = .sanitize
$(shell [ "$$(cat $(SAN_STAMP) 2>/dev/null)" = "$(SANITIZE)" ] || \
    echo "$(SANITIZE)" >$(SAN_STAMP))
$(SAN_STAMP): ;

# Each program links what it uses.
LIBSPAMD = lib/libspamd.a
NFT_LIBS = $(call pc_libs,libnftnl libmnl)
BSD_LIBS = $(call pc_libs,libbsd-overlay)
CRYPTO_LIBS = $(call pc_libs,libcrypto)
SSL_LIBS = $(call pc_libs,libssl libcrypto)
# spamd -F loads the administrator's ruleset with nft's own parser;
# its resolver process asks DNS (-D) with c-ares, as spfwalk does.
SPAMD_LIBS    = $(LIBSPAMD) -ldb $(call pc_libs,libnftables) $(NFT_LIBS) \
		$(SSL_LIBS) $(call pc_libs,libcares) $(BSD_LIBS)
SPAMDB_LIBS   = $(LIBSPAMD) -ldb $(NFT_LIBS) -lz $(BSD_LIBS)
SPAMLOGD_LIBS = $(LIBSPAMD) -ldb $(NFT_LIBS) -lpcap $(CRYPTO_LIBS) \
		$(BSD_LIBS)
SETUP_LIBS    = $(LIBSPAMD) $(NFT_LIBS) -lcurl -lz $(BSD_LIBS)
SPFWALK_LIBS  = $(LIBSPAMD) $(call pc_libs,libcares) $(BSD_LIBS)
# spamd-graph: librrd draws the graphs and keeps the round-robin data.
GRAPH_LIBS    = $(call pc_libs,librrd) -lm $(BSD_LIBS)
STATUS_LIBS   = $(LIBSPAMD) -ldb $(NFT_LIBS) $(BSD_LIBS)
TEST_LIBS     = $(LIBSPAMD) -ldb $(NFT_LIBS) $(CRYPTO_LIBS) $(BSD_LIBS)

# Quiet lines by default; V=1 shows the commands.
ifeq ($(V),1)
Q	 =
say	 = @:
else
Q	 = @
say	 = @printf '  %-6s %s\n'
endif

LIB_OBJS      = $(patsubst %.c,%.o,$(wildcard lib/*.c))
SPAMD_OBJS    = $(patsubst %.c,%.o,$(wildcard spamd/*.c))
SPAMDB_OBJS   = $(patsubst %.c,%.o,$(wildcard spamdb/*.c))
SPAMLOGD_OBJS = $(patsubst %.c,%.o,$(wildcard spamlogd/*.c))
SETUP_OBJS    = $(patsubst %.c,%.o,$(wildcard spamd-setup/*.c))
SPFWALK_OBJS  = $(patsubst %.c,%.o,$(wildcard spfwalk/*.c))
GRAPH_OBJS    = $(patsubst %.c,%.o,$(wildcard spamd-graph/*.c))
STATUS_OBJS   = $(patsubst %.c,%.o,$(wildcard spamd-status/*.c))
PROGS	 = spamd/spamd spamdb/spamdb spamlogd/spamlogd spamd-setup/spamd-setup \
	   spfwalk/spfwalk spamd-graph/spamd-graph spamd-status/spamd-status

UNIT_BINS  = $(patsubst %.c,%,$(wildcard regress/unit/t_*.c))
TOOL_BINS  = $(patsubst %.c,%,$(wildcard regress/tools/*.c))
BENCH_BINS = $(patsubst bench/src/%.c,bench/bin/%,$(wildcard bench/src/*.c))
TEST_CFLAGS = $(ALL_CFLAGS) -Iregress/unit -Ispamd -Ispamd-setup -Ispamdb

# Unit tests link lib/ and only the objects of the code they test.
UNIT_t_smtp	 = spamd/smtp.o
UNIT_t_blacklist = spamd/blacklist.o spamd/smtp.o
UNIT_t_grey	 = regress/unit/store_mem.o
UNIT_t_greyspf	 = regress/unit/store_mem.o
UNIT_t_spamlogd	 = regress/unit/store_mem.o
UNIT_t_cfgparse	 = spamd/cfgparse.o spamd/blacklist.o spamd/smtp.o
UNIT_t_greymsg	 = spamd/greymsg.o
UNIT_t_greytrap	 = spamd/greytrap.o
UNIT_t_relay	 = spamd/relay.o spamd/whiteset.o
UNIT_t_srctab	 = spamd/srctab.o
UNIT_t_proxyhdr = spamd/proxyhdr.o
UNIT_t_trapdom	 = spamd/trapdom.o
UNIT_t_trusted	 = spamd/trusted.o
UNIT_t_spamdblist = spamdb/list.o
UNIT_t_spamdbedit = spamdb/edit.o regress/unit/store_mem.o
UNIT_t_maillog	 = spamdb/maillog.o
UNIT_t_sync	 = spamd/gsync.o
UNIT_t_dnssite	 = spamd/dnssite.o
# Extra link flags: t_greytrap counts the work of greytrap.c;
UNIT_LD_t_greytrap = -Wl,--wrap=addr_cmp,--wrap=memmove -lm
# t_grey counts the address conversions of grey_decide.
UNIT_LD_t_grey = -Wl,--wrap=addr_str,--wrap=addr_parse

.PHONY: all tests check demo install clean deps bench lint fuzz fuzz-build deb \
	deb-check deps-debtest
.DEFAULT_GOAL := all

all: $(PROGS)

# What regress/ and bench/ run besides the programs.
tests: $(UNIT_BINS) $(TOOL_BINS) $(BENCH_BINS)

%.o: %.c $(SAN_STAMP)
	$(say) CC $@
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

regress/unit/%.o: regress/unit/%.c $(SAN_STAMP)
	$(say) CC $@
	$(Q)$(CC) $(TEST_CFLAGS) -c -o $@ $<

$(LIBSPAMD): $(LIB_OBJS)
	$(say) AR $@
	$(Q)rm -f $@
	$(Q)ar rcs $@ $(LIB_OBJS)

spamd/spamd: $(SPAMD_OBJS) $(LIBSPAMD)
	$(say) LD $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(SPAMD_OBJS) $(SPAMD_LIBS)

spamdb/spamdb: $(SPAMDB_OBJS) $(LIBSPAMD)
	$(say) LD $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(SPAMDB_OBJS) $(SPAMDB_LIBS)

spamlogd/spamlogd: $(SPAMLOGD_OBJS) $(LIBSPAMD)
	$(say) LD $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(SPAMLOGD_OBJS) $(SPAMLOGD_LIBS)

spamd-setup/spamd-setup: $(SETUP_OBJS) $(LIBSPAMD)
	$(say) LD $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(SETUP_OBJS) $(SETUP_LIBS)

spfwalk/spfwalk: $(SPFWALK_OBJS) $(LIBSPAMD)
	$(say) LD $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(SPFWALK_OBJS) $(SPFWALK_LIBS)

spamd-graph/spamd-graph: $(GRAPH_OBJS)
	$(say) LD $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(GRAPH_OBJS) $(GRAPH_LIBS)

spamd-status/spamd-status: $(STATUS_OBJS) $(LIBSPAMD)
	$(say) LD $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(STATUS_OBJS) $(STATUS_LIBS)

# Keep intermediate objects such as regress/unit/store_mem.o.
.SECONDARY:
.SECONDEXPANSION:
regress/unit/t_%: regress/unit/t_%.c $$(UNIT_t_$$*) $(LIBSPAMD) $(SAN_STAMP)
	$(say) CCLD $@
	$(Q)$(CC) $(TEST_CFLAGS) $(LDFLAGS) $(UNIT_LD_t_$*) -o $@ $< \
	    $(UNIT_t_$*) $(TEST_LIBS)

regress/tools/%: regress/tools/%.c $(LIBSPAMD) $(SAN_STAMP)
	$(say) CCLD $@
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(TEST_LIBS)

bench/bin/%: bench/src/%.c $(LIBSPAMD) $(SAN_STAMP)
	@mkdir -p bench/bin
	$(say) CCLD $@
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(TEST_LIBS)

# Debian packages the build, the tests and the demo need.  Installed only
# when something is missing, non-interactively: on a machine that has
# them, `make check' installs nothing.
DEB_PKGS = build-essential pkg-config libnftnl-dev libmnl-dev libpcap-dev \
	   libdb-dev db-util libbsd-dev libcurl4-openssl-dev zlib1g-dev \
	   libssl-dev openssl nftables iproute2 postfix swaks socat mandoc \
	   python3 procps python3-bsddb3 libc-ares-dev nsd librrd-dev \
	   libnftables-dev prometheus-node-exporter python3-png \
	   prometheus
# The balancer in front of two MX in regress/t-haproxy (-X, -R).
DEB_PKGS += haproxy
# What the package tests add (`make deb-check'): lintian, systemd-nspawn
# for the boot test, mmdebstrap for the clean-root build.
DEB_TEST_PKGS = lintian systemd-container mmdebstrap
# Install those of the Debian packages $(1) that are missing.
define deb_install
	@missing=""; for p in $(1); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
		    grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		if [ "$$(id -u)" != 0 ]; then \
			echo "deps: need root to install$$missing" >&2; exit 1; \
		fi; \
		echo "postfix postfix/main_mailer_type select No configuration" | \
		    debconf-set-selections; \
		echo "postfix postfix/mailname string localhost" | \
		    debconf-set-selections; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive \
		    apt-get install -y -q --no-install-recommends $$missing; \
	fi
endef
FUZZ_PKGS = clang libclang-rt-14-dev
SAN_PKGS  = libasan8 libubsan1

.PHONY: deps-fuzz deps-sanitize deb-deps deb-cleanroot
deps:
	$(call deb_install,$(DEB_PKGS))
# `make deb' installs what debian/control's Build-Depends name, no more
# (apt-get build-dep reads the control file).
deb-deps:
	$(call deb_install,dpkg-dev)
	@dpkg-checkbuilddeps 2>/dev/null || { \
		if [ "$$(id -u)" != 0 ]; then \
			dpkg-checkbuilddeps; exit 1; \
		fi; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive \
		    apt-get build-dep -y -q --no-install-recommends ./; }
deps-debtest:
	$(call deb_install,$(DEB_TEST_PKGS))
deps-fuzz:
	$(call deb_install,$(FUZZ_PKGS))
deps-sanitize:
	$(call deb_install,$(SAN_PKGS))

check: deps $(if $(filter 1,$(SANITIZE)),deps-sanitize)
	$(MAKE) all tests WERROR=1
	$(SAN_ENV) regress/run.sh

demo: deps
	$(MAKE) all
	regress/demo.sh

bench: all tests

# The Debian package, built by dpkg-buildpackage in a copy of the tree
# under deb/ (it writes its results next to the source directory).
deb: deb-deps
	rm -rf deb && mkdir -p deb/build/spamd-nft
	tar -cf - --exclude=./.git --exclude=./deb --exclude='*.o' \
	    --exclude='*.d' --exclude='*.a' --exclude=./regress/out . | \
	    tar -xf - -C deb/build/spamd-nft
	$(MAKE) -C deb/build/spamd-nft clean >/dev/null
	cd deb/build/spamd-nft && dpkg-buildpackage -b -us -uc
	cp deb/build/spamd-nft_*.deb deb/

# The package tests, which `make check' leaves out (they build the
# package and boot systemd; .ci/run runs both): lintian and the contents,
# an install and purge in an overlay of this machine
# (regress/deb/t-package), and the units under a booted systemd in a
# container: start, greylisting, firewall reload, reboot, upgrade,
# remove, purge (regress/deb/t-systemd).  Ends with "N passed, N failed".
deb-check: deb deps-debtest
	regress/deb/run

# The package built in a fresh minimal Debian root that holds only
# build-essential and the Build-Depends (mmdebstrap).
deb-cleanroot: deps-debtest
	regress/deb/cleanroot

# libFuzzer harnesses, built with clang from the sources they test, each
# run for FUZZ_SECONDS on its corpus in regress/fuzz/corpus/NAME.
FUZZ_CC	     = clang
FUZZ_FLAGS   = -g -O1 -fsanitize=fuzzer,address,undefined \
	       -fno-sanitize-recover=all -std=gnu11 -D_GNU_SOURCE -Ilib \
	       -Ispamd -Ispamd-setup -Ispamlogd \
	       $(call pc_cflags,libbsd-overlay)
FUZZ_SECONDS ?= 60
FUZZ_LOG     = regress/fuzz/fuzzlog.c
FUZZ_sync    = lib/sync.c lib/addr.c
FUZZ_smtp    = spamd/smtp.c lib/gdata.c lib/addr.c $(FUZZ_LOG)
FUZZ_cfgparse = spamd/cfgparse.c spamd/blacklist.c spamd/smtp.c \
	       lib/cidr.c lib/addr.c lib/gdata.c $(FUZZ_LOG)
FUZZ_spamdconf = spamd-setup/spamdconf.c lib/rfile.c
FUZZ_nflog   = spamlogd/nflog.c lib/addr.c
FUZZ_gdata   = lib/gdata.c lib/addr.c
FUZZ_import  = lib/gdata.c lib/addr.c lib/store.c lib/grey.c lib/spf.c \
	       lib/cidr.c spamdb/lines.c $(FUZZ_LOG)
FUZZ_LIBS_import = -lz
FUZZ_cidr    = lib/cidr.c
FUZZ_maillog = lib/addr.c
# includes spamdb/maillog.c itself
regress/fuzz/fuzz_maillog: spamdb/maillog.c spamdb/maillog.h
FUZZ_proxy   = spamd/proxyhdr.c lib/addr.c
FUZZ_dnssite = spamd/dnssite.c lib/addr.c
# includes spfwalk/walk.c itself
FUZZ_spfdns  = lib/spf.c lib/spftxt.c lib/spfcheck.c lib/cidr.c lib/addr.c \
	       lib/aresloop.c lib/mono.c $(FUZZ_LOG)
FUZZ_LIBS_spfdns = $(call pc_libs,libcares)
regress/fuzz/fuzz_spfdns: spfwalk/walk.c spfwalk/spfwalk.h lib/spf.h
FUZZ_BINS    = $(patsubst %.c,%,$(wildcard regress/fuzz/fuzz_*.c))

regress/fuzz/fuzz_%: regress/fuzz/fuzz_%.c $$(FUZZ_$$*)
	$(say) FUZZ $@
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_$*) \
	    $(FUZZ_LIBS_$*) $(CRYPTO_LIBS) $(BSD_LIBS)

# The harnesses alone (regress/t-fuzz builds them and runs the seeds).
fuzz-build: $(FUZZ_BINS)

fuzz: deps deps-fuzz
	$(MAKE) $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do \
		n=$${f#regress/fuzz/fuzz_}; mkdir -p regress/fuzz/corpus/$$n; \
		w=$$(mktemp -d) || exit 1; \
		echo "fuzz: $$n for $(FUZZ_SECONDS) s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		    -print_final_stats=1 -artifact_prefix=regress/fuzz/ \
		    $$w regress/fuzz/corpus/$$n 2>regress/fuzz/$$n.log || \
		    { rm -rf $$w; tail -30 regress/fuzz/$$n.log; exit 1; }; \
		rm -rf $$w; \
		grep -E '^stat::number_of_executed_units' regress/fuzz/$$n.log; \
	done

lint:
	mandoc -Tlint -W warning man/*.[1-9]

install: all
	install -d $(DESTDIR)$(LIBEXEC) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 755 spamd/spamd spamlogd/spamlogd spamd-setup/spamd-setup \
	    $(DESTDIR)$(LIBEXEC)/
	install -m 755 spamdb/spamdb spfwalk/spfwalk spamd-graph/spamd-graph \
	    $(DESTDIR)$(SBINDIR)/
	install -m 755 spamd-status/spamd-status $(DESTDIR)$(SBINDIR)/
	install -m 644 man/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	@if [ -z "$(DESTDIR)" ] && ! getent passwd _spamd >/dev/null; then \
		echo "creating user _spamd"; \
		useradd --system --no-create-home --home-dir /var/empty \
		    --shell /usr/sbin/nologin _spamd; \
	fi

clean:
	rm -f lib/*.o lib/*.d $(LIBSPAMD) spamd/*.o spamd/*.d spamdb/*.o \
	    spamdb/*.d spamlogd/*.o spamlogd/*.d spamd-setup/*.o \
	    spamd-setup/*.d spfwalk/*.o spfwalk/*.d spamd-graph/*.o \
	    spamd-graph/*.d spamd-status/*.o spamd-status/*.d regress/unit/*.o regress/unit/*.d \
	    regress/tools/*.d bench/src/*.d bench/bin/*.d $(PROGS) \
	    $(UNIT_BINS) $(TOOL_BINS) $(BENCH_BINS) $(FUZZ_BINS) $(SAN_STAMP)

-include $(wildcard spamd-graph/*.d)
-include $(wildcard spamd-status/*.d)
-include $(wildcard lib/*.d spamd/*.d spamdb/*.d spamlogd/*.d spamd-setup/*.d \
    spfwalk/*.d \
    regress/unit/*.d regress/tools/*.d bench/bin/*.d)
