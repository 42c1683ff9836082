// Package archive reads and writes images as docker-archive and
// oci-archive tar files and as OCI layout directories.
//
// A docker-archive is what docker save writes: manifest.json lists each
// image's config file, layer files and names (RepoTags), and the legacy
// repositories file maps names to the top layer's directory. An
// oci-archive is an OCI image layout (oci-layout, index.json and
// blobs/<algorithm>/<hex>) packed into one tar file.
//
// Archives come from anywhere, so the reader trusts nothing in them:
//
//   - It reads the tar file in place and never extracts it.
//   - It rejects member names that are absolute or contain "..", and
//     follows symlinks and hardlinks only to other members.
//   - It rejects duplicate members and members cut short by the end of
//     the file, and caps the size of every JSON document.
//   - It hands each layer to its consumer through a reader that checks
//     the layer's digest.
package archive
