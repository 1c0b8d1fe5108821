package topology

import (
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strings"
)

// validate checks every rule on the decoded file and records each violation.
func (v *validator) validate(t *Topology) {
	v.tls(t)
	if t.Name == "" {
		v.add("name", "is missing; set a short lower-case stack prefix such as name: obslink")
	} else if !reName.MatchString(t.Name) {
		v.add("name", "%q is not a valid stack prefix; use 1-31 lower-case letters, digits and '-', starting with a letter", t.Name)
	}
	if t.Domain != "" && !validDomain(strings.TrimSuffix(t.Domain, ".")) {
		v.add("domain", "%q is not a DNS domain; use lower-case labels joined by dots, such as observability.internal", t.Domain)
	}
	switch t.InterRegion {
	case "", Peering, TGW, Native:
	default:
		v.add("interRegion", "%q is not a mode; use one of peering, tgw, native", t.InterRegion)
	}

	switch {
	case t.TGWMesh != "" && t.TGWMesh != MeshHub && t.TGWMesh != MeshFull:
		v.add("tgwMesh", "%q is not a mesh; use hub or full", t.TGWMesh)
	case t.TGWMesh != "" && t.InterRegion != TGW:
		v.warn("tgwMesh", "%q applies to interRegion tgw only", t.TGWMesh)
	}

	cp := t.ControlPlane
	v.account("controlPlane.account", cp.Account)
	if cp.ProviderAccount != "" {
		v.account("controlPlane.providerAccount", cp.ProviderAccount)
		if t.InterRegion == TGW && cp.ProviderAccount != cp.Account {
			v.add("controlPlane.providerAccount", "%q differs from controlPlane.account: with interRegion tgw the providers attach to the cluster account's Transit Gateway, which obslink does not share across accounts; use peering or native, or leave providerAccount out", cp.ProviderAccount)
		}
	}
	v.region("controlPlane.region", cp.Region)
	if cp.OrganizationID != "" && !reOrg.MatchString(cp.OrganizationID) {
		v.add("controlPlane.organizationId", "%q is not an AWS Organizations id; use o- followed by 10-32 lower-case letters or digits, as shown by `aws organizations describe-organization`", cp.OrganizationID)
	}
	v.id("controlPlane.vpc.id", cp.VPC.ID, reVPC, "vpc-0123456789abcdef0")
	clusterNet, clusterOK := v.cidr("controlPlane.vpc.cidr", cp.VPC.CIDR)
	if !t.Proxyless() && len(cp.VPC.RouteTableIDs) == 0 { // native too: the main region's provider is peered
		v.add("controlPlane.vpc.routeTableIds", "is missing; list the route tables of the cluster's ALB subnets so return routes to the provider VPCs can be added")
	}
	for i, id := range cp.VPC.RouteTableIDs {
		v.id(fmt.Sprintf("controlPlane.vpc.routeTableIds[%d]", i), id, reRTB, "rtb-0123456789abcdef0")
	}
	if t.InterRegion == TGW && len(cp.VPC.SubnetIDs) == 0 {
		v.add("controlPlane.vpc.subnetIds", "is missing; interRegion tgw attaches the cluster VPC to a Transit Gateway: list one subnet per zone for the attachment")
	}
	if t.InterRegion != TGW && !t.Proxyless() && len(cp.VPC.SubnetIDs) > 0 {
		v.warn("controlPlane.vpc.subnetIds", "only interRegion tgw (the Transit Gateway attachment) and proxy.mode none (the NLB) use the cluster VPC's subnets")
	}
	for i, id := range cp.VPC.SubnetIDs {
		v.id(fmt.Sprintf("controlPlane.vpc.subnetIds[%d]", i), id, reSubnet, "subnet-0123456789abcdef0")
	}
	for i, id := range cp.VPC.ALBSecurityGroupIDs {
		v.id(fmt.Sprintf("controlPlane.vpc.albSecurityGroupIds[%d]", i), id, reSG, "sg-0123456789abcdef0")
	}
	switch cp.VPC.ALBIngress {
	case "":
		if len(cp.VPC.ALBSecurityGroupIDs) == 0 {
			if t.Proxyless() {
				v.add("controlPlane.vpc.albSecurityGroupIds", "is missing: nothing would open the ALBs to the endpoint service's NLB, and every connection would be dropped; list the ALBs' security groups, such as [sg-0123456789abcdef0], so obslink lets the NLB's security group in on the ALB ports, or set controlPlane.vpc.albIngress: manual if you open them yourself (the stack outputs the NLB's group)")
				break
			}
			v.add("controlPlane.vpc.albSecurityGroupIds", "is missing: nothing would open the ALBs to the proxies, whose connections would be dropped while the NLB health checks (answered by nginx) stay green; list the ALBs' security groups, such as [sg-0123456789abcdef0], so obslink adds ingress from the provider CIDRs on the upstream ports, or set controlPlane.vpc.albIngress: manual if you open them yourself")
		}
	case ALBIngressManual:
		if len(cp.VPC.ALBSecurityGroupIDs) > 0 {
			v.add("controlPlane.vpc.albIngress", "%q, yet albSecurityGroupIds is set, which makes obslink open the ALBs; remove one of the two", cp.VPC.ALBIngress)
		}
	default:
		v.add("controlPlane.vpc.albIngress", "%q is not a setting; use manual (you open the ALBs to the provider CIDRs yourself), or leave it out and list albSecurityGroupIds", cp.VPC.ALBIngress)
	}

	v.services(t)
	v.proxyless(t)

	// Provider regions: the networks joined to the cluster VPC must not overlap it or each other.
	type joined struct {
		path string
		net  netip.Prefix
	}
	var nets []joined
	if clusterOK {
		nets = append(nets, joined{"controlPlane.vpc.cidr", clusterNet})
	}
	seenRegion := map[string]string{}
	for i, r := range t.Regions {
		p := fmt.Sprintf("regions[%d]", i)
		if v.region(p+".region", r.Region) {
			if prev, dup := seenRegion[r.Region]; dup {
				v.add(p+".region", "%q is already the region of %s; give each region one entry", r.Region, prev)
			}
			seenRegion[r.Region] = p
			if t.InterRegion == Native && cp.Region != "" && r.Region != cp.Region {
				v.add(p+".region", "%q: in native mode the main region %s serves every region; remove this entry or use interRegion: peering or tgw", r.Region, cp.Region)
			}
		}
		if n, ok := v.vpcCIDR(p+".cidr", r.CIDR); ok {
			for _, o := range nets {
				if n.Overlaps(o.net) {
					v.add(p+".cidr", "%s overlaps %s (%s), a network it is joined to; pick a range that overlaps neither", r.CIDR, o.path, o.net)
				}
			}
			nets = append(nets, joined{p + ".cidr", n})
		}
		if v.zones(p+".availabilityZones", r.Region, r.AvailabilityZones, 2) {
			v.subnetCapacity(p+".cidr", t, r)
		}
		if r.ASN != 0 && !validASN(r.ASN) {
			v.add(p+".asn", "%d is not a private ASN; use 64512-65534 or 4200000000-4294967294", r.ASN)
		} else if r.ASN != 0 && t.InterRegion != TGW {
			v.warn(p+".asn", "a Transit Gateway's ASN, and only interRegion tgw has Transit Gateways")
		}
	}
	if t.InterRegion == TGW {
		v.asns(t)
	}
	if len(t.Regions) == 0 && !t.Proxyless() {
		v.add("regions", "is empty; add a provider VPC for the main region, such as - {region: %s, cidr: 10.100.0.0/24, availabilityZones: [...]}", orDefault(cp.Region, "eu-west-1"))
	}

	v.proxy(t.Proxy)
	v.images(t)
	v.monitoring(t.Monitoring)
	if m := t.Monitoring.MinHealthyHosts; m != nil && *m > t.Proxy.Min() && !t.Proxyless() {
		v.add("monitoring.minHealthyHosts", "%d is above proxy.minCapacity %d: the alarm would fire whenever the fleet is at its minimum; use %d or less", *m, t.Proxy.Min(), t.Proxy.Min())
	}

	seenConsumer := map[string]string{}
	for i, c := range t.Consumers {
		p := fmt.Sprintf("consumers[%d]", i)
		if !reLabel.MatchString(c.Name) || len(c.Name) > 40 {
			v.add(p+".name", "%q is not a valid consumer name; use 1-40 lower-case letters, digits and '-'", c.Name)
		} else if prev, dup := seenConsumer[c.Name]; dup {
			v.add(p+".name", "%q is already the name of %s; consumer names must be unique", c.Name, prev)
		} else {
			seenConsumer[c.Name] = p
		}
		v.account(p+".account", c.Account)
		if v.region(p+".region", c.Region) && len(t.Regions) > 0 {
			want := t.ProviderRegionFor(c.Region)
			if _, ok := seenRegion[want]; !ok && cp.Region != "" {
				v.add(p+".region", "%q has no provider: add a regions entry for %s (or use interRegion: native to serve it from %s)", c.Region, want, cp.Region)
			}
		}
		if !t.StackSetsEnabled() {
			v.consumerVPC(p+".vpc", c)
		}
		for j, a := range c.AllowedCIDRs {
			v.cidr(fmt.Sprintf("%s.allowedCidrs[%d]", p, j), a)
		}
		v.load(p+".gibPerDay", c.GibPerDay, "GiB per day its agents send")
		v.load(p+".requestsPerSecond", c.RequestsPerSecond, "requests per second its agents send")
		seenVPC := map[string]bool{c.VPC.ID: c.VPC.ID != ""}
		for j, id := range c.AssociatedVPCIDs {
			q := fmt.Sprintf("%s.associatedVpcIds[%d]", p, j)
			v.id(q, id, reVPC, "vpc-0123456789abcdef0")
			if seenVPC[id] {
				v.add(q, "%q is listed twice (or is the consumer's own VPC); list each other VPC once", id)
			}
			seenVPC[id] = true
		}
	}
	if len(t.Consumers) == 0 && len(t.ConsumerGroups) == 0 {
		v.add("consumers", "is empty; add at least one consumer VPC (name, account, region, vpc)")
	}
	v.stackSets(t)
	v.readerTrust(t)
}

