/*
 * The blacklists kept on disk by the SMTP engine, so that a restart
 * does not leave listed hosts to greylisting until spamd-setup runs
 * again.  The file is <dbdir>/blacklists, in the configuration socket's
 * grammar (cfgproto.h) with a trailer giving the body's length and hash.
 */
#ifndef SPAMD_BLFILE_H
#define SPAMD_BLFILE_H

#include <stddef.h>

#define BLFILE_NAME	"blacklists"

/* Open the directory while privileged; without it, lists are not kept. */
void	blfile_open(const char *dir);
/* Close it in a process that does not keep the lists (the engine). */
void	blfile_close(void);
/* The directory's descriptor, -1 if not open. */
int	blfile_dirfd(void);
/* Load the saved lists: all of them, or none if the file is damaged. */
void	blfile_load(void);
/*
 * Engine: save the lists loaded from the socket, written to an
 * anonymous file that the keeper stores (keeper.h).
 */
void	blfile_save(void);
/*
 * Keeper: store the file src as the saved lists: a temporary file,
 * fsync, rename.  0, or -1 with the reason in err.
 */
int	blfile_store(int src, char *err, size_t errlen);

#endif
