/*
 * The daemons, seen in /proc: processes named spamd or spamlogd whose
 * network namespace is ours.  The namespace decides which spamd is the
 * one whose firewall we read: on a host it is the host's, and in a
 * test lab (ip netns exec) the lab's, never another lab's.  spamd runs
 * as three processes (greylister, SMTP engine, keeper); the greylister
 * is the one whose parent is not a spamd.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "status.h"

#define PROCS_MAX	64	/* spamd processes we look at */

/* The first line of /proc/PID/NAME into buf, without its newline. */
static int
proc_line(pid_t pid, const char *name, char *buf, size_t len)
{
	char	 path[64];
	FILE	*fp;

	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, name);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, (int)len, fp) == NULL) {
		fclose(fp);
		return -1;
	}
	fclose(fp);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* The parent's pid, from /proc/PID/stat (after the command's ')'). */
static pid_t
proc_ppid(pid_t pid)
{
	char	 buf[512], *p;
	long	 ppid;

	if (proc_line(pid, "stat", buf, sizeof(buf)) == -1 ||
	    (p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %ld", &ppid) != 1)
		return -1;
	return (pid_t)ppid;
}

static int
same_netns(pid_t pid, const char *mine)
{
	char	 path[64], ns[64];
	ssize_t	 n;

	snprintf(path, sizeof(path), "/proc/%ld/ns/net", (long)pid);
	if ((n = readlink(path, ns, sizeof(ns) - 1)) == -1)
		return 0;
	ns[n] = '\0';
	return strcmp(ns, mine) == 0;
}

int
procs_scan(struct procs *pr, char *err, size_t errlen)
{
	pid_t		 sp[PROCS_MAX], pid, ppid;
	char		 mine[64], comm[32];
	struct dirent	*de;
	DIR		*d;
	ssize_t		 n;
	long		 v;
	char		*end;
	int		 i, j, nsp = 0;

	memset(pr, 0, sizeof(*pr));
	if ((n = readlink("/proc/self/ns/net", mine, sizeof(mine) - 1)) ==
	    -1) {
		snprintf(err, errlen, "/proc/self/ns/net: %s",
		    strerror(errno));
		return -1;
	}
	mine[n] = '\0';
	if ((d = opendir("/proc")) == NULL) {
		snprintf(err, errlen, "/proc: %s", strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		errno = 0;
		v = strtol(de->d_name, &end, 10);
		if (errno != 0 || *end != '\0' || v <= 0 || v > INT_MAX)
			continue;
		pid = (pid_t)v;
		if (proc_line(pid, "comm", comm, sizeof(comm)) == -1)
			continue;	/* gone meanwhile */
		if (strcmp(comm, "spamd") != 0 &&
		    strcmp(comm, "spamlogd") != 0)
			continue;
		if (!same_netns(pid, mine))
			continue;
		if (comm[5] == '\0') {
			if (nsp < PROCS_MAX)
				sp[nsp++] = pid;
		} else if (pr->spamlogd == 0 || pid < pr->spamlogd)
			pr->spamlogd = pid;
	}
	closedir(d);
	pr->nspamd = nsp;
	for (i = 0; i < nsp; i++) {
		ppid = proc_ppid(sp[i]);
		for (j = 0; j < nsp && sp[j] != ppid; j++)
			;
		if (j == nsp && (pr->spamd == 0 || sp[i] < pr->spamd))
			pr->spamd = sp[i];
	}
	return 0;
}

/* /proc/net is the reader's namespace: a LISTEN socket on port? */
static int
listening_in(const char *path, int port)
{
	char		 line[512];
	unsigned int	 lport, st;
	FILE		*fp;
	int		 found = 0;

	if ((fp = fopen(path, "r")) == NULL)
		return errno == ENOENT ? 0 : -1;
	if (fgets(line, sizeof(line), fp) == NULL) {	/* the header */
		fclose(fp);
		return 0;
	}
	while (!found && fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x "
		    "%x", &lport, &st) == 2 && (int)lport == port &&
		    st == 0x0a)
			found = 1;
	fclose(fp);
	return found;
}

int
procs_listening(int port)
{
	int	 a, b;

	a = listening_in("/proc/net/tcp", port);
	b = listening_in("/proc/net/tcp6", port);
	if (a == 1 || b == 1)
		return 1;
	return a == -1 || b == -1 ? -1 : 0;
}
