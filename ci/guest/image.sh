#!/usr/bin/env bash
# Build (or find in the cache) a QEMU guest image: a Debian kernel plus a
# busybox initramfs that runs the host-written /shared/cmd and reports its exit
# code through isa-debug-exit. See ci/guest/run.sh for booting it.
#
#   ci/guest/image.sh SERIES [--ilk BUILD_DIR]
#     SERIES      6.1 (newest linux-image-6.1.0-N-amd64) or
#                 6.12 (newest signed linux-image-6.12.*+deb12-amd64)
#     --ilk DIR   also put DIR/bin/ilk, DIR/lib/ilk/plugins/*.so, the shared
#                 libraries they need and the source tree's platforms/*.toml into
#                 the image, at the same absolute paths as on the host; and what
#                 ilk's kit-made targets need: the host's mkfs.ext4, mkfs.xfs,
#                 mkfs.btrfs and bindfs (those installed) with their libraries,
#                 and the loop, ext4, xfs, btrfs, overlay and fuse modules
#
# Environment: ILK_GUEST_CACHE (cache directory), ILK_GUEST_KERNEL_RE (an
# extended regex for the kernel package's name, instead of the SERIES's).
# Prints the image directory (vmlinuz, initrd.img, manifest.json) on stdout.
# Packages are fetched with `apt-get download` and unpacked with `dpkg -x`:
# nothing is installed on the host. The cache is ${ILK_GUEST_CACHE:-/var/cache/ilk-guest}
# (root-only, 0700); an image is keyed by the package versions, this script and,
# with --ilk, the hashes of every file copied from the host.
set -euo pipefail

prog=image.sh
die() { echo "$prog: $*" >&2; exit 1; }
note() { echo "$prog: $*" >&2; }

# Modules the guest loads at boot; modules.dep adds what they depend on (virtio
# core, 9pnet, netfs/fscache, ...). virtio_console gives virtio-serial ports.
guest_modules=(virtio_pci virtio_console 9pnet_virtio 9p virtio_net)
# NFS client and server (kernel nfsd), in the image but loaded by the guest's
# own set-up (lockd takes its grace period as a module parameter).
nfs_modules=(sunrpc grace lockd auth_rpcgss nfs_acl nfs nfsv3 nfsv4 nfsd)
# NFS userspace from Debian (unpacked, never installed here): the programs the
# server and the clients run, and the libraries they need that the host may
# lack. ldd resolves each program against these first, then the host's.
# nfs-ganesha is a second, independent server (user space, NFSv4 only here).
nfs_pkgs=(nfs-kernel-server nfs-common rpcbind libwrap0 libnfsidmap1 libtirpc3 libtirpc-common
          libevent-core-2.1-7 libsqlite3-0 libkeyutils1
          nfs-ganesha nfs-ganesha-vfs libntirpc4.3 liburcu8 libwbclient0)
nfs_programs=(rpcbind rpcinfo rpc.statd sm-notify mount.nfs exportfs rpc.mountd rpc.nfsd nfsdcld ganesha.nfsd)
# Loaded at run time, not linked: ganesha's VFS FSAL (its Plugins_Dir) and the
# ID mapper's nsswitch plugin it needs.
nfs_modules_so=(usr/lib/x86_64-linux-gnu/ganesha/libfsalvfs.so usr/lib/x86_64-linux-gnu/libnfsidmap/nsswitch.so)
# With --ilk: what `ilk run --target NAME` needs for its kit-made targets
# (harness/src/targets: each kind's tools, and the modules behind its mount).
# Optional: a tool the host lacks, or a module neither built in nor shipped, is
# left out with a note, and ilk in the guest reports that target "not set up".
target_tools=(mkfs.ext4 mkfs.xfs mkfs.btrfs bindfs)
# crc32c_generic: libcrc32c (xfs, btrfs) and ext4's metadata_csum ask the crypto
# API for "crc32c" (a soft dependency, which busybox modprobe does not follow).
target_modules=(crc32c_generic loop ext4 overlay xfs btrfs fuse)
target_etc=(/etc/mke2fs.conf)   # mke2fs's defaults, as on the host

