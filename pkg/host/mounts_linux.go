package host

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// From <linux/mount.h> and <linux/nsfs.h>: listmount(2) and statmount(2),
// Linux 6.8 and later, name every mount by an ID that is never reused.
const (
	lsmtRoot         = ^uint64(0) // LSMT_ROOT: the root of the mount namespace
	statmountBasic   = 0x2        // STATMOUNT_MNT_BASIC
	mntIDReqSize     = 32         // MNT_ID_REQ_SIZE_VER1, with mnt_ns_id
	nsGetMntnsID     = 0x8008b705 // NS_GET_MNTNS_ID: _IOR(0xb7, 0x5, __u64)
	statmountIDAt    = 40         // offset of mnt_id in struct statmount
	statmountOldIDAt = 56         // offset of mnt_id_old, the ID of mountinfo
)

type mntIDReq struct {
	Size, Spare  uint32
	MntID, Param uint64
	NsID         uint64
}

// uniqueIDs maps the mount IDs of mountinfo, which the kernel reuses, to
// the unique IDs of the mounts of the mount namespace nsFile ("" for the
// caller's). A kernel without listmount(2) gives an empty map.
func uniqueIDs(nsFile string) (map[int]uint64, error) {
	nsID, err := mntnsID(nsFile)
	var ids []uint64
	if err == nil {
		ids, err = listMounts(nsID)
	}
	if errors.Is(err, unix.ENOSYS) {
		return map[int]uint64{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list the mounts of the mount namespace %s: %w", or(nsFile, "of the caller"), err)
	}
	out := make(map[int]uint64, len(ids))
	buf := make([]byte, 4096)
	for _, id := range ids {
		req := mntIDReq{Size: mntIDReqSize, MntID: id, Param: statmountBasic, NsID: nsID}
		_, _, errno := unix.Syscall6(unix.SYS_STATMOUNT, uintptr(unsafe.Pointer(&req)), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0, 0)
		if errno != 0 {
			continue // unmounted meanwhile
		}
		old := binary.NativeEndian.Uint32(buf[statmountOldIDAt:])
		out[int(old)] = binary.NativeEndian.Uint64(buf[statmountIDAt:])
	}
	return out, nil
}

// mntnsID is the 64-bit ID of the mount namespace file nsFile, 0 for the caller's.
func mntnsID(nsFile string) (uint64, error) {
	if nsFile == "" {
		return 0, nil
	}
	fd, err := unix.Open(nsFile, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("open the mount namespace %s: %w", nsFile, err)
	}
	defer unix.Close(fd)
	var id uint64
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), nsGetMntnsID, uintptr(unsafe.Pointer(&id)))
	if errno == unix.ENOTTY || errno == unix.EINVAL {
		return 0, unix.ENOSYS // a kernel without mount namespace IDs has no listmount either
	}
	if errno != 0 {
		return 0, fmt.Errorf("ioctl NS_GET_MNTNS_ID %s: %w", nsFile, errno)
	}
	return id, nil
}

// listMounts returns the unique IDs of every mount of the namespace nsID.
func listMounts(nsID uint64) ([]uint64, error) {
	var out []uint64
	buf := make([]uint64, 512)
	last := uint64(0)
	for {
		req := mntIDReq{Size: mntIDReqSize, MntID: lsmtRoot, Param: last, NsID: nsID}
		n, _, errno := unix.Syscall6(unix.SYS_LISTMOUNT, uintptr(unsafe.Pointer(&req)), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0, 0)
		if errno != 0 {
			return nil, fmt.Errorf("listmount(2): %w", errno)
		}
		out = append(out, buf[:n]...)
		if int(n) < len(buf) {
			return out, nil
		}
		last = buf[n-1]
	}
}
