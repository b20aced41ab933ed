# The root-only directory of the server lock and the change lock. Root-only, and checked to be root's own
# directory and no symlink: in world-writable /run/lock another local user could plant a symlink to a
# system file (docs/security.md).
make_run_dir() {
  mkdir -p -m 0700 @RUN_DIR@ && [ -O @RUN_DIR@ ] && [ ! -L @RUN_DIR@ ] || {
    echo "cannot make the root-only directory @RUN_DIR@, or it is not root's own" >&2
    exit @EXIT_RUN_DIR@
  }
}
