"""Tests of assets/nginx/obslink-consumers.sh, the proxies' map of VPC
endpoint ids to consumer names, run as the instances run it (bash, awk and
the AWS CLI) against moto's SSM and EC2 APIs on 127.0.0.1 (moto_ec2.py),
with consumers' endpoints in several accounts and regions.

When OBSLINK_TEST_CONSUMER_MAP is set (constructs/proxyfleet's
TestConsumersScriptOnRealNginx does), one test writes that map with real
nginx's -t and reload commands (OBSLINK_TEST_NGINX_TEST, OBSLINK_TEST_RELOAD)
and leaves {endpoint id: expected name} in OBSLINK_TEST_RESULT, for the Go
test to send requests through nginx.
Run: python3 -m unittest discover -s assets/endpoints"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import moto_ec2
from moto_ec2 import REGION, client, connect, endpoint_service

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "nginx", "obslink-consumers.sh")
PATH = "/obslink/obslink-provider-eu-west-1/consumers"


def setUpModule():
    if shutil.which("aws") is None:
        msg = "the AWS CLI is not installed (it comes with this machine image's Python)"
        if os.environ.get("OBSLINK_REQUIRE_ALL") == "1":
            raise RuntimeError(msg + "; OBSLINK_REQUIRE_ALL=1 forbids skipping")
        raise unittest.SkipTest(msg)
    url = moto_ec2.start()
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION})


def tearDownModule():
    moto_ec2.stop()


def write_table(path, chunks):
    ssm = client("ssm")
    for i, chunk in enumerate(chunks):
        ssm.put_parameter(Name="%s/%d" % (path, i), Value=chunk, Type="String", Overwrite=True)


def run(map_file, path=PATH, url=None, nginx_test="true", reload_cmd=None):
    """Runs the script once; returns (exit code, stderr, reloads counted)."""
    counter = map_file + ".reloads"
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_ENDPOINT_URL=url or moto_ec2.URL, AWS_DEFAULT_REGION=REGION,
               OBSLINK_REGION=REGION, OBSLINK_CONSUMER_PARAMETERS=path, OBSLINK_CONSUMER_MAP=map_file,
               OBSLINK_NGINX_TEST=nginx_test, OBSLINK_RELOAD=reload_cmd or ("touch " + counter))
    before = os.stat(counter).st_mtime_ns if os.path.exists(counter) else None
    p = subprocess.run(["bash", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    after = os.stat(counter).st_mtime_ns if os.path.exists(counter) else None
    return p.returncode, p.stderr, before != after


def read(path):
    with open(path) as f:
        return f.read()


class ConsumersTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir)
        self.map = os.path.join(self.dir, "consumers.map")
        open(self.map, "w").close()  # as the bootstrap starts it

    def world(self, path=PATH):
        """An endpoint service and its consumers; returns {name: endpoint id} and the table."""
        svc = endpoint_service()
        ids = {
            "payments": connect("222222222222", svc),
            "search": connect("333333333333", svc),                         # one of two consumers of 333 here
            "analytics": connect("444444444444", svc, region="us-east-1"),  # native: another region
            "stranger": connect("555555555555", svc),                       # not in the table
            "elsewhere": connect("222222222222", svc, region="us-west-2"),  # a known account, unknown region
        }
        # Two chunks, as ConsumerTable splits a long table.
        write_table(path, ["222222222222 eu-west-1 payments\n333333333333 eu-west-1 search\n",
                           "333333333333 eu-west-1 search-eu\n444444444444 us-east-1 analytics\n"])
        return svc, ids

    def test_map_names_each_known_endpoint(self):
        _, ids = self.world()
        code, err, reloaded = run(self.map)
        self.assertEqual(code, 0, err)
        self.assertTrue(reloaded)
        want = sorted(["%s payments;" % ids["payments"], "%s search+search-eu;" % ids["search"],
                       "%s analytics;" % ids["analytics"]])
        got = read(self.map).splitlines()
        for line in want:
            self.assertIn(line, got)
        # Accounts the table does not list (a consumer group's) are named by account.
        self.assertIn("%s account-555555555555;" % ids["stranger"], got)
        self.assertIn("%s account-222222222222;" % ids["elsewhere"], got, "a known account in a region the table does not list")

    def test_unchanged_map_does_not_reload(self):
        self.world()
        self.assertEqual(run(self.map)[0], 0)
        code, err, reloaded = run(self.map)
        self.assertEqual(code, 0, err)
        self.assertFalse(reloaded, "nginx reloaded although nothing changed")

    def test_failed_reload_is_tried_again(self):
        self.world()
        code, _, _ = run(self.map, reload_cmd="false")
        self.assertNotEqual(code, 0, "a failed reload is an error")
        code, err, reloaded = run(self.map)
        self.assertEqual(code, 0, err)
        self.assertTrue(reloaded, "the next run reloads, although the map on disk is already the new one")

    def test_names_of_one_account_join_in_one_order(self):
        _, ids = self.world()
        # The same table in another chunk order, with a line repeated across chunks.
        write_table(PATH, ["333333333333 eu-west-1 search-eu\n444444444444 us-east-1 analytics\n",
                           "333333333333 eu-west-1 search\n222222222222 eu-west-1 payments\n333333333333 eu-west-1 search-eu\n"])
        self.assertEqual(run(self.map)[0], 0)
        self.assertIn("%s search+search-eu;" % ids["search"], read(self.map).splitlines())

    def test_rejected_endpoint_leaves_the_map(self):
        svc, ids = self.world()
        self.assertEqual(run(self.map)[0], 0)
        self.assertIn(ids["payments"], read(self.map))
        client("ec2").reject_vpc_endpoint_connections(ServiceId=svc["ServiceId"], VpcEndpointIds=[ids["payments"]])
        code, err, reloaded = run(self.map)
        self.assertEqual(code, 0, err)
        self.assertTrue(reloaded)
        self.assertNotIn(ids["payments"], read(self.map))

    def test_nginx_refusing_the_map_keeps_the_previous_one(self):
        self.world()
        with open(self.map, "w") as f:
            f.write("vpce-0000000000000000a old;\n")
        code, err, reloaded = run(self.map, nginx_test="false")
        self.assertEqual(code, 1)
        self.assertIn("previous one stays", err)
        self.assertFalse(reloaded)
        self.assertEqual(read(self.map), "vpce-0000000000000000a old;\n")

    def test_api_error_keeps_the_map(self):
        with open(self.map, "w") as f:
            f.write("vpce-0000000000000000a old;\n")
        code, _, reloaded = run(self.map, url="http://127.0.0.1:1")
        self.assertNotEqual(code, 0)
        self.assertFalse(reloaded)
        self.assertEqual(read(self.map), "vpce-0000000000000000a old;\n")

    def test_real_nginx(self):
        target = os.environ.get("OBSLINK_TEST_CONSUMER_MAP")
        if not target:
            self.skipTest("run by constructs/proxyfleet's TestConsumersScriptOnRealNginx")
        _, ids = self.world(path=PATH + "-real")
        code, err, _ = run(target, path=PATH + "-real", nginx_test=os.environ["OBSLINK_TEST_NGINX_TEST"],
                           reload_cmd=os.environ["OBSLINK_TEST_RELOAD"])
        self.assertEqual(code, 0, err)
        with open(os.environ["OBSLINK_TEST_RESULT"], "w") as f:
            json.dump({ids["payments"]: "payments", ids["search"]: "search+search-eu",
                       ids["analytics"]: "analytics", ids["stranger"]: "account-555555555555",
                       "vpce-0000000000000000f": "unknown"}, f)
