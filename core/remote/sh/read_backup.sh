# One backup set's files, printed as `@@sp present|absent PATH`, then mode and owners, then base64.
# Args: the backup set's name.
dir=@BACKUP_ROOT@/$1
[ -f "$dir/manifest" ] || { echo "no backup set $1" >&2; exit @EXIT_NO_BACKUP@; }
while read -r state i p; do
  printf '\n@@sp %s %s\n' "$state" "$p"
  # `if`, not `&&`: a last file that was absent must not make the whole read fail
  if [ "$state" = present ]; then stat -c '%a %U %G' "$dir/$i"; base64 < "$dir/$i"; fi
done < "$dir/manifest"
