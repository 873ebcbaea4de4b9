/*
 * main.c - kernel_main: the portable start-up sequence of every image.
 *
 * Called by the arch entry on the boot core with the boot information
 * copied out of the loader's structures. Order matters: the clock first
 * (so every log line has a true timestamp), then the command line (log
 * level), memory, the local timer, the start-up hooks of whatever parts
 * the image links (random, drivers, network), the app, and finally the
 * run loop, which never returns.
 */
#include <stdint.h>

#include <kiln/arch.h>
#include <kiln/cmdline.h>
#include <kiln/init.h>
#include <kiln/kiln.h>
#include <kiln/loop.h>
#include <kiln/percpu.h>

static enum log_level boot_log_level = LOG_INFO;
CMDLINE_OPTION(log, .key = "log", .type = CMDLINE_LOGLEVEL, .value = &boot_log_level,
	       .help = "console log level: error, warn, info or debug");

/* Keys QEMU or loaders add on their own; parsed elsewhere or ignored. */
static const char *const cmdline_ignore[] = { "virtio_mmio.device", "console", NULL };

static uint64_t boot_done_ns;

uint64_t kiln_boot_ns(void);
uint64_t kiln_boot_ns(void)
{
	return boot_done_ns;
}

void kernel_main(struct boot_info *bi)
{
	char cpu[96];

	uint64_t hz = arch_time_init();
	arch_describe(cpu, sizeof cpu);
	kprintf("\nKiln %s booting on %s\n", KILN_VERSION, cpu);

	cmdline_set(bi->cmdline);
	cmdline_parse(bi->cmdline, __cmdline_start, (size_t)(__cmdline_end - __cmdline_start),
		      cmdline_ignore);
	log_set_level(boot_log_level);
	log_info("boot: loader %s, command line \"%s\"", bi->loader, bi->cmdline);
	log_info("time: clock %s at %lu.%06lu MHz", arch_clock_name(),
		 (unsigned long)(hz / 1000000), (unsigned long)(hz % 1000000));

	for (unsigned i = 0; i < bi->nram; i++)
		page_add_range((uintptr_t)bi->ram[i].base, (size_t)bi->ram[i].len);
	arch_mem_ready();
	struct mem_stats ms;
	mem_get_stats(&ms);
	log_info("mem: %lu KiB free in %u ranges, image %lu KiB at %#lx", (unsigned long)(ms.total_bytes >> 10),
		 bi->nram, (unsigned long)((bi->image_end - bi->image_start) >> 10),
		 (unsigned long)bi->image_start);

	time_init();
	loop_cpu_init();
	arch_timer_init();
	log_info("time: timer %s", arch_timer_name());

	initcalls_run();

	boot_done_ns = time_now_ns();
	log_info("boot: kernel up in %lu us", (unsigned long)(boot_done_ns / 1000));
	app_main();
	loop_run();
}
