#!/bin/sh
# What bench/harness.py needs from the system: wrk (HTTP load, Lua scripts) and pgbench (in Debian's
# postgresql-client-common / postgresql-client). Installed from the distribution's packages only; nothing else
# is downloaded at run time. Run as root, or with sudo available.
set -eu
missing=""
command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
command -v pgbench >/dev/null 2>&1 || missing="$missing postgresql-client"
command -v psql >/dev/null 2>&1 || missing="$missing postgresql-client"
[ -z "$missing" ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "bench/install.sh: installing$missing" >&2
$sudo apt-get update -qq
# shellcheck disable=SC2086 # word splitting of the package list is wanted
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
