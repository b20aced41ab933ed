# Installs Squid from the server's own repositories, without the packages apt merely recommends (on
# bullseye they bring a mail server). Args: how long to wait for the dpkg lock (seconds). When no
# repository can be reached, it says why on a line `unreachable: REASON` and has changed nothing: apt
# fetches every package before it unpacks any.
install_squid() {
  export DEBIAN_FRONTEND=noninteractive LC_ALL=C  # apt's messages in English: they are read below
  out=$(mktemp) || return @EXIT_SCRATCH@
  trap 'rm -f "$out" "$out.rc"' EXIT
  apt_logged -o DPkg::Lock::Timeout="$1" update -q
  rc=$?
  # Every source failed (Err:) and none answered (Hit:/Get:): nothing to install from
  if grep -q '^Err:' "$out" && ! grep -q -E '^(Hit|Get):' "$out"; then
    echo "unreachable: $(why_unreachable "$out")"; return @EXIT_REPO_UNREACHABLE@
  fi
  [ "$rc" -eq 0 ] || return @EXIT_APT_UPDATE@
  apt_logged -o DPkg::Lock::Timeout="$1" install -y -q --no-install-recommends squid && return 0
  if grep -q -E '^E: (Unable to fetch|Failed to fetch|Unable to locate package squid)|has no installation candidate' \
    "$out"; then
    echo "unreachable: $(why_unreachable "$out")"; return @EXIT_REPO_UNREACHABLE@
  fi
  return @EXIT_APT_INSTALL@
}

# apt-get, its output passed on as it comes and kept in $out; returns apt-get's status.
apt_logged() {
  { apt-get "$@" 2>&1; echo $? > "$out.rc"; } | tee "$out"
  return "$(cat "$out.rc")"
}

# Why apt reached no repository, from its output in $1.
why_unreachable() {
  if grep -q -E 'Temporary failure resolving|Could not resolve' "$1"; then echo "the mirror's name does not resolve"
  elif grep -q -E 'Network is unreachable|No route to host' "$1"; then echo "there is no route to the mirror"
  elif grep -q 'timed out' "$1"; then echo "the mirror does not answer"
  elif grep -q 'Connection refused' "$1"; then echo "the mirror refuses connections"
  elif grep -q -E 'Unable to locate package|has no installation candidate' "$1"; then
    echo "none of its package sources offers squid"
  else echo "apt could not download from it"; fi
}
@include detached.sh@
