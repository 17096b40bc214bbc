#!/usr/bin/env bash
# Builds RnnGen as a Unity Package Manager package: unity/build-package.sh OUTPUT_DIR writes
#   OUTPUT_DIR/com.rnngen.runtime/          the package folder (Add package from disk, or copy it into Packages/)
#   OUTPUT_DIR/com.rnngen.runtime-V.tgz     the same as an npm-style tarball, one top-level package/ folder (Add package
#                                           from tarball)
# Layout: package.json; Runtime/ the netstandard2.1 build of src/Runtime (Release) and every DLL it needs at run time
# (from `dotnet publish -f netstandard2.1`); Analyzers/ the source generator (netstandard2.0) labelled RoslynAnalyzer and
# enabled on no platform; Samples~/Agents (unity/Samples/Agents); Documentation~ (docs/unity.md); README, LICENSE,
# CHANGELOG. Every file and folder Unity imports gets a .meta whose GUID is derived from its path in the package (md5), so
# rebuilds are byte-stable for Unity and a package update never re-links a user's references. Samples~ and Documentation~
# are ignored by Unity's importer (a trailing ~), so they carry none. See docs/unity.md.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUTPUT_DIR" >&2; exit 2; }
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
mkdir -p "$1"
out="$(cd "$1" && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

name=com.rnngen.runtime
fail() { echo "unity package: FAILED: $*" >&2; exit 1; }

version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$repo/Directory.Build.props" | head -n 1)"
[ -n "$version" ] || fail "no <Version> in Directory.Build.props"

work="$(mktemp -d "${TMPDIR:-/tmp}/rnngen-unity.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# The runtime for netstandard2.1 with its dependency closure: publishing a library copies the runtime assets of its
# packages (System.Numerics.Tensors, Microsoft.Bcl.Numerics, System.Text.Json and what it needs, Unsafe).
echo "unity package: dotnet publish src/Runtime -f netstandard2.1 (Release)"
timeout --kill-after=30 10m dotnet publish "$repo/src/Runtime/RnnGen.Runtime.csproj" -f netstandard2.1 -c Release \
  -o "$work/runtime" -nologo -v quiet -nodeReuse:false
[ -f "$work/runtime/RnnGen.Runtime.dll" ] || fail "no RnnGen.Runtime.dll in the publish output"

echo "unity package: dotnet build src/Generator (Release)"
timeout --kill-after=30 10m dotnet build "$repo/src/Generator/RnnGen.Generator.csproj" -c Release -nologo -v quiet \
  -nodeReuse:false -clp:NoSummary
generator="$(timeout --kill-after=30 5m dotnet msbuild "$repo/src/Generator/RnnGen.Generator.csproj" -nologo \
  -p:Configuration=Release -getProperty:TargetPath)"
[ -f "$generator" ] || fail "no generator at '$generator'"

package="$out/$name"
rm -rf "$package"
mkdir -p "$package/Runtime" "$package/Analyzers" "$package/Samples~" "$package/Documentation~"

cp "$work/runtime/"*.dll "$work/runtime/RnnGen.Runtime.xml" "$package/Runtime/"
cp "$generator" "$package/Analyzers/"
cp -r "$here/Samples/Agents" "$package/Samples~/Agents"
cp "$repo/docs/unity.md" "$package/Documentation~/index.md"
cp "$repo/LICENSE" "$package/LICENSE.md"
cp "$repo/CHANGELOG.md" "$package/CHANGELOG.md"

cat > "$package/README.md" <<README
# RnnGen for Unity ($name $version)