// asns checks that every Transit Gateway (one per provider region, and the
// hub in the main region) has an ASN, and that no two share one.
func (v *validator) asns(t *Topology) {
	regions := []string{t.ControlPlane.Region}
	for _, r := range t.Regions {
		if r.Region != t.ControlPlane.Region {
			regions = append(regions, r.Region)
		}
	}
	seen := map[int64]string{}
	for _, region := range regions {
		if region == "" {
			continue
		}
		path := "regions"
		for i, r := range t.Regions {
			if r.Region == region {
				path = fmt.Sprintf("regions[%d].asn", i)
			}
		}
		asn := t.TransitGatewayASN(region)
		if asn == 0 {
			v.add(path, "%s has no default Transit Gateway ASN; set asn (64512-65534) on its regions entry", region)
			continue
		}
		if prev, dup := seen[asn]; dup {
			v.add(path, "ASN %d of %s is also the ASN of %s; give each Transit Gateway its own asn", asn, region, prev)
		}
		seen[asn] = region
	}
}

func validASN(a int64) bool {
	return (a >= 64512 && a <= 65534) || (a >= 4200000000 && a <= 4294967294)
}

func (v *validator) services(t *Topology) {
	services, proxyless := t.Services, t.Proxyless()
	if len(services) == 0 {
		v.add("services", "is empty; list the cluster's endpoints, such as - {name: metrics, upstream: metrics-alb-123.eu-west-1.elb.amazonaws.com}")
	}
	seen := map[string]string{}
	type user struct {
		path, proto string
		passthrough bool
	}
	ports := map[int]user{} // the first service on each port
	for i, s := range services {
		p := fmt.Sprintf("services[%d]", i)
		if !reLabel.MatchString(s.Name) {
			v.add(p+".name", "%q is not a DNS label; use lower-case letters, digits and '-' (agents reach it as <name>.<domain>)", s.Name)
		} else if prev, dup := seen[s.Name]; dup {
			v.add(p+".name", "%q is already the name of %s; service names must be unique", s.Name, prev)
		} else {
			seen[s.Name] = p
		}
		switch {
		case s.Upstream == "" && proxyless: // the NLB targets the ALB by its ARN
		case s.Upstream == "":
			v.add(p+".upstream", "is missing; give the DNS name of the service's ALB, such as internal-metrics-123.eu-west-1.elb.amazonaws.com")
		case strings.Contains(s.Upstream, "://") || strings.ContainsAny(s.Upstream, "/:"):
			v.add(p+".upstream", "%q is not a host name; give the bare DNS name of the ALB, without scheme, port or path", s.Upstream)
		case isIP(s.Upstream):
			v.add(p+".upstream", "%q is an IP address; ALB addresses change, give the ALB's DNS name", s.Upstream)
		case !validDomain(s.Upstream):
			v.add(p+".upstream", "%q is not a valid host name; use the ALB's DNS name", s.Upstream)
		}
		proto := s.Protocol
		switch proto {
		case "":
			proto = ProtocolHTTP
		case ProtocolHTTP, ProtocolGRPC:
		default:
			v.add(p+".protocol", "%q is not a protocol; use http or grpc", s.Protocol)
		}
		if proto == ProtocolGRPC && !s.UpstreamTLS {
			v.add(p+".protocol", "%q with upstreamTls false: an ALB speaks HTTP/2, and so gRPC, only on HTTPS listeners, so every gRPC request to it in cleartext fails; set upstreamTls: true and upstreamPort to the ALB's HTTPS listener port (usually 443)", s.Protocol)
		}
		v.port(p+".port", s.Port)
		v.port(p+".upstreamPort", s.UpstreamPort)
		port, pass := defaultPort(t, s), t.Passthrough(s)
		if port == HealthCheckPort && !proxyless {
			v.add(p+".port", "%d is the proxies' port for NLB health checks; pick another port", port)
		}
		prev, ok := ports[port]
		switch {
		case !ok:
			ports[port] = user{p, proto, pass}
		case proxyless: // proxyless checks ports on its own
		case prev.passthrough != pass:
			tls := map[bool]string{true: "TLS passed through", false: "HTTP"}
			v.add(p+".port", "%d is also the port of %s, whose agents speak %s, while this service's speak %s: the proxies take a port either for TLS passthrough (routed by SNI) or for HTTP (routed by Host); give the two services different ports", port, prev.path, tls[prev.passthrough], tls[pass])
		case prev.proto != proto && !pass:
			v.add(p+".port", "%d is already used by a %s service; http and grpc services need different ports (unless both use tls: passthrough, where SNI tells them apart)", port, prev.proto)
		}
	}
}

