/*
 * A store in memory for the unit tests of the policy (t_grey,
 * t_spamlogd); close it with store_close().
 */
#ifndef SPAMD_STORE_MEM_H
#define SPAMD_STORE_MEM_H

#include "store.h"

struct store	*store_mem_open(void);

#endif
