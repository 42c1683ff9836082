package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/kist-project/kist/oci"
	"github.com/kist-project/kist/rootless"
	"github.com/kist-project/kist/store"
)

// RunOptions describe a container to run in the foreground.
type RunOptions struct {
	// ImageName is the reference the user gave, kept for kist ps.
	ImageName string
	Image     store.Image
	Config    *v1.ConfigFile
	// Entrypoint, when set, replaces the image's entrypoint.
	Entrypoint *string
	// Args, when given, replace the image's Cmd.
	Args    []string
	Env     []string
	Workdir string
	User    string
	Network string
	// Remove deletes the container when it exits, as --rm does.
	Remove bool
	// Stdin is the container's standard input; nil gives it /dev/null.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// OnCreate, when set, is called once the container exists in the
	// store with the layers it uses recorded.
	OnCreate func()
}

// ExitStatus is the status of a container's main process: its exit code,
// or 128 plus the number of the signal that killed it.
type ExitStatus int

// Run creates a container from opts, runs it to completion and returns
// its exit status. Errors are kist's own failures; a container that exits
// non-zero is not an error.
func Run(ctx context.Context, st *store.Store, opts RunOptions) (status ExitStatus, err error) {
	state := store.ContainerState{
		Image: opts.ImageName, ImageID: opts.Image.ID.String(), Layers: opts.Image.Layers,
		Created: time.Now().UTC(), Status: store.StatusCreated, Pid: os.Getpid(),
	}
	id, err := st.CreateContainer(state)
	if err != nil {
		return 0, err
	}
	state.ID = id
	if opts.OnCreate != nil {
		opts.OnCreate()
	}
	dir := st.ContainerDir(id)
	// The caller's working directory may be gone or, in a user namespace,
	// unreadable; libcontainer records the working directory as the bundle.
	if err := os.Chdir(dir); err != nil {
		return 0, fmt.Errorf("enter container directory: %w", err)
	}
	c := &instance{id: id, dir: dir, rootfs: filepath.Join(dir, "rootfs")}
	logrus.Debugf("create container %s", id)

	defer func() {
		if cleanupErr := c.cleanup(st, opts.Remove || err != nil); cleanupErr != nil {
			logrus.Warnf("clean up container %s: %v", id, cleanupErr)
		}
	}()

	if err := c.prepareRootfs(st, opts.Image); err != nil {
		return 0, err
	}
	o, err := c.options(opts)
	if err != nil {
		return 0, err
	}
	spec := oci.Spec(*o)
	if !o.UserNS {
		// Real root gets a cgroup per container under one kist parent.
		// In a user namespace libcontainer names the cgroup after the
		// container and ignores the permission errors.
		spec.Linux.CgroupsPath = "/kist/" + c.id
	}
	if err := c.writeBundle(spec); err != nil {
		return 0, err
	}

	state.Command, state.Status = spec.Process.Args, store.StatusRunning
	if err := st.SaveContainer(state); err != nil {
		return 0, err
	}
	status, err = c.start(ctx, spec, o.UserNS, opts)
	if err != nil || opts.Remove {
		return status, err
	}

	state.Status, state.ExitCode, state.Pid, state.Finished = store.StatusExited, int(status), 0, time.Now().UTC()
	if err := st.SaveContainer(state); err != nil {
		logrus.Warnf("save state of container %s: %v", id, err)
	}
	return status, nil
}

// instance is one container while kist runs it.
type instance struct {
	id      string
	dir     string
	rootfs  string
	mounted bool
}

