#!/bin/sh
# deps.sh PKG... - installs the Debian packages that are missing.
# PKG@CMD counts as present when the command CMD exists, whichever package
# brought it (e.g. npm@npm: a Node.js build that ships its own npm).
set -eu
missing=""
for p in "$@"; do
	case $p in
	*@*)
		command -v "${p#*@}" >/dev/null 2>&1 && continue
		p=${p%@*}
		;;
	esac
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
# As root (CI, containers) apt-get runs directly and sudo is not needed;
# otherwise through sudo, which must then exist.
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "deps: missing:$missing - run make deps as root, or install sudo" >&2
		exit 1
	fi
	SUDO=sudo
fi
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
