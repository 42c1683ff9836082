package main

// layers returns its arguments as the layers of a case, bottom first.
func layers(bottomFirst ...[]entry) [][]entry { return bottomFirst }

// oneLayer returns entries as the only layer of a case.
func oneLayer(entries ...entry) [][]entry { return [][]entry{entries} }

func whiteoutCases() []corpusCase {
	return []corpusCase{
		{
			name: "whiteout-file",
			doc:  "Whiteouts of a lower file, of a name no layer has, and of a file created earlier in the same layer.",
			layers: layers(
				[]entry{
					dir("etc/", 0o755),
					file("etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0o644),
					file("etc/group", "root:x:0:\n", 0o644),
				},
				[]entry{
					whiteout("etc/passwd"),
					whiteout("never-existed"),
					file("same-layer", "created, then deleted", 0o644),
					whiteout("same-layer"),
				},
			),
		},
		{
			name: "whiteout-dir",
			doc:  "A whiteout of a populated lower directory that holds a 0555 directory with read-only files.",
			layers: layers(
				[]entry{
					dir("opt/", 0o755),
					dir("opt/app/", 0o755),
					dir("opt/app/bin/", 0o555),
					file("opt/app/bin/tool", "tool", 0o555),
					file("opt/app/conf", "conf", 0o444),
					file("opt/other", "other", 0o644),
				},
				[]entry{whiteout("opt/app")},
			),
		},
		{
			name: "whiteout-then-recreate",
			doc: "Names deleted and created again in one layer: a directory as an implicit parent, a directory " +
				"by its own entry, and a directory created and then deleted.",
			layers: layers(
				[]entry{
					file("data/old", "old", 0o644),
					file("conf", "a file below", 0o644),
					file("log/old", "old", 0o644),
				},
				[]entry{
					whiteout("data"),
					file("data/new", "new", 0o644),
					whiteout("conf"),
					dir("conf/", 0o750),
					file("conf/x", "x", 0o644),
					dir("log/", 0o755),
					file("log/new", "new", 0o644),
					whiteout("log"),
				},
			),
		},
		{
			name: "whiteout-lower-symlink",
			doc:  "A whiteout of a lower symlink to a directory deletes the symlink, not its target.",
			layers: layers(
				[]entry{file("target/file", "kept", 0o644), symlink("link", "target")},
				[]entry{whiteout("link")},
			),
		},
		{
			name: "opaque-marker-positions",
			doc: "Opaque markers before and after the directory's entries, before the directory's own entry, " +
				"with no directory entry, and in a directory whose parent is only in the lower layer.",
			layers: layers(
				[]entry{
					file("first/old", "old", 0o644),
					file("last/old", "old", 0o644),
					file("before-dir-entry/old", "old", 0o644),
					owned(dir("no-dir-entry/", 0o750), 7, 8),
					file("no-dir-entry/old", "old", 0o644),
					file("nested/keep", "kept", 0o644),
					file("nested/inner/old", "old", 0o644),
				},
				[]entry{
					dir("first/", 0o755),
					opaque("first"),
					file("first/new", "new", 0o644),

					dir("last/", 0o755),
					file("last/new", "new", 0o644),
					opaque("last"),

					opaque("before-dir-entry"),
					dir("before-dir-entry/", 0o700),
					file("before-dir-entry/new", "new", 0o644),

					opaque("no-dir-entry"),
					file("no-dir-entry/new", "new", 0o644),

					opaque("nested/inner"),
				},
			),
		},
		{
			name: "opaque-over-lower-symlink",
			doc: "Opaque markers in directories that are symlinks in the lower layer replace the symlinks " +
				"and leave their targets alone.",
			layers: layers(
				[]entry{
					file("target/keep", "kept", 0o644),
					symlink("link", "target"),
					symlink("abs-link", "/target"),
				},
				[]entry{
					opaque("link"),
					file("link/new", "new", 0o644),
					opaque("abs-link"),
				},
			),
		},
		{
			name: "opaque-root",
			doc:  "An opaque marker on the layer root, which overlayfs ignores: the caller must drop the layers below.",
			layers: layers(
				[]entry{file("old", "old", 0o644), file("d/old", "old", 0o644)},
				[]entry{opaque("."), file("new", "new", 0o644)},
			),
		},
		{
			name: "aufs-metadata.tar",
			doc:  "aufs metadata entries (.wh..wh.*) and everything under them are skipped.",
			layers: oneLayer(
				file(".wh..wh.aufs", "", 0o644),
				dir(".wh..wh.plnk/", 0o700),
				file(".wh..wh.plnk/1234.5678", "hardlink store", 0o644),
				dir(".wh..wh.orph/", 0o700),
				file("kept", "kept", 0o644),
			),
		},
	}
}

func typeCases() []corpusCase {
	return []corpusCase{
		{
			name: "file-replaced-by-dir",
			doc:  "A lower file replaced by a directory entry, and another by an implicit parent directory.",
			layers: layers(
				[]entry{file("x", "a file below", 0o644), file("y", "a file below", 0o644)},
				[]entry{dir("x/", 0o700), file("x/inner", "inner", 0o644), file("y/inner", "inner", 0o644)},
			),
		},
		{
			name: "dir-0555-replaced-by-file",
			doc:  "A populated 0555 lower directory with read-only children replaced by a file.",
			layers: layers(
				[]entry{
					dir("ro/", 0o555),
					dir("ro/sub/", 0o555),
					file("ro/sub/file", "read-only", 0o444),
					file("ro/file", "read-only", 0o444),
					symlink("ro/link", "file"),
				},
				[]entry{file("ro", "now a file", 0o600)},
			),
		},
		{
			name: "dir-replaced-by-symlink",
			doc:  "A populated lower directory replaced by a symlink.",
			layers: layers(
				[]entry{file("d/f", "below", 0o644)},
				[]entry{symlink("d", "elsewhere")},
			),
		},
		{
			name: "implicit-parents.tar",
			doc: "Entries without entries for their parents, some under a setgid directory: implicit parents " +
				"are 0755 and owned by 0:0.",
			layers: oneLayer(
				file("a/b/c/file", "deep", 0o644),
				owned(dir("sg/", 0o2775), 0, 50),
				file("sg/x/y/file", "under setgid", 0o644),
			),
		},
		{
			name: "implicit-parent-over-lower-dir",
			doc: "Entries whose parents exist only in the lower layer: the parents keep the lower mode, " +
				"owner and xattrs, as in the stacked view.",
			layers: layers(
				[]entry{
					dir("home/", 0o755),
					withPAX(owned(dir("home/user/", 0o700), 1000, 100), map[string]string{
						"SCHILY.xattr.user.note": "home",
					}),
					dir("tmp/", 0o1777),
					owned(dir("srv/", 0o2750), 0, 50),
				},
				[]entry{
					owned(file("home/user/.profile", "profile", 0o644), 1000, 100),
					file("tmp/new", "new", 0o600),
					file("srv/a/b", "b", 0o644),
				},
			),
		},
		{
			name: "implicit-parent-over-lower-symlink",
			doc: "An entry under a name that is a symlink to a directory in the lower layer: the layer's names " +
				"are not resolved through lower symlinks, so a directory replaces the symlink.",
			layers: layers(
				[]entry{file("usr/lib/libc.so", "libc", 0o755), symlink("lib", "usr/lib")},
				[]entry{file("lib/extra.so", "extra", 0o755)},
			),
		},
		{
			name: "duplicate-entries.tar",
			doc:  "Names listed more than once: the last entry wins, and a directory over a directory merges.",
			layers: oneLayer(
				file("file", "first", 0o600),
				owned(file("file", "second", 0o644), 1, 2),

				dir("dir/", 0o755),
				file("dir/kept", "kept", 0o644),
				owned(dir("dir/", 0o700), 7, 7),

				file("file-then-dir", "x", 0o644),
				dir("file-then-dir/", 0o711),

				dir("dir-then-file/", 0o555),
				dir("dir-then-file/sub/", 0o555),
				file("dir-then-file/sub/ro", "x", 0o444),
				file("dir-then-file", "replaced a read-only tree", 0o644),

				symlink("link-then-file", "target"),
				file("link-then-file", "y", 0o600),

				file("file-then-link", "x", 0o644),
				symlink("file-then-link", "target"),

				file("self", "listed twice", 0o644),
				hardlink("self", "self"),

				file("linked", "shared", 0o644),
				hardlink("second-name", "linked"),
				file("second-name", "no longer shared", 0o644),
			),
		},
	}
}

func hardlinkCases() []corpusCase {
	return []corpusCase{
		{
			name: "hardlink-to-lower",
			doc: "Hardlinks to a lower file, by relative and absolute name, and to a lower symlink: " +
				"the first name of each becomes a copy with the lower entry's metadata, since a link " +
				"cannot cross layers, and the second name links to that copy.",
			layers: layers(
				[]entry{
					dir("usr/", 0o755),
					dir("usr/bin/", 0o755),
					modified(withPAX(owned(file("usr/bin/tool", "tool", 0o4750), 10, 20), map[string]string{
						"SCHILY.xattr.user.origin": "lower",
					}), lowerTime),
					symlink("usr/bin/sym", "tool"),
				},
				[]entry{
					dir("usr/bin/", 0o755),
					hardlink("usr/bin/alias", "usr/bin/tool"),
					hardlink("usr/bin/alias-abs", "/usr/bin/tool"),
					hardlink("usr/bin/sym-copy", "usr/bin/sym"),
				},
			),
		},
		{
			name: "hardlink-to-symlink.tar",
			doc:  "Hardlinks to a symlink and to a dangling symlink link the symlinks themselves.",
			layers: oneLayer(
				file("target", "target", 0o644),
				symlink("sym", "target"),
				hardlink("hard", "sym"),
				symlink("dangling", "nowhere"),
				hardlink("hard-to-dangling", "dangling"),
			),
		},
		{
			name: "hardlink-absolute-name.tar",
			doc:  "Hardlinks with an absolute link name, an absolute entry name and a link name with \"..\".",
			layers: oneLayer(
				dir("etc/", 0o755),
				file("etc/a", "shared", 0o644),
				hardlink("etc/b", "/etc/a"),
				hardlink("/etc/c", "./etc/a"),
				hardlink("etc/d", "../etc/a"),
			),
		},
		{
			name: "hardlink-rewrite-one-name",
			doc: "A later entry rewrites one name of a hardlinked pair, in a later layer and in the same layer: " +
				"only that name changes.",
			layers: layers(
				[]entry{file("a", "shared", 0o644), hardlink("b", "a")},
				[]entry{
					file("b", "rewritten", 0o644),
					file("c", "shared in one layer", 0o644),
					hardlink("d", "c"),
					file("d", "rewritten in one layer", 0o644),
				},
			),
		},
	}
}
