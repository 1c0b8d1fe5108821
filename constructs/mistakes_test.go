package constructs_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/constructs/consumervpc"
	"github.com/obslink/obslink/constructs/linkmonitor"
	"github.com/obslink/obslink/constructs/peeringlink"
	"github.com/obslink/obslink/constructs/providerregion"
	"github.com/obslink/obslink/constructs/proxyfleet"
	"github.com/obslink/obslink/constructs/proxyless"
	"github.com/obslink/obslink/constructs/stackset"
	"github.com/obslink/obslink/constructs/tgwmesh"
)

// TestMistakesEndInAMessage: each mistake a user can make in props ends in
// a message naming the construct's path, the field and the value, never in
// a Go runtime error (nil dereference) or a bare parser error.
func TestMistakesEndInAMessage(t *testing.T) {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Team"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("eu-west-1")},
	})
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2), NatGateways: jsii.Number(0)})
	svc := "com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0"
	services := &[]*consumervpc.Service{{Name: jsii.String("metrics"), Port: jsii.Number(80)}}
	route := &[]*proxyfleet.Route{{Name: jsii.String("metrics"), Host: jsii.String("metrics.o.internal"), Port: jsii.Number(80), Upstream: jsii.String("m.elb.amazonaws.com"), UpstreamPort: jsii.Number(80)}}
	tests := []struct {
		name string
		do   func()
		want string
	}{
		{"NewRoutes nil props", func() { peeringlink.NewRoutes(stack, jsii.String("Routes"), nil) },
			`peeringlink.NewRoutes("Team/Routes"): props is nil`},
		{"NewVpcAttachment nil props", func() { tgwmesh.NewVpcAttachment(stack, jsii.String("Att"), nil) },
			`tgwmesh.NewVpcAttachment("Team/Att"): props is nil`},
		{"NewPeerRoutes nil props", func() { tgwmesh.NewPeerRoutes(stack, jsii.String("PeerRoutes"), nil) },
			`tgwmesh.NewPeerRoutes("Team/PeerRoutes"): props is nil`},
		{"empty service name", func() {
			consumervpc.New(stack, jsii.String("C1"), &consumervpc.Props{Vpc: vpc, ServiceName: jsii.String(""), Domain: jsii.String("o.internal"), Services: services})
		}, `consumervpc.New("Team/C1"): props.ServiceName is empty`},
		{"malformed service name", func() {
			consumervpc.New(stack, jsii.String("C2"), &consumervpc.Props{Vpc: vpc, ServiceName: jsii.String("vpce-svc-1"), Domain: jsii.String("o.internal"), Services: services})
		}, `props.ServiceName "vpce-svc-1" is not an endpoint service name`},
		{"service name not a label", func() {
			consumervpc.New(stack, jsii.String("C3"), &consumervpc.Props{Vpc: vpc, ServiceName: jsii.String(svc), Domain: jsii.String("o.internal"),
				Services: &[]*consumervpc.Service{{Name: jsii.String("Metrics V2"), Port: jsii.Number(80)}}})
		}, `props.Services[0].Name "Metrics V2" is not a DNS label`},
		{"bad CIDR of a new VPC", func() {
			consumervpc.New(stack, jsii.String("C4"), &consumervpc.Props{Cidr: jsii.String("300.0.0.0/16"), AvailabilityZones: jsii.Strings("eu-west-1a"),
				ServiceName: jsii.String(svc), Domain: jsii.String("o.internal"), Services: services})
		}, `consumervpc.New("Team/C4"): props.Cidr "300.0.0.0/16" is not an IPv4 CIDR`},
		{"bad allowed CIDR", func() {
			consumervpc.New(stack, jsii.String("C5"), &consumervpc.Props{Vpc: vpc, ServiceName: jsii.String(svc), Domain: jsii.String("o.internal"), Services: services,
				AllowedCidrs: jsii.Strings("10.0.0.1/16")})
		}, `props.AllowedCidrs[0] "10.0.0.1/16" has host bits set; write it as 10.0.0.0/16`},
		{"peer CIDR out of range", func() {
			peeringlink.New(stack, jsii.String("Peering"), &peeringlink.Props{Vpc: vpc, PeerVpcID: jsii.String("vpc-0123456789abcdef0"), PeerCidr: jsii.String("300.0.0.0/16")})
		}, `peeringlink.New("Team/Peering"): props.PeerCidr "300.0.0.0/16" is not an IPv4 CIDR`},
		{"tgw CIDR garbage", func() {
			tgwmesh.NewPeerRoutes(stack, jsii.String("PeerRoutes2"), &tgwmesh.PeerRoutesProps{RouteTableID: jsii.String("tgw-rtb-1"), AttachmentID: jsii.String("tgw-attach-1"), Cidrs: jsii.Strings("garbage")})
		}, `tgwmesh.NewPeerRoutes("Team/PeerRoutes2"): props.Cidrs[0] "garbage" is not an IPv4 CIDR`},
		{"ASN 1", func() { tgwmesh.NewGateway(stack, jsii.String("Gw"), &tgwmesh.GatewayProps{ASN: jsii.Number(1)}) },
			`tgwmesh.NewGateway("Team/Gw"): props.ASN 1 is not a private ASN`},
		{"peering without account", func() {
			tgwmesh.NewPeering(stack, jsii.String("P"), &tgwmesh.PeeringProps{PeerRegion: jsii.String("us-east-1")})
		}, `props.Local is nil; give the spoke's Gateway; props.PeerTransitGatewayID is empty; give the hub gateway's id (tgw-...); props.PeerAccount "" is not a 12-digit account id`},
		{"fleet without props", func() { proxyfleet.New(stack, jsii.String("Fleet"), nil) }, `proxyfleet.New("Team/Fleet"): props is nil`},
		{"region without props", func() { providerregion.New(stack, jsii.String("Region"), nil) }, `providerregion.New("Team/Region"): props is nil`},
		{"region with a bad CIDR", func() {
			providerregion.New(stack, jsii.String("Region"), &providerregion.Props{Cidr: jsii.String("10.0.0/24"), AvailabilityZones: jsii.Strings("eu-west-1a"), Routes: route,
				UpstreamCidrs: jsii.Strings("10.9.0.0/16")})
		}, `providerregion.New("Team/Region"): props.Cidr "10.0.0/24" is not an IPv4 CIDR`},
		{"proxyless without props", func() { proxyless.New(stack, jsii.String("Proxyless"), nil) }, `proxyless.New("Team/Proxyless"): props is nil`},
		{"monitor without props", func() { linkmonitor.New(stack, jsii.String("Monitor"), nil) }, `linkmonitor.New("Team/Monitor"): props is nil`},
		{"stackset name", func() {
			stackset.New(stack, jsii.String("Set"), &stackset.Props{StackSetName: jsii.String("my set"), TemplateBody: jsii.String("{}")})
		},
			`stackset.New("Team/Set"): props.StackSetName "my set": use letters, digits and hyphens`},
		{"nil scope", func() { tgwmesh.NewGateway(nil, jsii.String("Gw"), &tgwmesh.GatewayProps{ASN: jsii.Number(64512)}) },
			`tgwmesh.NewGateway("Gw"): scope is nil`},
		{"nil id", func() { tgwmesh.NewGateway(stack, nil, &tgwmesh.GatewayProps{ASN: jsii.Number(64512)}) },
			`tgwmesh.NewGateway("Team/"): id is empty; give the construct an id, such as jsii.String("Obslink")`},
		{"nil element of a list", func() {
			consumervpc.New(stack, jsii.String("C6"), &consumervpc.Props{Vpc: vpc, ServiceName: jsii.String(svc), Domain: jsii.String("o.internal"), Services: services,
				AssociatedVpcs: &[]awsec2.IVpc{nil}, AllowedCidrs: &[]*string{nil}})
		}, `props.AllowedCidrs[0] is nil; give a value or leave the element out; props.AssociatedVpcs[0] is nil; give the VPC or leave the element out`},
		{"nil route table id", func() {
			peeringlink.NewRoutes(stack, jsii.String("Routes2"), &peeringlink.RoutesProps{RouteTableIDs: &[]*string{nil},
				DestinationCidr: jsii.String("10.0.0.0/16"), PeeringConnectionID: jsii.String("pcx-1")})
		}, `peeringlink.NewRoutes("Team/Routes2"): props.RouteTableIDs[0] is nil`},
		{"a fraction for a port", func() {
			proxyfleet.New(stack, jsii.String("Fleet2"), &proxyfleet.Props{Vpc: vpc, UpstreamCidrs: jsii.Strings("10.9.0.0/16"), Routes: &[]*proxyfleet.Route{{
				Name: jsii.String("m"), Host: jsii.String("m.o.internal"), Port: jsii.Number(80.5), Upstream: jsii.String("m.elb.amazonaws.com"), UpstreamPort: jsii.Number(80)}}})
		}, `proxyfleet.New("Team/Fleet2"): props.Routes[0].Port 80.5 is not a whole number`},
		{"a token for a host", func() {
			proxyfleet.New(stack, jsii.String("Fleet3"), &proxyfleet.Props{Vpc: vpc, InstanceType: jsii.String("large"), Routes: &[]*proxyfleet.Route{{
				Host: vpc.VpcId(), Port: jsii.Number(80), Upstream: jsii.String("m.elb.amazonaws.com"), UpstreamPort: jsii.Number(80)}}})
		}, `props.Routes[0].Host is ${Token[TOKEN.`},
		{"every mistake in a fleet at once", func() {
			proxyfleet.New(stack, jsii.String("Fleet4"), &proxyfleet.Props{Vpc: vpc, InstanceType: jsii.String("large"), Routes: &[]*proxyfleet.Route{{
				Host: vpc.VpcId(), Port: jsii.Number(80), Upstream: jsii.String("m.elb.amazonaws.com"), UpstreamPort: jsii.Number(80)}}})
		}, `props.Routes[0].Name is empty; give the service's name, a DNS label such as metrics; props.UpstreamCidrs is empty; ` +
			`give the CIDR of the cluster's VPC (only routes with an Alb need none); props.InstanceType "large" is not an EC2 instance type; write it as t4g.small`},
		{"admission without a role name", func() {
			providerregion.New(stack, jsii.String("Region2"), &providerregion.Props{Vpc: vpc, Routes: route, UpstreamCidrs: jsii.Strings("10.9.0.0/16"),
				Admission: &providerregion.Admission{OrganizationalUnitIDs: jsii.Strings("ou-ab12-cdefgh34")}})
		}, `endpointservice.Publish("Team/Region2"): props.Admission.RoleName is empty; name the admission function's role (the organization reader role trusts it); ` +
			`props.Admission.OrganizationReaderRoleArn is empty; give the role that may read AWS Organizations (it admits by OU)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got any
			func() {
				defer func() { got = recover() }()
				tt.do()
			}()
			require.NotNil(t, got, "no panic")
			_, runtimeErr := got.(runtime.Error)
			assert.False(t, runtimeErr, "a Go runtime error: %v", got)
			assert.Contains(t, fmt.Sprint(got), tt.want)
		})
	}
}
