// Package test holds the app-level tests: the default topology and the
// examples synthesized end to end, the golden templates and the gates that
// stand in for a real deploy.
package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/app"
	"github.com/obslink/obslink/topology"
)

// Manifest is the part of cdk.out/manifest.json the tests read.
type Manifest struct {
	Missing   []any               `json:"missing"`
	Artifacts map[string]Artifact `json:"artifacts"`
}

// Artifact is one entry of the manifest.
type Artifact struct {
	Type         string   `json:"type"`
	Environment  string   `json:"environment"`
	Dependencies []string `json:"dependencies"`
}

// Template is a CloudFormation template, loosely typed.
type Template struct {
	Resources map[string]Resource `json:"Resources"`
	Outputs   map[string]any      `json:"Outputs"`
}

// Resource is one template resource.
type Resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
	DependsOn  any            `json:"DependsOn"`
}

// Of returns the resources of one type, by logical id.
func (t Template) Of(typ string) map[string]Resource {
	out := map[string]Resource{}
	for id, r := range t.Resources {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

// Assembly is one synthesized topology.
type Assembly struct {
	Dir      string
	Manifest Manifest
}

// Template reads a stack's template.
func (a Assembly) Template(t *testing.T, stack string) Template {
	t.Helper()
	var tpl Template
	readJSON(t, filepath.Join(a.Dir, stack+".template.json"), &tpl)
	return tpl
}

// Stacks returns the stack artifacts by name.
func (a Assembly) Stacks() map[string]Artifact {
	out := map[string]Artifact{}
	for name, art := range a.Manifest.Artifacts {
		if art.Type == "aws:cloudformation:stack" {
			out[name] = art
		}
	}
	return out
}

// synth synthesizes topo into a directory of the test's own.
func synth(t *testing.T, topo *topology.Topology) Assembly {
	t.Helper()
	return synthInto(t, topo, t.TempDir())
}

func synthInto(t *testing.T, topo *topology.Topology, dir string) Assembly {
	t.Helper()
	_, err := app.Synth(topo, app.Options{Outdir: dir})
	require.NoError(t, err)
	a := Assembly{Dir: dir}
	readJSON(t, filepath.Join(dir, "manifest.json"), &a.Manifest)
	return a
}

// synthDefault returns the default topology's assembly, shared by the tests
// of this binary (read it, never write into it).
func synthDefault(t *testing.T) Assembly {
	t.Helper()
	def, err := topology.Default()
	require.NoError(t, err)
	return namedTopology{"default", def}.synth(t)
}

// shared holds the assemblies of the repository's topologies (the default,
// examples/ and environments/), each synthesized by the first test that asks
// for it and read by every test after, in a directory TestMain removes:
// `go test ./test` synthesizes each topology once, `-run OneTest` only what
// that test reads.
var shared struct {
	mu         sync.Mutex
	dir        string
	assemblies map[string]Assembly
}

func TestMain(m *testing.M) {
	m.Run()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v), path)
}

// namedTopology is a topology the gates check, with the file it came from.
type namedTopology struct {
	file string // "default" for the embedded default
	topo *topology.Topology
}

// synth returns the assembly of nt's file, synthesized once per test binary
// (see shared): read it, never write into it.
func (nt namedTopology) synth(t *testing.T) Assembly {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if a, ok := shared.assemblies[nt.file]; ok {
		return a
	}
	if shared.dir == "" {
		dir, err := os.MkdirTemp("", "obslink-test-assemblies-")
		require.NoError(t, err)
		shared.dir, shared.assemblies = dir, map[string]Assembly{}
	}
	name := strings.NewReplacer("../", "", "/", "-").Replace(nt.file)
	a := synthInto(t, nt.topo, filepath.Join(shared.dir, name))
	shared.assemblies[nt.file] = a
	return a
}

// allTopologies loads the default topology and every example and environment.
func allTopologies(t *testing.T) []namedTopology {
	t.Helper()
	def, err := topology.Default()
	require.NoError(t, err)
	out := []namedTopology{{"default", def}}
	for _, f := range exampleFiles(t) {
		topo, err := topology.Load(f)
		require.NoError(t, err)
		out = append(out, namedTopology{f, topo})
	}
	return out
}