func (v *validator) proxy(p Proxy) {
	if p.InstanceType != "" && !reInstance.MatchString(p.InstanceType) {
		v.add("proxy.instanceType", "%q is not an EC2 instance type; use a name such as t4g.small or m7g.medium", p.InstanceType)
	}
	min, max := p.Min(), p.Max()
	if min < 1 {
		v.add("proxy.minCapacity", "%d: the fleet needs at least 1 proxy (2 or more for high availability)", min)
	}
	if max < 1 || max > 100 {
		v.add("proxy.maxCapacity", "%d is out of range; use 1 to 100", max)
	} else if max < min {
		v.add("proxy.maxCapacity", "%d is below minCapacity %d; raise maxCapacity or lower minCapacity", max, min)
	}
}

// monitoring checks the alarm settings.
func (v *validator) monitoring(m Monitoring) {
	if m.AlarmTopicArn != "" && !reTopicArn.MatchString(m.AlarmTopicArn) {
		v.add("monitoring.alarmTopicArn", "%q is not an SNS topic ARN; give one such as arn:aws:sns:eu-west-1:111111111111:obslink-alarms (each provider region uses its own region in place of the one given)", m.AlarmTopicArn)
	}
	for _, f := range []struct {
		path     string
		v        *int
		min, max int
	}{
		{"monitoring.minHealthyHosts", m.MinHealthyHosts, 1, 100},
		{"monitoring.targetResets", m.TargetResets, 1, 1000000},
		{"monitoring.cpuPercent", m.CPUPercent, 51, 100},
		{"monitoring.evaluationMinutes", m.EvaluationMinutes, 1, 60},
		{"monitoring.upstreamErrors", m.UpstreamErrors, 1, 1000000},
		{"monitoring.networkPercent", m.NetworkPercent, 1, 100},
		{"monitoring.networkBaselineMbps", m.NetworkBaselineMbps, 1, 400000},
	} {
		if f.v != nil && (*f.v < f.min || *f.v > f.max) {
			v.add(f.path, "%d is out of range; use %d to %d, or leave it out for the default", *f.v, f.min, f.max)
		}
	}
}

