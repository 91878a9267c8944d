#!/usr/bin/env bash
# Publishes FileXfer as the benchmarks run it: the server ReadyToRun (framework-dependent), the client Native AOT, or
# ReadyToRun when the AOT build cannot be made; OUT/client/.build-kind says which ("aot" or "readytorun").
#   bench/publish.sh TREE OUT      TREE: a checkout's root (its src/Server and src/Client); OUT gets server/ and client/
set -euo pipefail
tree=${1:?usage: bench/publish.sh TREE OUT}
out=${2:?usage: bench/publish.sh TREE OUT}
mkdir -p "$out"
dotnet publish "$tree/src/Server" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$out/server" > /dev/null
rm -rf "$out/client"
if dotnet publish "$tree/src/Client" -c Release -r linux-x64 -p:PublishAot=true -o "$out/client" > /dev/null 2>&1; then
  echo aot > "$out/client/.build-kind"
else
  echo "publish: Native AOT build failed; the client is ReadyToRun" >&2
  dotnet publish "$tree/src/Client" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$out/client" > /dev/null
  echo readytorun > "$out/client/.build-kind"
fi
