"""The template comparison behind the cdk diff's plan, over generated templates."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from pipe.jobs.cdk import changes

LOGICAL_IDS = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12
)
NAMES = st.sampled_from(
    ["BucketName", "Tags", "VersioningConfiguration", "Description", "Timeout", "Ｎame", "a"]
)
SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
TYPES = st.sampled_from(["AWS::S3::Bucket", "AWS::S3::Bucket", "AWS::SQS::Queue", "Custom::Thing"])
RESOURCES = st.fixed_dictionaries(
    {"Type": TYPES, "Properties": st.dictionaries(NAMES, VALUES, max_size=4)},
    optional={"Metadata": st.dictionaries(st.text(max_size=8), VALUES, max_size=2)},
)
TEMPLATES = st.dictionaries(LOGICAL_IDS, RESOURCES, max_size=6).map(
    lambda resources: {"Resources": resources}
)
RULES = {"AWS::S3::Bucket": {"BucketName": "yes", "VersioningConfiguration": "maybe"}}


def copy(template):
    return json.loads(json.dumps(template))


@settings(max_examples=200)
@given(TEMPLATES)
def test_a_template_compared_with_itself_has_no_changes(template):
    assert changes.compare(template, copy(template), RULES) == []
    assert changes.security(template, copy(template)) == []


@st.composite
def template_pairs(draw):
    """A deployed template and a synthesized one made from it: resources kept, removed, given new
    properties or a new type, and new ones added (two independent templates rarely share an id)."""
    old = draw(TEMPLATES)
    resources = {}
    for logical_id, resource in old["Resources"].items():
        fate = draw(st.sampled_from(["keep", "remove", "properties", "type", "metadata"]))
        changed = copy(resource)
        if fate == "remove":
            continue
        if fate == "properties":
            changed["Properties"] = draw(st.dictionaries(NAMES, VALUES, max_size=4)) | draw(
                st.dictionaries(NAMES, VALUES, max_size=1)
            )
        elif fate == "type":
            changed["Type"] = draw(TYPES)
        elif fate == "metadata":
            changed["Metadata"] = {"aws:cdk:path": draw(st.text(max_size=8))}
        resources[logical_id] = changed
    added = draw(st.dictionaries(LOGICAL_IDS, RESOURCES, max_size=3))
    return old, {"Resources": resources | {k: v for k, v in added.items() if k not in old["Resources"]}}


@settings(max_examples=300)
@given(template_pairs())
def test_every_logical_id_is_classified_as_the_two_templates_say(pair):
    old, new = pair
    found = {change.logical_id: change for change in changes.compare(old, new, RULES)}
    before, after = old["Resources"], new["Resources"]
    for logical_id in set(before) | set(after):
        if logical_id not in before:
            assert found[logical_id].change == "added"
        elif logical_id not in after:
            assert found[logical_id].change == "removed"
        elif before[logical_id]["Type"] != after[logical_id]["Type"]:
            assert found[logical_id].change == "replaced" and found[logical_id].replaced_by == ("Type",)
        else:
            # A property set to null is one left out, as CloudFormation reads it.
            differing = {
                name
                for name in set(before[logical_id]["Properties"]) | set(after[logical_id]["Properties"])
                if before[logical_id]["Properties"].get(name) != after[logical_id]["Properties"].get(name)
            }
            if not differing:
                assert logical_id not in found  # Metadata alone changes nothing
                continue
            change = found[logical_id]
            assert set(change.properties) == differing
            rule = RULES.get(after[logical_id]["Type"], {})
            replacing = {name for name in differing if rule.get(name) == "yes"}
            assert change.change == ("replaced" if replacing else "changed")
            assert set(change.replaced_by) == replacing
            assert set(change.may_replace) == {name for name in differing if rule.get(name) == "maybe"}
    assert set(found) <= set(before) | set(after)


@given(TEMPLATES)
def test_a_stack_not_deployed_yet_adds_every_resource(template):
    found = changes.compare(None, template, RULES)
    assert [(c.logical_id, c.change) for c in found] == [(i, "added") for i in sorted(template["Resources"])]


def test_cdk_metadata_and_resource_metadata_are_no_change():
    old = {"Resources": {"CDKMetadata": {"Type": "AWS::CDK::Metadata", "Properties": {"Analytics": "v2:a"}}}}
    new = {"Resources": {"CDKMetadata": {"Type": "AWS::CDK::Metadata", "Properties": {"Analytics": "v2:b"}}}}
    assert changes.compare(old, new, RULES) == []


STATEMENTS = st.lists(
    st.fixed_dictionaries(
        {
            "Effect": st.sampled_from(["Allow", "Deny"]),
            "Action": st.lists(
                st.sampled_from(["s3:GetObject", "s3:*", "sqs:SendMessage", "iam:PassRole"]),
                min_size=1,
                max_size=3,
            ),
            "Resource": st.sampled_from(["*", "arn:aws:s3:::b/*", {"Fn::GetAtt": ["Queue", "Arn"]}]),
        }
    ),
    max_size=4,
    unique_by=lambda statement: changes.canonical(statement),
)


def policy(statements, kind="AWS::IAM::Policy"):
    document = {"Version": "2012-10-17", "Statement": statements}
    properties = (
        {"PolicyDocument": document}
        if kind == "AWS::IAM::Policy"
        else {"Policies": [{"PolicyName": "p", "PolicyDocument": document}]}
    )
    return {"Resources": {"Grant": {"Type": kind, "Properties": properties}}}


@settings(max_examples=200)
@given(STATEMENTS, STATEMENTS, st.sampled_from(["AWS::IAM::Policy", "AWS::IAM::Role"]), st.randoms())
def test_iam_statements_added_and_removed_are_the_set_difference(old, new, kind, random):
    # The same statements in another order, each with its keys in another order: no change.
    shuffled = [dict(random.sample(list(statement.items()), len(statement))) for statement in new]
    random.shuffle(shuffled)
    found = changes.security(policy(old, kind), policy(shuffled, kind))
    old_texts = {changes.canonical(s) for s in old}
    new_texts = {changes.canonical(s) for s in new}
    assert sorted((c.change, c.detail) for c in found) == sorted(
        [("removed", text) for text in old_texts - new_texts]
        + [("added", text) for text in new_texts - old_texts]
    )
    assert all(c.kind == changes.IAM and c.logical_id == "Grant" and c.type == kind for c in found)


def test_a_new_role_brings_its_trust_policy_and_managed_policies():
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                    }
                ]
            },
            "ManagedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"],
        },
    }
    found = changes.security({"Resources": {}}, {"Resources": {"Worker": role}})
    assert {(c.change, c.kind) for c in found} == {("added", changes.IAM)}
    assert len(found) == 2
    assert any("lambda.amazonaws.com" in c.detail for c in found)
    assert any("AdministratorAccess" in c.detail for c in found)
    removed = changes.security({"Resources": {"Worker": role}}, {"Resources": {}})
    assert {c.change for c in removed} == {"removed"} and len(removed) == 2


RULE_LISTS = st.lists(
    st.fixed_dictionaries(
        {
            "IpProtocol": st.sampled_from(["tcp", "udp", "-1"]),
            "FromPort": st.integers(0, 65535),
            "ToPort": st.integers(0, 65535),
            "CidrIp": st.sampled_from(["0.0.0.0/0", "10.0.0.0/8"]),
        }
    ),
    max_size=3,
    unique_by=lambda rule: changes.canonical(rule),
)


@settings(max_examples=200)
@given(RULE_LISTS, RULE_LISTS, RULE_LISTS)
def test_security_group_rules_inline_and_as_resources(old, new, standalone):
    def template(ingress, extra):
        resources = {
            "Group": {
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {"GroupDescription": "g", "SecurityGroupIngress": ingress},
            }
        }
        for index, rule in enumerate(extra):
            resources[f"Rule{index}"] = {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": rule}
        return {"Resources": resources}

    found = changes.security(template(old, []), template(new, standalone))
    inline = [c for c in found if c.logical_id == "Group"]
    old_texts = {changes.canonical({"Direction": "ingress", **r}) for r in old}
    new_texts = {changes.canonical({"Direction": "ingress", **r}) for r in new}
    assert sorted((c.change, c.detail) for c in inline) == sorted(
        [("removed", t) for t in old_texts - new_texts] + [("added", t) for t in new_texts - old_texts]
    )
    assert len([c for c in found if c.logical_id.startswith("Rule")]) == len(standalone)
    assert all(c.kind == changes.SECURITY_GROUP for c in found)


def test_malformed_templates_compare_without_error():
    for template in (
        None,
        {},
        {"Resources": []},
        {"Resources": {"A": "text"}},
        {"Resources": {"A": {"Type": "X", "Properties": 3}}},
    ):
        changes.compare(
            template,
            {"Resources": {"B": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": 5}}}},
            RULES,
        )
        changes.security(
            template,
            {
                "Resources": {
                    "B": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": "x"}}
                }
            },
        )
