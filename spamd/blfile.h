/*
 * The blacklists kept on disk by the SMTP engine, so that a restart
 * does not leave listed hosts to greylisting until spamd-setup runs
 * again.  The file is <dbdir>/blacklists, in the configuration socket's
 * grammar (cfgproto.h) with a trailer giving the body's length and hash.
 */
#ifndef SPAMD_BLFILE_H
#define SPAMD_BLFILE_H

#define BLFILE_NAME	"blacklists"

/* Open the directory while privileged; without it, lists are not kept. */
void	blfile_open(const char *dir);
/* Close it in a process that does not keep the lists. */
void	blfile_close(void);
/* Load the saved lists: all of them, or none if the file is damaged. */
void	blfile_load(void);
/* Save the lists loaded from the socket: temporary file, then rename. */
void	blfile_save(void);

#endif
