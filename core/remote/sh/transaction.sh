# One change on the server in one script, so no network failure can leave it half done: back up, stage
# and rename, `squid -k parse` (restore on failure), enable, start or reconfigure, wait until Squid serves
# (restore, and bring the old configuration back, on failure).
# Before this text come its settings (server.transaction writes them): conf_dir, squid_conf,
# backup_set ("": named by the time), do_enable and do_activate (yes/no), port, old_port ("": read from
# the files it replaces), login_helper, login_file and login_line ("": no proxy login to prove). After
# it: one `want` or `drop` per managed file, then `main`.
# It prints `@@step NAME STATUS [WHAT]` and `@@log NAME TEXT` lines, and `@@time SECONDS` when the new
# configuration took effect; each failure has its own exit code (shell.Exit).
set -u
trap '' HUP PIPE   # a dropped SSH connection must not stop a change half-way
@include run_dir.sh@
step() { printf '@@step %s %s %s\n' "$1" "$2" "${3:-}"; }  # name, status, what happened
log() { printf '@@log %s %s\n' "$1" "$2"; }
cache_log=@CACHE_LOG@

make_run_dir
exec 8>>@CHANGE_LOCK@; flock 8
stage=$(mktemp -d @RUN_DIR@/stage.XXXXXX) || exit @EXIT_STAGE@
trap 'rm -rf "$stage"' EXIT
: > "$stage/list"

# want N MODE GROUP PATH, the new content on stdin; drop N PATH: the file goes. N numbers the file in
# the backup set. Kept in the root-only run directory until main puts them in place.
want() {
  cat > "$stage/$1" && printf '%s %s %s %s\n' "$1" "$2" "$3" "$4" >> "$stage/list" ||
    { step write failed; exit @EXIT_WRITE@; }
}
drop() { printf '%s - - %s\n' "$1" "$2" >> "$stage/list" || { step write failed; exit @EXIT_WRITE@; }; }

backup() {
  step backup running
  set_dir=@BACKUP_ROOT@/${backup_set:-$(date -u +%Y%m%dT%H%M%S.%NZ)}
  factory="$squid_conf.factory"
  { [ -e "$factory" ] || [ ! -e "$squid_conf" ] || cp -p "$squid_conf" "$factory"; } &&
    mkdir -p -m 0700 @BACKUP_ROOT@ && mkdir -m 0700 "$set_dir" && : > "$set_dir/manifest" ||
    { step backup failed; exit @EXIT_BACKUP@; }
  while read -r n _mode _group p; do
    if [ -e "$p" ]; then cp -p "$p" "$set_dir/$n" && echo "present $n $p"; else echo "absent $n $p"; fi \
      >> "$set_dir/manifest" || { step backup failed; exit @EXIT_BACKUP@; }
  done < "$stage/list"
  ls -1 @BACKUP_ROOT@ | head -n -@KEEP_BACKUPS@ | while read -r old; do rm -rf @BACKUP_ROOT@/"$old"; done
  step backup changed "backup in $set_dir"
}

# Put back the files of the backup set.
restore() {
  while read -r state i p; do
    if [ "$state" = present ]; then
      t=$(mktemp "$(dirname "$p")/.sensorproxy-tmp.XXXXXX") && cp -p "$set_dir/$i" "$t" && mv -f "$t" "$p"
    else
      rm -f "$p"
    fi
  done < "$set_dir/manifest"
}

# Each new file beside its target (same file system), owned and moded, then all renamed into place.
write_files() {
  step write running
  find "$conf_dir" "$conf_dir/conf.d" -maxdepth 1 -name '.sensorproxy-tmp.*' -type f -delete 2>/dev/null
  : > "$stage/moves"
  while read -r n mode group p; do
    if [ "$mode" = - ]; then echo "- $p" >> "$stage/moves"; continue; fi
    t=$(mktemp "$(dirname "$p")/.sensorproxy-tmp.XXXXXX") || { unstage; step write failed; exit @EXIT_WRITE@; }
    echo "$t $p" >> "$stage/moves"
    cp "$stage/$n" "$t" && chown "root:$group" "$t" && chmod "$mode" "$t" ||
      { unstage; step write failed; exit @EXIT_WRITE@; }
  done < "$stage/list"
  move_all || { restore; step write rolled_back; exit @EXIT_WRITE@; }
  step write changed
}
unstage() { while read -r t _p; do [ "$t" = - ] || rm -f "$t"; done < "$stage/moves"; }
move_all() {
  while read -r t p; do
    if [ "$t" = - ]; then rm -f "$p" || return 1; else mv -f "$t" "$p" || return 1; fi
  done < "$stage/moves"
}

