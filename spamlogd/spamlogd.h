/*
 * spamlogd: keeps whitelisted hosts whitelisted while they keep sending
 * mail, and whitelists the hosts our own MTA sends mail to, from the
 * SMTP connections the firewall logs to an NFLOG group.
 *
 * nflog.c decodes one logged packet, capture.c reads them with libpcap,
 * update.c writes the database and the nft sets, spamlogd.c is main().
 */
#ifndef SPAMLOGD_H
#define SPAMLOGD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <pcap/pcap.h>

#include "addr.h"
#include "nftset.h"
#include "paths.h"
#include "store.h"
#include "syncnet.h"

#define NFLOG_GROUP	25		/* etc/spamd.nft logs to this group */
#define SMTP_PORT	25
#define PREFIX_IN	"spamd-in"	/* log prefixes of etc/spamd.nft */
#define PREFIX_OUT	"spamd-out"
#define WHITEEXP_DEF	(36 * 24 * 60 * 60)	/* as spamd's -G default */
#define WHITEEXP_MAX	(90 * 24 * 60 * 60)	/* as OpenBSD's -W */

enum pkt_dir {
	DIR_NONE,
	DIR_IN,		/* a remote host connects to our MTA */
	DIR_OUT		/* our MTA connects to a remote host */
};

/* What nflog_decode makes of one logged packet. */
struct nflog_pkt {
	int		 hook;		/* netfilter hook, -1 if not told */
	uint32_t	 indev, outdev;	/* ifindex, 0 if not told */
	char		 prefix[64];	/* log prefix, "" if none */
	struct addr	 src, dst;
	uint16_t	 sport, dport;
	uint8_t		 tcpflags;
};

enum nflog_res {
	NFLOG_OK,
	NFLOG_MALFORMED,	/* truncated or inconsistent: count, drop */
	NFLOG_NOTTCP		/* well-formed, but no TCP header to read */
};

/*
 * Decode one DLT_NFLOG record of caplen bytes.  Every length is checked
 * against caplen before anything is read; *why says what was wrong.
 */
enum nflog_res	nflog_decode(const uint8_t *, size_t caplen,
		    struct nflog_pkt *, const char **why);

/*
 * Which way a decoded packet goes, and the remote host's address in
 * *peer: the log prefix says, or without one the hook.  DIR_NONE for
 * anything that is not the first packet (SYN) of an SMTP connection to
 * a unicast address, with *why saying what.
 */
enum pkt_dir	nflog_direction(const struct nflog_pkt *, struct addr *peer,
		    const char **why);

/* Counters, logged on SIGUSR1 and at exit. */
struct sl_stats {
	uint64_t	packets;	/* records read from the group */
	uint64_t	malformed;
	uint64_t	ignored;	/* not an SMTP SYN, foreign prefix, -i */
	uint64_t	inbound, outbound;
	uint64_t	coalesced;	/* same host again within a second */
	uint64_t	extended;	/* WHITE entries moved forward */
	uint64_t	created;	/* new WHITE entries (outbound) */
	uint64_t	notwhite;	/* inbound from a host not WHITE */
	uint64_t	trapped;	/* left alone: TRAPPED */
	uint64_t	dberrors;	/* updates lost to database errors */
	uint64_t	fwerrors;	/* set refreshes that failed */
	uint64_t	drops;		/* receive buffer overruns (libpcap) */
	uint64_t	synced;		/* WHITE updates sent to sync peers */
};

extern struct sl_stats	stats;

/* capture.c */
/* Only packets through this interface (0: any); ignore outbound (-I). */
void		 capture_filter(unsigned int ifindex, int inbound_only);
/* Open and bind the NFLOG group; NULL with a message in err. */
pcap_t		*capture_open(const char *dev, int rcvbuf, char *err,
		    size_t errlen);
/* Read what is queued, at most about max records; -1 on a read error. */
int		 capture_read(pcap_t *, int max);
/* Log receive buffer overruns since the last call. */
void		 capture_drops(pcap_t *);

/* update.c */
void		 update_init(struct store *, struct nftset *, time_t whiteexp,
		    struct syncnet *, const struct sync_key *);
void		 update_queue(const struct addr *, enum pkt_dir);
void		 update_flush(void);

#endif