usage() { sed -n '6,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

series=""
ilk_build=""
while [ $# -gt 0 ]; do
  case "$1" in
    --ilk) [ $# -ge 2 ] || die "--ilk needs a build directory (one holding bin/ilk)"; ilk_build=$2; shift 2 ;;
    --ilk=*) ilk_build=${1#--ilk=}; shift ;;
    -h|--help) usage ;;
    -*) die "unknown option '$1' (known: --ilk BUILD_DIR)" ;;
    *) [ -z "$series" ] || die "one SERIES only (got '$series' and '$1')"; series=$1; shift ;;
  esac
done
case "$series" in
  6.1)  kernel_re='^linux-image-6\.1\.0-[0-9]+-amd64$' ;;
  # The signed image is the one without -unsigned; -dbg/-cloud/-rt never match.
  6.12) kernel_re='^linux-image-6\.12\.[0-9]+\+deb12-amd64$' ;;
  "") usage ;;
  *) die "unknown SERIES '$series' (known: 6.1, 6.12)" ;;
esac
# An override, e.g. to pin one ABI: ILK_GUEST_KERNEL_RE='^linux-image-6\.1\.0-28-amd64$'
kernel_re=${ILK_GUEST_KERNEL_RE:-$kernel_re}

# dpkg -x must create root-owned files and the cache is root's.
[ "$(id -u)" -eq 0 ] || die "needs root (the image cache is root-only and dpkg -x must keep file owners); run it with sudo"
for tool in apt-cache apt-get dpkg-deb sha256sum gzip flock python3 ldd; do
  command -v "$tool" >/dev/null || die "'$tool' not found; install it (ci/setup.sh lists the packages)"
done

