package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/topology"
)

// defaultWith is the default topology's text with each old replaced by new.
func defaultWith(t *testing.T, pairs ...string) string {
	t.Helper()
	text := string(topology.DefaultYAML())
	for i := 0; i < len(pairs); i += 2 {
		require.Contains(t, text, pairs[i])
		text = strings.Replace(text, pairs[i], pairs[i+1], 1)
	}
	return writeFile(t, text)
}

// TestDiff: obslink diff between the default topology (a synthesized
// assembly) and the same file changed names what each change replaces and
// means for traffic, exits 2 with changes and 0 without.
func TestDiff(t *testing.T) {
	base := filepath.Join(t.TempDir(), "base.out")
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"synth", "--no-nag", "--no-validate", "--out", base}, &stdout, &stderr), stderr.String())

	tests := []struct {
		name  string
		new   string
		code  int
		wants []string
	}{
		{"identical", "../topology/default.yaml", 0, []string{"no changes"}},
		{"domain", defaultWith(t, "domain: observability.internal", "domain: obs.example.internal"), 2, []string{
			"-/+ AWS::Route53::HostedZone ConsumerZone",
			"replaced, create-only Name changed",
			`Name: "observability.internal." -> "obs.example.internal."`,
			"obslink-consumer-analytics, obslink-consumer-payments, obslink-consumer-checkout ConsumerZoneCCF4F93B: private zone observability.internal. is replaced by obs.example.internal.",
			"-/+ AWS::Route53::RecordSet ConsumerRecordMetrics",
			"-        metrics.observability.internal metrics;",
			"+        metrics.obs.example.internal metrics;",
		}},
		{"service", defaultWith(t, "\nservices:\n", "\nservices:\n  - name: profiles\n    upstream: internal-profiles-alb-321.eu-west-1.elb.amazonaws.com\n"), 2, []string{
			"file in SSM parameters, fetched at boot: /etc/nginx/nginx.conf (modified)",
			"+        server_name profiles.observability.internal;",
			"file in SSM parameters, fetched at boot: /etc/obslink/upstreams (modified)",
			"+ AWS::Route53::RecordSet ConsumerRecordProfiles",
			"(profiles.observability.internal.)",
			"+ AWS::CloudWatch::Alarm MonitorUpstreamErrorsprofiles",
		}},
		{"instance type", defaultWith(t, "instanceType: t4g.small", "instanceType: c7i.large"), 2, []string{
			`LaunchTemplateData.InstanceType: "t4g.small" -> "c7i.large"`,
			"obslink-provider-ap-southeast-1, obslink-provider-eu-west-1, obslink-provider-us-east-1 ProviderFleetGroupASGB53CD929: instance refresh",
			"alarm obslink-provider-eu-west-1-NetworkBaseline is removed",
			"- AWS::CloudWatch::Alarm MonitorNetworkBaseline",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			require.Equal(t, tt.code, run([]string{"diff", base, tt.new}, &stdout, &stderr), stderr.String())
			for _, want := range tt.wants {
				assert.Contains(t, stdout.String(), want)
			}
			if tt.code == 2 {
				stdout.Reset()
				require.Equal(t, 2, run([]string{"diff", base, tt.new, "--format", "markdown"}, &stdout, &stderr), stderr.String())
				assert.True(t, strings.HasPrefix(stdout.String(), "### obslink diff: `"+base+"` → `"+tt.new+"`\n"), stdout.String()[:200])
				assert.Contains(t, stdout.String(), "\n````diff\n")
			}
		})
	}
}

