package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sirupsen/logrus"
)

// Container statuses, named as docker names them.
const (
	StatusCreated = "created"
	StatusRunning = "running"
	StatusExited  = "exited"
)

// ContainerState is a container's state.json.
type ContainerState struct {
	ID      string `json:"id"`
	Image   string `json:"image"`
	ImageID string `json:"imageID"`
	// Layers are the diff IDs the container's root stacks, bottom first;
	// garbage collection keeps them while the container exists.
	Layers  []v1.Hash `json:"layers"`
	Command []string  `json:"command"`
	Created time.Time `json:"created"`
	Status  string    `json:"status"`
	// Pid is the kist process that runs the container while Status is
	// running; a running state whose kist is gone means kist was killed.
	Pid      int       `json:"pid,omitempty"`
	ExitCode int       `json:"exitCode"`
	Finished time.Time `json:"finished,omitempty"`
}

// ContainerDir returns the directory of the container with the given ID.
func (s *Store) ContainerDir(id string) string {
	return s.path("containers", id)
}

// CreateContainer makes the directory of a new container with a fresh
// 64-hex-digit ID, as docker's IDs look, and state.json in it, and returns
// the ID. The directory appears with its state already written, so
// garbage collection always finds which layers the container uses.
func (s *Store) CreateContainer(state ContainerState) (string, error) {
	state.ID = randomHex(32)
	t, err := s.TempDir("container")
	if err != nil {
		return "", err
	}
	data, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		_ = t.Remove()
		return "", err
	}
	if err := writeNewFile(filepath.Join(t.Path, "state.json"), data, false); err != nil {
		_ = t.Remove()
		return "", fmt.Errorf("create container: %w", err)
	}
	if err := os.Rename(t.Path, s.ContainerDir(state.ID)); err != nil {
		_ = t.Remove()
		return "", fmt.Errorf("create container: %w", err)
	}
	t.release()
	return state.ID, nil
}

// SaveContainer writes a container's state.json atomically.
func (s *Store) SaveContainer(state ContainerState) error {
	data, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		return err
	}
	if err := s.writeFileAtomic(filepath.Join(s.ContainerDir(state.ID), "state.json"), data, false); err != nil {
		return fmt.Errorf("save state of container %s: %w", state.ID, err)
	}
	return nil
}

// Containers returns the state of every container, newest first. A
// directory without state.json belongs to a container still being
// created and is left out.
func (s *Store) Containers() ([]ContainerState, error) {
	entries, err := os.ReadDir(s.path("containers"))
	if errors.Is(err, fs.ErrNotExist) {
		// Only a read-only store that Open could not complete lacks it.
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var states []ContainerState
	for _, e := range entries {
		state, err := s.container(e.Name())
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			// A crash can leave state.json empty; list the container as
			// exited with an unknown status so kist rm can remove it.
			logrus.Warnf("%v; listing it as exited", err)
			state = ContainerState{ID: e.Name(), Status: StatusExited, ExitCode: -1}
		}
		states = append(states, state)
	}
	sort.Slice(states, func(i, j int) bool { return states[i].Created.After(states[j].Created) })
	return states, nil
}

func (s *Store) container(id string) (ContainerState, error) {
	var state ContainerState
	data, err := os.ReadFile(filepath.Join(s.ContainerDir(id), "state.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return state, fmt.Errorf("container %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return state, fmt.Errorf("read container %s: %w", id, err)
	}
	if err := json.Unmarshal(data, &state); err != nil {
		return state, fmt.Errorf("read container %s: %w", id, err)
	}
	return state, nil
}

// LookupContainer finds a container by its ID or a unique prefix of it.
func (s *Store) LookupContainer(idOrPrefix string) (ContainerState, error) {
	states, err := s.Containers()
	if err != nil {
		return ContainerState{}, err
	}
	var found []ContainerState
	for _, st := range states {
		if len(idOrPrefix) > 0 && len(idOrPrefix) <= len(st.ID) && st.ID[:len(idOrPrefix)] == idOrPrefix {
			found = append(found, st)
		}
	}
	switch len(found) {
	case 0:
		return ContainerState{}, fmt.Errorf("container %s: %w", idOrPrefix, ErrNotFound)
	case 1:
		return found[0], nil
	}
	return ContainerState{}, fmt.Errorf("container ID prefix %s matches %d containers; give more digits", idOrPrefix, len(found))
}

// RemoveContainerDir deletes a container's directory and everything in
// it. Nothing may be mounted inside it.
func (s *Store) RemoveContainerDir(id string) error {
	if err := removeAll(s.ContainerDir(id)); err != nil {
		return s.writeError(fmt.Errorf("remove container %s: %w", id, err))
	}
	return nil
}
