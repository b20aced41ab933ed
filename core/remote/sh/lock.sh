# Takes the server lock, prints LOCKED and the probe, then holds the lock while it runs what comes on
# stdin: the run's change script, or nothing (stdin closes; so does it when the SSH session ends). When another run holds it: BUSY and who, since when. It waits a few seconds first, for
# a holder whose connection just dropped and which sshd is still ending; then for any change script
# still running from a dropped run (the change lock). Args: the owner's description, then the probe's.
owner=$1; shift
@include run_dir.sh@
make_run_dir
exec 9>>@LOCK_FILE@
if ! flock -w 3 9; then echo "BUSY $(cat @OWNER_FILE@ 2>/dev/null)"; exit 0; fi
printf '%s\n' "$owner" > @OWNER_FILE@
exec 8>>@CHANGE_LOCK@; flock -w 900 8; flock -u 8
echo LOCKED
@include probe.sh@
echo @@sp-end
exec sh -s
