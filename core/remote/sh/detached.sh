# Runs install_squid (defined above) in the background, writing to a log this script follows: if the
# connection drops, the install still completes instead of leaving dpkg half-way, and the next run waits
# for it (the change lock).
@include run_dir.sh@
trap '' HUP PIPE
make_run_dir
exec 8>>@CHANGE_LOCK@; flock 8
log=$(mktemp @INSTALL_LOG_DIR@/sensorproxy-install.XXXXXX) || exit @EXIT_INSTALL_LOG@
# fd 8 (the lock) stays with this shell: a daemon a package starts must not inherit it and hold it forever
( trap '' HUP PIPE; install_squid "$@" > "$log" 2>&1; echo $? > "$log.rc" ) 8>&- &
tail -n +1 -f --pid=$! "$log" 2>/dev/null
wait
rc=$(cat "$log.rc" 2>/dev/null || echo @EXIT_INSTALL_LOST@)
rm -f "$log" "$log.rc"
exit "$rc"
