package main

// The escape cases aim at two places outside the layer directory. The
// corpus test unpacks each layer into BASE/N with a directory BASE/outside
// beside it, so "../outside" leads there from the layer root. Absolute
// names and long ".." chains aim at hostEscapeDir on the host, which the
// test checks does not appear.
const hostEscapeDir = "/tmp/kist-corpus-escape"

func escapeCases() []corpusCase {
	return []corpusCase{
		{
			name: "escape-dotdot.tar",
			doc:  "Names with \"..\" that climb out of the root: they stop at the root, as in tar.",
			layers: oneLayer(
				file("../outside/sentinel", "pwned", 0o644),
				file("a/../../outside/new", "pwned", 0o644),
				file("../../../../../../../.."+hostEscapeDir+"/dotdot", "pwned", 0o644),
			),
		},
		{
			name: "escape-absolute.tar",
			doc:  "Absolute names: the leading \"/\" is dropped.",
			layers: oneLayer(
				file(hostEscapeDir+"/absolute", "pwned", 0o644),
				file("/../outside/sentinel", "pwned", 0o644),
			),
		},
		{
			name: "escape-symlink-then-write.tar",
			doc: "Symlinks to \"..\" chains, to an absolute path and to \"../outside\", then entries written " +
				"through them: each resolves inside the root.",
			layers: oneLayer(
				symlink("up", "../../../../../../.."),
				file("up"+hostEscapeDir+"/through-relative", "pwned", 0o644),
				symlink("abs", hostEscapeDir),
				file("abs/through-absolute", "pwned", 0o644),
				dir("outside/", 0o755),
				symlink("out", "../outside"),
				file("out/sentinel", "pwned", 0o644),
			),
		},
		{
			name: "escape-symlink-dangling-then-write.tar",
			doc:  "A write through a symlink to \"../outside\", which does not exist inside the root: rejected.",
			layers: oneLayer(
				symlink("out", "../outside"),
				file("out/sentinel", "pwned", 0o644),
			),
		},
		{
			name: "escape-symlink-swapped-after-dir.tar",
			doc:  "A directory replaced by a symlink to \"../outside\" between writes into it: rejected.",
			layers: oneLayer(
				dir("a/", 0o755),
				file("a/x", "x", 0o644),
				symlink("a", "../outside"),
				file("a/sentinel", "pwned", 0o644),
			),
		},
		{
			name: "escape-symlink-loop.tar",
			doc:  "A write through two symlinks that point at each other: rejected.",
			layers: oneLayer(
				symlink("loop1", "loop2"),
				symlink("loop2", "loop1"),
				file("loop1/x", "x", 0o644),
			),
		},
		{
			name:   "escape-hardlink-outside.tar",
			doc:    "A hardlink to \"../outside/sentinel\": resolved inside the root, where it does not exist, so rejected.",
			layers: oneLayer(hardlink("h", "../outside/sentinel")),
		},
		{
			name: "escape-hardlink-through-symlink.tar",
			doc:  "A hardlink to a file through a symlink to \"../outside\": rejected.",
			layers: oneLayer(
				symlink("out", "../outside"),
				hardlink("h", "out/sentinel"),
			),
		},
		{
			name:   "escape-hardlink-host-absolute.tar",
			doc:    "A hardlink to /etc/passwd, which exists on the host but not in the layer: rejected.",
			layers: oneLayer(hardlink("passwd", "/etc/passwd")),
		},
		{
			name:   "escape-symlink-named-dot.tar",
			doc:    "A symlink named \".\", which would replace the layer root: rejected.",
			layers: oneLayer(symlink(".", "/")),
		},
		{
			name:   "escape-symlink-named-slash.tar",
			doc:    "A symlink named \"/\", which would replace the layer root: rejected.",
			layers: oneLayer(symlink("/", "../outside")),
		},
		{
			name:   "escape-symlink-named-dotdot.tar",
			doc:    "A symlink named \"..\", which cleans to the layer root: rejected.",
			layers: oneLayer(symlink("..", "/")),
		},
		{
			name: "escape-chmod-through-link.tar",
			doc: "Mode, owner and xattrs set on symlinks to a file and a directory outside, a directory entry " +
				"over such a symlink, and a hardlink to one: the links are changed, never their targets.",
			layers: oneLayer(
				withPAX(owned(symlink("evil", "../outside/sentinel"), 1234, 1234), map[string]string{
					"SCHILY.xattr.user.pwned":    "x",
					"SCHILY.xattr.trusted.pwned": "x",
				}),
				modeOf(owned(symlink("evil-dir", "../outside/dir"), 1234, 1234), 0o7777),
				symlink("dir-over-link", "../outside/dir"),
				owned(dir("dir-over-link/", 0o777), 1234, 1234),
				hardlink("evil-hardlink", "evil"),
				symlink("fifo-over-link", "../outside/sentinel"),
				fifo("fifo-over-link", 0o666),
			),
		},
		{
			name: "escape-whiteout-outside.tar",
			doc:  "A whiteout and an opaque marker under \"../outside\": they land inside the root.",
			layers: oneLayer(
				whiteout("../outside/sentinel"),
				opaque("../outside/dir"),
			),
		},
		{
			name: "escape-through-lower-symlink",
			doc: "A layer writes under names that are symlinks out of the root in the layer below: it creates " +
				"directories in its own layer instead.",
			layers: layers(
				[]entry{symlink("abs", hostEscapeDir), symlink("rel", "../outside")},
				[]entry{file("abs/x", "x", 0o644), file("rel/sentinel", "pwned", 0o644)},
			),
		},
		{
			name: "escape-hardlink-through-lower-symlink",
			doc:  "A hardlink through a lower symlink to \"../outside\": rejected.",
			layers: layers(
				[]entry{symlink("rel", "../outside")},
				[]entry{hardlink("h", "rel/sentinel")},
			),
		},
	}
}

func modeOf(e entry, mode int64) entry {
	e.hdr.Mode = mode
	return e
}
