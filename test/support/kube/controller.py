"""A toy workload controller: some time after a Deployment, StatefulSet or DaemonSet is created or its
spec changes, it writes the status `kubectl rollout status` waits for (and Running pods), unless the pod
template uses an image listed in never_ready_images: then the rollout never completes."""

import copy
import hashlib
import json
import random
import threading
import uuid
from collections.abc import Callable

from .api import Api, now
from .resources import by_path
from .store import Event

PODS = by_path("", "v1", "pods")
REPLICA_SETS = by_path("apps", "v1", "replicasets")
REVISION = "deployment.kubernetes.io/revision"
ROLLED_OUT = ("deployments", "statefulsets", "daemonsets")
NODES = 1  # DaemonSets run one pod per node
# How long a held rollout waits for its gate before it goes on anyway (a test that forgot to open it).
GATE_LIMIT_SECONDS = 60


def _template_hash(template: dict) -> str:
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()
    return "".join(c for c in digest if c in "bcdfghjklmnpqrstvwxz2456789")[:10] or digest[:10]


def _suffix() -> str:
    return "".join(random.choices("bcdfghjklmnpqrstvwxz2456789", k=5))


class Controller:
    def __init__(self, api: Api, delay: Callable[[], float], never_ready: Callable[[], set[str]]) -> None:
        self.api = api
        self._delay = delay
        self._never_ready = never_ready
        self._timers: dict[tuple, threading.Timer] = {}
        self._lock = threading.Lock()
        self._stopped = False
        # A test sets this to hold every rollout's "ready" step until it opens the gate: it then
        # acts at a known moment of the rollout, whatever the machine's load.
        self.ready_gate: threading.Event | None = None
        api.store.add_listener(self._on_event)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            timers = list(self._timers.values())
            self._timers.clear()
        for timer in timers:
            timer.cancel()

    def _on_event(self, event: Event) -> None:
        if event.kind.resource == "jobs" and event.type == "ADDED":
            self._schedule_job(event)
            return
        if event.kind.resource not in ROLLED_OUT or event.type == "DELETED":
            return
        metadata = event.object["metadata"]
        generation = metadata.get("generation", 1)
        if (event.object.get("status") or {}).get("observedGeneration") == generation:
            return
        key = (event.kind.resource, metadata.get("namespace"), metadata["name"], generation)
        delay = max(self._delay(), 0.0)
        # Two steps, as a real rollout goes: the new generation is observed (pods not ready yet), then
        # the pods become ready (never, for an image in never_ready_images).
        with self._lock:
            if self._stopped or (*key, "observe") in self._timers:
                return
            stages = [("observe", delay / 4), ("ready", delay)]
            deadline = (event.object.get("spec") or {}).get("progressDeadlineSeconds")
            if event.kind.resource == "deployments" and isinstance(deadline, int | float):
                stages.append(("deadline", max(float(deadline), delay)))
            for stage, after in stages:
                timer = threading.Timer(after, self._reconcile, args=(event.kind, key, stage))
                timer.daemon = True
                self._timers[(*key, stage)] = timer
                timer.start()

    def _reconcile(self, kind, key, stage) -> None:
        resource, namespace, name, generation = key
        gate = self.ready_gate
        if stage == "ready" and gate is not None:
            gate.wait(GATE_LIMIT_SECONDS)
        with self._lock:
            self._timers.pop((*key, stage), None)
            if self._stopped:
                return
        with self.api._lock:
            obj = self.api.store.get(kind, namespace, name)
            if obj is None or obj["metadata"].get("generation", 1) != generation:
                return
            previous = obj.get("status") or {}
            if stage == "observe" and previous.get("observedGeneration") == generation:
                return
            spec = obj.get("spec") or {}
            template = spec.get("template") or {}
            images = {
                container.get("image")
                for field in ("containers", "initContainers")
                for container in (template.get("spec") or {}).get(field) or []
            }
            never_ready = bool(images & set(self._never_ready()))
            if stage == "deadline":
                self._progress_deadline_exceeded(kind, obj, never_ready)
                return
            ready = stage == "ready" and not never_ready
            if stage == "ready" and not ready and previous.get("observedGeneration") == generation:
                return
            replicas = NODES if resource == "daemonsets" else int(spec.get("replicas", 1))
            revision = f"{name}-{_template_hash(template)}"
            obj["status"] = self._status(resource, obj, generation, replicas, ready, revision, previous)
            if resource == "deployments":
                replica_set = self._sync_replica_set(obj, replicas, ready, revision)
                obj["metadata"].setdefault("annotations", {})[REVISION] = replica_set["metadata"][
                    "annotations"
                ][REVISION]
                self.api.store.put(kind, obj)
                self._sync_pods(REPLICA_SETS, replica_set, replicas, ready, revision)
            else:
                self.api.store.put(kind, obj)
                self._sync_pods(kind, obj, replicas, ready, revision)

    def _schedule_job(self, event: Event) -> None:
        metadata = event.object["metadata"]
        key = ("jobs", metadata.get("namespace"), metadata["name"], metadata.get("uid"), "run")
        with self._lock:
            if self._stopped or key in self._timers:
                return
            timer = threading.Timer(max(self._delay(), 0.0), self._run_job, args=(event.kind, key))
            timer.daemon = True
            self._timers[key] = timer
            timer.start()

    def _run_job(self, kind, key) -> None:
        """A Job's pods 'run' and succeed after the rollout delay (stay active for a never-ready image)."""
        _, namespace, name, uid, _ = key
        with self._lock:
            self._timers.pop(key, None)
            if self._stopped:
                return
        with self.api._lock:
            obj = self.api.store.get(kind, namespace, name)
            if obj is None or obj["metadata"].get("uid") != uid:
                return
            spec = obj.get("spec") or {}
            containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
            stuck = bool({container.get("image") for container in containers} & set(self._never_ready()))
            stamp = now()
            if stuck:
                obj["status"] = {"active": int(spec.get("parallelism", 1)), "ready": 0, "startTime": stamp}
            else:
                obj["status"] = {
                    "startTime": stamp,
                    "completionTime": stamp,
                    "succeeded": int(spec.get("completions", 1)),
                    "ready": 0,
                    "terminating": 0,
                    "uncountedTerminatedPods": {},
                    "conditions": [
                        {
                            "type": condition,
                            "status": "True",
                            "lastProbeTime": stamp,
                            "lastTransitionTime": stamp,
                            "reason": "CompletionsReached",
                            "message": "Reached expected number of succeeded pods",
                        }
                        for condition in ("SuccessCriteriaMet", "Complete")
                    ],
                }
            self.api.store.put(kind, obj)

    def _progress_deadline_exceeded(self, kind, obj: dict, never_ready: bool) -> None:
        """Progressing=False, reason ProgressDeadlineExceeded: kubectl rollout status then fails at once."""
        status = obj.get("status") or {}
        if not never_ready or status.get("availableReplicas", 0) >= (obj.get("spec") or {}).get(
            "replicas", 1
        ):
            return
        stamp = now()
        revision = (
            f"{obj['metadata']['name']}-{_template_hash((obj.get('spec') or {}).get('template') or {})}"
        )
        status["conditions"] = [
            condition
            for condition in status.get("conditions") or []
            if condition.get("type") != "Progressing"
        ] + [
            {
                "type": "Progressing",
                "status": "False",
                "lastUpdateTime": stamp,
                "lastTransitionTime": stamp,
                "reason": "ProgressDeadlineExceeded",
                "message": f'ReplicaSet "{revision}" has timed out progressing.',
            }
        ]
        obj["status"] = status
        self.api.store.put(kind, obj)

    def _sync_replica_set(self, deployment: dict, replicas: int, ready: bool, revision: str) -> dict:
        """The Deployment's ReplicaSet for its current template (revision annotation as the real controller
        keeps it, for `kubectl rollout history|undo`); older ReplicaSets are scaled to 0."""
        metadata = deployment["metadata"]
        namespace = metadata.get("namespace")
        owned = [
            item
            for item in self.api.store.list(REPLICA_SETS, namespace)[0]
            if any(ref.get("uid") == metadata["uid"] for ref in item["metadata"].get("ownerReferences") or [])
        ]
        revisions = [int((item["metadata"].get("annotations") or {}).get(REVISION, "0")) for item in owned]
        current = next((item for item in owned if item["metadata"]["name"] == revision), None)
        pod_hash = revision.rsplit("-", 1)[-1]
        template = copy.deepcopy(deployment["spec"].get("template") or {})
        template.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = pod_hash
        for item in owned:
            if item["metadata"]["name"] != revision and (item.get("spec") or {}).get("replicas"):
                item["spec"]["replicas"] = 0
                item["status"] = {"replicas": 0, "observedGeneration": item["metadata"].get("generation", 1)}
                self.api.store.put(REPLICA_SETS, item)
                for pod in self.api.store.list(PODS, namespace)[0]:
                    refs = pod["metadata"].get("ownerReferences") or []
                    if any(ref.get("uid") == item["metadata"]["uid"] for ref in refs):
                        self.api.store.delete(PODS, namespace, pod["metadata"]["name"])
        annotations = {
            key: value
            for key, value in (metadata.get("annotations") or {}).items()
            if key != "kubectl.kubernetes.io/last-applied-configuration"
        }
        number = max(revisions, default=0)
        if (
            current is None
            or int((current["metadata"].get("annotations") or {}).get(REVISION, "0")) != number
        ):
            number += 1
        annotations[REVISION] = str(number)
        selector = copy.deepcopy(deployment["spec"].get("selector") or {})
        selector.setdefault("matchLabels", {})["pod-template-hash"] = pod_hash
        replica_set = current or {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": revision,
                "namespace": namespace,
                "uid": str(uuid.uuid4()),
                "creationTimestamp": now(),
                "generation": 1,
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": metadata["name"],
                        "uid": metadata["uid"],
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
        }
        replica_set["metadata"]["labels"] = dict(template["metadata"]["labels"])
        replica_set["metadata"]["annotations"] = annotations
        replica_set["spec"] = {"replicas": replicas, "selector": selector, "template": template}
        available = replicas if ready else 0
        replica_set["status"] = {
            "replicas": replicas,
            "fullyLabeledReplicas": replicas,
            "readyReplicas": available,
            "availableReplicas": available,
            "observedGeneration": replica_set["metadata"].get("generation", 1),
        }
        return self.api.store.put(REPLICA_SETS, replica_set)

    def _status(self, resource, obj, generation, replicas, ready, revision, previous) -> dict:
        available = replicas if ready else 0
        stamp = now()
        if resource == "deployments":
            status = {
                "observedGeneration": generation,
                "replicas": replicas,
                "updatedReplicas": replicas,
                "readyReplicas": available,
                "availableReplicas": available,
            }
            if not ready:
                status["unavailableReplicas"] = replicas
            status["conditions"] = [
                {
                    "type": "Available",
                    "status": "True" if ready else "False",
                    "lastUpdateTime": stamp,
                    "lastTransitionTime": stamp,
                    "reason": "MinimumReplicasAvailable" if ready else "MinimumReplicasUnavailable",
                    "message": "Deployment has minimum availability."
                    if ready
                    else "Deployment does not have minimum availability.",
                },
                {
                    "type": "Progressing",
                    "status": "True",
                    "lastUpdateTime": stamp,
                    "lastTransitionTime": stamp,
                    "reason": "NewReplicaSetAvailable" if ready else "ReplicaSetUpdated",
                    "message": f'ReplicaSet "{revision}" has successfully progressed.'
                    if ready
                    else f'ReplicaSet "{revision}" is progressing.',
                },
            ]
            return {key: value for key, value in status.items() if value != 0 or key == "observedGeneration"}
        if resource == "statefulsets":
            status = {
                "observedGeneration": generation,
                "replicas": replicas,
                "readyReplicas": available,
                "currentReplicas": replicas if ready else 0,
                "updatedReplicas": replicas,
                "availableReplicas": available,
                "currentRevision": revision if ready else previous.get("currentRevision", ""),
                "updateRevision": revision,
                "collisionCount": 0,
            }
            return {
                key: value
                for key, value in status.items()
                if value not in (0, "") or key == "observedGeneration"
            }
        return {
            "observedGeneration": generation,
            "currentNumberScheduled": replicas,
            "desiredNumberScheduled": replicas,
            "numberMisscheduled": 0,
            "numberReady": available,
            "updatedNumberScheduled": replicas,
            "numberAvailable": available,
            **({} if ready else {"numberUnavailable": replicas}),
        }

    def _sync_pods(self, kind, owner: dict, replicas: int, ready: bool, revision: str) -> None:
        """Replace the owner's pods by `replicas` pods of the current template."""
        metadata = owner["metadata"]
        namespace = metadata.get("namespace")
        pods, _ = self.api.store.list(PODS, namespace)
        for pod in pods:
            owners = pod["metadata"].get("ownerReferences") or []
            if any(reference.get("uid") == metadata["uid"] for reference in owners):
                self.api.store.delete(PODS, namespace, pod["metadata"]["name"])
        template = copy.deepcopy(owner["spec"].get("template") or {})
        pod_hash = revision.rsplit("-", 1)[-1]
        stamp = now()
        for index in range(replicas):
            if kind.resource == "statefulsets":
                name = f"{metadata['name']}-{index}"
            else:  # a ReplicaSet's pods are <deployment>-<hash>-<suffix>: its name is <deployment>-<hash>
                name = f"{metadata['name']}-{_suffix()}"
            labels = dict((template.get("metadata") or {}).get("labels") or {})
            if kind.resource == "replicasets":
                labels["pod-template-hash"] = pod_hash
            else:
                labels["controller-revision-hash"] = revision
            containers = (template.get("spec") or {}).get("containers") or []
            pod = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "uid": str(uuid.uuid4()),
                    "creationTimestamp": stamp,
                    "generation": 1,
                    "labels": labels,
                    "annotations": dict((template.get("metadata") or {}).get("annotations") or {}),
                    "ownerReferences": [
                        {
                            "apiVersion": owner["apiVersion"],
                            "kind": owner["kind"],
                            "name": metadata["name"],
                            "uid": metadata["uid"],
                            "controller": True,
                            "blockOwnerDeletion": True,
                        }
                    ],
                },
                "spec": {**(template.get("spec") or {}), "nodeName": "standin-node-1"},
                "status": {
                    "phase": "Running" if ready else "Pending",
                    "conditions": [
                        {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": stamp}
                    ],
                    "containerStatuses": [
                        {
                            "name": container.get("name"),
                            "image": container.get("image"),
                            "ready": ready,
                            "restartCount": 0,
                            "started": ready,
                            "state": {"running": {"startedAt": stamp}}
                            if ready
                            else {
                                "waiting": {
                                    "reason": "ImagePullBackOff",
                                    "message": f"Back-off pulling image {container.get('image')!r}",
                                }
                            },
                        }
                        for container in containers
                    ],
                    "startTime": stamp,
                },
            }
            self.api.store.put(PODS, pod)
