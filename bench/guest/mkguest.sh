#!/bin/sh
# mkguest.sh OUT DEBROOT SITE_DIRS [NATIVE] - builds the Linux guest the
# benchmark runs nginx and Kiln's native webserver in:
#
#   OUT/vmlinux          Debian's kernel, decompressed from its bzImage
#                        (the method of the kernel's scripts/extract-vmlinux):
#                        an ELF with a PVH note that QEMU boots with -kernel,
#                        skipping the decompressor that is slow under TCG
#   OUT/bzImage          the same kernel as Debian ships it (size report)
#   OUT/initramfs.cpio.gz busybox (static), the virtio modules, nginx and
#                        the libraries it links, bench/guest/init,
#                        bench/guest/nginx.conf, the webserver's site under
#                        /www, and NATIVE (when given) with its libraries
#
# DEBROOT is where bench/fetch-debs.sh unpacked linux-image-amd64,
# busybox-static and nginx. SITE_DIRS is a colon-separated list of the
# folders Kiln bakes into apps/webserver (copied to /www for nginx, so both
# servers serve the same bytes at the same paths). Libraries come from the
# host (the same Debian release as the packages).
set -eu
mkdir -p "$1"; out=$(cd "$1" && pwd)
debroot=$(cd "$2" && pwd)
sites=$3
native=${4:-}
here=$(cd "$(dirname "$0")" && pwd)

mkdir -p "$out"
kver=$(ls "$debroot/lib/modules" | sort | tail -n 1)
[ -n "$kver" ] || { echo "mkguest: no kernel under $debroot/lib/modules" >&2; exit 1; }
vmlinuz=$debroot/boot/vmlinuz-$kver
cp "$vmlinuz" "$out/bzImage"

# --- vmlinux: find the compressed payload in the bzImage and inflate it.
if [ ! -s "$out/vmlinux" ] || [ "$vmlinuz" -nt "$out/vmlinux" ]; then
	tmp=$out/vmlinux.tmp
	rm -f "$tmp"
	# magic number, decompressor (as in scripts/extract-vmlinux)
	for m in 'fd377a585a00:xz -dcq' '1f8b0800:gzip -dcq' '28b52ffd:zstd -dcq' \
		 '894c5a4f:lzop -dcq' '425a68:bzip2 -dcq' '5d000000:xz -dcq --format=lzma'; do
		magic=${m%%:*}
		cmd=${m#*:}
		for off in $(perl -e '
				open(my $f, "<:raw", $ARGV[0]) or die; local $/; my $d = <$f>;
				my $m = pack("H*", $ARGV[1]); my $p = 0;
				while (($p = index($d, $m, $p)) >= 0) { print "$p\n"; $p++; }' "$vmlinuz" "$magic"); do
			tail -c +$((off + 1)) "$vmlinuz" | $cmd > "$tmp" 2>/dev/null || true
			if [ "$(head -c 4 "$tmp" | od -A n -t x1 | tr -d ' ')" = 7f454c46 ]; then
				mv "$tmp" "$out/vmlinux"
				break 2
			fi
		done
	done
	[ -s "$out/vmlinux" ] || { echo "mkguest: no ELF payload found in $vmlinuz" >&2; exit 1; }
fi

# --- the initramfs tree
root=$out/rootfs
rm -rf "$root"
mkdir -p "$root/bin" "$root/sbin" "$root/etc" "$root/proc" "$root/sys" "$root/dev" \
	"$root/tmp" "$root/run" "$root/var/log/nginx" "$root/var/lib/nginx" "$root/lib/modules" \
	"$root/www" "$root/usr/sbin"
cp "$debroot/bin/busybox" "$root/bin/busybox"
for a in sh mount insmod ip cat echo sleep mkdir ls ps kill grep sed tr cut free poweroff; do
	ln -sf busybox "$root/bin/$a"
done

# virtio modules in dependency order (each .ko's modinfo "depends=")
kmod=$debroot/lib/modules/$kver/kernel
for m in net/core/failover drivers/net/net_failover drivers/virtio/virtio_ring \
	 drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev \
	 drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci \
	 drivers/virtio/virtio_mmio drivers/net/virtio_net; do
	if [ -f "$kmod/$m.ko" ]; then
		cp "$kmod/$m.ko" "$root/lib/modules/"
	elif [ -f "$kmod/$m.ko.xz" ]; then
		xz -dc "$kmod/$m.ko.xz" > "$root/lib/modules/$(basename "$m").ko"
	else
		echo "mkguest: $m.ko not in $kmod" >&2; exit 1
	fi
	echo "$(basename "$m").ko" >> "$root/lib/modules/order"
done

# copy_elf FILE DEST: a program and every shared library it loads.
copy_elf() {
	mkdir -p "$root$(dirname "$2")"
	cp "$1" "$root$2"
	ldd "$1" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p' |
	while read -r lib; do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}
copy_elf "$debroot/usr/sbin/nginx" /usr/sbin/nginx
[ -d "$root/lib64" ] || [ ! -d /lib64 ] || { mkdir -p "$root/lib64"; cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"; }
if [ -n "$native" ] && [ -x "$native" ]; then
	copy_elf "$native" /usr/sbin/kiln-native
fi
cp "$here/nginx.conf" "$root/etc/nginx.conf"
# nginx's TLS certificate: the one Kiln's image serves by default
cp "${TLS_PEM:?TLS_PEM: the certificate nginx serves}" "$root/etc/kiln-tls.pem"
cp "${TLS_KEY_PEM:?TLS_KEY_PEM: its key}" "$root/etc/kiln-tls.key"
cp "$here/init" "$root/init"
chmod +x "$root/init"
echo 'root:x:0:0:root:/:/bin/sh' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >> "$root/etc/passwd"

# the site, as Kiln bakes it
old_ifs=$IFS
IFS=:
for d in $sites; do
	[ -d "$d" ] && cp -R "$d/." "$root/www/"
done
IFS=$old_ifs

(cd "$root" && find . | "$debroot/bin/busybox" cpio -o -H newc 2>/dev/null) | gzip -1 > "$out/initramfs.cpio.gz"
echo "mkguest: $out/vmlinux ($(wc -c < "$out/vmlinux") bytes), initramfs $(wc -c < "$out/initramfs.cpio.gz") bytes${native:+, native $(basename "$native")}"
