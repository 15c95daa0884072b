/*
 * The nospamd list: networks whose SMTP traffic never meets spamd
 * (etc/spamd.nft accepts it before any redirect), as OpenBSD's
 * <nospamd> table.  The file holds one address, CIDR block or range a
 * line, '#' comments; it is loaded whole into the interval sets
 * spamd-nospamd and spamd-nospamd6 in one transaction, or not at all:
 * a bad line leaves the sets as they were.  No file empties them.
 * A line wider than a large sender's network (CIDR_SENDER_MIN4/6, as
 * in spfwalk) is left out and named, and the rest loads: the hosts it
 * named meet spamd, the safe side of a mistake.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "nftblack.h"
#include "setup.h"

#define NOSPAMD_LINEMAX	1024

int
nospamd_read(const char *path, struct cidr_list *v4, struct cidr_list *v6)
{
	struct cidr_range	 r;
	FILE			*fp;
	char			 line[NOSPAMD_LINEMAX], err[128];
	unsigned long		 n = 0, bad = 0, wide = 0;
	size_t			 len;
	int			 af, k, c, min;

	if ((fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return NOSPAMD_NOFILE;
		log_warn("%s", path);
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		n++;
		len = strlen(line);
		if (len > 0 && line[len - 1] == '\n')
			len--;
		else if (!feof(fp)) {
			log_warnx("%s:%lu: line longer than %d bytes", path,
			    n, NOSPAMD_LINEMAX - 2);
			while ((c = getc(fp)) != EOF && c != '\n')
				;
			bad++;
			continue;
		}
		k = cidr_parse_line(line, len, &af, &r, err, sizeof(err));
		if (k == 0)
			continue;
		if (k == -1) {
			if (bad++ < BADLINES_SHOWN)
				log_warnx("%s:%lu: %s", path, n, err);
			continue;
		}
		min = af == AF_INET ? CIDR_SENDER_MIN4 : CIDR_SENDER_MIN6;
		if (cidr_range_prefix(af, &r) < min) {
			if (wide++ < BADLINES_SHOWN)
				log_warnx("%s:%lu: wider than /%d: left out, "
				    "the rest loads", path, n, min);
			continue;
		}
		if (cidr_list_add(af == AF_INET ? v4 : v6, &r) == -1) {
			log_warn("%s:%lu", path, n);
			bad++;
			break;
		}
	}
	if (ferror(fp)) {
		log_warn("%s", path);
		bad++;
	}
	fclose(fp);
	if (bad > 0) {
		log_warnx("%s: %lu bad line%s: nft sets %s and %s left as "
		    "they were", path, bad, bad == 1 ? "" : "s", NOSPAMD_SET4,
		    NOSPAMD_SET6);
		return -1;
	}
	cidr_list_normalize(v4);
	cidr_list_normalize(v6);
	if (wide > BADLINES_SHOWN)
		log_warnx("%s: %lu lines wider than /%d (IPv4) or /%d (IPv6) "
		    "left out", path, wide, CIDR_SENDER_MIN4, CIDR_SENDER_MIN6);
	return wide > 0 ? NOSPAMD_WIDE : NOSPAMD_OK;
}

int
nospamd_load(const char *path, int rc, const char *table,
    const struct cidr_list *v4, const struct cidr_list *v6, int dryrun)
{
	if (rc == -1)
		return -1;
	if (dryrun) {
		printf("# nft sets %s %s: %zu and %zu ranges%s\n",
		    NOSPAMD_SET4, NOSPAMD_SET6, v4->n, v6->n,
		    rc == NOSPAMD_NOFILE ? " (no file)" : "");
		return 0;
	}
	if (rc == NOSPAMD_NOFILE) {
		/* Quiet where the ruleset has no such sets. */
		if (nftblack_exists(table, NOSPAMD_SET4, NOSPAMD_SET6) == -1) {
			log_debug("no %s, and no nft sets %s and %s", path,
			    NOSPAMD_SET4, NOSPAMD_SET6);
			return 0;
		}
		log_info("no %s: emptying nft sets %s and %s", path,
		    NOSPAMD_SET4, NOSPAMD_SET6);
	}
	if (nftblack_load(table, NOSPAMD_SET4, NOSPAMD_SET6, v4, v6) == -1)
		return -1;
	log_debug("nft sets %s and %s: %zu and %zu ranges from %s",
	    NOSPAMD_SET4, NOSPAMD_SET6, v4->n, v6->n, path);
	return 0;
}
