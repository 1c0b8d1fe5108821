// Package plan sizes the proxy fleets of a topology and prices it, per
// month, in each inter-region mode: what `obslink plan` prints.
//
// Pure Go and deterministic: the topology, a load, a capacity (CPU per unit
// of load) and a price table (PriceFile, or a company's own) in, a Result
// out; no clock, no network, no AWS call. A price the table lacks leaves
// its part out of the totals and is named once (Result.Unpriced).
package plan

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/obslink/obslink/deployment"
	"github.com/obslink/obslink/internal/burstable"
	"github.com/obslink/obslink/topology"
)

// Assumptions of every plan; the report prints them.
const (
	// HoursPerMonth is AWS's billing month (365 × 24 / 12).
	HoursPerMonth = 730.0
	// PeakFactor is the busiest hour's traffic over the day's average.
	PeakFactor = 2.0
	// CPUHeadroom is the share of a burstable instance's baseline CPU the
	// fleet may use at the average load. Burstable types bill surplus CPU
	// only when the 24-hour average exceeds the baseline: at half the
	// baseline on average, a peak of PeakFactor (2x) still fits in it, and the
	// measured CPU figures (loopback, another CPU) keep a 2x margin.
	CPUHeadroom = 0.5
	// TargetCPU is the average CPU the fleet's Auto Scaling group keeps
	// (constructs/proxyfleet DefaultTargetCPUPercent, 50 %): below it the
	// group scales in, down to minCapacity. T3, T3a and T4g launch in
	// unlimited mode (obslink sets no credit specification), so a group
	// held above the baseline bills surplus CPU credits.
	TargetCPU = 0.5
	// AccessLogLineBytes is one line of the proxies' access log (the
	// log_format obslink of assets/nginx/nginx.conf.tmpl, one JSON line per
	// request, newline included), as nginx wrote it in a measurement of
	// 2026-11-28 (internal/nginxtest's rig, POST /api/v1/push with a 1 MiB
	// body): 393 B. proxyProtocol adds the vpce, consumer and nlb fields
	// (AccessLogProxyProtocolBytes: 464 B measured); a gRPC export's longer
	// path (/opentelemetry.proto.collector.trace.v1.TraceService/Export)
	// adds AccessLogGRPCBytes (438 and 509 B measured). Rounded up to 5 B.
	AccessLogLineBytes          = 395
	AccessLogProxyProtocolBytes = 70
	AccessLogGRPCBytes          = 45
	// RootVolumeGiB is the proxies' gp3 root volume (proxyfleet.DefaultRootVolumeGiB).
	RootVolumeGiB = 16
	// AssumedZones is the zone count of a consumer whose zones the file
	// does not give (stacksets: its VPC comes from SSM).
	AssumedZones = 2
	// defaultNetworkPercent is monitoring.networkPercent's default: the
	// share of baseline bandwidth above which the network alarm fires.
	defaultNetworkPercent = 80
	// providerEndpoints are the interface endpoints of every provider VPC
	// (SSM, SSM messages, EC2 messages, CloudWatch Logs, CloudFormation);
	// proxy protocol adds EC2 (constructs/providerregion).
	providerEndpoints = 5
	gib               = 1 << 30
	secondsPerMonth   = HoursPerMonth * 3600
)

// ErrNoLoad is the error (wrapped) of a plan without a data load: consumers
// without gibPerDay and no total to share over them.
var ErrNoLoad = errors.New("no data load given")

// shownNames is how many names a message lists before it counts the rest.
const shownNames = 5

// Mode is an inter-region mode plan prices.
type Mode string

// The modes, in the order plan reports them. Proxyless is proxy.mode none
// (with interRegion native): an NLB in the cluster VPC targets the ALBs
// directly and every consumer uses cross-region PrivateLink, with no proxy
// fleet.
const (
	Peering   Mode = Mode(topology.Peering)
	TGW       Mode = Mode(topology.TGW)
	Native    Mode = Mode(topology.Native)
	Proxyless Mode = "proxyless"
)

// Modes returns every mode, in report order.
func Modes() []Mode { return []Mode{Peering, TGW, Native, Proxyless} }

// Load is traffic from agents to the cluster.
type Load struct {
	GiBPerDay         float64
	RequestsPerSecond float64
}

func (l Load) add(o Load) Load {
	return Load{l.GiBPerDay + o.GiBPerDay, l.RequestsPerSecond + o.RequestsPerSecond}
}

// bytesPerSecond is the average rate.
func (l Load) bytesPerSecond() float64 { return l.GiBPerDay * gib / 86400 }

// gbPerMonth is the data of a month, in the GB AWS bills (2^30 bytes).
func (l Load) gbPerMonth() float64 { return l.GiBPerDay * HoursPerMonth / 24 }

