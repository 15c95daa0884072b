/*
 * Names every program of the suite agrees on: the user the daemons run
 * as and own the database as, and where the database lives by default.
 *
 * Used by: spamd, spamdb, spamlogd, spamd-setup, spamd-status.
 */
#ifndef SPAMD_PATHS_H
#define SPAMD_PATHS_H

#define SPAMD_USER	"_spamd"
#define PATH_SPAMD_DB	"/var/db/spamd"	/* Berkeley DB environment */
/* Networks never greylisted nor tarpitted (lib/cidrfile.h's format). */
#define PATH_TRUSTED	"/etc/spamd-nft/trusted"
#define PATH_NOSPAMD	"/etc/mail/nospamd"	/* spamd-setup -x, spamd -x */

#endif
