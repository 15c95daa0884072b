/*
 * One turn of a poll(2) loop around a c-ares channel, for the programs
 * that ask DNS: spfwalk and spamd's resolver.
 */
#ifndef LIB_ARESLOOP_H
#define LIB_ARESLOOP_H

#include <poll.h>
#include <stdint.h>

#include <ares.h>

#include "mono.h"

/* Room the channel's sockets may take in a pollfd array. */
#define ARESLOOP_MAXFDS	ARES_GETSOCK_MAXNUM

/* Put ch's sockets in pfd[0..ARESLOOP_MAXFDS); how many. */
int	aresloop_fds(ares_channel ch, struct pollfd *pfd);
/* ms (-1: none), or sooner if c-ares has a retry or timeout due. */
int	aresloop_wait(ares_channel ch, int ms);
/* Hand c-ares what poll found on pfd[0..n), then its timeouts. */
void	aresloop_run(ares_channel ch, const struct pollfd *pfd, int n);

#endif
