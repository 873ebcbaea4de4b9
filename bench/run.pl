#!/usr/bin/perl
# run.pl - Kiln's benchmark harness (what `make bench` runs). Boots Kiln's
# webserver image and a Linux guest (Debian's kernel running nginx, then
# Kiln's native variant of the same webserver) in the same QEMU machine
# shape, one at a time, reached over a TAP device from this host with wrk
# and bench/udpload; rounds are interleaved (Kiln, nginx, native, Kiln,
# ...). Then: boot time to the first HTTP 200 on microvm and q35, the
# smallest guest memory that still serves, and the native variant beside
# nginx on this host over loopback (no VM). Raw results go to OUT/raw.tsv
# and OUT/meta.tsv; bench/report.pl turns them into OUT/results.md and
# OUT/results.svg. See docs/benchmarking.md.
#
# Environment (mk/bench.mk sets the paths):
#   BENCH        full (default), quick, smoke (seconds, one round)
#   OUT          output folder;  KILN_ELF  Kiln's webserver image
#   LINUX_DIR    vmlinux, initramfs.cpio.gz, rootfs/ (bench/guest/mkguest.sh)
#   NGINX_BIN    nginx binary for the loopback runs;  NATIVE  native webserver
#   UDPLOAD      bench/udpload binary
#   SMP, MEM     guest vCPUs (default 1) and memory (default 256M)
#   ACCEL        kvm or tcg (default: kvm with kvm_intel/kvm_amd, else tcg)
#   BENCH_TAP    TAP device (default kiln-bench0); BENCH_NET 10.81.N (default 10.81.0)
#   BENCH_ROUNDS, BENCH_SECONDS, BENCH_BOOTS   override the mode's numbers
#   BENCH_SERVERS  comma list among kiln,linux-nginx,linux-native,host-native,host-nginx
#   BENCH_WORKLOADS  comma list of workload ids (health128, health256, newconn,
#                compute100, download, upload, udp); default all
#   WRK_THREADS  wrk threads (default 1)
# Exit status: 0 done, 1 error, 77 skipped (not root, no /dev/net/tun, no wrk).
use strict;
use warnings;
use POSIX qw(:sys_wait_h strftime);
use Time::HiRes qw(time sleep);
use IO::Socket::INET;
use IO::Select;
use File::Basename qw(dirname);
use File::Path qw(make_path);
use File::Find;
use Cwd qw(abs_path);

my $mode = $ENV{BENCH} || 'full';
my %MODES = (
	full  => { rounds => 3, dur => 10, boots => 10, mem => 1, warm => 2 },
	quick => { rounds => 3, dur => 3,  boots => 5,  mem => 1, warm => 1 },
	smoke => { rounds => 1, dur => 1,  boots => 1,  mem => 0, warm => 0 },
);
die "run.pl: BENCH must be full, quick or smoke\n" unless $MODES{$mode};
my %M = %{ $MODES{$mode} };
$M{rounds} = $ENV{BENCH_ROUNDS} if $ENV{BENCH_ROUNDS};
$M{dur} = $ENV{BENCH_SECONDS} if $ENV{BENCH_SECONDS};
$M{boots} = $ENV{BENCH_BOOTS} if defined $ENV{BENCH_BOOTS};

my $here = abs_path(dirname(__FILE__));
my $OUT = $ENV{OUT} or die "run.pl: OUT not set\n";
make_path($OUT);
# Absolute paths: nginx resolves relative ones against its prefix.
sub absp { my $p = shift; return $p && -e $p ? abs_path($p) : $p; }
$OUT = absp($OUT);
$ENV{$_} = absp($ENV{$_}) for grep { $ENV{$_} } qw(KILN_ELF LINUX_DIR NATIVE NGINX_BIN UDPLOAD);
my $KILN = $ENV{KILN_ELF} || '';
my $LINUX = $ENV{LINUX_DIR} || '';
my $NATIVE = $ENV{NATIVE} || '';
my $NGINX = $ENV{NGINX_BIN} || '';
my $UDPLOAD = $ENV{UDPLOAD} or die "run.pl: UDPLOAD not set\n";
my $SMP = $ENV{SMP} || 1;
my $MEM = $ENV{MEM} || '256M';
my $TAP = $ENV{BENCH_TAP} || 'kiln-bench0';
my $NET = $ENV{BENCH_NET} || '10.81.0';
my ($GW, $IP) = ("$NET.1", "$NET.2");
my $MAC = '52:54:00:12:34:56';
my $WRK_T = $ENV{WRK_THREADS} || 1;
my $HOST_PORT_OFFSET = 18000;    # loopback runs: http on 18080, udp echo on 18007
my $HZ = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;

