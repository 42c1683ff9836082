package store

import (
	"fmt"
	"os"
)

// ContainerDir returns the directory of the container with the given ID.
func (s *Store) ContainerDir(id string) string {
	return s.path("containers", id)
}

// CreateContainerDir makes the directory of a new container with a fresh
// 64-hex-digit ID, as docker's IDs look, and returns the ID.
func (s *Store) CreateContainerDir() (string, error) {
	id := randomHex(32)
	if err := os.Mkdir(s.ContainerDir(id), 0o700); err != nil {
		return "", fmt.Errorf("create container directory: %w", err)
	}
	return id, nil
}

// RemoveContainerDir deletes a container's directory and everything in
// it. Nothing may be mounted inside it.
func (s *Store) RemoveContainerDir(id string) error {
	if err := removeAll(s.ContainerDir(id)); err != nil {
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	return nil
}
