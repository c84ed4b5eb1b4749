// SPDX-License-Identifier: GPL-2.0
/* The program opbench execs: static, so exec cost is the kernel's, not ld.so's. */
int main(void)
{
	return 0;
}
