package plan_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/internal/plan"
	"github.com/obslink/obslink/topology"
)

// testCapacity is this file's own CPU cost of load: the tests check the
// arithmetic, not obslink's measurement, which changes when make bench
// is re-run (plan.MeasuredCapacity).
var testCapacity = plan.Capacity{HTTPPer1000: 0.05, GRPCPer1000: 0.08, PerGiB: 2, Source: "test"}

func prices(t *testing.T) *plan.Prices {
	t.Helper()
	p, err := plan.EmbeddedPrices()
	require.NoError(t, err)
	return p
}

func defaultTopology(t *testing.T, edits ...[2]string) *topology.Topology {
	t.Helper()
	text := string(topology.DefaultYAML())
	for _, e := range edits {
		require.Contains(t, text, e[0])
		text = strings.Replace(text, e[0], e[1], 1)
	}
	topo, err := topology.Parse("default.yaml", []byte(text))
	require.NoError(t, err)
	return topo
}

func make500(t *testing.T, topo *topology.Topology) *plan.Result {
	t.Helper()
	r, err := plan.Make(topo, plan.Options{Total: plan.Load{GiBPerDay: 500}, Capacity: testCapacity, Prices: prices(t)})
	require.NoError(t, err)
	return r
}

func item(t *testing.T, r *plan.Result, mode plan.Mode, name string) float64 {
	t.Helper()
	it, ok := r.Cost(mode).Item(name)
	require.True(t, ok, "%s has no item %q", mode, name)
	return it.USD
}

// The default topology at 500 GiB/day, checked against figures worked out
// by hand from internal/plan/prices.yaml (2026-11-28).
//
// Load: 3 consumers without figures of their own share 500 GiB/day:
// 166.667 GiB/day each, 166.667 × 730 / 24 = 5,069.444 GB a month each,
// 15,208.333 GB in all. Each consumer VPC has 2 zones.
//
// Fleet, per provider region in peering and tgw (166.667 GiB/day):
// 166.667 × 2^30 / 86,400 = 2,071,271.6 bytes/s = 16.570 Mbps average,
// 33.140 Mbps at the peak (× 2). A t4g.small carries 128 × 80 % = 102.4
// Mbps: 1 by network. CPU: 2,071,271.6 × 2 / 2^30 = 0.00386 CPU-s/s of
// 2 vCPU × 20 % × 0.5 = 0.2: 1 by CPU. max(minCapacity 2, 1 + 1 spare) = 2.
// Native puts 500 GiB/day on eu-west-1: 49.71 Mbps, peak 99.42 < 102.4:
// still 2.
//
// Cross-zone transfer: (1 − 1/zones) of each hop, × 0.01 out and 0.01 in.
// Provider VPCs: eu-west-1 3 zones, us-east-1 6, ap-southeast-1 3.
//
//	peering, tgw  NLB to proxies  5,069.444 × (2/3 + 5/6 + 2/3)   = 10,984.0
//	              proxies to ALBs 5,069.444 × 2/3 (eu-west-1)     =  3,379.630
//	              14,363.426 GB × 0.02                            = 287.2685
//	native        15,208.333 × 2/3 × 2 hops = 20,277.778 × 0.02   = 405.5556
//
// No requests/s given: the access logs are $0.
//
// peering, USD a month:
//
//	consumer endpoints  2 × 730 × (0.011 eu-west-1 + 0.01 us-east-1 + 0.013 ap-southeast-1) = 49.64
//	PrivateLink data    15,208.333 GB × 0.01                                             = 152.0833
//	provider endpoints  6 per zone (proxyProtocol) × 730 × (3 × 0.011 + 6 × 0.01 + 3 × 0.013)
//	                    = 4,380 × 0.132                                                  = 578.16
//	NLB hours           730 × (0.0252 + 0.0225 + 0.0252)                                 = 53.217
//	NLCUs               15,208.333 GB × 0.006                                            = 91.25
//	instances           2 × 730 × (0.0184 + 0.0168 + 0.0212)                             = 82.344
//	root volumes        2 × 16 GiB × (0.088 + 0.08 + 0.096)                              = 8.448
//	inter-region        5,069.444 × 0.02 (us-east-1) + 5,069.444 × 0.09 (ap-southeast-1) = 557.6389
//	cross-zone          (above)                                                          = 287.2685
//	Route 53 zones      3 × 0.50                                                         = 1.50
//	total                                                                                = 1,861.5497
//
// tgw: peering's items, plus
//
//	attachments   eu-west-1: cluster VPC, provider VPC, 2 peering ends = 4 × 730 × 0.05 = 146.00
//	              us-east-1: provider VPC, peering end = 2 × 730 × 0.05            = 73.00
//	              ap-southeast-1: provider VPC, peering end = 2 × 730 × 0.07       = 102.20
//	                                                                              = 321.20
//	data          15,208.333 GB × 0.02                                            = 304.1667
//	total         1,861.5497 + 321.20 + 304.1667                                  = 2,486.9164
//
// native: one fleet, NLB and provider VPC, in eu-west-1
//
//	consumer endpoints 49.64 + PrivateLink data 152.0833 (as peering)
//	provider endpoints 6 × 3 × 730 × 0.011 = 144.54
//	NLB hours          730 × 0.0252        = 18.396
//	NLCUs              91.25 (as peering)
//	instances          2 × 730 × 0.0184    = 26.864
//	root volumes       2 × 16 × 0.088      = 2.816
//	inter-region       557.6389 (the same bytes and rates, sent from the consumers' regions)
//	cross-zone         405.5556 (above)
//	Route 53 zones     1.50
//	total                                  = 1,450.2838
//
// proxyless: metrics and logs share port 80, so it does not apply.
func TestDefaultTopology500GiBPerDay(t *testing.T) {
	r := make500(t, defaultTopology(t))

	for _, mode := range []plan.Mode{plan.Peering, plan.TGW} {
		fleets := r.Cost(mode).Fleets
		require.Len(t, fleets, 3, mode)
		for i, region := range []string{"eu-west-1", "us-east-1", "ap-southeast-1"} {
			f := fleets[i]
			assert.Equal(t, region, f.Region)
			assert.InDelta(t, 166.667, f.Load.GiBPerDay, 0.001)
			assert.InDelta(t, 16.570, f.AvgMbps, 0.001)
			assert.InDelta(t, 33.140, f.PeakMbps, 0.001)
			assert.InDelta(t, 0.00386, f.CPU, 0.00001)
			assert.Equal(t, 1, f.ByCPU)
			assert.Equal(t, 1, f.ByNetwork)
			assert.Equal(t, 2, f.Needed, "%s %s: minCapacity", mode, region)
		}
	}
	native := r.Cost(plan.Native).Fleets
	require.Len(t, native, 1)
	assert.Equal(t, "eu-west-1", native[0].Region)
	assert.InDelta(t, 99.42, native[0].PeakMbps, 0.01)
	assert.Equal(t, 2, native[0].Needed)
	assert.Empty(t, r.Cost(plan.Proxyless).Fleets)

	peering := map[string]float64{
		plan.ItemConsumerEndpoints: 49.64,
		plan.ItemPrivateLinkData:   152.0833,
		plan.ItemProviderEndpoints: 578.16,
		plan.ItemNLBHours:          53.217,
		plan.ItemNLCU:              91.25,
		plan.ItemInstances:         82.344,
		plan.ItemVolumes:           8.448,
		plan.ItemInterRegion:       557.6389,
		plan.ItemCrossZone:         287.2685,
		plan.ItemAccessLogs:        0,
		plan.ItemZones:             1.50,
	}
	for name, want := range peering {
		assert.InDelta(t, want, item(t, r, plan.Peering, name), 0.001, name)
	}
	assert.InDelta(t, 1861.5497, r.Cost(plan.Peering).Total, 0.001)

	assert.InDelta(t, 321.20, item(t, r, plan.TGW, plan.ItemTGWAttachments), 0.001)
	assert.InDelta(t, 304.1667, item(t, r, plan.TGW, plan.ItemTGWData), 0.001)
	assert.InDelta(t, 287.2685, item(t, r, plan.TGW, plan.ItemCrossZone), 0.001)
	assert.InDelta(t, 2486.9164, r.Cost(plan.TGW).Total, 0.001)

	for name, want := range map[string]float64{
		plan.ItemProviderEndpoints: 144.54,
		plan.ItemNLBHours:          18.396,
		plan.ItemInstances:         26.864,
		plan.ItemVolumes:           2.816,
		plan.ItemInterRegion:       557.6389,
		plan.ItemCrossZone:         405.5556,
	} {
		assert.InDelta(t, want, item(t, r, plan.Native, name), 0.001, name)
	}
	assert.InDelta(t, 1450.2838, r.Cost(plan.Native).Total, 0.001)
	assert.Equal(t, []string{"payments", "analytics", "checkout"}, r.NoRequests, "no requests/s given")

	proxyless := r.Cost(plan.Proxyless)
	assert.False(t, proxyless.Applies)
	assert.Contains(t, proxyless.Why, "metrics and logs share port 80")

	cheapest := r.Cheapest()
	require.Len(t, cheapest, 3)
	assert.Equal(t, plan.Native, cheapest[0].Mode)
	top := r.Cost(plan.Peering).Top(2)
	assert.Equal(t, []string{plan.ItemProviderEndpoints, plan.ItemInterRegion}, []string{top[0].Name, top[1].Name})
}