sub skip { print "bench: skipped: $_[0]\n"; exit 77; }
skip('needs root for a TAP device') if $> != 0;
skip('no /dev/net/tun') unless -c '/dev/net/tun';
skip('wrk not installed') unless grep { -x "$_/wrk" } split /:/, $ENV{PATH};
die "run.pl: BENCH_TAP must be kiln-bench*\n" unless $TAP =~ /^kiln-bench[0-9a-z]{0,5}$/;
die "run.pl: BENCH_NET must be in 10.81.0.0/16\n" unless $NET =~ /^10\.81\.\d{1,3}$/;

my $ACCEL = $ENV{ACCEL};
if (!$ACCEL) {
	$ACCEL = ((-d '/sys/module/kvm_intel' || -d '/sys/module/kvm_amd') && -r '/dev/kvm' && -w '/dev/kvm')
		? 'kvm' : 'tcg';
}
my @ACCEL = $ACCEL eq 'kvm' ? ('-accel', 'kvm', '-cpu', 'host')
	  : $ACCEL eq 'tcg' ? ('-accel', 'tcg,thread=multi', '-cpu', 'max')
	  : die "run.pl: ACCEL must be kvm or tcg\n";

make_path("$OUT/logs");

# ---- what to serve and measure --------------------------------------------
my @vm_servers = ('kiln', 'linux-nginx', 'linux-native');
my @host_servers = ('host-native', 'host-nginx');
my %have = (
	kiln => -f $KILN,
	'linux-nginx' => -f "$LINUX/vmlinux" && -f "$LINUX/initramfs.cpio.gz",
	'linux-native' => $NATIVE && -f "$LINUX/vmlinux" && -x "$LINUX/rootfs/usr/sbin/kiln-native",
	'host-native' => $NATIVE && -x $NATIVE,
	'host-nginx' => $NGINX && -x $NGINX && -d "$LINUX/rootfs/www",
);
my %want = map { $_ => 1 } ($ENV{BENCH_SERVERS} ? split(/,/, $ENV{BENCH_SERVERS}) : (@vm_servers, @host_servers));
my @missing;
for my $s (@vm_servers, @host_servers) {
	next unless $want{$s};
	push @missing, $s unless $have{$s};
}
@vm_servers = grep { $want{$_} && $have{$_} } @vm_servers;
@host_servers = grep { $want{$_} && $have{$_} } @host_servers;

# The download: a file of the webserver's baked site, 64 KiB when it has
# one, else the one closest to 64 KiB (both servers serve the same bytes).
my ($dl_path, $dl_size) = ('/health', 0);
if (-d "$LINUX/rootfs/www") {
	my $www = "$LINUX/rootfs/www";
	my $best;
	find(sub {
		return unless -f $_;
		my $sz = -s _;
		my $d = abs($sz - 65536);
		$best = [$File::Find::name, $sz, $d] if !$best || $d < $best->[2];
	}, $www);
	if ($best) {
		($dl_path, $dl_size) = (substr($best->[0], length $www), $best->[1]);
	}
}
my $post_bytes = $ENV{BENCH_POST_BYTES} || 32768;
$ENV{BENCH_POST_BYTES} = $post_bytes;

