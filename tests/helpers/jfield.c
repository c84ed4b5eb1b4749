// SPDX-License-Identifier: GPL-2.0
/*
 * jfield: print fields of JSON lines, for tests in a guest without jq.
 *   jfield KEY... < events.jsonl
 * One output line per input line: the keys' values separated by '|';
 * strings raw, numbers as integers, null as "null", a missing key as "<none>".
 * Exits 1 if a line is not a JSON object.
 */
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>

int main(int argc, char **argv)
{
	char line[65536];
	int status = 0;

	while (fgets(line, sizeof(line), stdin)) {
		cJSON *o = cJSON_Parse(line);

		if (!cJSON_IsObject(o)) {
			printf("<invalid JSON>\n");
			status = 1;
			cJSON_Delete(o);
			continue;
		}
		for (int i = 1; i < argc; i++) {
			cJSON *v = cJSON_GetObjectItemCaseSensitive(o, argv[i]);

			if (i > 1)
				putchar('|');
			if (!v)
				fputs("<none>", stdout);
			else if (cJSON_IsString(v))
				fputs(v->valuestring, stdout);
			else if (cJSON_IsNumber(v))
				printf("%.0f", v->valuedouble);
			else if (cJSON_IsNull(v))
				fputs("null", stdout);
			else if (cJSON_IsBool(v))
				fputs(cJSON_IsTrue(v) ? "true" : "false", stdout);
			else
				fputs("<complex>", stdout);
		}
		putchar('\n');
		cJSON_Delete(o);
	}
	return status;
}
