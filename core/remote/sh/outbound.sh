# The way out to Azure from this server: for each host name (the arguments), all at once, DNS, then TCP
# to port 443 (or to the parent proxy), then TLS with the host name as SNI (through the parent proxy when
# one is set). Each step is given `limit` seconds; a step that fails ends that host's check, so a host
# that never answers costs its timeout once. Uses only what every supported release has: sh, bash (its
# /dev/tcp), getent, coreutils' timeout and date, and OpenSSL's s_client.
# Before this text come its settings (outbound.check writes them): limit, parent_host, parent_port,
# parent_user, and SENSORPROXY_PARENT_PASSWORD (exported to s_client only, never in its arguments).
# Prints, per host, `@@sp HOST` and then:
#   dns MS ADDRESS…             (no address: the name does not resolve here)
#   tcp ok|refused|timeout MS   (to the first address, or to the parent proxy)
#   tls RC MS, then s_client's own output: the protocol, the certificates the server sent (PEM)
# and last `@@sp now` with the server's clock (seconds since the epoch).
set -u
ms() { echo $(( $(date +%s%N) / 1000000 )); }
work=$(mktemp -d) || exit @EXIT_SCRATCH@
trap 'rm -rf "$work"' EXIT

one() {
  h=$1
  t0=$(ms)
  addrs=$(timeout "$limit" getent ahosts "$h" 2>/dev/null | awk '!seen[$1]++ { printf "%s ", $1 }')
  echo "dns $(( $(ms) - t0 )) $addrs"
  if [ -n "$parent_host" ]; then
    target=$parent_host; port=$parent_port
  else
    [ -n "$addrs" ] || return 0
    target=${addrs%% *}; port=443
  fi
  t0=$(ms)
  timeout "$limit" bash -c 'exec 3<>"/dev/tcp/$1/$2"' tcp "$target" "$port" 2>/dev/null
  case $? in
    0) echo "tcp ok $(( $(ms) - t0 ))" ;;
    124) echo "tcp timeout $(( $(ms) - t0 ))"; return 0 ;;
    *) echo "tcp refused $(( $(ms) - t0 ))"; return 0 ;;
  esac
  if [ -z "$parent_host" ]; then set --
  elif [ -z "$parent_user" ]; then set -- -proxy "$parent_host:$parent_port"
  else set -- -proxy "$parent_host:$parent_port" -proxy_user "$parent_user" -proxy_pass env:SENSORPROXY_PARENT_PASSWORD
  fi
  t0=$(ms)
  out=$(timeout "$limit" openssl s_client -connect "$h:443" -servername "$h" -showcerts "$@" </dev/null 2>&1)
  echo "tls $? $(( $(ms) - t0 ))"
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
