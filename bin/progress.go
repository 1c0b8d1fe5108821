package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/mattn/go-isatty"
)

// progress shows on a terminal how far a synthesis is, on one line of
// standard error that it rewrites: the stacks whose templates are written
// of all, and the phases before (building the construct tree) and after
// (cdk-nag, the template validator, moving the output into place). Not on
// a terminal (the CDK CLI, CI, a pipe) it writes nothing.
type progress struct {
	w     io.Writer // nil: quiet
	every time.Duration
}

// newProgress returns a progress that writes to stderr when it is a terminal.
func newProgress(stderr io.Writer) progress {
	if f, ok := stderr.(*os.File); ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return progress{w: stderr, every: 250 * time.Millisecond}
	}
	return progress{}
}

// synth runs synthesize, which writes the templates of total stacks into
// a temporary directory beside out (app.Synth: .<out>.tmp-*), and shows
// its progress under the label what.
func (p progress) synth(what string, total int, out string, synthesize func() error) error {
	if p.w == nil {
		return synthesize()
	}
	start := time.Now()
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(p.every)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(p.w, "\r\033[K")
				return
			case now := <-t.C:
				fmt.Fprint(p.w, "\r\033[K"+status(what, written(out, start), total, now.Sub(start)))
			}
		}
	}()
	err := synthesize()
	close(done)
	<-stopped
	return err
}

// status is the progress line: what is done of total after elapsed.
func status(what string, done, total int, elapsed time.Duration) string {
	secs := int(elapsed.Seconds())
	switch {
	case done == 0:
		return fmt.Sprintf("obslink: %s: building %d stack(s) (%d s)", what, total, secs)
	case done < total:
		return fmt.Sprintf("obslink: %s: %d/%d stacks written (%d s)", what, done, total, secs)
	}
	return fmt.Sprintf("obslink: %s: %d/%d stacks written; checking them (%d s)", what, done, total, secs)
}

// written counts the templates in the newest temporary output beside out
// made since start.
func written(out string, start time.Time) int {
	dirs, _ := filepath.Glob(filepath.Join(filepath.Dir(filepath.Clean(out)), "."+filepath.Base(out)+".tmp-*"))
	n := 0
	for _, d := range dirs {
		if st, err := os.Stat(d); err != nil || st.ModTime().Before(start.Add(-time.Second)) {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(d, "*.template.json"))
		n = max(n, len(files))
	}
	return n
}
