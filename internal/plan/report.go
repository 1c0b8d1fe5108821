package plan

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Write prints the plan as Markdown: the load, the fleets, the monthly cost
// per mode, what dominates it, the cheapest mode and the assumptions.
func (r *Result) Write(w io.Writer, topologyName string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# obslink plan: %s (%s)\n\n", r.Name, topologyName)
	mode, fleet := "interRegion "+string(r.Mode), ""
	if r.Mode == Proxyless {
		mode, fleet = "proxy.mode none (interRegion native)", "; for the other modes' fleets"
	}
	fmt.Fprintf(&b, "%s, main region %s, proxies %s (%s%s).\n",
		mode, r.MainRegion, r.InstanceType, fmt.Sprintf("minCapacity %d, maxCapacity %d", r.MinCapacity, r.MaxCapacity), fleet)
	fmt.Fprintf(&b, "Prices: %s.\n\n", r.Prices.Describe())

	b.WriteString("## Load\n\n")
	b.WriteString("| consumer | region | GiB/day | requests/s | endpoint zones |\n|---|---|---:|---:|---:|\n")
	var zones int
	for _, c := range r.Consumers {
		name, z := c.Name, strconv.Itoa(c.Zones)
		if c.ZonesAssumed {
			z += " (assumed)"
		}
		if c.Group {
			name = "group " + r.groupAccounts(c.Name)
			z = fmt.Sprintf("%d (%s × %d, assumed)", c.VPCs*c.Zones, plural(c.VPCs, "VPC"), c.Zones)
		}
		zones += c.VPCs * c.Zones
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", name, c.Region, num(c.Load.GiBPerDay), num(c.Load.RequestsPerSecond), z)
	}
	var sum Load
	for _, c := range r.Consumers {
		sum = sum.add(c.Load)
	}
	fmt.Fprintf(&b, "| total | | %s | %s | %d |\n\n", num(sum.GiBPerDay), num(sum.RequestsPerSecond), zones)

	b.WriteString("## Proxy fleet per provider region\n\n")
	fmt.Fprintf(&b, "One %s (%d vCPU, baseline %s %% of each, %d Mbps each way) may use %s CPU-seconds a second at the average load "+
		"(%d × %s %% × headroom %s) and carry %s Mbps at the peak (%d %% of %d Mbps, the network alarm's threshold). "+
		"Proxies = max(minCapacity, the larger of by CPU and by network + 1 spare), so that losing one proxy leaves enough.\n\n",
		r.InstanceType, r.Instance.VCPUs, num(r.Instance.BaselineCPU*100), r.Instance.BaselineMbps, num(r.UsableCPU),
		r.Instance.VCPUs, num(r.Instance.BaselineCPU*100), num(CPUHeadroom), num(r.UsableMbps), r.NetworkPercent, r.Instance.BaselineMbps)
	b.WriteString("| mode | region | GiB/day | avg Mbps | peak Mbps | CPU-s/s | by CPU | by network | proxies |\n|---|---|---:|---:|---:|---:|---:|---:|---|\n")
	var warnings []string
	for _, g := range r.fleetGroups() {
		if len(g.fleets) == 0 {
			fmt.Fprintf(&b, "| %s | - | | | | | | | none |\n", g.label)
			continue
		}
		for _, f := range g.fleets {
			region := f.Region
			if f.ZonesAssumed {
				region += fmt.Sprintf(" (%d zones assumed)", f.Zones)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %d | %d | %s |\n", g.label, region, num(f.Load.GiBPerDay),
				num(f.AvgMbps), num(f.PeakMbps), num3(f.CPU), f.ByCPU, f.ByNetwork, proxies(f))
			if f.OverMax() {
				warnings = append(warnings, fmt.Sprintf("WARNING: %s, %s needs %d × %s, above proxy.maxCapacity %d: raise minCapacity and maxCapacity to %d or more, or pick a larger proxy.instanceType; the costs count %d.",
					g.label, f.Region, f.Needed, r.InstanceType, f.Max, f.Needed, f.Needed))
			}
			if f.Surplus() {
				raise := ""
				if f.Needed > f.Max {
					raise = " (and maxCapacity)"
				}
				usd := money(f.SurplusUSD)
				if !f.SurplusPriced {
					usd = "at a price the prices file lacks (see NOT PRICED)"
				}
				warnings = append(warnings, fmt.Sprintf("WARNING: %s, %s: as the file sets it (minCapacity %d, maxCapacity %d) the Auto Scaling group, which scales to keep %s %% CPU, holds %d proxies at %s %% CPU each on average, above a %s's %s %% baseline. "+
					"T3, T3a and T4g launch in unlimited mode (obslink sets no credit specification), so they would bill surplus CPU credits: %s vCPU-hours a month, %s (not in the costs below, which count %d proxies). Set minCapacity%s to %d to stay within the baseline.",
					g.label, f.Region, f.Min, f.Max, num(TargetCPU*100), f.Held, num(f.HeldCPU*100), r.InstanceType, num(r.Instance.BaselineCPU*100),
					num(f.SurplusVCPUHours), usd, f.Needed, raise, f.Needed))
			}
		}
	}
	b.WriteString("\n")
	if who := r.noRequests(); who != "" {
		note := fmt.Sprintf("NOTE: no requests/s for %s (neither --requests-per-second nor requestsPerSecond in the file): "+
			"the CPU column counts bytes only, not per-request CPU (%s s per 1,000 requests)", who, num3(r.PerRequest))
		if r.TLSPassthrough {
			note += ". Give --requests-per-second N to count it."
		} else {
			logGBPer1000 := 1000 * secondsPerMonth * float64(r.LogLineBytes) / 1e9
			price := fmt.Sprintf("%s at %s's price", money(logGBPer1000*r.LogPriceMain), r.MainRegion)
			if !r.LogPriceKnown {
				price = fmt.Sprintf("at a price %s lacks for %s", r.Prices.Name, r.MainRegion)
			}
			note += fmt.Sprintf(", and the proxies' access logs are priced at $0 (one %d B line per request: each 1,000 requests/s adds %s GB a month of CloudWatch Logs ingestion, %s). Give --requests-per-second N to count both.",
				r.LogLineBytes, num(logGBPer1000), price)
		}
		warnings = append(warnings, note)
	}
	for _, w := range warnings {
		b.WriteString(w + "\n")
	}
	if len(warnings) > 0 {
		b.WriteString("\n")
	}

	fmt.Fprintf(&b, "## Monthly cost (USD, %s hours)\n\n", num(HoursPerMonth))
	b.WriteString("| item |")
	for _, c := range r.Costs {
		fmt.Fprintf(&b, " %s |", c.Mode)
	}
	b.WriteString("\n|---|")
	for range r.Costs {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, name := range r.itemNames() {
		fmt.Fprintf(&b, "| %s |", name)
		for _, c := range r.Costs {
			it, ok := c.Item(name)
			switch {
			case !c.Applies:
				b.WriteString(" n/a |")
			case !ok:
				b.WriteString(" - |")
			default:
				fmt.Fprintf(&b, " %s%s |", money(it.USD), star(len(it.Unpriced) > 0))
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("| **total** |")
	for _, c := range r.Costs {
		if c.Applies {
			fmt.Fprintf(&b, " **%s**%s |", money(c.Total), star(c.Incomplete))
		} else {
			b.WriteString(" n/a |")
		}
	}
	b.WriteString("\n\n")
	if len(r.Unpriced) > 0 {
		b.WriteString(r.unpriced())
	}
	for _, c := range r.Costs {
		if !c.Applies {
			fmt.Fprintf(&b, "%s does not apply: %s.\n\n", c.Mode, c.Why)
		}
	}
	if own := r.Cost(r.Mode); own.Applies {
		fmt.Fprintf(&b, "How %s (this topology's mode) adds up:\n\n", own.Mode)
		for _, it := range own.Items {
			without := ""
			if len(it.Unpriced) > 0 {
				without = fmt.Sprintf(" (without %s: no price)", strings.Join(it.Unpriced, ", "))
			}
			fmt.Fprintf(&b, "- %s: %s: %s%s\n", it.Name, it.Detail, money(it.USD), without)
		}
		b.WriteString("\n")
	}

	b.WriteString("## What dominates\n\n")
	for _, c := range r.Costs {
		if !c.Applies || c.Total == 0 {
			continue
		}
		var parts []string
		for _, it := range c.Top(2) {
			parts = append(parts, fmt.Sprintf("%s %s (%s %%)", it.Name, money(it.USD), num0(100*it.USD/c.Total)))
		}
		fmt.Fprintf(&b, "- %s, %s%s: %s\n", c.Mode, money(c.Total), star(c.Incomplete), strings.Join(parts, ", "))
	}
	if order := r.Cheapest(); len(order) > 0 {
		cheapest := order[0]
		var rest []string
		for _, c := range order[1:] {
			more := "+0 %"
			if cheapest.Total > 0 {
				more = fmt.Sprintf("+%s %%", num0(100*(c.Total-cheapest.Total)/cheapest.Total))
			}
			rest = append(rest, fmt.Sprintf("%s %s (%s)", c.Mode, money(c.Total), more))
		}
		fmt.Fprintf(&b, "\nCheapest: **%s** at %s a month", cheapest.Mode, money(cheapest.Total))
		if len(rest) > 0 {
			fmt.Fprintf(&b, "; then %s", strings.Join(rest, ", "))
		}
		if len(r.Unpriced) > 0 {
			b.WriteString(" (without the prices NOT PRICED names: the order may differ)")
		}
		b.WriteString(".\n\n")
	}

	b.WriteString("## Assumptions\n\n")
	for _, a := range r.assumptions() {
		b.WriteString("- " + a + "\n")
	}
	for _, n := range r.Notes {
		b.WriteString("- " + n + "\n")
	}
	b.WriteString("\nNot counted, being equal in every mode or not obslink's: the cluster and its ALBs; " +
		"the rest of CloudWatch (a dashboard and alarms per provider region, log storage, the error log, VPC flow logs); " +
		"the small Lambda functions; DNS queries; responses (agents send, the cluster answers little).\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// groupAccounts names group name with the accounts it connects:
// "data, 19 accounts (20 − 1 excluded)".
func (r *Result) groupAccounts(name string) string {
	for _, g := range r.Groups {
		if g.Name == name {
			s := fmt.Sprintf("%s, %s", name, plural(g.Connected(), "account"))
			if g.Excluded > 0 {
				s += fmt.Sprintf(" (%d − %d excluded)", g.Accounts, g.Excluded)
			}
			return s
		}
	}
	return name
}

// noRequests says whose requests/s is 0 for want of a figure: the named
// consumers of NoRequests, and the groups' VPCs when the flags give none;
// "" when everyone has one.
func (r *Result) noRequests() string {
	var who []string
	if len(r.NoRequests) > 0 {
		who = append(who, names(r.NoRequests))
	}
	if len(r.Groups) > 0 && r.Total.RequestsPerSecond == 0 {
		who = append(who, r.groupVPCs())
	}
	return strings.Join(who, " and ")
}

func (r *Result) assumptions() []string {
	over := "the consumers without gibPerDay or requestsPerSecond of their own"
	if len(r.Groups) > 0 {
		over = fmt.Sprintf("the consumer VPCs without gibPerDay or requestsPerSecond of their own (named consumers without them, and each group account in each of its regions: %s GiB/day and %s requests/s each)",
			num(r.Share.GiBPerDay), num(r.Share.RequestsPerSecond))
	}
	return []string{
		fmt.Sprintf("%s hours a month; prices of %s from %s: %s (the file says which figures were confirmed and how)", num(HoursPerMonth), r.Prices.Date, r.Prices.Name, r.priceKind()),
		fmt.Sprintf("load: %s GiB/day and %s requests/s in total (flags), shared evenly over %s; 1 GiB of agent data is counted as 1 billed GB (if AWS counts 10^9 bytes, the per-GB items are 7 %% higher)",
			num(r.Total.GiBPerDay), num(r.Total.RequestsPerSecond), over),
		fmt.Sprintf("peak = %s × the average; a proxy's CPU at the average load stays under %s of its burstable baseline, so the peak fits in the baseline over a day and the CPU figures keep a %s× margin",
			num(PeakFactor), num(CPUHeadroom), num(1/CPUHeadroom)),
		"N+1: the proxies counted are one more than CPU or network needs (unless minCapacity gives more), so that losing one proxy leaves enough for the load; losing a whole zone's proxies is not covered beyond that",
		fmt.Sprintf("the Auto Scaling group scales to keep %s %% CPU (proxyfleet's target), above the burstable baseline, and never on network: hold the counted proxies with minCapacity; T3, T3a and T4g launch in unlimited mode (obslink sets no credit specification), so plan warns where the file's minCapacity would leave proxies above their baseline at the average load and prices the surplus credits they would bill (%s)",
			num(TargetCPU*100), r.Prices.Name),
		fmt.Sprintf("CPU per unit of load, from %s: %s s per 1,000 requests (1 KiB HTTP: %s, 1 KiB gRPC: %s; the larger of the services' protocols), %s s per GiB (1 MiB HTTP); one instance vCPU does the work of one core of the benchmark machine",
			r.Capacity.Source, num3(r.PerRequest), num3(r.Capacity.HTTPPer1000), num3(r.Capacity.GRPCPer1000), num3(r.Capacity.PerGiB)),
		"traffic is one way (agents to the cluster): a proxy carries it in from the NLB and the same out to an ALB, against its bandwidth each way",
		"peering and tgw: a consumer's traffic goes to its own region's proxies, which send it to the main region (inter-region transfer billed in the provider's region); native: to the main region's proxies over cross-region PrivateLink (standard endpoint and data-processing prices, plus inter-region transfer billed in the consumer's region); proxyless: straight to an NLB in the cluster VPC over cross-region PrivateLink",
		"cross-zone data transfer: both kinds of NLB balance across zones (cross-zone load balancing on), so with traffic spread evenly over a VPC's Z zones, 1 − 1/Z of each hop changes zone, billed out of one zone and into the other (2 × the per-GB price); the hops: the NLB to the proxies in each provider region, the proxies to the ALBs for the traffic proxied in the main region (the ALBs taken to span the provider VPC's zones), in proxyless the NLB to the ALBs (the cluster VPC's zones); hops between regions are inter-region transfer, a consumer endpoint's hop to the NLB is PrivateLink's",
		r.accessLogs(),
		"NLB: processed bytes dominate its capacity units for TCP (1 NLCU = 1 GB an hour; 800 new connections a second or 100,000 active flows are the other dimensions): NLCU-hours = GB processed",
		fmt.Sprintf("proxies' root volumes: %d GiB gp3 each (proxyfleet's default); a provider VPC has %d interface endpoints per zone (SSM, SSM messages, EC2 messages, CloudWatch Logs, CloudFormation), and EC2 with proxyProtocol", RootVolumeGiB, providerEndpoints),
		"tgw: attachments on the hub for the cluster VPC and the main region's provider VPC; per other region, its provider VPC's and a peering with the hub, billed on both gateways (tgwMesh full: a peering per pair of other regions too); data processing for each GB sent from a provider VPC into its gateway",
	}
}

// priceKind says what the table's figures are.
func (r *Result) priceKind() string {
	if len(r.Prices.Discounts) > 0 {
		return "AWS on-demand list prices less the discounts the Prices line names, first tier, without free tier"
	}
	return "AWS on-demand list prices, first tier, without free tier or discounts"
}

// unpriced names, once, every price the table lacks, by region, and what
// that does to the totals.
func (r *Result) unpriced() string {
	var b strings.Builder
	fmt.Fprintf(&b, "NOT PRICED: %s has no price for these, so the items marked * leave them out and the totals are lower than the bill:\n\n", r.Prices.Name)
	for _, u := range r.Unpriced {
		var about []string
		if u.Field != "" {
			about = append(about, u.Field)
		}
		if len(r.Prices.Regions) > 0 && u.Region != RegionGlobal && !slices.Contains(r.Prices.Regions, u.Region) {
			about = append(about, "not one of the file's regions")
		}
		where := u.Region
		if len(about) > 0 {
			where += " (" + strings.Join(about, "; ") + ")"
		}
		fmt.Fprintf(&b, "- %s: %s\n", where, strings.Join(u.Items, ", "))
	}
	b.WriteString("\nAdd them to a prices file and plan with --prices FILE: obslink prices refresh --out FILE reads every region's from AWS's price lists.\n\n")
	return b.String()
}

// star marks a figure that leaves out a price the table lacks.
func star(incomplete bool) string {
	if incomplete {
		return " *"
	}
	return ""
}

func (r *Result) accessLogs() string {
	if r.TLSPassthrough {
		return "access logs: with tls passthrough the proxies log a line per TCP connection, not per request; agents hold connections open, so the log is small and not counted"
	}
	return fmt.Sprintf("access logs: the proxies log one JSON line per request, %d B (log_format obslink of assets/nginx/nginx.conf.tmpl, as nginx wrote it for POST /api/v1/push: %d B, +%d with proxyProtocol's vpce, consumer and nlb fields, +%d for a gRPC export's path; the larger of the services' protocols), "+
		"shipped by the CloudWatch agent to the provider region's log group (Standard class): ingestion per GB of 10^9 bytes", r.LogLineBytes, AccessLogLineBytes, AccessLogProxyProtocolBytes, AccessLogGRPCBytes)
}

type fleetGroup struct {
	label  string
	fleets []Fleet
}

// fleetGroups joins modes with the same fleets (peering and tgw) into one row group.
func (r *Result) fleetGroups() []fleetGroup {
	var groups []fleetGroup
	for _, c := range r.Costs {
		if !c.Applies {
			continue
		}
		if n := len(groups); n > 0 && sameFleets(groups[n-1].fleets, c.Fleets) {
			groups[n-1].label += ", " + string(c.Mode)
			continue
		}
		groups = append(groups, fleetGroup{label: string(c.Mode), fleets: c.Fleets})
	}
	return groups
}

func sameFleets(a, b []Fleet) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// itemNames lists the items of every mode, in first-seen order.
func (r *Result) itemNames() []string {
	var names []string
	seen := map[string]bool{}
	for _, c := range r.Costs {
		for _, it := range c.Items {
			if !seen[it.Name] {
				seen[it.Name] = true
				names = append(names, it.Name)
			}
		}
	}
	return names
}

func proxies(f Fleet) string {
	need := max(f.ByCPU, f.ByNetwork)
	switch {
	case f.OverMax():
		return fmt.Sprintf("%d (maxCapacity; needs %d)", f.Max, f.Needed)
	case need == 0 || need+1 <= f.Min:
		return fmt.Sprintf("%d (minCapacity)", f.Needed)
	case f.ByCPU >= f.ByNetwork:
		return fmt.Sprintf("%d (CPU + 1)", f.Needed)
	default:
		return fmt.Sprintf("%d (network + 1)", f.Needed)
	}
}

// num prints up to 2 decimals, without trailing zeros, with thousands
// separators: 15,208.33.
func num(x float64) string {
	s := strconv.FormatFloat(x, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		return "0"
	}
	whole, frac, dot := strings.Cut(s, ".")
	s = thousands(whole)
	if dot {
		s += "." + frac
	}
	return s
}

// thousands puts a comma between each group of three digits of whole.
func thousands(whole string) string {
	sign := ""
	if strings.HasPrefix(whole, "-") {
		sign, whole = "-", whole[1:]
	}
	var b strings.Builder
	for i, d := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return sign + b.String()
}

// num3 prints up to 3 decimals, without trailing zeros.
func num3(x float64) string {
	s := strconv.FormatFloat(x, 'f', 3, 64)
	return strings.TrimRight(strings.TrimRight(s, "0"), ".")
}

// num0 prints a whole number.
func num0(x float64) string { return strconv.FormatFloat(x, 'f', 0, 64) }

// money prints dollars and cents with thousands separators: $1,234.50.
func money(x float64) string {
	whole, cents, _ := strings.Cut(strconv.FormatFloat(x, 'f', 2, 64), ".")
	return "$" + thousands(whole) + "." + cents
}
