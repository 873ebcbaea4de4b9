#!/bin/sh
# fetch-debs.sh DIR PKG... - downloads Debian packages with `apt-get
# download` into DIR/debs and unpacks each into DIR/root (dpkg-deb -x): the
# Linux guest's kernel, busybox and nginx come from Debian this way without
# being installed on the host (no maintainer scripts, no host services).
# A meta package (linux-image-amd64) is replaced by the package it depends
# on. Packages already unpacked are skipped; DIR/stamp is touched at the end.
set -eu
dir=$1
shift
mkdir -p "$dir/debs" "$dir/root"
for p in "$@"; do
	# A meta package such as linux-image-amd64 names the real one.
	real=$(apt-cache depends "$p" 2>/dev/null | sed -n 's/^  Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n 1)
	[ -n "$real" ] && p=$real
	[ -e "$dir/debs/$p.unpacked" ] && continue
	if ! ls "$dir/debs/${p}_"*.deb >/dev/null 2>&1; then
		if ! apt-cache show "$p" >/dev/null 2>&1; then
			apt-get update -qq
		fi
		echo "bench: downloading Debian package $p"
		(cd "$dir/debs" && apt-get download -qq -o APT::Sandbox::User=root "$p")
	fi
	dpkg-deb -x "$dir/debs/${p}_"*.deb "$dir/root"
	touch "$dir/debs/$p.unpacked"
done
touch "$dir/stamp"
