/*
 * The allowed-domains file of greytrapping (spamd.alloweddomains): the
 * domain suffixes real recipients have.  While the file holds any, mail
 * to a recipient outside all of them traps its sender.
 */
#ifndef SPAMD_TRAPDOM_H
#define SPAMD_TRAPDOM_H

#define PATH_ALLOWEDDOMAINS	"/etc/mail/spamd.alloweddomains"

void	trapdom_init(const char *path);
/* Read the file again at the next check (SIGHUP). */
void	trapdom_reload(void);
/* 1 if a mail to `to' must trap its sender, else 0. */
int	trapdom_trap(const char *to);

#endif
