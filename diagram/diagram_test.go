package diagram_test

import (
	"fmt"
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

// edited loads file with each edit's first string replaced by its second.
func edited(t *testing.T, file string, edits ...[2]string) *topology.Topology {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	text := string(b)
	for _, e := range edits {
		require.Contains(t, text, e[0])
		text = strings.Replace(text, e[0], e[1], 1)
	}
	topo, err := topology.Parse(file, []byte(text))
	require.NoError(t, err)
	return topo
}

// Consumer groups and StackSets: each group with its OUs, regions,
// accounts and exclusions, an edge per provider it reaches, and a dotted
// "deploys" edge from its StackSet, in the administrator's account.
func TestGroupsAndStackSets(t *testing.T) {
	const org = "../examples/stacksets-organization.yaml"
	var many []string
	for i := range 5 {
		many = append(many, fmt.Sprintf("ou-ac01-many%05d", i))
	}
	tests := []struct {
		name         string
		topo         *topology.Topology
		want, absent []string
	}{
		{
			name: "organization",
			topo: load(t, org),
			want: []string{
				`subgraph group_platform["group platform · OU ou-ac01-platform1"]`,
				`ep_platform["12 accounts in eu-west-1, us-east-1<br/>agents → {metrics,logs,traces}.observability.internal<br/>endpoint in each account's VPC (SSM /acme/network/vpc-id)"]`,
				`subgraph group_data["group data · OUs ou-ac01-dataeng01, ou-ac01-analytics"]`,
				`20 accounts in eu-west-1<br/>1 excluded: 210987654321<br/>`,
				"(SSM /sandbox/vpc/id)",
				`ep_platform -- "PrivateLink" --> svc_eu_west_1`,
				`ep_platform -- "PrivateLink" --> svc_us_east_1`,
				`ep_sandbox -- "PrivateLink" --> svc_us_east_1`,
				`subgraph stacksets["StackSets · 444444444444 · eu-west-1"]`,
				`stackset_ConsumerGroups84918ba0["StackSet acme-consumer-groups-84918ba0<br/>the OUs' accounts, automatic deployment"]`,
				"stackset_ConsumerGroups84918ba0 -.->|deploys| ep_platform\n",
				"stackset_ConsumerGroups84918ba0 -.->|deploys| ep_data\n",
				"stackset_ConsumerGroups81a561b3 -.->|deploys| ep_sandbox\n",
			},
			absent: []string{"ep_data -- \"PrivateLink\" --> svc_us_east_1", "--> ep_", "consumer_"},
		},
		{
			name: "native: every region to the main one, one edge per kind",
			topo: edited(t, org, [2]string{"interRegion: peering", "interRegion: native"},
				[2]string{"  - region: us-east-1\n    cidr: 10.100.1.0/24\n    availabilityZones: [us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1e, us-east-1f]\n", ""},
				[2]string{"regions: [eu-west-1]\n    expectedAccounts: 20", "regions: [eu-west-1, us-east-1, ap-northeast-1]\n    expectedAccounts: 20"}),
			want: []string{
				`ep_platform -- "PrivateLink" --> svc_eu_west_1`,
				`ep_platform -- "cross-region PrivateLink" --> svc_eu_west_1`,
				`ep_data -- "cross-region PrivateLink" --> svc_eu_west_1`,
				`ep_sandbox -- "cross-region PrivateLink" --> svc_eu_west_1`,
			},
			absent: []string{"svc_us_east_1"},
		},
		{
			name: "no expectedAccounts, many OUs",
			topo: edited(t, org, [2]string{"    expectedAccounts: 8\n", ""}, [2]string{"[ou-ac01-sandbox01]", "[" + strings.Join(many, ", ") + "]"}),
			want: []string{
				`group sandbox · OUs ou-ac01-many00000, ou-ac01-many00001, ou-ac01-many00002 and 2 more"]`,
				`ep_sandbox["every account in us-east-1<br/>`,
			},
		},
		{
			name: "named consumers in a StackSet",
			topo: load(t, "../examples/stacksets.yaml"),
			want: []string{
				`ep_payments["agents → {metrics,traces}.observability.internal<br/>endpoint in the account's VPC (SSM /obslink/vpc-id)"]`,
				`stackset_Consumers["StackSet obsset-consumers<br/>the named consumers' accounts"]`,
				"stackset_Consumers -.->|deploys| ep_payments\n",
				"stackset_Consumers -.->|deploys| ep_search\n",
				"stackset_ConsumerGroups -.->|deploys| ep_workloads\n",
				`ep_workloads -- "PrivateLink" --> svc_us_east_1`,
			},
			absent: []string{"new VPC", "--> ep_"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := diagram.Mermaid(tt.topo)
			for _, w := range tt.want {
				assert.Equal(t, 1, strings.Count(m, w), "once: %s\n%s", w, m)
			}
			for _, a := range tt.absent {
				assert.NotContains(t, m, a)
			}
		})
	}

	dot := diagram.DOT(load(t, org))
	assert.Contains(t, dot, `stackset_ConsumerGroups84918ba0 -> ep_platform [label="deploys", style=dashed];`)
	assert.Contains(t, dot, `ep_platform -> svc_us_east_1 [label="PrivateLink"];`)
	assert.Contains(t, dot, `label="20 accounts in eu-west-1\n1 excluded: 210987654321\n`, "a line each")
}

// The diagrams on the README and on docs/concepts.md are the one obslink
// draws for the default topology.
func TestDocsDiagramIsCurrent(t *testing.T) {
	topo, err := topology.Default()
	require.NoError(t, err)
	block := "```mermaid\n" + diagram.Mermaid(topo) + "```"
	for _, page := range []string{"../README.md", "../docs/concepts.md"} {
		b, err := os.ReadFile(page)
		require.NoError(t, err)
		assert.True(t, strings.Contains(string(b), block), "%s's diagram is stale: paste the output of go run ./bin graph between its mermaid fences:\n%s", page, block)
	}
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
	for _, tt := range []struct{ dot, want string }{
		{dot, "payments"},
		{diagram.DOT(load(t, "../examples/stacksets-organization.yaml")), "stroke-dasharray"}, // a dashed "deploys" edge
	} {
		cmd := exec.Command(bin, "-Tsvg")
		cmd.Stdin = strings.NewReader(tt.dot)
		out, err := cmd.Output()
		require.NoError(t, err)
		assert.Contains(t, string(out), "<svg")
		assert.Contains(t, string(out), tt.want)
	}
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
