package e2e

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// debianMirror returns the Debian mirror that the machine's apt sources
// use for suite, so debootstrap downloads from the same place apt does.
// It reads the deb822 files /etc/apt/sources.list.d/*.sources first and
// /etc/apt/sources.list after them.
func debianMirror(suite string) (string, error) {
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*.sources")
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if uri := mirrorFromDeb822(string(text), suite); uri != "" {
			return uri, nil
		}
	}
	text, err := os.ReadFile("/etc/apt/sources.list")
	if err == nil {
		if uri := mirrorFromList(string(text), suite); uri != "" {
			return uri, nil
		}
	}
	return "", errors.New("no deb source for " + suite + " in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list")
}

// mirrorFromDeb822 returns the first URI of the first stanza of a deb822
// sources file with type deb and suite among its suites, or "".
func mirrorFromDeb822(text, suite string) string {
	for _, stanza := range strings.Split(text, "\n\n") {
		fields := deb822Fields(stanza)
		if fields["enabled"] == "no" {
			continue
		}
		uris := strings.Fields(fields["uris"])
		if len(uris) > 0 && hasWord(fields["types"], "deb") && hasWord(fields["suites"], suite) {
			return uris[0]
		}
	}
	return ""
}

// deb822Fields returns the fields of one stanza, with lowercase names.
// Comment lines are skipped and continuation lines join their field.
func deb822Fields(stanza string) map[string]string {
	fields := map[string]string{}
	var last string
	scanner := bufio.NewScanner(strings.NewReader(stanza))
	for scanner.Scan() {
		line := scanner.Text()
		switch {
		case strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t"):
			if last != "" {
				fields[last] += " " + strings.TrimSpace(line)
			}
		default:
			name, value, ok := strings.Cut(line, ":")
			if ok {
				last = strings.ToLower(strings.TrimSpace(name))
				fields[last] = strings.TrimSpace(value)
			}
		}
	}
	return fields
}

// mirrorFromList returns the URI of the first "deb" line of a one-line
// sources.list for suite, or "".
func mirrorFromList(text, suite string) string {
	for _, line := range strings.Split(text, "\n") {
		words := strings.Fields(line)
		if len(words) < 3 || words[0] != "deb" {
			continue
		}
		words = words[1:]
		// Options such as [arch=amd64 signed-by=...] come before the URI.
		if strings.HasPrefix(words[0], "[") {
			for len(words) > 0 && !strings.HasSuffix(words[0], "]") {
				words = words[1:]
			}
			if len(words) > 0 {
				words = words[1:]
			}
		}
		if len(words) >= 2 && words[1] == suite {
			return words[0]
		}
	}
	return ""
}

func hasWord(s, word string) bool {
	for _, w := range strings.Fields(s) {
		if w == word {
			return true
		}
	}
	return false
}

func TestMirrorFromSources(t *testing.T) {
	const deb822 = `Types: deb
# a comment line
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://security.example/debian-security
Suites: bookworm-security
`
	const disabled = `Types: deb
URIs: http://off.example/debian
Suites: bookworm
Enabled: no

Types: deb-src deb
URIs:
 http://second.example/debian
Suites: bookworm
`
	tests := []struct {
		name, text, suite, want string
		deb822                  bool
	}{
		{"deb822 first stanza", deb822, "bookworm", "http://mirror.example/debian", true},
		{"deb822 security suite", deb822, "bookworm-security", "http://security.example/debian-security", true},
		{"deb822 no such suite", deb822, "trixie", "", true},
		{"deb822 disabled and continuation", disabled, "bookworm", "http://second.example/debian", true},
		{"list plain", "deb http://list.example/debian bookworm main\n", "bookworm", "http://list.example/debian", false},
		{"list with options", "deb [arch=amd64 signed-by=/k.gpg] http://opt.example/debian bookworm main\n", "bookworm", "http://opt.example/debian", false},
		{"list deb-src only", "deb-src http://src.example/debian bookworm main\n", "bookworm", "", false},
		{"list other suite", "deb http://list.example/debian bookworm-security main\n", "bookworm", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mirrorFromList(tt.text, tt.suite)
			if tt.deb822 {
				got = mirrorFromDeb822(tt.text, tt.suite)
			}
			if got != tt.want {
				t.Errorf("mirror = %q, want %q", got, tt.want)
			}
		})
	}
}
