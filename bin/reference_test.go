package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Markers around the README's command reference.
const (
	referenceStart = "<!-- The command reference is obslink's own --help, generated: UPDATE_README=1 go test ./bin -run TestCommandReference -->\n"
	referenceEnd   = "<!-- end of the command reference -->\n"
)

// commandReference is every verb's --help, as obslink prints it, under a
// heading each.
func commandReference(t *testing.T) string {
	var b strings.Builder
	root := newRoot(nil, nil)
	root.InitDefaultCompletionCmd() // as Execute does
	verbs := [][]string{nil}
	for _, c := range root.Commands() {
		if c.IsAvailableCommand() {
			verbs = append(verbs, []string{c.Name()})
			for _, sub := range c.Commands() { // obslink prices refresh; not completion's shells
				if sub.IsAvailableCommand() && c.Name() != "completion" {
					verbs = append(verbs, []string{c.Name(), sub.Name()})
				}
			}
		}
	}
	for _, verb := range verbs {
		var stdout, stderr bytes.Buffer
		require.Equal(t, 0, run(append(verb, "--help"), &stdout, &stderr), stderr.String())
		b.WriteString("### `" + strings.Join(append([]string{"obslink"}, verb...), " ") + "`\n\n```\n" + stdout.String() + "```\n\n")
	}
	return b.String()
}

// TestCommandReference: the README's command reference is what --help
// prints. UPDATE_README=1 rewrites it.
func TestCommandReference(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	readme := string(b)
	start, end := strings.Index(readme, referenceStart), strings.Index(readme, referenceEnd)
	require.True(t, start >= 0 && end > start, "README.md has the command reference's markers")
	want := commandReference(t)
	if os.Getenv("UPDATE_README") != "" {
		readme = readme[:start+len(referenceStart)] + "\n" + want + readme[end:]
		require.NoError(t, os.WriteFile("../README.md", []byte(readme), 0o644))
		return
	}
	require.Equal(t, "\n"+want, readme[start+len(referenceStart):end], "README's command reference differs from --help: UPDATE_README=1 go test ./bin -run TestCommandReference")
}
