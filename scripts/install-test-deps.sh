#!/bin/sh
# What the test suite needs from the system beyond the Python packages: Ruby (its standard library only), for
# tests/compat/test_ruby_client.py, which runs HubRise's own Ruby client (vendored) against a live server.
# Installs from the distribution's packages only what is missing; does nothing when all is there. Run as root,
# or with sudo available. Debian/Ubuntu (apt-get).
set -eu
missing=""
command -v ruby >/dev/null 2>&1 || missing="$missing ruby"
[ -z "$missing" ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "scripts/install-test-deps.sh: installing$missing" >&2
$sudo apt-get update -qq
# shellcheck disable=SC2086 # word splitting of the package list is wanted
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
