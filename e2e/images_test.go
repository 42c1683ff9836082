package e2e

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// columnGap separates the columns of kist's tables: two or more spaces,
// as text/tabwriter pads them. Values such as "2 years ago" keep single
// spaces.
var columnGap = regexp.MustCompile(`\s{2,}`)

// imagesHeader is the header of `kist images`, one entry per column.
var imagesHeader = []string{"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"}

// TestImagesList pulls three busybox images into an empty store and
// checks the table, -q and --format json. The three have different
// configs and so different IDs, unlike busybox:latest and
// busybox:oci-gzip, which share one.
func TestImagesList(t *testing.T) {
	need(t, needRegistry, needBusybox)
	tags := []string{tagLatest, tagConfig, tagNobody}
	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		for _, tag := range tags {
			pulled(t, id, env.busybox.ref(tag))
		}
		t.Run("table", func(t *testing.T) { checkImagesTable(t, id, tags) })
		t.Run("quiet", func(t *testing.T) { checkImagesQuiet(t, id, tags) })
		t.Run("json", func(t *testing.T) { checkImagesJSON(t, id, tags) })
	})
}

func checkImagesTable(t *testing.T, id *identity, tags []string) {
	r := runKist(t, id, "images")
	if r.code != 0 {
		t.Fatalf("kist images: %s", r)
	}
	expectQuiet(t, r)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	header := columnGap.Split(strings.TrimSpace(lines[0]), -1)
	if diff := cmp.Diff(imagesHeader, header); diff != "" {
		t.Fatalf("header columns (-want +got):\n%s\nheader line: %q", diff, lines[0])
	}

	var want, got [][]string
	for _, tag := range tags {
		want = append(want, []string{env.registry + "/busybox", tag, shortID(env.busybox.ids[tag])})
	}
	for _, line := range lines[1:] {
		fields := columnGap.Split(strings.TrimSpace(line), -1)
		if len(fields) != len(imagesHeader) {
			t.Errorf("row %q has %d columns, want %d", line, len(fields), len(imagesHeader))
			continue
		}
		checkAligned(t, lines[0], line, fields)
		got = append(got, fields[:3])
	}
	sortRows(want)
	sortRows(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows: REPOSITORY, TAG, IMAGE ID (-want +got):\n%s", diff)
	}
}

// checkAligned checks that each value in row starts where its column
// header starts.
func checkAligned(t *testing.T, header, row string, fields []string) {
	t.Helper()
	from := 0
	for i, value := range fields {
		at := from + strings.Index(row[from:], value)
		if want := strings.Index(header, imagesHeader[i]); at != want {
			t.Errorf("%s %q starts at column %d, want %d (under its header)", imagesHeader[i], value, at, want)
		}
		from = at + len(value)
	}
}

func sortRows(rows [][]string) {
	sort.Slice(rows, func(i, j int) bool {
		return strings.Join(rows[i], " ") < strings.Join(rows[j], " ")
	})
}

func checkImagesQuiet(t *testing.T, id *identity, tags []string) {
	r := runKist(t, id, "images", "-q")
	if r.code != 0 {
		t.Fatalf("kist images -q: %s", r)
	}
	expectQuiet(t, r)
	var want []string
	for _, tag := range tags {
		want = append(want, shortID(env.busybox.ids[tag]))
	}
	got := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	for _, line := range got {
		if !shortIDLine.MatchString(line) {
			t.Errorf("line %q is not a 12-digit hex image ID", line)
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("image IDs (-want +got):\n%s", diff)
	}
	if !strings.HasSuffix(r.stdout, "\n") {
		t.Errorf("output %q does not end in a newline", r.stdout)
	}
}

var shortIDLine = regexp.MustCompile(`^[0-9a-f]{12}$`)

// imageJSON is the part of an object of `kist images --format json` that
// the tests rely on.
type imageJSON struct {
	ID       string   `json:"Id"`
	RepoTags []string `json:"RepoTags"`
	Size     *int64   `json:"Size"`
}

func checkImagesJSON(t *testing.T, id *identity, tags []string) {
	r := runKist(t, id, "images", "--format", "json")
	if r.code != 0 {
		t.Fatalf("kist images --format json: %s", r)
	}
	expectQuiet(t, r)
	var images []imageJSON
	if err := json.Unmarshal([]byte(r.stdout), &images); err != nil {
		t.Fatalf("output is not a JSON array of images: %v\n%s", err, r.stdout)
	}
	byID := map[string]imageJSON{}
	for _, img := range images {
		byID[img.ID] = img
	}
	if len(images) != len(tags) {
		t.Errorf("%d images, want %d", len(images), len(tags))
	}
	for _, tag := range tags {
		imageID := env.busybox.ids[tag]
		img, ok := byID[imageID]
		if !ok {
			t.Errorf("no object with Id %s (busybox:%s)", imageID, tag)
			continue
		}
		if diff := cmp.Diff([]string{env.busybox.ref(tag)}, img.RepoTags); diff != "" {
			t.Errorf("RepoTags of %s (-want +got):\n%s", imageID, diff)
		}
		if img.Size == nil || *img.Size <= 0 {
			t.Errorf("Size of %s = %v, want a positive number", imageID, img.Size)
		}
	}
}
