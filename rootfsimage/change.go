package rootfsimage

import (
	"encoding/json"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Apply changes cfg as the Dockerfile instruction change would, in the
// syntax of docker import --change: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL,
// STOPSIGNAL, USER, VOLUME and WORKDIR.
func Apply(cfg *v1.Config, change string) error {
	keyword, args, _ := strings.Cut(strings.TrimSpace(change), " ")
	args = strings.TrimSpace(args)
	if args == "" {
		return fmt.Errorf("invalid --change %q: %s needs an argument", change, keyword)
	}

	var err error
	switch strings.ToUpper(keyword) {
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
		cfg.WorkingDir = args
	case "USER":
		cfg.User = args
	case "STOPSIGNAL":
		cfg.StopSignal = args
	default:
		return fmt.Errorf("invalid --change %q: kist supports CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME and WORKDIR", change)
	}
	if err != nil {
		return fmt.Errorf("invalid --change %q: %w", change, err)
	}
	return nil
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
	pairs, err := keyValues(args)
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
	pairs, err := keyValues(args)
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

func applyExpose(cfg *v1.Config, args string) error {
	if cfg.ExposedPorts == nil {
		cfg.ExposedPorts = map[string]struct{}{}
	}
	for _, port := range strings.Fields(args) {
		number, proto, found := strings.Cut(port, "/")
		if !found {
			proto = "tcp"
		}
		if number == "" || strings.Trim(number, "0123456789-") != "" || proto != "tcp" && proto != "udp" && proto != "sctp" {
			return fmt.Errorf("port %q is not PORT[/tcp|udp|sctp]", port)
		}
		cfg.ExposedPorts[number+"/"+strings.ToLower(proto)] = struct{}{}
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
func keyValues(args string) ([]string, error) {
	words, err := splitWords(args)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(words[0], "=") {
		key, value, _ := strings.Cut(args, " ")
		return []string{key + "=" + strings.TrimSpace(value)}, nil
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
