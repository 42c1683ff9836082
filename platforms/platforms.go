package platforms

import (
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Host returns the platform kist runs on, with the variant that docker
// records for it.
func Host() v1.Platform {
	p := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if runtime.GOARCH == "arm64" {
		p.Variant = "v8"
	}
	return p
}

// knownOS and knownArch list the operating systems and architectures
// that containerd's platforms package (database.go, as vendored in moby)
// accepts as a lone --platform component.
var (
	knownOS = set("aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js",
		"linux", "nacl", "netbsd", "openbsd", "plan9", "solaris", "windows", "zos")
	knownArch = set("386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "loong64",
		"mips", "mipsle", "mips64", "mips64le", "mips64p32", "mips64p32le", "ppc", "ppc64", "ppc64le",
		"riscv", "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm")
)

func set(values ...string) map[string]bool {
	m := make(map[string]bool, len(values))
	for _, v := range values {
		m[v] = true
	}
	return m
}

// component is the character set containerd allows in each part of a
// platform specifier.
var component = regexp.MustCompile(`^[a-z0-9_.-]+$`)

// Parse reads a --platform value: os/arch[/variant], an operating system
// alone (for the host's architecture) or an architecture alone (for
// Linux). The value is lowercased and normalised as Normalize does.
func Parse(value string) (v1.Platform, error) {
	lower := strings.ToLower(value)
	parts := strings.Split(lower, "/")
	for _, part := range parts {
		if !component.MatchString(part) {
			return v1.Platform{}, fmt.Errorf("invalid --platform %q: use os/arch[/variant], such as linux/arm64", value)
		}
	}

	var p v1.Platform
	switch len(parts) {
	case 1:
		single := Normalize(v1.Platform{OS: "linux", Architecture: parts[0]})
		switch {
		case knownOS[normalOS(parts[0])]:
			p = Host()
			p.OS = normalOS(parts[0])
		case knownArch[single.Architecture]:
			p = single
		default:
			return v1.Platform{}, fmt.Errorf("invalid --platform %q: %q is not a known operating system or architecture; use os/arch[/variant], such as linux/arm64",
				value, parts[0])
		}
	case 2:
		p = v1.Platform{OS: parts[0], Architecture: parts[1]}
	case 3:
		p = v1.Platform{OS: parts[0], Architecture: parts[1], Variant: parts[2]}
	default:
		return v1.Platform{}, fmt.Errorf("invalid --platform %q: use os/arch[/variant], such as linux/arm64", value)
	}
	return Normalize(p), nil
}

// Normalize spells p the way containerd compares platforms: in lowercase,
// with architecture aliases replaced (x86_64 is amd64, aarch64 is arm64)
// and the default variant written one way. For arm64 that is no variant,
// so v8 is dropped, and for arm it is v7.
func Normalize(p v1.Platform) v1.Platform {
	out := v1.Platform{
		OS:           normalOS(p.OS),
		Architecture: strings.ToLower(p.Architecture),
		Variant:      strings.ToLower(p.Variant),
	}
	switch out.Architecture {
	case "i386":
		out.Architecture, out.Variant = "386", ""
	case "x86_64", "x86-64", "amd64":
		out.Architecture = "amd64"
		if out.Variant == "v1" {
			out.Variant = ""
		}
	case "aarch64", "arm64":
		out.Architecture = "arm64"
		if v, ok := arm64Variants[out.Variant]; ok {
			out.Variant = v
		}
	case "armhf":
		out.Architecture, out.Variant = "arm", "v7"
	case "armel":
		out.Architecture, out.Variant = "arm", "v6"
	case "arm":
		if v, ok := armVariants[out.Variant]; ok {
			out.Variant = v
		}
	}
	return out
}

// arm64Variants and armVariants map the other spellings of a variant to
// its normal form. A spelling not listed is kept as it is.
var arm64Variants = map[string]string{"8": "", "v8": "", "v8.0": "", "9": "v9", "9.0": "v9", "v9.0": "v9"}

var armVariants = map[string]string{"": "v7", "5": "v5", "6": "v6", "7": "v7", "8": "v8"}

func normalOS(os string) string {
	os = strings.ToLower(os)
	if os == "macos" {
		return "darwin"
	}
	return os
}

// Match reports whether an image of platform have satisfies a request
// for want, once both are normalised. An empty variant in want, as in
// linux/amd64, accepts any variant of the architecture.
//
// NOTE: an arm/v7 request does not match an arm/v6 or arm/v5 image,
// although containerd accepts those because a v7 CPU runs their code.
func Match(want, have v1.Platform) bool {
	want, have = Normalize(want), Normalize(have)
	if want.OS != have.OS || want.Architecture != have.Architecture {
		return false
	}
	return want.Variant == "" || want.Variant == have.Variant
}

// Format spells p as os/arch[/variant], normalised.
func Format(p v1.Platform) string {
	return Normalize(p).String()
}

// Offered lists the platforms of an index's entries, for an error that
// names them when none matches.
type Offered []string

// Add lists the platform of index entry d as the index spells it,
// unless it has none, is already listed or is an attestation manifest,
// which buildx stores beside each image with the platform
// unknown/unknown.
func (o *Offered) Add(d v1.Descriptor) {
	if d.Platform == nil || d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
		return
	}
	o.add(d.Platform.String())
}

// Extend lists the platforms of other that o does not list yet.
func (o *Offered) Extend(other Offered) {
	for _, p := range other {
		o.add(p)
	}
}

func (o *Offered) add(p string) {
	if !slices.Contains(*o, p) {
		*o = append(*o, p)
	}
}

// String joins the platforms with commas.
func (o Offered) String() string {
	return strings.Join(o, ", ")
}
