"""Tests of admit_connections.py against moto's EC2, STS and Organizations
APIs on 127.0.0.1 (moto_ec2.py): an organization with two OUs (one nested),
accounts in and out of them, an account outside the organization, and
endpoints pending acceptance from each.
Run: python3 -m unittest discover -s assets/endpoints"""
import json
import os
import unittest

import moto_ec2
from moto_ec2 import REGION, client, connect, endpoint_service, pending

import admit_connections as ac

ORG = {}


def setUpModule():
    url = moto_ec2.start()
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION, "OBSLINK_ENDPOINT": url,
                       "ORG_ROLE": "arn:aws:iam::123456789012:role/obsset-org-reader"})
    # The organization, from its management account (moto's default account).
    orgs = client("organizations")
    orgs.create_organization(FeatureSet="ALL")
    root = orgs.list_roots()["Roots"][0]["Id"]
    teams = orgs.create_organizational_unit(ParentId=root, Name="teams")["OrganizationalUnit"]["Id"]
    nested = orgs.create_organizational_unit(ParentId=teams, Name="payments")["OrganizationalUnit"]["Id"]
    sandbox = orgs.create_organizational_unit(ParentId=root, Name="sandbox")["OrganizationalUnit"]["Id"]

    def account(name, parent):
        status = orgs.create_account(Email=name + "@example.com", AccountName=name)["CreateAccountStatus"]
        acct = status["AccountId"]
        orgs.move_account(AccountId=acct, SourceParentId=root, DestinationParentId=parent)
        return acct
    ORG.update(root=root, teams=teams, nested=nested, sandbox=sandbox,
               team=account("team", teams), deep=account("deep", nested), sand=account("sand", sandbox))


def tearDownModule():
    moto_ec2.stop()


def states(service):
    return {c["VpcEndpointId"]: c["VpcEndpointState"] for c in client("ec2").describe_vpc_endpoint_connections(
        Filters=[{"Name": "service-id", "Values": [service["ServiceId"]]}])["VpcEndpointConnections"]}


def requested(account, svc):
    ep = connect(account, svc)
    pending(ep)
    return ep


