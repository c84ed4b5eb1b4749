// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: arbitrary ring buffer records through event_format().
 * The first 8 bytes of the input are the boot-to-realtime offset; the rest is
 * the record. A record event_format() accepts must give exactly one line of
 * valid JSON (checked with cJSON); one it refuses must leave the buffer
 * untouched.
 */
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "event.h"

static const struct agent_info AGENT = {
	.name = "fuzz-agent",
	.identity = "spiffe://example.org/fuzz",
	.instance = "0123abcd",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf sb = {0};
	int64_t offset;
	void *rec;
	cJSON *json;

	if (size < sizeof(offset))
		return 0;
	memcpy(&offset, data, sizeof(offset));
	data += sizeof(offset);
	size -= sizeof(offset);
	/* An exact-size copy, so ASan sees any read past the record. */
	rec = malloc(size ? size : 1);
	memcpy(rec, data, size);
	if (event_format(&sb, rec, size, &AGENT, offset) == 0) {
		if (!sb.len || sb.buf[sb.len - 1] != '\n' || memchr(sb.buf, '\n', sb.len - 1))
			abort();
		sb_putc(&sb, '\0');
		json = cJSON_Parse(sb.buf);
		if (!json || !cJSON_IsObject(json))
			abort();
		cJSON_Delete(json);
	} else if (sb.len) {
		abort();
	}
	sb_free(&sb);
	free(rec);
	return 0;
}