# --- the cache: root-owned 0700, never a guessable path under /tmp -----------
cache=${ILK_GUEST_CACHE:-/var/cache/ilk-guest}
case "$cache" in /*) ;; *) die "ILK_GUEST_CACHE must be an absolute path (got '$cache')" ;; esac
if [ ! -e "$cache" ]; then
  install -d -m 0700 -o root -g root "$cache"
fi
# Refuse a cache someone else could have planted or can write into.
[ -d "$cache" ] && [ ! -L "$cache" ] || die "cache '$cache' is not a directory (or is a symlink); remove it or set ILK_GUEST_CACHE"
read -r c_uid c_mode < <(stat -c '%u %a' "$cache")
[ "$c_uid" -eq 0 ] || die "cache '$cache' is owned by uid $c_uid, not root; remove it or chown root"
[ $(( 8#$c_mode & 8#022 )) -eq 0 ] || die "cache '$cache' is group/other-writable (mode $c_mode); chmod 0700 it"
mkdir -p "$cache/debs" "$cache/images"

# One builder at a time: two runs would download and unpack the same packages.
exec 9>"$cache/lock"
flock 9

# Scratch inside the cache: same filesystem (so the finished image is moved into
# place atomically) and as private as the cache itself.
scratch=$(mktemp -d "$cache/build.XXXXXXXX")
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- which packages: resolved from the local apt lists (no network) ----------
# One `apt-cache policy` for every name (each apt-cache call reads the lists,
# ~1 s): "NAME VERSION" for those with a candidate.
busybox_pkg=busybox-static
mapfile -t names < <(apt-cache pkgnames linux-image-"$series" | grep -E "$kernel_re" | sort -rV)
[ ${#names[@]} -gt 0 ] || die "no kernel package for series $series: no package named like '$kernel_re'${ILK_GUEST_KERNEL_RE:+ (ILK_GUEST_KERNEL_RE)} in apt's lists; run 'apt-get update' with bookworm, bookworm-updates and bookworm-security in /etc/apt/sources.list, and check the name with 'apt-cache search linux-image-$series'"
candidates=$(apt-cache policy "${names[@]}" "$busybox_pkg" "${nfs_pkgs[@]}" | awk '
  /^[^ ].*:$/ { name = substr($0, 1, length($0) - 1) }
  /^  Candidate:/ && $2 != "(none)" { print name, $2 }')
kernel_pkg="" kernel_ver=""
for name in "${names[@]}"; do   # newest first
  ver=$(awk -v n="$name" '$1 == n { print $2 }' <<<"$candidates")
  if [ -n "$ver" ]; then kernel_pkg=$name kernel_ver=$ver; break; fi
done
[ -n "$kernel_pkg" ] || die "no installable version of ${names[*]} (named like '$kernel_re'); run 'apt-get update' with bookworm-updates and bookworm-security enabled"
busybox_ver=$(awk -v n="$busybox_pkg" '$1 == n { print $2 }' <<<"$candidates")
[ -n "$busybox_ver" ] || die "no candidate for $busybox_pkg; run 'apt-get update'"
nfs_vers=()
for pkg in "${nfs_pkgs[@]}"; do
  ver=$(awk -v n="$pkg" '$1 == n { print $2 }' <<<"$candidates")
  [ -n "$ver" ] || die "no candidate for $pkg (NFS userspace for the guests); run 'apt-get update'"
  nfs_vers+=("$ver")
done
note "kernel $kernel_pkg $kernel_ver, $busybox_pkg $busybox_ver, nfs-utils ${nfs_vers[0]}"

# --- files from the ilk build (same absolute paths in the guest) -------------
ilk_files=()  # host paths copied verbatim into the image
ilk_version=""
if [ -n "$ilk_build" ]; then
  [ -d "$ilk_build" ] || die "--ilk '$ilk_build' is not a directory; pass the CMake build directory (the one with bin/ilk)"
  ilk_build=$(realpath "$ilk_build")  # ilk finds its plugins through /proc/self/exe: a real path
  ilk_bin=$ilk_build/bin/ilk
  [ -x "$ilk_bin" ] || die "no executable $ilk_bin; build the project first (cmake --build $ilk_build)"
  shopt -s nullglob
  plugins=("$ilk_build"/lib/ilk/plugins/*.so)
  shopt -u nullglob
  [ ${#plugins[@]} -gt 0 ] || die "no plugins in $ilk_build/lib/ilk/plugins; build the project first"
  ilk_files=("$ilk_bin" "${plugins[@]}")
  # Shared libraries and the dynamic loader, as ldd resolves them on the host.
  libs=$(
    for f in "$ilk_bin" "${plugins[@]}"; do
      ldd "$f" | awk -v f="$f" '
        /not found/   { print "MISSING " $1 " (needed by " f ")"; next }
        $2 == "=>" && $3 ~ /^\// { print $3; next }
        $1 ~ /^\// { print $1 }'
    done | sort -u)
  if missing=$(grep '^MISSING' <<<"$libs"); then
    die "ldd cannot find: ${missing//MISSING /}; install the library's package on the host"
  fi
  mapfile -t -O ${#ilk_files[@]} ilk_files <<<"$libs"
  # The running OS's platform profile and the default strategies: a build-tree
  # ilk reads them from the source tree (ILK_SOURCE_PLATFORM_DIR,
  # ILK_SOURCE_STRATEGY_DIR), so copy those directories to the same paths.
  src_dir=$(sed -n 's/^ilk_SOURCE_DIR:STATIC=//p' "$ilk_build/CMakeCache.txt" 2>/dev/null || true)
  for sub in platforms strategies; do
    if [ -n "$src_dir" ] && [ -d "$src_dir/$sub" ]; then
      shopt -s nullglob
      ilk_files+=("$src_dir/$sub"/*.toml)
      shopt -u nullglob
    else
      note "no $sub/ beside $ilk_build's sources: ilk in the guest will have none of its $sub/*.toml"
    fi
  done
  ilk_version=$("$ilk_bin" --version 2>/dev/null || echo unknown)

  # The target kinds' tools, as the host has them (same paths, same versions);
  # their libraries join the ilk files' (ldd, as above).
  tool_bins=()
  for tool in "${target_tools[@]}"; do
    if path=$(PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin command -v "$tool"); then
      tool_bins+=("$path")
    else
      note "$tool is not installed on the host: ilk in the guest will report its target not set up (apt-get install the package that has it)"
    fi
  done
  if [ ${#tool_bins[@]} -gt 0 ]; then
    tool_libs=$(ldd "${tool_bins[@]}" | awk '$2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// && $1 !~ /:$/ { print $1 }' | sort -u)
    mapfile -t tool_files < <(printf '%s\n' "${tool_bins[@]}" $tool_libs)
    for f in "${target_etc[@]}"; do [ ! -f "$f" ] || tool_files+=("$f"); done
    # Not yet copied (ilk's own libraries are): sorted, no duplicates.
    mapfile -t tool_files < <(printf '%s\n' "${tool_files[@]}" | grep -vxF -f <(printf '%s\n' "${ilk_files[@]}") | sort -u)
    ilk_files+=("${tool_files[@]}")
  fi
fi

# --- cache key ---------------------------------------------------------------
key=$(
  {
    echo "series=$series"
    echo "$kernel_pkg=$kernel_ver"
    echo "$busybox_pkg=$busybox_ver"
    echo "modules=${guest_modules[*]} nfs=${nfs_modules[*]}"
    for i in "${!nfs_pkgs[@]}"; do echo "${nfs_pkgs[$i]}=${nfs_vers[$i]}"; done
    echo "nfs_programs=${nfs_programs[*]} ${nfs_modules_so[*]}"
    [ -z "$ilk_build" ] || echo "target_modules=${target_modules[*]}"
    sha256sum "$0" | cut -d' ' -f1            # a changed builder makes a new image
    [ ${#ilk_files[@]} -eq 0 ] || sha256sum "${ilk_files[@]}"  # hashes + paths
  } | sha256sum | cut -c1-16)
image=$cache/images/$series-$key
if [ -f "$image/manifest.json" ]; then
  touch "$image"   # most recently used: kept by the pruning below
  note "cache hit: $image"
  echo "$image"
  exit 0
fi
note "cache miss: building $image"

# --- download (verified against apt's signed lists) --------------------------
# apt's SHA256 of every package, in one apt-cache call (each call reads the
# lists, ~1 s): "PACKAGE=VERSION SHA256" lines.
declare -A sha256_of=()
load_sha256() {  # PACKAGE=VERSION...
  local pv sum
  while read -r pv sum; do
    [ -n "${sha256_of[$pv]:-}" ] || sha256_of[$pv]=$sum
  done < <(apt-cache show "$@" 2>/dev/null | awk '
    /^Package:/ { p = $2 } /^Version:/ { v = $2 } /^SHA256:/ { print p "=" v, $2 }')
}
fetch_deb() {  # PACKAGE VERSION -> path of the verified .deb in $cache/debs
  local pkg=$1 ver=$2 want f
  want=${sha256_of[$pkg=$ver]:-}
  [ -n "$want" ] || die "apt's lists give no SHA256 for $pkg=$ver; run 'apt-get update'"
  for f in "$cache/debs/${pkg}_"*.deb; do
    [ -f "$f" ] || continue
    # The hash decides (also for a truncated or corrupt file, which dpkg-deb may still half-read).
    if [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$want" ]; then
      echo "$f"; return
    fi
    note "cached $(basename "$f") ($(stat -c %s "$f") bytes) does not match apt's SHA256 for $pkg=$ver (truncated, corrupt or another version): downloading it again"
  done
  mkdir -p "$scratch/dl"
  # As root into a root-only directory apt cannot drop to _apt for the
  # download; say so up front instead of apt's warning. Hashes are checked below.
  local t=$EPOCHREALTIME
  (cd "$scratch/dl" && apt-get download -qq -o APT::Sandbox::User=root "$pkg=$ver" >&2) \
    || die "apt-get download $pkg=$ver failed; check the network to Debian's mirror and run 'apt-get update'"
  f=$(ls "$scratch/dl/${pkg}_"*.deb)
  note "downloaded $(basename "$f") ($(du -h "$f" | cut -f1)) in $(awk -v a="$t" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
  [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$want" ] || die "$f does not match apt's SHA256 for $pkg=$ver; run 'apt-get update' and retry"
  rm -f "$cache/debs/${pkg}_"*.deb   # older versions: a cache, not an archive
  mv "$f" "$cache/debs/"
  echo "$cache/debs/$(basename "$f")"
}
t0=$SECONDS
wanted=("$kernel_pkg=$kernel_ver" "$busybox_pkg=$busybox_ver")
for i in "${!nfs_pkgs[@]}"; do wanted+=("${nfs_pkgs[$i]}=${nfs_vers[$i]}"); done
load_sha256 "${wanted[@]}"
kernel_deb=$(fetch_deb "$kernel_pkg" "$kernel_ver")
busybox_deb=$(fetch_deb "$busybox_pkg" "$busybox_ver")
nfs_debs=()
for i in "${!nfs_pkgs[@]}"; do nfs_debs+=("$(fetch_deb "${nfs_pkgs[$i]}" "${nfs_vers[$i]}")"); done
note "packages ready in $((SECONDS - t0)) s"

# --- unpack ------------------------------------------------------------------
t1=$SECONDS
dpkg -x "$kernel_deb" "$scratch/kernel"
dpkg -x "$busybox_deb" "$scratch/busybox"
for deb in "${nfs_debs[@]}"; do dpkg -x "$deb" "$scratch/nfs"; done
bb=$scratch/busybox/bin/busybox   # the guest's busybox also does depmod/xz/cpio here
[ -x "$bb" ] || die "$busybox_deb has no bin/busybox"

moddir_rel=""
for d in lib/modules usr/lib/modules; do
  [ -d "$scratch/kernel/$d" ] && moddir_rel=$d && break
done
[ -n "$moddir_rel" ] || die "$kernel_deb has no lib/modules"
release=$(ls "$scratch/kernel/$moddir_rel")
[ "$(wc -w <<<"$release")" -eq 1 ] || die "$kernel_deb holds several module trees: $release"
kmods=$scratch/kernel/$moddir_rel/$release
vmlinuz=$scratch/kernel/boot/vmlinuz-$release
[ -f "$vmlinuz" ] || die "$kernel_deb has no boot/vmlinuz-$release"

# 6.12 ships .ko.xz: busybox modprobe wants plain .ko, so decompress the tree
# first (depmod then lists .ko paths). This is most of a cold 6.12 build.
if [ -n "$(find "$kmods" -name '*.ko.xz' -print -quit)" ]; then
  note "decompressing $(find "$kmods" -name '*.ko.xz' | wc -l) modules"
  find "$kmods" -name '*.ko.xz' -print0 | xargs -0 -n 64 -P "$(nproc)" "$bb" unxz
fi
# Debian's package has no modules.dep (its postinst runs depmod): make one.
if [ "$moddir_rel" != lib/modules ]; then   # busybox depmod -b looks in BASE/lib/modules
  mkdir -p "$scratch/kernel/lib" && ln -s ../usr/lib/modules "$scratch/kernel/lib/modules"
fi
"$bb" depmod -b "$scratch/kernel" "$release"
[ -s "$kmods/modules.dep" ] || die "busybox depmod made no modules.dep for $release"

# Resolve the closure of guest_modules through modules.dep (names use _ or -
# interchangeably; modules.builtin lists what is compiled in).
norm() { local b=${1##*/}; b=${b%.ko}; REPLY=${b//-/_}; }  # no forks: ~4000 lines
declare -A path_of=() deps_of=() builtin=()
while IFS= read -r line; do
  mod=${line%%:*}
  norm "$mod"
  path_of[$REPLY]=$mod
  deps_of[$REPLY]=${line#*:}
done <"$kmods/modules.dep"
if [ -f "$kmods/modules.builtin" ]; then
  while IFS= read -r b; do norm "$b"; builtin[$REPLY]=1; done <"$kmods/modules.builtin"
fi
load=()      # what /init modprobes (modules, not built-ins)
declare -A want=()
add_closure() {
  local m; norm "$1"; m=$REPLY
  [ -z "${want[$m]:-}" ] || return 0
  want[$m]=1
  local d; for d in ${deps_of[$m]}; do add_closure "$d"; done
}
for m in "${guest_modules[@]}"; do
  norm "$m"; n=$REPLY
  if [ -n "${path_of[$n]:-}" ]; then load+=("$n"); add_closure "${path_of[$n]}"
  elif [ -n "${builtin[$n]:-}" ]; then note "$m is built into $release"
  else die "module $m is neither a module nor built into $release; adjust guest_modules in $0"
  fi
done
for m in "${nfs_modules[@]}"; do
  norm "$m"; n=$REPLY
  if [ -n "${path_of[$n]:-}" ]; then add_closure "${path_of[$n]}"
  elif [ -z "${builtin[$n]:-}" ]; then die "module $m (NFS) is neither a module nor built into $release; adjust nfs_modules in $0"
  fi
done
# The targets' modules: loaded by /init too (a mount does not load them: no
# /sbin/modprobe, and /dev/loop-control exists only once loop is loaded).
target_load=()
if [ -n "$ilk_build" ]; then
  for m in "${target_modules[@]}"; do
    norm "$m"; n=$REPLY
    if [ -n "${path_of[$n]:-}" ]; then target_load+=("$n"); add_closure "${path_of[$n]}"
    elif [ -z "${builtin[$n]:-}" ]; then note "module $m is not in $release: ilk's targets that need it will not be set up in the guest"
    fi
  done
fi

# --- stage the root filesystem ----------------------------------------------
root=$scratch/root
mkdir -p "$root"/{bin,dev,etc,proc,sys,tmp,run,root,shared,lib/modules/"$release"}
for m in "${!want[@]}"; do
  install -D -m 0644 "$kmods/${path_of[$m]}" "$root/lib/modules/$release/${path_of[$m]}"
done
cp "$kmods/modules.builtin" "$kmods/modules.order" "$root/lib/modules/$release/" 2>/dev/null || true
"$bb" depmod -b "$root" "$release"   # the image's own modules.dep, for modprobe in tests

install -m 0755 "$bb" "$root/bin/busybox"
for app in $("$bb" --list); do
  [ -e "$root/bin/$app" ] || ln -s busybox "$root/bin/$app"
done
# rpcbind drops to _rpc; statd to the owner of /var/lib/nfs/sm (root here).
printf 'root:x:0:0:root:/root:/bin/sh\n_rpc:x:100:65534::/run/rpcbind:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"

# NFS userspace: each program at its package path, its libraries (the unpacked
# packages' first) at theirs; /etc/netconfig (libtirpc), /etc/protocols and
# /etc/services (NFSv3 mounts fail with "Protocol not supported" without them).
nfs_root=$scratch/nfs
nfs_libpath=$nfs_root/lib/x86_64-linux-gnu:$nfs_root/usr/lib/x86_64-linux-gnu:$nfs_root/usr/lib/ganesha
for prog_name in "${nfs_programs[@]}" "${nfs_modules_so[@]}"; do
  src=""
  case "$prog_name" in
    */*) [ ! -e "$nfs_root/$prog_name" ] || src=$nfs_root/$prog_name ;;
    *) for d in sbin usr/sbin usr/bin bin; do
         if [ -e "$nfs_root/$d/$prog_name" ]; then src=$nfs_root/$d/$prog_name; break; fi
       done ;;
  esac
  [ -n "$src" ] || die "no $prog_name in ${nfs_pkgs[*]}; adjust nfs_programs or nfs_modules_so in $0"
  src=$(realpath "$src")
  dest=${src#"$nfs_root"}
  install -D -m 0755 "$src" "$root$dest"
  case "$prog_name" in */*) ;; *) ln -sf "$dest" "$root/bin/$prog_name" 2>/dev/null || true ;; esac
  while read -r lib; do
    case "$lib" in
      MISSING*) die "ldd cannot find ${lib#MISSING } for $prog_name: add its package to nfs_pkgs in $0" ;;
      "$nfs_root"/*) install -D -m "$(stat -L -c %a "$lib")" "$lib" "$root${lib#"$nfs_root"}" ;;
      *) [ -e "$root$lib" ] || install -D -m "$(stat -L -c %a "$lib")" "$lib" "$root$lib" ;;   # the loader must stay executable
    esac
  done < <(LD_LIBRARY_PATH=$nfs_libpath ldd "$src" | awk '
      /not found/ { print "MISSING " $1; next }
      $2 == "=>" && $3 ~ /^\// { print $3; next }
      $1 ~ /^\// { print $1 }')
done
ln -sf mount.nfs "$root/bin/mount.nfs4"
install -D -m 0644 "$nfs_root/etc/netconfig" "$root/etc/netconfig"
for f in /etc/protocols /etc/services; do
  [ -f "$f" ] || die "$f is missing on the host (package netbase): the guests' NFS needs it"
  install -D -m 0644 "$f" "$root$f"
done
# No v4recovery: without it a failed nfsdcld cannot fall back silently to
# legacy client tracking (the server guest checks that nfsdcld is in use).
mkdir -p "$root"/var/lib/nfs/{sm,sm.bak,nfsdcld,rpc_pipefs} "$root"/run/rpcbind "$root"/proc/fs/nfsd
# libfuse (bindfs) leaves /etc/mtab alone when it is this symlink; mkfs reads it.
ln -s ../proc/self/mounts "$root/etc/mtab"

ilk_path=""
for f in "${ilk_files[@]}"; do
  install -D -m "$(stat -L -c %a "$f")" "$f" "$root$f"   # install follows symlinks: a real file at the soname path
  # A RelWithDebInfo ilk is ~19 MB of mostly DWARF: drop it in the image (the
  # key still uses the host file's hash). Smaller initrd, faster TCG boot.
  case "$f" in *.toml|/etc/*) ;; *) command -v objcopy >/dev/null && objcopy --strip-debug "$root$f" ;; esac
done
[ -z "$ilk_build" ] || ilk_path=:$ilk_build/bin

# /init: PID 1. Exit code goes out through isa-debug-exit (port 0xf4, rc+1);
# busybox has no outb, so dd writes the byte at offset 0xf4 of /dev/port.
cat >"$root/init" <<EOF
#!/bin/sh
# ilk guest init ($series, $release). Generated by ci/guest/image.sh.
export PATH=/bin:/sbin:/usr/sbin:/usr/bin$ilk_path HOME=/root TMPDIR=/tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1

guest_exit() {
  rc=\$1
  # The port carries 7 bits of rc+1; larger codes are capped and the exact one
  # is left in /shared/rc for run.sh.
  if [ "\$rc" -gt 126 ]; then byte=127; else byte=\$((rc + 1)); fi
  sync
  echo "ilk-guest: exit \$rc at \$(cut -d' ' -f1 /proc/uptime) s"
  printf "\\\\\$(printf %03o "\$byte")" | dd of=/dev/port bs=1 seek=244 count=1 conv=notrunc 2>/dev/null
  echo "ilk-guest: writing to I/O port 0xf4 did not end QEMU (no isa-debug-exit?); powering off"
  poweroff -f
}

# run.sh's KVM probe: reaching init is all it asks.
case " \$(cat /proc/cmdline) " in *" ilk.probe=1 "*) guest_exit 0 ;; esac
echo "ilk-guest: init at \$(cut -d' ' -f1 /proc/uptime) s"

for m in ${load[*]}; do
  modprobe "\$m" || echo "ilk-guest: modprobe \$m failed"
done
# Modules the kernel asks for itself (request_module: crypto, fs-*) come from
# busybox's modprobe; the kernel's default /sbin/modprobe does not exist here.
echo /bin/modprobe >/proc/sys/kernel/modprobe
for m in ${target_load[*]}; do
  modprobe "\$m" || echo "ilk-guest: modprobe \$m failed (a target that needs it will not be set up)"
done
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
hostname ilk-guest

shared=""
for tag in /sys/bus/virtio/drivers/9pnet_virtio/*/mount_tag; do
  [ -f "\$tag" ] && [ "\$(tr -d '\\000' <"\$tag")" = shared ] && shared=yes
