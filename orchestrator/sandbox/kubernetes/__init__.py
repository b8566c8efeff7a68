"""A Kubernetes API stand-in for Jobs, Pods and their logs (see README.md)."""

from orchestrator.sandbox.kubernetes.sandbox import KubernetesSandbox

__all__ = ["KubernetesSandbox"]
