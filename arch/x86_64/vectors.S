/*
 * vectors.S - entry stubs for all 256 vectors and the common trap path.
 *
 * Each stub pushes a zero error code when the CPU does not push one, then
 * its vector, and jumps to trap_common, which saves the general registers
 * (as struct trap_frame in x86_priv.h) and the SSE/x87 state (fxsave:
 * the interrupted code may be anywhere, and C may use SSE), calls
 * trap_dispatch(frame) on an aligned stack, and returns with iretq.
 */
	.text
	.code64

.macro STUB vec
	.balign 16
trap_stub_\vec:
	.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq $0
	.endif
	pushq $\vec
	jmp trap_common
.endm

	.altmacro
.set i, 0
.rept 256
	STUB %i
	.set i, i + 1
.endr

trap_common:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rbx                  /* rbx: the trap frame (callee-saved) */
	/* Frame pointer chain through the interrupted code: rbp = &{rbp,rip}
	 * is not contiguous here, so start the chain at the saved rbp. */
	sub $512, %rsp
	and $~15, %rsp
	fxsave64 (%rsp)
	mov %rbx, %rdi
	cld
	call trap_dispatch
	fxrstor64 (%rsp)
	mov %rbx, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp                   /* vector and error code */
	iretq

	.section .rodata
	.balign 8
	.globl trap_stubs
.macro STUB_ADDR vec
	.quad trap_stub_\vec
.endm
trap_stubs:
.set i, 0
.rept 256
	STUB_ADDR %i
	.set i, i + 1
.endr
