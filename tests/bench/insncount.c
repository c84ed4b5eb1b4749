// SPDX-License-Identifier: GPL-2.0
/*
 * insncount: a QEMU TCG plugin that counts the guest instructions executed
 * between two marker instructions, so that `make bench` can state what an
 * operation costs in instructions: a count that, unlike time under
 * emulation on a shared host, does not move with the host's load.
 *
 *   qemu-system-x86_64 -smp 1 -plugin insncount.so,out=FILE ...
 *
 * The guest brackets what it measures with two 7-byte no-ops that nothing
 * else executes, `nopl 0x57440000+TAG(%rax)` (0f 1f 80 + disp32, "DW" in
 * the top half): TAG 1 starts and TAG 2 stops a measurement. At each
 * marker the plugin appends one line to FILE:
 *
 *   mark TAG TOTAL KERNEL REP
 *
 * TOTAL: instructions executed by the vCPU so far, KERNEL: those of them
 * at kernel addresses (the upper half), REP: the repeats of rep-prefixed
 * string instructions, which TOTAL leaves out. QEMU runs each repeat of a
 * `rep stos`/`rep movs` as one more execution of the instruction, so the
 * kernel's memset of a 4 KiB buffer would count as 4,096 instructions,
 * where a CPU takes on the order of a hundred cycles for it; counted in
 * TOTAL, they would swamp what an operation really costs. The guest prints which measurement
 * each start/stop pair is, in the same order (opbench --mark); the host
 * pairs them (tests/bench/report).
 *
 * Counting is inline (a TCG add per translation block executed, no helper
 * call), which is exact only with one vCPU: hence -smp 1. A block adds its
 * whole length when it starts, so a marker's reading includes the rest of
 * its own block: a constant that differences cancel.
 *
 * With prof=1 the plugin also profiles: between a start and a stop marker
 * it counts instructions per translation block start address, and at the
 * stop marker appends "pc ADDR COUNT" lines (the guest's /proc/kallsyms
 * names the kernel's addresses, BPF programs included). Profiling calls
 * back on every block executed: slower, and for finding where the cost is,
 * not for the bench's numbers.
 *
 * QEMU ships no plugin header in Debian; the few declarations below are
 * the plugin ABI of QEMU 7.2 (API version 1), which QEMU checks at load.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- QEMU plugin ABI (include/qemu/qemu-plugin.h, QEMU 7.2) ---- */
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;	/* not read: opaque here */
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
					      void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
					  enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
					    qemu_plugin_vcpu_udata_cb_t cb,
					    enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_outs(const char *string);

#define EXPORT __attribute__((visibility("default")))
EXPORT int qemu_plugin_version = 1;
/* ---- end of the ABI ---- */

#define MARK_MAGIC 0x5744u	/* top half of the marker's displacement */

static uint64_t total;		/* instructions executed (one vCPU) */
static uint64_t kernel;		/* of which at kernel addresses */
static uint64_t reps;		/* rep string repeats, not in total */
static FILE *out;

/* prof=1: instructions per block address, between start and stop markers. */
#define PROF_SLOTS (1u << 16)
static bool profiling, measuring;
static struct prof_slot {
	uint64_t pc, count;
} prof[PROF_SLOTS];

static void prof_add(uint64_t pc, uint64_t n)
{
	uint32_t h = (uint32_t)((pc * 0x9e3779b97f4a7c15ull) >> 48);

	for (uint32_t i = 0; i < PROF_SLOTS; i++, h = (h + 1) & (PROF_SLOTS - 1)) {
		if (prof[h].pc == pc || !prof[h].count) {
			prof[h].pc = pc;
			prof[h].count += n;
			return;
		}
	}
}

static void prof_dump(void)
{
	for (uint32_t i = 0; i < PROF_SLOTS; i++)
		if (prof[i].count)
			fprintf(out, "pc %" PRIx64 " %" PRIu64 "\n", prof[i].pc, prof[i].count);
	memset(prof, 0, sizeof(prof));
}

struct tb_info {
	uint64_t pc, n;
};

static void on_block(unsigned int vcpu, void *info)
{
	const struct tb_info *tb = info;

	(void)vcpu;
	if (measuring)
		prof_add(tb->pc, tb->n);
}

