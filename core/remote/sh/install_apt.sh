# Installs Squid from the server's own repositories. Args: how long to wait for the dpkg lock (seconds).
install_squid() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout="$1" update -q || return @EXIT_APT_UPDATE@
  apt-get -o DPkg::Lock::Timeout="$1" install -y -q squid || return @EXIT_APT_INSTALL@
}
@include detached.sh@
