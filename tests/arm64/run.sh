#!/usr/bin/env bash
# ARM64 (NEON) checks under emulation: publishes tests/arm64 (the test project's PyTorch-fixture checks, linked source)
# self-contained for linux-arm64 and runs it under qemu-aarch64-static. On arm64 the generated kernels take the 128-bit
# path on AdvSimd (NEON); the runner prints the path and checks it. Emulation checks correctness only: it says nothing
# about speed on real ARM64 hardware. Installs what it needs (Debian: qemu-user-static and the arm64 C runtime; apt-get
# runs only when one of them is missing). The last line of the run is "N passed, N failed"; exits non-zero if any check
# failed, none ran, or the run was not on the arm64 128-bit path.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
out="$repo/artifacts/arm64"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

fail() { echo "arm64: FAILED: $*" >&2; exit 1; }

# Packages: the emulator, and the arm64 libraries a self-contained .NET program loads (no ICU: InvariantGlobalization).
packages=(qemu-user-static libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64 zlib1g:arm64)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "arm64: installing ${missing[*]}"
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || fail "not root and no sudo; install: ${missing[*]} (after dpkg --add-architecture arm64)"
    as_root=(sudo -n)
  fi
  dpkg --print-foreign-architectures | grep -qx arm64 || "${as_root[@]}" dpkg --add-architecture arm64
  timeout --kill-after=30 10m "${as_root[@]}" apt-get update -q
  timeout --kill-after=30 15m "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "arm64: ${packages[*]} already installed"
fi
command -v qemu-aarch64-static >/dev/null || fail "qemu-aarch64-static not found after installing qemu-user-static"

# Build: only this project (and the runtime and generator it references), self-contained for linux-arm64, into a fresh
# artifacts/arm64 so no stale file is run.
rm -rf "$out"
echo "arm64: dotnet publish tests/arm64 -r linux-arm64 --self-contained"
timeout --kill-after=30 15m dotnet publish "$repo/tests/arm64" -c Release -r linux-arm64 --self-contained \
  -o "$out/publish" -nologo -v quiet
[ -x "$out/publish/RnnGen.Tests" ] || fail "no $out/publish/RnnGen.Tests after publishing"

# Run: W^X off (its double mapping of code pages is slow and fragile under user-mode emulation); the vector-path test
# must see the 128-bit path.
echo "arm64: running under qemu-aarch64-static"
(cd "$out/publish" && DOTNET_EnableWriteXorExecute=0 RNNGEN_EXPECT_VECTOR_PATH=128 \
  timeout --kill-after=30 15m qemu-aarch64-static ./RnnGen.Tests) | tee "$out/run.log"
grep -q '^process: Arm64 ' "$out/run.log" || fail "the runner did not report an Arm64 process"
grep -q '^vector path: 128 .*AdvSimd True' "$out/run.log" || fail "the kernels are not on the 128-bit AdvSimd path"
tail -n 1 "$out/run.log" | grep -qE '^[1-9][0-9]* passed, 0 failed$' || fail "unexpected last line: $(tail -n 1 "$out/run.log")"