my @WORK = (
	{ id => 'health128', label => '/health keep-alive, 128 conns', path => '/health', c => 128 },
	{ id => 'health256', label => '/health keep-alive, 256 conns', path => '/health', c => 256 },
	{ id => 'newconn', label => '/health, new connection per request, 32 conns', path => '/health',
	  c => 32, args => ['-H', 'Connection: close'] },
	{ id => 'compute100', label => '/compute, 100 conns', path => '/compute', c => 100,
	  na => qr/nginx/, why => 'nginx has no /compute (iterated SHA-256)' },
	{ id => 'download', label => sprintf('GET %s (%.1f KiB), 32 conns', $dl_path, $dl_size / 1024),
	  path => $dl_path, c => 32 },
	{ id => 'upload', label => sprintf('POST %d KiB to /api/echo, 32 conns', $post_bytes / 1024),
	  path => '/api/echo', c => 32, args => ['-s', "$here/post.lua"] },
	{ id => 'https128', label => 'HTTPS /health keep-alive, 128 conns', path => '/health', c => 128,
	  tls => 1, na => qr/^host-/, why => 'loopback runs are plain HTTP' },
	{ id => 'httpsnew', label => 'HTTPS /health, new connection (full handshake) per request, 32 conns',
	  path => '/health', c => 32, tls => 1, args => ['-H', 'Connection: close'],
	  na => qr/^host-/, why => 'loopback runs are plain HTTP' },
	{ id => 'httpsdl', label => sprintf('HTTPS GET %s (%.1f KiB), 32 conns', $dl_path, $dl_size / 1024),
	  path => $dl_path, c => 32, tls => 1, na => qr/^host-/, why => 'loopback runs are plain HTTP' },
	{ id => 'udp', label => 'UDP echo, 64 B datagrams, 64 in flight', udp => 1, unit => 'pkt/s',
	  na => qr/nginx/, why => 'nginx does no UDP echo' },
);
@WORK = grep { $_->{id} =~ /^(health128|https128|udp)$/ } @WORK if $mode eq 'smoke';
if ($ENV{BENCH_WORKLOADS}) {
	my %w = map { $_ => 1 } split /,/, $ENV{BENCH_WORKLOADS};
	my @bad = grep { my $id = $_; !grep { $_->{id} eq $id } @WORK } keys %w;
	die "run.pl: unknown BENCH_WORKLOADS: @bad (have: @{[map { $_->{id} } @WORK]})\n" if @bad;
	@WORK = grep { $w{$_->{id}} } @WORK;
}

# ---- processes, TAP, cleanup ------------------------------------------------
my %live;    # pid => what, for cleanup
my $tap_made = 0;

sub stop_pid {
	my ($pid) = @_;
	return unless $pid && $live{$pid};
	kill 'TERM', $pid;
	for (1 .. 50) {
		last if waitpid($pid, WNOHANG) != 0;
		sleep 0.05;
	}
	if (kill(0, $pid) && waitpid($pid, WNOHANG) == 0) {
		kill 'KILL', $pid;
		waitpid($pid, 0);
	}
	delete $live{$pid};
}

sub cleanup {
	stop_pid($_) for keys %live;
	if ($tap_made) {
		system('ip', 'link', 'del', $TAP);
		$tap_made = 0;
	}
}
END { cleanup() }
$SIG{INT} = $SIG{TERM} = sub { print STDERR "bench: interrupted\n"; exit 130; };

sub sh { my @c = @_; system(@c) == 0 or die "run.pl: @c failed\n"; }

sub tap_up {
	if (system("ip link show $TAP >/dev/null 2>&1") == 0) {
		die "run.pl: $TAP exists (another run?); delete it with: ip link del $TAP\n";
	}
	sh('ip', 'tuntap', 'add', 'dev', $TAP, 'mode', 'tap');
	$tap_made = 1;
	if (open(my $f, '>', "/proc/sys/net/ipv6/conf/$TAP/disable_ipv6")) { print $f "1\n"; close $f; }
	sh('ip', 'addr', 'add', "$GW/24", 'dev', $TAP);
	sh('ip', 'link', 'set', $TAP, 'up');
	# The guest's MAC is fixed: no ARP round trip before the first SYN.
	sh('ip', 'neigh', 'replace', $IP, 'lladdr', $MAC, 'dev', $TAP, 'nud', 'permanent');
}

sub host_tsc_khz {
	open(my $f, '<', '/proc/cpuinfo') or return 0;
	while (<$f>) { return int($1 * 1000) if /^cpu MHz\s*:\s*([\d.]+)/; }
	return 0;
}
my $TSC_KHZ = host_tsc_khz();

