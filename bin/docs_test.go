package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGettingStartedErrorSample: the sample of a file with mistakes in
// docs/getting-started.md is what validate prints for examples/minimal.yaml
// copied to my-topology.yaml with those mistakes made, line numbers
// included.
func TestGettingStartedErrorSample(t *testing.T) {
	src, err := os.ReadFile("../examples/minimal.yaml")
	require.NoError(t, err)
	text := string(src)
	for _, e := range [][2]string{
		{"    cidr: 10.21.0.0/24", "    cidr: 10.20.5.0/24"},
		{"[eu-central-1a, eu-central-1b, eu-central-1c]", "[eu-central-1a, eu-central-1b, eu-west-1c]"},
		{"  minCapacity: 2", "  minCapacity: 5"},
		{`    account: "210987654321"`, "    account: 210987654321"},
		{"    allowedCidrs: [172.31.0.0/16", "    allowedCidr: [172.31.0.0/16"},
	} {
		require.Contains(t, text, e[0], "examples/minimal.yaml changed: update the mistakes here and the sample")
		text = strings.Replace(text, e[0], e[1], 1)
	}
	page, err := os.ReadFile("../docs/getting-started.md")
	require.NoError(t, err)
	_, after, ok := strings.Cut(string(page), "A file with mistakes")
	require.True(t, ok, "docs/getting-started.md has no sample of a file with mistakes")
	_, block, ok := strings.Cut(after, "```\n")
	require.True(t, ok)
	sample, _, ok := strings.Cut(block, "```")
	require.True(t, ok)

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "my-topology.yaml"), []byte(text), 0o644))
	t.Chdir(dir)
	var stdout, stderr bytes.Buffer
	code := run([]string{"validate", "my-topology.yaml"}, &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Equal(t, stderr.String(), sample, "docs/getting-started.md's sample is not what validate prints")
}
