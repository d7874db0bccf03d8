#!/bin/sh
# Registers the namespace the service runs in, when missing (compose's `temporal-namespace` job and
# `npm run cluster`). The search attributes are registered by every worker at start-up.
# The Temporal CLI reads TEMPORAL_ADDRESS from the environment.
set -eu
cli="${TEMPORAL_CLI:-temporal}"
namespace="${TEMPORAL_NAMESPACE:-default}"

if "$cli" operator namespace describe --namespace "$namespace" >/dev/null 2>&1; then
  echo "temporal namespace: $namespace exists"
else
  "$cli" operator namespace create --namespace "$namespace" --retention "${NAMESPACE_RETENTION:?NAMESPACE_RETENTION must be set, e.g. 72h}"
  echo "temporal namespace: $namespace created"
fi
