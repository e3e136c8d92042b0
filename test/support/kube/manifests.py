"""The sample application the kubectl end-to-end tests apply: a Deployment and a ConfigMap."""


def web_app(replicas: int) -> str:
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, labels: {{app: web}}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec: {{containers: [{{name: web, image: "nginx:1.27"}}]}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: web-settings}}
data: {{GREETING: hello}}
"""
