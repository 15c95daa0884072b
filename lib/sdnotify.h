/*
 * Readiness for systemd's Type=notify, without libsystemd: one datagram
 * of "VAR=value" lines to the unix socket named by $NOTIFY_SOCKET (a
 * path, or an abstract name written with a leading '@').  Without the
 * variable nothing is sent.  Failures are logged, never fatal: a
 * service manager that misses READY=1 times the start out itself.
 * Used by: spamd, spamlogd.
 */
#ifndef SPAMD_SDNOTIFY_H
#define SPAMD_SDNOTIFY_H

/* Send state (e.g. "READY=1"); 0 sent or nothing to send, -1 failed. */
int	sdnotify(const char *state);
/* READY=1 with MAINPID, so a daemon(3)ized process is known as well. */
int	sdnotify_ready(void);

#endif
