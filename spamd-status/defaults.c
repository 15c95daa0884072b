/*
 * The Debian settings file (etc/default/spamd-nft): shell assignments
 * the units read.  We take the nft names (SPAMD_TABLE, SPAMD_WHITESET,
 * SPAMD_WHITESET6) and, from SPAMD_OPTS, spamd's -f, -m and -p, so
 * that on a packaged host spamd-status looks where spamd does without
 * options.  Anything the command line set stays.  Only simple lines
 * are understood (KEY=value, KEY="value"); the file is the admin's,
 * so a line we do not understand is ignored, not an error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

#define DLINE_MAX	1024
#define DOPTS_MAX	64	/* words of SPAMD_OPTS looked at */

static char *
value(char *v)
{
	size_t	 n;

	v[strcspn(v, "\n")] = '\0';
	n = strlen(v);
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		v[n - 1] = '\0';
		v++;
	}
	return v;
}

static void
set_str(const char **dst, const char *v)
{
	char	*p;

	if (*dst != NULL || *v == '\0' || (p = strdup(v)) == NULL)
		return;
	*dst = p;
}

/* spamd's -f, -m, -p among the words of SPAMD_OPTS. */
static void
spamd_opts(char *v, struct sconf *conf)
{
	char		*w[DOPTS_MAX], *arg;
	const char	*errstr;
	int		 n = 0, i, letter, port;

	for (arg = strtok(v, " \t"); arg != NULL && n < DOPTS_MAX;
	    arg = strtok(NULL, " \t"))
		w[n++] = arg;
	for (i = 0; i < n; i++) {
		if (w[i][0] != '-' || w[i][1] == '\0' ||
		    strchr("fmp", w[i][1]) == NULL)
			continue;
		letter = w[i][1];
		if (w[i][2] != '\0')
			arg = w[i] + 2;
		else if (i + 1 < n)
			arg = w[++i];
		else
			break;
		if (letter == 'f')
			set_str(&conf->dbpath, arg);
		else if (letter == 'm')
			set_str(&conf->metrics, arg);
		else if (conf->port == 0) {
			port = (int)strtonum(arg, 1, 65535, &errstr);
			if (errstr == NULL)
				conf->port = port;
		}
	}
}

int
defaults_read(const char *path, struct sconf *conf, char *err,
    size_t errlen)
{
	char	 line[DLINE_MAX], *v;
	FILE	*fp;

	if ((fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		if ((v = strchr(line, '=')) == NULL)
			continue;
		*v++ = '\0';
		v = value(v);
		if (strcmp(line, "SPAMD_TABLE") == 0)
			set_str(&conf->table, v);
		else if (strcmp(line, "SPAMD_WHITESET") == 0)
			set_str(&conf->set4, v);
		else if (strcmp(line, "SPAMD_WHITESET6") == 0)
			set_str(&conf->set6, v);
		else if (strcmp(line, "SPAMD_OPTS") == 0)
			spamd_opts(v, conf);
	}
	fclose(fp);
	return 0;
}
