#!/usr/bin/env bash
# octet-train on ImageNet-layout data: a small folder of JPEGs written with libjpeg (3 classes,
# 8 training and 2 validation images each, sizes 17x23 .. 70x41, one grey image per split; see
# jpeg_writer.h). Usage: octet_train_imagenet_test.sh OCTET_TRAIN MAKE_IMAGE_FOLDER NETWORKS_DIR CASE.
# Prints what differs and exits 1 on a failure.
set -u
train=$1
make_folder=$2
networks=$3
case_name=$4
work=$(mktemp -d "${TMPDIR:-/tmp}/octet_train_imagenet.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
"$make_folder" inet 8 || exit 1
# A small RGB network: its global average pool lets it take any input size.
cat >tiny_rgb.net <<'EOF'
network tiny_rgb
input   x    3x16x16
conv    c1   x out=8 k=3 s=2 p=1
bnrelu  b1   c1
avgpool gap  b1 global
linear  fc   gap out=3
EOF

fail() { echo "FAIL ($case_name): $*"; exit 1; }
# run ARGS...: octet-train on the folder, quickly; sets rc, out (stdout), err (stderr).
# NET, SIZE and THREADS override the network, --image-size and --threads.
run() {
  "$train" --imagenet inet --network "${NET:-tiny_rgb.net}" --image-size "${SIZE:-16}" --batch 4 --mode int8 \
    --threads "${THREADS:-1}" --no-plot "$@" >out.txt 2>err.txt
  rc=$?
  out=$(cat out.txt)
  err=$(cat err.txt)
}
expect_error() {
  [ "$rc" = "$1" ] || fail "exit status $rc, expected $1; stderr: $err"
  [ "$err" = "$2" ] || fail "stderr is
$err
expected
$2"
}
# expect_late_error STATUS MESSAGE: a failure during training: the start line, then MESSAGE.
expect_late_error() {
  [ "$rc" = "$1" ] || fail "exit status $rc, expected $1; stderr: $err"
  [ "$(wc -l <err.txt)" = 2 ] && [[ "$(head -1 err.txt)" == "octet-train: tiny_rgb "* ]] &&
    [ "$(tail -1 err.txt)" = "$2" ] || fail "stderr is
$err
expected the start line and
$2"
}
digest() { grep "integer state digest" out.txt; }
# corrupt KIND FILE: makes FILE a non-JPEG, a truncated or a corrupt JPEG.
corrupt() {
  /usr/bin/python3 - "$1" "$2" <<'EOF'
import sys
kind, path = sys.argv[1], sys.argv[2]
data = bytearray(open(path, "rb").read())
if kind == "nonjpeg":
    data = bytearray(b"\x89PNG\r\n\x1a\n" + bytes(64))
elif kind == "truncated":
    data = data[: len(data) * 2 // 3]
else:  # an end-of-image marker a third of the way into the scan
    sos = data.index(b"\xff\xda")
    mid = sos + 14 + (len(data) - sos - 14) // 3
    data[mid : mid + 2] = b"\xff\xd9"
open(path, "wb").write(data)
EOF
}

case "$case_name" in
  imagenet_trains_deterministically)
    run --epochs 2 --log run.json
    [ "$rc" = 0 ] || fail "training failed: $err"
    first=$(digest)
    [ -n "$first" ] || fail "no digest: $out"
    grep -q "24 train / 6 test images (16x16, 1 decoding threads)" err.txt || fail "stderr: $err"
    THREADS=2 run --epochs 2 --decode-threads 3
    [ "$rc" = 0 ] && [ "$(digest)" = "$first" ] || fail "other thread counts: $(digest), first $first; $err"
    run --epochs 2 --seed 2
    [ "$rc" = 0 ] && [ "$(digest)" != "$first" ] || fail "another seed, the same digest $first"
    /usr/bin/python3 - <<'EOF' || fail "log: $(cat run.json)"
import json
c = json.load(open("run.json"))["config"]
assert c["data"] == "imagenet-folder" and c["data_dir"] == "inet", c
assert c["image_size"] == 16 and c["bad_images"] == "fatal" and c["decode_threads"] == 1 and c["classes"] == 3, c
assert c["train_images"] == 24 and c["test_images"] == 6, c
EOF
    # --train-limit and --test-limit take images spread over the classes.
    run --train-limit 12 --test-limit 3
    [ "$rc" = 0 ] && grep -q "12 train / 3 test images" err.txt || fail "limits: $err"
    ;;
  imagenet_resume_is_bit_identical)
    run --epochs 2
    straight=$(digest)
    run --epochs 1 --checkpoint ck.bin
    run --epochs 2 --resume ck.bin
    [ "$rc" = 0 ] && [ -n "$straight" ] && [ "$(digest)" = "$straight" ] || fail "resumed $(digest), straight $straight: $err"
    run --epochs 2 --resume ck.bin --bad-images skip
    expect_error 2 "octet-train: error: ck.bin: field 'bad_images': checkpoint has fatal, command line has skip"
    ;;
  imagenet_bad_images)
    for kind in nonjpeg truncated corrupt; do
      rm -rf inet && "$make_folder" inet 8
      corrupt $kind inet/train/ant/img_03.JPEG
      case $kind in
        nonjpeg) why="not a JPEG file (starts with 0x89 0x50)" ;;
        truncated) why="truncated: Premature end of JPEG file" ;;
        corrupt) why="Corrupt JPEG data: premature end of data segment" ;;
      esac
      run
      expect_late_error 2 "octet-train: error: inet/train/ant/img_03.JPEG: field 'jpeg': $why (--bad-images skip replaces such images)"
      run --bad-images skip --epochs 2
      [ "$rc" = 0 ] || fail "$kind skipped: rc $rc, $err"
      [ "$(grep -c warning err.txt)" = 1 ] &&
        grep -qxF "octet-train: warning: inet/train/ant/img_03.JPEG: field 'jpeg': $why (skipped: --bad-images skip)" err.txt ||
        fail "$kind: one warning expected: $err"
      skipped=$(digest)
      THREADS=2 run --bad-images skip --epochs 2 --decode-threads 4
      [ "$rc" = 0 ] && [ "$(digest)" = "$skipped" ] || fail "$kind skipped with other threads: $(digest), $skipped"
    done
    ;;
  imagenet_layout_errors)
    "$train" --image-size 32 >out.txt 2>err.txt; rc=$?; err=$(cat err.txt)
    expect_error 2 "octet-train: error: --image-size requires --imagenet (see --help)"
    run --data inet
    expect_error 2 "octet-train: error: --data excludes --imagenet (see --help)"
    "$train" --imagenet missing --network tiny_rgb.net >out.txt 2>err.txt; rc=$?; err=$(cat err.txt)
    expect_error 2 "octet-train: error: missing/train: field 'folder': no such directory"
    mkdir inet/train/empty
    run
    expect_error 2 "octet-train: error: inet/train/empty: field 'images': class folder has no images"
    rmdir inet/train/empty
    mkdir -p inet/val/other && cp inet/val/ant/img_00.JPEG inet/val/other/
    run
    expect_error 2 "octet-train: error: inet/val/other: field 'classes': class folder not in the training split's classes"
    rm -r inet/val/other
    NET="$networks/small_resnet.net" run
    expect_error 2 "octet-train: error: $networks/small_resnet.net: field 'input': the network takes 1x28x28 images, ImageNet-layout data is 3x16x16 (RGB)"
    sed 's/out=3/out=2/' tiny_rgb.net >two.net
    NET=two.net run
    expect_error 2 "octet-train: error: two.net: field 'out' of the last layer: 2 classes, inet/train has 3"
    # Without the global pool the classifier's inputs depend on the image size.
    sed 's/avgpool gap  b1 global/avgpool gap  b1 k=2 s=2/' tiny_rgb.net >fixed.net
    NET=fixed.net SIZE=32 run
    expect_error 2 "octet-train: error: --image-size: field 'image_size': fixed.net's parameters depend on its 16x16 input size (no global average pool before the classifier); use 16 or a description with input 3x32x32"
    NET=fixed.net run
    [ "$rc" = 0 ] || fail "fixed.net at its own size: $err"
    ;;
  imagenet_resnets_small_input)
    # The shipped ResNet-18/34/50 (1000 classes, 3 used) at 32x32: a few steps, every layer integer.
    for net in resnet18 resnet34 resnet50; do
      "$train" --imagenet inet --network "$networks/$net.net" --image-size 32 --batch 4 --train-limit 8 \
        --test-limit 4 --mode both --threads 2 --no-plot >out.txt 2>err.txt
      rc=$?; err=$(cat err.txt)
      [ "$rc" = 0 ] && grep -q "^octet-train: $net (.* parameters), 8 train / 4 test images (32x32" err.txt ||
        fail "$net: rc $rc: $err"
      [[ "$(digest)" =~ ^integer\ state\ digest\ [0-9a-f]{16}$ ]] || fail "$net: no digest: $(cat out.txt)"
    done
    ;;
  *)
    fail "unknown case"
    ;;
esac
echo "PASS ($case_name)"