// With a port per service, proxyless applies: no fleet, no provider VPC,
// one NLB in the cluster VPC (eu-west-1), no access logs.
//
//	consumer endpoints 49.64 + PrivateLink data 152.0833 (as peering)
//	NLB hours          730 × 0.0252          = 18.396
//	NLCUs              15,208.333 × 0.006    = 91.25
//	inter-region       557.6389 (as native)
//	cross-zone         NLB to ALBs: 15,208.333 × 2/3 × 0.02 = 202.7778 (the file
//	                   gives no cluster zones: eu-west-1's provider VPC's 3)
//	Route 53 zones     1.50
//	total                                    = 1,073.2860
func TestProxylessWithAPortPerService(t *testing.T) {
	topo := defaultTopology(t, [2]string{"upstream: internal-logs-alb-456.eu-west-1.elb.amazonaws.com", "upstream: internal-logs-alb-456.eu-west-1.elb.amazonaws.com\n    port: 81"})
	r := make500(t, topo)
	c := r.Cost(plan.Proxyless)
	require.True(t, c.Applies, c.Why)
	assert.Empty(t, c.Fleets)
	_, ok := c.Item(plan.ItemInstances)
	assert.False(t, ok, "no proxies")
	assert.InDelta(t, 18.396, item(t, r, plan.Proxyless, plan.ItemNLBHours), 0.001)
	assert.InDelta(t, 91.25, item(t, r, plan.Proxyless, plan.ItemNLCU), 0.001)
	assert.InDelta(t, 202.7778, item(t, r, plan.Proxyless, plan.ItemCrossZone), 0.001)
	_, ok = c.Item(plan.ItemAccessLogs)
	assert.False(t, ok, "no proxies, no access logs")
	assert.InDelta(t, 1073.2860, c.Total, 0.001)
	assert.Contains(t, strings.Join(r.Notes, "\n"), "its NLB is counted in 3 zones")
	assert.Equal(t, plan.Proxyless, r.Cheapest()[0].Mode)
}

// A load large enough to need more than minCapacity on CPU: 18,000
// requests/s over 3 consumers is 6,000 a region (and 1 GiB/day each, whose
// CPU this capacity leaves out). The services speak http and grpc: the
// larger figure, 0.08 CPU-s per 1,000 requests, gives 6,000 × 0.08 / 1,000
// = 0.48 CPU-s/s; a t4g.small may use 0.2: 3 by CPU, + 1 spare = 4.
// Native carries all 18,000 in eu-west-1: 1.44 / 0.2 = 7.2: 8 + 1 = 9,
// above maxCapacity 4.
//
// The group, as the file sets it (minCapacity 2), scales to keep 50 % CPU:
// ceil(0.48 / (2 × 0.5)) = 1, so it holds 2 at 0.48 / 4 = 12 % (under the
// 20 % baseline); native: ceil(1.44 / 1) = 2, at 1.44 / 4 = 36 %: surplus
// (1.44 − 2 × 2 × 0.2) × 730 = 467.2 vCPU-hours × 0.04 = 18.688 USD a month.
func TestSizingByCPU(t *testing.T) {
	cpuOnly := plan.Capacity{HTTPPer1000: 0.05, GRPCPer1000: 0.08}
	r, err := plan.Make(defaultTopology(t), plan.Options{Total: plan.Load{GiBPerDay: 3, RequestsPerSecond: 18000}, Capacity: cpuOnly, Prices: prices(t)})
	require.NoError(t, err)
	assert.InDelta(t, 0.08, r.PerRequest, 1e-9)
	for _, f := range r.Cost(plan.Peering).Fleets {
		assert.InDelta(t, 0.48, f.CPU, 1e-9, f.Region)
		assert.Equal(t, 3, f.ByCPU, f.Region)
		assert.Equal(t, 1, f.ByNetwork, f.Region)
		assert.Equal(t, 4, f.Needed, f.Region)
		assert.False(t, f.OverMax(), f.Region)
		assert.Equal(t, 2, f.Held, f.Region)
		assert.InDelta(t, 0.12, f.HeldCPU, 1e-9, f.Region)
		assert.False(t, f.Surplus(), f.Region)
	}
	n := r.Cost(plan.Native).Fleets[0]
	assert.Equal(t, 9, n.Needed)
	assert.True(t, n.OverMax())
	assert.Equal(t, 2, n.Held)
	assert.InDelta(t, 0.36, n.HeldCPU, 1e-9)
	assert.InDelta(t, 467.2, n.SurplusVCPUHours, 1e-6)
	assert.InDelta(t, 18.688, n.SurplusUSD, 1e-6)
	// The instances are priced at what the load needs: 9 × 730 × 0.0184.
	assert.InDelta(t, 9*730*0.0184, item(t, r, plan.Native, plan.ItemInstances), 0.001)

	var out bytes.Buffer
	require.NoError(t, r.Write(&out, "default.yaml"))
	s := out.String()
	assert.Contains(t, s, "| native | eu-west-1 | 3 | 0.3 | 0.6 | 1.44 | 8 | 1 | 4 (maxCapacity; needs 9) |")
	assert.Contains(t, s, "WARNING: native, eu-west-1 needs 9 × t4g.small, above proxy.maxCapacity 4: raise minCapacity and maxCapacity to 9 or more")
	assert.Contains(t, s, "| peering, tgw | us-east-1 | 1 | 0.1 | 0.2 | 0.48 | 3 | 1 | 4 (CPU + 1) |")
	assert.Contains(t, s, "WARNING: native, eu-west-1: as the file sets it (minCapacity 2, maxCapacity 4) the Auto Scaling group, which scales to keep 50 % CPU, holds 2 proxies at 36 % CPU each on average, above a t4g.small's 20 % baseline.")
	assert.Contains(t, s, "surplus CPU credits: 467.2 vCPU-hours a month, $18.69 (not in the costs below, which count 9 proxies). Set minCapacity (and maxCapacity) to 9")
	assert.Equal(t, 1, strings.Count(s, "surplus CPU credits:"), "peering's fleets stay under the baseline")
	assert.NotContains(t, s, "NOTE: no requests/s")
}

