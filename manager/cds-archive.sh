#!/usr/bin/env bash
# Makes the Manager's class-data sharing archive exactly as manager/Dockerfile's RUN line does (its
# words, its flags), for a jar and an archive at other paths than the image's: what CI checks and what
# bench/scale.sh measures is then the image's own archive. The training's output goes to stdout.
# Usage: manager/cds-archive.sh JAR ARCHIVE
set -euo pipefail
jar=${1:?usage: cds-archive.sh JAR ARCHIVE} archive=${2:?usage: cds-archive.sh JAR ARCHIVE}
dockerfile="$(dirname "$0")/Dockerfile"
train=$(grep -E '^RUN java .*-XX:ArchiveClassesAtExit=' "$dockerfile" | sed 's/^RUN //') \
  || { echo "cds-archive: $dockerfile has no class-data sharing training line" >&2; exit 1; }
read -ra argv <<<"${train//\/opt\/hostdeploy\/manager.jsa/$archive}"
exec "${argv[@]//\/opt\/hostdeploy\/hostdeploy-manager.jar/$jar}"
