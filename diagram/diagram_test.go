package diagram_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/diagram"
	"github.com/obslink/obslink/topology"
)

func load(t *testing.T, file string) *topology.Topology {
	t.Helper()
	topo, err := topology.Load(file)
	require.NoError(t, err)
	return topo
}

func TestMermaidEdgesFollowTraffic(t *testing.T) {
	topo, err := topology.Default()
	require.NoError(t, err)
	m := diagram.Mermaid(topo)
	for _, want := range []string{
		`ep_payments -- "PrivateLink" --> svc_eu_west_1`,
		`ep_checkout -- "PrivateLink" --> svc_ap_southeast_1`,
		`proxies_us_east_1 -- "inter-region VPC peering" --> cluster`,
		`proxies_eu_west_1 -- "VPC peering" --> cluster`,
		`cluster --> alb_traces`,
	} {
		assert.Contains(t, m, want)
	}
	assert.NotContains(t, m, "--> ep_", "nothing points into a consumer: one-way traffic")
}

func TestModes(t *testing.T) {
	tgw := diagram.Mermaid(load(t, "../examples/tgw.yaml"))
	assert.Contains(t, tgw, `tgw_us_east_1 -- "TGW peering" --> hub`)
	assert.Contains(t, tgw, `proxies_eu_west_1 -- "attachment" --> hub`)
	assert.Contains(t, tgw, "ASN 65010")

	assert.NotContains(t, tgw, "mesh")
	mesh := diagram.Mermaid(load(t, "../examples/tgw-full-mesh.yaml"))
	assert.Contains(t, mesh, `tgw_us_east_1 -- "TGW peering (mesh)" --> tgw_ap_southeast_2`)

	network := diagram.Mermaid(load(t, "../examples/peering-provider-account.yaml"))
	assert.Contains(t, network, `provider · 555555555555 · us-east-2`)

	native := diagram.Mermaid(load(t, "../examples/native.yaml"))
	assert.Contains(t, native, `ep_europe -- "cross-region PrivateLink" --> svc_us_east_1`)
	assert.Equal(t, 1, strings.Count(native, "nginx proxies"), "one fleet, in the main region")

	// proxy.mode none: the cluster VPC's NLB forwards to the ALBs; no
	// proxies, no peering, no provider VPC.
	direct := diagram.Mermaid(load(t, "../examples/proxyless.yaml"))
	assert.Contains(t, direct, `ep_europe -- "cross-region PrivateLink" --> svc_us_east_1`)
	assert.Contains(t, direct, `svc_us_east_1 -- "port 8080" --> alb_logs`)
	assert.Contains(t, direct, "logs/fedcba9876543210:80")
	for _, absent := range []string{"nginx proxies", "peering", "provider ·"} {
		assert.NotContains(t, direct, absent)
	}
}

// The diagram in the README is the one obslink draws for the default topology.
func TestReadmeDiagramIsCurrent(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	topo, err := topology.Default()
	require.NoError(t, err)
	block := "```mermaid\n" + diagram.Mermaid(topo) + "```"
	assert.True(t, strings.Contains(string(readme), block), "README's diagram is stale: paste the output of go run ./bin graph between its mermaid fences:\n%s", block)
}

func TestDOTRendersWithGraphviz(t *testing.T) {
	topo, err := topology.Default()
	require.NoError(t, err)
	dot := diagram.DOT(topo)
	assert.True(t, strings.HasPrefix(dot, "digraph obslink {"))
	bin, err := exec.LookPath("dot")
	if err != nil {
		if os.Getenv("OBSLINK_REQUIRE_ALL") == "1" {
			t.Fatal("Graphviz's dot is not installed (apt-get install graphviz); OBSLINK_REQUIRE_ALL=1 forbids skipping")
		}
		t.Skip("Graphviz is not installed; SVG output is optional")
	}
	cmd := exec.Command(bin, "-Tsvg")
	cmd.Stdin = strings.NewReader(dot)
	out, err := cmd.Output()
	require.NoError(t, err)
	assert.Contains(t, string(out), "<svg")
	assert.Contains(t, string(out), "payments")
}

// TestGoldenGraphs compares the Mermaid and DOT drawings of every example
// and environment with diagram/testdata/: a change to the drawing of a
// topology is on purpose. After an intended change: make golden
// (UPDATE_GOLDEN=1), then review the diff of diagram/testdata/.
func TestGoldenGraphs(t *testing.T) {
	files, err := filepath.Glob("../examples/*.yaml")
	require.NoError(t, err)
	envs, err := filepath.Glob("../environments/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	update := os.Getenv("UPDATE_GOLDEN") == "1"
	if update {
		require.NoError(t, os.RemoveAll("testdata"))
		require.NoError(t, os.MkdirAll("testdata", 0o755))
	}
	var drawn []string
	for _, f := range append(files, envs...) {
		topo := load(t, f)
		name := filepath.Base(filepath.Dir(f)) + "-" + strings.TrimSuffix(filepath.Base(f), ".yaml")
		for ext, draw := range map[string]func(*topology.Topology) string{".mmd": diagram.Mermaid, ".dot": diagram.DOT} {
			golden := filepath.Join("testdata", name+ext)
			drawn = append(drawn, golden)
			got := draw(topo)
			if update {
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
				continue
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "no golden drawing for %s: run make golden", f)
			if got != string(want) {
				diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
					A: difflib.SplitLines(string(want)), B: difflib.SplitLines(got),
					FromFile: "diagram/" + golden, ToFile: "drawn", Context: 2,
				})
				t.Errorf("%s drawn differently; run make golden if intended:\n%s", f, diff)
			}
		}
	}
	stored, err := filepath.Glob("testdata/*")
	require.NoError(t, err)
	assert.ElementsMatch(t, drawn, stored, "a golden drawing without its topology file, or the reverse: run make golden")
}
