/*
 * entry.S - the PVH entry: from 32-bit protected mode to C in long mode.
 *
 * QEMU (microvm and q35 alike, with -kernel) finds the XEN_ELFNOTE_PHYS32_ENTRY
 * note below and jumps to pvh_start32 in 32-bit protected mode, paging
 * off, with %ebx holding the physical address of the hvm_start_info.
 * We zero .bss, identity-map the first 4 GiB with 2 MiB pages, enable
 * PAE, long mode, NX and write protection, load a 64-bit GDT, enable
 * SSE, point FS at the boot TLS block whose word at 0x28 is the stack
 * protector canary, and call arch_boot(start_info) on the boot stack.
 * paging.c replaces these early tables with the final ones.
 */
#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_EM (1 << 2)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)
#define XEN_ELFNOTE_PHYS32_ENTRY 18

	.section .note.pvh, "a"
	.balign 4
	.long 4                          /* name size */
	.long 8                          /* descriptor size */
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.balign 4
	.quad pvh_start32

	.section .boot.text, "ax"
	.code32
	.globl pvh_start32
pvh_start32:
	cli
	cld
	mov %ebx, %esi                   /* keep start_info in esi */

	/* Zero .bss (the early page tables and boot stack live there). */
	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	xor %eax, %eax
	rep stosb

	/* PML4[0] -> PDPT, PDPT[0..3] -> 4 page directories of 2 MiB pages. */
	mov $early_pdpt, %eax
	or $0x3, %eax
	mov %eax, early_pml4
	mov $early_pd, %eax
	mov $early_pdpt, %edi
	mov $4, %ecx
1:	mov %eax, %edx
	or $0x3, %edx
	mov %edx, (%edi)
	add $4096, %eax
	add $8, %edi
	loop 1b
	mov $early_pd, %edi
	xor %eax, %eax
	mov $2048, %ecx
2:	mov %eax, %edx
	or $0x83, %edx                   /* present, writable, 2 MiB */
	mov %edx, (%edi)
	movl $0, 4(%edi)
	add $0x200000, %eax
	add $8, %edi
	loop 2b

	mov %cr4, %eax
	or $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	mov %eax, %cr4
	mov $early_pml4, %eax
	mov %eax, %cr3
	mov $0xC0000080, %ecx
	rdmsr
	or $(EFER_LME | EFER_NXE), %eax
	wrmsr
	mov %cr0, %eax
	and $~CR0_EM, %eax
	or $(CR0_PE | CR0_MP | CR0_WP | CR0_PG), %eax
	mov %eax, %cr0

	lgdt early_gdt_desc
	ljmp $0x08, $long_mode

	.code64
long_mode:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %ax, %ax
	mov %ax, %fs
	mov %ax, %gs
	lea boot_stack_top(%rip), %rsp
	xor %ebp, %ebp

	/* FS base -> boot TLS; canary at %fs:0x28 from RDRAND if present. */
	lea boot_tls(%rip), %rdi
	mov %rdi, %rax
	mov %rdi, %rdx
	shr $32, %rdx
	mov $0xC0000100, %ecx
	wrmsr
	mov $1, %eax
	xor %ecx, %ecx
	cpuid
	bt $30, %ecx
	jnc 4f
	mov $16, %ecx
3:	rdrand %rax
	jc 5f
	loop 3b
4:	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	mov $0x9e3779b97f4a7c15, %rdx
	imul %rdx, %rax
5:	xor %al, %al                     /* a zero byte stops string overreads */
	mov %rax, boot_tls + 0x28(%rip)

	mov %esi, %edi                   /* arch_boot(start_info) */
	push $0                          /* end of the frame-pointer chain */
	push $0
	mov %rsp, %rbp
	call arch_boot
6:	cli
	hlt
	jmp 6b

	.section .rodata
	.balign 16
early_gdt:
	.quad 0
	.quad 0x00af9a000000ffff         /* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff         /* 0x10: data */
early_gdt_end:
early_gdt_desc:
	.word early_gdt_end - early_gdt - 1
	.long early_gdt

	.section .bss
	.balign 4096
early_pml4: .skip 4096
early_pdpt: .skip 4096
early_pd:   .skip 4 * 4096
	.globl boot_stack_guard, boot_stack_bottom, boot_stack_top
boot_stack_guard: .skip 4096     /* unmapped by paging.c */
boot_stack_bottom:
	.skip 64 * 1024
boot_stack_top:
	.globl boot_tls
	.balign 64
boot_tls: .skip 256