// Options are a plan's inputs besides the topology.
type Options struct {
	// Total is shared evenly over the consumer VPCs that give no figure of
	// their own (gibPerDay, requestsPerSecond): the named consumers without
	// one, and every account of a consumer group in each of its regions.
	Total Load
	// Capacity is the CPU cost of load. Required: MeasuredCapacity(), or a
	// test's own figures.
	Capacity Capacity
	// Prices is the price table. Required: EmbeddedPrices(), or a test's own.
	Prices *Prices
}

// Consumer is the load of consumer VPCs in one region: a named consumer's
// VPC, or the VPCs of a consumer group's accounts there (one each).
type Consumer struct {
	// Name is the named consumer's, or the group's.
	Name, Region string
	// Group: the consumer group Name's accounts in Region.
	Group bool
	// VPCs is how many consumer VPCs this is: 1 for a named consumer, the
	// group's connected accounts for a group.
	VPCs int
	// Load is the VPCs' load, together.
	Load Load
	// Zones of each VPC, each with an endpoint network interface.
	Zones int
	// ZonesAssumed: the file gives none (AssumedZones).
	ZonesAssumed bool
}

// Group is a consumer group as plan counts it: Accounts (expectedAccounts,
// every account in its OUs) less Excluded connect, each in every one of
// Regions, with a consumer VPC there.
type Group struct {
	Name               string
	Accounts, Excluded int
	Regions            []string
}

// Connected is how many of the group's accounts have a stack instance.
func (g Group) Connected() int { return g.Accounts - g.Excluded }

// VPCs is how many consumer VPCs the group has: one per connected account
// and region.
func (g Group) VPCs() int { return g.Connected() * len(g.Regions) }

// Fleet is the proxy fleet of one provider region.
type Fleet struct {
	Region string
	// Load through the region's proxies.
	Load Load
	// AvgMbps and PeakMbps are the traffic each way (in from the NLB, the
	// same out to the ALBs: responses are small).
	AvgMbps, PeakMbps float64
	// CPU is the CPU seconds per second the average load needs.
	CPU float64
	// ByCPU and ByNetwork are the instances each needs on its own.
	ByCPU, ByNetwork int
	// Needed is max(Min, max(ByCPU, ByNetwork) + 1 spare) (N+1: losing one
	// proxy leaves enough for the load); plan prices Needed.
	Needed int
	// Held is what the Auto Scaling group holds at the average load with
	// the file's Min and Max: it scales to keep TargetCPU, not the
	// baseline. HeldCPU is each proxy's average CPU then (0.36 = 36 % of
	// each vCPU); above the baseline, unlimited mode bills SurplusVCPUHours
	// a month, for SurplusUSD.
	Held             int
	HeldCPU          float64
	SurplusVCPUHours float64
	SurplusUSD       float64
	// SurplusPriced is false when the table has no surplus-credit price
	// for the region (SurplusUSD is then 0).
	SurplusPriced bool
	// Min and Max are proxy.minCapacity and maxCapacity; Needed above Max
	// needs a larger group or instance type.
	Min, Max int
	// Zones of the provider VPC; ZonesAssumed when the file has no
	// regions entry for it (peering or tgw planned for a native file).
	Zones        int
	ZonesAssumed bool
}

// OverMax reports whether the fleet needs more proxies than maxCapacity.
func (f Fleet) OverMax() bool { return f.Needed > f.Max }

// Surplus reports whether the group, as the file sets it, would hold its
// proxies above their baseline CPU at the average load.
func (f Fleet) Surplus() bool { return f.SurplusVCPUHours > 0 }

// Item is one line of a mode's monthly cost.
type Item struct {
	Name   string
	Detail string
	USD    float64
	// Unpriced names the prices ("nlb.hour in us-west-2") the table lacks:
	// their part is not in USD.
	Unpriced []string
}

// Cost is what one mode costs a month.
type Cost struct {
	Mode Mode
	// Applies is false when the topology cannot use the mode; Why says why.
	Applies bool
	Why     string
	Fleets  []Fleet
	Items   []Item
	Total   float64
	// Incomplete: an item lacks a price, so Total is lower than the bill.
	Incomplete bool
}

// Top returns the n largest items, largest first.
func (c Cost) Top(n int) []Item {
	items := append([]Item(nil), c.Items...)
	sort.SliceStable(items, func(i, j int) bool { return items[i].USD > items[j].USD })
	if len(items) > n {
		items = items[:n]
	}
	return items
}

// Item returns the item called name, or false.
func (c Cost) Item(name string) (Item, bool) {
	for _, it := range c.Items {
		if it.Name == name {
			return it, true
		}
	}
	return Item{}, false
}

