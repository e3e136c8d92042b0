"""COMMAND: kubectl (front module: job.py) and its helpers: the command-line allow-list (parsed as
kubectl's pflag parses it), kustomizations and the settings. What the helm job needs too (the cluster,
its token, the kubeconfig, manifests, labels, the authorization doctor) lives in pipe/kube/."""
