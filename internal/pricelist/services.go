package pricelist

import (
	"strings"

	"github.com/obslink/obslink/internal/burstable"
	"github.com/obslink/obslink/internal/plan"
)

// service is an offer obslink reads, and how its products map to the
// items of plan's price table. Offer codes, product families, attribute
// names and usage types as AWS's offer files write them (see
// testdata/README.md for where each is documented).
type service struct {
	code string
	// global: one offer file for every region (currentVersionUrl), its
	// prices under plan.RegionGlobal; else one per region.
	global bool
	// selector maps a product of the service's file for region to the
	// item its price is.
	selector func(region string) func(product) (target, bool)
}

// services are the offers plan's items come from.
func services() []service {
	return []service{
		{code: "AmazonVPC", selector: vpc},
		{code: "AWSELB", selector: elb},
		{code: "AmazonEC2", selector: ec2},
		{code: "AmazonCloudWatch", selector: cloudWatch},
		{code: "AWSDataTransfer", selector: dataTransfer},
		{code: "AmazonRoute53", global: true, selector: route53},
	}
}

// itemInfo is each item's unit and how refresh picks its product.
var itemInfo = map[string]struct{ unit, how string }{
	plan.ItemEndpointHour:  {"USD per interface endpoint per Availability Zone per hour", "usage type VpcEndpoint-Hours"},
	plan.ItemEndpointGB:    {"USD per GB processed by interface endpoints (first tier: the first 1 PB a month in a region)", "usage type VpcEndpoint-Bytes, first tier"},
	plan.ItemNLBHour:       {"USD per Network Load Balancer per hour", "usage type LoadBalancerUsage, operation LoadBalancing:Network"},
	plan.ItemNLCUHour:      {"USD per NLCU-hour (TCP; 1 NLCU = 800 new connections/s, 100,000 active flows, or 1 GB processed an hour)", "usage type LCUUsage, operation LoadBalancing:Network"},
	plan.ItemTGWAttachment: {"USD per Transit Gateway attachment (VPC or peering) per hour; a peering attachment is billed on both gateways", "usage type TransitGateway-Hours, operation TransitGatewayVPC"},
	plan.ItemTGWGB:         {"USD per GB sent from a VPC attachment into a Transit Gateway; none for data from a peering attachment", "usage type TransitGateway-Bytes, operation TransitGatewayVPC"},
	plan.ItemInterRegionGB: {"USD per GB sent to another AWS region, billed in the sending region (first tier); pairs override the sending region's figure", "transferType InterRegion Outbound, by fromRegionCode and toRegionCode: each region's most common figure, pairs for the other destinations"},
	plan.ItemCrossZoneGB:   {"USD per GB between Availability Zones of one region, in each direction: billed out of the sending zone and again into the receiving one, so a GB that changes zone costs twice this", "transferType IntraRegion, usage type DataTransfer-Regional-Bytes"},
	plan.ItemLogsIngestGB:  {"USD per GB (10^9 bytes) of log events ingested into a Standard-class log group", "usage type DataProcessing-Bytes, first tier"},
	plan.ItemGP3:           {"USD per GB-month of gp3 storage (3,000 IOPS and 125 MB/s included)", "product family Storage, volumeApiName gp3, usage type EBS:VolumeUsage.gp3"},
	plan.ItemZoneMonth:     {"USD per hosted zone per month (first tier: the first 25 zones of an account)", "usage type HostedZone, first tier"},
}

// ec2Info and surplusInfo are the unit and selection of the per-type and
// per-family items.
var (
	ec2Info     = struct{ unit, how string }{"USD per instance-hour (on-demand, Linux)", "product family Compute Instance, Linux, Shared tenancy, no pre-installed software, capacity status Used, operation RunInstances, usage type BoxUsage:TYPE"}
	surplusInfo = struct{ unit, how string }{"USD per vCPU-hour of surplus CPU credits an instance of the family in unlimited mode (its default) is charged for, Linux", "product family CPU Credits, Linux, usage type CPUCredits:FAMILY"}
)

// info is item's unit and how refresh picks its product.
func info(item string) (unit, how string) {
	if i, ok := itemInfo[item]; ok {
		return i.unit, i.how
	}
	if family, ok := strings.CutPrefix(item, "burstable."); ok {
		family, _, _ = strings.Cut(family, ".")
		return surplusInfo.unit, strings.ReplaceAll(surplusInfo.how, "FAMILY", family)
	}
	return ec2Info.unit, strings.ReplaceAll(ec2Info.how, "TYPE", strings.TrimPrefix(item, "ec2."))
}

// expected lists every item refresh looks for, the per-region ones and
// the global ones.
func expected() (regional, global []string) {
	for item := range itemInfo {
		if item != plan.ItemZoneMonth {
			regional = append(regional, item)
		}
	}
	for _, t := range burstable.Types() {
		regional = append(regional, plan.ItemEC2(t))
	}
	for _, f := range burstable.Families() {
		regional = append(regional, plan.ItemSurplus(f))
	}
	return regional, []string{plan.ItemZoneMonth}
}

