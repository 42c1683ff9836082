package container

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/kist-project/kist/oci"
)

// writeNetworkFiles writes the container's /etc/hostname, /etc/hosts and
// /etc/resolv.conf into its directory and returns the bind mounts that
// put them in place, as docker does, so the image's own copies stay
// untouched.
func writeNetworkFiles(dir, hostname string) ([]specs.Mount, error) {
	resolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		// A host without resolv.conf resolves nothing either; give the
		// container an empty one rather than fail.
		resolv = nil
	}
	files := []struct {
		name, dest string
		data       []byte
	}{
		{"hostname", "/etc/hostname", []byte(hostname + "\n")},
		{"hosts", "/etc/hosts", []byte("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t" + hostname + "\n")},
		{"resolv.conf", "/etc/resolv.conf", resolv},
	}

	var mounts []specs.Mount
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, f.data, 0o644); err != nil {
			return nil, fmt.Errorf("write container %s: %w", f.name, err)
		}
		mounts = append(mounts, oci.BindMount(path, f.dest))
	}
	return mounts, nil
}
