/*
 * exit.c - kiln_exit(): ends the machine with a status (include/kiln/kiln.h).
 */
#include <kiln/arch.h>
#include <kiln/kiln.h>

void kiln_exit(int status)
{
	log_info("exit: status %d", status);
	arch_exit(status);
}
