package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
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
	got, err := contextString("topology")
	require.NoError(t, err)
	assert.Equal(t, "/some/file.yaml", got)
}

func TestValidateGoodFile(t *testing.T) {
	file := writeFile(t, string(topology.DefaultYAML()))
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"validate", file}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "valid: 3 service(s), 3 provider region(s), 3 consumer(s)")
	stdout.Reset()
	require.Equal(t, 0, run([]string{"validate", "../examples/proxyless.yaml"}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "valid: 2 service(s), proxy.mode none (endpoint service in the cluster VPC), 3 consumer(s)")
	stdout.Reset()
	require.Equal(t, 0, run([]string{"validate", "../examples/stacksets-organization.yaml"}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "0 consumer(s), 3 consumer group(s) in 4 OU(s) and 2 region(s), 2 StackSet(s)", "an organization of groups is not 0 consumers")
	assert.Contains(t, stderr.String(), "obslink: warning: ../examples/stacksets-organization.yaml:69: consumerGroups[1].excludeAccounts: makes the StackSet that data shares with platform",
		"data's exclusions switch the StackSet it shares with platform to account-level targeting")
}

// TestIgnoredKeysWarn: validate and synth name a key the mode ignores on
// standard error, with its line, and go on.
func TestIgnoredKeysWarn(t *testing.T) {
	b, err := os.ReadFile("../examples/proxyless.yaml")
	require.NoError(t, err)
	text := strings.Replace(string(b), "  - name: metrics\n", "  - name: metrics\n    upstream: internal-metrics-1.us-east-1.elb.amazonaws.com\n", 1)
	file := writeFile(t, text)
	line := strings.Count(text[:strings.Index(text, "    upstream:")], "\n") + 1
	want := fmt.Sprintf("obslink: warning: %s:%d: services[0].upstream: is ignored: proxy.mode none reaches the ALB by albArn", file, line)
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"validate", file}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "valid:")
	assert.Contains(t, stderr.String(), want)

	stdout.Reset()
	stderr.Reset()
	require.Equal(t, 0, run([]string{"validate", "../examples/proxyless.yaml"}, &stdout, &stderr))
	assert.Empty(t, stderr.String(), "no warning for a file without ignored keys")
}

