#!/usr/bin/env bash
# Installs what okrd's tests need on a fresh Debian machine: promtool (from
# the prometheus package) for the exposition and rules checks, the
# prometheus server (same package) for the prometheus source's tests and
# the end-to-end alerting test, Alertmanager for the latter (and amtool, in
# the same package, for the deploy kit's Alertmanager configuration),
# headless chromium for the web page's browser test, kubectl and
# systemd-analyze for the deploy kit's tests (deploy/), and
# makes sure PostgreSQL is running for the store conformance suite.
set -euo pipefail

need_apt=()
{ command -v promtool && command -v prometheus; } >/dev/null 2>&1 || need_apt+=(prometheus)
# Headless Chromium renders the web page in app/page_chromium_test.go.
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
# A real Alertmanager receives alerts in app/alerting_e2e_test.go.
command -v prometheus-alertmanager >/dev/null 2>&1 || need_apt+=(prometheus-alertmanager)
# kubectl kustomize renders deploy/kubernetes (any kubectl does; Debian's
# kubernetes-client is the one the package archive has).
command -v kubectl >/dev/null 2>&1 || need_apt+=(kubernetes-client)
# systemd-analyze verifies and rates deploy/systemd/okrd.service.
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # The prometheus and alertmanager packages start their services on the
  # default ports when they can; the tests start their own instances on
  # free ports, so the packages' services are kept from starting at all.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# PostgreSQL is preinstalled on the CI machine; start it if it stopped.
if command -v pg_ctlcluster >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
