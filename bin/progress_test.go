package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProgressStatus(t *testing.T) {
	assert.Equal(t, "obslink: synth: building 7 stack(s) (2 s)", status("synth", 0, 7, 2500*time.Millisecond))
	assert.Equal(t, "obslink: synth: 3/7 stacks written (4 s)", status("synth", 3, 7, 4*time.Second))
	assert.Equal(t, "obslink: synth: 7/7 stacks written; checking them (9 s)", status("synth", 7, 7, 9*time.Second))
}

// signalWriter records what is written and closes seen once it holds want.
type signalWriter struct {
	mu   sync.Mutex
	b    bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if strings.Contains(w.b.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

// TestProgressCountsTemplates: while synthesis writes templates into its
// temporary directory, the line shows how many of all are written, and
// it is cleared at the end.
func TestProgressCountsTemplates(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "cdk.out")
	w := &signalWriter{want: "2/3 stacks written", seen: make(chan struct{})}
	p := progress{w: w, every: time.Millisecond}
	err := p.synth("synth", 3, out, func() error {
		tmp, err := os.MkdirTemp(parent, ".cdk.out.tmp-")
		require.NoError(t, err)
		for _, s := range []string{"a", "b"} {
			require.NoError(t, os.WriteFile(filepath.Join(tmp, s+".template.json"), []byte("{}"), 0o644))
		}
		<-w.seen // the line showed the two templates
		return nil
	})
	require.NoError(t, err)
	w.mu.Lock()
	defer w.mu.Unlock()
	assert.True(t, strings.HasSuffix(w.b.String(), "\r\033[K"), "the line is cleared at the end")
}

func TestProgressIsQuietWhenNotATerminal(t *testing.T) {
	var stderr bytes.Buffer
	p := newProgress(&stderr)
	ran := false
	require.NoError(t, p.synth("synth", 3, filepath.Join(t.TempDir(), "out"), func() error { ran = true; return nil }))
	assert.True(t, ran)
	assert.Empty(t, stderr.String())
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	require.NoError(t, err)
	defer f.Close()
	assert.Nil(t, newProgress(f).w, "a file is not a terminal")
}

// A stale temporary directory (a killed synth) does not count.
func TestProgressIgnoresStaleOutput(t *testing.T) {
	parent := t.TempDir()
	stale := filepath.Join(parent, ".cdk.out.tmp-old")
	require.NoError(t, os.Mkdir(stale, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(stale, "x.template.json"), []byte("{}"), 0o644))
	old := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(stale, old, old))
	assert.Equal(t, 0, written(filepath.Join(parent, "cdk.out"), time.Now()))
}
