package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/topology"
)

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "topology.yaml")
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

// badTopology breaks several fields of the default topology at once.
func badTopology(t *testing.T) string {
	text := string(topology.DefaultYAML())
	for old, bad := range map[string]string{
		`account: "222222222222"`:          `account: 222222222222`,
		"cidr: 10.100.1.0/24":              "cidr: 10.0.5.0/24",
		"region: ap-southeast-1\n    cidr": "region: ap-southeast-9x\n    cidr",
		"minCapacity: 2":                   "minCapacity: 0",
	} {
		require.Contains(t, text, old)
		text = strings.Replace(text, old, bad, 1)
	}
	return writeFile(t, text)
}

func TestBadTopologyWritesNothing(t *testing.T) {
	for _, args := range [][]string{
		{"--topology", "FILE", "--out", "OUT"},
		{"synth", "--topology", "FILE", "--out", "OUT"},
		{"validate", "FILE"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			file, out := badTopology(t), filepath.Join(t.TempDir(), "out")
			for i, a := range args {
				args[i] = strings.NewReplacer("FILE", file, "OUT", out).Replace(a)
			}
			var stdout, stderr bytes.Buffer
			code := run(args, &stdout, &stderr)
			assert.Equal(t, 1, code)
			assert.NoDirExists(t, out)
			for _, field := range []string{"consumers[0].account", "regions[1].cidr", "regions[2].region", "proxy.minCapacity"} {
				assert.Contains(t, stderr.String(), field)
			}
			assert.Contains(t, stderr.String(), file, "errors name the file")
		})
	}
}

func TestBadTopologyFromCDKContext(t *testing.T) {
	file, out := badTopology(t), filepath.Join(t.TempDir(), "out")
	t.Setenv("CDK_CONTEXT_JSON", `{"topology":"`+file+`"}`)
	t.Setenv("CDK_OUTDIR", out)
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 1, run(nil, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "consumers[0].account")
	assert.NoDirExists(t, out)
}

func TestContextOverflowFile(t *testing.T) {
	ctx := writeFile(t, `{"topology":"/some/file.yaml"}`)
	t.Setenv("CDK_CONTEXT_JSON", "")
	t.Setenv("CONTEXT_OVERFLOW_LOCATION_ENV", ctx)
	got, err := contextTopology()
	require.NoError(t, err)
	assert.Equal(t, "/some/file.yaml", got)
}

func TestValidateGoodFile(t *testing.T) {
	file := writeFile(t, string(topology.DefaultYAML()))
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"validate", file}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "valid: 3 service(s), 3 provider region(s), 3 consumer(s)")
}

func TestUsageErrors(t *testing.T) {
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 2, run([]string{"--nope"}, &stdout, &stderr))
	assert.Equal(t, 2, run([]string{"synth", "extra"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), `unexpected argument "extra"`)
}

func TestGraph(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"graph"}, &stdout, &stderr), stderr.String())
	assert.True(t, strings.HasPrefix(stdout.String(), "flowchart LR\n"))

	stdout.Reset()
	require.Equal(t, 0, run([]string{"graph", "--format", "dot"}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "digraph obslink")

	assert.Equal(t, 2, run([]string{"graph", "--format", "png"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), `"png" is not a format`)

	// A bad file draws nothing.
	stdout.Reset()
	assert.Equal(t, 1, run([]string{"graph", badTopology(t)}, &stdout, &stderr))
	assert.Empty(t, stdout.String())
}

// Synth replaces its output directory, so it must refuse one holding other files.
func TestSynthRefusesADirectoryOfOtherFiles(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "precious.txt")
	require.NoError(t, os.WriteFile(keep, []byte("mine"), 0o644))
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 1, run([]string{"--out", dir}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "holds no cloud assembly")
	assert.FileExists(t, keep)
}