// Result is a plan: the load per consumer, the fleets and the monthly
// cost of each mode, and the assumptions behind them.
type Result struct {
	Name string
	// Mode is the topology's own interRegion.
	Mode         Mode
	MainRegion   string
	InstanceType string
	Instance     burstable.Spec
	// MinCapacity and MaxCapacity bound each fleet (proxy.minCapacity, maxCapacity).
	MinCapacity, MaxCapacity int
	// UsableCPU is the CPU seconds per second one proxy may spend
	// (vCPUs × baseline × CPUHeadroom).
	UsableCPU float64
	// UsableMbps is the peak Mbps one proxy may carry (baseline × NetworkPercent).
	UsableMbps     float64
	NetworkPercent int
	// PerRequest is the CPU seconds per 1,000 requests used: the larger
	// figure of the protocols the services speak.
	PerRequest float64
	// LogLineBytes is one access log line (AccessLogLineBytes, plus the
	// topology's proxyProtocol and gRPC fields).
	LogLineBytes int
	// TLSPassthrough: the proxies log a line per connection, not per request.
	TLSPassthrough bool
	// NoRequests names the named consumers whose requests/s is 0 because
	// neither the file nor the flags give one: per-request CPU and access
	// logs are not counted for them (nor for the groups' VPCs when the
	// flags give no requests/s).
	NoRequests []string
	// LogPriceMain is the main region's CloudWatch Logs ingestion price per
	// GB, for the note on NoRequests; LogPriceKnown is false when the table
	// has none.
	LogPriceMain  float64
	LogPriceKnown bool
	Total         Load
	// Share is each consumer VPC's share of Total, for those without
	// figures of their own.
	Share Load
	// Consumers are the named consumers, in file order, then the groups'
	// VPCs, a row per group and region.
	Consumers []Consumer
	// Groups are the consumer groups, in file order.
	Groups   []Group
	Costs    []Cost
	Capacity Capacity
	// Prices is the price table the plan used.
	Prices *Prices
	// Unpriced are the regions whose prices the table lacks, with the
	// items, each named once; their part is left out of the totals.
	Unpriced []Unpriced
	// Notes are what the reader should know about this plan's inputs.
	Notes []string
}

// Unpriced is what the price table lacks for one region.
type Unpriced struct {
	Region string
	// Field is the topology field that first names the region
	// ("regions[1].region"); empty for RegionGlobal.
	Field string
	Items []string
}

// Cost returns the cost of mode.
func (r *Result) Cost(mode Mode) Cost {
	for _, c := range r.Costs {
		if c.Mode == mode {
			return c
		}
	}
	return Cost{Mode: mode}
}

// Cheapest returns the applicable modes from the cheapest up.
func (r *Result) Cheapest() []Cost {
	var out []Cost
	for _, c := range r.Costs {
		if c.Applies {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Total < out[j].Total })
	return out
}

// Cost item names.
const (
	ItemConsumerEndpoints = "interface endpoints in consumer VPCs"
	ItemPrivateLinkData   = "PrivateLink data processing"
	ItemProviderEndpoints = "interface endpoints in provider VPCs"
	ItemNLBHours          = "NLB hours"
	ItemNLCU              = "NLB capacity units"
	ItemInstances         = "proxy instances"
	ItemVolumes           = "proxy root volumes"
	ItemAccessLogs        = "proxy access logs (CloudWatch Logs ingestion)"
	ItemInterRegion       = "inter-region data transfer"
	ItemCrossZone         = "cross-zone data transfer"
	ItemTGWAttachments    = "Transit Gateway attachments"
	ItemTGWData           = "Transit Gateway data processing"
	ItemZones             = "Route 53 private zones"
)

// Make plans topology t.
func Make(t *topology.Topology, o Options) (*Result, error) {
	if o.Prices == nil {
		return nil, fmt.Errorf("plan.Make: Options.Prices is nil; pass EmbeddedPrices() or LoadPrices(file)")
	}
	spec, ok := burstable.Lookup(t.Proxy.InstanceType)
	if !ok {
		return nil, fmt.Errorf("proxy.instanceType: %q is not a type obslink plan can size: it knows the baseline CPU and bandwidth of %s, nano to 2xlarge; plan with one of those, or add the type to internal/burstable",
			t.Proxy.InstanceType, strings.Join(burstable.Families(), ", "))
	}
	if err := checkLoad(o.Total); err != nil {
		return nil, err
	}
	if m := t.Monitoring.NetworkBaselineMbps; m != nil {
		spec.BaselineMbps = *m
	}
	d := deployment.Resolve(t)
	mode := Mode(d.Link)
	if d.Link == deployment.LinkNone {
		mode = Proxyless
	}
	groups, err := countGroups(d)
	if err != nil {
		return nil, err
	}
	r := &Result{
		Name: t.Name, Mode: mode, MainRegion: t.ControlPlane.Region, Groups: groups,
		InstanceType: t.Proxy.InstanceType, Instance: spec,
		MinCapacity: t.Proxy.Min(), MaxCapacity: t.Proxy.Max(),
		NetworkPercent: defaultNetworkPercent, Total: o.Total,
		Capacity: o.Capacity, Prices: o.Prices,
	}
	if m := t.Monitoring.NetworkPercent; m != nil {
		r.NetworkPercent = *m
	}
	if m := t.Monitoring.NetworkBaselineMbps; m != nil {
		r.Notes = append(r.Notes, fmt.Sprintf("baseline bandwidth %d Mbps from monitoring.networkBaselineMbps", *m))
	}
	r.UsableCPU = float64(spec.VCPUs) * spec.BaselineCPU * CPUHeadroom
	r.UsableMbps = float64(spec.BaselineMbps) * float64(r.NetworkPercent) / 100
	r.PerRequest = o.Capacity.HTTPPer1000
	r.LogLineBytes = AccessLogLineBytes
	if t.Proxy.Attribution() {
		r.LogLineBytes += AccessLogProxyProtocolBytes
	}
	grpc := false
	for _, s := range t.Services {
		if s.Protocol == topology.ProtocolGRPC {
			r.PerRequest = math.Max(r.PerRequest, o.Capacity.GRPCPer1000)
			grpc = true
		}
	}
	if grpc {
		r.LogLineBytes += AccessLogGRPCBytes
	}
	r.TLSPassthrough = t.TLSPassthrough()
	if err := r.shareLoad(t, o.Total); err != nil {
		return nil, err
	}
	p := &pricer{prices: o.Prices}
	r.LogPriceMain, r.LogPriceKnown = o.Prices.Price(ItemLogsIngestGB, r.MainRegion)
	for _, mode := range Modes() {
		r.Costs = append(r.Costs, r.cost(t, mode, p))
	}
	origin := regionOrigins(t, d)
	for _, region := range p.regions {
		r.Unpriced = append(r.Unpriced, Unpriced{Region: region, Field: origin[region], Items: p.missing[region]})
	}
	return r, nil
}

