/*
 * spamd -m: the metrics file, in the Prometheus text exposition format
 * for node_exporter's textfile collector.  Written by the greylister,
 * which is not chrooted: it runs as _spamd, so the file's directory must
 * be writable by _spamd.  It holds the greylister's own counters, the
 * engine's last GM_STATS snapshot (stats.h), the sync counters
 * (gsync.c) and the entries per state found after each scan.  Written
 * to PATH.tmp and renamed over PATH, so a reader never sees half a file.
 */
#ifndef SPAMD_METRICS_H
#define SPAMD_METRICS_H

#include <time.h>

#include "grey.h"
#include "greymsg.h"
#include "store.h"

#define METRICS_INTERVAL	5	/* seconds between writes */

void	metrics_engine(const struct grey_msg *);
/* The engine's DNS reputation counters (GM_DNSSTATS). */
void	metrics_dns(const struct grey_msg *);
void	metrics_tuple(enum grey_result);
void	metrics_trapped(void);
void	metrics_promoted(void);
/* A tuple passed, delay seconds after its first attempt. */
void	metrics_pass(time_t delay);
/* An expired GREY tuple went: retried, or never tried again. */
void	metrics_grey_expired(int retried);
/* A -L limit the greylister enforces: SL_GREY, SL_NETGREY, SL_FREE. */
void	metrics_limit(enum stats_limit);
void	metrics_pregreet(void);
void	metrics_spfpass(void);
/*
 * After a scan: count the entries by state, and the elements of the
 * whitelist sets to compare with the WHITE entries.
 */
void	metrics_scan(struct store *, time_t now);
/*
 * Write the file when a write is due (mono: CLOCK_MONOTONIC seconds), or
 * now with force.  Returns the seconds until the next one.
 */
time_t	metrics_tick(time_t mono, int force);
/*
 * At exit, once the engine is gone: take its last snapshot from fd
 * (records still queued there are not applied any more), count the
 * entries and write the file a last time.
 */
void	metrics_exit(struct store *, int fd);

#endif
