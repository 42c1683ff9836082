package main

import "testing"

func TestEscapeControl(t *testing.T) {
	tests := map[string]string{
		"plain text":           "plain text",
		"x\x1b[31mred":         `x\x1b[31mred`,
		"tab\there":            `tab\x09here`,
		"del\x7f":              `del\x7f`,
		"csi\u009b2J":          `csi\u009b2J`,
		"keeps ünïcode":        "keeps ünïcode",
		"line one\nline two":   "line one\nline two",
		"bell\a and null\x00.": `bell\x07 and null\x00.`,
	}
	for in, want := range tests {
		if got := escapeControl(in); got != want {
			t.Errorf("escapeControl(%q) = %q, want %q", in, got, want)
		}
	}
}