// images checks the proxy image settings: a source, a generation, and pins
// that name provider regions.
func (v *validator) images(t *Topology) {
	p := t.Proxy
	switch p.Image {
	case "", ImageCaptured, ImageLatest:
	default:
		v.add("proxy.image", "%q is not an image source; use captured (taken once, rolled by raising imageGeneration) or latest (re-resolved on every deploy)", p.Image)
	}
	if g := p.Generation(); g < 1 {
		v.add("proxy.imageGeneration", "%d: use a whole number from 1; raise it to roll the fleets onto the newest image", g)
	}
	if !p.Attribution() && p.ConsumerHeader != nil && *p.ConsumerHeader {
		v.add("proxy.consumerHeader", "is true with proxyProtocol: false; the proxies learn the consumer from the proxy protocol header, so turn proxyProtocol on or drop consumerHeader")
	}
	if p.Image == ImageLatest && len(p.ImageIDs) > 0 {
		v.add("proxy.imageIds", "is set with image: latest; pinned regions never take the latest image, so remove one of the two")
	}
	for _, region := range sortedKeys(p.ImageIDs) {
		path := "proxy.imageIds." + region
		if _, ok := t.Region(region); !ok && !t.Proxyless() { // ignored there
			v.add(path, "%q is not a provider region of this file; pin images only for regions listed in regions", region)
		}
		if id := p.ImageIDs[region]; !reAMI.MatchString(id) {
			v.add(path, "%q is not an image id; give the AMI of %s, such as ami-0123456789abcdef0", id, region)
		}
	}
}

func (v *validator) consumerVPC(p string, c Consumer) {
	vpc := c.VPC
	v.vpcCIDR(p+".cidr", vpc.CIDR)
	if vpc.Existing() {
		v.id(p+".id", vpc.ID, reVPC, "vpc-0123456789abcdef0")
		if len(vpc.SubnetIDs) == 0 {
			v.add(p+".subnetIds", "is missing; an existing VPC needs the subnets for the endpoint, one per entry of availabilityZones")
		}
		for i, s := range vpc.SubnetIDs {
			v.id(fmt.Sprintf("%s.subnetIds[%d]", p, i), s, reSubnet, "subnet-0123456789abcdef0")
		}
		if len(vpc.SubnetIDs) > 0 && len(vpc.SubnetIDs) != len(vpc.AvailabilityZones) {
			v.add(p+".availabilityZones", "has %d entries for %d subnetIds; give the zone of each subnet, in the same order", len(vpc.AvailabilityZones), len(vpc.SubnetIDs))
		}
		v.zones(p+".availabilityZones", c.Region, vpc.AvailabilityZones, 1)
		return
	}
	if len(vpc.SubnetIDs) > 0 {
		v.add(p+".subnetIds", "is set but vpc.id is not; set vpc.id to import an existing VPC, or remove subnetIds to create a new one")
	}
	v.zones(p+".availabilityZones", c.Region, vpc.AvailabilityZones, 1)
}

// maxLoad bounds a consumer's gibPerDay and requestsPerSecond: far above
// any one VPC's telemetry, low enough to catch a unit slip (bytes for GiB).
const maxLoad = 1e6

// load checks a consumer's optional load figure for obslink plan.
func (v *validator) load(path string, f *float64, what string) {
	if f == nil {
		return
	}
	if x := *f; math.IsNaN(x) || x < 0 || x > maxLoad {
		v.add(path, "%v is out of range; give the average %s, 0 to %.0f, or leave it out to share obslink plan's total evenly", x, what, maxLoad)
	}
}

func (v *validator) account(path, a string) {
	if v.reported[path] {
		return
	}
	if a == "" {
		v.add(path, "is missing; give the 12-digit AWS account id in quotes, such as \"111111111111\"")
	} else if !reAccount.MatchString(a) {
		v.add(path, "%q is not a 12-digit AWS account id; give all 12 digits in quotes, such as \"012345678901\"", a)
	}
}

func (v *validator) region(path, r string) bool {
	if r == "" {
		v.add(path, "is missing; give an AWS region name such as eu-west-1")
		return false
	}
	if !reRegion.MatchString(r) {
		v.add(path, "%q is not an AWS region name; use a name such as eu-west-1 or ap-southeast-2", r)
		return false
	}
	return true
}

func (v *validator) cidr(path, s string) (netip.Prefix, bool) {
	if s == "" {
		v.add(path, "is missing; give an IPv4 CIDR such as 10.0.0.0/16")
		return netip.Prefix{}, false
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		v.add(path, "%q is not an IPv4 CIDR; write it as a.b.c.d/n, such as 10.0.0.0/16", s)
		return netip.Prefix{}, false
	}
	if p.Masked() != p {
		v.add(path, "%q has host bits set; did you mean %s?", s, p.Masked())
		return netip.Prefix{}, false
	}
	return p, true
}

