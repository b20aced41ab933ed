# What the server has now, in one round trip: `@@sp NAME` sections, read by server.parse_probe.
# Args: Squid's configuration directory, then the managed files to send back (mode, owners, mtime, base64).
conf_dir=$1; shift
sec() { printf '\n@@sp %s\n' "$1"; }
sec os; cat @OS_RELEASE@ 2>/dev/null
sec arch; dpkg --print-architecture 2>/dev/null || uname -m
sec free; df -Pk "$conf_dir" 2>/dev/null | awk 'NR==2 {print $4}' || df -Pk /etc | awk 'NR==2 {print $4}'
sec squid; command -v squid >/dev/null 2>&1 && squid -v 2>/dev/null | head -n 1
sec systemd; [ -d @SYSTEMD_DIR@ ] && echo yes || echo no
sec dpkg-lock
for f in @DPKG_DIR@/lock-frontend @DPKG_DIR@/lock; do
  [ -e "$f" ] || continue
  ino=$(stat -c %i "$f")
  awk -v i="$ino" '{ for (k = 1; k <= NF; k++) { n = split($k, a, ":"); if (n == 3 && a[3] == i) f = 1 } }
    END { exit !f }' @PROC_LOCKS@ && echo held
done
sec running
if command -v squid >/dev/null 2>&1 && squid -k check >/dev/null 2>&1; then echo yes; else echo no; fi
sec enabled
if [ -d @SYSTEMD_DIR@ ]; then systemctl is-enabled squid 2>/dev/null
else ls @RC2_DIR@/S*squid >/dev/null 2>&1 && echo enabled || echo disabled; fi
sec listening
for t in @PROC_NET@/tcp @PROC_NET@/tcp6; do
  [ -r "$t" ] && awk 'NR > 1 && $4 == "0A" { split($2, a, ":"); print a[2] }' "$t"
done
sec backups; ls -1 @BACKUP_ROOT@ 2>/dev/null
sec cachelog; stat -c %s @CACHE_LOG@ 2>/dev/null || echo 0
sec factory; [ -e "$conf_dir/squid.conf.factory" ] && echo yes || echo no
sec now; date +%s
# The proxy-login helper, found where the packages put it (squid3 used /usr/lib/squid3), and the hash
# schemes it verifies: the real helper checks a throwaway password against throwaway hashes of it.
helper=
for h in @SQUID_LIB@/basic_ncsa_auth @SQUID3_LIB@/basic_ncsa_auth; do
  [ -x "$h" ] && { helper=$h; break; }
done
sec helper; echo "$helper"
sec hashes
if [ -n "$helper" ] && t=$(mktemp -d); then
  echo 'probe:@PROBE_BCRYPT@' > "$t/bcrypt"
  echo 'probe:@PROBE_SHA512@' > "$t/sha512"
  for scheme in bcrypt sha512; do  # the helper answers "OK" (Squid 5: "OK ") or "ERR …"
    echo 'probe @PROBE_PASSWORD@' | "$helper" "$t/$scheme" 2>/dev/null | head -n 1 | grep -q '^OK' && echo "$scheme"
  done
  rm -rf "$t"
fi
for p in "$@"; do
  sec "file $p"
  if [ -f "$p" ]; then stat -c '%a %U %G %Y' "$p"; base64 < "$p"; fi
done
