package pull

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"testing"
	"time"
)

func TestReadAheadCopiesEverything(t *testing.T) {
	data := make([]byte, 5*chunkSize+123)
	rand.New(rand.NewSource(1)).Read(data)
	ra := newReadAhead(4, func(w io.Writer) error {
		_, err := io.Copy(w, bytes.NewReader(data))
		return err
	})

	got, err := io.ReadAll(ra)
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes that differ from the %d written", len(got), len(data))
	}
	if err := ra.Stop(); err != nil {
		t.Errorf("Stop after EOF: %v", err)
	}
}

func TestReadAheadProducerError(t *testing.T) {
	boom := errors.New("digest mismatch")
	ra := newReadAhead(4, func(w io.Writer) error {
		if _, err := w.Write([]byte("partial")); err != nil {
			return err
		}
		return boom
	})

	got, err := io.ReadAll(ra)
	if !errors.Is(err, boom) {
		t.Fatalf("ReadAll error = %v, want the producer's error", err)
	}
	if string(got) != "partial" {
		t.Errorf("read %q before the error, want %q", got, "partial")
	}
}

func TestReadAheadStopUnblocksProducer(t *testing.T) {
	ra := newReadAhead(1, func(w io.Writer) error {
		for {
			if _, err := w.Write(make([]byte, chunkSize)); err != nil {
				return err
			}
		}
	})
	if _, err := ra.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}

	stopped := make(chan error, 1)
	go func() { stopped <- ra.Stop() }()
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("Stop: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return while the producer was blocked writing")
	}
}
