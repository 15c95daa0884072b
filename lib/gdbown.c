/*
 * Opening the database for a daemon started as root: the directory and
 * every file of the environment belong to the user the daemon becomes,
 * so it can go on using them after dropping privileges.
 *
 * Used by: spamd, spamlogd.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gdb.h"

static int
dbdir_own(const char *path, const struct passwd *pw, char *err,
    size_t errlen)
{
	struct stat	 st;

	if (stat(path, &st) == -1) {
		if (errno != ENOENT)
			goto fail;
		if (mkdir(path, 0750) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "create database directory %s: "
			    "%s", path, strerror(errno));
			return -1;
		}
		if (stat(path, &st) == -1)
			goto fail;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "database %s: not a directory (spamd "
		    "keeps a Berkeley DB environment there)", path);
		return -1;
	}
	if (pw != NULL && (st.st_uid != pw->pw_uid ||
	    st.st_gid != pw->pw_gid) &&
	    chown(path, pw->pw_uid, pw->pw_gid) == -1) {
		snprintf(err, errlen, "chown %s to %s: %s", path, pw->pw_name,
		    strerror(errno));
		return -1;
	}
	return 0;
fail:
	snprintf(err, errlen, "database %s: %s", path, strerror(errno));
	return -1;
}

struct store *
gdb_open_as(const char *path, const struct passwd *pw, char *err,
    size_t errlen)
{
	struct store	*st;

	if (dbdir_own(path, pw, err, errlen) == -1)
		return NULL;
	if (pw != NULL && (setegid(pw->pw_gid) == -1 ||
	    seteuid(pw->pw_uid) == -1)) {
		snprintf(err, errlen, "seteuid %s: %s", pw->pw_name,
		    strerror(errno));
		return NULL;
	}
	st = gdb_open(path, GDB_CREATE, err, errlen);
	if (pw != NULL && (seteuid(0) == -1 || setegid(0) == -1)) {
		snprintf(err, errlen, "seteuid 0: %s", strerror(errno));
		if (st != NULL)
			store_close(st);
		return NULL;
	}
	return st;
}
