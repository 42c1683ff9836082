package rootfsimage

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestApply(t *testing.T) {
	cases := []struct {
		change string
		want   v1.Config
	}{
		{`CMD ["/bin/sh", "-c", "echo hi"]`, v1.Config{Cmd: []string{"/bin/sh", "-c", "echo hi"}}},
		{`CMD echo hi`, v1.Config{Cmd: []string{"/bin/sh", "-c", "echo hi"}}},
		{`cmd ["ls"]`, v1.Config{Cmd: []string{"ls"}}},
		{`ENTRYPOINT ["/init", "--verbose"]`, v1.Config{Entrypoint: []string{"/init", "--verbose"}}},
		{`ENTRYPOINT /init`, v1.Config{Entrypoint: []string{"/bin/sh", "-c", "/init"}}},
		{`ENV A=1 B="two words" C=x\ y`, v1.Config{Env: []string{"A=1", "B=two words", "C=x y"}}},
		{`ENV PATH /usr/bin:/bin`, v1.Config{Env: []string{"PATH=/usr/bin:/bin"}}},
		{`ENV GREETING hello world`, v1.Config{Env: []string{"GREETING=hello world"}}},
		{`WORKDIR /srv/app`, v1.Config{WorkingDir: "/srv/app"}},
		{`USER 1000:1000`, v1.Config{User: "1000:1000"}},
		{`USER app:staff`, v1.Config{User: "app:staff"}},
		{`LABEL a=b "c d"='e f'`, v1.Config{Labels: map[string]string{"a": "b", "c d": "e f"}}},
		{`EXPOSE 80 53/udp 8000-8002/tcp`, v1.Config{ExposedPorts: map[string]struct{}{"80/tcp": {}, "53/udp": {}, "8000/tcp": {}, "8001/tcp": {}, "8002/tcp": {}}}},
		{`EXPOSE 0 65535/UDP 080`, v1.Config{ExposedPorts: map[string]struct{}{"0/tcp": {}, "65535/udp": {}, "80/tcp": {}}}},
		{`EXPOSE 7-7/sctp`, v1.Config{ExposedPorts: map[string]struct{}{"7/sctp": {}}}},
		{`WORKDIR rel/dir`, v1.Config{WorkingDir: "/rel/dir"}},
		{`WORKDIR /srv/../app/`, v1.Config{WorkingDir: "/app"}},
		{`ENV A=1 \` + "\n" + `B=2`, v1.Config{Env: []string{"A=1", "B=2"}}},
		{"ENV A=1 \\  \n  B=2", v1.Config{Env: []string{"A=1", "B=2"}}},
		{"ENV A=1\nLABEL l=v", v1.Config{Env: []string{"A=1"}, Labels: map[string]string{"l": "v"}}},
		{"# comment\n\nUSER app", v1.Config{User: "app"}},
		{"USER app \\", v1.Config{User: "app"}},
		{"ENV\tA=1", v1.Config{Env: []string{"A=1"}}},
		{`ENV EMPTY=`, v1.Config{Env: []string{"EMPTY="}}},
		{`LABEL empty=""`, v1.Config{Labels: map[string]string{"empty": ""}}},
		{`STOPSIGNAL 9`, v1.Config{StopSignal: "9"}},
		{`STOPSIGNAL term`, v1.Config{StopSignal: "term"}},
		{`STOPSIGNAL SIGRTMIN+3`, v1.Config{StopSignal: "SIGRTMIN+3"}},
		{`STOPSIGNAL RTMAX-1`, v1.Config{StopSignal: "RTMAX-1"}},
		{`STOPSIGNAL SIGCLD`, v1.Config{StopSignal: "SIGCLD"}},
		{`VOLUME ["/data", "/logs"]`, v1.Config{Volumes: map[string]struct{}{"/data": {}, "/logs": {}}}},
		{`VOLUME /data`, v1.Config{Volumes: map[string]struct{}{"/data": {}}}},
		{`STOPSIGNAL SIGINT`, v1.Config{StopSignal: "SIGINT"}},
	}
	for _, tc := range cases {
		t.Run(tc.change, func(t *testing.T) {
			var got v1.Config
			if err := Apply(&got, tc.change); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplyReplacesEnv(t *testing.T) {
	cfg := v1.Config{Env: []string{"A=1", "B=2"}}
	if err := Apply(&cfg, "ENV A=3"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"A=3", "B=2"}, cfg.Env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
}

func TestApplyErrors(t *testing.T) {
	cases := []struct{ change, want string }{
		{"RUN make", "unknown instruction RUN; kist supports CMD"},
		{"CMD", "CMD needs an argument"},
		{"", "it is empty"},
		{"  \n# only a comment", "it is empty"},
		{"EXPOSE http", `port "http" is not`},
		{"EXPOSE 80/icmp", `port "80/icmp" has the protocol "icmp"`},
		{"EXPOSE 70000", `port "70000" is not`},
		{"EXPOSE -1", `port "-1" is not`},
		{"EXPOSE 82-80", `port range "82-80" ends below its start`},
		{"EXPOSE 80-", `port "80-" is not`},
		{"EXPOSE 80:81", `port "80:81" is not`},
		{"USER :", `invalid USER ":"`},
		{"USER app:", `invalid USER "app:"`},
		{"USER :grp", `invalid USER ":grp"`},
		{"USER a b", `invalid USER "a b"`},
		{"STOPSIGNAL NOPE", `invalid stop signal "NOPE"`},
		{"STOPSIGNAL 0", `invalid stop signal "0"`},
		{"STOPSIGNAL 65", `invalid stop signal "65"`},
		{"STOPSIGNAL SIGRTMIN+16", `invalid stop signal "SIGRTMIN+16"`},
		{"ENV FOO", "ENV FOO has no value; write ENV FOO=VALUE"},
		{"LABEL a", "LABEL a has no value; write LABEL a=VALUE"},
		{"ENV A=1\nRUN x", "unknown instruction RUN"},
		{`ENV A="open`, "unterminated"},
		{"LABEL a=b =c", `"=c" is not KEY=VALUE`},
		{`VOLUME ["/data"`, "not a JSON array"},
	}
	for _, tc := range cases {
		t.Run(tc.change, func(t *testing.T) {
			var cfg v1.Config
			err := Apply(&cfg, tc.change)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