// TestDiffDeleteOrderMatchesDiffStacks: the stacks a change removes are
// deleted in the order diff-stacks gives for the same stacks.
func TestDiffDeleteOrderMatchesDiffStacks(t *testing.T) {
	old := defaultWith(t,
		"\nregions:\n", "\nregions:\n  - {region: sa-east-1, cidr: 10.100.9.0/24, availabilityZones: [sa-east-1a, sa-east-1b, sa-east-1c]}\n")
	b, err := os.ReadFile(old)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(old, append(b, "  - {name: legacy, account: \"444444444444\", region: sa-east-1, vpc: {cidr: 10.9.0.0/16, availabilityZones: [sa-east-1a, sa-east-1b]}}\n"...), 0o644))

	var stdout, stderr bytes.Buffer
	require.Equal(t, 2, run([]string{"diff", old, "../topology/default.yaml"}, &stdout, &stderr), stderr.String())
	deletes := regexp.MustCompile(`delete it \((\d) of 2, dependents first\) with credentials of account \d+: (aws cloudformation delete-stack --stack-name \S+ --region \S+)`).FindAllStringSubmatch(stdout.String(), -1)
	require.Len(t, deletes, 2, stdout.String())
	var fromDiff []string
	for _, d := range deletes {
		fromDiff = append(fromDiff, d[1]+" "+d[2])
	}

	list := filepath.Join(t.TempDir(), "deployed.txt")
	require.NoError(t, os.WriteFile(list, []byte("arn:aws:cloudformation:sa-east-1:111111111111:stack/obslink-provider-sa-east-1/1\narn:aws:cloudformation:sa-east-1:444444444444:stack/obslink-consumer-legacy/2\n"), 0o644))
	stdout.Reset()
	require.Equal(t, 3, run([]string{"diff-stacks", "--deployed", list}, &stdout, &stderr), stderr.String())
	var fromDiffStacks []string
	for i, m := range regexp.MustCompile(`aws cloudformation delete-stack --stack-name \S+ --region \S+`).FindAllString(stdout.String(), -1) {
		fromDiffStacks = append(fromDiffStacks, string(rune('1'+i))+" "+m)
	}
	assert.Equal(t, fromDiffStacks, fromDiff)
	assert.Equal(t, "1 aws cloudformation delete-stack --stack-name obslink-consumer-legacy --region sa-east-1", fromDiff[0])
}

func TestDiffInputErrors(t *testing.T) {
	bad := badTopology(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"diff", "../topology/default.yaml", bad}, "consumers[0].account"},
		{[]string{"diff", "../topology/default.yaml", "/nonexistent.yaml"}, "/nonexistent.yaml: no such file or directory; give a topology file or a cloud assembly directory"},
		{[]string{"diff", "../topology/default.yaml", t.TempDir()}, "is not a cloud assembly"},
		{[]string{"diff", "../topology/default.yaml"}, "give two sides, OLD and NEW"},
		{[]string{"diff", "a", "b", "--format", "html"}, `--format "html" is not a format; use text or markdown`},
		{[]string{"diff", "a", "b", "--nope"}, "unknown flag: --nope"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[1:], " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			assert.Equal(t, 1, run(tt.args, &stdout, &stderr), "an error is 1: 2 means changes")
			assert.Contains(t, stderr.String(), tt.want)
			assert.Empty(t, stdout.String())
		})
	}
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 1, run([]string{"diff", bad, "../topology/default.yaml"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), bad+":", "the error names the file")
	assert.Contains(t, stderr.String(), "regions[1].cidr")
}

// TestDiffGroupMove: moving the organization example's data group to the
// sandbox group's SSM names moves its OUs between two StackSets nothing
// orders, and the diff says so, with what to do instead.
func TestDiffGroupMove(t *testing.T) {
	src, err := os.ReadFile("../examples/stacksets-organization.yaml")
	require.NoError(t, err)
	const from = "    excludeAccounts: [\"210987654321\"]\n    vpcParameters: *acme-network\n"
	require.Contains(t, string(src), from)
	moved := writeFile(t, strings.Replace(string(src), from,
		"    excludeAccounts: [\"210987654321\"]\n    vpcParameters: {vpcId: /sandbox/vpc/id, subnetIds: /sandbox/vpc/subnets, cidr: /sandbox/vpc/cidr}\n", 1))
	var stdout, stderr bytes.Buffer
	require.Equal(t, 2, run([]string{"diff", "../examples/stacksets-organization.yaml", moved}, &stdout, &stderr), stderr.String())
	out := stdout.String()
	assert.Regexp(t, `the stack instances for ou-ac01-analytics \(eu-west-1\), ou-ac01-dataeng01 \(eu-west-1\) move from StackSet acme-consumer-groups-[0-9a-f]{8} to StackSet acme-consumer-groups-[0-9a-f]{8}`, out)
	assert.Contains(t, out, "nothing orders the two StackSets")
}
