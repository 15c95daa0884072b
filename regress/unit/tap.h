/*
 * Minimal TAP-like output for the C unit tests: one line per check,
 * "ok - ..." or "not ok - ...: file:line", read by regress/run.sh.
 * tap_done() returns the exit status: non-zero if anything failed.
 */
#ifndef SPAMD_TAP_H
#define SPAMD_TAP_H

#include <stdio.h>

static int tap_failed;

#define ok(cond, ...) do {						\
	if (cond) {							\
		printf("ok - ");					\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	} else {							\
		tap_failed++;						\
		printf("not ok - ");					\
		printf(__VA_ARGS__);					\
		printf(": %s:%d: %s\n", __FILE__, __LINE__, #cond);	\
	}								\
	fflush(stdout);							\
} while (0)

#define tap_done()	(tap_failed ? 1 : 0)

#endif
