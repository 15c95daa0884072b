/*
 * spamd: what the processes of the daemon share.  main (spamd.c) parses
 * options into `conf', opens the listening sockets and the database and
 * forks the SMTP engine (engine.c, smtp.c) from the greylister
 * (greyproc.c); the two talk over a socketpair of grey_msg records.
 *
 * Which process runs each file:
 *	both		spamd.c (start-up, then the fork), loopsig.c,
 *			greymsg.c (the record between the two), trusted.c
 *			(each keeps a copy of the trusted networks, -t)
 *	engine		engine.c, smtp.c, tls.c, cfgsock.c, stats.c,
 *			syncfwd.c (peers' sync datagrams to the greylister),
 *			greytrap.c (its copy of the trap list), srctab.c
 *			(connections per source), proxyin.c and proxyhdr.c
 *			(PROXY headers, -X), relay.c and whiteset.c (relay
 *			to the MTA and its copy of the WHITE hosts, -R),
 *			dnsrep.c and spfq.c (what it asks the resolver)
 *	greylister	greyproc.c, firewall.c, gsync.c, metrics.c,
 *			trapdom.c, srctab.c (GREY entries per source),
 *			gpcompact.c, gpdns.c (DNS-whitelisted hosts),
 *			gpwhite.c (the WHITE hosts told to the engine),
 *			nftwatch.c (-F)
 *	resolver	resolver.c, resrep.c (DNS reputation, -D), resspf.c
 *			(SPF-aware passing); dnsmsg.c is its record, the
 *			sites are dnssite.c
 *	keeper		keeper.c: files for the chrooted engine
 *	both, apart	blacklist.c, cfgparse.c, blfile.c: the engine keeps
 *			the lists and saves them; the greylister reads the
 *			saved file back to drop listed WHITE hosts
 * The engine is unprivileged and chrooted; only the greylister keeps
 * CAP_NET_ADMIN (firewall.c) and the database.
 */
#ifndef SPAMD_SPAMD_H
#define SPAMD_SPAMD_H

#include <sys/socket.h>
#include <sys/types.h>

#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <time.h>

#include "grey.h"
#include "paths.h"
#include "store.h"
#include "syncnet.h"

#define SPAMD_PORT	8025
#define MAXCON		800	/* default -c */
#define MAXTIME		400	/* idle seconds before a connection is dropped */
#define GREY_STUTTER	10	/* default -S */
#define STUTTER		1000	/* default -s, in milliseconds */
#define SCAN_INTERVAL	60	/* seconds between database scans */
/* -L defaults: none of them hinders a real MTA (see LIMITS in spamd.8). */
#define MAXRCPT		100	/* RCPTs per session; RFC 5321 asks for 100 */
#define MAXSRCCON	20	/* connections per source (IPv6: per /64) */
#define MAXSRCGREY	1000	/* GREY entries per source (IPv6: per /64) */
#define MAXNETCON	100	/* connections per IPv4 /24, IPv6 /48 */
#define MAXNETGREY	10000	/* GREY entries per IPv4 /24, IPv6 /48 */
#define MAXSESSION	300	/* seconds a greylisted session may last */
#define MINFREE		64	/* MB free on the db file system for new GREY */
#define SPAMD_NAME	"spamd IP-based SPAM blocker"
/* Listening sockets: one dual-stack, or IPv6 and IPv4 apart. */
#define MAXLISTEN	2
/* -L defaults of DNS reputation (-D), as postscreen's usual settings. */
#define DNSBLACK	3
#define DNSWHITE	(-1)

struct dnssite;

struct spamd_conf {
	int		 debug;		/* -d */
	int		 verbose;	/* -v */
	int		 greylist;	/* 0 with -b */
	int		 nreply;	/* 450 (-4) or 550 (-5) */
	int		 maxcon;	/* -c */
	int		 maxblack;	/* -B */
	int		 port;		/* -p */
	const char	*listen_addr;	/* -l, NULL: every address */
	char		 hostname[HOST_NAME_MAX + 1];	/* -h */
	char		 name[256];	/* -n */
	int		 stutter;	/* -s: milliseconds between bytes */
	int		 grey_stutter;	/* -S: stutter greylisted for this long */
	int		 window;	/* -w: SO_RCVBUF at DATA, 0 = leave */
	const char	*lowprio_mx;	/* -M */
	const char	*dbpath;	/* -f */
	const char	*alloweddomains; /* -A */
	const char	*metrics;	/* -m: metrics file, NULL: none */
	struct grey_conf gc;		/* -G */
	int		 maxrcpt;	/* -L rcpt= */
	int		 maxsrccon;	/* -L conn= */
	int		 maxsrcgrey;	/* -L grey= */
	int		 maxnetcon;	/* -L netconn= */
	int		 maxnetgrey;	/* -L netgrey= */
	int		 maxsession;	/* -L session=, seconds */
	long long	 minfree;	/* -L free=, megabytes, 0: off */
	struct syncnet	*sync;		/* -y, -Y: NULL without */
	const struct sync_key *synckey;	/* -k: with sync */
	const char	*trusted;	/* -t: trusted networks (trusted.h) */
	const char	*nospamd;	/* -x: the nospamd list (trusted.h) */
	const char	*relay;		/* -R address:port, NULL: no relay */
	struct sockaddr_storage relay_sa; /* -R: the MTA, numeric */
	socklen_t	 relay_salen;
	struct dnssite	*dnssites;	/* -D: DNS reputation sites */
	int		 ndnssites;
	int		 dnsblack;	/* -L dnsblack=: blacklisted at score */
	int		 dnswhite;	/* -L dnswhite=: whitelisted at score */
	int		 dnswait;	/* -L dnswait=: ms for a verdict */
	int		 resolverfd;	/* engine's end to the resolver, or -1 */
	int		 pregreet;	/* -L pregreet=: trap early talkers */
	int		 spfpass;	/* -L spf=: SPF-aware passing */
};

extern struct spamd_conf conf;

/* engine.c: the SMTP engine; never returns. */
void	engine_run(const int *listenfds, int nlisten, int greyfd)
	    __attribute__((noreturn));

/* greyproc.c: the greylister; never returns. */
void	greyproc_run(struct store *, int greyfd, pid_t engine)
	    __attribute__((noreturn));

/*
 * loopsig.c: install handler for sigs, block them, and fill waitmask
 * with the mask to wait under, in which they are open.
 */
void	loopsig_init(void (*handler)(int), const int *sigs, size_t nsigs,
	    sigset_t *waitmask);

#endif