static bool is_kernel(uint64_t vaddr)
{
	return vaddr >> 63;	/* x86-64: the kernel owns the upper half */
}

/*
 * A block that starts with a rep-prefixed string instruction and holds
 * only it: how QEMU runs the second and later repeats (each repeat jumps
 * back to the instruction). The first repeat ends the block before it.
 */
static bool is_rep_repeat(struct qemu_plugin_tb *tb)
{
	const uint8_t *b;
	size_t len, i;
	bool rep = false;

	if (qemu_plugin_tb_n_insns(tb) != 1)
		return false;
	b = qemu_plugin_insn_data(qemu_plugin_tb_get_insn(tb, 0));
	len = qemu_plugin_insn_size(qemu_plugin_tb_get_insn(tb, 0));
	for (i = 0; i < len; i++) {
		uint8_t c = b[i];

		if (c == 0xf2 || c == 0xf3)
			rep = true;
		else if (!(c == 0x66 || c == 0x67 || c == 0x26 || c == 0x2e || c == 0x36 ||
			   c == 0x3e || c == 0x64 || c == 0x65 || (c >= 0x40 && c <= 0x4f)))
			break;
	}
	if (!rep || i >= len)
		return false;
	switch (b[i]) {
	case 0x6c: case 0x6d: case 0x6e: case 0x6f:	/* ins, outs */
	case 0xa4: case 0xa5: case 0xa6: case 0xa7:	/* movs, cmps */
	case 0xaa: case 0xab: case 0xac: case 0xad:	/* stos, lods */
	case 0xae: case 0xaf:				/* scas */
		return true;
	}
	return false;
}

/* The marker's tag, or 0 if @insn is not a marker. */
static unsigned int marker_tag(const struct qemu_plugin_insn *insn)
{
	const uint8_t *b = qemu_plugin_insn_data(insn);
	uint32_t disp;

	if (qemu_plugin_insn_size(insn) != 7 || b[0] != 0x0f || b[1] != 0x1f || b[2] != 0x80)
		return 0;
	memcpy(&disp, b + 3, sizeof(disp));
	return disp >> 16 == MARK_MAGIC ? disp & 0xffff : 0;
}

static void on_marker(unsigned int vcpu, void *tag)
{
	(void)vcpu;
	if (profiling) {
		if ((uintptr_t)tag == 2)
			prof_dump();
		measuring = (uintptr_t)tag == 1;
	}
	fprintf(out, "mark %u %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", (unsigned int)(uintptr_t)tag,
		total, kernel, reps);
	fflush(out);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb);

	(void)id;
	if (is_rep_repeat(tb)) {
		qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &reps, 1);
		return;
	}
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &total, n);
	if (profiling) {
		struct tb_info *info = malloc(sizeof(*info));	/* lives as long as the block */

		if (info) {
			info->pc = qemu_plugin_tb_vaddr(tb);
			info->n = n;
			qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, QEMU_PLUGIN_CB_NO_REGS, info);
		}
	}
	if (is_kernel(qemu_plugin_tb_vaddr(tb))) {
		qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &kernel, n);
		return;		/* markers are user-space instructions */
	}
	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		unsigned int tag = marker_tag(insn);

		if (tag)
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker, QEMU_PLUGIN_CB_NO_REGS,
							       (void *)(uintptr_t)tag);
	}
}

static void at_qemu_exit(qemu_plugin_id_t id, void *unused)
{
	(void)id, (void)unused;
	fprintf(out, "end %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", total, kernel, reps);
	fclose(out);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
			       char **argv)
{
	const char *path = NULL;

	(void)info;
	for (int i = 0; i < argc; i++)
		if (!strncmp(argv[i], "out=", 4))
			path = argv[i] + 4;
		else if (!strcmp(argv[i], "prof=1"))
			profiling = true;
	if (!path) {
		qemu_plugin_outs("insncount: missing argument out=FILE\n");
		return -1;
	}
	out = fopen(path, "w");
	if (!out) {
		qemu_plugin_outs("insncount: cannot open the out= file\n");
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	qemu_plugin_register_atexit_cb(id, at_qemu_exit, NULL);
	return 0;
}
