// Package unpack extracts OCI image layers into directories that overlayfs
// can stack as lower directories mounted with the userxattr option.
//
// Each layer is unpacked once, into its own empty directory, in overlayfs's
// "diff" form rather than applied onto the layers below it:
//
//   - A whiteout entry ".wh.NAME" becomes a character device 0/0 named
//     NAME, replacing anything this layer created under that name.
//     NOTE: overlayfs (seen on Linux 6.18) lists such a device when no other
//     layer has the directory it is in, though looking the name up fails
//     with ENOENT. Image builders write whiteouts only for names that exist
//     below, which never leads to this.
//   - An opaque marker "DIR/.wh..wh..opq" becomes the xattr
//     user.overlay.opaque=y on DIR, which is created if needed. Entries of
//     DIR from the same layer stay, wherever the marker sits in the stream.
//     Overlayfs ignores the marker on the root of a lower directory, so
//     Stats.OpaqueRoot reports it to the caller.
//   - A directory created after a whiteout of the same name in the same
//     layer, by its own entry or as the parent of a later one, replaces the
//     whiteout and is marked opaque.
//   - Other ".wh..wh." names are aufs metadata and are skipped, with
//     everything under them.
//   - A hardlink whose target is only in a lower layer (Options.Lower) is a
//     copy of that file, because a link cannot cross layers. Further
//     hardlinks to the same lower file link to the first copy, so the names
//     share an inode and the file is written once.
//   - A parent directory without an entry of its own in the layer takes the
//     mode, owner, xattrs and times of the directory that the lower layers
//     show under its name, as overlayfs's copy-up would keep them. Without
//     one it has mode 0755 and owner 0:0.
//   - Names are not resolved through symlinks of the lower layers: an entry
//     "lib/x" over a lower symlink "lib" creates a directory "lib" that
//     hides the symlink, and so does an opaque marker "lib/.wh..wh..opq".
//
// # Hostile input
//
// A layer is untrusted. No entry can create, write, link, chmod, chown or
// set xattrs outside the directory it is unpacked into:
//
//   - Names are cleaned relative to the root the way tar does it: a leading
//     "/" is dropped and ".." stops at the root, so "/etc/x" and "../etc/x"
//     both become "etc/x". A name longer than PATH_MAX (4096 bytes) is
//     rejected.
//   - Parent directories are resolved with pathrs-lite (openat2 with
//     RESOLVE_IN_ROOT, or its emulation on older kernels), so a symlink in
//     the layer is followed as if the layer root were "/". The final
//     component is then created with *at system calls relative to the
//     parent's descriptor, never following a symlink: an existing entry of
//     another type is removed first, and files are opened with
//     O_CREAT|O_EXCL|O_NOFOLLOW.
//   - A hardlink target is looked up in the stacked view with the same
//     rules, and a link to a symlink links the symlink itself.
//   - An entry that would replace the root itself, such as a symlink named
//     "." or "/", fails the unpack. A directory entry for the root only
//     updates the root's metadata.
//   - A layer may not set xattrs under user.overlay., trusted.overlay. or
//     user.kist.; such records are skipped with a warning.
//   - File content is copied in chunks of 128 KiB, and a chunk of zero
//     bytes becomes a hole, so a header claiming a huge sparse file costs
//     time but no disk space. The context is checked between chunks.
//
// On any error Layer removes what it unpacked, and the error names the
// entry.
//
// # Privileges and ownership
//
// The unpacker runs as root, or as root in a user namespace. It relies on
// CAP_CHOWN, CAP_DAC_OVERRIDE and CAP_FOWNER over the files it creates, which
// is how it writes into directories of mode 0555 or 0000. Owners, modes
// including setuid, setgid and sticky, xattrs and times are set as recorded.
//
// A user namespace may map fewer IDs than the image uses; with a single
// mapped ID, chown to any other fails with EINVAL. Such an entry is then
// owned by 0:0, root in the container, and the image's owner is recorded in
// the xattr user.kist.owner as "UID:GID". Linux allows user.* xattrs only on
// regular files and directories, so for symlinks, FIFOs and devices the
// owner is lost. Device nodes that mknod rejects with EPERM, as it does in a
// user namespace, are skipped and listed in Stats.SkippedDevices; FIFOs
// and whiteouts are always created. Xattrs that the filesystem or the
// namespace rejects, such as trusted.* in a user namespace, are skipped.
//
// Decompress turns a compressed layer blob into the stream Layer reads.
//
// # Tests
//
// testdata/layers holds crafted layers, each named for what it tries, that
// testdata/mklayers generates; TestCorpus checks the overlay mount of each,
// as root and in a user namespace. FuzzLayer mutates those layers and the
// hostile cases. CI fuzzes for 25,000 executions, about 20 seconds; a
// longer session, about half an hour, is
//
//	go test ./unpack -run '^$' -fuzz FuzzLayer -fuzztime 2000000x
//
// The budget is a count rather than a duration because Go 1.26 can fail a
// timed run with "context deadline exceeded" when its deadline races a
// busy worker, with no failing input behind it.
//
// and any input that fails is saved under testdata/fuzz/FuzzLayer, where
// later runs of go test replay it.
package unpack
