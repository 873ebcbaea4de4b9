#!/usr/bin/perl
# boottime.pl IMAGE [RUNS] - times boots of IMAGE under tools/qemu.sh:
# from starting the launcher to the boot banner ("Kiln ... booting"), to
# the first line matching $MARK (default: the app's start, "boot: kernel
# up"), and to QEMU's exit. Prints each run and the medians in ms.
# Environment as for tools/qemu.sh (MACHINE, ACCEL, APPEND, ...).
use strict;
use warnings;
use Time::HiRes qw(time);

my ($image, $runs) = @ARGV;
die "usage: boottime.pl IMAGE [RUNS]\n" unless $image;
$runs ||= 10;
my $mark = $ENV{MARK} || 'boot: kernel up';
my (@banner, @marked, @exit);

sub median { my @s = sort { $a <=> $b } @_; return @s ? $s[int(@s / 2)] : -1; }

for my $i (1 .. $runs) {
	my $t0 = time;
	open(my $q, '-|', 'tools/qemu.sh', 'batch', $image) or die "qemu.sh: $!\n";
	my ($tb, $tm) = (-1, -1);
	while (my $line = <$q>) {
		$tb = (time - $t0) * 1000 if $tb < 0 && $line =~ /^Kiln .* booting/;
		$tm = (time - $t0) * 1000 if $tm < 0 && index($line, $mark) >= 0;
	}
	close($q);
	my $te = (time - $t0) * 1000;
	printf "run %2d: banner %7.1f ms  mark %7.1f ms  exit %7.1f ms  (status %d)\n",
		$i, $tb, $tm, $te, $? >> 8;
	push @banner, $tb; push @marked, $tm; push @exit, $te;
}
printf "median of %d: banner %.1f ms, mark %.1f ms, exit %.1f ms (%s, %s)\n", $runs,
	median(@banner), median(@marked), median(@exit), $ENV{MACHINE} || 'microvm',
	$ENV{ACCEL} || 'auto';
