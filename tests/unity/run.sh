#!/usr/bin/env bash
# Unity package test (Unity itself cannot run here; this tests everything up to it):
#   1. unity/build-package.sh into a temporary folder;
#   2. the package's structure: every file and folder
#      Unity imports has a .meta and every GUID is unique, the generator's .meta has the RoslynAnalyzer label and no
#      platform enabled, the runtime DLLs' .meta enable them, the runtime DLL is the netstandard2.1 build (its
#      TargetFramework attribute, no System.Runtime.Intrinsics), the tarball holds the same files under package/;
#   3. builds Consumer/, a C# 9 netstandard2.1 library that references only the package's DLLs (as Unity compiles a
#      project), holding the Agents sample's core from Samples~ and models of PyTorch fixtures;
#   4. runs the checks (Runner/, net10.0) against the package's netstandard2.1 runtime, and package.json's (it parses,
#      carries Directory.Build.props' version and the fields UPM shows). Last line: "N passed, N failed".
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/rnngen-unity-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

fail() { echo "unity test: FAILED: $*" >&2; exit 1; }

timeout --kill-after=30 15m bash "$repo/unity/build-package.sh" "$work/out"
package="$work/out/com.rnngen.runtime"
version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$repo/Directory.Build.props" | head -n 1)"
tarball="$work/out/com.rnngen.runtime-$version.tgz"
[ -d "$package" ] || fail "no package folder"
[ -f "$tarball" ] || fail "no tarball $tarball"

# Files Unity imports (everything but the ~ folders and the .meta files themselves) each have a .meta; no .meta is left
# without its asset; GUIDs are unique.
imported="$(cd "$package" && find . -mindepth 1 -not -path './*~' -not -path './*~/*' -not -name '*.meta' | sed 's:^\./::' | sort)"
for asset in $imported; do
  [ -f "$package/$asset.meta" ] || fail "$asset has no .meta"
  grep -qE '^guid: [0-9a-f]{32}$' "$package/$asset.meta" || fail "$asset.meta has no guid line"
done
for meta in $(cd "$package" && find . -name '*.meta' | sed 's:^\./::'); do
  [ -e "$package/${meta%.meta}" ] || fail "$meta has no asset"
done
guids="$(cat $(find "$package" -name '*.meta') | sed -n 's/^guid: //p')"
[ "$(sort <<<"$guids" | uniq -d)" = "" ] || fail "duplicate GUIDs: $(sort <<<"$guids" | uniq -d)"
echo "unity test: $(wc -l <<<"$imported") imported assets, each with a .meta, $(wc -l <<<"$guids") unique GUIDs"

# Samples~ and Documentation~
for file in Samples~/Agents/AgentsBrain.cs Samples~/Agents/AgentsBrainCore.cs Samples~/Agents/README.md Documentation~/index.md \
    README.md LICENSE.md CHANGELOG.md; do
  [ -s "$package/$file" ] || fail "package lacks $file"
done
grep -q 'MonoBehaviour' "$package/Samples~/Agents/AgentsBrain.cs" || fail "AgentsBrain.cs is not a MonoBehaviour"
if grep -qE '^using UnityEngine|UnityEngine\.' "$package/Samples~/Agents/AgentsBrainCore.cs"; then fail "AgentsBrainCore.cs uses UnityEngine"; fi

# The generator: labelled RoslynAnalyzer, enabled on no platform; the runtime DLLs: plugins on every platform.
analyzer_meta="$package/Analyzers/RnnGen.Generator.dll.meta"
[ -f "$package/Analyzers/RnnGen.Generator.dll" ] || fail "no Analyzers/RnnGen.Generator.dll"
grep -qx -- '- RoslynAnalyzer' "$analyzer_meta" || fail "the generator's .meta lacks the RoslynAnalyzer label"
if grep -q 'enabled: 1' "$analyzer_meta"; then fail "the generator is enabled on a platform: $(grep -B4 'enabled: 1' "$analyzer_meta")"; fi
[ "$(ls "$package/Analyzers")" = "$(printf 'RnnGen.Generator.dll\nRnnGen.Generator.dll.meta')" ] || fail "Analyzers/ holds more than the generator: $(ls "$package/Analyzers")"
for dll in "$package/Runtime/"*.dll; do
  grep -q 'PluginImporter:' "$dll.meta" && grep -q 'enabled: 1' "$dll.meta" || fail "$(basename "$dll") is not a plugin enabled on any platform"
  if grep -q RoslynAnalyzer "$dll.meta"; then fail "$(basename "$dll") is labelled RoslynAnalyzer"; fi
done
for dll in RnnGen.Runtime System.Numerics.Tensors Microsoft.Bcl.Numerics System.Text.Json System.Runtime.CompilerServices.Unsafe; do
  [ -f "$package/Runtime/$dll.dll" ] || fail "Runtime/ lacks $dll.dll"
done
runtime_dll="$package/Runtime/RnnGen.Runtime.dll"
grep -qa '.NETStandard,Version=v2.1' "$runtime_dll" || fail "RnnGen.Runtime.dll is not the netstandard2.1 build"
if grep -qa 'System.Runtime.Intrinsics' "$runtime_dll"; then fail "RnnGen.Runtime.dll refers to System.Runtime.Intrinsics"; fi

# The tarball: the same files under package/.
diff <(tar -tzf "$tarball" | grep -v '/$' | sed 's:^package/::' | sort) <(cd "$package" && find . -type f | sed 's:^\./::' | sort) \
  || fail "the tarball's files differ from the folder's (above)"
outside="$(tar -tzf "$tarball" | grep -v '^package/' || true)"
[ -z "$outside" ] || fail "the tarball has entries outside package/: $outside"
echo "unity test: structure OK"

# Build the consumer against the package's DLLs only, then run the checks.
cp -r "$here/Consumer" "$here/Runner" "$work/"
echo "unity test: building a C# 9 netstandard2.1 library against the package's DLLs"
timeout --kill-after=30 10m dotnet build "$work/Consumer" -c Release -nologo -v quiet -clp:NoSummary -nodeReuse:false \
  -p:UnityPackage="$package"
generated="$(find "$work/Consumer/obj" -name '*.g.cs' -path '*RnnGen.Generator*')"
[ "$(wc -l <<<"$generated")" -eq 16 ] || fail "expected 16 generated models (15 fixtures and the sample's), found: $generated"
if grep -l 'System.Runtime.Intrinsics' $generated; then fail "generated code uses System.Runtime.Intrinsics"; fi
echo "unity test: building and running the checks (net10.0)"
timeout --kill-after=30 10m dotnet build "$work/Runner" -c Release -nologo -v quiet -clp:NoSummary -nodeReuse:false \
  -p:UnityPackage="$package" -o "$work/run"
timeout --kill-after=30 5m dotnet "$work/run/UnityRunner.dll" "$repo/tests/golden/fixtures" "$package/package.json" "$version" | tee "$work/run.log" \
  || fail "the checks failed (above)"
grep -q "^runtime: $work/run/RnnGen.Runtime.dll (.NETStandard,Version=v2.1)$" "$work/run.log" || fail "the checks did not run on the package's netstandard2.1 runtime"
cmp -s "$work/run/RnnGen.Runtime.dll" "$runtime_dll" || fail "the runner loaded another RnnGen.Runtime.dll than the package's"
tail -n 1 "$work/run.log" | grep -qE '^[1-9][0-9]* passed, 0 failed$' || fail "unexpected last line: $(tail -n 1 "$work/run.log")"
echo "unity test: OK"
