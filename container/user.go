package container

import (
	"fmt"

	"github.com/sirupsen/logrus"

	"github.com/kist-project/kist/oci"
	"github.com/kist-project/kist/rootless"
)

// checkUserMapped makes sure the container's user exists in kist's user
// namespace. A user without subordinate IDs has only uid and gid 0 there,
// so an image that runs as another user cannot start. The error explains
// the fix, where libcontainer would only report "cannot setgid to
// unmapped gid".
// Supplementary groups that are not mapped are dropped, as setgroups
// could not set them either.
func checkUserMapped(idmap rootless.IDMap, spec string, user *oci.User) error {
	if !idmap.HasUID(user.UID) || !idmap.HasGID(user.GID) {
		hint := "add a subordinate ID range for your user to /etc/subuid and /etc/subgid " +
			"(for example: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $USER) " +
			"and install newuidmap and newgidmap (Debian package uidmap), or run as root in the container with --user 0"
		if !idmap.Single() {
			hint = "widen the subordinate ID ranges in /etc/subuid and /etc/subgid, or choose another user with --user"
		}
		return fmt.Errorf("the container user %q (uid %d, gid %d) is not mapped in kist's user namespace; %s",
			spec, user.UID, user.GID, hint)
	}

	mapped := user.AdditionalGids[:0]
	for _, gid := range user.AdditionalGids {
		if idmap.HasGID(gid) {
			mapped = append(mapped, gid)
			continue
		}
		logrus.Debugf("drop supplementary group %d of user %q: not mapped in the user namespace", gid, spec)
	}
	user.AdditionalGids = mapped
	return nil
}
