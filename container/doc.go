// Package container creates and runs one container from a stored image:
// an overlayfs root over the image's layers, an OCI runtime spec, and
// runc's libcontainer to start the process, with no daemon.
//
// The caller must already run inside the namespaces that package rootless
// provides: as root, or as root of a user namespace, in a private mount
// namespace that holds the container's overlay mount.
package container