func (c *instance) prepareRootfs(st *store.Store, img store.Image) error {
	for _, sub := range []string{"upper", "work", "rootfs", "empty"} {
		// The upper directory's mode becomes the mode of the container's /.
		if err := os.Mkdir(filepath.Join(c.dir, sub), 0o755); err != nil {
			return fmt.Errorf("create container %s: %w", c.id, err)
		}
	}
	layers, err := visibleLayers(st, img)
	if err != nil {
		return err
	}
	err = mountRootfs(st.LayersDir(), layers, filepath.Join(c.dir, "empty"),
		filepath.Join(c.dir, "upper"), filepath.Join(c.dir, "work"), c.rootfs)
	if err != nil {
		return err
	}
	c.mounted = true
	logrus.Debugf("mounted rootfs of container %s", c.id)
	return nil
}

// visibleLayers returns the directory keys of the image's layers, bottom
// first, from the topmost layer with an opaque root up: that layer hides
// all below it.
func visibleLayers(st *store.Store, img store.Image) ([]v1.Hash, error) {
	keys := st.LayerKeys(img.Layers)
	first := 0
	for i, key := range keys {
		info, err := st.Layer(key)
		if err != nil {
			return nil, fmt.Errorf("image %s is missing layer %s: %w; pull the image again", img.ID.Hex[:12], img.Layers[i], err)
		}
		if info.OpaqueRoot {
			first = i
		}
	}
	return keys[first:], nil
}

// options resolves the image config and flags against the mounted rootfs.
func (c *instance) options(opts RunOptions) (*oci.Options, error) {
	cfg := opts.Config.Config
	args, err := oci.Command(cfg, opts.Entrypoint, opts.Args)
	if err != nil {
		return nil, err
	}
	env, err := oci.Env(cfg.Env, opts.Env, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	cwd, err := oci.WorkingDir(cfg, opts.Workdir)
	if err != nil {
		return nil, err
	}
	userSpec := cfg.User
	if opts.User != "" {
		userSpec = opts.User
	}
	user, err := oci.ResolveUser(c.rootfs, userSpec)
	if err != nil {
		return nil, err
	}

	hostname := c.id[:12]
	env = oci.SetDefault(env, "HOSTNAME", hostname)
	env = oci.SetDefault(env, "HOME", user.Home)
	if err := checkCommand(c.rootfs, args[0], cwd, oci.LookupEnv(env, "PATH")); err != nil {
		return nil, err
	}

	mounts, err := writeNetworkFiles(c.dir, hostname)
	if err != nil {
		return nil, err
	}
	network := opts.Network
	if network == "" {
		network = oci.NetworkHost
	}

	idmap, err := rootless.CurrentMap()
	if err != nil {
		return nil, err
	}
	if err := checkUserMapped(idmap, userSpec, &user); err != nil {
		return nil, err
	}
	return &oci.Options{
		Rootfs:         c.rootfs,
		Args:           args,
		Env:            env,
		Cwd:            cwd,
		User:           user.User,
		Hostname:       hostname,
		Network:        network,
		UserNS:         !idmapIsHost(idmap),
		TTYGroupMapped: idmap.HasGID(5),
		Mounts:         mounts,
	}, nil
}

// idmapIsHost reports whether m is the initial user namespace's identity
// map, that is, kist runs as real root.
func idmapIsHost(m rootless.IDMap) bool {
	return len(m.UIDs) == 1 && m.UIDs[0].ContainerID == 0 && m.UIDs[0].HostID == 0 && m.UIDs[0].Size == 4294967295
}

// writeBundle stores the runtime spec as config.json, which makes the
// container directory an OCI bundle that runc itself could run.
func (c *instance) writeBundle(spec *specs.Spec) error {
	data, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(c.dir, "config.json"), data, 0o600); err != nil {
		return fmt.Errorf("write spec of container %s: %w", c.id, err)
	}
	return nil
}

// cleanup unmounts the rootfs and, when remove is set, deletes the
// container directory.
func (c *instance) cleanup(st *store.Store, remove bool) error {
	var errs []error
	if c.mounted {
		errs = append(errs, unmountRootfs(c.rootfs))
	}
	if remove {
		errs = append(errs, st.RemoveContainerDir(c.id))
	}
	return errors.Join(errs...)
}
