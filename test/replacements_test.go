package test

import (
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/obslink/obslink/internal/cfndiff"
	"github.com/obslink/obslink/topology"
)

// What changing a key replaces: each key's doc comment says it ("Changing
// it replaces ..."; the schema's descriptions and docs/reference.md carry
// it), and its replaces tag names what obslink diff must report for such a
// change: the guarded resource types replaced, "stack" for stacks the
// change removes (new names or places: the old ones to delete), "proxies"
// for an instance refresh. This test makes each change and compares.

// replacesTags returns every key's replaces tag, by key path
// (services[].port), walking the topology's types, and the keys that hold
// values (not mappings of keys).
func replacesTags() (map[string][]string, []string) {
	out := map[string][]string{}
	var leaves []string
	var walk func(t reflect.Type, path string)
	walk = func(t reflect.Type, path string) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			if t.Kind() == reflect.Slice {
				path += "[]"
			}
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			key := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if key == "" || !f.IsExported() {
				continue
			}
			p := key
			if path != "" {
				p = path + "." + key
			}
			out[p] = strings.Fields(f.Tag.Get("replaces"))
			if !holdsKeys(f.Type) {
				leaves = append(leaves, p)
			}
			walk(f.Type, p)
		}
	}
	walk(reflect.TypeOf(topology.Topology{}), "")
	return out, leaves
}

// holdsKeys reports whether a field of type t is a mapping of keys, or a
// list of them.
func holdsKeys(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct
}

// replacedBy is what obslink diff reports for a change, in replaces tags'
// words.
func replacedBy(report cfndiff.Report) []string {
	seen := map[string]bool{}
	for _, s := range report.Stacks {
		if s.Kind == cfndiff.Removed {
			seen["stack"] = true
		}
		if s.Kind != cfndiff.Modified {
			continue
		}
		for _, r := range s.Template.Resources {
			if r.Kind == cfndiff.Replaced && !r.Conditional && guarded[r.Type] {
				seen[r.Type] = true
			}
		}
	}
	for _, imp := range report.Impacts {
		if strings.HasPrefix(imp.Text, "instance refresh: ") || strings.HasPrefix(imp.Text, "rolling update: ") {
			seen["proxies"] = true
		}
	}
	return keysOf(seen)
}

// in returns the mapping at path (string keys, int indexes) of a decoded
// topology file.
func in(m map[string]any, path ...any) map[string]any {
	var cur any = m
	for _, p := range path {
		switch k := p.(type) {
		case string:
			cur = cur.(map[string]any)[k]
		case int:
			cur = cur.([]any)[k]
		}
	}
	return cur.(map[string]any)
}

