"""API discovery: /api, /apis (legacy and aggregated apidiscovery.k8s.io/v2), /api/v1, /apis/<g>/<v>."""

from . import resources

AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"


def wants_aggregated(accept: str) -> str | None:
    """The aggregated discovery media type to answer with, if the client asked for one."""
    for part in accept.split(","):
        media = part.strip().replace(" ", "")
        if "g=apidiscovery.k8s.io" in media and "as=APIGroupDiscoveryList" in media:
            return AGGREGATED_V2 if "v=v2;" in media + ";" else AGGREGATED_V2BETA1
    return None


def _aggregated_resource(kind: resources.Kind) -> dict:
    entry = {
        "resource": kind.resource,
        "responseKind": {"group": kind.group, "version": kind.version, "kind": kind.kind},
        "scope": "Namespaced" if kind.namespaced else "Cluster",
        "singularResource": kind.singular_name,
        "verbs": list(kind.verbs),
    }
    if kind.short_names:
        entry["shortNames"] = list(kind.short_names)
    if kind.categories:
        entry["categories"] = list(kind.categories)
    subresources = []
    for subresource in kind.subresources:
        if subresource == "scale":
            response = {"group": "autoscaling", "version": "v1", "kind": "Scale"}
        else:
            response = {"group": kind.group, "version": kind.version, "kind": kind.kind}
        subresources.append(
            {"subresource": subresource, "responseKind": response, "verbs": ["get", "patch", "update"]}
        )
    if subresources:
        entry["subresources"] = subresources
    return entry


def aggregated(legacy: bool, media_type: str) -> dict:
    """APIGroupDiscoveryList for /api (legacy=True: the core group) or /apis."""
    items = []
    for group in resources.GROUP_ORDER:
        if (group == "") != legacy:
            continue
        versions = sorted({kind.version for kind in resources.KINDS if kind.group == group})
        items.append(
            {
                "metadata": {"name": group, "creationTimestamp": None},
                "versions": [
                    {
                        "version": version,
                        "resources": [
                            _aggregated_resource(kind) for kind in resources.kinds_in(group, version)
                        ],
                        "freshness": "Current",
                    }
                    for version in versions
                ],
            }
        )
    api_version = media_type.split(";v=")[1].split(";")[0]
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": f"apidiscovery.k8s.io/{api_version}",
        "metadata": {},
        "items": items,
    }


def api_versions() -> dict:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:443"}],
    }


def _group(group: str) -> dict:
    versions = [
        {"groupVersion": f"{group}/{version}", "version": version}
        for version in sorted({kind.version for kind in resources.KINDS if kind.group == group})
    ]
    return {"name": group, "versions": versions, "preferredVersion": versions[0]}


def api_group_list() -> dict:
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group(group) for group in resources.GROUP_ORDER if group],
    }


def api_group(group: str) -> dict | None:
    if group not in resources.GROUP_ORDER or not group:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(group)}


def api_resource_list(group: str, version: str) -> dict | None:
    kinds = resources.kinds_in(group, version)
    if not kinds:
        return None
    entries = []
    for kind in kinds:
        entry = {
            "name": kind.resource,
            "singularName": kind.singular_name,
            "namespaced": kind.namespaced,
            "kind": kind.kind,
            "verbs": list(kind.verbs),
        }
        if kind.short_names:
            entry["shortNames"] = list(kind.short_names)
        if kind.categories:
            entry["categories"] = list(kind.categories)
        entries.append(entry)
        for subresource in kind.subresources:
            entries.append(
                {
                    "name": f"{kind.resource}/{subresource}",
                    "singularName": "",
                    "namespaced": kind.namespaced,
                    "group": "autoscaling" if subresource == "scale" else None,
                    "version": "v1" if subresource == "scale" else None,
                    "kind": "Scale" if subresource == "scale" else kind.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
    for entry in entries:
        for key in ("group", "version"):
            if entry.get(key) is None:
                entry.pop(key, None)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": entries,
    }
