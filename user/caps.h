/* SPDX-License-Identifier: GPL-2.0 */
/* Capability names (CAP_*), both ways: for policies and for events. */
#ifndef WARDEN_CAPS_H
#define WARDEN_CAPS_H

#include <stdint.h>

#define CAP_NUMBER_MAX 63	/* the highest a 64-bit mask holds */

/* "CAP_NET_ADMIN" for 12; NULL for a number with no name. */
const char *cap_name(int cap);
/* 12 for "CAP_NET_ADMIN"; -1 for a name Linux does not have. */
int cap_by_name(const char *name);
/* Writes the names of the capabilities in @mask, ", "-separated, into @buf. */
void cap_list(uint64_t mask, char *buf, size_t size);

#endif
