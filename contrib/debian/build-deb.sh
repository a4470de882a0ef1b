#!/bin/sh
# Build a Debian package of bbsmail from a built binary, without debhelper:
#   contrib/debian/build-deb.sh BINARY VERSION ARCH OUTDIR
# `make deb` runs it. The package installs the binary, the systemd unit
# (with the tree at /var/lib/bbsmail), a man page made from the usage
# text, the contrib files and docs, and creates the bbsmail system user.
set -eu
bin=$1 version=$2 arch=$3 out=$4
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
root=$(mktemp -d)
chmod 0755 "$root"
trap 'rm -rf "$root"' EXIT

install -d "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/usr/share/man/man8" \
	"$root/usr/share/doc/bbsmail" "$root/usr/share/bbsmail/fail2ban/filter.d" "$root/usr/share/bbsmail/fail2ban/jail.d"
install -m 0755 "$bin" "$root/usr/bin/bbsmail"

# The packaged unit keeps the BBS tree where Debian keeps service state.
sed -e 's|^Environment=SBBSCTRL=/sbbs/ctrl$|Environment=SBBSCTRL=/var/lib/bbsmail/ctrl|' \
	-e 's|^ReadWritePaths=/sbbs$|ReadWritePaths=/var/lib/bbsmail|' \
	"$top/contrib/systemd/bbsmail.service" > "$root/lib/systemd/system/bbsmail.service"
grep -q '^ReadWritePaths=/var/lib/bbsmail$' "$root/lib/systemd/system/bbsmail.service"

# bbsmail(8) from the usage text, so the two never disagree.
{
	printf '.TH BBSMAIL 8 "" "bbsmail %s" "System Administration"\n' "$version"
	printf '.SH NAME\nbbsmail \\- mail server for bulletin board systems (SMTP, POP3, SendMail)\n'
	printf '.SH SYNOPSIS\n.nf\n'
	"$bin" help | sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' -e 's/^'"'"'/\\\&'"'"'/'
	printf '.fi\n.SH FILES\n.TP\n/var/lib/bbsmail/ctrl\nthe control directory of the packaged service (sbbs.ini, mailproc.ini, the .can and .cfg lists), created on the first start\n'
	printf '.TP\n/usr/share/doc/bbsmail\nthe documentation; operations.md covers the service, backups and metrics\n'
	printf '.SH SEE ALSO\nsystemctl(1), journalctl(1), fail2ban-regex(1)\n'
} | gzip -9n > "$root/usr/share/man/man8/bbsmail.8.gz"

install -m 0644 "$top/contrib/fail2ban/filter.d/bbsmail.conf" "$root/usr/share/bbsmail/fail2ban/filter.d/"
install -m 0644 "$top/contrib/fail2ban/jail.d/bbsmail.conf" "$root/usr/share/bbsmail/fail2ban/jail.d/"
install -m 0644 "$top/contrib/systemd/bbsmail.service" "$root/usr/share/bbsmail/"
install -m 0644 "$top/README.md" "$top"/docs/*.md "$root/usr/share/doc/bbsmail/"
install -m 0755 "$here/postinst" "$here/postrm" "$root/DEBIAN/"

size=$(du -sk "$root/usr" "$root/lib" | awk '{s += $1} END {print s}')
cat > "$root/DEBIAN/control" <<CONTROL
Package: bbsmail
Version: $version
Architecture: $arch
Maintainer: bbsmail developers <sysop@localhost>
Installed-Size: $size
Depends: adduser | passwd
Section: mail
Priority: optional
Description: mail server for bulletin board systems
 bbsmail re-creates the Synchronet BBS Mail Server: SMTP, submission and
 POP3 for the users of a BBS, its routing, anti-spam lists, external mail
 processors and a SendMail queue, configured with Synchronet's files.
CONTROL

mkdir -p "$out"
dpkg-deb --root-owner-group -Z"${DEB_COMPRESS:-xz}" --build "$root" "$out/bbsmail_${version}_${arch}.deb" >/dev/null
echo "$out/bbsmail_${version}_${arch}.deb"
