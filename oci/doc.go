// Package oci turns an image config and the run flags into an OCI runtime
// spec with the defaults docker applies: the same mounts, capabilities,
// masked paths and environment.
package oci