validate() {
  step validate running
  parsed=$(squid -k parse -f "$squid_conf" 2>&1); rc=$?
  if [ $rc -ne 0 ] || printf '%s\n' "$parsed" | grep -qE 'FATAL|Bungled'; then
    printf '%s\n' "$parsed" | grep -E 'FATAL|Bungled|ERROR' | tail -n 20 | sed 's/^/@@log validate /'
    restore; step write rolled_back; step validate failed; exit @EXIT_REJECTED@
  fi
  printf '%s\n' "$parsed" | grep -E 'ERROR|WARNING' | sed 's/^/@@log validate /'
  step validate changed "squid -k parse accepted it"
}

enable_at_boot() {
  step enable running
  if [ -d @SYSTEMD_DIR@ ]; then systemctl enable squid 2>&1
  # sysvinit: back to the package's own links (start in 2-5), whatever state they were left in
  else { update-rc.d -f squid remove && update-rc.d squid defaults; } 2>&1; fi | sed 's/^/@@log enable /'
  step enable changed "enabled at boot"
}

# Called with fds 8 and 9 closed: a Squid started here would inherit the change lock and (run under the
# server lock, see lock.sh) the server lock, and hold them for as long as it runs.
start_or_reload() {
  if squid -k check >/dev/null 2>&1; then squid -k reconfigure
  elif [ -d @SYSTEMD_DIR@ ]; then systemctl start squid
  else service squid start >/dev/null 2>&1 || true; fi
}
log_size() { stat -c %s "$cache_log" 2>/dev/null || echo 0; }

# Serving means: the process answers, the port listens, and (where cache.log exists) Squid logged that
# it accepts connections on that port after `offset`. A FATAL line since then fails at once.
serving() {
  port=$1; offset=$2; hex=$(printf '%04X' "$port"); n=0
  while [ $n -lt 150 ]; do
    new=$(tail -c +"$((offset + 1))" "$cache_log" 2>/dev/null)
    why=$(printf '%s\n' "$new" | grep -E 'FATAL|Bungled' | tail -n 1)
    [ -z "$why" ] || return 1
    if squid -k check >/dev/null 2>&1 &&
       cat @PROC_NET@/tcp @PROC_NET@/tcp6 2>/dev/null |
         awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' &&
       { [ ! -f "$cache_log" ] || printf '%s\n' "$new" | grep -q "Accepting HTTP Socket connections.*:$port remote="; }
    then return 0; fi
    n=$((n + 1)); sleep 0.1
  done
  why="Squid is not serving on port $port"
  return 1
}

# The real helper, reading the real password file, answers OK for the proxy user (both %-encoded, as
# Squid hands them over); printf is the shell's own, so the password is in no process's arguments.
login_ok() {
  [ -z "$login_helper" ] && return 0
  printf '%s\n' "$login_line" | "$login_helper" "$login_file" 2>/dev/null | head -n 1 | grep -q '^OK' ||
    { why=@LOGIN_REFUSED@; return 1; }
}

activate_and_verify() {
  step activate running
  was_running=no; squid -k check >/dev/null 2>&1 && was_running=yes
  offset=$(log_size)
  start_or_reload 8>&- 9>&- 2>&1 | sed 's/^/@@log activate /'
  if [ "$was_running" = yes ]; then step activate changed "reconfigured Squid (squid -k reconfigure)"
  else step activate changed "started Squid"; fi
  step verify running
  if serving "$port" "$offset" && login_ok; then
    works=; [ -z "$login_helper" ] || works="; its helper accepts the proxy login"
    step verify changed "Squid serves on port $port$works"
    printf '@@time %s\n' "$(date +%s)"  # when the new configuration took effect, by the server's clock
    exit 0
  fi
  log verify "$why"
  if [ -s "$stage/list" ]; then
    restore; step write rolled_back
    if [ "$was_running" = yes ]; then
      offset=$(log_size); start_or_reload 8>&- 9>&- 2>&1 | sed 's/^/@@log verify /'
      if serving "$old_port" "$offset"; then log verify "the previous configuration serves again"
      else log verify "the previous configuration does not serve either: $why"; fi
    fi
  fi
  step verify failed
  exit @EXIT_NOT_SERVING@
}

main() {
  if [ -s "$stage/list" ]; then
    if [ -z "$old_port" ]; then  # the port to bring back if the new configuration fails
      old_port=$(while read -r _n _mode _group p; do
        sed -n 's/^http_port[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$p" 2>/dev/null
      done < "$stage/list" | head -n 1)
      old_port=${old_port:-@DEFAULT_PORT@}
    fi
    backup
    write_files
    validate
  fi
  if [ "$do_enable" = yes ]; then enable_at_boot; else step enable unchanged "already enabled at boot"; fi
  if [ "$do_activate" = yes ]; then activate_and_verify
  else step activate unchanged "nothing to reload"; step verify unchanged "Squid runs and nothing changed"; fi
}