done
if [ -n "\$shared" ]; then
  mount -t 9p -o trans=virtio,version=9p2000.L,cache=none shared /shared || echo "ilk-guest: mounting the 9p share failed"
fi
if [ -f /shared/cmd ]; then
  echo "ilk-guest: running /shared/cmd"
  cd /
  sh /shared/cmd >/shared/out 2>/shared/err
  rc=\$?
  echo "\$rc" >/shared/rc
else
  echo "ilk-guest: no /shared/cmd (is the 9p share 'shared' attached?)"
  rc=127
fi
guest_exit "\$rc"
EOF
chmod 0755 "$root/init"

# --- pack --------------------------------------------------------------------
out=$scratch/out
mkdir -p "$out"
cp "$vmlinuz" "$out/vmlinuz"
# -R 0:0: every file root-owned in the guest whoever made it here.
(cd "$root" && find . -mindepth 1 | sort | "$bb" cpio -o -H newc -R 0:0 2>/dev/null) | gzip -6 >"$out/initrd.img"  # -9: 5x the time for <1 % less

modules_json=$(printf '%s\n' "${!want[@]}" | sort | tr '\n' ' ')
ilk_json=$(for f in "${ilk_files[@]}"; do sha256sum "$f"; done)
ILK_BUILD=$ilk_build ILK_VERSION=$ilk_version MODULES=$modules_json LOAD="${load[*]} ${target_load[*]}" ILK_FILES=$ilk_json \
python3 - "$out/manifest.json" "$series" "$release" "$key" \
  "$kernel_pkg" "$kernel_ver" "$busybox_pkg" "$busybox_ver" <<'PY'
