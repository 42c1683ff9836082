// Package pull copies images from a registry or an OCI image layout into
// the store: it verifies every blob against its digest while it streams,
// and unpacks each layer once, as it downloads, into the store's layer
// directory.
package pull
