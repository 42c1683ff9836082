package unpack

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// Options configures Layer.
type Options struct {
	// Lower lists the unpacked diff directories of the layers below this
	// one, topmost first. A hardlink whose target is not in this layer is
	// resolved through them (honouring whiteouts and opaque directories)
	// and the file is copied into dir. A parent directory that the layer
	// has no entry for copies the metadata of the directory they show.
	// The unpacked tree is therefore right only over the same lower layers.
	Lower []string
	// WaitLower, when set, replaces Lower. Layer calls it at most once,
	// when an entry first needs the lower layers, and it returns their
	// directories as Lower lists them. It may block until those layers
	// are complete, so a layer can unpack alongside the layers below it.
	WaitLower func(context.Context) ([]string, error)
}

// Stats counts what Layer created.
type Stats struct {
	Files     int // regular files, including those copied from a lower layer
	Dirs      int // directory entries, not counting parents created implicitly
	Symlinks  int // symbolic links
	Hardlinks int // hardlink entries, whether linked or copied from a lower layer
	Specials  int // FIFOs and device nodes created
	Whiteouts int // whiteout devices created
	Opaques   int // directories marked opaque
	// LowerCopies counts entries that took content or metadata from a
	// lower layer: hardlinks to lower entries (the first copies the entry,
	// the others link to that copy), and parent directories without an
	// entry of their own that copied the mode, owner, xattrs and times of a
	// lower directory. Such a layer's content depends on the layers below
	// it.
	LowerCopies int
	Skipped     int   // entries not created: aufs metadata and devices mknod rejected
	Bytes       int64 // logical size of the regular files written

	// SkippedDevices names the device nodes that mknod rejected with
	// EPERM, as it does in a user namespace, so the caller can warn about
	// them with the layer's diff ID.
	SkippedDevices []string

	// OpaqueRoot reports an opaque marker on the layer root. Linux 6.18
	// overlayfs ignores the opaque xattr on the root of a lower directory,
	// so a caller that stacks this layer must leave out the layers below it.
	OpaqueRoot bool
}

// unpacker is the state of one Layer call.
type unpacker struct {
	ctx   context.Context // the context of the Layer call
	dir   string
	root  *os.File // O_PATH handle on dir
	stack *stack   // dir stacked over the lower layers, for hardlink targets
	dirs  dirCache // directories that openDir resolved

	// dirTimes maps the name of each directory entry to the access and
	// modification times from its header. They are set after the last entry,
	// because creating entries inside a directory changes its mtime.
	dirTimes map[string][2]unix.Timespec

	// lowerCopies maps each lower entry that a hardlink copied to its copy.
	lowerCopies map[fileID]lowerCopy

	buf, zero []byte // copy buffer, and as many zero bytes to compare with
	stats     Stats
}

// copyChunk is the size of the buffer used to copy file content.
const copyChunk = 128 << 10

// readBufferSize is the size of the buffer on the layer stream. Reads of
// file content of at least this size bypass it.
const readBufferSize = 64 << 10

// Layer extracts the uncompressed tar stream r into dir, which must exist and
// be empty. It reads r to EOF, past the end of the archive, so that a caller
// hashing r covers the whole stream. On error, dir is emptied again.
func Layer(ctx context.Context, r io.Reader, dir string, opts Options) (_ Stats, err error) {
	u, err := newUnpacker(dir, opts)
	if err != nil {
		return Stats{}, err
	}
	u.ctx = ctx
	defer u.close()
	defer func() {
		if err != nil {
			u.discard()
		}
	}()

	// tar.Reader reads headers a block at a time, so buffer the stream.
	r = bufio.NewReaderSize(r, readBufferSize)
	if err := u.extract(ctx, tar.NewReader(r)); err != nil {
		return Stats{}, err
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return Stats{}, fmt.Errorf("drain layer stream: %w", err)
	}
	if err := u.setDirTimes(); err != nil {
		return Stats{}, err
	}
	return u.stats, nil
}

func newUnpacker(dir string, opts Options) (*unpacker, error) {
	root, err := os.OpenFile(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open layer directory: %w", err)
	}
	u := &unpacker{
		dir:         dir,
		root:        root,
		dirTimes:    make(map[string][2]unix.Timespec),
		lowerCopies: make(map[fileID]lowerCopy),
		buf:         make([]byte, copyChunk),
		zero:        make([]byte, copyChunk),
	}
	if err := u.checkEmpty(); err != nil {
		u.close()
		return nil, err
	}
	u.stack, err = openStack(root, opts)
	if err != nil {
		u.close()
		return nil, err
	}
	return u, nil
}

func (u *unpacker) checkEmpty() error {
	d, err := openDirectory(u.root, ".")
	if err != nil {
		return fmt.Errorf("open layer directory: %w", err)
	}
	defer d.Close()
	names, err := d.Readdirnames(1)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read layer directory: %w", err)
	}
	if len(names) > 0 {
		return fmt.Errorf("layer directory %s is not empty", u.dir)
	}
	return nil
}

func (u *unpacker) close() {
	u.dirs.close()
	for _, c := range u.lowerCopies {
		c.file.Close()
	}
	if u.stack != nil {
		u.stack.close()
	}
	u.root.Close()
}

// extract applies every entry of tr, checking ctx between entries.
func (u *unpacker) extract(ctx context.Context, tr *tar.Reader) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read tar header: %w", err)
		}
		if err := u.apply(ctx, hdr, tr); err != nil {
			return fmt.Errorf("unpack entry %q: %w", hdr.Name, err)
		}
	}
}

// discard removes everything unpacked so far, leaving dir empty as the
// caller handed it over.
func (u *unpacker) discard() {
	err := removeContents(u.root, ".")
	if err != nil {
		logrus.WithError(err).WithField("dir", u.dir).Warn("remove partly unpacked layer")
	}
}
