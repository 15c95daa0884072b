/*
 * The keeper: the process that touches files for the chrooted SMTP
 * engine, so that the engine holds no descriptor of a directory (each
 * is a way out of a chroot).  Forked by the engine before it drops
 * root, it runs as _spamd outside the chroot with the database
 * directory open, and with CAP_DAC_READ_SEARCH alone when -C and -K
 * name a TLS pair, so that the key may stay readable by root only.  It
 * serves three requests over a socket pair it shares with the engine:
 * store the blacklists the engine wrote into an anonymous file
 * (blfile.c), open the TLS pair afresh for SIGHUP (tls.c), and open
 * the trusted file for SIGHUP (trusted.c).  It
 * takes no path from the engine, and ends when the engine does.
 */
#ifndef SPAMD_KEEPER_H
#define SPAMD_KEEPER_H

#include <pwd.h>
#include <stddef.h>

/*
 * Fork the keeper (pw NULL: not started as root, no privileges to
 * drop); cert and key are the TLS pair's paths or NULL.  Returns in
 * the caller only.
 */
void	keeper_start(const struct passwd *pw, const char *cert,
	    const char *key);
/* Engine: store fd (the blacklists file, read from offset 0). */
int	keeper_save(int fd, char *err, size_t errlen);
/*
 * Engine: a descriptor of the trusted file (spamd -t) or, which ==
 * BYPASS_NOSPAMD (trusted.h), of the nospamd file (spamd -x), opened
 * now, or -1 in *fd when there is no such file.
 */
int	keeper_bypass(int which, int *fd, char *err, size_t errlen);
/* Engine: descriptors of the TLS certificate and key files, opened now. */
int	keeper_tls(int *certfd, int *keyfd, char *err, size_t errlen);

#endif
