/* The monotonic clock the daemons' loops keep their deadlines on. */
#ifndef LIB_MONO_H
#define LIB_MONO_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds; fatal if the clock cannot be read. */
int64_t	mono_ms(void);

#endif
