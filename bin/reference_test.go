package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Markers around the generated part of docs/cli.md, the command reference.
const (
	referenceStart = "<!-- The command reference is obslink's own --help, generated: UPDATE_DOCS=1 go test ./bin -run TestCommandReference -->\n"
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
		b.WriteString("## `" + strings.Join(append([]string{"obslink"}, verb...), " ") + "`\n\n```\n" + stdout.String() + "```\n\n")
	}
	return b.String()
}

// cliPage is the command reference's page.
const cliPage = "../docs/cli.md"

// TestCommandReference: docs/cli.md's command reference is what --help
// prints. UPDATE_DOCS=1 rewrites it.
func TestCommandReference(t *testing.T) {
	b, err := os.ReadFile(cliPage)
	require.NoError(t, err)
	page := string(b)
	start, end := strings.Index(page, referenceStart), strings.Index(page, referenceEnd)
	require.True(t, start >= 0 && end > start, "docs/cli.md has the command reference's markers")
	want := commandReference(t)
	if os.Getenv("UPDATE_DOCS") != "" {
		page = page[:start+len(referenceStart)] + "\n" + want + page[end:]
		require.NoError(t, os.WriteFile(cliPage, []byte(page), 0o644))
		return
	}
	require.Equal(t, "\n"+want, page[start+len(referenceStart):end], "docs/cli.md's command reference differs from --help: UPDATE_DOCS=1 go test ./bin -run TestCommandReference")
}
