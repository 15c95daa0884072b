/*
 * The protocol of spamd's configuration socket, spoken by spamd-setup
 * (cfgsend.c) and served by spamd (cfgsock.c, cfgparse.c).
 * Used by: spamd, spamd-setup.
 *
 * Two ways in, the same protocol on both:
 *
 *	the unix socket SPAMD_CFG_PATH (spamd -U, spamd-setup -U), the
 *	default: spamd creates it as root, mode 0600, and serves only
 *	clients whose SO_PEERCRED uid is 0; spamd-setup talks only to a
 *	socket whose SO_PEERCRED uid is 0, that is one a root process
 *	bound and listened on (the engine serving it has since become
 *	_spamd, but the credentials are those of listen()).
 *
 *	TCP 127.0.0.1:SPAMD_CFG_PORT (spamd -P, spamd-setup -P), as on
 *	OpenBSD: spamd serves only clients on a privileged source port.
 *
 * The grammar is OpenBSD's, one line per list:
 *
 *	tag;"message";inet;N;a.b.c.d/nn;...[;inet6;M;x:y::/nn;...]
 *	tag;				(the list is emptied)
 *
 * and one addition for spamd-setup, which sends every list on one
 * connection and ends with
 *
 *	!only;tag;tag;...
 *
 * meaning "these are all the lists there are": every list loaded over
 * this socket whose tag is not named is removed.  spamd-setup names the
 * lists it could not fetch too, so that they stay as they were.  Once
 * the client has shut down its sending side, spamd answers one line,
 * "applied N refused M", and closes.  One client at a time.
 */
#ifndef SPAMD_CFGPROTO_H
#define SPAMD_CFGPROTO_H

#define SPAMD_CFG_PORT		8026	/* services: spamd-cfg */
/*
 * /run: runtime state on tmpfs (a reboot leaves no stale file), and
 * only root may create names there, so none can be squatted.
 */
#define SPAMD_CFG_PATH		"/run/spamd.sock"
/* Longest tag; spamd.conf's list names are the tags. */
#define SPAMD_CFG_TAGMAX	63
/* Longest message, its escapes (\n, \", \\) included. */
#define SPAMD_CFG_MSGMAX	2048

#endif