// TestSchema: obslink schema prints the topology file's JSON Schema, which
// names its keys.
func TestSchema(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"schema"}, &stdout, &stderr), stderr.String())
	assert.Equal(t, string(topology.Schema()), stdout.String())
	var s struct {
		Properties map[string]any `json:"properties"`
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &s))
	assert.Contains(t, s.Properties, "consumerGroups")
	stdout.Reset()
	assert.Equal(t, 2, run([]string{"schema", "out.json"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "redirect its output to a file")
	assert.Empty(t, stdout.String())
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

func TestDiffStacks(t *testing.T) {
	dir := t.TempDir()
	// Stacks deployed from an older file: consumer "legacy" and region
	// sa-east-1 are gone from the default topology; another topology's stack
	// and an unrelated one are not ours.
	describe := filepath.Join(dir, "stacks.json")
	require.NoError(t, os.WriteFile(describe, []byte(`{"Stacks": [
  {"StackName": "obslink-consumer-payments", "StackId": "arn:aws:cloudformation:eu-west-1:222222222222:stack/obslink-consumer-payments/1", "Tags": [{"Key": "obslink:topology", "Value": "obslink"}]},
  {"StackName": "obslink-consumer-legacy", "StackId": "arn:aws:cloudformation:eu-west-1:444444444444:stack/obslink-consumer-legacy/2", "Tags": [{"Key": "obslink:topology", "Value": "obslink"}]},
  {"StackName": "obslink-consumer-other", "StackId": "arn:aws:cloudformation:eu-west-1:444444444444:stack/obslink-consumer-other/3", "Tags": [{"Key": "obslink:topology", "Value": "staging"}]},
  {"StackName": "obslink-consumer-checkout", "StackId": "arn:aws:cloudformation:eu-west-1:333333333333:stack/obslink-consumer-checkout/6", "Tags": [{"Key": "obslink:topology", "Value": "obslink"}]}
]}
{"Stacks": [
  {"StackName": "obslink-provider-sa-east-1", "StackId": "arn:aws:cloudformation:sa-east-1:111111111111:stack/obslink-provider-sa-east-1/4", "Tags": [{"Key": "obslink:topology", "Value": "obslink"}]},
  {"StackName": "billing", "StackId": "arn:aws:cloudformation:sa-east-1:111111111111:stack/billing/5", "Tags": []}
]}
`), 0o644))
	var stdout, stderr bytes.Buffer
	require.Equal(t, 3, run([]string{"diff-stacks", "--deployed", describe}, &stdout, &stderr), stderr.String())
	out := stdout.String()
	assert.Contains(t, out, "3 deployed stack(s) of topology obslink are no longer in the file")
	// checkout moved to ap-southeast-1: its old stack in eu-west-1 has the same name.
	assert.Contains(t, out, "delete-stack --stack-name obslink-consumer-checkout --region eu-west-1 (account 333333333333)")
	consumer := strings.Index(out, "delete-stack --stack-name obslink-consumer-legacy --region eu-west-1 (account 444444444444)")
	provider := strings.Index(out, "delete-stack --stack-name obslink-provider-sa-east-1 --region sa-east-1 (account 111111111111)")
	require.True(t, consumer > 0 && provider > 0, out)
	assert.Less(t, consumer, provider, "the consumer goes before the provider it depends on")
	assert.NotContains(t, out, "obslink-consumer-payments")
	assert.NotContains(t, out, "obslink-consumer-other")
	assert.NotContains(t, out, "billing")

	// Plain lines: ARNs or names; nothing left over means exit 0.
	lines := filepath.Join(dir, "stacks.txt")
	require.NoError(t, os.WriteFile(lines, []byte("# deployed\nobslink-consumer-payments\narn:aws:cloudformation:eu-west-1:111111111111:stack/obslink-provider-eu-west-1/9\n"), 0o644))
	stdout.Reset()
	require.Equal(t, 0, run([]string{"diff-stacks", "--deployed", lines}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "every deployed stack of topology obslink is in the file (2 checked)")

	// Bad input names the file and line.
	bad := filepath.Join(dir, "bad.txt")
	require.NoError(t, os.WriteFile(bad, []byte("obslink-consumer-payments\nnot a stack!\n"), 0o644))
	stderr.Reset()
	assert.Equal(t, 1, run([]string{"diff-stacks", "--deployed", bad}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), bad+`:2: "not a stack!" is neither a stack ARN nor a stack name`)
	stderr.Reset()
	assert.Equal(t, 2, run([]string{"diff-stacks"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "--deployed is missing")
}

// TestDiffStacksProxylessSwitch: a native topology switched to proxy.mode
// none leaves its control-plane stack, which must go before the provider
// deploys (it imports the old provider's peering id).
func TestDiffStacksProxylessSwitch(t *testing.T) {
	dir := t.TempDir()
	lines := filepath.Join(dir, "stacks.txt")
	require.NoError(t, os.WriteFile(lines, []byte("arn:aws:cloudformation:us-east-1:111111111111:stack/obsdirect-control-plane/1\narn:aws:cloudformation:us-east-1:111111111111:stack/obsdirect-provider-us-east-1/2\n"), 0o644))
	var stdout, stderr bytes.Buffer
	require.Equal(t, 3, run([]string{"diff-stacks", "../examples/proxyless.yaml", "--deployed", lines}, &stdout, &stderr), stderr.String())
	out := stdout.String()
	assert.Contains(t, out, "delete-stack --stack-name obsdirect-control-plane --region us-east-1")
	assert.Contains(t, out, "delete obsdirect-control-plane BEFORE you deploy the provider stack")
	assert.NotContains(t, out, "Deploy the providers first")
	assert.NotContains(t, out, "obsdirect-provider-us-east-1 --region", "the provider stays: same name")
}

// TestDiffStacksConsumerImportingAnExport: a consumer in the provider's own
// account and region reads the endpoint service by Fn::ImportValue. When the
// last such consumer leaves, the provider drops the export, and
// CloudFormation refuses that update while the consumer's stack imports it:
// the stack goes first, as obslink diff says. While another consumer still
// imports the export, the providers can go first.
func TestDiffStacksConsumerImportingAnExport(t *testing.T) {
	text := string(topology.DefaultYAML())
	analytics := "  - name: analytics\n    account: \"111111111111\"\n    region: us-east-1\n    vpc:\n      id: vpc-0fedcba9876543210\n      cidr: 172.16.0.0/16\n      subnetIds: [subnet-0fedcba9876543210, subnet-0fedcba9876543211]\n      availabilityZones: [us-east-1a, us-east-1b]\n"
	require.Contains(t, text, analytics)
	without := writeFile(t, strings.Replace(text, analytics, "", 1))
	dir := t.TempDir()
	lines := filepath.Join(dir, "stacks.txt")
	require.NoError(t, os.WriteFile(lines, []byte("arn:aws:cloudformation:us-east-1:111111111111:stack/obslink-consumer-analytics/1\n"+
		"arn:aws:cloudformation:eu-west-1:444444444444:stack/obslink-consumer-legacy/2\n"), 0o644))
	var stdout, stderr bytes.Buffer
	require.Equal(t, 3, run([]string{"diff-stacks", without, "--deployed", lines}, &stdout, &stderr), stderr.String())
	out := stdout.String()
	first := strings.Index(out, "obslink-consumer-analytics: delete it BEFORE you deploy obslink-provider-us-east-1: it imports the endpoint service of obslink-provider-us-east-1, which obslink-provider-us-east-1 no longer exports")
	then := strings.Index(out, "Then deploy the providers")
	require.True(t, first > 0 && then > 0, out)
	assert.Less(t, first, then)
	assert.NotContains(t, out, "Deploy the providers first")
	assert.NotContains(t, out, "obslink-consumer-legacy: delete it BEFORE", "a consumer of another account reads the provider with a weak reference")

	// With analytics still in the file, a second consumer of the provider's
	// environment that left does not hold the export.
	require.NoError(t, os.WriteFile(lines, []byte("arn:aws:cloudformation:us-east-1:111111111111:stack/obslink-consumer-old/1\n"), 0o644))
	stdout.Reset()
	require.Equal(t, 3, run([]string{"diff-stacks", "--deployed", lines}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "Deploy the providers first")
	assert.NotContains(t, stdout.String(), "BEFORE")
}

func TestPlan(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"plan", "../topology/default.yaml", "--gib-per-day", "500"}, &stdout, &stderr), stderr.String())
	out := stdout.String()
	assert.Contains(t, out, "# obslink plan: obslink (../topology/default.yaml)")
	// Fleet sizes per provider region and mode.
	for _, row := range []string{
		"| peering, tgw | eu-west-1 | 166.67 |",
		"| peering, tgw | us-east-1 | 166.67 |",
		"| peering, tgw | ap-southeast-1 | 166.67 |",
		"| native | eu-west-1 | 500 |",
	} {
		assert.Contains(t, out, row)
	}
	assert.Equal(t, 4, strings.Count(out, "| 2 (minCapacity) |"), "four fleets of 2 proxies")
	// A monthly cost per mode, and the cheapest.
	assert.Contains(t, out, "| item | peering | tgw | native | proxyless |")
	assert.Contains(t, out, "| **total** | **$1,861.55** | **$2,486.92** | **$1,450.28** | n/a |")
	assert.Contains(t, out, "proxyless does not apply")
	assert.Contains(t, out, "Cheapest: **native**")
	// No requests/s given: the output says what that leaves out.
	assert.Contains(t, out, "NOTE: no requests/s for payments, analytics, checkout")

	// docs/sizing.md quotes the fleet table and the cost table, the lines on
	// what dominates and the cheapest mode; docs/modes/inter-region.md's
	// mode table the monthly totals.
	sizing, err := os.ReadFile("../docs/sizing.md")
	require.NoError(t, err)
	modes, err := os.ReadFile("../docs/modes/inter-region.md")
	require.NoError(t, err)
	const paste = "docs/sizing.md's plan output is stale: paste the %s of go run ./bin plan topology/default.yaml --gib-per-day 500 into it"
	for _, part := range []struct{ name, from, to string }{
		{"fleet table", "| mode | region", "\n\nNOTE: no requests/s"},
		{"cost table", "| item | peering", "\n\nproxyless does not apply"},
		{"What dominates list", "- peering, $", "\n\nCheapest"},
		{"Cheapest line", "Cheapest: ", "\n"},
	} {
		from := strings.Index(out, part.from)
		require.GreaterOrEqual(t, from, 0, part.name)
		to := strings.Index(out[from:], part.to)
		require.Greater(t, to, 0, part.name)
		assert.Contains(t, string(sizing), strings.TrimSpace(out[from:from+to]), paste, part.name)
	}
	var row string
	for _, line := range strings.Split(string(modes), "\n") {
		if strings.HasPrefix(line, "| Monthly cost, default topology at 500 GiB a day") {
			row = line
		}
	}
	require.NotEmpty(t, row, "docs/modes/inter-region.md's mode table has a Monthly cost row")
	totals := regexp.MustCompile(`\*\*\$([0-9,.]+)\*\*`).FindAllStringSubmatch(out, -1)
	require.Len(t, totals, 3, "peering, tgw, native totals")
	for i, mode := range []string{"peering", "tgw", "native"} {
		usd, err := strconv.ParseFloat(strings.ReplaceAll(totals[i][1], ",", ""), 64)
		require.NoError(t, err)
		whole := strconv.Itoa(int(math.Round(usd)))
		if len(whole) > 3 {
			whole = whole[:len(whole)-3] + "," + whole[len(whole)-3:]
		}
		assert.Contains(t, row, "$"+whole+":", "docs/modes/inter-region.md's mode table, Monthly cost row: %s's total is $%s now (go run ./bin plan topology/default.yaml --gib-per-day 500)", mode, whole)
	}

	// Flags after the file or before it; the embedded default without one.
	stdout.Reset()
	require.Equal(t, 0, run([]string{"plan", "--gib-per-day", "500"}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "(default.yaml (embedded))")
	assert.Contains(t, stdout.String(), "**$1,861.55**")
}

func TestPlanInputErrors(t *testing.T) {
	unsized := writeFile(t, strings.Replace(string(topology.DefaultYAML()), "instanceType: t4g.small", "instanceType: m7g.large", 1))
	badPrices := writeFile(t, "date: \"2026-12-10\"\ndiscounts:\n  nlb.hours: 10\n")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"plan", "--gib-per-day", "-5"}, 2, "--gib-per-day -5 is negative; give the agents' total data in GiB per day, 0 or more, such as --gib-per-day 500"},
		{[]string{"plan", "--gib-per-day", "lots"}, 2, `--gib-per-day "lots" is not a number; give the agents' total data in GiB per day, such as --gib-per-day 500`},
		{[]string{"plan", "--requests-per-second", "NaN"}, 2, `--requests-per-second "NaN" is not a number`},
		{[]string{"plan", "--requests-per-second", "-1"}, 2, "--requests-per-second -1 is negative"},
		{[]string{"plan", "--requests-per-second", "1e400"}, 2, "--requests-per-second 1e400 is out of range; give the agents' total requests per second as a finite figure, such as --requests-per-second 2000"},
		{[]string{"plan", "--gib-per-day", "-1e400"}, 2, "--gib-per-day -1e400 is out of range"},
		{[]string{"plan", "--gib-per-day", "+Inf"}, 2, "--gib-per-day +Inf is out of range"},
		// No data load: refused, naming the flags and the consumers' fields.
		{[]string{"plan"}, 2, "no data load given: consumer(s) payments, analytics, checkout give no gibPerDay and the total is 0 GiB a day"},
		{[]string{"plan", "--requests-per-second", "100"}, 2, "give the agents' totals with --gib-per-day N (and --requests-per-second N), shared evenly over the consumers without figures of their own, or each consumer's gibPerDay (and requestsPerSecond) in the file"},
		{[]string{"plan", "../topology/default.yaml", "--gib-per-day", "1", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"plan", unsized}, 1, `proxy.instanceType: "m7g.large" is not a type obslink plan can size`},
		{[]string{"plan", "--gib-per-day", "500", "--prices", "no-such-prices.yaml"}, 1, "obslink plan: open no-such-prices.yaml: no such file or directory"},
		{[]string{"plan", "--gib-per-day", "500", "--prices", badPrices}, 1, badPrices + ":3: discounts.nlb.hours: matches no item of internal/plan/prices.yaml"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			assert.Equal(t, tt.code, run(tt.args, &stdout, &stderr))
			assert.Contains(t, stderr.String(), tt.want)
			assert.Empty(t, stdout.String())
		})
	}
}

