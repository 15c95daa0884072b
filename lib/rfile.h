/*
 * A small regular file read whole into memory, NUL-terminated, for the
 * parsers of configuration files.  Files larger than max are refused
 * rather than truncated.
 * Used by: spamd (the -F ruleset), spamd-setup (spamd.conf).
 */
#ifndef SPAMD_RFILE_H
#define SPAMD_RFILE_H

#include <stddef.h>

/*
 * The content of path in a new buffer (free it), its length in *lenp
 * (may be NULL); NULL with err set ("path: why") on failure.
 */
char	*rfile_read(const char *path, size_t max, size_t *lenp, char *err,
	    size_t errlen);

#endif
