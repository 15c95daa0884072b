# spamd for Linux: one GNU Makefile, pkg-config, no autotools.
# Programs are built in place (spamd/spamd, spamdb/spamdb, ...).

PREFIX	?= /usr/local
DESTDIR	?=
SBINDIR	 = $(PREFIX)/sbin
LIBEXEC	 = $(PREFIX)/libexec
MANDIR	 = $(PREFIX)/share/man

CC	?= cc
CFLAGS	?= -O2 -g
WARNINGS = -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes \
	   -Wmissing-declarations -Wshadow -Wpointer-arith -Wsign-compare
PKGS	 = libbsd-overlay libnftnl libmnl
# Recursively expanded, so pkg-config runs only when a recipe needs it
# (after `make deps' has installed what was missing).
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
ALL_CFLAGS = $(CFLAGS) $(WARNINGS) -std=gnu11 -D_GNU_SOURCE -Ilib $(PKG_CFLAGS) -MMD -MP
LDLIBS	 = lib/libspamd.a -ldb $(PKG_LIBS)

LIB_SRCS   = $(wildcard lib/*.c)
LIB_OBJS   = $(LIB_SRCS:.c=.o)
SPAMD_SRCS = $(wildcard spamd/*.c)
SPAMD_OBJS = $(SPAMD_SRCS:.c=.o)
# spamd's objects without main(), for the unit tests
SPAMD_NOMAIN = $(filter-out spamd/spamd.o,$(SPAMD_OBJS))
SPAMDB_OBJS  = $(patsubst %.c,%.o,$(wildcard spamdb/*.c))
SPAMLOGD_OBJS = $(patsubst %.c,%.o,$(wildcard spamlogd/*.c))
SETUP_OBJS   = $(patsubst %.c,%.o,$(wildcard spamd-setup/*.c))
UNIT_SRCS  = $(filter-out regress/unit/store_mem.c,$(wildcard regress/unit/*.c))
UNIT_BINS  = $(UNIT_SRCS:.c=)
BENCH_SRCS = $(wildcard bench/src/*.c)
BENCH_BINS = $(patsubst bench/src/%.c,bench/bin/%,$(BENCH_SRCS))

PROGS	 = spamd/spamd
ifneq ($(SPAMDB_OBJS),)
PROGS	+= spamdb/spamdb
endif
ifneq ($(SPAMLOGD_OBJS),)
PROGS	+= spamlogd/spamlogd
endif
ifneq ($(SETUP_OBJS),)
PROGS	+= spamd-setup/spamd-setup
endif

.PHONY: all check demo install clean deps unit bench lint
.DEFAULT_GOAL := all

all: $(PROGS) $(UNIT_BINS) $(BENCH_BINS)

%.o: %.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

lib/libspamd.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $(LIB_OBJS)

spamd/spamd: $(SPAMD_OBJS) lib/libspamd.a
	$(CC) $(CFLAGS) -o $@ $(SPAMD_OBJS) $(LDLIBS)

spamdb/spamdb: $(SPAMDB_OBJS) lib/libspamd.a
	$(CC) $(CFLAGS) -o $@ $(SPAMDB_OBJS) $(LDLIBS)

spamlogd/spamlogd: $(SPAMLOGD_OBJS) lib/libspamd.a
	$(CC) $(CFLAGS) -o $@ $(SPAMLOGD_OBJS) $(LDLIBS) -lpcap

spamd-setup/spamd-setup: $(SETUP_OBJS) lib/libspamd.a
	$(CC) $(CFLAGS) -o $@ $(SETUP_OBJS) $(LDLIBS) -lcurl -lz

regress/unit/%: regress/unit/%.c $(SPAMD_NOMAIN) lib/libspamd.a
	$(CC) $(ALL_CFLAGS) -Ispamd -o $@ $< $(filter %.o,$^) $(LDLIBS)

# The memory store of the policy tests (not a test itself).
regress/unit/t_grey regress/unit/t_spamlogd: regress/unit/store_mem.o

bench/bin/%: bench/src/%.c lib/libspamd.a
	@mkdir -p bench/bin
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDLIBS)

# Debian packages the build, the tests and the demo need.  Installed only
# when something is missing, non-interactively.
DEB_PKGS = build-essential pkg-config libnftnl-dev libmnl-dev libpcap-dev \
	   libdb-dev db-util libbsd-dev libcurl4-openssl-dev zlib1g-dev \
	   libssl-dev nftables iproute2 postfix swaks socat mandoc python3 \
	   procps
deps:
	@missing=""; for p in $(DEB_PKGS); do \
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

check: deps
	$(MAKE) all
	regress/run.sh

demo: deps
	$(MAKE) all
	regress/demo.sh

bench: all

lint:
	mandoc -Tlint -W warning man/*.[1-9]

install: all
	install -d $(DESTDIR)$(LIBEXEC) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 755 spamd/spamd $(DESTDIR)$(LIBEXEC)/spamd
	[ ! -x spamlogd/spamlogd ] || install -m 755 spamlogd/spamlogd $(DESTDIR)$(LIBEXEC)/spamlogd
	[ ! -x spamd-setup/spamd-setup ] || install -m 755 spamd-setup/spamd-setup $(DESTDIR)$(LIBEXEC)/spamd-setup
	[ ! -x spamdb/spamdb ] || install -m 755 spamdb/spamdb $(DESTDIR)$(SBINDIR)/spamdb
	for m in man/*.5; do [ ! -f $$m ] || install -m 644 $$m $(DESTDIR)$(MANDIR)/man5/; done
	for m in man/*.8; do [ ! -f $$m ] || install -m 644 $$m $(DESTDIR)$(MANDIR)/man8/; done
	@if [ -z "$(DESTDIR)" ] && ! getent passwd _spamd >/dev/null; then \
		echo "creating user _spamd"; \
		useradd --system --no-create-home --home-dir /var/empty \
		    --shell /usr/sbin/nologin _spamd; \
	fi

clean:
	rm -f lib/*.o lib/*.d lib/libspamd.a spamd/*.o spamd/*.d spamd/spamd \
	    spamdb/*.o spamdb/*.d spamdb/spamdb spamlogd/*.o spamlogd/*.d \
	    spamlogd/spamlogd spamd-setup/*.o spamd-setup/*.d \
	    spamd-setup/spamd-setup regress/unit/*.[do] $(UNIT_BINS) \
	    bench/src/*.d $(BENCH_BINS)

-include $(wildcard lib/*.d spamd/*.d spamdb/*.d spamlogd/*.d spamd-setup/*.d regress/unit/*.d bench/src/*.d)