// TestEveryVerbHasItsOwnHelp: each verb's --help describes it, shows how
// to call it with an example, lists its own flags and no other verb's, and
// exits 0.
func TestEveryVerbHasItsOwnHelp(t *testing.T) {
	root := newRoot(nil, nil)
	own := map[string][]string{
		"synth":       {"--out DIR", "--no-nag", "--no-validate", "--topology FILE"},
		"validate":    {"--topology FILE"},
		"graph":       {"--format FORMAT", "--out FILE", "--topology FILE"},
		"plan":        {"--gib-per-day N", "--requests-per-second N", "--prices FILE", "--topology FILE"},
		"prices":      {},
		"diff-stacks": {"--deployed LIST", "--topology FILE"},
		"diff":        {"--format FORMAT"},
		"schema":      {},
	}
	all := map[string]bool{}
	for _, flags := range own {
		for _, f := range flags {
			all[strings.Fields(f)[0]] = true
		}
	}
	for _, c := range root.Commands() {
		if !c.IsAvailableCommand() || c.Name() == "completion" {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			require.Contains(t, own, c.Name(), "a verb without a test of its help")
			var stdout, stderr bytes.Buffer
			require.Equal(t, 0, run([]string{c.Name(), "--help"}, &stdout, &stderr), stderr.String())
			out := stdout.String()
			assert.Contains(t, out, c.Long, "its own description")
			assert.Contains(t, out, "Usage:\n  obslink "+c.Name())
			assert.Contains(t, out, "Examples:\n  ")
			assert.Regexp(t, `(?m)^  .*obslink `+c.Name()+` `, out, "an example runs the verb")
			mine := map[string]bool{}
			for _, f := range own[c.Name()] {
				assert.Contains(t, out, f)
				mine[strings.Fields(f)[0]] = true
			}
			for f := range all {
				if !mine[f] {
					assert.NotContains(t, out, f+" ", "another verb's flag")
				}
			}
		})
	}
}