// N+1: one proxy more than the load needs, so that losing one leaves
// enough. 2,400 requests/s on one consumer (payments, eu-west-1) at 0.08:
// 0.192 CPU-s/s, 1 by CPU: 2 proxies, minCapacity's. At 3,000: 0.24, 2 by
// CPU: 3 proxies, above minCapacity 2.
func TestSpareProxy(t *testing.T) {
	cpuOnly := plan.Capacity{HTTPPer1000: 0.05, GRPCPer1000: 0.08}
	for _, tt := range []struct {
		rps    float64
		byCPU  int
		needed int
		label  string
	}{{2400, 1, 2, "2 (minCapacity)"}, {3000, 2, 3, "3 (CPU + 1)"}} {
		topo := defaultTopology(t, [2]string{"  - name: payments\n", fmt.Sprintf("  - name: payments\n    gibPerDay: 1\n    requestsPerSecond: %v\n", tt.rps)})
		r, err := plan.Make(topo, plan.Options{Total: plan.Load{GiBPerDay: 1}, Capacity: cpuOnly, Prices: prices(t)})
		require.NoError(t, err)
		f := r.Cost(plan.Peering).Fleets[0]
		require.Equal(t, "eu-west-1", f.Region)
		assert.Equal(t, tt.byCPU, f.ByCPU, tt.rps)
		assert.Equal(t, tt.needed, f.Needed, tt.rps)
		var out bytes.Buffer
		require.NoError(t, r.Write(&out, "default.yaml"))
		assert.Contains(t, out.String(), "| "+tt.label+" |\n", tt.rps)
		assert.Contains(t, out.String(), "N+1: the proxies counted are one more than CPU or network needs")
	}
}

// A load large enough to need more than minCapacity on network, with a
// capacity whose CPU cost is small: 6,000 GiB/day over 3 consumers is
// 2,000 GiB/day a region: 2,000 × 2^30 × 8 / 86,400 / 10^6 = 198.84 Mbps,
// 397.68 at the peak, / 102.4 = 3.88: 4, + 1 spare = 5 proxies, above
// maxCapacity 4. CPU: 24,855,259 bytes/s × 0.1 / 2^30 = 0.0023 CPU-s/s: 1.
func TestSizingByNetwork(t *testing.T) {
	light := plan.Capacity{HTTPPer1000: 0.01, GRPCPer1000: 0.01, PerGiB: 0.1}
	r, err := plan.Make(defaultTopology(t), plan.Options{Total: plan.Load{GiBPerDay: 6000}, Capacity: light, Prices: prices(t)})
	require.NoError(t, err)
	for _, f := range r.Cost(plan.TGW).Fleets {
		assert.InDelta(t, 397.68, f.PeakMbps, 0.01, f.Region)
		assert.Equal(t, 1, f.ByCPU, f.Region)
		assert.Equal(t, 4, f.ByNetwork, f.Region)
		assert.Equal(t, 5, f.Needed, f.Region)
		assert.True(t, f.OverMax(), f.Region)
	}

	// A larger instance type carries more: t4g.large, 512 × 80 % = 409.6 Mbps: 1, + 1 = minCapacity 2.
	large := defaultTopology(t, [2]string{"instanceType: t4g.small", "instanceType: t4g.large"})
	r, err = plan.Make(large, plan.Options{Total: plan.Load{GiBPerDay: 6000}, Capacity: light, Prices: prices(t)})
	require.NoError(t, err)
	assert.Equal(t, 1, r.Cost(plan.Peering).Fleets[0].ByNetwork)
	assert.Equal(t, 2, r.Cost(plan.Peering).Fleets[0].Needed)

	// monitoring.networkPercent is the share of the baseline plan fills: at 40 %, 51.2 Mbps a proxy: 397.68 / 51.2 = 7.77: 8.
	half := defaultTopology(t, [2]string{"consumers:", "monitoring:\n  networkPercent: 40\n\nconsumers:"})
	r, err = plan.Make(half, plan.Options{Total: plan.Load{GiBPerDay: 6000}, Capacity: light, Prices: prices(t)})
	require.NoError(t, err)
	assert.Equal(t, 8, r.Cost(plan.Peering).Fleets[0].ByNetwork)
}

// Consumers with figures of their own keep them; the flags' totals are
// shared over the others.
func TestPerConsumerLoad(t *testing.T) {
	topo := defaultTopology(t, [2]string{"  - name: payments\n", "  - name: payments\n    gibPerDay: 100\n    requestsPerSecond: 50\n"})
	r, err := plan.Make(topo, plan.Options{Total: plan.Load{GiBPerDay: 400, RequestsPerSecond: 300}, Capacity: testCapacity, Prices: prices(t)})
	require.NoError(t, err)
	got := map[string]plan.Load{}
	for _, c := range r.Consumers {
		got[c.Name] = c.Load
	}
	assert.Equal(t, map[string]plan.Load{
		"payments":  {GiBPerDay: 100, RequestsPerSecond: 50},
		"analytics": {GiBPerDay: 200, RequestsPerSecond: 150},
		"checkout":  {GiBPerDay: 200, RequestsPerSecond: 150},
	}, got)
}

