package unpack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// maxSymlinks is the number of symlinks one lookup may follow, Linux's
// MAXSYMLINKS.
const maxSymlinks = 40

// stack is the view overlayfs gives of the layer being unpacked (index 0)
// stacked over its lower layers. It resolves hardlink targets, which name a
// path in that view: pathrs resolves inside one directory tree only.
type stack struct {
	roots []*os.File // O_PATH handles, of which the unpacker owns roots[0]

	// waitLower, until openLower has called it, returns the lower
	// directories, waiting until those layers are complete.
	waitLower func(context.Context) ([]string, error)
}

// location is the entry that a name resolves to in the stack.
type location struct {
	layer int         // index into stack.roots
	name  string      // cleaned name in that layer, with no symlink in it
	stat  unix.Stat_t // status of the entry, not following a symlink
}

// layerDir is one layer's directory that contributes to a directory of the
// stacked view.
type layerDir struct {
	layer int
	dir   *os.File
}

// openStack stacks top over the lower directories of opts: over
// opts.Lower at once, or over what opts.WaitLower returns once an entry
// needs them.
func openStack(top *os.File, opts Options) (*stack, error) {
	s := &stack{roots: []*os.File{top}}
	if opts.WaitLower != nil {
		s.waitLower = opts.WaitLower
		return s, nil
	}
	if err := s.addLower(opts.Lower); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *stack) addLower(lower []string) error {
	for _, dir := range lower {
		f, err := os.OpenFile(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open lower layer: %w", err)
		}
		s.roots = append(s.roots, f)
	}
	return nil
}

// hasLower reports whether the stack has lower layers, opened or not.
func (s *stack) hasLower() bool {
	return len(s.roots) > 1 || s.waitLower != nil
}

// openLower opens the lower layers if they are still pending, waiting
// for them to be complete.
func (s *stack) openLower(ctx context.Context) error {
	if s.waitLower == nil {
		return nil
	}
	wait := s.waitLower
	s.waitLower = nil
	lower, err := wait(ctx)
	if err != nil {
		return fmt.Errorf("wait for lower layers: %w", err)
	}
	return s.addLower(lower)
}

// resolve is lookup that waits for pending lower layers only when the
// layer alone does not resolve name. Without the lower layers, lookup
// differs only by failing with ENOENT: every other result comes from
// entries of the top layer, which hide the same names below them.
func (s *stack) resolve(ctx context.Context, name string) (location, error) {
	if s.waitLower != nil {
		loc, err := s.lookup(ctx, name)
		if !errors.Is(err, unix.ENOENT) {
			return loc, err
		}
		if err := s.openLower(ctx); err != nil {
			return location{}, err
		}
	}
	return s.lookup(ctx, name)
}

func (s *stack) close() {
	for _, f := range s.roots[1:] {
		f.Close()
	}
	s.roots = s.roots[:1]
}

// lookup resolves the cleaned name in the stacked view. Symlinks in parent
// components are followed, with "/" and ".." kept inside the root. A symlink
// as the final component is not followed.
//
// NOTE: each component is looked up from the root again, so the cost grows
// with the square of the depth. Symlinks can make a path of tens of
// thousands of components, so ctx is checked for each one.
func (s *stack) lookup(ctx context.Context, name string) (location, error) {
	resolved := "" // cleaned name, free of symlinks, of the current directory
	rest := strings.Split(name, "/")
	links := 0
	for len(rest) > 0 {
		if err := ctx.Err(); err != nil {
			return location{}, err
		}
		part := rest[0]
		rest = rest[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			resolved = parentName(resolved)
			continue
		}

		loc, err := s.find(joinName(resolved, part))
		if err != nil {
			return location{}, err
		}
		if len(rest) == 0 {
			return loc, nil
		}
		switch loc.stat.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			resolved = loc.name
		case unix.S_IFLNK:
			links++
			if links > maxSymlinks {
				return location{}, unix.ELOOP
			}
			target, err := s.readlink(loc)
			if err != nil {
				return location{}, err
			}
			if strings.HasPrefix(target, "/") {
				resolved = ""
			}
			rest = append(strings.Split(target, "/"), rest...)
		default:
			return location{}, unix.ENOTDIR
		}
	}
	return location{}, errors.New("resolves to the layer root")
}

