/*
 * Logging: syslog with facility LOG_DAEMON, as OpenBSD's spamd, mirrored
 * to stderr under -d unless stderr is the journal (systemd), which has
 * the syslog line already.  Only the stderr copy carries the process tag
 * (log_procname), so that syslog lines look like OpenBSD's.  errno is
 * preserved across every call so callers may log and then test it.
 * Used by: spamd, spamdb, spamlogd, spamd-setup.
 */
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int	 log_debugmode;
static int	 log_errseen;	/* stderr shows every line already */
static int	 log_verbose;
static const char *log_proc;

/*
 * Is stderr the journal?  systemd sets $JOURNAL_STREAM to "dev:ino" of
 * the stream it connects to stdout and stderr; a stderr redirected
 * elsewhere since (by a shell, a test) no longer matches.
 */
static int
log_stderr_journal(void)
{
	struct stat	 sb;
	const char	*js;
	uintmax_t	 dev, ino;
	int		 n;

	if ((js = getenv("JOURNAL_STREAM")) == NULL ||
	    sscanf(js, "%ju:%ju%n", &dev, &ino, &n) != 2 || js[n] != '\0')
		return 0;
	if (fstat(STDERR_FILENO, &sb) == -1)
		return 0;
	return (uintmax_t)sb.st_dev == dev && (uintmax_t)sb.st_ino == ino;
}

void
log_init(int debug, const char *ident)
{
	/* Each line once: the journal reads syslog as well. */
	log_errseen = log_stderr_journal();
	log_debugmode = debug && !log_errseen;
	log_errseen |= log_debugmode;
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	tzset();
}

int
log_on_stderr(void)
{
	return log_errseen;
}

void
log_procname(const char *name)
{
	log_proc = name;
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return log_verbose;
}

static void
vlog(int pri, const char *fmt, va_list ap, int witherr)
{
	char	 msg[2048];
	int	 saved = errno;
	size_t	 len;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (witherr) {
		len = strlen(msg);
		snprintf(msg + len, sizeof(msg) - len, ": %s", strerror(saved));
	}
	if (log_debugmode) {
		if (log_proc != NULL)
			fprintf(stderr, "%s: %s\n", log_proc, msg);
		else
			fprintf(stderr, "%s\n", msg);
		fflush(stderr);
	}
	syslog(pri, "%s", msg);
	errno = saved;
}

#define LOGFN(name, pri, witherr)			\
void							\
name(const char *fmt, ...)				\
{							\
	va_list ap;					\
	va_start(ap, fmt);				\
	vlog(pri, fmt, ap, witherr);			\
	va_end(ap);					\
}

LOGFN(log_warn, LOG_WARNING, 1)
LOGFN(log_warnx, LOG_WARNING, 0)
LOGFN(log_notice, LOG_NOTICE, 0)
LOGFN(log_info, LOG_INFO, 0)

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, 0);
	va_end(ap);
}

int
log_nag(time_t *last, time_t secs)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 1;	/* cannot tell: say it */
	/* +1 keeps zero free to mean "never", even right after boot */
	if (*last != 0 && ts.tv_sec + 1 - *last < secs)
		return 0;
	*last = ts.tv_sec + 1;
	return 1;
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, 1);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, 0);
	va_end(ap);
	exit(1);
}
