package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// buildKist builds kist as the Makefile's build target does, a static
// binary, into dir/bin, and returns its path.
func buildKist(dir string) (string, error) {
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(bin, "kist")
	cmd := exec.Command("go", "build", "-trimpath",
		"-tags", "netgo osusergo",
		"-ldflags", "-s -w -extldflags -static",
		"-o", out, ".")
	// The package under test is the repository root, one level up.
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if output, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%s: %w\n%s", cmd, err, output)
	}
	return out, nil
}
