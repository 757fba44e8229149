#!/usr/bin/env bash
# A stand-in for `docker` / `podman`, for tests on machines without a container engine.
# It accepts the arguments ContainerTransport builds and runs the container's command locally,
# the way the container would: in its own process group (so `kill NAME` stops everything in it),
# in the mounted directory, with only the variables named by -e. It records each argv (NUL
# separated, one file per call) so tests can check what the transport passed.
# STATE (the directory for pid files and the argv log) is written in by the test.
set -u
STATE=__STATE__
printf '%s\0' "$@" > "$STATE/argv.$(date +%s%N).$$"
cmd="${1:-}"
shift || true
case "$cmd" in
  version)
    echo "Client: container-cli-stand-in 1.0"
    echo "Server: container-cli-stand-in 1.0"
    exit 0
    ;;
  kill)
    pgid=$(cat "$STATE/$1.pgid" 2>/dev/null) || { echo "Error: No such container: $1" >&2; exit 1; }
    kill -KILL -- "-$pgid" 2>/dev/null
    exit 0
    ;;
  run) ;;
  *)
    echo "stand-in: unknown command '$cmd'" >&2
    exit 125
    ;;
esac
name="" mount_src="" mount_dst="" workdir=""
envs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rm | -i) shift ;;
    --name) name="$2"; shift 2 ;;
    -v) mount_src="${2%%:*}"; mount_dst="${2#*:}"; shift 2 ;;
    -w) workdir="$2"; shift 2 ;;
    -e) envs+=("$2"); shift 2 ;;
    --network) shift 2 ;;
    -*) echo "stand-in: unsupported option '$1'" >&2; exit 125 ;;
    *) break ;;
  esac
done
image="${1:?stand-in: no image}"
shift
if [ -z "$name" ] || [ "$workdir" != "$mount_dst" ] || [ ! -d "$mount_src" ]; then
  echo "stand-in: expected --name and -w equal to the -v mount point" >&2
  exit 125
fi
if [ "$image" = "missing:image" ]; then
  echo "Unable to find image '$image' locally" >&2
  exit 125
fi
cd "$mount_src" || exit 125
vars=()
for v in "${envs[@]+"${envs[@]}"}"; do
  vars+=("$v=${!v-}")
done
# The container's pid 1: a new session and process group whose id is this shell's pid.
echo "$$" > "$STATE/$name.pgid"
exec setsid env -i PATH="$PATH" HOME=/root HOSTNAME="$name" ${vars[@]+"${vars[@]}"} "$@"
