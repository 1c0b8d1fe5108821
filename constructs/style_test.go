package constructs_test

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/obslink/obslink/constructs/consumervpc"
	"github.com/obslink/obslink/constructs/endpointservice"
	"github.com/obslink/obslink/constructs/linkmonitor"
	"github.com/obslink/obslink/constructs/peeringlink"
	"github.com/obslink/obslink/constructs/providerregion"
	"github.com/obslink/obslink/constructs/proxyfleet"
	"github.com/obslink/obslink/constructs/proxyless"
	"github.com/obslink/obslink/constructs/stackset"
	"github.com/obslink/obslink/constructs/tgwmesh"
)

// TestPropsInTheStyleOfAwsCdk: every constructor takes (scope, id *string,
// props), and every field of the props and of the structs in them is what
// aws-cdk's Go props hold: a pointer (*string, *float64, *bool, *[]*T,
// *map, *Struct), an interface (awsec2.IVpc, ...), or an enum (a string
// type), nil meaning the default. So a value from aws-cdk (a token from
// alb.LoadBalancerDnsName(), a list from vpc.SelectSubnets) goes in as it
// is, and a literal the way aws-cdk takes one (jsii.String, jsii.Number).
func TestPropsInTheStyleOfAwsCdk(t *testing.T) {
	constructors := map[string]any{
		"consumervpc.New": consumervpc.New, "providerregion.New": providerregion.New, "proxyfleet.New": proxyfleet.New,
		"proxyless.New": proxyless.New, "peeringlink.New": peeringlink.New, "peeringlink.NewRoutes": peeringlink.NewRoutes,
		"linkmonitor.New": linkmonitor.New, "stackset.New": stackset.New, "tgwmesh.NewGateway": tgwmesh.NewGateway,
		"tgwmesh.NewVpcAttachment": tgwmesh.NewVpcAttachment, "tgwmesh.NewVpcRoutes": tgwmesh.NewVpcRoutes,
		"tgwmesh.NewPeering": tgwmesh.NewPeering, "tgwmesh.NewPeerRoutes": tgwmesh.NewPeerRoutes,
	}
	for name, ctor := range constructors {
		assert.Equal(t, reflect.TypeFor[*string](), reflect.TypeOf(ctor).In(1), "%s: the id is a *string, as in aws-cdk", name)
	}
	props := []any{
		consumervpc.Props{}, consumervpc.Service{}, endpointservice.Props{}, endpointservice.Admission{},
		linkmonitor.Props{}, linkmonitor.Thresholds{}, linkmonitor.TargetGroup{}, peeringlink.Props{}, peeringlink.RoutesProps{},
		providerregion.Props{}, proxyfleet.Props{}, proxyfleet.Route{}, proxyfleet.Consumer{}, proxyless.Props{}, proxyless.Service{},
		stackset.Props{}, stackset.Targets{}, tgwmesh.GatewayProps{}, tgwmesh.VpcAttachmentProps{}, tgwmesh.VpcRoutesProps{},
		tgwmesh.PeeringProps{}, tgwmesh.PeerRoutesProps{},
	}
	for _, p := range props {
		typ := reflect.TypeOf(p)
		for i := range typ.NumField() {
			f := typ.Field(i)
			switch k := f.Type.Kind(); {
			case k == reflect.Pointer && f.Type.Elem().Kind() == reflect.Slice:
				elem := f.Type.Elem().Elem().Kind()
				assert.True(t, elem == reflect.Pointer || elem == reflect.Interface, "%s.%s is %s: a list holds pointers or interfaces", typ, f.Name, f.Type)
			case k == reflect.Pointer, k == reflect.Interface:
			case k == reflect.String && f.Type.PkgPath() != "": // an enum
			default:
				t.Errorf("%s.%s is %s, not a pointer, an interface or an enum", typ, f.Name, f.Type)
			}
		}
	}
}
