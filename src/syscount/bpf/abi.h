/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which ABI a system call came in through, from the register frame the sys_enter
 * tracepoint passes (a tp_btf program reads it directly; a raw_tp program would need a
 * probe read, ~50 ns per call here). On x86-64 a 32-bit (ia32) process enters the
 * same tracepoint with i386 numbers: naming them from the 64-bit table is the classic
 * mistake (an i386 read, 3, would show up as close). Bank 0 is the native ABI,
 * bank 1 the compat one; syscount names bank 1 from the i386 table.
 */
#ifndef SYSCOUNT_ABI_H
#define SYSCOUNT_ABI_H

#define SC_ABI_NATIVE 0
#define SC_ABI_COMPAT 1

#if defined(__TARGET_ARCH_x86)
/* The x86-64 register frame; the layout is fixed by the entry code (see the uapi
 * asm/ptrace.h). cs is read as 16 bits: with FRED the slot's upper bits carry more. */
struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	unsigned long ax, cx, dx, si, di, orig_ax, ip;
	unsigned short cs;
	unsigned short cs_pad[3];
	unsigned long flags, sp, ss;
};
#define SC_USER32_CS 0x23 /* GDT_ENTRY_DEFAULT_USER32_CS * 8 + 3 */

static __always_inline __u32 sc_abi(const struct pt_regs *regs)
{
	return regs->cs == SC_USER32_CS ? SC_ABI_COMPAT : SC_ABI_NATIVE;
}
#elif defined(__TARGET_ARCH_arm64)
/* struct user_pt_regs, the start of arm64's pt_regs. */
struct pt_regs {
	__u64 regs[31];
	__u64 sp;
	__u64 pc;
	__u64 pstate;
};
#define SC_PSR_MODE32_BIT 0x10

static __always_inline __u32 sc_abi(const struct pt_regs *regs)
{
	return (regs->pstate & SC_PSR_MODE32_BIT) ? SC_ABI_COMPAT : SC_ABI_NATIVE;
}
#else
struct pt_regs;

static __always_inline __u32 sc_abi(const struct pt_regs *regs)
{
	return SC_ABI_NATIVE;
}
#endif

#endif