// vpcCIDR is a CIDR a VPC may have: /16 to /28.
func (v *validator) vpcCIDR(path, s string) (netip.Prefix, bool) {
	p, ok := v.cidr(path, s)
	if ok && (p.Bits() < 16 || p.Bits() > 28) {
		v.add(path, "%q: a VPC CIDR must be between /16 and /28", s)
		return p, false
	}
	return p, ok
}

func (v *validator) id(path, s string, re interface{ MatchString(string) bool }, example string) {
	if s == "" {
		v.add(path, "is missing; give the id, such as %s", example)
	} else if !re.MatchString(s) {
		v.add(path, "%q is not a valid id; it looks like %s", s, example)
	}
}

func (v *validator) port(path string, p int) {
	if p < 0 || p > 65535 {
		v.add(path, "%d is not a TCP port; use 1-65535 or leave it out for the default", p)
	}
}

func validDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for _, l := range strings.Split(d, ".") {
		if !reLabel.MatchString(strings.ToLower(l)) {
			return false
		}
	}
	return true
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// stackSets checks consumerDeployment and, with stacksets, what a
// service-managed StackSet needs: the organization and its root, consumers
// without vpc (it comes from SSM), allowedCidrs or associatedVpcIds, one
// consumer per account and region (a StackSet has one stack instance
// there), and consumer groups whose OUs each belong to one group.
func (v *validator) stackSets(t *Topology) {
	cp, s := t.ControlPlane, t.StackSets
	switch t.ConsumerDeployment {
	case "", DeployStacks:
		for _, f := range []struct {
			path string
			set  bool
		}{
			{"controlPlane.organizationRootId", cp.OrganizationRootID != ""},
			{"controlPlane.stackSetAdministrator", cp.StackSetAdministrator != ""},
			{"controlPlane.stackSetCallAs", cp.StackSetCallAs != ""},
			{"stackSets", s != (StackSets{})},
		} {
			if f.set {
				v.warn(f.path, "it applies to consumerDeployment stacksets only")
			}
		}
		if len(t.ConsumerGroups) > 0 { // ignoring them would leave their accounts unconnected
			v.add("consumerGroups", "applies to consumerDeployment: stacksets only, and with stacks their OUs' accounts would not be connected; set consumerDeployment: stacksets, or remove consumerGroups")
		}
		return
	case DeployStackSets:
	default:
		v.add("consumerDeployment", "%q is not a deployment; use stacks (a CDK stack per consumer) or stacksets (a service-managed CloudFormation StackSet)", t.ConsumerDeployment)
		return
	}
	if cp.OrganizationID == "" {
		v.add("controlPlane.organizationId", "is missing: consumerDeployment stacksets deploys to your organization's accounts with service-managed permissions; give the organization id (o-...)")
	}
	if cp.OrganizationRootID == "" {
		v.add("controlPlane.organizationRootId", "is missing: a service-managed StackSet targets named accounts within an OU, and obslink uses the organization root; give it (r-..., from `aws organizations list-roots`)")
	} else if !reRoot.MatchString(cp.OrganizationRootID) {
		v.add("controlPlane.organizationRootId", "%q is not an organization root id; it looks like r-ab12 (`aws organizations list-roots`)", cp.OrganizationRootID)
	}
	if cp.StackSetAdministrator != "" {
		v.account("controlPlane.stackSetAdministrator", cp.StackSetAdministrator)
	}
	switch cp.StackSetCallAs {
	case "", "DELEGATED_ADMIN", "SELF":
	default:
		v.add("controlPlane.stackSetCallAs", "%q is not a caller; use DELEGATED_ADMIN (a delegated administrator for StackSets) or SELF (the management account)", cp.StackSetCallAs)
	}
	switch s.RegionConcurrency {
	case "", "PARALLEL", "SEQUENTIAL":
	default:
		v.add("stackSets.regionConcurrency", "%q is not a concurrency; use PARALLEL or SEQUENTIAL", s.RegionConcurrency)
	}
	for _, f := range []struct {
		path string
		v    *int
		min  int
	}{{"stackSets.maxConcurrentPercentage", s.MaxConcurrentPercentage, 1}, {"stackSets.failureTolerancePercentage", s.FailureTolerancePercentage, 0}} {
		if f.v != nil && (*f.v < f.min || *f.v > 100) {
			v.add(f.path, "%d is out of range; use %d to 100, or leave it out for the default", *f.v, f.min)
		}
	}
	where := map[string]string{}
	for i, c := range t.Consumers {
		p := fmt.Sprintf("consumers[%d]", i)
		if c.VPC.ID != "" || c.VPC.CIDR != "" || len(c.VPC.SubnetIDs) > 0 || len(c.VPC.AvailabilityZones) > 0 {
			v.add(p+".vpc", "is set, but with consumerDeployment stacksets each account's VPC comes from the SSM parameters its baseline writes (%s, %s, %s): a StackSet takes one parameter set per OU, and named accounts share the organization root; remove vpc, or use consumerDeployment: stacks", DefaultVpcIDParameter, DefaultSubnetIDsParameter, DefaultCIDRParameter)
		}
		if len(c.AllowedCIDRs) > 0 {
			v.add(p+".allowedCidrs", "is not available with consumerDeployment stacksets (agents in the VPC's CIDR reach the endpoint); remove it, or use consumerDeployment: stacks")
		}
		if len(c.AssociatedVPCIDs) > 0 {
			v.add(p+".associatedVpcIds", "is not supported with consumerDeployment stacksets yet; associate the zone by hand, or use consumerDeployment: stacks")
		}
		if c.Account == t.ControlPlane.StackSetAccount() && t.ControlPlane.CallAs() == "SELF" {
			v.add(p+".account", "%q is the management account, where a service-managed StackSet deploys no stack instance; move the consumer to a member account", c.Account)
		}
		key := c.Account + " " + c.Region
		if prev, dup := where[key]; dup {
			v.add(p+".region", "%q: %s already has a consumer in account %s and this region, and a StackSet has one stack instance per account and region; merge the two VPCs' agents into one consumer (associatedVpcIds is not available here) or use consumerDeployment: stacks", c.Region, prev, c.Account)
		}
		where[key] = p
	}
	names := map[string]string{}
	for i, c := range t.Consumers {
		names[c.Name] = fmt.Sprintf("consumers[%d]", i)
	}
	ouGroup := map[string]string{}
	ops := map[string][]int{} // groups by SSM names and regions: one StackSet operation's OUs
	for i, g := range t.ConsumerGroups {
		p := fmt.Sprintf("consumerGroups[%d]", i)
		if !reLabel.MatchString(g.Name) || len(g.Name) > 40 {
			v.add(p+".name", "%q is not a valid group name; use 1-40 lower-case letters, digits and '-'", g.Name)
		} else if prev, dup := names[g.Name]; dup {
			v.add(p+".name", "%q is already the name of %s; consumer and group names must be unique", g.Name, prev)
		}
		names[g.Name] = p
		for j, ou := range g.OrganizationalUnitIDs {
			if prev, dup := ouGroup[ou]; dup {
				v.add(fmt.Sprintf("%s.organizationalUnitIds[%d]", p, j), "%q is already an OU of %s: its accounts would get two stack instances per region, two endpoints and two private zones of one name; list each OU in one group, with all its regions", ou, prev)
			}
			ouGroup[ou] = p
		}
		if len(g.OrganizationalUnitIDs) == 0 {
			v.add(p+".organizationalUnitIds", "is empty; list the OUs whose accounts connect, such as [ou-ab12-cdefgh34] (`aws organizations list-organizational-units-for-parent`)")
		}
		for j, ou := range g.OrganizationalUnitIDs {
			if !reOU.MatchString(ou) {
				v.add(fmt.Sprintf("%s.organizationalUnitIds[%d]", p, j), "%q is not an OU id; it looks like ou-ab12-cdefgh34 (the root is not a group target: it would connect every account)", ou)
			}
		}
		if len(g.Regions) == 0 {
			v.add(p+".regions", "is empty; list the regions where the OUs' accounts connect, such as [%s]", orDefault(cp.Region, "eu-west-1"))
		}
		seen := map[string]bool{}
		for j, r := range g.Regions {
			q := fmt.Sprintf("%s.regions[%d]", p, j)
			if !v.region(q, r) {
				continue
			}
			if seen[r] {
				v.add(q, "%q is listed twice; list each region once", r)
			}
			seen[r] = true
			if _, ok := t.Region(t.ProviderRegionFor(r)); !ok && len(t.Regions) > 0 {
				v.add(q, "%q has no provider: add a regions entry for %s (or use interRegion: native)", r, t.ProviderRegionFor(r))
			}
		}
		excluded := map[string]bool{}
		for j, a := range g.ExcludeAccounts {
			q := fmt.Sprintf("%s.excludeAccounts[%d]", p, j)
			v.account(q, a)
			if excluded[a] {
				v.add(q, "%q is listed twice; list each account once", a)
			}
			excluded[a] = true
			for k, c := range t.Consumers {
				if c.Account == a {
					v.add(q, "%q is also the account of consumers[%d] (%s), which the providers must accept; remove one of the two", a, k, c.Name)
				}
			}
		}
		if g.ExpectedAccounts < 0 {
			v.add(p+".expectedAccounts", "%d is negative; give how many accounts the OUs hold (for obslink plan), or leave it out", g.ExpectedAccounts)
		}
		if ops != nil {
			id, subnets, cidr := g.VPCParameters.Names()
			regions := append([]string(nil), g.Regions...)
			sort.Strings(regions)
			key := strings.Join([]string{id, subnets, cidr, strings.Join(regions, ",")}, "\n")
			prev := ops[key]
			ops[key] = append(prev, i)
			n := len(g.OrganizationalUnitIDs)
			for _, k := range prev {
				n += len(t.ConsumerGroups[k].OrganizationalUnitIDs)
			}
			if n > MaxOUsPerOperation {
				with := ""
				if len(prev) > 0 {
					var names []string
					for _, k := range prev {
						names = append(names, fmt.Sprintf("consumerGroups[%d]", k))
					}
					with = " with " + strings.Join(names, ", ") + " (same vpcParameters and regions: one StackSet, whose handler merges their OUs into one operation)"
				}
				v.add(p+".organizationalUnitIds", "lists %d OUs%s, %d in all: one StackSet operation takes at most %d OUs; target their parent OUs instead (a parent's accounts include its child OUs')", len(g.OrganizationalUnitIDs), with, n, MaxOUsPerOperation)
				ops = nil // once
			}
		}
		id, subnets, cidr := g.VPCParameters.Names()
		for _, f := range []struct{ path, name string }{{"vpcId", id}, {"subnetIds", subnets}, {"cidr", cidr}} {
			if !reSSMName.MatchString(f.name) {
				v.add(p+".vpcParameters."+f.path, "%q is not an SSM parameter name; give a path such as /obslink/%s (letters, digits, _.-/)", f.name, f.path)
			}
		}
	}
	v.sharedExclusions(t)
}

