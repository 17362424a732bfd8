#!/usr/bin/env bash
# Installs the Debian packages the test suite drives as independent clients: the AWS CLI v2
# (awscli, a second client of the local cloud) and Chromium (the gallery page test).
# Idempotent: does nothing when both are present. Needs root (or sudo) to install.
set -euo pipefail
need=()
/usr/bin/aws --version >/dev/null 2>&1 || need+=(awscli)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing Debian packages for the tests: ${need[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
