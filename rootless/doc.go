// Package rootless moves kist into a user namespace of its own, so an
// unprivileged user can unpack images with their real owners, mount
// overlayfs and start containers.
//
// The parent process re-executes the kist binary in a new user and mount
// namespace and relays signals and the exit status. With subordinate IDs in
// /etc/subuid and /etc/subgid and the newuidmap and newgidmap helpers
// installed, the child maps the caller to root and the subordinate range to
// IDs 1 and up. Without them it maps the caller's uid and gid alone, which
// the kernel allows any user to do. Real root gets a new mount namespace
// only, so its mounts stay private to one kist invocation.
package rootless