// tgwMesh full adds a peering per pair of regions outside the main one,
// billed on both gateways. examples/tgw-full-mesh.yaml (main eu-west-1,
// us-east-1, ap-southeast-2):
//
//	eu-west-1       cluster VPC, provider VPC, 2 hub peering ends = 4 × 730 × 0.05 = 146.0
//	us-east-1       provider VPC, hub peering, mesh peering        = 3 × 730 × 0.05 = 109.5
//	ap-southeast-2  provider VPC, hub peering, mesh peering        = 3 × 730 × 0.07 = 153.3
//	                10 attachments                                                  = 408.8
func TestTGWFullMeshAttachments(t *testing.T) {
	topo, err := topology.Load("../../examples/tgw-full-mesh.yaml")
	require.NoError(t, err)
	r, err := plan.Make(topo, plan.Options{Total: plan.Load{GiBPerDay: 100}, Capacity: testCapacity, Prices: prices(t)})
	require.NoError(t, err)
	it, ok := r.Cost(plan.TGW).Item(plan.ItemTGWAttachments)
	require.True(t, ok)
	assert.InDelta(t, 408.8, it.USD, 0.001)
	assert.Contains(t, it.Detail, "10 attachment(s)")
}

// Every example and environment is priced by the embedded table: their
// regions and instance type are in it.
func TestExamplesArePriced(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.yaml")
	require.NoError(t, err)
	envs, err := filepath.Glob("../../environments/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range append(files, envs...) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			topo, err := topology.Load(f)
			require.NoError(t, err)
			r, err := plan.Make(topo, plan.Options{Total: plan.Load{GiBPerDay: 100, RequestsPerSecond: 1000}, Capacity: testCapacity, Prices: prices(t)})
			require.NoError(t, err)
			for _, c := range r.Costs {
				if c.Applies {
					assert.Greater(t, c.Total, 0.0, c.Mode)
				}
			}
		})
	}
}

func TestInputErrors(t *testing.T) {
	tests := []struct {
		name  string
		edits [][2]string
		total plan.Load
		want  []string
	}{
		{
			name:  "no load",
			total: plan.Load{RequestsPerSecond: 100},
			want:  []string{"no data load given", "consumer(s) payments, analytics, checkout give no gibPerDay", "--gib-per-day N", "--requests-per-second N", "gibPerDay (and requestsPerSecond) in the file"},
		},
		{
			name:  "no load for one consumer",
			edits: [][2]string{{"  - name: payments\n", "  - name: payments\n    gibPerDay: 10\n"}, {"  - name: analytics\n", "  - name: analytics\n    gibPerDay: 10\n"}},
			want:  []string{"consumer(s) checkout give no gibPerDay and the total is 0 GiB a day"},
		},
		{
			name:  "instance type plan cannot size",
			edits: [][2]string{{"instanceType: t4g.small", "instanceType: m7g.large"}},
			want:  []string{"proxy.instanceType", `"m7g.large"`, "t3, t3a, t4g", "add the type to internal/burstable"},
		},
		{name: "negative total", total: plan.Load{GiBPerDay: -1}, want: []string{"total gibPerDay -1", "0 or more"}},
		{name: "not a number", total: plan.Load{RequestsPerSecond: math.NaN()}, want: []string{"total requestsPerSecond NaN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			total := tt.total
			if total == (plan.Load{}) && !strings.HasPrefix(tt.name, "no load") {
				total.GiBPerDay = 100
			}
			_, err := plan.Make(defaultTopology(t, tt.edits...), plan.Options{Total: total, Capacity: testCapacity, Prices: prices(t)})
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Equal(t, strings.HasPrefix(tt.name, "no load"), errors.Is(err, plan.ErrNoLoad), "ErrNoLoad")
		})
	}
}

func TestPriceFile(t *testing.T) {
	p := prices(t)
	assert.Equal(t, "2026-12-06", p.Date)
	assert.Equal(t, plan.PriceFile, p.Name)
	assert.Contains(t, p.Describe(), "internal/plan/prices.yaml, dated 2026-12-06: AWS public on-demand list prices, written by hand")
	assert.Len(t, p.Regions, 34, "every commercial region")
	for name, it := range p.Items {
		assert.NotEmpty(t, it.Unit, name)
		assert.True(t, strings.HasPrefix(it.Source, "https://aws.amazon.com/"), "%s: source %q is an AWS pricing page", name, it.Source)
		assert.Contains(t, []string{"2026-11-28", "2026-12-06"}, it.Date, name)
		assert.NotEmpty(t, it.Checked, "%s says how its figures were checked", name)
		for region := range it.Regions {
			assert.True(t, region == plan.RegionGlobal || slices.Contains(p.Regions, region), "%s: %s is one of the file's regions", name, region)
		}
	}
}