// find returns the topmost entry with the symlink-free name in the stacked
// view, applying overlayfs's rules: a whiteout hides the name in the layers
// below, a non-directory hides everything below it, and an opaque directory
// hides the directories below it.
func (s *stack) find(name string) (location, error) {
	dirs, err := s.rootDirs()
	if err != nil {
		return location{}, err
	}
	parts := strings.Split(name, "/")
	for i, part := range parts {
		last := i == len(parts)-1
		found, next, err := step(dirs, part, last)
		closeDirs(dirs)
		dirs = next
		if err != nil {
			closeDirs(dirs)
			return location{}, err
		}
		if last {
			found.name = name
			return found, nil
		}
	}
	panic("unreachable: name has at least one component")
}

// rootDirs opens the root of each layer down to the first opaque one.
func (s *stack) rootDirs() ([]layerDir, error) {
	var dirs []layerDir
	for i, root := range s.roots {
		d, err := openDirectory(root, ".")
		if err != nil {
			closeDirs(dirs)
			return nil, err
		}
		dirs = append(dirs, layerDir{layer: i, dir: d})
		opaque, err := isOpaque(d)
		if err != nil {
			closeDirs(dirs)
			return nil, err
		}
		if opaque {
			break
		}
	}
	return dirs, nil
}

// step looks part up in the directories that make up one directory of the
// stacked view, topmost first. Unless part is the last component, it also
// opens the directories that make up part.
func step(dirs []layerDir, part string, last bool) (location, []layerDir, error) {
	var found *location
	var next []layerDir
	for _, d := range dirs {
		st, ok, err := lstatAt(d.dir, part)
		if err != nil {
			closeDirs(next)
			return location{}, nil, err
		}
		if !ok {
			continue
		}
		if isWhiteout(&st) || (found != nil && !isDir(&st)) {
			break
		}
		if found == nil {
			found = &location{layer: d.layer, stat: st}
			if last || !isDir(&st) {
				break
			}
		}
		sub, err := openDirectory(d.dir, part)
		if err != nil {
			closeDirs(next)
			return location{}, nil, err
		}
		next = append(next, layerDir{layer: d.layer, dir: sub})
		opaque, err := isOpaque(sub)
		if err != nil {
			closeDirs(next)
			return location{}, nil, err
		}
		if opaque {
			break
		}
	}

	switch {
	case found == nil:
		return location{}, nil, unix.ENOENT
	case !last && !isDir(&found.stat):
		return location{}, nil, unix.ENOTDIR
	}
	return *found, next, nil
}

func (s *stack) readlink(loc location) (string, error) {
	parent, base, err := s.openParent(loc)
	if err != nil {
		return "", err
	}
	defer parent.Close()
	buf := make([]byte, maxNameLen+1)
	n, err := unix.Readlinkat(fd(parent), base, buf)
	if err != nil {
		return "", os.NewSyscallError("readlinkat", err)
	}
	return string(buf[:n]), nil
}

// openParent opens the directory containing loc in its layer and returns it
// with loc's final component. It checks that the entry there is still the
// one that lookup found.
func (s *stack) openParent(loc location) (*os.File, string, error) {
	dir, base := splitName(loc.name)
	parent, err := pathrs.OpenatInRoot(s.roots[loc.layer], dir)
	if err != nil {
		return nil, "", err
	}
	st, ok, err := lstatAt(parent, base)
	if err == nil && (!ok || st.Dev != loc.stat.Dev || st.Ino != loc.stat.Ino) {
		err = fmt.Errorf("%q changed during lookup", loc.name)
	}
	if err != nil {
		parent.Close()
		return nil, "", err
	}
	return parent, base, nil
}

// isWhiteout reports whether st is overlayfs's whiteout, a character device
// with device number 0/0.
func isWhiteout(st *unix.Stat_t) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0
}

func isOpaque(d *os.File) (bool, error) {
	var value [1]byte
	n, err := unix.Fgetxattr(fd(d), opaqueXattr, value[:])
	switch {
	case errors.Is(err, unix.ENODATA), errors.Is(err, unix.ENOTSUP), errors.Is(err, unix.ERANGE):
		return false, nil
	case err != nil:
		return false, os.NewSyscallError("fgetxattr", err)
	}
	return n == 1 && value[0] == 'y', nil
}

func closeDirs(dirs []layerDir) {
	for _, d := range dirs {
		d.dir.Close()
	}
}
