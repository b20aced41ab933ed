# Installs Squid from an uploaded bundle, never from the network. Args: the upload directory, how long to
# wait for the dpkg lock. The files are copied into a root-only directory and checked there; apt then
# uses that directory as its only repository (its own lists there; the server's sources are not read or
# changed) and installs what Squid needs and the server lacks. (Not with --no-download: bullseye's apt
# then fails on a local repository, "Pathname to install is not absolute"; the bundle is its only source.)
install_squid() {
  export DEBIAN_FRONTEND=noninteractive
  src=$1; lock_timeout=$2
  dir=$(mktemp -d @BUNDLE_DIR@/sensorproxy-bundle.XXXXXX) || return @EXIT_BUNDLE_COPY@
  trap 'rm -rf "$dir" "$src"' EXIT
  while read -r sum file; do
    cp "$src/$file" "$dir/$file" || return @EXIT_BUNDLE_COPY@
    echo "$sum  $dir/$file" | sha256sum -c --quiet - >/dev/null 2>&1 || {
      echo "checksum mismatch: $file"; return @EXIT_BUNDLE_SUM@
    }
  done <<'SENSORPROXY_FILES'
@FILES@
SENSORPROXY_FILES
  mkdir -p "$dir/lists/partial" "$dir/parts"
  printf 'deb [trusted=yes] file:%s ./\n' "$dir" > "$dir/sources.list"
  # The bundle's directory is root-only: apt reads it as root rather than as its _apt sandbox user.
  set -- -o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts="$dir/parts" \
    -o Dir::State::Lists="$dir/lists" -o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root
  echo "installing Squid from the bundle; nothing is downloaded"
  apt-get "$@" update -q >/dev/null || return @EXIT_APT_UPDATE@
  apt-get "$@" -o DPkg::Lock::Timeout="$lock_timeout" install -y -q --no-install-recommends squid \
    || return @EXIT_APT_INSTALL@
}
@include detached.sh@
