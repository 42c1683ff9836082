package commands

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// positionalFirst lists the commands whose arguments after the first
// positional one belong to the container's command, as in docker run.
// Every other command takes its flags anywhere, as docker and podman do,
// so kist save IMAGE -o FILE works.
var positionalFirst = map[string]bool{"run": true}

// PermuteArgs moves the flags that follow a command's positional
// arguments in front of them, because urfave/cli stops parsing flags at
// the first positional argument. Arguments after "--" stay where they
// are.
func PermuteArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	rest := args[1:]

	// Global flags, then the command and subcommand names.
	flags := app.Flags
	commands := app.Commands
	var cmd *cli.Command
	for len(rest) > 0 {
		tok := rest[0]
		if isFlag(tok) {
			n := flagWidth(flags, rest)
			out = append(out, rest[:n]...)
			rest = rest[n:]
			continue
		}
		next := findCommand(commands, tok)
		if next == nil {
			break
		}
		cmd = next
		out = append(out, tok)
		rest = rest[1:]
		flags, commands = cmd.Flags, cmd.Subcommands
		if len(commands) == 0 {
			break
		}
	}
	if cmd == nil {
		return append(out, rest...)
	}

	var positional, globals []string
	for len(rest) > 0 {
		tok := rest[0]
		if tok == "--" && !positionalFirst[cmd.Name] {
			// Everything after -- is positional, and so is what came
			// before it, so the -- goes in front of them all.
			positional = append(append([]string{"--"}, positional...), rest[1:]...)
			break
		}
		if tok == "--" || !isFlag(tok) && positionalFirst[cmd.Name] {
			positional = append(positional, rest...)
			break
		}
		if short, value, ok := splitShortValue(flags, tok); ok {
			rest = append([]string{short, value}, rest[1:]...)
			tok = short
		}
		if !isFlag(tok) {
			positional = append(positional, tok)
			rest = rest[1:]
			continue
		}
		if !hasFlag(flags, tok) && hasFlag(app.Flags, tok) {
			// A global flag after the command, as podman allows.
			n := flagWidth(app.Flags, rest)
			globals = append(globals, rest[:n]...)
			rest = rest[n:]
			continue
		}
		n := flagWidth(flags, rest)
		out = append(out, canonicalSliceFlag(flags, tok))
		out = append(out, rest[1:n]...)
		rest = rest[n:]
	}
	out = append(append([]string{out[0]}, globals...), out[1:]...)
	return append(out, positional...)
}

// hasFlag reports whether tok names one of flags.
func hasFlag(flags []cli.Flag, tok string) bool {
	name, _, _ := strings.Cut(strings.TrimLeft(tok, "-"), "=")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
}

// canonicalSliceFlag spells a repeatable flag by its first name, so that
// -e A=1 --env B=2 sets both, as in docker; urfave/cli refuses two
// spellings of one slice flag in a command line.
func canonicalSliceFlag(flags []cli.Flag, tok string) string {
	name, value, hasValue := strings.Cut(strings.TrimLeft(tok, "-"), "=")
	for _, f := range flags {
		if _, ok := f.(*cli.StringSliceFlag); !ok {
			continue
		}
		names := f.Names()
		for _, n := range names {
			if n != name {
				continue
			}
			canonical := "--" + names[0]
			if hasValue {
				canonical += "=" + value
			}
			return canonical
		}
	}
	return tok
}

// splitShortValue splits a short flag with its value attached, such as
// -eA=1 or -u1000, into the flag and the value, as docker's parser does.
func splitShortValue(flags []cli.Flag, tok string) (flag, value string, ok bool) {
	if len(tok) < 3 || tok[0] != '-' || tok[1] == '-' {
		return "", "", false
	}
	short := tok[:2]
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != short[1:] {
				continue
			}
			if v, isValue := f.(cli.DocGenerationFlag); isValue && v.TakesValue() {
				return short, strings.TrimPrefix(tok[2:], "="), true
			}
			return "", "", false
		}
	}
	return "", "", false
}

// isFlag reports whether tok is a flag; "-" alone names standard input.
func isFlag(tok string) bool {
	return len(tok) > 1 && tok[0] == '-'
}

// flagWidth returns how many tokens the flag at args[0] takes: two when
// its value is the next token, else one.
func flagWidth(flags []cli.Flag, args []string) int {
	tok := args[0]
	if strings.Contains(tok, "=") || len(args) < 2 {
		return 1
	}
	name := strings.TrimLeft(tok, "-")
	if !strings.HasPrefix(tok, "--") && len(name) > 1 {
		// Combined short options such as -aq: only the last may take a
		// value.
		name = name[len(name)-1:]
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			if v, ok := f.(cli.DocGenerationFlag); ok && v.TakesValue() {
				return 2
			}
			return 1
		}
	}
	return 1
}

func findCommand(commands []*cli.Command, name string) *cli.Command {
	for _, c := range commands {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}
