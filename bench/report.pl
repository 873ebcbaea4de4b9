#!/usr/bin/perl
# report.pl OUT - turns the raw results of bench/run.pl (OUT/raw.tsv,
# OUT/meta.tsv) into OUT/results.md (tables: workload x server medians and
# ratios, latency, CPU split, boot time, memory, image sizes) and
# OUT/results.svg (bar chart of the medians, each workload scaled to its
# best server). Can be rerun on its own.
use strict;
use warnings;

my $out = shift or die "usage: report.pl OUT\n";
my (%meta, @wl, %wlabel, %na, %napat, %size);
open(my $m, '<', "$out/meta.tsv") or die "report.pl: $out/meta.tsv: $!\n";
while (<$m>) {
	chomp;
	my @f = split /\t/;
	if ($f[0] eq 'workload') { push @wl, $f[1]; $wlabel{$f[1]} = $f[2]; }
	elsif ($f[0] eq 'na') { $na{$f[1]} = $f[2]; $napat{$f[1]} = length($f[3] // "") ? qr/$f[3]/ : qr/nginx/; }
	elsif ($f[0] eq 'size') { $size{$f[1]} = $f[2]; }
	else { $meta{$f[0]} = $f[1] // ''; }
}
close $m;

my %d;    # {server}{workload} => [ rows ]
my %lost; # {server}{workload} => rounds in which the server answered nothing
open(my $r, '<', "$out/raw.tsv") or die "report.pl: $out/raw.tsv: $!\n";
my @cols = split /\t/, do { my $h = <$r>; chomp $h; $h };
while (<$r>) {
	chomp;
	my @f = split /\t/, $_, -1;
	my %row;
	@row{@cols} = @f;
	# A round in which the server answered nothing (it did not boot or
	# its network stalled) is reported, not counted as a zero.
	if ($row{value} == 0 && $row{workload} !~ /^(boot-|mem)/) {
		$lost{ $row{server} }{ $row{workload} }++;
		next;
	}
	push @{ $d{ $row{server} }{ $row{workload} } }, \%row;
}
close $r;

sub median {
	my @v = sort { $a <=> $b } grep { defined && $_ ne '' } @_;
	return undef unless @v;
	return @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
}
sub med { my ($s, $w, $k) = @_; return median(map { $_->{$k} } @{ $d{$s}{$w} || [] }); }
sub num {
	my $v = shift;
	return '–' unless defined $v;
	my $s = $v >= 100 ? sprintf('%.0f', $v) : $v >= 10 ? sprintf('%.1f', $v) : sprintf('%.2f', $v);
	1 while $s =~ s/^(\d+)(\d{3})/$1,$2/;
	return $s;
}
sub ms { my $v = shift; return defined $v ? ($v >= 10 ? sprintf('%.0f', $v) : sprintf('%.2f', $v)) : '–'; }
sub bytes {
	my $b = shift;
	return '–' unless $b;
	return $b >= 1 << 20 ? sprintf('%.1f MiB', $b / (1 << 20)) : sprintf('%.0f KiB', $b / 1024);
}

my %name = (
	kiln => 'Kiln (unikernel)', 'linux-nginx' => 'Linux + nginx', 'linux-native' => 'Linux + Kiln native',
	'host-native' => 'Kiln native (host)', 'host-nginx' => 'nginx (host)',
);
my @vm = grep { $d{$_} } qw(kiln linux-nginx linux-native);
my @host = grep { $d{$_} } qw(host-native host-nginx);
my @notes;
my %sat;    # saturation notes: client, host, rest => [ where ]

# True when every round of the workload failed (nothing but errors).
sub failed {
	my ($s, $w) = @_;
	my @r = @{ $d{$s}{$w} || [] };
	return @r && !grep { $_->{value} > 0 } @r;
}
# Server s cannot run workload w (run.pl's na pattern).
sub na_for { my ($s, $w) = @_; return $na{$w} && $s =~ $napat{$w}; }
sub cell {
	my ($s, $w) = @_;
	return 'n/a' if na_for($s, $w);
	if (failed($s, $w)) {
		my ($st) = map { /status (\d+)/ ? $1 : () } map { $_->{errors} } @{ $d{$s}{$w} };
		return $st ? "rejected ($st)" : 'failed';
	}
	return num(med($s, $w, 'value'));
}
sub errs_of {
	my ($s, $w) = @_;
	my @e = grep { $_->{errors} } @{ $d{$s}{$w} || [] };
	return '' unless @e;
	return sprintf('%s in %d of %d round(s)', $e[0]{errors}, scalar @e, scalar @{ $d{$s}{$w} });
}

my $md = '';
$md .= "# Kiln benchmark results\n\n";
$md .= "- Date: $meta{date}; mode `BENCH=$meta{mode}`: $meta{rounds} round(s), $meta{seconds} s per workload, medians across rounds\n";
$md .= "- Host: $meta{host_cpu}; accelerator: $meta{accel} (`$meta{accel_flags}`); QEMU $meta{qemu}\n";
$md .= "- Guests: q35, `-smp $meta{smp}`, `-m $meta{mem}`, virtio-net-pci on a TAP device (no vhost), rx/tx rings 256, "
     . "same MAC and IP; Linux is Debian's kernel $meta{kernel}\n";
$md .= "- Client: $meta{wrk} (`-t$meta{wrk_threads}`, `--latency`) and bench/udpload, on the same host\n";
$md .= "- Not measured (not built yet): $meta{missing}\n" if $meta{missing};
$md .= "\n";

# --- the identical-hardware comparison
if (@vm) {
	$md .= "## Identical virtual hardware: requests/s (UDP: packets/s)\n\n";
	my @lin = grep { /^linux-/ } @vm;
	$md .= '| Workload | ' . join(' | ', map { $name{$_} } @vm) . (@lin && $d{kiln} ? ' | Kiln ÷ best Linux' : '') . " |\n";
	$md .= '|---|' . join('', map { '---:|' } @vm) . (@lin && $d{kiln} ? '---:|' : '') . "\n";
	for my $w (@wl) {
		next unless grep { $d{$_}{$w} || na_for($_, $w) } @vm;
		$md .= "| $wlabel{$w} | " . join(' | ', map { cell($_, $w) } @vm);
		if (@lin && $d{kiln}) {
			my $k = failed('kiln', $w) ? undef : med('kiln', $w, 'value');
			my ($best) = sort { $b <=> $a } grep { defined && $_ > 0 } map { med($_, $w, 'value') } @lin;
			$md .= ' | ' . (defined $k && $best ? sprintf('%.2f×', $k / $best) : '–');
		}
		$md .= " |\n";
		for my $s (@vm) {
			my $e = errs_of($s, $w);
			push @notes, "$name{$s}, $wlabel{$w}: $e" if $e;
		}
	}
	$md .= "\n";
	$md .= "Latency (wrk --latency, median across rounds of p50 / p99, ms):\n\n";
	$md .= '| Workload | ' . join(' | ', map { $name{$_} } @vm) . " |\n";
	$md .= '|---|' . join('', map { '---:|' } @vm) . "\n";
	for my $w (grep { $_ ne 'udp' } @wl) {
		$md .= "| $wlabel{$w} | " . join(' | ', map {
			na_for($_, $w) ? 'n/a' : ms(med($_, $w, 'p50_ms')) . ' / ' . ms(med($_, $w, 'p99_ms'))
		} @vm) . " |\n";
	}
	$md .= "\n";
}

# --- loopback
if (@host) {
	$md .= "## Without a VM: on this host over loopback (same wrk command, -smp workers)\n\n";
	$md .= '| Workload | ' . join(' | ', map { $name{$_} } @host)
	     . (@host == 2 ? ' | native ÷ nginx' : '') . " |\n";
	$md .= '|---|' . join('', map { '---:|' } @host) . (@host == 2 ? '---:|' : '') . "\n";
	for my $w (@wl) {
		next if !grep { !na_for($_, $w) } @host;
		$md .= "| $wlabel{$w} | " . join(' | ', map { cell($_, $w) } @host);
		if (@host == 2) {
			my ($a, $b) = map { med($_, $w, 'value') } @host;
			$md .= ' | ' . ($a && $b && !grep({ na_for($_, $w) } @host) && !grep({ failed($_, $w) } @host) ? sprintf('%.2f×', $a / $b) : '–');
		}
		$md .= " |\n";
		for my $s (@host) {
			my $e = errs_of($s, $w);
			push @notes, "$name{$s}, $wlabel{$w}: $e" if $e;
		}
	}
	$md .= "\n";
}

# --- boot, memory, sizes
my @bootsrv = grep { $d{$_}{'boot-q35'} || $d{$_}{'boot-microvm'} || $d{$_}{'boot-q35-run'} } qw(kiln linux-nginx linux-native);
if (@bootsrv) {
	$md .= "## Boot time to the first HTTP 200 (ms from starting QEMU, median)\n\n";
	$md .= "| Machine | " . join(' | ', map { $name{$_} } @bootsrv) . " |\n|---|" . join('', map { '---:|' } @bootsrv) . "\n";
	for my $b (['boot-microvm', 'microvm'], ['boot-q35', 'q35'], ['boot-q35-run', 'q35, the boots of the load rounds']) {
		next unless grep { $d{$_}{ $b->[0] } } @bootsrv;
		$md .= "| $b->[1] | " . join(' | ', map {
			my @v = grep { $_ > 0 } map { $_->{value} } @{ $d{$_}{ $b->[0] } || [] };
			@v ? ms(median(@v)) . ' (n=' . scalar(@v) . ')' : '–'
		} @bootsrv) . " |\n";
	}
	$md .= "\n";
}
my @memsrv = grep { $d{$_}{mem} } qw(kiln linux-nginx);
$md .= "## Memory and image size\n\n| | Kiln | Linux guest |\n|---|---:|---:|\n";
if (@memsrv) {
	$md .= '| Smallest `-m` that still serves /health at 128 conns | '
	     . join(' | ', map { my $v = $d{$_}{mem} ? $d{$_}{mem}[0]{value} : undef; $v ? sprintf('%d MiB', $v) : '–' } qw(kiln linux-nginx)) . " |\n";
}
$md .= "| Boot image | " . bytes($size{kiln}) . " (webserver.elf, site baked in) | "
     . bytes($size{'linux-vmlinux'}) . ' vmlinux (' . bytes($size{'linux-bzImage'}) . ' bzImage) + '
     . bytes($size{'linux-initramfs'}) . " initramfs |\n";
$md .= "| Server binary | (in the image) | nginx " . bytes($size{nginx})
     . ($size{native} ? ', Kiln native ' . bytes($size{native}) : '') . " plus shared libraries |\n\n";

# --- CPU split
$md .= "## Where the CPU went (% of one core, median; the host has $meta{host_cpu})\n\n";
$md .= "| Server | Workload | wrk/udpload | guest vCPU thread(s) | QEMU main loop | QEMU other | host server | rest of the host | host busy (% of all CPUs) |\n";
$md .= "|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
for my $s (@vm, @host) {
	for my $w (@wl) {
		next unless $d{$s}{$w} && defined med($s, $w, 'cpu_client');
		my @c = map { med($s, $w, $_) } qw(cpu_client cpu_vcpu cpu_main cpu_other cpu_server cpu_rest cpu_host);
		$md .= "| $name{$s} | $w | " . join(' | ', map { defined $_ ? sprintf('%.0f', $_) : '–' } @c) . " |\n";
		my $wt = $meta{wrk_threads} || 1;
		if (($c[0] // 0) >= 90 * ($w eq 'udp' ? 1 : $wt)) {
			push @{ $sat{client} }, "$name{$s} $w (" . sprintf('%.0f', $c[0]) . ' %)';
		} elsif (($c[6] // 0) >= 95) {
			push @{ $sat{host} }, "$name{$s} $w";
		}
		push @{ $sat{rest} }, "$name{$s} $w (" . sprintf('%.0f', $c[5]) . ' %)' if ($c[5] // 0) >= 30;
	}
}
$md .= "\n";
push @notes, 'The client (one wrk thread) used a full core, so these numbers are client-bound: '
	. join(', ', @{ $sat{client} }) if $sat{client};
push @notes, 'All host CPUs were busy (client, QEMU and the rest competed for 2 cores): '
	. join(', ', @{ $sat{host} }) if $sat{host};
push @notes, 'Other processes on the host (outside this benchmark) used 30 % of a core or more during: '
	. join(', ', @{ $sat{rest} }) . '; those numbers are depressed and noisy' if $sat{rest};
push @notes, "$wlabel{$_}: $na{$_}" for grep { $na{$_} } @wl;
for my $s (sort keys %lost) {
	for my $w (sort keys %{ $lost{$s} }) {
		my $n = $lost{$s}{$w};
		push @notes, ($name{$s} // $s) . ", " . ($wlabel{$w} // $w) . ": no answer in $n round(s); the median is of the other rounds (the guest log under logs/ says why)";
	}
}
if (@notes) {
	$md .= "## Notes\n\n" . join('', map { "- $_\n" } @notes) . "\n";
}
open(my $o, '>', "$out/results.md") or die "report.pl: $out/results.md: $!\n";
print $o $md;
close $o;

# --- the SVG: one group of bars per workload, scaled to the group's best
my @groups;
for my $w (@wl) {
	my @bars = map { [$_, med($_, $w, 'value'), cell($_, $w)] } grep { !na_for($_, $w) && $d{$_}{$w} } @vm;
	push @groups, ["$wlabel{$w}" . ($w eq 'udp' ? ' (pkt/s)' : ' (req/s)'), \@bars] if @bars;
}
for my $w (@wl) {
	my @bars = map { [$_, med($_, $w, 'value'), cell($_, $w)] } grep { !na_for($_, $w) && $d{$_}{$w} } @host;
	push @groups, ["loopback, no VM: $wlabel{$w}" . ($w eq 'udp' ? ' (pkt/s)' : ' (req/s)'), \@bars] if @bars;
}
my %color = (kiln => '#d9480f', 'linux-nginx' => '#1c7ed6', 'linux-native' => '#37b24d',
	'host-native' => '#2b8a3e', 'host-nginx' => '#1864ab');
my ($W, $lx, $bx, $bw, $bh) = (960, 10, 330, 520, 14);
my $y = 58;
my $body = '';
sub esc { my $s = shift; $s =~ s/&/&amp;/g; $s =~ s/</&lt;/g; $s =~ s/>/&gt;/g; return $s; }
for my $g (@groups) {
	my ($title, $bars) = @$g;
	my ($max) = sort { $b <=> $a } map { $_->[1] // 0 } @$bars;
	$max = 1 unless $max && $max > 0;
	$body .= sprintf(qq{<text x="%d" y="%d" font-weight="bold">%s</text>\n}, $lx, $y + 11, esc($title));
	$y += 16;
	for my $b (@$bars) {
		my ($s, $v, $label) = @$b;
		my $len = int(($v // 0) / $max * $bw + 0.5);
		$body .= sprintf(qq{<text x="%d" y="%d">%s</text>\n}, $lx + 12, $y + 11, esc($name{$s}));
		$body .= sprintf(qq{<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>\n}, $bx, $y, $len, $bh, $color{$s});
		$body .= sprintf(qq{<text x="%d" y="%d">%s</text>\n}, $bx + $len + 6, $y + 11, esc($label));
		$y += $bh + 4;
	}
	$y += 10;
}
my $H = $y + 10;
open($o, '>', "$out/results.svg") or die "report.pl: $out/results.svg: $!\n";
print $o qq{<svg xmlns="http://www.w3.org/2000/svg" width="$W" height="$H" viewBox="0 0 $W $H" font-family="sans-serif" font-size="12">\n};
print $o qq{<rect width="$W" height="$H" fill="white"/>\n};
print $o sprintf(qq{<text x="%d" y="20" font-size="15" font-weight="bold">%s</text>\n}, $lx,
	esc("Kiln vs Linux on identical QEMU guests ($meta{accel}, -smp $meta{smp}, -m $meta{mem}) — medians"));
print $o sprintf(qq{<text x="%d" y="40" fill="#555">%s</text>\n}, $lx,
	esc("$meta{date} · $meta{host_cpu} · QEMU $meta{qemu} · BENCH=$meta{mode}, $meta{rounds} round(s) × $meta{seconds} s · bars scaled to the best in each group"));
print $o $body, "</svg>\n";
close $o;
