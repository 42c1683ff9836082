// Package platforms parses --platform values and matches image platforms
// the way docker and containerd do: a lone architecture means Linux,
// values are compared in lowercase, and architecture aliases and default
// variants are normalised before two platforms are compared.
package platforms
