# shellcheck shell=bash
# The way out to Azure from this server: for each host name (the arguments), all at once, DNS, then TCP
# to port 443 (or to the parent proxy), then TLS with the host name as SNI (through the parent proxy when
# one is set). Each step is given `limit` seconds; a step that fails ends that host's check, so a host
# that never answers costs its timeout once. Uses only what every supported release has: sh, bash (its
# /dev/tcp), getent, coreutils' timeout and date, and OpenSSL's s_client. It runs in bash (`bash -s`):
# its clock ($EPOCHREALTIME, bash 5) times each step without starting a process.
# Before this text come its settings (outbound.check writes them): limit, parent_host, parent_port,
# parent_user, and SENSORPROXY_PARENT_PASSWORD (exported to s_client only, never in its arguments).
# Prints, per host, `@@sp HOST` and then:
#   dns MS ADDRESS…             (no address: the name does not resolve here)
#   tcp ok|refused|timeout MS   (to the first address, or to the parent proxy)
#   tls RC MS, then s_client's own output: the protocol, the certificates the server sent (PEM)
# and last `@@sp now` with the server's clock (seconds since the epoch).
set -u
# now: the time in ms, in $T (a variable, not output: no subshell); bash 4 (Ubuntu 18.04) asks date.
if [ -n "${EPOCHREALTIME:-}" ]; then
  now() { local t=${EPOCHREALTIME/[.,]/}; T=$((10#$t / 1000)); }
else
  now() { T=$(( $(date +%s%N) / 1000000 )); }
fi
work=$(mktemp -d) || exit @EXIT_SCRATCH@
trap 'rm -rf "$work"' EXIT

one() {
  local h=$1 addrs="" a _ t0 target port out
  now; t0=$T
  while read -r a _; do
    case " $addrs " in *" $a "*) ;; *) addrs="$addrs$a " ;; esac
  done < <(timeout "$limit" getent ahosts "$h" 2>/dev/null)
  now; echo "dns $((T - t0)) $addrs"
  if [ -n "$parent_host" ]; then
    target=$parent_host; port=$parent_port
  else
    [ -n "$addrs" ] || return 0
    target=${addrs%% *}; port=443
  fi
  now; t0=$T
  timeout "$limit" bash -c 'exec 3<>"/dev/tcp/$1/$2"' tcp "$target" "$port" 2>/dev/null
  case $? in
    0) now; echo "tcp ok $((T - t0))" ;;
    124) now; echo "tcp timeout $((T - t0))"; return 0 ;;
    *) now; echo "tcp refused $((T - t0))"; return 0 ;;
  esac
  if [ -z "$parent_host" ]; then set --
  elif [ -z "$parent_user" ]; then set -- -proxy "$parent_host:$parent_port"
  else set -- -proxy "$parent_host:$parent_port" -proxy_user "$parent_user" -proxy_pass env:SENSORPROXY_PARENT_PASSWORD
  fi
  now; t0=$T
  out=$(timeout "$limit" openssl s_client -connect "$h:443" -servername "$h" -showcerts "$@" </dev/null 2>&1)
  local rc=$?
  now; echo "tls $rc $((T - t0))"
  printf '%s\n' "$out"
}

i=0
for h in "$@"; do
  i=$((i + 1))
  one "$h" > "$work/$i" 2>&1 &
done
wait
i=0
for h in "$@"; do
  i=$((i + 1))
  printf '\n@@sp %s\n' "$h"
  cat "$work/$i"
done
printf '\n@@sp now\n%s\n' "$(date +%s.%N)"
