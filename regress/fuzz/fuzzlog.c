/*
 * log.h for the harnesses: every message is formatted, so that a bad
 * argument is still caught by the sanitizers, and then dropped, so that
 * the fuzzers spend their time in the parsers and not in syslog(3).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

static int	fuzzlog_verbose;

static void
fmt(const char *f, va_list ap)
{
	char	 buf[1024];

	vsnprintf(buf, sizeof(buf), f, ap);
}

void
log_init(int debug, const char *ident)
{
	(void)debug;
	(void)ident;
}

void
log_procname(const char *name)
{
	(void)name;
}

void
log_setverbose(int v)
{
	fuzzlog_verbose = v;
}

int
log_getverbose(void)
{
	return fuzzlog_verbose;
}

/* Every message is dropped anyway: let it be formatted. */
int
log_nag(time_t *last, time_t secs)
{
	(void)last;
	(void)secs;
	return 1;
}

/* A parser must never reach fatal(): stop with a trace. */
static void __attribute__((noreturn))
die(const char *f, va_list ap)
{
	vfprintf(stderr, f, ap);
	abort();
}

#define FUZZLOG(name, how)						\
void									\
name(const char *f, ...)						\
{									\
	va_list	 ap;							\
									\
	va_start(ap, f);						\
	how(f, ap);							\
	va_end(ap);							\
}

FUZZLOG(log_warn, fmt)
FUZZLOG(log_warnx, fmt)
FUZZLOG(log_notice, fmt)
FUZZLOG(log_info, fmt)
FUZZLOG(log_debug, fmt)
FUZZLOG(fatal, die)
FUZZLOG(fatalx, die)
