#!/usr/bin/env bash
# Installs everything Streamgate needs to build, run and test on Debian 12 (idempotent).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2046
$SUDO apt-get install -y -q --no-install-recommends $(grep -v '^#' "$here/debian-packages.txt")
# Debian's nodejs has no npm; NodeSource's nodejs has one and conflicts with Debian's package.
command -v npm > /dev/null || $SUDO apt-get install -y -q --no-install-recommends npm