# The QEMU command line: the same machine for every guest; only the
# kernel, initrd and kernel command line differ.
sub qemu_cmd {
	my ($srv, $machine, $mem, $log) = @_;
	my @c = ('qemu-system-x86_64', '-name', "kiln-bench-$srv,debug-threads=on", @ACCEL,
		'-m', $mem, '-smp', $SMP, '-nodefaults', '-no-user-config', '-nographic', '-no-reboot',
		'-monitor', 'none', '-serial', "file:$log",
		'-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
		'-netdev', "tap,id=n0,ifname=$TAP,script=no,downscript=no,vhost=off");
	my $nic = "netdev=n0,mac=$MAC,rx_queue_size=256,tx_queue_size=256";
	if ($machine eq 'q35') {
		push @c, '-M', 'q35', '-device', 'virtio-rng-pci,disable-legacy=on',
			'-device', "virtio-net-pci,disable-legacy=on,romfile=,$nic";
	} else {
		push @c, '-M', 'microvm,pit=on,pic=off,rtc=on', '-global', 'virtio-mmio.force-legacy=false',
			'-device', 'virtio-rng-device', '-device', "virtio-net-device,$nic";
	}
	if ($srv eq 'kiln') {
		push @c, '-kernel', $KILN, '-append', "ip=$IP/24 gw=$GW log=warn tcp_max_per_peer=4096";
	} else {
		(my $what = $srv) =~ s/^linux-//;
		my $append = "console=ttyS0 quiet panic=-1 virtio_net.napi_tx=0 bench.srv=$what bench.ip=$IP/24 bench.gw=$GW";
		$append .= " tsc_early_khz=$TSC_KHZ" if $machine eq 'microvm' && $TSC_KHZ;
		push @c, '-kernel', "$LINUX/vmlinux", '-initrd', "$LINUX/initramfs.cpio.gz", '-append', $append;
	}
	return @c;
}

sub host_cmd {
	my ($srv, $log) = @_;
	if ($srv eq 'host-native') {
		return ($NATIVE, 'bind=127.0.0.1', "port_offset=$HOST_PORT_OFFSET", "cpus=$SMP", 'log=warn');
	}
	my $pfx = "$OUT/host-nginx";
	make_path("$pfx/tmp");
	open(my $in, '<', "$here/guest/nginx.conf") or die "run.pl: nginx.conf: $!\n";
	open(my $o, '>', "$pfx/nginx.conf") or die "run.pl: $pfx/nginx.conf: $!\n";
	my $port = 80 + $HOST_PORT_OFFSET;
	while (my $l = <$in>) {
		$l =~ s/worker_processes auto;/worker_processes $SMP;/;
		$l =~ s{pid /run/nginx.pid;}{pid $pfx/nginx.pid;};
		$l =~ s{client_body_temp_path /tmp/body;}{client_body_temp_path $pfx/tmp/body;\n\tproxy_temp_path $pfx/tmp/proxy;\n\tfastcgi_temp_path $pfx/tmp/fastcgi;\n\tuwsgi_temp_path $pfx/tmp/uwsgi;\n\tscgi_temp_path $pfx/tmp/scgi;};
		$l =~ s/listen 80 /listen 127.0.0.1:$port /;
		$l =~ s{root /www;}{root $LINUX/rootfs/www;};
		print $o $l;
	}
	close $o;
	return ($NGINX, '-p', $pfx, '-c', "$pfx/nginx.conf", '-e', 'stderr');
}

sub target {
	my ($srv) = @_;
	return $srv =~ /^host-/ ? ('127.0.0.1', 80 + $HOST_PORT_OFFSET, 7 + $HOST_PORT_OFFSET) : ($IP, 80, 7);
}

# One GET /health; true when the answer is 200.
sub probe_200 {
	my ($ip, $port, $timeout) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => $ip, PeerPort => $port, Proto => 'tcp',
		Timeout => $timeout) or return 0;
	$s->autoflush(1);
	print $s "GET /health HTTP/1.1\r\nHost: $ip\r\nConnection: close\r\n\r\n";
	my $sel = IO::Select->new($s);
	my ($buf, $end) = ('', time + 2);
	while ($buf !~ /\r\n/ && time < $end && $sel->can_read($end - time)) {
		my $n = sysread($s, $buf, 4096, length $buf);
		last unless $n;
	}
	close $s;
	return $buf =~ m{^HTTP/1\.[01] 200};
}

# Starts a server; returns { pid, t0, log } or dies.
sub start {
	my ($srv, $machine, $mem, $tag) = @_;
	my $log = "$OUT/logs/$srv-$tag.log";
	my @cmd = $srv =~ /^host-/ ? host_cmd($srv, $log) : qemu_cmd($srv, $machine, $mem, $log);
	if (open(my $cf, '>', "$log.cmd")) {
		print $cf join(' ', map { /[\s,]/ ? "'$_'" : $_ } @cmd), "\n";
		close $cf;
	}
	my $t0 = time;
	my $pid = fork // die "run.pl: fork: $!\n";
	if ($pid == 0) {
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>>', $log);
		open(STDERR, '>>', $log);
		exec(@cmd) or POSIX::_exit(127);
	}
	$live{$pid} = $srv;
	return { pid => $pid, t0 => $t0, log => $log, srv => $srv };
}

