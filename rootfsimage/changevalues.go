package rootfsimage

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
)

// applyExpose adds the ports of "PORT[-END][/PROTOCOL] ..." to cfg, one
// key per port, because docker expands a range such as 80-82 into 80/tcp,
// 81/tcp and 82/tcp.
func applyExpose(cfg *v1.Config, args string) error {
	if cfg.ExposedPorts == nil {
		cfg.ExposedPorts = map[string]struct{}{}
	}
	for _, spec := range strings.Fields(args) {
		ports, err := exposedPorts(spec)
		if err != nil {
			return err
		}
		for _, port := range ports {
			cfg.ExposedPorts[port] = struct{}{}
		}
	}
	return nil
}

// exposedPorts returns the config keys, such as "80/tcp", of one EXPOSE
// argument.
func exposedPorts(spec string) ([]string, error) {
	portRange, proto, found := strings.Cut(spec, "/")
	proto = strings.ToLower(proto)
	if !found {
		proto = "tcp"
	}
	if proto != "tcp" && proto != "udp" && proto != "sctp" {
		return nil, fmt.Errorf("port %q has the protocol %q; use tcp, udp or sctp, as in 53/udp", spec, proto)
	}

	first, last, isRange := strings.Cut(portRange, "-")
	start, err := portNumber(spec, first)
	if err != nil {
		return nil, err
	}
	end := start
	if isRange {
		if end, err = portNumber(spec, last); err != nil {
			return nil, err
		}
	}
	if start > end {
		return nil, fmt.Errorf("port range %q ends below its start; write it as LOW-HIGH, such as 8000-8002", spec)
	}

	var ports []string
	for port := start; port <= end; port++ {
		ports = append(ports, strconv.Itoa(port)+"/"+proto)
	}
	return ports, nil
}

// portNumber parses one port number of spec, from 0 to 65535 as docker
// accepts.
func portNumber(spec, s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("port %q is not PORT[-END][/tcp|udp|sctp] with ports from 0 to 65535", spec)
	}
	return int(n), nil
}

// applyWorkdir sets the working directory. A relative path is resolved
// against the current working directory, or / if there is none, as
// docker resolves WORKDIR.
func applyWorkdir(cfg *v1.Config, dir string) error {
	if !path.IsAbs(dir) {
		dir = path.Join("/", cfg.WorkingDir, dir)
	}
	cfg.WorkingDir = path.Clean(dir)
	return nil
}

// maxSignal is SIGRTMAX on Linux, the highest signal number kill(2)
// accepts.
const maxSignal = 64

// applyStopSignal checks that sig names a signal, by number or by name
// with or without SIG, and stores it as written, as docker does. Docker
// also stores numbers above 64, which kill(2) rejects when the container
// is stopped, so kist rejects them here.
func applyStopSignal(cfg *v1.Config, sig string) error {
	if !validSignal(sig) {
		return fmt.Errorf("invalid stop signal %q; give a signal name such as SIGTERM or SIGRTMIN+3, or a number from 1 to %d", sig, maxSignal)
	}
	cfg.StopSignal = sig
	return nil
}

func validSignal(sig string) bool {
	if n, err := strconv.Atoi(sig); err == nil {
		return n >= 1 && n <= maxSignal
	}
	name := strings.TrimPrefix(strings.ToUpper(sig), "SIG")
	switch {
	case name == "RTMIN" || name == "RTMAX":
		return true
	case strings.HasPrefix(name, "RTMIN+"):
		return realTimeOffset(strings.TrimPrefix(name, "RTMIN+"))
	case strings.HasPrefix(name, "RTMAX-"):
		return realTimeOffset(strings.TrimPrefix(name, "RTMAX-"))
	}
	return unix.SignalNum("SIG"+name) != 0 || name == "CLD" || name == "POLL" || name == "IOT"
}

// realTimeOffset reports whether s is an offset from 1 to 15, the forms
// SIGRTMIN+n and SIGRTMAX-n that docker's signal table lists.
func realTimeOffset(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 15
}

// applyUser sets the user as USER does: one name or UID, optionally
// followed by a colon and a group, and neither part empty.
func applyUser(cfg *v1.Config, args string) error {
	user, group, hasGroup := strings.Cut(args, ":")
	if user == "" || hasGroup && group == "" || strings.ContainsAny(args, " \t") {
		return fmt.Errorf("invalid USER %q: give one user name or UID, optionally followed by :GROUP", args)
	}
	cfg.User = args
	return nil
}