// sharedExclusions warns about a group whose excludeAccounts switches a
// StackSet it shares with other groups (the same vpcParameters: one
// StackSet) to account-level targeting: valid, but every OU and region of
// every group in it becomes its own operation.
func (v *validator) sharedExclusions(t *Topology) {
	set := func(g ConsumerGroup) string {
		id, subnets, cidr := g.VPCParameters.Names()
		return id + "\n" + subnets + "\n" + cidr
	}
	bySet := map[string][]int{}
	for i, g := range t.ConsumerGroups {
		bySet[set(g)] = append(bySet[set(g)], i)
	}
	for i, g := range t.ConsumerGroups {
		if len(g.ExcludeAccounts) == 0 {
			continue
		}
		var others []string
		for _, k := range bySet[set(g)] {
			if k != i {
				others = append(others, t.ConsumerGroups[k].Name)
			}
		}
		if len(others) == 0 {
			continue
		}
		v.caution(fmt.Sprintf("consumerGroups[%d].excludeAccounts", i), "makes the StackSet that %s shares with %s (the same vpcParameters) target accounts: "+
			"with AccountFilterType DIFFERENCE every OU and region of every group in it becomes an operation of its own, run one after another, "+
			"and an update re-runs them all (docs/modes/consumer-deployment.md); give %s vpcParameters names of its own "+
			"(a StackSet of its own), or accept the slower operations", g.Name, strings.Join(others, ", "), g.Name)
	}
}

