#!/usr/bin/env bash
# Package consumer test: packs RnnGen to a local folder feed and builds fresh projects that reference only that
# package, with their own NuGet package folder (so no stale copy of this version can be picked up):
#   consumer/    a net8.0 console app (rolled forward to the installed runtime) declaring two models; it is run and
#                checks its own results (Step = Forward, batch = single, save/load, training lowers the loss)
#   netstandard/ a netstandard2.1 C# 9 library, as Unity builds one: it must compile against lib/netstandard2.1 (the
#                generated code is the same for every target; the kernels, portable here, are the runtime's)
# Also checks the package layout and metadata. Exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/rnngen-package.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

fail() { echo "package test: FAILED: $*" >&2; exit 1; }

version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$repo/Directory.Build.props" | head -n 1)"
[ -n "$version" ] || fail "no <Version> in Directory.Build.props"
echo "package test: packing RnnGen $version"
dotnet pack "$repo/src/Runtime/RnnGen.Runtime.csproj" -c Release -o "$work/feed" -nologo -v quiet
nupkg="$work/feed/RnnGen.$version.nupkg"
[ -f "$nupkg" ] || fail "expected $nupkg; the feed has: $(ls "$work/feed")"
[ -f "$work/feed/RnnGen.$version.snupkg" ] || fail "no symbols package RnnGen.$version.snupkg"

# Layout and metadata.
listing="$(unzip -Z1 "$nupkg")"
for file in README.md \
    lib/net8.0/RnnGen.Runtime.dll lib/net8.0/RnnGen.Runtime.xml \
    lib/netstandard2.1/RnnGen.Runtime.dll lib/netstandard2.1/RnnGen.Runtime.xml \
    analyzers/dotnet/cs/RnnGen.Generator.dll; do
  grep -qx "$file" <<<"$listing" || fail "package lacks $file"
done
if [ -f "$repo/src/CodeFixes/RnnGen.CodeFixes.csproj" ]; then
  grep -qx analyzers/dotnet/cs/RnnGen.CodeFixes.dll <<<"$listing" || fail "package lacks analyzers/dotnet/cs/RnnGen.CodeFixes.dll"
fi
if grep -E '^lib/.*(Generator|CodeFixes)' <<<"$listing"; then fail "an analyzer dll is under lib/"; fi
symbols="$(unzip -Z1 "$work/feed/RnnGen.$version.snupkg")"
for file in lib/net8.0/RnnGen.Runtime.pdb lib/netstandard2.1/RnnGen.Runtime.pdb; do
  grep -qx "$file" <<<"$symbols" || fail "symbols package lacks $file"
done
nuspec="$(unzip -p "$nupkg" RnnGen.nuspec)"
for pattern in "<id>RnnGen</id>" "<version>$version</version>" '<license type="expression">MIT</license>' \
    "<readme>README.md</readme>" "<description>" "<tags>" '<group targetFramework="net8.0"' '<group targetFramework=".NETStandard2.1"'; do
  grep -qF "$pattern" <<<"$nuspec" || fail "nuspec lacks $pattern"
done
if grep '<dependency' <<<"$nuspec" | grep -Ei 'id="(RnnGen|Microsoft\.CodeAnalysis)'; then fail "build-time analyzers leak into the dependencies"; fi
echo "package test: layout and metadata OK ($(wc -l <<<"$listing") files)"

# Restore: the local feed for RnnGen only, the machine's usual sources for everything else, a private package folder.
sources=""
count=0
while IFS= read -r url; do
  [ -n "$url" ] || continue
  count=$((count + 1))
  sources+="    <add key=\"machine$count\" value=\"$url\" />"$'\n'
done < <(dotnet nuget list source --format short 2>/dev/null | awk '$1 ~ /^E/ { print $2 }')
[ -n "$sources" ] || sources='    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />'$'\n'
keys="$(sed -n 's/.*key="\([^"]*\)".*/\1/p' <<<"$sources")"
{
  echo '<?xml version="1.0" encoding="utf-8"?>'
  echo '<configuration>'
  echo '  <packageSources>'
  echo '    <clear />'
  echo "    <add key=\"rnngen-local\" value=\"$work/feed\" />"
  printf '%s' "$sources"
  echo '  </packageSources>'
  echo '  <packageSourceMapping>'
  echo '    <packageSource key="rnngen-local"><package pattern="RnnGen" /></packageSource>'
  for key in $keys; do echo "    <packageSource key=\"$key\"><package pattern=\"*\" /></packageSource>"; done
  echo '  </packageSourceMapping>'
  echo '</configuration>'
} > "$work/nuget.config"
export NUGET_PACKAGES="$work/packages"

for project in consumer netstandard; do
  mkdir -p "$work/$project"
  cp "$here/$project"/*.cs "$here/$project"/*.csproj "$work/$project/"
done
cp "$work/nuget.config" "$work/consumer/"
cp "$work/nuget.config" "$work/netstandard/"

echo "package test: building a netstandard2.1 library (C# 9) against the package"
dotnet build "$work/netstandard" -c Release -nologo -v quiet -clp:NoSummary -p:RnnGenVersion="$version"
generated="$(find "$work/netstandard/obj" -name '*.g.cs' -path '*RnnGen.Generator*')"
[ "$(wc -l <<<"$generated")" -eq 2 ] || fail "expected 2 generated files in the netstandard2.1 build, found: $generated"
if grep -l 'System.Runtime.Intrinsics' $generated; then fail "netstandard2.1 generated code uses System.Runtime.Intrinsics"; fi

echo "package test: building and running a net8.0 console app against the package"
dotnet build "$work/consumer" -c Release -nologo -v quiet -clp:NoSummary -p:RnnGenVersion="$version"
output="$(dotnet "$work/consumer/bin/Release/net8.0/Consumer.dll")" || fail "the consumer exited with $?: $output"
echo "$output"
grep -qE '^consumer: all [0-9]+ checks passed$' <<<"$output" || fail "the consumer did not report its checks"
echo "package test: OK"