func TestHelpAndUnknownVerbs(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"help"}, &stdout, &stderr), stderr.String())
	for _, verb := range []string{"synth", "validate", "graph", "plan", "diff", "diff-stacks", "schema", "completion"} {
		assert.Regexp(t, `(?m)^  `+verb+` +[A-Z]`, stdout.String(), "obslink help lists %s with a summary", verb)
	}

	stdout.Reset()
	assert.Equal(t, 2, run([]string{"bogus"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), `unknown verb "bogus"; the verbs are completion, diff, diff-stacks, graph, help, plan, prices, schema, synth, validate`)
	assert.Empty(t, stdout.String())
	stderr.Reset()
	assert.Equal(t, 2, run([]string{"valdate", "x.yaml"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "did you mean validate?")

	stdout.Reset()
	require.Equal(t, 0, run([]string{"--version"}, &stdout, &stderr))
	assert.Regexp(t, `^obslink (v[0-9]|\(devel\))`, stdout.String())

	stdout.Reset()
	require.Equal(t, 0, run([]string{"completion", "bash"}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "__start_obslink")
}

// TestBareCommandWritesNothing: obslink without a verb, outside the CDK CLI,
// prints its usage and writes no cdk.out.
func TestBareCommandWritesNothing(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("CDK_OUTDIR", "")
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run(nil, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "Usage:\n  obslink [flags]\n  obslink [command]")
	assert.Contains(t, stdout.String(), "Available Commands:")
	entries, err := os.ReadDir(".")
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing written")
}

// A region the prices file has no figures for still plans: what is missing
// is named once and left out of the totals. --prices plans with a
// company's own table, and the output names it.
func TestPlanPrices(t *testing.T) {
	unpriced := writeFile(t, strings.NewReplacer(
		"region: ap-southeast-1\n    cidr", "region: sa-east-1\n    cidr",
		"[ap-southeast-1a, ap-southeast-1b, ap-southeast-1c]", "[sa-east-1a, sa-east-1b, sa-east-1c]",
		"region: ap-southeast-1\n    vpc", "region: sa-east-1\n    vpc",
		"[ap-southeast-1a, ap-southeast-1b]", "[sa-east-1a, sa-east-1b]",
	).Replace(string(topology.DefaultYAML())))
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"plan", unpriced, "--gib-per-day", "500"}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "\nPrices: internal/plan/prices.yaml, dated ")
	assert.Equal(t, 1, strings.Count(stdout.String(), "- sa-east-1 (regions[2].region): nlb.hour, nlb.nlcuHour\n"))

	discounts := writeFile(t, "date: \"2026-12-10\"\nsource: our agreement\ndiscounts:\n  ec2.*: 30\n")
	stdout.Reset()
	require.Equal(t, 0, run([]string{"plan", "--gib-per-day", "500", "--prices", discounts}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "\nPrices: "+discounts+", dated 2026-12-10: our agreement; discounts ec2.* 30 % off internal/plan/prices.yaml (dated ")
	// 2 × 730 × (0.0184 + 0.0168 + 0.0212) × 0.7 for the instances of peering.
	assert.Contains(t, stdout.String(), "| proxy instances | $57.64 | $57.64 | $18.80 | n/a |")
}
