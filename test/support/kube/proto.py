"""Just enough protobuf to read what kubectl's typed clients POST to the review APIs
(`kubectl auth whoami`, `kubectl auth can-i` send application/vnd.kubernetes.protobuf)."""

from .errors import bad_request

MAGIC = b"k8s\x00"
PROTOBUF = "application/vnd.kubernetes.protobuf"


def _varint(data: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if position >= len(data):
            raise bad_request("truncated protobuf")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7


def fields(data: bytes) -> dict[int, list]:
    """Field number -> values (ints for varints, bytes for length-delimited)."""
    found: dict[int, list] = {}
    position = 0
    while position < len(data):
        key, position = _varint(data, position)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, position = _varint(data, position)
        elif wire_type == 2:
            length, position = _varint(data, position)
            value = data[position : position + length]
            position += length
        elif wire_type == 1:
            value, position = data[position : position + 8], position + 8
        elif wire_type == 5:
            value, position = data[position : position + 4], position + 4
        else:
            raise bad_request(f"unsupported protobuf wire type {wire_type}")
        found.setdefault(number, []).append(value)
    return found


def _text(values: dict[int, list], number: int) -> str:
    items = values.get(number)
    return items[-1].decode() if items else ""


def _message(values: dict[int, list], number: int) -> dict[int, list]:
    items = values.get(number)
    return fields(items[-1]) if items else {}


def decode_review(body: bytes) -> dict:
    """A SelfSubjectReview / SelfSubjectAccessReview / SelfSubjectRulesReview as JSON-like dict."""
    if not body.startswith(MAGIC):
        raise bad_request("protobuf body without the k8s envelope")
    unknown = fields(body[len(MAGIC) :])
    type_meta = _message(unknown, 1)
    raw = unknown.get(2, [b""])[-1]
    kind = _text(type_meta, 2)
    document: dict = {"apiVersion": _text(type_meta, 1), "kind": kind}
    review = fields(raw)
    spec = _message(review, 2)
    if kind == "SelfSubjectAccessReview":
        resource = _message(spec, 1)
        non_resource = _message(spec, 2)
        spec_json: dict = {}
        if resource:
            names = ("namespace", "verb", "group", "version", "resource", "subresource", "name")
            spec_json["resourceAttributes"] = {
                name: _text(resource, number)
                for number, name in enumerate(names, start=1)
                if _text(resource, number)
            }
        if non_resource:
            spec_json["nonResourceAttributes"] = {
                "path": _text(non_resource, 1),
                "verb": _text(non_resource, 2),
            }
        document["spec"] = spec_json
    elif kind == "SelfSubjectRulesReview":
        document["spec"] = {"namespace": _text(spec, 1)}
    return document


def _string_map(values: dict[int, list], number: int, *, as_base64: bool = False) -> dict[str, str]:
    import base64

    result = {}
    for entry in values.get(number, []):
        pair = fields(entry)
        key = _text(pair, 1)
        raw = pair.get(2, [b""])[-1]
        result[key] = base64.b64encode(raw).decode() if as_base64 else raw.decode()
    return result


def _object_meta(values: dict[int, list]) -> dict:
    metadata: dict = {}
    for number, name in ((1, "name"), (2, "generateName"), (3, "namespace")):
        if _text(values, number):
            metadata[name] = _text(values, number)
    for number, name in ((11, "labels"), (12, "annotations")):
        if values.get(number):
            metadata[name] = _string_map(values, number)
    if values.get(14):
        metadata["finalizers"] = [item.decode() for item in values[14]]
    return metadata


def decode_object(body: bytes) -> dict:
    """A Namespace, ConfigMap or Secret (what `kubectl create namespace|configmap|secret` POSTs)."""
    if not body.startswith(MAGIC):
        raise bad_request("protobuf body without the k8s envelope")
    unknown = fields(body[len(MAGIC) :])
    type_meta = _message(unknown, 1)
    kind = _text(type_meta, 2)
    message = fields(unknown.get(2, [b""])[-1])
    document: dict = {
        "apiVersion": _text(type_meta, 1),
        "kind": kind,
        "metadata": _object_meta(_message(message, 1)),
    }
    if kind == "ConfigMap":
        if message.get(2):
            document["data"] = _string_map(message, 2)
        if message.get(3):
            document["binaryData"] = _string_map(message, 3, as_base64=True)
        if message.get(4):
            document["immutable"] = bool(message[4][-1])
    elif kind == "Secret":
        if message.get(2):
            document["data"] = _string_map(message, 2, as_base64=True)
        if _text(message, 3):
            document["type"] = _text(message, 3)
        if message.get(4):
            document["stringData"] = _string_map(message, 4)
        if message.get(5):
            document["immutable"] = bool(message[5][-1])
    elif kind == "Namespace":
        spec = _message(message, 2)
        if spec.get(1):
            document["spec"] = {"finalizers": [item.decode() for item in spec[1]]}
    else:
        raise bad_request(
            f"the stand-in reads protobuf bodies only for Namespace, ConfigMap and Secret, not {kind}"
        )
    return document