class AdmitTest(unittest.TestCase):
    def test_ou_members_and_named_accounts_are_accepted_strangers_rejected(self):
        svc = endpoint_service()
        team, deep, sand = requested(ORG["team"], svc), requested(ORG["deep"], svc), requested(ORG["sand"], svc)
        named = requested("222222222222", svc)      # a named consumer (not in the organization here)
        stranger = requested("999999999999", svc)  # outside the organization
        accepted, rejected = ac.reconcile(svc["ServiceId"], {"222222222222"}, {ORG["teams"]})
        self.assertEqual(accepted, sorted([team, deep, named]), "the OU, its child OU, and the named account")
        self.assertEqual(rejected, sorted([sand, stranger]), "another OU, and an account outside the organization")
        got = states(svc)
        self.assertEqual({got[i] for i in (team, deep, named)}, {"available"})
        self.assertEqual({got[i] for i in (sand, stranger)}, {"rejected"})

    def test_an_account_no_longer_named_is_rejected(self):
        svc = endpoint_service()
        ep = requested(ORG["sand"], svc)
        ac.reconcile(svc["ServiceId"], {ORG["sand"]}, set())  # named: accepted
        self.assertEqual(states(svc)[ep], "available")
        accepted, rejected = ac.reconcile(svc["ServiceId"], set(), {ORG["teams"]})  # no longer named, not in the OU
        self.assertEqual((accepted, rejected), ([], [ep]))
        self.assertEqual(states(svc)[ep], "rejected")

    def test_an_account_that_left_the_ou_is_rejected(self):
        orgs = client("organizations")
        mover = orgs.create_account(Email="mover@example.com", AccountName="mover")["CreateAccountStatus"]["AccountId"]
        orgs.move_account(AccountId=mover, SourceParentId=ORG["root"], DestinationParentId=ORG["teams"])
        svc = endpoint_service()
        ep = requested(mover, svc)
        self.assertEqual(ac.reconcile(svc["ServiceId"], set(), {ORG["teams"]}), ([ep], []))
        orgs.move_account(AccountId=mover, SourceParentId=ORG["teams"], DestinationParentId=ORG["sandbox"])
        # The schedule's next run (same code path) closes it.
        self.assertEqual(ac.reconcile(svc["ServiceId"], set(), {ORG["teams"]}), ([], [ep]))
        self.assertEqual(states(svc)[ep], "rejected")

    def test_unreadable_organization_rejects_no_one(self):
        svc = endpoint_service()
        named, member = requested("222222222222", svc), requested(ORG["team"], svc)

        class Denied:
            def get_paginator(self, _):
                raise RuntimeError("AccessDenied")
        accepted, rejected = ac.reconcile(svc["ServiceId"], {"222222222222"}, {ORG["teams"]}, orgs=Denied())
        self.assertEqual((accepted, rejected), ([named], []), "named accounts get in; nobody is rejected on an error")
        self.assertEqual(states(svc)[member], "pendingAcceptance", "left for the next run")

    def test_an_excluded_account_in_the_ou_is_rejected(self):
        # excludeAccounts: the account stays in its OU; its endpoint is
        # closed, also while the organization cannot be read.
        svc = endpoint_service()
        team, deep = requested(ORG["team"], svc), requested(ORG["deep"], svc)
        self.assertEqual(ac.reconcile(svc["ServiceId"], set(), {ORG["teams"]}, {ORG["deep"]}), ([team], [deep]))
        self.assertEqual(states(svc), {team: "available", deep: "rejected"})

        svc = endpoint_service()
        deep = requested(ORG["deep"], svc)

        class Denied:
            def get_paginator(self, _):
                raise RuntimeError("AccessDenied")
        self.assertEqual(ac.reconcile(svc["ServiceId"], set(), {ORG["teams"]}, {ORG["deep"]}, orgs=Denied()), ([], [deep]))

    def test_custom_resource_passes_the_excluded_accounts(self):
        self.assertEqual(ac.settings({"ServiceId": "vpce-svc-1", "OrganizationalUnitIds": ["ou-a"], "ExcludedAccounts": ["1"]}),
                         ("vpce-svc-1", set(), {"ou-a"}, {"1"}))

    def test_sns_notification_reads_the_environment(self):
        svc = endpoint_service()
        ok, bad = requested(ORG["team"], svc), requested(ORG["sand"], svc)
        os.environ.update({"SERVICE_ID": svc["ServiceId"], "ALLOWED": "", "OUS": ORG["teams"]})
        event = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps({"endpointState": "pendingAcceptance"})}}]}
        self.assertEqual(ac.handler(event, None), [bad])
        self.assertEqual(states(svc), {ok: "available", bad: "rejected"})

    def test_without_ous_no_organization_call(self):
        # Named accounts only: the Organizations role is never assumed.
        svc = endpoint_service()
        ep = requested("222222222222", svc)

        class NoOrg:
            def __getattr__(self, _):
                raise AssertionError("Organizations was called")
        self.assertEqual(ac.reconcile(svc["ServiceId"], {"222222222222"}, set(), orgs=NoOrg()), ([ep], []))

    def test_custom_resource_delete_does_nothing(self):
        svc = endpoint_service()
        ep = requested(ORG["team"], svc)
        sent = {}

        class Recorder:
            def __call__(self, req, timeout):
                sent["body"] = req.data
                return self

            def read(self):
                return b""
        real, ac.urllib.request.urlopen = ac.urllib.request.urlopen, Recorder()
        try:
            body = ac.handler({"RequestType": "Delete", "ResourceProperties": {"ServiceId": svc["ServiceId"]},
                               "StackId": "s", "RequestId": "r", "LogicalResourceId": "l", "ResponseURL": "http://127.0.0.1:1/x"}, None)
        finally:
            ac.urllib.request.urlopen = real
        self.assertEqual(body["Status"], "SUCCESS")
        self.assertIn(b'"Status": "SUCCESS"', sent["body"])
        self.assertEqual(states(svc)[ep], "pendingAcceptance", "delete leaves connections to the revocation resource")


if __name__ == "__main__":
    unittest.main()