// TestReplacementAnnotations changes one key at a time in the default
// topology (peering), examples/tgw.yaml and
// examples/stacksets-organization.yaml, synthesizes before and after, and
// requires obslink diff to report exactly what the key's replaces tag says.
// Every key with a tag must be changed here.
func TestReplacementAnnotations(t *testing.T) {
	const (
		def       = "../topology/default.yaml"
		tgw       = "../examples/tgw.yaml"
		stacksets = "../examples/stacksets-organization.yaml"
		proxyless = "../examples/proxyless.yaml"
	)
	changes := []struct {
		base, key string
		edit      func(m map[string]any)
	}{
		{def, "name", func(m map[string]any) { m["name"] = "obs2" }},
		{def, "domain", func(m map[string]any) { m["domain"] = "obs.internal" }},
		{def, "tls", func(m map[string]any) {
			m["tls"] = "passthrough"
			for i := range m["services"].([]any) {
				in(m, "services", i)["upstreamTls"], in(m, "services", i)["upstreamPort"] = true, 443
			}
		}},
		{def, "controlPlane.account", func(m map[string]any) { in(m, "controlPlane")["account"] = "999999999999" }},
		{def, "controlPlane.providerAccount", func(m map[string]any) { in(m, "controlPlane")["providerAccount"] = "444444444444" }},
		{def, "controlPlane.organizationId", func(m map[string]any) { in(m, "controlPlane")["organizationId"] = "o-abcdefghij" }},
		{def, "controlPlane.vpc.id", func(m map[string]any) { in(m, "controlPlane", "vpc")["id"] = "vpc-0a1b2c3d4e5f6071a" }},
		{def, "controlPlane.vpc.cidr", func(m map[string]any) { in(m, "controlPlane", "vpc")["cidr"] = "10.1.0.0/16" }},
		{def, "controlPlane.vpc.routeTableIds", func(m map[string]any) { in(m, "controlPlane", "vpc")["routeTableIds"] = []any{"rtb-0a1b2c3d4e5f6071a"} }},
		{def, "controlPlane.vpc.albSecurityGroupIds", func(m map[string]any) {
			in(m, "controlPlane", "vpc")["albSecurityGroupIds"] = []any{"sg-0a1b2c3d4e5f6071a"}
		}},
		{tgw, "controlPlane.vpc.subnetIds", func(m map[string]any) { in(m, "controlPlane", "vpc")["subnetIds"] = []any{"subnet-0a1b2c3d4e5f6071f"} }},
		{stacksets, "controlPlane.stackSetAdministrator", func(m map[string]any) { in(m, "controlPlane")["stackSetAdministrator"] = "555555555555" }},
		{def, "services[].name", func(m map[string]any) { in(m, "services", 0)["name"] = "metricz" }},
		{def, "services[].upstream", func(m map[string]any) {
			in(m, "services", 0)["upstream"] = "internal-other-1.eu-west-1.elb.amazonaws.com"
		}},
		{def, "services[].port", func(m map[string]any) { in(m, "services", 0)["port"] = 8000 }},
		{def, "services[].upstreamPort", func(m map[string]any) { in(m, "services", 0)["upstreamPort"] = 8081 }},
		{def, "services[].protocol", func(m map[string]any) {
			s := in(m, "services", 1)
			s["protocol"], s["upstreamTls"], s["port"] = "grpc", true, 4318
		}},
		{def, "services[].upstreamTls", func(m map[string]any) {
			in(m, "services", 0)["upstreamTls"], in(m, "services", 0)["upstreamPort"] = true, 443
		}},
		{def, "services[].tls", func(m map[string]any) {
			in(m, "services", 2)["tls"], in(m, "services", 2)["port"] = "passthrough", 4317
		}},
		{proxyless, "services[].albArn", func(m map[string]any) {
			in(m, "services", 0)["albArn"] = "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/metrics/0123456789abcdee"
		}},
		{proxyless, "services[].healthCheckPath", func(m map[string]any) { in(m, "services", 0)["healthCheckPath"] = "/health" }},
		{def, "regions[].region", func(m map[string]any) {
			r := in(m, "regions", 2)
			r["region"], r["availabilityZones"] = "ap-northeast-1", []any{"ap-northeast-1a", "ap-northeast-1c"}
			in(m, "consumers", 2)["region"] = "ap-northeast-1"
			in(m, "consumers", 2, "vpc")["availabilityZones"] = []any{"ap-northeast-1a"}
		}},
		{def, "regions[].cidr", func(m map[string]any) { in(m, "regions", 0)["cidr"] = "10.100.8.0/24" }},
		{def, "regions[].availabilityZones", func(m map[string]any) { in(m, "regions", 0)["availabilityZones"] = []any{"eu-west-1a", "eu-west-1b"} }},
		{tgw, "regions[].asn", func(m map[string]any) { in(m, "regions", 1)["asn"] = 64700 }},
		{def, "proxy.instanceType", func(m map[string]any) { in(m, "proxy")["instanceType"] = "m7g.large" }},
		{def, "proxy.minCapacity", func(m map[string]any) { in(m, "proxy")["minCapacity"] = 3 }},
		{def, "proxy.maxCapacity", func(m map[string]any) { in(m, "proxy")["maxCapacity"] = 6 }},
		{def, "proxy.image", func(m map[string]any) { in(m, "proxy")["image"] = "latest" }},
		{def, "proxy.imageGeneration", func(m map[string]any) { in(m, "proxy")["imageGeneration"] = 2 }},
		{def, "proxy.imageIds", func(m map[string]any) {
			in(m, "proxy")["imageIds"] = map[string]any{"eu-west-1": "ami-0123456789abcdef0"}
		}},
		{def, "proxy.proxyProtocol", func(m map[string]any) { in(m, "proxy")["proxyProtocol"] = false }},
		{def, "proxy.consumerHeader", func(m map[string]any) { in(m, "proxy")["consumerHeader"] = false }},
		{def, "monitoring.cpuPercent", func(m map[string]any) { m["monitoring"] = map[string]any{"cpuPercent": 70} }},
		{def, "consumers[].name", func(m map[string]any) { in(m, "consumers", 0)["name"] = "payment" }},
		{def, "consumers[].account", func(m map[string]any) { in(m, "consumers", 0)["account"] = "555555555555" }},
		{def, "consumers[].region", func(m map[string]any) {
			c := in(m, "consumers", 2)
			c["region"], in(c, "vpc")["availabilityZones"] = "us-east-1", []any{"us-east-1a"}
		}},
		{def, "consumers[].vpc.id", func(m map[string]any) { in(m, "consumers", 1, "vpc")["id"] = "vpc-0fedcba987654321a" }},
		{def, "consumers[].vpc.cidr", func(m map[string]any) { in(m, "consumers", 0, "vpc")["cidr"] = "10.9.0.0/16" }},
		{def, "consumers[].vpc.subnetIds", func(m map[string]any) {
			in(m, "consumers", 1, "vpc")["subnetIds"] = []any{"subnet-0fedcba987654321a", "subnet-0fedcba9876543211"}
		}},
		{def, "consumers[].vpc.availabilityZones", func(m map[string]any) {
			in(m, "consumers", 0, "vpc")["availabilityZones"] = []any{"eu-west-1a", "eu-west-1b", "eu-west-1c"}
		}},
		{def, "consumers[].allowedCidrs", func(m map[string]any) { in(m, "consumers", 0)["allowedCidrs"] = []any{"10.0.0.0/8"} }},
		{def, "consumers[].associatedVpcIds", func(m map[string]any) { in(m, "consumers", 1)["associatedVpcIds"] = []any{"vpc-0fedcba987654321b"} }},
		{stacksets, "consumerGroups[].organizationalUnitIds", func(m map[string]any) {
			in(m, "consumerGroups", 2)["organizationalUnitIds"] = []any{"ou-ac01-sandbox02"}
		}},
		{stacksets, "consumerGroups[].regions", func(m map[string]any) { in(m, "consumerGroups", 2)["regions"] = []any{"us-east-1", "eu-west-1"} }},
		{stacksets, "consumerGroups[].vpcParameters.vpcId", func(m map[string]any) { in(m, "consumerGroups", 2, "vpcParameters")["vpcId"] = "/x/vpc" }},
		{stacksets, "consumerGroups[].vpcParameters.subnetIds", func(m map[string]any) { in(m, "consumerGroups", 2, "vpcParameters")["subnetIds"] = "/x/subnets" }},
		{stacksets, "consumerGroups[].vpcParameters.cidr", func(m map[string]any) { in(m, "consumerGroups", 2, "vpcParameters")["cidr"] = "/x/cidr" }},
		{stacksets, "consumerGroups[].excludeAccounts", func(m map[string]any) { in(m, "consumerGroups", 2)["excludeAccounts"] = []any{"210987654322"} }},
		{stacksets, "consumerGroups[].name", func(m map[string]any) { in(m, "consumerGroups", 2)["name"] = "sandbox2" }},
		{stacksets, "consumerGroups[].expectedAccounts", func(m map[string]any) { in(m, "consumerGroups", 2)["expectedAccounts"] = 9 }},
		{stacksets, "stackSets.regionConcurrency", func(m map[string]any) { in(m, "stackSets")["regionConcurrency"] = "SEQUENTIAL" }},
		{stacksets, "stackSets.maxConcurrentPercentage", func(m map[string]any) { in(m, "stackSets")["maxConcurrentPercentage"] = 50 }},
		{stacksets, "stackSets.failureTolerancePercentage", func(m map[string]any) { in(m, "stackSets")["failureTolerancePercentage"] = 20 }},
		{stacksets, "controlPlane.organizationRootId", func(m map[string]any) { in(m, "controlPlane")["organizationRootId"] = "r-ac02" }},
		{stacksets, "controlPlane.stackSetCallAs", func(m map[string]any) { in(m, "controlPlane")["stackSetCallAs"] = "SELF" }},
		{tgw, "tgwMesh", func(m map[string]any) { m["tgwMesh"] = "full" }},
		{proxyless, "controlPlane.vpc.availabilityZones", func(m map[string]any) {
			in(m, "controlPlane", "vpc")["availabilityZones"] = []any{"use1-az1", "use1-az2", "use1-az4"}
		}},
		{def, "controlPlane.vpc.albIngress", func(m map[string]any) {
			in(m, "controlPlane", "vpc")["albIngress"] = "manual"
			delete(in(m, "controlPlane", "vpc"), "albSecurityGroupIds")
		}},
		{def, "monitoring.alarmTopicArn", func(m map[string]any) {
			m["monitoring"] = map[string]any{"alarmTopicArn": "arn:aws:sns:eu-west-1:111111111111:alarms"}
		}},
		{def, "monitoring.minHealthyHosts", func(m map[string]any) { m["monitoring"] = map[string]any{"minHealthyHosts": 2} }},
		{def, "monitoring.targetResets", func(m map[string]any) { m["monitoring"] = map[string]any{"targetResets": 50} }},
		{def, "monitoring.evaluationMinutes", func(m map[string]any) { m["monitoring"] = map[string]any{"evaluationMinutes": 10} }},
		{def, "monitoring.upstreamErrors", func(m map[string]any) { m["monitoring"] = map[string]any{"upstreamErrors": 20} }},
		{def, "monitoring.networkPercent", func(m map[string]any) { m["monitoring"] = map[string]any{"networkPercent": 70} }},
		{def, "monitoring.networkBaselineMbps", func(m map[string]any) { m["monitoring"] = map[string]any{"networkBaselineMbps": 500} }},
		{def, "consumers[].gibPerDay", func(m map[string]any) { in(m, "consumers", 0)["gibPerDay"] = 10 }},
		{def, "consumers[].requestsPerSecond", func(m map[string]any) { in(m, "consumers", 0)["requestsPerSecond"] = 100 }},
	}
	// Migrations: the whole deployment moves (docs/operations.md and docs/modes/ have their runbooks).
	migrations := map[string]bool{"interRegion": true, "proxy.mode": true, "consumerDeployment": true, "controlPlane.region": true}
	tags, leaves := replacesTags()
	changed := map[string]bool{}
	for _, c := range changes {
		require.Contains(t, tags, c.key, "a key of the topology file")
		changed[c.key] = true
	}
	for key, tag := range tags {
		if len(tag) > 0 {
			assert.True(t, changed[key], "%s has replaces:%q: add a change of it here", key, tag)
		}
	}
	for _, key := range leaves {
		assert.True(t, changed[key] || migrations[key], "%s: add a change of it here (or to the migrations)", key)
	}

	type base struct {
		topo   *topology.Topology
		stacks []cfndiff.Stack
	}
	bases := map[string]base{}
	for _, c := range changes {
		t.Run(c.key, func(t *testing.T) {
			text, err := os.ReadFile(c.base)
			require.NoError(t, err)
			b, ok := bases[c.base]
			if !ok {
				topo, err := topology.Parse(c.base, text)
				require.NoError(t, err)
				b = base{topo, readStacks(t, synth(t, topo))}
				bases[c.base] = b
			}
			var m map[string]any
			require.NoError(t, yaml.Unmarshal(text, &m))
			c.edit(m)
			text, err = yaml.Marshal(m)
			require.NoError(t, err)
			after, err := topology.Parse(c.base, text)
			require.NoError(t, err)
			require.NotEqual(t, b.topo, after, "the edit changes the topology")
			report, err := cfndiff.Compare(b.stacks, readStacks(t, synth(t, after)))
			require.NoError(t, err)
			want := append([]string{}, tags[c.key]...)
			sort.Strings(want)
			assert.Equal(t, want, replacedBy(report), "obslink diff for a change of %s, and its replaces tag", c.key)
		})
	}
}
