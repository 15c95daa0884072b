/*
 * Relay mode (-R): whitelisted clients are joined to the MTA.
 */
#ifndef SPAMD_RELAY_H
#define SPAMD_RELAY_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

struct con;

/* 1 if c, its lists looked up (CF_BLACK), goes to the MTA. */
int	relay_wanted(const struct con *c);
/* Join c to the MTA (CP_RELAY); c may be closed on return. */
void	relay_start(struct con *c);
/* An event on the client's socket of a relayed c. */
void	relay_event(struct con *c, uint32_t ev);
/* Release what the relay holds for c (con_close). */
void	relay_free(struct con *c);
/* Connections to the MTA over their time (run_timers). */
void	relay_expire(int64_t now);
/* ms when relay_expire has work next, INT64_MAX: none. */
int64_t	relay_due(void);
/* Descriptors the relay holds: MTA sockets, lent and pooled pipes. */
int	relay_nfds(void);

/*
 * -R address:port: 192.0.2.1:25 or [2001:db8::1]:25, numeric.  0, or
 * -1 with the problem in err.
 */
int	relay_parse(const char *arg, struct sockaddr_storage *ss,
	    socklen_t *len, char *err, size_t errlen);
/*
 * A PROXY protocol v2 header (PROXY, TCP) for a connection from src
 * port sport to dst port dport into buf (RELAY_HDRMAX bytes): its
 * length.  dst of another family than src, or af 0, is sent as the
 * unspecified address of src's family.
 */
#define RELAY_HDRMAX	52
struct addr;
size_t	relay_proxyhdr(uint8_t *buf, const struct addr *src, uint16_t sport,
	    const struct addr *dst, uint16_t dport);

#endif