// checkLoad refuses totals that are not a finite amount of 0 or more.
func checkLoad(l Load) error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"gibPerDay", l.GiBPerDay}, {"requestsPerSecond", l.RequestsPerSecond}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 {
			return fmt.Errorf("total %s %v: give a finite figure of 0 or more", f.name, f.v)
		}
	}
	return nil
}

// countGroups reads the consumer groups of d and refuses a group plan
// cannot count: without expectedAccounts, or with no account left after
// excludeAccounts. Every such group is named at once.
func countGroups(d *deployment.Deployment) ([]Group, error) {
	var out []Group
	var problems []string
	for i, g := range d.Groups {
		field := fmt.Sprintf("consumerGroups[%d].expectedAccounts (group %s)", i, g.Name)
		switch {
		case g.ExpectedAccounts == 0:
			problems = append(problems, fmt.Sprintf("%s: not given, and plan counts a consumer VPC for each account of the group in each of its regions (%s); add expectedAccounts: N, the number of accounts in its OUs (excluded accounts included)",
				field, strings.Join(g.Regions, ", ")))
		case len(g.ExcludedAccounts) >= g.ExpectedAccounts:
			problems = append(problems, fmt.Sprintf("%s: %d, and excludeAccounts lists %d, which leaves no account to connect; expectedAccounts counts every account in the OUs, excluded ones included: give that number",
				field, g.ExpectedAccounts, len(g.ExcludedAccounts)))
		}
		out = append(out, Group{Name: g.Name, Accounts: g.ExpectedAccounts, Excluded: len(g.ExcludedAccounts), Regions: g.Regions})
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	return out, nil
}

// shareLoad gives each named consumer its own figures, or an even share of
// the totals among the consumer VPCs without one, and each group's VPCs
// their shares.
func (r *Result) shareLoad(t *topology.Topology, total Load) error {
	var withoutGiB, withoutRPS, groupVPCs int
	var noGiB []string
	for _, c := range t.Consumers {
		if c.GibPerDay == nil {
			withoutGiB++
			noGiB = append(noGiB, c.Name)
		}
		if c.RequestsPerSecond == nil {
			withoutRPS++
		}
	}
	for _, g := range r.Groups {
		groupVPCs += g.VPCs()
	}
	withoutGiB += groupVPCs
	withoutRPS += groupVPCs
	if withoutGiB > 0 && total.GiBPerDay == 0 {
		var who []string
		over := "consumers"
		if len(noGiB) > 0 {
			who = append(who, "consumer(s) "+names(noGiB))
		}
		if len(r.Groups) > 0 {
			who = append(who, r.groupVPCs())
			over = "consumer VPCs"
		}
		return fmt.Errorf("%w: %s give no gibPerDay and the total is 0 GiB a day, so the plan would price no traffic; give the agents' totals with --gib-per-day N (and --requests-per-second N), shared evenly over the %s without figures of their own, or each consumer's gibPerDay (and requestsPerSecond) in the file",
			ErrNoLoad, strings.Join(who, " and "), over)
	}
	if withoutGiB > 0 {
		r.Share.GiBPerDay = total.GiBPerDay / float64(withoutGiB)
	}
	if withoutRPS > 0 {
		r.Share.RequestsPerSecond = total.RequestsPerSecond / float64(withoutRPS)
	}
	own := func(v *float64, share float64) float64 {
		if v != nil {
			return *v
		}
		return share
	}
	var assumed int
	for _, c := range t.Consumers {
		zones := len(c.VPC.AvailabilityZones)
		cl := Consumer{Name: c.Name, Region: c.Region, VPCs: 1, Zones: zones, Load: Load{
			GiBPerDay:         own(c.GibPerDay, r.Share.GiBPerDay),
			RequestsPerSecond: own(c.RequestsPerSecond, r.Share.RequestsPerSecond),
		}}
		if zones == 0 {
			cl.Zones, cl.ZonesAssumed = AssumedZones, true
			assumed++
		}
		if c.RequestsPerSecond == nil && total.RequestsPerSecond == 0 {
			r.NoRequests = append(r.NoRequests, c.Name)
		}
		r.Consumers = append(r.Consumers, cl)
	}
	for _, g := range r.Groups {
		for _, region := range g.Regions {
			n := float64(g.Connected())
			r.Consumers = append(r.Consumers, Consumer{Name: g.Name, Region: region, Group: true, VPCs: g.Connected(),
				Load: Load{GiBPerDay: n * r.Share.GiBPerDay, RequestsPerSecond: n * r.Share.RequestsPerSecond}, Zones: AssumedZones, ZonesAssumed: true})
		}
	}
	if withoutGiB == 0 && total.GiBPerDay > 0 {
		r.Notes = append(r.Notes, "--gib-per-day not used: every consumer gives gibPerDay")
	}
	if withoutRPS == 0 && total.RequestsPerSecond > 0 {
		r.Notes = append(r.Notes, "--requests-per-second not used: every consumer gives requestsPerSecond")
	}
	if len(r.Groups) > 0 {
		var parts []string
		for _, g := range r.Groups {
			accounts := strconv.Itoa(g.Accounts)
			if g.Excluded > 0 {
				accounts = fmt.Sprintf("(%d − %d excluded)", g.Accounts, g.Excluded)
			}
			parts = append(parts, fmt.Sprintf("%s %s accounts × %d region(s) = %d", g.Name, accounts, len(g.Regions), g.VPCs()))
		}
		r.Notes = append(r.Notes, fmt.Sprintf("consumer groups: a consumer VPC per account and region, priced as a named consumer's (an endpoint per zone, a private zone, a share of the load): %s; %d VPCs in all, from expectedAccounts, which is yours to keep current (automatic deployment adds an account that joins an OU without a change to the file)",
			strings.Join(parts, ", "), groupVPCs))
	}
	if assumed > 0 || len(r.Groups) > 0 {
		var who []string
		if assumed > 0 {
			who = append(who, plural(assumed, "consumer"))
		}
		if len(r.Groups) > 0 {
			who = append(who, r.groupVPCs())
		}
		r.Notes = append(r.Notes, fmt.Sprintf("%s: no zones in the file (their VPCs come from SSM); counted as %d each", strings.Join(who, " and "), AssumedZones))
	}
	return nil
}

// groupVPCs counts the groups' VPCs: "the 51 VPCs of 3 consumer groups".
func (r *Result) groupVPCs() string {
	n := 0
	for _, g := range r.Groups {
		n += g.VPCs()
	}
	return fmt.Sprintf("the %s of %s", plural(n, "VPC"), plural(len(r.Groups), "consumer group"))
}

// plural counts n things: "1 consumer", "2 consumers".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// names lists up to shownNames names, and counts the rest.
func names(list []string) string {
	if len(list) <= shownNames {
		return strings.Join(list, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(list[:shownNames], ", "), len(list)-shownNames)
}

// regionOrigins maps each region of the topology to the first field that
// names it, for errors.
func regionOrigins(t *topology.Topology, d *deployment.Deployment) map[string]string {
	out := map[string]string{t.ControlPlane.Region: "controlPlane.region"}
	for i, r := range t.Regions {
		if _, ok := out[r.Region]; !ok {
			out[r.Region] = fmt.Sprintf("regions[%d].region", i)
		}
	}
	for i, c := range t.Consumers {
		if _, ok := out[c.Region]; !ok {
			out[c.Region] = fmt.Sprintf("consumers[%d].region", i)
		}
	}
	for i, g := range d.Groups {
		for j, region := range g.Regions {
			if _, ok := out[region]; !ok {
				out[region] = fmt.Sprintf("consumerGroups[%d].regions[%d]", i, j)
			}
		}
	}
	return out
}

// providerRegions are the regions with a proxy fleet in mode, in the
// file's order: the regions entries, then the other regions of the
// consumers and groups, sorted.
func (r *Result) providerRegions(t *topology.Topology, mode Mode) []string {
	switch mode {
	case Native:
		return []string{t.ControlPlane.Region}
	case Proxyless:
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, r := range t.Regions {
		if !seen[r.Region] {
			seen[r.Region] = true
			out = append(out, r.Region)
		}
	}
	var more []string
	for _, c := range r.Consumers {
		if !seen[c.Region] {
			seen[c.Region] = true
			more = append(more, c.Region)
		}
	}
	sort.Strings(more)
	return append(out, more...)
}

// providerZones is the zone count of region's provider VPC: its regions
// entry's, else the distinct zones of its consumers (at least 2), assumed.
func providerZones(t *topology.Topology, region string) (int, bool) {
	if r, ok := t.Region(region); ok {
		return len(r.AvailabilityZones), false
	}
	zones := map[string]bool{}
	for _, c := range t.Consumers {
		if c.Region == region {
			for _, z := range c.VPC.AvailabilityZones {
				zones[z] = true
			}
		}
	}
	return max(2, len(zones)), true
}

// providerFor is the region whose proxies serve a consumer in region.
func providerFor(t *topology.Topology, mode Mode, region string) string {
	if mode == Native {
		return t.ControlPlane.Region
	}
	return region
}

// proxylessApplies reports whether every service has its own port (an
// NLB routes by port; it cannot read host names).
func proxylessApplies(t *topology.Topology) (bool, string) {
	byPort := map[int][]string{}
	var ports []int
	for _, s := range t.Services {
		if len(byPort[s.Port]) == 0 {
			ports = append(ports, s.Port)
		}
		byPort[s.Port] = append(byPort[s.Port], s.Name)
	}
	for _, port := range ports {
		if names := byPort[port]; len(names) > 1 {
			return false, fmt.Sprintf("services %s share port %d: an NLB routes by port and cannot read host names, so proxyless needs a distinct port per service",
				strings.Join(names, " and "), port)
		}
	}
	return true, ""
}

// size sizes the fleet for its load: the proxies it needs (N+1) and what
// the Auto Scaling group, as the file sets it, would hold.
func (r *Result) size(f *Fleet) {
	bps := f.Load.bytesPerSecond()
	f.AvgMbps = bps * 8 / 1e6
	f.PeakMbps = f.AvgMbps * PeakFactor
	f.CPU = f.Load.RequestsPerSecond*r.PerRequest/1000 + bps*r.Capacity.PerGiB/gib
	f.ByCPU = ceil(f.CPU / r.UsableCPU)
	f.ByNetwork = ceil(f.PeakMbps / r.UsableMbps)
	need := max(f.ByCPU, f.ByNetwork)
	if need > 0 {
		need++ // a spare: losing one proxy leaves need
	}
	f.Needed = max(f.Min, need)

	vcpus := float64(r.Instance.VCPUs)
	f.Held = min(max(f.Min, ceil(f.CPU/(vcpus*TargetCPU))), f.Max)
	f.HeldCPU = f.CPU / (float64(f.Held) * vcpus)
	if over := f.CPU - float64(f.Held)*vcpus*r.Instance.BaselineCPU; over > 1e-9 {
		f.SurplusVCPUHours = over * HoursPerMonth
	}
}

// ceil rounds up, forgiving float noise (3.0000000001 is 3).
func ceil(x float64) int { return int(math.Ceil(x - 1e-9)) }

// crossZoneShare is the share of a hop's traffic that changes zone when
// it is spread evenly over zones and balanced across them: 1 - 1/zones.
func crossZoneShare(zones int) float64 {
	if zones < 2 {
		return 0
	}
	return 1 - 1/float64(zones)
}

// proxylessZones is the zone count of the NLB proxyless puts in the
// cluster VPC: controlPlane.vpc.availabilityZones, else (a topology with
// proxies, which gives none) the main region's provider VPC's, assumed.
func proxylessZones(t *topology.Topology) (int, bool) {
	if n := len(t.ControlPlane.VPC.AvailabilityZones); n > 0 {
		return n, false
	}
	n, _ := providerZones(t, t.ControlPlane.Region)
	return n, true
}

// cost prices one mode.
func (r *Result) cost(t *topology.Topology, mode Mode, p *pricer) Cost {
	c := Cost{Mode: mode, Applies: true}
	if mode == Proxyless {
		if ok, why := proxylessApplies(t); !ok {
			c.Applies, c.Why = false, why
			return c
		}
	}
	main := t.ControlPlane.Region

	// Consumers: an endpoint network interface per zone, the data through
	// it, a private hosted zone each (every mode).
	var epHours, plData, zones amount
	var vpcs, zoneEndpoints int
	for _, cl := range r.Consumers {
		vpcs += cl.VPCs
		zoneEndpoints += cl.VPCs * cl.Zones
		p.charge(&epHours, float64(cl.VPCs*cl.Zones)*HoursPerMonth, ItemEndpointHour, cl.Region)
		p.charge(&plData, cl.Load.gbPerMonth(), ItemEndpointGB, cl.Region)
		p.charge(&zones, float64(cl.VPCs), ItemZoneMonth, RegionGlobal)
	}
	c.add(ItemConsumerEndpoints, fmt.Sprintf("%d VPCs, %d zone-endpoints × %.0f h", vpcs, zoneEndpoints, HoursPerMonth), epHours)
	c.add(ItemPrivateLinkData, fmt.Sprintf("%s GB through the endpoints", num(totalGB(r.Consumers))), plData)

	// Cross-zone hops: the NLBs balance across zones, so (1 - 1/zones) of
	// a hop's bytes change zone, billed out of one and into the other.
	var crossGB float64
	var crossUSD amount
	crossZone := func(gb float64, zones int, region string) {
		crossed := gb * crossZoneShare(zones)
		crossGB += crossed
		p.charge(&crossUSD, crossed*2, ItemCrossZoneGB, region)
	}

	// Provider regions: proxies, NLB, the VPC's own interface endpoints.
	regions := r.providerRegions(t, mode)
	perEP := providerEndpoints
	if t.Proxy.Attribution() {
		perEP++
	}
	family, _, _ := strings.Cut(t.Proxy.InstanceType, ".")
	var provEP, nlbHours, nlcu, inst, vols, logs, irData, tgwData amount
	var logGB, irGB float64
	var provZoneEPs, proxies int
	for _, region := range regions {
		f := Fleet{Region: region, Min: t.Proxy.Min(), Max: t.Proxy.Max()}
		for _, cl := range r.Consumers {
			if providerFor(t, mode, cl.Region) == region {
				f.Load = f.Load.add(cl.Load)
			}
		}
		f.Zones, f.ZonesAssumed = providerZones(t, region)
		r.size(&f)
		if f.Surplus() {
			var surplus amount
			p.charge(&surplus, f.SurplusVCPUHours, ItemSurplus(family), region)
			f.SurplusUSD, f.SurplusPriced = surplus.usd, len(surplus.unpriced) == 0
		}
		c.Fleets = append(c.Fleets, f)
		gb := f.Load.gbPerMonth()
		provZoneEPs += perEP * f.Zones
		p.charge(&provEP, float64(perEP*f.Zones)*HoursPerMonth, ItemEndpointHour, region)
		p.charge(&nlbHours, HoursPerMonth, ItemNLBHour, region)
		p.charge(&nlcu, gb, ItemNLCUHour, region)
		proxies += f.Needed
		p.charge(&inst, float64(f.Needed)*HoursPerMonth, ItemEC2(t.Proxy.InstanceType), region)
		p.charge(&vols, float64(f.Needed*RootVolumeGiB), ItemGP3, region)
		if !r.TLSPassthrough { // with passthrough, a line per connection: not counted
			g := f.Load.RequestsPerSecond * secondsPerMonth * float64(r.LogLineBytes) / 1e9
			logGB += g
			p.charge(&logs, g, ItemLogsIngestGB, region)
		}
		crossZone(gb, f.Zones, region) // NLB to proxies
		if region == main {
			crossZone(gb, f.Zones, region) // proxies to the ALBs
		}
		if (mode == Peering || mode == TGW) && region != main {
			irGB += gb
			p.transfer(&irData, gb, region, main)
		}
		if mode == TGW {
			p.charge(&tgwData, gb, ItemTGWGB, region)
		}
	}
	hops := "NLB to proxies in each provider region, proxies to ALBs in " + main
	if mode == Proxyless { // one NLB in the cluster VPC, in front of the ALBs
		nlbHours, nlcu = amount{}, amount{}
		p.charge(&nlbHours, HoursPerMonth, ItemNLBHour, main)
		p.charge(&nlcu, totalGB(r.Consumers), ItemNLCUHour, main)
		z, assumed := proxylessZones(t)
		if assumed {
			r.Notes = append(r.Notes, fmt.Sprintf("proxyless: the file gives no controlPlane.vpc.availabilityZones (only proxy.mode none takes them); its NLB is counted in %d zones, the main region's provider VPC's", z))
		}
		crossZone(totalGB(r.Consumers), z, main)
		hops = fmt.Sprintf("NLB to ALBs over %d zones", z)
	}
	if mode == Native || mode == Proxyless { // cross-region PrivateLink: sent from the consumer's region
		for _, cl := range r.Consumers {
			if cl.Region != main {
				irGB += cl.Load.gbPerMonth()
				p.transfer(&irData, cl.Load.gbPerMonth(), cl.Region, main)
			}
		}
	}
	if len(regions) > 0 {
		c.add(ItemProviderEndpoints, fmt.Sprintf("%d per zone × %d zones in %d region(s)", perEP, provZoneEPs/perEP, len(regions)), provEP)
	}
	nlbs := max(len(regions), 1)
	c.add(ItemNLBHours, fmt.Sprintf("%d NLB(s) × %.0f h", nlbs, HoursPerMonth), nlbHours)
	c.add(ItemNLCU, fmt.Sprintf("%s GB processed = %s NLCU-hours", num(totalGB(r.Consumers)), num(totalGB(r.Consumers))), nlcu)
	if len(regions) > 0 {
		c.add(ItemInstances, fmt.Sprintf("%d × %s × %.0f h", proxies, t.Proxy.InstanceType, HoursPerMonth), inst)
		c.add(ItemVolumes, fmt.Sprintf("%d × %d GiB gp3", proxies, RootVolumeGiB), vols)
		detail := fmt.Sprintf("%s requests/s × %d B a line = %s GB in the provider regions' log groups", num(totalRPS(r.Consumers)), r.LogLineBytes, num(logGB))
		if r.TLSPassthrough {
			detail = "tls passthrough: a line per connection, not per request; not counted"
		}
		c.add(ItemAccessLogs, detail, logs)
	}
	c.add(ItemInterRegion, fmt.Sprintf("%s GB sent to %s, at the sending region's price", num(irGB), main), irData)
	c.add(ItemCrossZone, fmt.Sprintf("%s GB change zone (%s), billed out and in", num(crossGB), hops), crossUSD)
	if mode == TGW {
		att, n := tgwAttachments(t, regions, p)
		c.add(ItemTGWAttachments, fmt.Sprintf("%d attachment(s) × %.0f h", n, HoursPerMonth), att)
		c.add(ItemTGWData, fmt.Sprintf("%s GB from the provider VPCs into their gateways", num(totalGB(r.Consumers))), tgwData)
	}
	c.add(ItemZones, fmt.Sprintf("%d zone(s)", vpcs), zones)
	return c
}

// totalRPS is the consumers' requests per second.
func totalRPS(consumers []Consumer) float64 {
	var sum float64
	for _, c := range consumers {
		sum += c.Load.RequestsPerSecond
	}
	return sum
}

// totalGB is the consumers' data in a month.
func totalGB(consumers []Consumer) float64 {
	var sum float64
	for _, c := range consumers {
		sum += c.Load.gbPerMonth()
	}
	return sum
}

// tgwAttachments prices the Transit Gateway attachments obslink creates in
// tgw mode (stacks/links.go, constructs/tgwmesh): on the hub, the cluster
// VPC's and the main region's provider VPC's; per other region, its
// provider VPC's on its own gateway and a peering with the hub (billed on
// both gateways); with tgwMesh full, a peering per pair of other regions.
func tgwAttachments(t *topology.Topology, regions []string, p *pricer) (amount, int) {
	main := t.ControlPlane.Region
	count := map[string]int{main: 1} // the cluster VPC
	var spokes []string
	for _, region := range regions {
		count[region]++ // the provider VPC
		if region != main {
			spokes = append(spokes, region)
			count[region]++ // the peering with the hub, both ends
			count[main]++
		}
	}
	if t.TGWMesh == topology.MeshFull {
		for i := range spokes {
			for j := i + 1; j < len(spokes); j++ {
				count[spokes[i]]++
				count[spokes[j]]++
			}
		}
	}
	var usd amount
	var n int
	for _, region := range sortedKeys(count) {
		n += count[region]
		p.charge(&usd, float64(count[region])*HoursPerMonth, ItemTGWAttachment, region)
	}
	return usd, n
}

func (c *Cost) add(name, detail string, a amount) {
	c.Items = append(c.Items, Item{Name: name, Detail: detail, USD: a.usd, Unpriced: a.unpriced})
	c.Total += a.usd
	if len(a.unpriced) > 0 {
		c.Incomplete = true
	}
}

// amount is a cost item's dollars, and the prices it lacks ("nlb.hour in
// us-west-2"), which it leaves out.
type amount struct {
	usd      float64
	unpriced []string
}

func (a *amount) lacks(item, region string) {
	what := item + " in " + region
	if !slices.Contains(a.unpriced, what) {
		a.unpriced = append(a.unpriced, what)
	}
}

// pricer looks prices up and collects what the table lacks, by region in
// first-seen order, so that the report names each gap once.
type pricer struct {
	prices  *Prices
	regions []string
	missing map[string][]string
}

func (p *pricer) note(region, item string) {
	if p.missing == nil {
		p.missing = map[string][]string{}
	}
	if _, ok := p.missing[region]; !ok {
		p.regions = append(p.regions, region)
	}
	if !slices.Contains(p.missing[region], item) {
		p.missing[region] = append(p.missing[region], item)
	}
}

// charge adds qty × item's price in region to a. A price the table lacks
// adds nothing: it is noted in a and in p, never counted as zero.
func (p *pricer) charge(a *amount, qty float64, item, region string) {
	if qty == 0 {
		return
	}
	v, ok := p.prices.Price(item, region)
	if !ok {
		a.lacks(item, region)
		p.note(region, item)
		return
	}
	a.usd += qty * v
}

// transfer adds gb sent from one region to another to a.
func (p *pricer) transfer(a *amount, gb float64, from, to string) {
	if gb == 0 {
		return
	}
	v, ok := p.prices.InterRegion(from, to)
	if !ok {
		a.lacks(ItemInterRegionGB, from)
		p.note(from, ItemInterRegionGB)
		return
	}
	a.usd += gb * v
}
