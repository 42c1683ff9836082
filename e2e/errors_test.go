package e2e

import (
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestRunErrors checks the exit status and the one-line message of each
// way kist run fails before or while starting the command: 125 for
// kist's own failures, 126 when the command cannot be executed and 127
// when it does not exist. None may leave a container, a temporary file or
// a new image behind.
func TestRunErrors(t *testing.T) {
	need(t, needRegistry, needBusybox)
	if conn, err := net.DialTimeout("tcp", "127.0.0.1:1", time.Second); err == nil {
		conn.Close()
		t.Fatal("something listens on 127.0.0.1:1, which the unreachable-registry case needs closed")
	}
	busybox := env.busybox.ref(tagLatest)
	nosuch := env.registry + "/nosuch:latest"
	tests := []struct {
		name string
		args []string
		code int
		// value is the bad value that the message must name.
		value string
	}{
		{"invalid reference", []string{"BAD::ref"}, 125, "BAD::ref"},
		{"unknown image", []string{nosuch}, 125, nosuch},
		{"unreachable registry", []string{"127.0.0.1:1/x"}, 125, "127.0.0.1:1/x"},
		{"missing command", []string{busybox, "nosuchcmd"}, 127, "nosuchcmd"},
		{"command not executable", []string{busybox, "/etc/passwd"}, 126, "/etc/passwd"},
	}
	forEachIdentity(t, func(t *testing.T, id *identity) {
		pulled(t, id, busybox)
		before := mustSucceed(t, id, "images", "-q").stdout
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := runKist(t, id, append([]string{"run", "--rm"}, tt.args...)...)
				expect(t, r, tt.code, "")
				expectOneLine(t, r, tt.value)
				expectNoLeftovers(t, id.store())

				after := mustSucceed(t, id, "images", "-q").stdout
				if diff := cmp.Diff(before, after); diff != "" {
					t.Errorf("kist images -q changed (-before +after):\n%s", diff)
				}
			})
		}
	})
}
