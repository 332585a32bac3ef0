// nfs-mounts: the NFS variants the kit puts on trial, and a virtio-9p shared
// volume, as network mounts (API version 3). Each says how the server guest exports and how the two client
// guests mount; the harness boots the guests and does it (host/nfs.cpp).
//
// Every mount is `soft` with a short timeout so that a dead server costs a
// probe an error, not a hung guest (nfs(5): "soft ... after retrans
// retransmissions"); server restarts (issue 12) want `hard` variants of their own.
#include <ilk/plugin.h>

namespace {

constexpr const char* kExport = "rw,sync,no_subtree_check,no_root_squash,insecure";
#define ILK_NFS_TIMEOUTS "soft,timeo=100,retrans=3"

const ilk::NetworkMountDescriptor kMounts[] = {
    {"nfs3", "NFSv3 with the NLM lock manager (lockd, statd)", "kernel-nfsd", kExport, "vers=3," ILK_NFS_TIMEOUTS,
     "nfs(5): vers=3; locks go to the server's NLM service (lockd), crashes are told by NSM (statd)"},
    {"nfs4.0", "NFSv4.0: locks in the protocol, held by a lease", "kernel-nfsd", kExport, "vers=4.0," ILK_NFS_TIMEOUTS,
     "nfs(5): vers=4.0; RFC 7530 section 9 (locking is part of NFSv4, state is leased)"},
    {"nfs4.1", "NFSv4.1: sessions; locks in the protocol, held by a lease", "kernel-nfsd", kExport, "vers=4.1," ILK_NFS_TIMEOUTS,
     "nfs(5): vers=4.1; RFC 8881 (sessions, leased lock state)"},
    {"nfs4.2", "NFSv4.2: as 4.1, the default of Debian 12's mount.nfs", "kernel-nfsd", kExport, "vers=4.2," ILK_NFS_TIMEOUTS,
     "nfs(5): vers=4.2; RFC 7862"},
    {"nfs3-nolock", "NFSv3 with nolock: locks are local to each client", "kernel-nfsd", kExport, "vers=3,nolock," ILK_NFS_TIMEOUTS,
     "nfs(5): nolock - \"applications can lock files, but such locks provide exclusion only against other applications running on "
     "the same client\""},
    {"nfs3-local_lock=flock", "NFSv3, flock() locks local to each client, fcntl() locks through NLM", "kernel-nfsd", kExport,
     "vers=3,local_lock=flock," ILK_NFS_TIMEOUTS,
     "nfs(5): local_lock=flock - flock locks are local; POSIX locks go to the server"},
    {"nfs3-local_lock=posix", "NFSv3, fcntl() locks local to each client, flock() through NLM", "kernel-nfsd", kExport,
     "vers=3,local_lock=posix," ILK_NFS_TIMEOUTS,
     "nfs(5): local_lock=posix - POSIX locks are local; flock locks go to the server"},
    {"nfs4.2-local_lock=all", "NFSv4.2 asked for local_lock=all (nfs(5) lists local_lock for NFSv2/v3 only)", "kernel-nfsd", kExport,
     "vers=4.2,local_lock=all," ILK_NFS_TIMEOUTS,
     "nfs(5): local_lock is listed under \"Options for NFS versions 2 and 3 only\"; what the kernel applies is recorded from /proc/mounts"},
    {"ganesha4.2", "NFSv4.2 served by nfs-ganesha (user space, VFS FSAL): a second, independent server", "nfs-ganesha",
     "Access_Type=RW,Squash=No_Root_Squash,SecType=sys,Transports=TCP", "vers=4.2,port=2050," ILK_NFS_TIMEOUTS,
     "nfs(5): vers=4.2, port=; ganesha-export-config(8) (Access_Type, Squash); RFC 7862"},
    {"9p", "a host directory shared with both client guests over virtio-9p (a VM's shared volume)", "host-9p", "",
     "trans=virtio,version=9p2000.L,cache=none",
     "Linux Documentation/filesystems/9p.rst (cache=none: no caching; locks are forwarded as 9P2000.L TLOCK requests to the "
     "server, QEMU, which takes them on the host only if it chooses to)"},
};

const ilk::PluginDescriptor kPlugin{.api_version = ilk::kPluginApiVersion,
                                    .name = "nfs-mounts",
                                    .version = "1",
                                    .primitive_count = 0,
                                    .primitives = nullptr,
                                    .network_mount_count = std::size(kMounts),
                                    .network_mounts = kMounts};

}  // namespace

ILK_PLUGIN(kPlugin)
