#!/usr/bin/env bash
# Install the Debian 12 packages Interlock Kit needs to build and test, if any
# are missing. Idempotent; needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config ccache
  libboost-dev libtomlplusplus-dev libcli11-dev nlohmann-json3-dev libfmt-dev
  libgtest-dev libgmock-dev
  python3 util-linux procps
  # kit-made targets (ilk run --target ext4|xfs|btrfs|fuse|...): mkfs tools, bindfs
  e2fsprogs xfsprogs btrfs-progs bindfs fuse3
  # guests (ci/guest/): QEMU; kernels and busybox are unpacked from downloaded .debs
  qemu-system-x86
  # report tests: JUnit XML schema check, HTML rendered in headless Chromium
  libxml2-utils chromium python3-jsonschema
  # the hosted-CI workflow file's check (tests/workflow_test.py)
  python3-yaml
  # the Debian package (cpack's DEB generator, tests/package/) and the manual page
  dpkg-dev lintian man-db
  # real servers as contenders (servers/*.toml): the programs only (the
  # -core packages of MariaDB make no database and start no service)
  postgresql-15 mariadb-server-core mariadb-client-core
)

# The user real servers run as (servers/*.toml: user = "ilk-server"): the
# kit's own, so a server on trial owns nothing of anyone else's.
ensure_server_user() {
  getent passwd ilk-server >/dev/null && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ilk-server
  echo "setup: made the system user ilk-server (real servers run as it)"
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  ensure_server_user
  exit 0
fi
echo "setup: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# Debian's postgresql-15 would make and start a cluster of its own on port
# 5432; the kit wants only the programs. Said for this installation only.
dropin=/etc/postgresql-common/createcluster.d/ilk-setup-no-main-cluster.conf
if printf '%s\n' "${missing[@]}" | grep -qx postgresql-15; then
  $sudo mkdir -p "$(dirname "$dropin")"
  echo "create_main_cluster = false" | $sudo tee "$dropin" >/dev/null
fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
$sudo rm -f "$dropin"
ensure_server_user
