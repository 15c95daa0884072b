/*
 * Logging shared by every program of the suite: syslog (facility daemon,
 * as OpenBSD) always, and stderr as well in debug mode, unless stderr is
 * systemd's journal ($JOURNAL_STREAM).  Shaped after relayd's log.c.
 * Used by: spamd, spamdb, spamlogd, spamd-setup.
 */
#ifndef SPAMD_LOG_H
#define SPAMD_LOG_H

#include <stdarg.h>
#include <time.h>

void	log_init(int debug, const char *ident);
/* True when stderr already shows each line (-d, or stderr is the journal). */
int	log_on_stderr(void);
/*
 * Tag stderr lines with the process ("grey: ..."); syslog lines keep
 * OpenBSD's form, "spamd[pid]: ...", which the pid already tells apart.
 */
void	log_procname(const char *name);
void	log_setverbose(int);
int	log_getverbose(void);

/* log_warn appends strerror(errno); the x variants do not. */
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_notice(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
/* log_debug prints only when verbose is set. */
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/*
 * Rate limiting for messages a flood could repeat: true, and *last set
 * to now, when the previous message guarded by last is at least secs
 * old on the monotonic clock (or there was none).  One time_t per
 * message site; zero means never logged.
 */
int	log_nag(time_t *last, time_t secs);
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
