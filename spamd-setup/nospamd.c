/*
 * The bypass lists, files of networks loaded whole into an interval
 * set pair, in one transaction, or not at all: a bad line leaves the
 * sets as they were.  No file empties them.
 *
 *	nospamd	(-x, /etc/mail/nospamd): networks whose SMTP traffic never
 *		meets spamd, as OpenBSD's <nospamd> table; the blacklist
 *		sets still win over them.  A line wider than a large
 *		sender's network (CIDR_SENDER_MIN4/6, as in spfwalk) is
 *		left out and named, and the rest loads.
 *	trusted	(-t, /etc/spamd-nft/trusted): the site's own networks,
 *		relays and scanners, never greylisted nor tarpitted:
 *		etc/spamd.nft accepts them before the blacklist sets.
 *		Lines wider than TRUSTED_MIN4/6 are left out.
 *
 * The file format is lib/cidrfile.h's.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cidrfile.h"
#include "log.h"
#include "nftblack.h"
#include "setup.h"

static int
netlist_read(const char *path, int min4, int min6, const char *set4,
    const char *set6, struct cidr_list *v4, struct cidr_list *v6)
{
	FILE		*fp;
	unsigned long	 bad, wide;

	if ((fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return NOSPAMD_NOFILE;
		log_warn("%s", path);
		return -1;
	}
	bad = cidrfile_read(fp, path, min4, min6, v4, v6, &wide);
	fclose(fp);
	if (bad > 0) {
		log_warnx("%s: %lu bad line%s: nft sets %s and %s left as "
		    "they were", path, bad, bad == 1 ? "" : "s", set4, set6);
		return -1;
	}
	return wide > 0 ? NOSPAMD_WIDE : NOSPAMD_OK;
}

int
nospamd_read(const char *path, struct cidr_list *v4, struct cidr_list *v6)
{
	return netlist_read(path, CIDR_SENDER_MIN4, CIDR_SENDER_MIN6,
	    NOSPAMD_SET4, NOSPAMD_SET6, v4, v6);
}

int
trusted_read(const char *path, struct cidr_list *v4, struct cidr_list *v6)
{
	return netlist_read(path, TRUSTED_MIN4, TRUSTED_MIN6, TRUSTED_SET4,
	    TRUSTED_SET6, v4, v6);
}

int
netlist_load(const char *path, int rc, const char *table, const char *set4,
    const char *set6, const struct cidr_list *v4, const struct cidr_list *v6,
    int dryrun)
{
	if (rc == -1)
		return -1;
	if (dryrun) {
		printf("# nft sets %s %s: %zu and %zu ranges%s\n", set4, set6,
		    v4->n, v6->n, rc == NOSPAMD_NOFILE ? " (no file)" : "");
		return 0;
	}
	if (rc == NOSPAMD_NOFILE) {
		/* Quiet where the ruleset has no such sets. */
		if (nftblack_exists(table, set4, set6) == -1) {
			log_debug("no %s, and no nft sets %s and %s", path,
			    set4, set6);
			return 0;
		}
		/* The trusted file is optional: no news, no line. */
		if (strcmp(set4, TRUSTED_SET4) == 0)
			log_debug("no %s: emptying nft sets %s and %s", path,
			    set4, set6);
		else
			log_info("no %s: emptying nft sets %s and %s", path,
			    set4, set6);
	}
	if (nftblack_load(table, set4, set6, v4, v6) == -1)
		return -1;
	log_debug("nft sets %s and %s: %zu and %zu ranges from %s", set4,
	    set6, v4->n, v6->n, path);
	return 0;
}
