package stackset_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/constructs/stackset"
)

// A baseline StackSet: every account of one OU, in two regions, including
// accounts that join the OU later; one account of another OU gets an
// override.
func ExampleNew() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Admin"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("444444444444"), Region: jsii.String("eu-west-1")},
	})
	s := stackset.New(stack, jsii.String("Baseline"), &stackset.Props{
		StackSetName:   jsii.String("baseline"),
		TemplateBody:   jsii.String(`{"Parameters":{"Tier":{"Type":"String","Default":"dev"}},"Resources":{"Topic":{"Type":"AWS::SNS::Topic"}}}`),
		AutoDeployment: jsii.Bool(true),
		Instances: &[]*stackset.Targets{
			{OrganizationalUnitIDs: jsii.Strings("ou-ab12-cdefgh34"), Regions: jsii.Strings("eu-west-1", "us-east-1")},
			{OrganizationalUnitIDs: jsii.Strings("ou-ab12-ijklmn56"), Accounts: jsii.Strings("222222222222"), Regions: jsii.Strings("eu-west-1"),
				Overrides: &map[string]*string{"Tier": jsii.String("prod")}},
		},
	})
	fmt.Println(*s.Resource().PermissionModel(), *s.Resource().CallAs())
	// Output:
	// SERVICE_MANAGED DELEGATED_ADMIN
}
