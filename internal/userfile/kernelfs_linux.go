package userfile

import (
	"path/filepath"
	"syscall"
)

// kernelFileSystems names the Linux file systems whose files the kernel
// makes up (statfs f_type, from linux/magic.h): none is a file a command
// can write its output to, whatever stat says of it (/proc/version is a
// "regular file").
var kernelFileSystems = map[int64]string{
	0x9fa0:     "proc",
	0x62656572: "sysfs",
	0x27e0eb:   "cgroup",
	0x63677270: "cgroup2",
	0x64626720: "debugfs",
	0x74726163: "tracefs",
	0x73636673: "securityfs",
	0x62656570: "configfs",
	0xcafe4a11: "bpf",
	0x6165676c: "pstore",
	0xde5e81e4: "efivarfs",
}

// kernelFS returns the name of the kernel's file system path is on (or
// would be created on: its directory's), "" for any other.
func kernelFS(path string) string {
	var st syscall.Statfs_t
	if syscall.Statfs(path, &st) != nil && syscall.Statfs(filepath.Dir(path), &st) != nil {
		return ""
	}
	return kernelFileSystems[int64(st.Type)]
}