# Waits for the first 200 on /health; returns ms since start, or undef
# when the server died or the deadline passed.
sub wait_up {
	my ($h, $deadline) = @_;
	my ($ip, $port) = target($h->{srv});
	while (time - $h->{t0} < $deadline) {
		if (waitpid($h->{pid}, WNOHANG) > 0) {
			delete $live{$h->{pid}};
			return undef;
		}
		return (time - $h->{t0}) * 1000 if probe_200($ip, $port, 0.025);
		sleep 0.005;
	}
	return undef;
}

# ---- CPU accounting ----------------------------------------------------------
# Ticks of every thread of PID (and its child processes, for nginx's and
# the native variant's workers), grouped: vcpu ("CPU n/TCG" or "CPU n/KVM"),
# main (QEMU's main loop, which does the virtio-net backend work without
# vhost), other (QEMU's helper threads) or server (a host process).
sub proc_ticks {
	my ($pid) = @_;
	my %t = (vcpu => 0, main => 0, other => 0, server => 0);
	return \%t unless $pid;
	my @pids = ($pid);
	if (opendir(my $pd, '/proc')) {
		for my $p (grep { /^\d+$/ } readdir $pd) {
			open(my $f, '<', "/proc/$p/stat") or next;
			my $st = <$f> // next;
			push @pids, $p if $st =~ /\)\s+\S+\s+(\d+)/ && $1 == $pid;
		}
	}
	for my $p (@pids) {
		opendir(my $d, "/proc/$p/task") or next;
		for my $tid (grep { /^\d+$/ } readdir $d) {
			open(my $f, '<', "/proc/$p/task/$tid/stat") or next;
			my $st = <$f> // next;
			$st =~ /^\d+ \((.*)\) (.*)$/ or next;
			my ($comm, @f) = ($1, split ' ', $2);
			my $ticks = $f[11] + $f[12];
			my $g = $comm =~ m{^CPU \d+/} ? 'vcpu' : $comm =~ /^qemu-system/ && $tid == $p ? 'main'
			      : $comm =~ /^qemu|^worker|^call_rcu|^IO / ? 'other' : 'server';
			$t{$g} += $ticks;
		}
	}
	return \%t;
}

sub host_ticks {
	open(my $f, '<', '/proc/stat') or return (0, 0);
	my @f = split ' ', scalar <$f>;
	shift @f;
	my $total = 0;
	$total += $_ for @f[0 .. 7];
	return ($total, $f[3] + $f[4]);
}
my $NCPU = do { my $n = 0; open(my $f, '<', '/proc/cpuinfo'); while (<$f>) { $n++ if /^processor/ } $n || 1 };

# Runs a load command while the server PID runs; returns (output, cpu).
sub measured {
	my ($pid, @cmd) = @_;
	my $q0 = proc_ticks($pid);
	my ($ht0, $hi0) = host_ticks();
	my @c0 = times;
	my $w0 = time;
	open(my $p, '-|', @cmd) or die "run.pl: $cmd[0]: $!\n";
	local $/;
	my $out = <$p> // '';
	close $p;
	my $wall = time - $w0;
	my @c1 = times;
	my $q1 = proc_ticks($pid);
	my ($ht1, $hi1) = host_ticks();
	my %cpu;
	$cpu{$_} = ($q1->{$_} - $q0->{$_}) / $HZ / $wall * 100 for keys %$q0;
	$cpu{client} = ($c1[2] + $c1[3] - $c0[2] - $c0[3]) / $wall * 100;
	$cpu{host} = $ht1 > $ht0 ? (1 - ($hi1 - $hi0) / ($ht1 - $ht0)) * 100 : 0;
	# What the rest of the host used meanwhile (other processes, the
	# kernel's softirq work for the TAP device), in % of one core.
	my $ours = 0;
	$ours += $cpu{$_} for qw(client vcpu main other server);
	$cpu{rest} = $cpu{host} * $NCPU - $ours;
	$cpu{rest} = 0 if $cpu{rest} < 0;
	return ($out, \%cpu);
}

