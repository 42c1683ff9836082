package archive

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/kist-project/kist/store"
	"github.com/kist-project/kist/unpack"
)

// WriteDocker writes images as a docker-archive to w, as docker save
// does: each layer as an uncompressed layer.tar in a directory named for
// its chain ID, each config as <ID>.json, then manifest.json and the
// legacy repositories file. A tar header needs a file's size before its
// content, so each layer is decompressed into a file in tmpDir first.
func WriteDocker(w io.Writer, images []Entry, tmpDir string) error {
	tw := tar.NewWriter(w)
	dw := &dockerWriter{tw: tw, tmpDir: tmpDir, written: map[string]bool{}, repositories: map[string]map[string]string{}}
	var manifests []dockerManifest
	for _, e := range images {
		m, err := dw.image(e)
		if err != nil {
			return err
		}
		manifests = append(manifests, m)
	}
	if err := dw.writeJSON("manifest.json", manifests); err != nil {
		return err
	}
	if err := dw.writeJSON("repositories", dw.repositories); err != nil {
		return err
	}
	return tw.Close()
}

type dockerWriter struct {
	tw           *tar.Writer
	tmpDir       string
	written      map[string]bool
	repositories map[string]map[string]string
}

func (dw *dockerWriter) image(e Entry) (dockerManifest, error) {
	id, err := e.Image.ConfigName()
	if err != nil {
		return dockerManifest{}, fmt.Errorf("read config: %w", err)
	}
	config, err := e.Image.RawConfigFile()
	if err != nil {
		return dockerManifest{}, fmt.Errorf("read config of image %s: %w", id.Hex[:12], err)
	}
	parsed, err := e.Image.ConfigFile()
	if err != nil {
		return dockerManifest{}, fmt.Errorf("read config of image %s: %w", id.Hex[:12], err)
	}
	layers, err := e.Image.Layers()
	if err != nil {
		return dockerManifest{}, fmt.Errorf("read layers of image %s: %w", id.Hex[:12], err)
	}
	diffIDs := parsed.RootFS.DiffIDs
	if len(diffIDs) != len(layers) {
		return dockerManifest{}, fmt.Errorf("image %s: its manifest lists %d layers but its config %d diff IDs", id.Hex[:12], len(layers), len(diffIDs))
	}

	m := dockerManifest{Config: id.Hex + ".json"}
	chain := store.ChainIDs(diffIDs)
	for i, layer := range layers {
		dir := chain[i].Hex
		parent := ""
		if i > 0 {
			parent = chain[i-1].Hex
		}
		if err := dw.layer(dir, parent, layer, diffIDs[i], parsed.Created.Time); err != nil {
			return dockerManifest{}, fmt.Errorf("image %s: layer %s: %w", id.Hex[:12], diffIDs[i], err)
		}
		m.Layers = append(m.Layers, dir+"/layer.tar")
	}
	if !dw.written[m.Config] {
		dw.written[m.Config] = true
		if err := dw.writeFile(m.Config, config); err != nil {
			return dockerManifest{}, err
		}
	}

	for _, n := range e.Names {
		tag, err := name.NewTag(n)
		if err != nil || strings.Contains(n, "@") {
			// A digest reference has no place in RepoTags.
			continue
		}
		m.RepoTags = append(m.RepoTags, n)
		repo := strings.TrimSuffix(n, ":"+tag.TagStr())
		if dw.repositories[repo] == nil {
			dw.repositories[repo] = map[string]string{}
		}
		if len(chain) > 0 {
			dw.repositories[repo][tag.TagStr()] = chain[len(chain)-1].Hex
		}
	}
	return m, nil
}

// layer writes one layer directory unless an earlier image wrote it. The
// VERSION and json files are the legacy format that the repositories
// file points into.
func (dw *dockerWriter) layer(dir, parent string, layer v1.Layer, diffID v1.Hash, created time.Time) error {
	if dw.written[dir] {
		return nil
	}
	dw.written[dir] = true

	if err := dw.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755, ModTime: time.Unix(0, 0)}); err != nil {
		return err
	}
	if err := dw.writeFile(dir+"/VERSION", []byte("1.0")); err != nil {
		return err
	}
	legacy := map[string]any{"id": dir, "created": created}
	if parent != "" {
		legacy["parent"] = parent
	}
	if err := dw.writeJSON(dir+"/json", legacy); err != nil {
		return err
	}

	spool, err := os.CreateTemp(dw.tmpDir, "layer-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	size, err := decompressLayer(layer, diffID, spool)
	if err != nil {
		return err
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return err
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: dir + "/layer.tar", Mode: 0o644, Size: size, ModTime: time.Unix(0, 0)}
	if err := dw.tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err = io.Copy(dw.tw, spool)
	return err
}

// decompressLayer writes the uncompressed layer to w, reading the whole
// blob so that its digest is checked, and checks the diff ID.
func decompressLayer(layer v1.Layer, diffID v1.Hash, w io.Writer) (int64, error) {
	compressed, err := layer.Compressed()
	if err != nil {
		return 0, err
	}
	defer compressed.Close()
	uncompressed, err := unpack.Decompress(compressed)
	if err != nil {
		return 0, err
	}
	defer uncompressed.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), uncompressed)
	if err != nil {
		return n, err
	}
	if _, err := io.Copy(io.Discard, compressed); err != nil {
		return n, err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != diffID.Hex {
		return n, fmt.Errorf("%w: uncompressed content has digest sha256:%s", store.ErrDigestMismatch, got)
	}
	return n, nil
}

func (dw *dockerWriter) writeJSON(file string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return dw.writeFile(file, data)
}

func (dw *dockerWriter) writeFile(file string, data []byte) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: filepath.ToSlash(file), Mode: 0o644, Size: int64(len(data)), ModTime: time.Unix(0, 0)}
	if err := dw.tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := dw.tw.Write(data)
	return err
}
