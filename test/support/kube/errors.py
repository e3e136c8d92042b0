"""Kubernetes Status bodies and the errors that carry them."""


def status_body(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return body


def success_body(details: dict | None = None) -> dict:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if details:
        body["details"] = details
    return body


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def body(self) -> dict:
        return status_body(self.code, self.reason, self.message, self.details)


def _details(kind, name: str | None) -> dict:
    details = {"group": kind.group, "kind": kind.resource}
    if name:
        details = {"name": name, **details}
    return details


def not_found(kind, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{kind.group_resource} "{name}" not found', _details(kind, name))


def already_exists(kind, name: str) -> ApiError:
    return ApiError(
        409, "AlreadyExists", f'{kind.group_resource} "{name}" already exists', _details(kind, name)
    )


def conflict(kind, name: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {kind.group_resource} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        _details(kind, name),
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def invalid(kind, name: str, causes: list[tuple[str, str]]) -> ApiError:
    """causes: (field, message such as 'Required value' or 'Invalid value: "x": why')."""
    group_kind = f"{kind.kind}.{kind.group}" if kind.group else kind.kind
    text = ", ".join(f"{field}: {message}" for field, message in causes)
    if len(causes) > 1:
        text = "[" + text + "]"
    return ApiError(
        422,
        "Invalid",
        f'{group_kind} "{name}" is invalid: {text}',
        {
            "name": name,
            "group": kind.group,
            "kind": kind.kind,
            "causes": [
                {
                    "reason": "FieldValueRequired" if message.startswith("Required") else "FieldValueInvalid",
                    "message": message,
                    "field": field,
                }
                for field, message in causes
            ],
        },
    )


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def forbidden(
    kind_or_resource,
    name: str | None,
    username: str,
    verb: str,
    group: str,
    resource: str,
    namespace: str | None,
) -> ApiError:
    where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    subject = kind_or_resource
    named = f'{subject} "{name}"' if name else subject
    message = f'{named} is forbidden: User "{username}" cannot {verb} resource "{resource}" in API group "{group}" {where}'
    details = {"group": group, "kind": resource}
    if name:
        details = {"name": name, **details}
    return ApiError(403, "Forbidden", message, details)
