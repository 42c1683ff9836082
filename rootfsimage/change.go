package rootfsimage

import (
	"encoding/json"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Apply changes cfg as the Dockerfile instruction change would, in the
// syntax of docker import --change: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL,
// STOPSIGNAL, USER, VOLUME and WORKDIR. As in a Dockerfile, a backslash at
// the end of a line continues the instruction on the next line, and each
// other line is an instruction of its own.
func Apply(cfg *v1.Config, change string) error {
	lines := instructionLines(change)
	if len(lines) == 0 {
		return fmt.Errorf("invalid --change %q: it is empty; give a Dockerfile instruction, such as --change 'CMD [\"/bin/sh\"]'", change)
	}
	for _, line := range lines {
		if err := applyInstruction(cfg, line); err != nil {
			return fmt.Errorf("invalid --change %q: %w", change, err)
		}
	}
	return nil
}

// instructionLines joins the lines of change that end in a backslash to
// the line after them, as docker's Dockerfile parser does, and returns the
// instructions without blank lines and # comments.
func instructionLines(change string) []string {
	var lines []string
	var current strings.Builder
	for _, line := range strings.Split(change, "\n") {
		trimmed := strings.TrimRight(line, " \t\r")
		if strings.HasSuffix(trimmed, "\\") {
			current.WriteString(strings.TrimSuffix(trimmed, "\\"))
			continue
		}
		current.WriteString(line)
		lines = appendInstruction(lines, current.String())
		current.Reset()
	}
	// A backslash on the last line ends the instruction, as at the end of
	// a Dockerfile.
	return appendInstruction(lines, current.String())
}

func appendInstruction(lines []string, line string) []string {
	instruction := strings.TrimSpace(line)
	if instruction == "" || strings.HasPrefix(instruction, "#") {
		return lines
	}
	return append(lines, instruction)
}

// applyInstruction applies one instruction, such as "ENV A=1", to cfg.
func applyInstruction(cfg *v1.Config, instruction string) error {
	keyword, args := instruction, ""
	if i := strings.IndexAny(instruction, " \t"); i >= 0 {
		keyword, args = instruction[:i], strings.TrimSpace(instruction[i+1:])
	}
	keyword = strings.ToUpper(keyword)
	if args == "" {
		return fmt.Errorf("%s needs an argument", keyword)
	}

	var err error
	switch keyword {
	case "CMD":
		cfg.Cmd = commandForm(args)
	case "ENTRYPOINT":
		cfg.Entrypoint = commandForm(args)
	case "ENV":
		err = applyEnv(cfg, args)
	case "LABEL":
		err = applyLabel(cfg, args)
	case "EXPOSE":
		err = applyExpose(cfg, args)
	case "VOLUME":
		err = applyVolume(cfg, args)
	case "WORKDIR":
		err = applyWorkdir(cfg, args)
	case "USER":
		err = applyUser(cfg, args)
	case "STOPSIGNAL":
		err = applyStopSignal(cfg, args)
	default:
		return fmt.Errorf("unknown instruction %s; kist supports CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME and WORKDIR", keyword)
	}
	return err
}

// commandForm parses the exec form ["a", "b"], or else takes the shell
// form, which runs through /bin/sh -c.
func commandForm(args string) []string {
	var exec []string
	if strings.HasPrefix(args, "[") && json.Unmarshal([]byte(args), &exec) == nil {
		return exec
	}
	return []string{"/bin/sh", "-c", args}
}

// applyEnv parses "K=V [K=V...]" or the legacy "K V" with the rest of the
// line as the value.
func applyEnv(cfg *v1.Config, args string) error {
	pairs, err := keyValues("ENV", args)
	if err != nil {
		return err
	}
	for _, kv := range pairs {
		key, _, _ := strings.Cut(kv, "=")
		cfg.Env = setEnv(cfg.Env, key, kv)
	}
	return nil
}

func setEnv(env []string, key, kv string) []string {
	for i, e := range env {
		if strings.HasPrefix(e, key+"=") {
			env[i] = kv
			return env
		}
	}
	return append(env, kv)
}

func applyLabel(cfg *v1.Config, args string) error {
	pairs, err := keyValues("LABEL", args)
	if err != nil {
		return err
	}
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	for _, kv := range pairs {
		key, value, _ := strings.Cut(kv, "=")
		cfg.Labels[key] = value
	}
	return nil
}

func applyVolume(cfg *v1.Config, args string) error {
	paths := strings.Fields(args)
	if strings.HasPrefix(args, "[") {
		if err := json.Unmarshal([]byte(args), &paths); err != nil {
			return fmt.Errorf("volume list is not a JSON array of strings: %w", err)
		}
	}
	if cfg.Volumes == nil {
		cfg.Volumes = map[string]struct{}{}
	}
	for _, p := range paths {
		cfg.Volumes[p] = struct{}{}
	}
	return nil
}

// keyValues splits "K=V K2="a b"" into K=V pairs with quotes removed,
// or reads the legacy form "K V" with the rest of the line as the value.
// Like docker, it rejects a legacy form without a value, such as "ENV K".
func keyValues(keyword, args string) ([]string, error) {
	words, err := splitWords(args)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(words[0], "=") {
		key, value, _ := strings.Cut(args, " ")
		value = strings.TrimSpace(value)
		if value == "" {
			return nil, fmt.Errorf("%s %s has no value; write %s %s=VALUE, or %s %s= for an empty value", keyword, key, keyword, key, keyword, key)
		}
		return []string{key + "=" + value}, nil
	}
	for _, w := range words {
		if key, _, ok := strings.Cut(w, "="); !ok || key == "" {
			return nil, fmt.Errorf("%q is not KEY=VALUE", w)
		}
	}
	return words, nil
}

// splitWords splits s at unquoted blanks. Double and single quotes group
// blanks into a word and are removed; a backslash escapes the next
// character outside single quotes.
func splitWords(s string) ([]string, error) {
	var words []string
	var word strings.Builder
	inWord := false
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			word.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped, inWord = true, true
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			word.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}