Compile-time RNN, LSTM and GRU models for C#: declare \`[RecurrentModel(...)]\` on a partial class and the source
generator (Analyzers/RnnGen.Generator.dll) writes fixed-shape, allocation-free forward, streaming \`Step\`, multi-agent
\`Step\` and training code for it. The runtime (Runtime/RnnGen.Runtime.dll) is the netstandard2.1 build, with portable
kernels (Unity has no System.Runtime.Intrinsics). PyTorch-exact equations and safetensors weights.

Start with Documentation~/index.md (install, supported Unity versions, IL2CPP, where weights files go, frame budget)
and the Agents sample (Package Manager > RnnGen > Samples > Import).
README

cat > "$package/package.json" <<JSON
{
  "name": "$name",
  "version": "$version",
  "displayName": "RnnGen",
  "description": "Compile-time RNN, LSTM and GRU models for C#: a source generator expands [RecurrentModel(...)] on a partial class into fixed-shape, allocation-free inference (sequences, padded batches, streaming and multi-agent Step) and training code, with PyTorch-exact equations and safetensors weights. For Mono and IL2CPP: the netstandard2.1 runtime with portable kernels.",
  "unity": "2022.3",
  "unityRelease": "12f1",
  "license": "MIT",
  "author": { "name": "RnnGen contributors" },
  "keywords": ["rnn", "lstm", "gru", "neural-network", "machine-learning", "source-generator", "pytorch", "safetensors", "agents"],
  "samples": [
    {
      "displayName": "Agents",
      "description": "A MonoBehaviour that steps a GRU for N agents once per frame (one multi-agent Step, no allocation per frame), with weights from StreamingAssets or a random initialization.",
      "path": "Samples~/Agents"
    }
  ]
}
JSON

# .meta files. GUID: the md5 of "<package name>/<path in the package>", so it is the same on every build and machine.
guid() { printf '%s' "$name/$1" | md5sum | cut -c1-32; }
meta_plain() {  # $1 path in the package, $2 importer block
  printf 'fileFormatVersion: 2\nguid: %s\n%s' "$(guid "$1")" "$2" > "$package/$1.meta"
}
folder_importer=$'folderAsset: yes\nDefaultImporter:\n  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n'
text_importer=$'TextScriptImporter:\n  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n'
package_importer=$'PackageManifestImporter:\n  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n'
# A runtime plugin: every platform, Editor included, referenced automatically by the project's assemblies.
runtime_plugin=$'PluginImporter:\n  externalObjects: {}\n  serializedVersion: 2\n  iconMap: {}\n  executionOrder: {}\n  defineConstraints: []\n  isPreloaded: 0\n  isOverridable: 0\n  isExplicitlyReferenced: 0\n  validateReferences: 1\n  platformData:\n  - first:\n      Any: \n    second:\n      enabled: 1\n      settings: {}\n  - first:\n      Editor: Editor\n    second:\n      enabled: 1\n      settings:\n        DefaultValueInitialized: true\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n'
# The generator: a Roslyn analyzer (the RoslynAnalyzer label), loaded by the compiler, never a plugin of any platform.
analyzer_plugin=$'labels:\n- RoslynAnalyzer\nPluginImporter:\n  externalObjects: {}\n  serializedVersion: 2\n  iconMap: {}\n  executionOrder: {}\n  defineConstraints: []\n  isPreloaded: 0\n  isOverridable: 0\n  isExplicitlyReferenced: 0\n  validateReferences: 1\n  platformData:\n  - first:\n      Any: \n    second:\n      enabled: 0\n      settings: {}\n  - first:\n      Editor: Editor\n    second:\n      enabled: 0\n      settings:\n        DefaultValueInitialized: true\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n'

meta_plain package.json "$package_importer"
for file in README.md LICENSE.md CHANGELOG.md Runtime/RnnGen.Runtime.xml; do meta_plain "$file" "$text_importer"; done
for folder in Runtime Analyzers; do meta_plain "$folder" "$folder_importer"; done
for dll in "$package/Runtime/"*.dll; do meta_plain "Runtime/$(basename "$dll")" "$runtime_plugin"; done
meta_plain Analyzers/RnnGen.Generator.dll "$analyzer_plugin"

# The tarball: package/ at the top, as `npm pack` writes it; sorted, owner-less and dated by the last commit (or 0),
# so the same sources give the same bytes.
stamp="$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 0)"
mkdir -p "$work/tar"
cp -r "$package" "$work/tar/package"
tarball="$out/$name-$version.tgz"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$stamp" -C "$work/tar" -cf - package | gzip -n -9 > "$tarball"

echo "unity package: $package ($(find "$package" -type f | wc -l) files)"
echo "unity package: $tarball"
