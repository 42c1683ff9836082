package oci

import (
	"github.com/opencontainers/runtime-spec/specs-go"
)

// Network modes that kist supports.
const (
	// NetworkHost shares the network namespace kist runs in.
	NetworkHost = "host"
	// NetworkNone gives the container a network namespace with only a
	// loopback interface.
	NetworkNone = "none"
)

// Options describe one container for Spec.
type Options struct {
	Rootfs   string
	Args     []string
	Env      []string
	Cwd      string
	User     specs.User
	Hostname string
	Network  string
	// UserNS is set when kist itself runs in a user namespace it does not
	// own the network of, which rules out mounting a new sysfs.
	UserNS bool
	// TTYGroupMapped reports whether gid 5 (tty), which devpts is
	// conventionally mounted with, exists in kist's user namespace.
	TTYGroupMapped bool
	// Mounts are added after the defaults, such as the /etc/hosts bind.
	Mounts []specs.Mount
}

// defaultCapabilities is the capability set docker gives a container.
var defaultCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// maskedPaths hide kernel interfaces that leak host information or allow
// harm, as docker masks them.
var maskedPaths = []string{
	"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
	"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
}

var readonlyPaths = []string{
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
}

// Spec returns the runtime spec for a container.
func Spec(o Options) *specs.Spec {
	caps := append([]string{}, defaultCapabilities...)
	namespaces := []specs.LinuxNamespace{
		{Type: specs.PIDNamespace},
		{Type: specs.IPCNamespace},
		{Type: specs.UTSNamespace},
		{Type: specs.MountNamespace},
	}
	if o.Network == NetworkNone {
		namespaces = append(namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace})
	}

	return &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			User: o.User,
			Args: o.Args,
			Env:  o.Env,
			Cwd:  o.Cwd,
			Capabilities: &specs.LinuxCapabilities{
				Bounding:  caps,
				Effective: caps,
				Permitted: caps,
			},
		},
		Root:     &specs.Root{Path: o.Rootfs},
		Hostname: o.Hostname,
		Mounts:   append(defaultMounts(o), o.Mounts...),
		Linux: &specs.Linux{
			Namespaces:    namespaces,
			MaskedPaths:   maskedPaths,
			ReadonlyPaths: readonlyPaths,
		},
	}
}

func defaultMounts(o Options) []specs.Mount {
	devpts := []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}
	if o.TTYGroupMapped {
		devpts = append(devpts, "gid=5")
	}

	// A new sysfs instance needs a network namespace that the mounter
	// owns; in a user namespace sharing the host network, bind the host's.
	sys := specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs",
		Options: []string{"nosuid", "noexec", "nodev", "ro"}}
	if o.UserNS && o.Network != NetworkNone {
		sys = specs.Mount{Destination: "/sys", Type: "none", Source: "/sys",
			Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}}
	}

	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: devpts},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		sys,
	}
}

// BindMount returns a read-write bind mount of a host file or directory.
func BindMount(source, destination string) specs.Mount {
	return specs.Mount{Destination: destination, Type: "bind", Source: source, Options: []string{"rbind", "rprivate"}}
}
