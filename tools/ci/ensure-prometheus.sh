#!/usr/bin/env bash
# The observability tests run the real Prometheus and promtool (Debian's `prometheus` package).
# Installs it when missing, without starting the packaged service: the tests start their own.
set -euo pipefail
if command -v prometheus >/dev/null && command -v promtool >/dev/null; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "prometheus/promtool are missing: install Debian's 'prometheus' package (apt-get install prometheus)" >&2
  exit 1
fi
echo "installing Debian's prometheus package (for promtool and the real-Prometheus tests)" >&2
# policy-rc.d keeps the package from starting its own Prometheus on :9090.
blocker=/usr/sbin/policy-rc.d
created=0
if [ ! -e "$blocker" ]; then printf '#!/bin/sh\nexit 101\n' >"$blocker" && chmod +x "$blocker" && created=1; fi
trap '[ "$created" = 1 ] && rm -f "$blocker"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
command -v promtool >/dev/null
