// SPDX-License-Identifier: GPL-2.0
/*
 * flood: open a path the policy denies as fast as one thread can, for
 * SECONDS, so that every attempt is a denial and an event; prints
 * "FLOOD attempts=N seconds=S". The drain benchmark compares N with the
 * events warden delivered and the ones it counted as lost.
 *
 *   flood PATH SECONDS
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double start, end, t;
	unsigned long n = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: flood PATH SECONDS\n");
		return 2;
	}
	start = now();
	end = start + atof(argv[2]);
	do {
		for (int i = 0; i < 64; i++, n++) {
			int fd = open(argv[1], O_RDONLY);

			if (fd >= 0) {
				fprintf(stderr, "flood: %s opened: not denied, nothing to measure\n", argv[1]);
				return 1;
			}
		}
		t = now();
	} while (t < end);
	printf("FLOOD attempts=%lu seconds=%.3f\n", n, t - start);
	return 0;
}
