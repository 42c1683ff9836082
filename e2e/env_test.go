package e2e

import "testing"

// TestRunEnvCommas checks that -e takes its whole argument as one
// variable, as docker does. A flag parser that splits slice values at
// commas would set LIST to "a" and treat "SECRET" as a request to copy
// the host's SECRET into the container.
func TestRunEnvCommas(t *testing.T) {
	need(t, needRegistry, needBusybox)
	ref := env.busybox.ref(tagLatest)
	tests := []struct {
		name   string
		option string
		script string
		stdout string
	}{
		{"list value", "LIST=a,b,c", `echo "$LIST"`, "a,b,c\n"},
		{"host name after comma", "MSG=hello,SECRET", `echo "$MSG"; echo "${SECRET-unset}"`, "hello,SECRET\nunset\n"},
	}
	forEachIdentity(t, func(t *testing.T, id *identity) {
		pulled(t, id, ref)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := id.run(t, call{
					args: []string{"run", "--rm", "-e", tt.option, ref, "sh", "-c", tt.script},
					// kist copies a bare NAME from its own environment, so
					// SECRET must exist there for a wrong split to show.
					env: []string{"SECRET=from-host"},
				})
				expect(t, r, 0, tt.stdout)
				expectQuiet(t, r)
			})
		}
		expectNoLeftovers(t, id.store())
	})
}
