/*
 * switch.S - stack switching for cooperative tasks (x86_64, SysV ABI).
 *
 * Interface (kiln/arch.h):
 *   arch_ctx_init(ctx, stack_top, entry, arg)  prepare a fresh context
 *   arch_ctx_switch(from, to)                  save into *from, resume *to
 *
 * A switch is an ordinary function call, so only the callee-saved state
 * has to survive it: rbx, rbp, r12-r15, the stack pointer, and the two
 * pieces of floating-point state the ABI makes callee-saved, the x87
 * control word and MXCSR (control bits). Everything is pushed on the
 * stack being left; struct arch_ctx holds only the resulting stack
 * pointer. Saved frame, from the saved sp upwards:
 *
 *   sp+0   MXCSR (4 bytes), x87 control word (2 bytes), 2 unused
 *   sp+8   r15, r14, r13, r12, rbx, rbp
 *   sp+56  return address
 *
 * arch_ctx_init builds the same frame on a new stack, with the return
 * address pointing at ctx_trampoline, entry in r12, arg in r13, rbp = 0
 * and the default MXCSR (0x1f80) and x87 control word (0x037f). Above it
 * sits a zero "return address" and a zero saved rbp, and the trampoline
 * calls entry with rsp 16-byte aligned, so a frame-pointer walk through a
 * task stack ends at rbp = 0 and a debugger sees an undefined return
 * address (end of stack) there. entry must not return: if it does, ud2.
 *
 * Rules: interrupts are neither enabled nor disabled here; the caller
 * must be on the stack that *from describes, and *to must be a context
 * saved by arch_ctx_switch or prepared by arch_ctx_init.
 */
	.text
	.code64
	.cfi_sections .debug_frame

#define MXCSR_DEFAULT 0x1f80
#define FCW_DEFAULT 0x037f

/* void arch_ctx_switch(struct arch_ctx *from [rdi], struct arch_ctx *to [rsi]) */
	.globl arch_ctx_switch
	.type arch_ctx_switch, @function
	.balign 16
arch_ctx_switch:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	sub $8, %rsp
	stmxcsr (%rsp)
	fnstcw 4(%rsp)
	mov %rsp, (%rdi)

	mov (%rsi), %rsp
	ldmxcsr (%rsp)
	fldcw 4(%rsp)
	add $8, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret
	.size arch_ctx_switch, . - arch_ctx_switch

/*
 * void arch_ctx_init(struct arch_ctx *ctx [rdi], void *stack_top [rsi],
 *                    void (*entry)(void *) [rdx], void *arg [rcx])
 * Stack built below top (aligned down to 16), highest first:
 *   top-8   0              fake return address (end of backtrace)
 *   top-16  0              fake saved rbp
 *   top-24  ctx_trampoline "return address" of the first switch
 *   top-32  rbp = 0
 *   top-40  rbx = 0
 *   top-48  r12 = entry
 *   top-56  r13 = arg
 *   top-64  r14 = 0
 *   top-72  r15 = 0
 *   top-80  MXCSR, x87 control word     <- ctx->sp
 * After the ret into the trampoline rsp = top-16: 16-byte aligned.
 */
	.globl arch_ctx_init
	.type arch_ctx_init, @function
	.balign 16
arch_ctx_init:
	and $-16, %rsi
	xor %eax, %eax
	mov %rax, -8(%rsi)
	mov %rax, -16(%rsi)
	lea ctx_trampoline(%rip), %r8
	mov %r8, -24(%rsi)
	mov %rax, -32(%rsi)
	mov %rax, -40(%rsi)
	mov %rdx, -48(%rsi)
	mov %rcx, -56(%rsi)
	mov %rax, -64(%rsi)
	mov %rax, -72(%rsi)
	movl $MXCSR_DEFAULT, -80(%rsi)
	movl $FCW_DEFAULT, -76(%rsi)
	lea -80(%rsi), %rax
	mov %rax, (%rdi)
	ret
	.size arch_ctx_init, . - arch_ctx_init

/* First code run on a new task stack: entry(arg), which must not return. */
	.type ctx_trampoline, @function
	.balign 16
ctx_trampoline:
	.cfi_startproc
	.cfi_undefined rip
	mov %r13, %rdi
	call *%r12
	ud2
	.cfi_endproc
	.size ctx_trampoline, . - ctx_trampoline

	.section .note.GNU-stack, "", @progbits
