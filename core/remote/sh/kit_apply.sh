#!/bin/sh
# sensorproxy offline kit for @SITE@, made @MADE@.
# Run on the proxy server as root, from the unpacked kit:  sudo sh apply.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "apply.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "run me as root: sudo sh apply.sh"
command -v squid >/dev/null 2>&1 || fail "Squid is not installed; install it first (apt-get install squid)"
grep -Eq '^[[:space:]]*include[[:space:]]+@CONF_DIR@/conf\.d/' @CONF_DIR@/squid.conf 2>/dev/null ||
  fail "@CONF_DIR@/squid.conf does not include @CONF_DIR@/conf.d; use sensorproxy over SSH for this server"
mkdir -p @CONF_DIR@/conf.d
out=$(mktemp) || fail "cannot make a temporary file"
sh "$here/transaction.sh" > "$out" 2>&1
rc=$?
sed -e 's/^@@step \([a-z]*\) running *$/... \1/' -e 's/^@@step \([a-z]*\) \([a-z_]*\) \(..*\)$/[\2] \1: \3/' \
    -e 's/^@@step \([a-z]*\) \([a-z_]*\) *$/[\2] \1/' -e '/^@@time /d' \
    -e 's/^@@log [a-z]* /    /' "$out"
rm -f "$out"
case $rc in
  0) echo "done: Squid serves the sensorproxy rules on port @PORT@" ;;
  @EXIT_REJECTED@) echo "Squid refused the new configuration; the previous files are back and nothing else changed" ;;
  @EXIT_NOT_SERVING@) echo "Squid did not serve the new configuration; the previous files are back" ;;
  *) echo "stopped (exit $rc); see the lines above" ;;
esac
exit $rc