sub to_ms {
	my ($v, $u) = @_;
	return $u eq 'us' ? $v / 1000 : $u eq 's' ? $v * 1000 : $u eq 'm' ? $v * 60000 : $v;
}

# The status line of one request like the workload's (GET, or a POST of
# BODY bytes when BODY >= 0): says what the non-2xx answers were.
sub status_of {
	my ($url, $body) = @_;
	$url =~ m{^http://([^/:]+):(\d+)(/.*)$} or return '';
	my ($ip, $port, $path) = ($1, $2, $3);
	my $s = IO::Socket::INET->new(PeerAddr => $ip, PeerPort => $port, Proto => 'tcp', Timeout => 2)
		or return '';
	my $req = $body >= 0
		? "POST $path HTTP/1.1\r\nHost: $ip\r\nContent-Length: $body\r\nConnection: close\r\n\r\n" . ('k' x $body)
		: "GET $path HTTP/1.1\r\nHost: $ip\r\nConnection: close\r\n\r\n";
	local $SIG{PIPE} = 'IGNORE';
	syswrite($s, $req);
	my $sel = IO::Select->new($s);
	my $buf = '';
	sysread($s, $buf, 512) if $sel->can_read(3);
	close $s;
	return $buf =~ m{^HTTP/1\.[01] (\d{3})} ? $1 : '';
}

sub run_wrk {
	my ($pid, $url, $c, $dur, @args) = @_;
	my $t = $WRK_T < $c ? $WRK_T : $c;
	my ($out, $cpu) = measured($pid, 'wrk', "-t$t", "-c$c", "-d${dur}s", '--latency', '--timeout', '5s', @args, $url);
	my %r = (cpu => $cpu, raw => $out);
	my ($n, $secs) = (0, $dur);
	if ($out =~ /(\d+) requests in ([\d.]+)(us|ms|s|m)\b/) { ($n, $secs) = ($1, to_ms($2, $3) / 1000); }
	my $bad = $out =~ /Non-2xx or 3xx responses: (\d+)/ ? $1 : 0;
	my @sock = $out =~ /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/;
	$r{value} = $secs > 0 ? ($n - $bad) / $secs : 0;
	$r{p50} = $out =~ /^\s+50%\s+([\d.]+)(us|ms|s|m)\b/m ? to_ms($1, $2) : '';
	$r{p99} = $out =~ /^\s+99%\s+([\d.]+)(us|ms|s|m)\b/m ? to_ms($1, $2) : '';
	my @err;
	if ($bad) {
		my $st = status_of($url, grep({ /post\.lua$/ } @args) ? $post_bytes : -1);
		push @err, "$bad non-2xx" . ($st ? " (status $st)" : '');
	}
	push @err, sprintf('socket errors c/r/w/t %d/%d/%d/%d', @sock) if @sock && $sock[0] + $sock[2] + $sock[3] > 0;
	$r{err} = join('; ', @err);
	$r{value} = 0 unless $n;
	return \%r;
}

sub run_udp {
	my ($pid, $ip, $port, $dur) = @_;
	my ($out, $cpu) = measured($pid, $UDPLOAD, '-d', $dur, '-s', 64, '-w', 64, '-p', $port, $ip);
	my %r = (cpu => $cpu, raw => $out, p50 => '', p99 => '', err => '');
	$r{value} = $out =~ /: ([\d.]+) pkt\/s/ ? $1 : 0;
	if ($out =~ /sent (\d+) echoed (\d+) lost (\d+) bad (\d+)/ && $1 > 0) {
		$r{err} = sprintf('%.1f%% lost', $3 / $1 * 100) if $3 / $1 > 0.01;
		$r{err} .= ($r{err} ? '; ' : '') . "$4 bad" if $4;
	}
	return \%r;
}

# ---- results -----------------------------------------------------------------
open(my $RAW, '>', "$OUT/raw.tsv") or die "run.pl: $OUT/raw.tsv: $!\n";
print $RAW join("\t", qw(round server workload value unit p50_ms p99_ms errors cpu_client cpu_vcpu cpu_main cpu_other cpu_server cpu_rest cpu_host)), "\n";
sub record {
	my ($round, $srv, $wl, $unit, $r) = @_;
	my $c = $r->{cpu} || {};
	print $RAW join("\t", $round, $srv, $wl, sprintf('%.1f', $r->{value} // 0), $unit,
		map({ defined $_ && $_ ne '' ? sprintf('%.3f', $_) : '' } $r->{p50}, $r->{p99}),
		$r->{err} // '',
		map({ defined $_ ? sprintf('%.0f', $_) : '' } @$c{qw(client vcpu main other server rest host)})), "\n";
	$RAW->flush;
}

sub meta_line { my ($k, $v) = @_; print {$_[2]} "$k\t$v\n"; }

sub qemu_version { my $v = `qemu-system-x86_64 --version 2>/dev/null`; $v =~ /version (\S+)/ ? $1 : 'unknown'; }
sub cpu_model {
	open(my $f, '<', '/proc/cpuinfo') or return 'unknown';
	while (<$f>) { return $1 if /^model name\s*:\s*(.*)$/; }
	return 'unknown';
}
sub wrk_version { my $v = `wrk -v 2>&1`; $v =~ /^(wrk \S+)/ ? $1 : 'wrk'; }

open(my $META, '>', "$OUT/meta.tsv") or die "run.pl: $OUT/meta.tsv: $!\n";
my %meta = (
	date => strftime('%Y-%m-%d %H:%M %Z', localtime), mode => $mode, rounds => $M{rounds},
	seconds => $M{dur}, host_cpu => cpu_model() . " ($NCPU CPUs)", accel => $ACCEL,
	accel_flags => "@ACCEL", qemu => qemu_version(), smp => $SMP, mem => $MEM, wrk => wrk_version(),
	wrk_threads => $WRK_T, kernel => (glob("$LINUX/../deb/root/boot/vmlinuz-*"))[0] // '',
	missing => join(',', @missing), download => "$dl_path $dl_size",
);
$meta{kernel} =~ s{.*/vmlinuz-}{};
print $META "$_\t$meta{$_}\n" for sort keys %meta;
print $META "workload\t$_->{id}\t$_->{label}\n" for @WORK;
# which servers cannot run a workload: its reason and their pattern
for my $w (@WORK) { print $META "na\t$w->{id}\t$w->{why}\t$w->{na}\n" if $w->{why}; }
$META->flush;

print "bench: $mode: $M{rounds} round(s) of $M{dur} s per workload; $ACCEL, -smp $SMP, -m $MEM; "
	. "servers: @vm_servers" . (@host_servers ? "; loopback: @host_servers" : '') . "\n";
print "bench: not measured (not built): @missing\n" if @missing;

tap_up() if @vm_servers;
my $boot_deadline = $ACCEL eq 'tcg' ? 60 : 30;

# One server for one round: boot, warm up, every workload, stop.
sub serve_round {
	my ($round, $srv) = @_;
	my $h = start($srv, 'q35', $MEM, "r$round");
	my $up = wait_up($h, $boot_deadline);
	if (!defined $up) {
		print "  $srv: did not answer /health within $boot_deadline s (log: $h->{log})\n";
		stop_pid($h->{pid});
		record($round, $srv, $_->{id}, $_->{unit} || 'req/s', { value => 0, err => 'server did not come up' })
			for @WORK;
		return 0;
	}
	record($round, $srv, $srv =~ /^host/ ? 'start' : 'boot-q35-run', 'ms', { value => $up });
	my ($ip, $port, $uport) = target($srv);
	my $url = "http://$ip:$port";
	run_wrk($h->{pid}, "$url/health", 32, $M{warm}) if $M{warm};
	my $dead = 0;
	for my $w (@WORK) {
		my $unit = $w->{unit} || 'req/s';
		if ($w->{na} && $srv =~ $w->{na}) {
			next;
		}
		if ($dead) {
			record($round, $srv, $w->{id}, $unit, { value => 0, err => 'server stopped answering' });
			next;
		}
		my $r = $w->{udp} ? run_udp($h->{pid}, $ip, $uport, $M{dur})
		      : run_wrk($h->{pid}, ($w->{tls} ? "https://$ip:443" : $url) . $w->{path}, $w->{c},
				$M{dur}, @{ $w->{args} || [] });
		record($round, $srv, $w->{id}, $unit, $r);
		my $c = $r->{cpu};
		printf "  %-13s %-11s %10.0f %-5s p50 %s p99 %s  cpu%%: client %d, %s, rest %d%s\n",
			$srv, $w->{id}, $r->{value}, $unit,
			$r->{p50} eq '' ? '-' : sprintf('%.2fms', $r->{p50}),
			$r->{p99} eq '' ? '-' : sprintf('%.2fms', $r->{p99}), $c->{client},
			$srv =~ /^host/ ? sprintf('server %d', $c->{server}) : sprintf('vcpu %d, qemu main %d', $c->{vcpu}, $c->{main}),
			$c->{rest}, $r->{err} ? "  [$r->{err}]" : '';
		if (open(my $lf, '>>', $h->{log} . '.load')) { print $lf "== $w->{id}\n$r->{raw}\n"; }
		# Nothing answered: if /health is gone too, skip the rest of
		# this round rather than wait out every workload's timeouts.
		if (!$r->{value} && !probe_200($ip, $port, 2)) {
			$dead = 1;
			print "  $srv: stopped answering; the rest of this round is skipped (log: $h->{log})\n";
		}
	}
	stop_pid($h->{pid});
	return 1;
}

my $ok = 0;
for my $round (1 .. $M{rounds}) {
	print "round $round/$M{rounds}\n";
	$ok += serve_round($round, $_) for @vm_servers, @host_servers;
}

# ---- boot time to the first HTTP 200 --------------------------------------------
if ($M{boots} && $mode ne 'smoke') {
	print "boot time to the first 200 (median of $M{boots})\n";
	for my $machine ('microvm', 'q35') {
		for my $i (1 .. $M{boots}) {
			for my $srv (grep { $_ ne 'linux-native' } @vm_servers) {
				my $h = start($srv, $machine, $MEM, "boot-$machine-$i");
				my $ms = wait_up($h, $boot_deadline);
				stop_pid($h->{pid});
				record($i, $srv, "boot-$machine", 'ms', { value => $ms // 0, err => defined $ms ? '' : 'no answer' });
				printf "  %-12s %-8s run %2d: %s\n", $srv, $machine, $i, defined $ms ? sprintf('%.0f ms', $ms) : 'no answer';
			}
		}
	}
}

# ---- the smallest guest memory that still serves ----------------------------
# Boots at each size (binary search over the list) and requires /health
# to answer under 128 keep-alive connections for a second.
if ($M{mem}) {
	my @sizes = (4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256);
	for my $srv (grep { $_ ne 'linux-native' } @vm_servers) {
		my ($lo, $hi) = (0, $#sizes);
		my %res;
		my $serves = sub {
			my $mb = $sizes[$_[0]];
			return $res{$mb} if defined $res{$mb};
			my $h = start($srv, 'q35', "${mb}M", "mem-$mb");
			my $up = wait_up($h, $srv eq 'kiln' ? 20 : 40);
			my $okm = 0;
			if (defined $up) {
				my $r = run_wrk($h->{pid}, "http://$IP/health", 128, 1);
				$okm = $r->{value} > 0 && !$r->{err};
			}
			stop_pid($h->{pid});
			printf "  %-12s -m %4dM: %s\n", $srv, $mb, $okm ? 'serves' : 'does not serve';
			return $res{$mb} = $okm;
		};
		if (!$serves->($hi)) {
			record(1, $srv, 'mem', 'MiB', { value => 0, err => "does not serve at $sizes[$hi] MiB" });
			next;
		}
		while ($lo < $hi) {
			my $mid = int(($lo + $hi) / 2);
			if ($serves->($mid)) { $hi = $mid; } else { $lo = $mid + 1; }
		}
		record(1, $srv, 'mem', 'MiB', { value => $sizes[$hi] });
	}
}

# ---- image sizes ---------------------------------------------------------------
sub fsize { my $f = shift; return -f $f ? -s $f : 0; }
my %sizes = (
	'kiln' => fsize($KILN),
	'linux-vmlinux' => fsize("$LINUX/vmlinux"),
	'linux-bzImage' => fsize("$LINUX/bzImage"),
	'linux-initramfs' => fsize("$LINUX/initramfs.cpio.gz"),
	'nginx' => fsize("$LINUX/rootfs/usr/sbin/nginx"),
	'native' => fsize("$LINUX/rootfs/usr/sbin/kiln-native"),
);
print $META "size\t$_\t$sizes{$_}\n" for sort keys %sizes;
close $META;
close $RAW;
cleanup();

system('perl', "$here/report.pl", $OUT) == 0 or die "run.pl: report.pl failed\n";
print "bench: $OUT/results.md, $OUT/results.svg\n";
exit($ok ? 0 : 1);