// inRegion reports whether a product is priced in region itself (not in
// a Local Zone, Wavelength zone or Outpost of it).
func inRegion(p product, region string) bool {
	if p.Attributes["locationType"] != "AWS Region" {
		return false
	}
	code, ok := p.Attributes["regionCode"]
	return !ok || code == region
}

func vpc(region string) func(product) (target, bool) {
	return func(p product) (target, bool) {
		if !inRegion(p, region) {
			return target{}, false
		}
		op := p.Attributes["operation"]
		item := ""
		switch usageBase(p.Attributes["usagetype"], region) {
		case "VpcEndpoint-Hours":
			item = plan.ItemEndpointHour
		case "VpcEndpoint-Bytes":
			item = plan.ItemEndpointGB
		case "TransitGateway-Hours":
			if op == "TransitGatewayVPC" {
				item = plan.ItemTGWAttachment
			}
		case "TransitGateway-Bytes":
			if op == "TransitGatewayVPC" {
				item = plan.ItemTGWGB
			}
		}
		return target{item: item, region: region}, item != ""
	}
}

func elb(region string) func(product) (target, bool) {
	return func(p product) (target, bool) {
		if !inRegion(p, region) || p.Attributes["operation"] != "LoadBalancing:Network" {
			return target{}, false
		}
		item := ""
		switch usageBase(p.Attributes["usagetype"], region) {
		case "LoadBalancerUsage":
			item = plan.ItemNLBHour
		case "LCUUsage":
			item = plan.ItemNLCUHour
		}
		return target{item: item, region: region}, item != ""
	}
}

func ec2(region string) func(product) (target, bool) {
	types := map[string]bool{}
	for _, t := range burstable.Types() {
		types[t] = true
	}
	families := map[string]bool{}
	for _, f := range burstable.Families() {
		families[f] = true
	}
	return func(p product) (target, bool) {
		if !inRegion(p, region) {
			return target{}, false
		}
		a := p.Attributes
		base := usageBase(a["usagetype"], region)
		item := ""
		switch p.ProductFamily {
		case "Compute Instance":
			t := a["instanceType"]
			if types[t] && base == "BoxUsage:"+t && a["operatingSystem"] == "Linux" && a["tenancy"] == "Shared" &&
				a["preInstalledSw"] == "NA" && a["capacitystatus"] == "Used" && a["operation"] == "RunInstances" {
				item = plan.ItemEC2(t)
			}
		case "Storage":
			if a["volumeApiName"] == "gp3" && base == "EBS:VolumeUsage.gp3" {
				item = plan.ItemGP3
			}
		case "CPU Credits":
			if f, ok := strings.CutPrefix(base, "CPUCredits:"); ok && families[f] && a["operatingSystem"] == "Linux" {
				item = plan.ItemSurplus(f)
			}
		}
		return target{item: item, region: region}, item != ""
	}
}

func cloudWatch(region string) func(product) (target, bool) {
	return func(p product) (target, bool) {
		ok := inRegion(p, region) && usageBase(p.Attributes["usagetype"], region) == "DataProcessing-Bytes"
		return target{item: plan.ItemLogsIngestGB, region: region}, ok
	}
}

func dataTransfer(region string) func(product) (target, bool) {
	return func(p product) (target, bool) {
		a := p.Attributes
		if p.ProductFamily != "Data Transfer" || a["fromRegionCode"] != region {
			return target{}, false
		}
		switch a["transferType"] {
		case "InterRegion Outbound":
			to := a["toRegionCode"]
			ok := a["toLocationType"] == "AWS Region" && to != region && commercial(to)
			return target{item: plan.ItemInterRegionGB, region: region, to: to}, ok
		case "IntraRegion":
			ok := a["toRegionCode"] == region && usageBase(a["usagetype"], region) == "DataTransfer-Regional-Bytes"
			return target{item: plan.ItemCrossZoneGB, region: region}, ok
		}
		return target{}, false
	}
}

func route53(string) func(product) (target, bool) {
	return func(p product) (target, bool) {
		ok := p.ProductFamily == "DNS Zone" && p.Attributes["usagetype"] == "HostedZone"
		return target{item: plan.ItemZoneMonth, region: plan.RegionGlobal}, ok
	}
}

// commercial reports whether region is one of AWS's commercial regions
// (an offer's region index also lists GovCloud's).
func commercial(region string) bool {
	parts := strings.Split(region, "-")
	if len(parts) != 3 || strings.HasPrefix(region, "us-gov-") || strings.HasPrefix(region, "us-iso") || parts[0] == "cn" {
		return false
	}
	for _, c := range parts[2] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return parts[2] != ""
}
