package commands

import (
	"testing"
	"time"
)

func TestHumanSize(t *testing.T) {
	tests := map[int64]string{0: "0B", 999: "999B", 1000: "1kB", 3960000: "3.96MB", 1234567890: "1.23GB"}
	for n, want := range tests {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestHumanAgo(t *testing.T) {
	now := time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		ago  time.Duration
		want string
	}{
		{0, "Less than a second ago"},
		{5 * time.Second, "5 seconds ago"},
		{time.Minute, "1 minute ago"},
		{time.Hour, "An hour ago"},
		{3 * time.Hour, "3 hours ago"},
		{3 * 24 * time.Hour, "3 days ago"},
		{21 * 24 * time.Hour, "3 weeks ago"},
		{90 * 24 * time.Hour, "3 months ago"},
		{3 * 365 * 24 * time.Hour, "3 years ago"},
	}
	for _, tt := range tests {
		if got := humanAgo(now.Add(-tt.ago), now); got != tt.want {
			t.Errorf("humanAgo(-%v) = %q, want %q", tt.ago, got, tt.want)
		}
	}
	if got := humanAgo(time.Time{}, now); got != "N/A" {
		t.Errorf("humanAgo(zero) = %q, want N/A", got)
	}
}

func TestSplitName(t *testing.T) {
	tests := []struct{ name, repo, tag string }{
		{"docker.io/library/busybox:latest", "docker.io/library/busybox", "latest"},
		{"127.0.0.1:5000/debian:bookworm", "127.0.0.1:5000/debian", "bookworm"},
		{"localhost:5000/app", "localhost:5000/app", "<none>"},
		{"", "<none>", "<none>"},
	}
	for _, tt := range tests {
		repo, tag := splitName(tt.name)
		if repo != tt.repo || tag != tt.tag {
			t.Errorf("splitName(%q) = %q, %q, want %q, %q", tt.name, repo, tag, tt.repo, tt.tag)
		}
	}
}

func TestCheckFormat(t *testing.T) {
	for _, ok := range []string{"", "table", "json"} {
		if err := checkFormat(ok); err != nil {
			t.Errorf("checkFormat(%q): %v", ok, err)
		}
	}
	if err := checkFormat("yaml"); err == nil {
		t.Error("checkFormat accepted yaml")
	}
}
