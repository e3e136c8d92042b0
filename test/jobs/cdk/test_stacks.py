import json

from pipe.jobs.cdk import stacks as cdk_stacks


def assembly(directory, dependencies: dict[str, list[str]]):
    artifacts = {}
    for name, needs in dependencies.items():
        artifacts[f"{name}.assets"] = {"type": "cdk:asset-manifest"}
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "displayName": name,
            "dependencies": [f"{name}.assets", *needs],
        }
    directory.mkdir(parents=True, exist_ok=True)
    (directory / cdk_stacks.MANIFEST).write_text(json.dumps({"version": "48.0.0", "artifacts": artifacts}))
    return directory


def test_the_stacks_a_named_stack_depends_on_are_named_with_the_reason(tmp_path):
    out = assembly(tmp_path / "cdk.out", {"Web": ["Data"], "Data": ["Network"], "Network": [], "Other": []})
    assert cdk_stacks.added_by_dependencies(["Web"], cdk_stacks.read_dependencies(out)) == (
        ["Web"],
        ["Data", "Network"],
    )
    assert cdk_stacks.explanation("diff", ["Web"], [], out) == (
        "CDK_STACKS named Web; the CDK CLI also compared Data, Network, because it depends on them. "
        "Add '--exclusively' to CDK_ARGS to take only the stacks named."
    )
    assert cdk_stacks.explanation("deploy", ["Web"], ["--exclusively"], out) is None
    assert cdk_stacks.explanation("deploy", ["Network"], [], out) is None
    assert cdk_stacks.explanation("deploy", [], [], out) is None


def test_patterns_and_an_unreadable_assembly(tmp_path):
    out = assembly(tmp_path / "cdk.out", {"Prod-Web": ["Prod-Data"], "Prod-Data": []})
    assert cdk_stacks.added_by_dependencies(["Prod-*"], cdk_stacks.read_dependencies(out)) == (
        ["Prod-Data", "Prod-Web"],
        [],
    )
    (out / cdk_stacks.MANIFEST).write_text("[1, 2")
    assert cdk_stacks.read_dependencies(out) == {}
    assert cdk_stacks.read_dependencies(tmp_path / "missing") == {}


def test_the_assembly_is_where_output_or_a_directory_app_puts_it(tmp_path):
    (tmp_path / "build").mkdir()
    assert cdk_stacks.assembly_dir(tmp_path, ["--output", "build"]) == tmp_path / "build"
    assert cdk_stacks.assembly_dir(tmp_path, ["--app=build"]) == tmp_path / "build"
    assert cdk_stacks.assembly_dir(tmp_path, ["--app", "node app.js"]) == tmp_path / "cdk.out"
