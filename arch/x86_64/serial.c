/*
 * serial.c - the 16550 UART at COM1 (0x3F8), the console of every x86
 * machine Kiln boots on (microvm and q35 both have it).
 *
 * Polled output only: the console must work before interrupts exist and
 * while the machine is dying. '\n' becomes "\r\n". Under QEMU the
 * transmitter is always ready, so the wait costs one port read a byte.
 */
#include <stdint.h>

#include <kiln/arch.h>

#include "x86.h"

#define COM1 0x3F8
#define LSR_THRE 0x20

void serial_init(void)
{
	outb(COM1 + 1, 0x00);   /* no interrupts */
	outb(COM1 + 3, 0x80);   /* DLAB */
	outb(COM1 + 0, 0x01);   /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);   /* 8N1 */
	outb(COM1 + 2, 0xC7);   /* FIFO on, cleared */
	outb(COM1 + 4, 0x03);   /* DTR, RTS */
}

static void put(char c)
{
	for (int i = 0; i < 100000 && !(inb(COM1 + 5) & LSR_THRE); i++)
		arch_relax();
	outb(COM1, (uint8_t)c);
}

void serial_write(const char *s, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		if (s[i] == '\n')
			put('\r');
		put(s[i]);
	}
}

void arch_console_write(const char *s, size_t n)
{
	serial_write(s, n);
}
