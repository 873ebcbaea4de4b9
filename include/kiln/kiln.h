/*
 * kiln.h - what an app includes.
 *
 * An app provides app_main(), called on the boot core once Kiln's memory,
 * time, devices and network are up. It registers its handlers and returns;
 * the run loop then drives everything. kiln_exit() ends the machine (QEMU's
 * isa-debug-exit device, or exit() when hosted) with a status.
 */
#ifndef KILN_KILN_H
#define KILN_KILN_H

#include <kiln/err.h>
#include <kiln/log.h>
#include <kiln/panic.h>
#include <kiln/time.h>
#include <kiln/timer.h>
#include <kiln/task.h>
#include <kiln/loop.h>
#include <kiln/mem.h>
#include <kiln/random.h>
#include <kiln/cmdline.h>

void app_main(void);

__attribute__((noreturn)) void kiln_exit(int status);

#define KILN_VERSION "0.1.0"

#endif