func TestPriceFileErrors(t *testing.T) {
	tests := []struct {
		name, give string
		want       []string
	}{
		{"negative", "date: x\nitems:\n  nlb.hour:\n    unit: u\n    source: s\n    date: d\n    regions: {us-east-1: -1}\n",
			[]string{"bad.yaml:7: items.nlb.hour.regions.us-east-1: -1 is not a price; give one of 0 or more"}},
		{"unknown field", "items:\n  nlb.hour:\n    unit: u\n    sauce: s\n", []string{"bad.yaml: yaml: unmarshal errors:\n  line 4: field sauce not found"}},
		{"missing fields, all at once", "date: x\nitems:\n  nlb.hour:\n    regions: {us-east-1: 1}\n",
			[]string{"bad.yaml:3: items.nlb.hour: nlb.hour.source is missing", "nlb.hour.unit is missing", "nlb.hour.date is missing"}},
		{"no date", "items:\n  nlb.hour: {unit: u, source: s, date: d, regions: {us-east-1: 1}}\n", []string{"bad.yaml:1: date is missing; add date: YYYY-MM-DD"}},
		{"nothing", "date: x\n", []string{"neither items", "nor discounts"}},
		{"discount out of range, and one that matches nothing", "date: x\ndiscounts:\n  ec2.*: 120\n  nlb.hours: 10\n",
			[]string{"bad.yaml:3: discounts.ec2.*: 120 is not a percentage; give one from 0 to 100", "bad.yaml:4: discounts.nlb.hours: matches no item of internal/plan/prices.yaml; use an item name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := plan.ParsePrices("bad.yaml", []byte(tt.give))
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// A company's discounts apply to the shipped table: the item's own first,
// else the longest prefix. eu-west-1's NLB hour is 0.0252, its t4g.small
// 0.0184, its endpoint hour 0.011.
func TestDiscounts(t *testing.T) {
	own, err := plan.ParsePrices("acme.yaml", []byte("date: \"2026-12-10\"\nsource: Acme's agreement\ndiscounts:\n  \"*\": 5\n  ec2.*: 30\n  ec2.t4g.small: 40\n"))
	require.NoError(t, err)
	shipped := prices(t)
	for _, tt := range []struct {
		item string
		want float64
	}{{plan.ItemEC2("t4g.small"), 0.0184 * 0.6}, {plan.ItemEC2("t4g.medium"), 0.0368 * 0.7}, {plan.ItemNLBHour, 0.0252 * 0.95}} {
		v, ok := own.Price(tt.item, "eu-west-1")
		require.True(t, ok, tt.item)
		assert.InDelta(t, tt.want, v, 1e-12, tt.item)
	}
	v, _ := shipped.Price(plan.ItemNLBHour, "eu-west-1")
	assert.InDelta(t, 0.0252, v, 1e-12, "the shipped table is not changed")
	ir, ok := own.InterRegion("us-east-1", "us-east-2")
	require.True(t, ok)
	assert.InDelta(t, 0.0095, ir, 1e-12, "pairs too")
	assert.Equal(t, shipped.Regions, own.Regions)
	assert.Equal(t, "acme.yaml, dated 2026-12-10: Acme's agreement; discounts * 5 %, ec2.* 30 %, ec2.t4g.small 40 % off internal/plan/prices.yaml (dated 2026-12-06)", own.Describe())

	r, err := plan.Make(defaultTopology(t), plan.Options{Total: plan.Load{GiBPerDay: 500}, Capacity: testCapacity, Prices: own})
	require.NoError(t, err)
	assert.InDelta(t, 1861.5497*0.95-82.344*0.95+82.344*0.6, r.Cost(plan.Peering).Total, 0.001, "5 % off everything, 40 % off the instances")
	var out bytes.Buffer
	require.NoError(t, r.Write(&out, "default.yaml"))
	assert.Contains(t, out.String(), "\nPrices: acme.yaml, dated 2026-12-10: Acme's agreement; discounts * 5 %")
	assert.Contains(t, out.String(), "prices of 2026-12-10 from acme.yaml: AWS on-demand list prices less the discounts the Prices line names")
}

// lacking is the shipped table without region's figures, but for the
// items keep: a region a table prices in part, whatever the shipped file
// holds for it.
func lacking(t *testing.T, region string, keep ...string) *plan.Prices {
	t.Helper()
	p := prices(t)
	for name, it := range p.Items {
		if !slices.Contains(keep, name) {
			delete(it.Regions, region)
		}
	}
	return p
}

// A price the table lacks does not stop a plan: each is named once, by
// region and with the field that names the region, and left out of the
// totals, which say so. sa-east-1 has transfer and PrivateLink data
// prices here, not the rest; the shipped table has no t3.nano anywhere.
func TestUnpriced(t *testing.T) {
	saoPaulo := [][2]string{
		{"region: ap-southeast-1\n    cidr", "region: sa-east-1\n    cidr"},
		{"availabilityZones: [ap-southeast-1a, ap-southeast-1b, ap-southeast-1c]", "availabilityZones: [sa-east-1a, sa-east-1b, sa-east-1c]"},
		{"region: ap-southeast-1\n    vpc", "region: sa-east-1\n    vpc"},
		{"availabilityZones: [ap-southeast-1a, ap-southeast-1b]", "availabilityZones: [sa-east-1a, sa-east-1b]"},
	}
	partly := lacking(t, "sa-east-1", plan.ItemInterRegionGB, plan.ItemCrossZoneGB, plan.ItemEndpointGB)
	r, err := plan.Make(defaultTopology(t, saoPaulo...), plan.Options{Total: plan.Load{GiBPerDay: 500, RequestsPerSecond: 300}, Capacity: testCapacity, Prices: partly})
	require.NoError(t, err)
	require.Len(t, r.Unpriced, 1)
	assert.Equal(t, plan.Unpriced{Region: "sa-east-1", Field: "regions[2].region", Items: []string{
		plan.ItemEndpointHour, plan.ItemNLBHour, plan.ItemNLCUHour, plan.ItemEC2("t4g.small"), plan.ItemGP3, plan.ItemLogsIngestGB, plan.ItemTGWGB, plan.ItemTGWAttachment,
	}}, r.Unpriced[0])

	peering := r.Cost(plan.Peering)
	assert.True(t, peering.Incomplete)
	var sum float64
	for _, it := range peering.Items {
		sum += it.USD
	}
	assert.InDelta(t, sum, peering.Total, 1e-9, "the total is the sum of what is priced")
	nlb, _ := peering.Item(plan.ItemNLBHours)
	assert.Equal(t, []string{"nlb.hour in sa-east-1"}, nlb.Unpriced)
	assert.InDelta(t, 730*(0.0252+0.0225), nlb.USD, 1e-9, "eu-west-1's and us-east-1's NLB, not sa-east-1's")
	inter, _ := peering.Item(plan.ItemInterRegion)
	assert.Empty(t, inter.Unpriced, "sa-east-1 sends at 0.138")
	for _, it := range r.Cost(plan.Native).Items {
		if it.Name == plan.ItemConsumerEndpoints {
			assert.Equal(t, []string{"privatelink.endpointHour in sa-east-1"}, it.Unpriced)
		} else {
			assert.Empty(t, it.Unpriced, "native has no fleet in sa-east-1: %s", it.Name)
		}
	}

	var out bytes.Buffer
	require.NoError(t, r.Write(&out, "default.yaml"))
	s := out.String()
	assert.Equal(t, 1, strings.Count(s, "NOT PRICED: internal/plan/prices.yaml has no price for these"))
	assert.Equal(t, 1, strings.Count(s, "- sa-east-1 (regions[2].region): privatelink.endpointHour, nlb.hour, nlb.nlcuHour, ec2.t4g.small, ebs.gp3GBMonth, cloudwatch.logsIngestGB, tgw.dataGB, tgw.attachmentHour\n"))
	assert.Contains(t, s, "| NLB hours | $34.82 * | $34.82 * | $18.40 | n/a |")
	assert.Contains(t, s, "| **total** | **$1,975.66** * | **$2,397.43** * | **$1,903.82** * | n/a |")
	assert.Contains(t, s, "- NLB hours: 3 NLB(s) × 730 h: $34.82 (without nlb.hour in sa-east-1: no price)")
	assert.Contains(t, s, "(without the prices NOT PRICED names: the order may differ)")
	assert.Contains(t, s, "\n- peering, $1,975.66 *: inter-region data transfer")

	r, err = plan.Make(defaultTopology(t, [2]string{"instanceType: t4g.small", "instanceType: t3.nano"}), plan.Options{Total: plan.Load{GiBPerDay: 1}, Capacity: testCapacity, Prices: prices(t)})
	require.NoError(t, err)
	for _, u := range r.Unpriced {
		assert.Equal(t, []string{"ec2.t3.nano"}, u.Items, u.Region)
	}
	assert.Len(t, r.Unpriced, 3, "each provider region once")
}

func TestReport(t *testing.T) {
	r := make500(t, defaultTopology(t))
	var out bytes.Buffer
	require.NoError(t, r.Write(&out, "topology/default.yaml"))
	s := out.String()
	for _, want := range []string{
		"| peering, tgw | eu-west-1 | 166.67 | 16.57 | 33.14 | 0.004 | 1 | 1 | 2 (minCapacity) |",
		"| native | eu-west-1 | 500 | 49.71 | 99.42 | 0.012 | 1 | 1 | 2 (minCapacity) |",
		"| cross-zone data transfer | $287.27 | $287.27 | $405.56 | n/a |",
		"| proxy access logs (CloudWatch Logs ingestion) | $0.00 | $0.00 | $0.00 | n/a |",
		"| **total** | **$1,861.55** | **$2,486.92** | **$1,450.28** | n/a |",
		"proxyless does not apply: services metrics and logs share port 80",
		"- peering, $1,861.55: interface endpoints in provider VPCs $578.16 (31 %), inter-region data transfer $557.64 (30 %)",
		"Cheapest: **native** at $1,450.28 a month; then peering $1,861.55 (+28 %), tgw $2,486.92 (+71 %).",
		"730 hours a month", "peak = 2 × the average", "under 0.5 of its burstable baseline", "prices of 2026-12-06 from internal/plan/prices.yaml: AWS on-demand list prices, first tier, without free tier or discounts",
		"proxies t4g.small (minCapacity 2, maxCapacity 4).\nPrices: internal/plan/prices.yaml, dated 2026-12-06: AWS public on-demand list prices",
		"- cross-zone data transfer: 14,363.43 GB change zone (NLB to proxies in each provider region, proxies to ALBs in eu-west-1), billed out and in: $287.27",
		"with traffic spread evenly over a VPC's Z zones, 1 − 1/Z of each hop changes zone",
		"one JSON line per request, 510 B",
		// No requests/s: the report says what is left out, and what it would add.
		"NOTE: no requests/s for payments, analytics, checkout (neither --requests-per-second nor requestsPerSecond in the file): the CPU column counts bytes only, not per-request CPU (0.08 s per 1,000 requests), and the proxies' access logs are priced at $0",
		"each 1,000 requests/s adds 1,340.28 GB a month of CloudWatch Logs ingestion, $763.96 at eu-west-1's price",
		"Not counted",
	} {
		assert.Contains(t, s, want)
	}
	footer := s[strings.Index(s, "Not counted"):]
	assert.NotContains(t, footer, "between zones", "counted now")
	assert.NotContains(t, footer, "access log", "counted now")
	assert.Contains(t, footer, "the rest of CloudWatch")
}

// The proxies log a line per request to CloudWatch Logs in their region:
// 3,000 requests/s over 3 consumers, 1,000 a region: 1,000 × 2,628,000 s
// × 510 B (proxyProtocol and a gRPC service) / 10^9 = 1,340.28 GB a region.
//
//	peering  1,340.28 × (0.57 eu-west-1 + 0.50 us-east-1 + 0.70 ap-southeast-1) = 2,372.2956
//	native   4,020.84 × 0.57                                                    = 2,291.8788
func TestAccessLogs(t *testing.T) {
	r, err := plan.Make(defaultTopology(t), plan.Options{Total: plan.Load{GiBPerDay: 500, RequestsPerSecond: 3000}, Capacity: testCapacity, Prices: prices(t)})
	require.NoError(t, err)
	assert.Equal(t, 510, r.LogLineBytes)
	assert.Empty(t, r.NoRequests)
	assert.InDelta(t, 2372.2956, item(t, r, plan.Peering, plan.ItemAccessLogs), 0.001)
	assert.InDelta(t, 2372.2956, item(t, r, plan.TGW, plan.ItemAccessLogs), 0.001)
	assert.InDelta(t, 2291.8788, item(t, r, plan.Native, plan.ItemAccessLogs), 0.001)
	it, _ := r.Cost(plan.Native).Item(plan.ItemAccessLogs)
	assert.Equal(t, "3,000 requests/s × 510 B a line = 4,020.84 GB in the provider regions' log groups", it.Detail)

	// Without proxyProtocol's fields and gRPC's path: 395 B a line.
	plain := defaultTopology(t, [2]string{"proxyProtocol: true", "proxyProtocol: false"}, [2]string{"    protocol: grpc\n", ""})
	r, err = plan.Make(plain, plan.Options{Total: plan.Load{GiBPerDay: 500, RequestsPerSecond: 3000}, Capacity: testCapacity, Prices: prices(t)})
	require.NoError(t, err)
	assert.Equal(t, 395, r.LogLineBytes)

	// tls passthrough: a line per connection, not per request: not counted.
	tls, err := topology.Load("../../examples/tls-passthrough.yaml")
	require.NoError(t, err)
	r, err = plan.Make(tls, plan.Options{Total: plan.Load{GiBPerDay: 500, RequestsPerSecond: 3000}, Capacity: testCapacity, Prices: prices(t)})
	require.NoError(t, err)
	it, _ = r.Cost(plan.Peering).Item(plan.ItemAccessLogs)
	assert.Zero(t, it.USD)
	assert.Contains(t, it.Detail, "a line per connection, not per request")
	r, err = plan.Make(tls, plan.Options{Total: plan.Load{GiBPerDay: 500}, Capacity: testCapacity, Prices: prices(t)})
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, r.Write(&out, "tls-passthrough.yaml"))
	assert.Contains(t, out.String(), "not per-request CPU (0.08 s per 1,000 requests). Give --requests-per-second N to count it.")
	assert.NotContains(t, out.String(), "access logs are priced at $0", "passthrough logs connections, not requests")
}

// Large figures get thousands separators: 600,000 GiB/day is
// 600,000 × 730 / 24 = 18,250,000 GB a month.
func TestNumbers(t *testing.T) {
	r, err := plan.Make(defaultTopology(t), plan.Options{Total: plan.Load{GiBPerDay: 600000, RequestsPerSecond: 3000}, Capacity: testCapacity, Prices: prices(t)})
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, r.Write(&out, "default.yaml"))
	assert.Contains(t, out.String(), "| payments | eu-west-1 | 200,000 | 1,000 | 2 |")
	assert.Contains(t, out.String(), "18,250,000 GB through the endpoints")
}

// fileTopology parses file with each edit's first string replaced by its second.
func fileTopology(t *testing.T, file string, edits ...[2]string) *topology.Topology {
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

const organization = "../../examples/stacksets-organization.yaml"

// Consumer groups, examples/stacksets-organization.yaml at 100 GiB/day:
// a consumer VPC per connected account and region, each with 2 assumed
// zones, a private zone and an even share of the load.
//
//	platform  12 accounts × eu-west-1, us-east-1 = 24 VPCs
//	data      (20 − 1 excluded) × eu-west-1     = 19
//	sandbox   8 × us-east-1                      =  8
//	                                               51 VPCs: 100 / 51 = 1.960784 GiB/day each
//
//	rows      platform 12 × 1.960784 = 23.5294 (each region), data 37.2549, sandbox 15.6863
//	fleets    eu-west-1 23.5294 + 37.2549 = 60.7843; us-east-1 23.5294 + 15.6863 = 39.2157
//	endpoints eu-west-1 (24 + 38) × 730 × 0.011 = 497.86; us-east-1 (24 + 16) × 730 × 0.01 = 292.00: 789.86
//	zones     51 × 0.50 = 25.50
//	data      100 × 730 / 24 = 3,041.667 GB × 0.01 = 30.4167
//	inter-region (peering) 39.2157 × 730 / 24 = 1,192.81 GB from us-east-1 × 0.02 = 23.8562
func TestConsumerGroups(t *testing.T) {
	r, err := plan.Make(fileTopology(t, organization), plan.Options{Total: plan.Load{GiBPerDay: 100}, Capacity: testCapacity, Prices: prices(t)})
	require.NoError(t, err)
	require.Len(t, r.Groups, 3)
	assert.Equal(t, plan.Group{Name: "data", Accounts: 20, Excluded: 1, Regions: []string{"eu-west-1"}}, r.Groups[1])
	assert.Equal(t, 19, r.Groups[1].Connected())

	type row struct {
		name, region string
		vpcs         int
		gib          float64
	}
	var rows []row
	for _, c := range r.Consumers {
		assert.True(t, c.Group, c.Name)
		assert.Equal(t, 2, c.Zones, c.Name)
		rows = append(rows, row{c.Name, c.Region, c.VPCs, math.Round(c.Load.GiBPerDay*1e4) / 1e4})
	}
	assert.Equal(t, []row{
		{"platform", "eu-west-1", 12, 23.5294},
		{"platform", "us-east-1", 12, 23.5294},
		{"data", "eu-west-1", 19, 37.2549},
		{"sandbox", "us-east-1", 8, 15.6863},
	}, rows)
	assert.InDelta(t, 1.960784, r.Share.GiBPerDay, 1e-6)

	fleets := r.Cost(plan.Peering).Fleets
	require.Len(t, fleets, 2)
	assert.InDelta(t, 60.7843, fleets[0].Load.GiBPerDay, 1e-4)
	assert.InDelta(t, 39.2157, fleets[1].Load.GiBPerDay, 1e-4)
	for name, want := range map[string]float64{
		plan.ItemConsumerEndpoints: 789.86,
		plan.ItemZones:             25.50,
		plan.ItemPrivateLinkData:   30.4167,
		plan.ItemInterRegion:       23.8562,
	} {
		assert.InDelta(t, want, item(t, r, plan.Peering, name), 0.001, name)
	}
	it, _ := r.Cost(plan.Peering).Item(plan.ItemConsumerEndpoints)
	assert.Equal(t, "51 VPCs, 102 zone-endpoints × 730 h", it.Detail)
	// docs/sizing.md quotes these two figures.
	assert.InDelta(t, 1388.10, r.Cost(plan.Peering).Total, 0.005)
	sizing, err := os.ReadFile("../../docs/sizing.md")
	require.NoError(t, err)
	assert.Contains(t, strings.Join(strings.Fields(string(sizing)), " "), "consumer VPCs' endpoints are $790 of peering's $1,388 a month",
		"docs/sizing.md's figures for examples/stacksets-organization.yaml at 100 GiB a day are stale")

	var out bytes.Buffer
	require.NoError(t, r.Write(&out, "stacksets-organization.yaml"))
	s := out.String()
	for _, want := range []string{
		"| group platform, 12 accounts | us-east-1 | 23.53 | 0 | 24 (12 VPCs × 2, assumed) |",
		"| group data, 19 accounts (20 − 1 excluded) | eu-west-1 | 37.25 | 0 | 38 (19 VPCs × 2, assumed) |",
		"| total | | 100 | 0 | 102 |",
		"NOTE: no requests/s for the 51 VPCs of 3 consumer groups (neither",
		"shared evenly over the consumer VPCs without gibPerDay or requestsPerSecond of their own (named consumers without them, and each group account in each of its regions: 1.96 GiB/day and 0 requests/s each)",
		"platform 12 accounts × 2 region(s) = 24, data (20 − 1 excluded) accounts × 1 region(s) = 19, sandbox 8 accounts × 1 region(s) = 8; 51 VPCs in all, from expectedAccounts",
		"- the 51 VPCs of 3 consumer groups: no zones in the file (their VPCs come from SSM); counted as 2 each\n",
	} {
		assert.Equal(t, 1, strings.Count(s, want), "once: %s", want)
	}
	assert.NotContains(t, s, "not counted: their accounts")
}

// Named consumers and groups share the flags' totals per consumer VPC, and
// each assumption is printed once, with a count: examples/stacksets.yaml
// (workloads: 30 accounts × 2 regions) with 65 named consumers is 65 + 60
// VPCs, 100 / 125 = 0.8 GiB/day each.
func TestNamedConsumersAndGroupsShareTheLoad(t *testing.T) {
	var named strings.Builder
	named.WriteString("consumers:\n")
	for i := range 65 {
		fmt.Fprintf(&named, "  - name: team%02d\n    account: \"5000000000%02d\"\n    region: %s\n", i, i, []string{"eu-west-1", "us-east-1"}[i%2])
	}
	topo := fileTopology(t, "../../examples/stacksets.yaml", [2]string{"consumers:\n  - name: payments\n    account: \"222222222222\"\n    region: eu-west-1\n  - name: search\n    account: \"333333333333\"\n    region: us-east-1\n", named.String()})
	r, err := plan.Make(topo, plan.Options{Total: plan.Load{GiBPerDay: 100}, Capacity: testCapacity, Prices: prices(t)})
	require.NoError(t, err)
	require.Len(t, r.Consumers, 67, "65 named, workloads in 2 regions")
	assert.InDelta(t, 0.8, r.Consumers[0].Load.GiBPerDay, 1e-9)
	assert.InDelta(t, 24, r.Consumers[65].Load.GiBPerDay, 1e-9, "30 accounts × 0.8")
	assert.Len(t, r.NoRequests, 65)

	var out bytes.Buffer
	require.NoError(t, r.Write(&out, "stacksets.yaml"))
	s := out.String()
	assert.Equal(t, 1, strings.Count(s, "no zones in the file"), "one line, not one per consumer")
	assert.Contains(t, s, "- 65 consumers and the 60 VPCs of 1 consumer group: no zones in the file (their VPCs come from SSM); counted as 2 each\n")
	assert.Contains(t, s, "NOTE: no requests/s for team00, team01, team02, team03, team04 and 60 more and the 60 VPCs of 1 consumer group (neither")
	assert.Contains(t, s, "- interface endpoints in consumer VPCs: 125 VPCs, 250 zone-endpoints × 730 h")
}

// A group region that no regions entry or consumer names: native serves it
// from the main region; peering, planned for the same file, puts a fleet
// there, and a missing price names the group's field.
func TestGroupRegions(t *testing.T) {
	native := [][2]string{
		{"interRegion: peering", "interRegion: native"},
		{"  - region: us-east-1\n    cidr: 10.100.1.0/24\n    availabilityZones: [us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1e, us-east-1f]\n", ""},
	}
	topo := fileTopology(t, organization, append(native, [2]string{"regions: [us-east-1]", "regions: [us-east-1, ap-northeast-1]"})...)
	r, err := plan.Make(topo, plan.Options{Total: plan.Load{GiBPerDay: 100}, Capacity: testCapacity, Prices: prices(t)})
	require.NoError(t, err)
	var regions []string
	for _, f := range r.Cost(plan.Peering).Fleets {
		regions = append(regions, f.Region)
	}
	assert.Equal(t, []string{"eu-west-1", "ap-northeast-1", "us-east-1"}, regions, "the regions entry, then the groups' other regions, sorted")
	require.Len(t, r.Cost(plan.Native).Fleets, 1)
	assert.InDelta(t, 100, r.Cost(plan.Native).Fleets[0].Load.GiBPerDay, 1e-9)

	topo = fileTopology(t, organization, append(native, [2]string{"regions: [us-east-1]", "regions: [us-east-1, sa-east-1]"})...)
	r, err = plan.Make(topo, plan.Options{Total: plan.Load{GiBPerDay: 100}, Capacity: testCapacity, Prices: prices(t)})
	require.NoError(t, err)
	require.NotEmpty(t, r.Unpriced)
	assert.Equal(t, "sa-east-1", r.Unpriced[0].Region)
	assert.Equal(t, "consumerGroups[2].regions[1]", r.Unpriced[0].Field, "the field that names the region")
}

func TestGroupInputErrors(t *testing.T) {
	tests := []struct {
		name  string
		edits [][2]string
		total plan.Load
		want  []string
		none  []string
	}{
		{
			name:  "no expectedAccounts, two groups at once",
			edits: [][2]string{{"    expectedAccounts: 12\n", ""}, {"    expectedAccounts: 8\n", ""}},
			want: []string{
				"consumerGroups[0].expectedAccounts (group platform): not given, and plan counts a consumer VPC for each account of the group in each of its regions (eu-west-1, us-east-1); add expectedAccounts: N, the number of accounts in its OUs (excluded accounts included)",
				"\nconsumerGroups[2].expectedAccounts (group sandbox): not given",
			},
			none: []string{"group data"},
		},
		{
			name:  "every account excluded",
			edits: [][2]string{{"expectedAccounts: 20", "expectedAccounts: 1"}},
			want:  []string{"consumerGroups[1].expectedAccounts (group data): 1, and excludeAccounts lists 1, which leaves no account to connect; expectedAccounts counts every account in the OUs, excluded ones included"},
		},
		{
			name:  "no load",
			total: plan.Load{RequestsPerSecond: 100},
			want:  []string{"no data load given: the 51 VPCs of 3 consumer groups give no gibPerDay and the total is 0 GiB a day", "--gib-per-day N", "shared evenly over the consumer VPCs without figures"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			total := tt.total
			if total == (plan.Load{}) {
				total.GiBPerDay = 100
			}
			_, err := plan.Make(fileTopology(t, organization, tt.edits...), plan.Options{Total: total, Capacity: testCapacity, Prices: prices(t)})
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			for _, n := range tt.none {
				assert.NotContains(t, err.Error(), n)
			}
			assert.Equal(t, tt.name == "no load", errors.Is(err, plan.ErrNoLoad), "ErrNoLoad")
		})
	}
}

// Every region of the shipped file plans: a topology with a provider
// region and a consumer there (the default's ap-southeast-1 moved to it)
// gets a cost per mode; what the file lacks is named once per region,
// with the field, and each total is the sum of what is priced.
func TestEveryRegionOfThePriceFile(t *testing.T) {
	p := prices(t)
	var complete []string
	for _, region := range p.Regions {
		if region == "eu-west-1" || region == "us-east-1" {
			continue // the default topology's own regions
		}
		t.Run(region, func(t *testing.T) {
			topo := defaultTopology(t,
				[2]string{"region: ap-southeast-1\n    cidr", "region: " + region + "\n    cidr"},
				[2]string{"availabilityZones: [ap-southeast-1a, ap-southeast-1b, ap-southeast-1c]", fmt.Sprintf("availabilityZones: [%[1]sa, %[1]sb, %[1]sc]", region)},
				[2]string{"region: ap-southeast-1\n    vpc", "region: " + region + "\n    vpc"},
				[2]string{"availabilityZones: [ap-southeast-1a, ap-southeast-1b]", fmt.Sprintf("availabilityZones: [%[1]sa, %[1]sb]", region)},
			)
			r, err := plan.Make(topo, plan.Options{Total: plan.Load{GiBPerDay: 500, RequestsPerSecond: 1000}, Capacity: testCapacity, Prices: p})
			require.NoError(t, err)
			for _, u := range r.Unpriced {
				assert.Equal(t, region, u.Region, "eu-west-1's and us-east-1's prices are all there")
				assert.Equal(t, "regions[2].region", u.Field)
				for _, item := range u.Items {
					_, ok := p.Price(item, region)
					assert.False(t, ok, "%s is named, so the file lacks it", item)
				}
			}
			if len(r.Unpriced) == 0 {
				complete = append(complete, region)
			}
			for _, c := range r.Costs {
				if !c.Applies {
					continue
				}
				var sum float64
				var lacking bool
				for _, it := range c.Items {
					sum += it.USD
					lacking = lacking || len(it.Unpriced) > 0
				}
				assert.InDelta(t, sum, c.Total, 1e-9, c.Mode)
				assert.Equal(t, lacking, c.Incomplete, c.Mode)
				assert.Greater(t, c.Total, 0.0, c.Mode)
			}
			var out bytes.Buffer
			require.NoError(t, r.Write(&out, "default.yaml"))
			assert.Equal(t, len(r.Unpriced) > 0, strings.Contains(out.String(), "NOT PRICED:"))
			assert.Equal(t, len(r.Unpriced), strings.Count(out.String(), "\n- "+region+" (regions[2].region): "), "named once")
		})
	}
	assert.Equal(t, []string{"us-east-2", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "eu-central-1"}, complete,
		"the regions the file prices every item of (with eu-west-1 and us-east-1)")
}