// proxyless checks proxy.mode and, in proxy.mode none, what that mode needs
// (an NLB in the cluster VPC that forwards each service's port to its ALB)
// and the settings it would ignore, all named.
func (v *validator) proxyless(t *Topology) {
	switch t.Proxy.Mode {
	case "", ProxyModeNginx:
		for i, s := range t.Services {
			if s.ALBArn != "" {
				v.warn(fmt.Sprintf("services[%d].albArn", i), "with proxy.mode nginx the proxies reach the ALB by its DNS name (upstream)")
			}
			if s.HealthCheckPath != "" {
				v.warn(fmt.Sprintf("services[%d].healthCheckPath", i), "with proxy.mode nginx the NLB checks the proxies' own /healthz")
			}
		}
		if len(t.ControlPlane.VPC.AvailabilityZones) > 0 {
			v.warn("controlPlane.vpc.availabilityZones", "only proxy.mode none uses it (the zones of the NLB's subnets)")
		}
		return
	case ProxyModeNone:
	default:
		v.add("proxy.mode", "%q is not a mode; use nginx (a proxy fleet per provider region, the default) or none (the cluster VPC's NLB forwards to the ALBs directly)", t.Proxy.Mode)
		return
	}
	cp := t.ControlPlane
	if t.InterRegion != Native {
		v.add("proxy.mode", "none needs interRegion: native (consumers in every region reach the cluster VPC's endpoint service over cross-region PrivateLink); interRegion is %q", orDefault(string(t.InterRegion), string(DefaultInterRegion)))
	}
	if len(t.Regions) > 0 { // native: other regions than the main one are refused above
		v.warn("regions", "proxy.mode none creates no provider VPC: the endpoint service lives in the cluster VPC (controlPlane.vpc.subnetIds)")
	}
	if cp.ProviderAccount != "" && cp.ProviderAccount != cp.Account {
		v.add("controlPlane.providerAccount", "%q differs from controlPlane.account: in proxy.mode none the NLB targets the ALBs, which must be in its account and VPC; remove providerAccount", cp.ProviderAccount)
	}
	seenSubnet := map[string]string{}
	for i, id := range cp.VPC.SubnetIDs {
		p := fmt.Sprintf("controlPlane.vpc.subnetIds[%d]", i)
		if prev, dup := seenSubnet[id]; dup {
			v.add(p, "%q is also %s; give the NLB one subnet per zone", id, prev)
		}
		seenSubnet[id] = p
	}
	if len(cp.VPC.RouteTableIDs) > 0 {
		v.warn("controlPlane.vpc.routeTableIds", "proxy.mode none adds no routes (no provider VPC to reach)")
	}
	switch {
	case len(cp.VPC.SubnetIDs) < 2:
		v.add("controlPlane.vpc.subnetIds", "has %d subnet(s); proxy.mode none puts the endpoint service's NLB in the cluster VPC: list one subnet in each of at least 2 zones, the zones of the ALBs (same-region consumers can use only the NLB's zones)", len(cp.VPC.SubnetIDs))
	case len(cp.VPC.AvailabilityZones) != len(cp.VPC.SubnetIDs):
		v.add("controlPlane.vpc.availabilityZones", "has %d zone(s) for %d subnet(s); give each of controlPlane.vpc.subnetIds its zone, in the same order, such as [%sa, %sb]",
			len(cp.VPC.AvailabilityZones), len(cp.VPC.SubnetIDs), cp.Region, cp.Region)
	default:
		v.zones("controlPlane.vpc.availabilityZones", cp.Region, cp.VPC.AvailabilityZones, 2)
	}
	ports := map[int]string{}
	if n := len(t.Services); n > MaxProxylessServices {
		v.add("services", "lists %d services, but proxy.mode none registers each service's ALB in a target group of one NLB, and AWS counts an ALB target as 100 of the NLB's 500 targets per zone (cross-zone load balancing on): at most %d services; ask AWS to raise the quota \"Targets per Availability Zone per Network Load Balancer\" first, or use proxy.mode nginx", n, MaxProxylessServices)
	}
	for i, s := range t.Services {
		p := fmt.Sprintf("services[%d]", i)
		m := reALBArn.FindStringSubmatch(s.ALBArn)
		switch {
		case s.ALBArn == "":
			v.add(p+".albArn", "is missing; proxy.mode none registers each service's ALB in the NLB's target group: give its ARN, such as arn:aws:elasticloadbalancing:%s:%s:loadbalancer/app/metrics/0123456789abcdef", orDefault(cp.Region, "eu-west-1"), orDefault(cp.Account, "111111111111"))
		case m == nil:
			v.add(p+".albArn", "%q is not an Application Load Balancer ARN; use arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app/<name>/<id> (a Network Load Balancer cannot be a target)", s.ALBArn)
		case m[1] != cp.Region || m[2] != cp.Account:
			v.add(p+".albArn", "%q is in %s, account %s: an NLB can target only an ALB in its own VPC and account (%s, account %s); use the cluster's ALB", s.ALBArn, m[1], m[2], cp.Region, cp.Account)
		}
		if s.UpstreamPort == 0 {
			v.add(p+".upstreamPort", "is missing; in proxy.mode none the NLB's target group uses the port of an ALB listener that serves the service (AWS refuses a target group whose port no listener of the ALB has), such as 443 for an HTTPS listener")
		}
		port := defaultPort(t, s)
		if prev, ok := ports[port]; ok {
			v.add(p+".port", "%d is also %s's port: in proxy.mode none the NLB routes by port alone (it cannot read host names), so every service needs a port of its own", port, prev)
		} else {
			ports[port] = p
		}
		if s.Upstream != "" {
			v.warn(p+".upstream", "proxy.mode none reaches the ALB by albArn and never resolves it")
		}
		if s.HealthCheckPath != "" && !strings.HasPrefix(s.HealthCheckPath, "/") {
			v.add(p+".healthCheckPath", "%q is not a path; use one that starts with /, such as /health, which the ALB answers with 200-399 (a fixed-response rule does)", s.HealthCheckPath)
		}
		if s.UpstreamTLS && !t.Passthrough(s) {
			v.add(p+".upstreamTls", "is true, but in proxy.mode none agents reach the ALB listener themselves (the NLB opens nothing), so they must speak TLS to it: set tls: passthrough (or this service's tls) and give agents the CA of the ALB's certificate (see docs/modes/tls.md), or point upstreamPort at an HTTP listener and set upstreamTls: false")
		}
	}
	p := t.Proxy
	for _, f := range []struct {
		field string
		set   bool
	}{
		{"instanceType", p.InstanceType != ""}, {"minCapacity", p.MinCapacity != nil}, {"maxCapacity", p.MaxCapacity != nil},
		{"image", p.Image != ""}, {"imageGeneration", p.ImageGeneration != nil}, {"imageIds", len(p.ImageIDs) > 0},
	} {
		if f.set {
			v.warn("proxy."+f.field, "proxy.mode none runs no proxies")
		}
	}
	// The ALBs of HTTP services get X-Obslink-Consumer from the proxies;
	// without proxies they would silently stop getting it.
	headerAt := ""
	for i, s := range t.Services {
		if p.Header() && !t.Passthrough(s) && headerAt == "" {
			headerAt = fmt.Sprintf("services[%d] (%s)", i, s.Name)
		}
	}
	attribution := []struct {
		field string
		set   bool
	}{{"proxyProtocol", p.ProxyProtocol != nil}, {"consumerHeader", p.ConsumerHeader != nil}}
	for _, f := range attribution {
		switch {
		case !f.set:
		case headerAt != "":
			v.add("proxy."+f.field, "turns on X-Obslink-Consumer, which the proxies add for %s and whose ALB would stop getting it: proxy.mode none has no proxies, and an NLB sends no proxy protocol header to an ALB target; set proxy.consumerHeader: false if the ALBs do not need it, or keep proxy.mode nginx", headerAt)
			headerAt = "" // once
		default:
			v.warn("proxy."+f.field, "proxy.mode none has no proxies to attribute consumers, and an NLB sends no proxy protocol header to an ALB target")
		}
	}
	m := t.Monitoring
	for _, f := range []struct {
		field string
		set   bool
	}{{"cpuPercent", m.CPUPercent != nil}, {"upstreamErrors", m.UpstreamErrors != nil}, {"networkPercent", m.NetworkPercent != nil}, {"networkBaselineMbps", m.NetworkBaselineMbps != nil}} {
		if f.set {
			v.warn("monitoring."+f.field, "it watches the proxies, and proxy.mode none has none (no such alarm)")
		}
	}
	if m.MinHealthyHosts != nil && *m.MinHealthyHosts > 1 {
		v.add("monitoring.minHealthyHosts", "%d: in proxy.mode none each target group holds one ALB, so at most 1 can be healthy; use 1", *m.MinHealthyHosts)
	}
}

// defaultPort is the port a service gets after defaults: its own, 443
// with tls: passthrough, else 80 (http) or 4317 (grpc), as
// applyTLSDefaults and applyDefaults give it.
func defaultPort(t *Topology, s Service) int {
	switch {
	case s.Port != 0:
		return s.Port
	case t.Passthrough(s):
		return DefaultTLSPort
	case s.Protocol == ProtocolGRPC:
		return DefaultGRPCPort
	}
	return DefaultHTTPPort
}
