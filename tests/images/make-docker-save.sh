#!/usr/bin/env bash
# Converts a single-image OCI layout (as made by make-busybox-oci.sh) into a
# tar in the classic `docker save` format, without Docker:
#   tests/images/make-docker-save.sh LAYOUT_DIR OUT_TAR [REPO:TAG]
# Output: <config-hex>.json, <n>/layer.tar (uncompressed), <n>/VERSION,
# manifest.json ([{"Config","RepoTags","Layers"}]) and repositories.
# With DUP_LAST_LAYER=1 the last layer is listed twice, the second time as a
# symlink, as docker save does for repeated layers.
set -euo pipefail

layout=${1:?usage: make-docker-save.sh LAYOUT_DIR OUT_TAR [REPO:TAG]}
out=${2:?usage: make-docker-save.sh LAYOUT_DIR OUT_TAR [REPO:TAG]}
tag=${3:-busybox:latest}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
blob() { echo "$layout/blobs/sha256/${1#sha256:}"; }

manifest=$(jq -r '.manifests[0].digest' "$layout/index.json")
config=$(jq -r '.config.digest' "$(blob "$manifest")")
cp "$(blob "$config")" "$work/${config#sha256:}.json"

layers=()
n=0
for l in $(jq -r '.layers[].digest' "$(blob "$manifest")"); do
  n=$((n + 1))
  mkdir "$work/$n"
  case $(jq -r --arg d "$l" '.layers[] | select(.digest == $d) | .mediaType' "$(blob "$manifest")") in
    *+gzip) gzip -dc "$(blob "$l")" >"$work/$n/layer.tar" ;;
    *+zstd) zstd -qdc "$(blob "$l")" >"$work/$n/layer.tar" ;;
    *) cp "$(blob "$l")" "$work/$n/layer.tar" ;;
  esac
  echo 1.0 >"$work/$n/VERSION"
  layers+=("$n/layer.tar")
done

if [ "${DUP_LAST_LAYER:-0}" = 1 ]; then
  mkdir "$work/dup"
  ln -s "../$n/layer.tar" "$work/dup/layer.tar"
  layers+=("dup/layer.tar")
  last=$(jq -r '.rootfs.diff_ids[-1]' "$work/${config#sha256:}.json")
  jq -c --arg d "$last" '.rootfs.diff_ids += [$d]' "$work/${config#sha256:}.json" >"$work/config.new"
  rm "$work/${config#sha256:}.json"
  c=$(sha256sum "$work/config.new" | cut -d' ' -f1)
  mv "$work/config.new" "$work/$c.json"
  config=sha256:$c
fi

printf '%s\n' "${layers[@]}" | jq -R . | jq -sc --arg c "${config#sha256:}.json" --arg t "$tag" \
  '[{"Config": $c, "RepoTags": [$t], "Layers": .}]' >"$work/manifest.json"
printf '{"%s":{"%s":"%s"}}\n' "${tag%:*}" "${tag##*:}" "$n" >"$work/repositories"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$work" -cf "$out" .
echo "$tag $config"