import json, os, sys
out, series, release, key, kpkg, kver, bpkg, bver = sys.argv[1:]
m = {
    "series": series,
    "kernel_release": release,
    "key": key,
    "packages": [{"name": kpkg, "version": kver}, {"name": bpkg, "version": bver}],
    "modules_loaded": os.environ["LOAD"].split(),
    "modules_included": os.environ["MODULES"].split(),
    "files": {"vmlinuz": "vmlinuz", "initrd": "initrd.img"},
}
if os.environ["ILK_BUILD"]:
    files = {}
    for line in os.environ["ILK_FILES"].splitlines():
        digest, path = line.split(None, 1)
        files[path] = digest
    m["ilk"] = {"build_dir": os.environ["ILK_BUILD"], "version": os.environ["ILK_VERSION"], "files": files}
with open(out, "w") as f:
    json.dump(m, f, indent=2, sort_keys=True)
    f.write("\n")
PY

mv "$out" "$image" 2>/dev/null || die "could not move the image to $image"
# Keep the 4 most recently used images per series (~15 MB each); every change
# to this script or the ilk build makes a new one.
ls -dt "$cache/images/$series-"* | tail -n +5 | while IFS= read -r old; do rm -rf "$old"; done
note "built in $((SECONDS - t1)) s (after downloads): initrd $(du -h "$image/initrd.img" | cut -f1), kernel $release"
echo "$image"
