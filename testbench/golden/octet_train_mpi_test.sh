#!/usr/bin/env bash
# Data-parallel octet-train under mpirun (docs/numerics.md §12): K oversubscribed ranks with a
# global batch B end with the state digest of one process with batch B, on the small ResNet with
# Fashion-MNIST and on ResNet-18 at 32x32 with an ImageNet-layout folder; a checkpoint resumes
# with another rank count; bad input stops every rank with one line and status 2.
# Usage: octet_train_mpi_test.sh MPIRUN OCTET_TRAIN MAKE_IMAGE_FOLDER CASE.
set -u
mpirun=$1
train=$2
make_folder=$3
case_name=$4
work=$(mktemp -d "${TMPDIR:-/tmp}/octet_train_mpi.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
# CI runs as root; Open MPI refuses that unless told. -q: no help banners on a failure.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

fail() { echo "FAIL ($case_name): $*"; exit 1; }
# run K ARGS...: octet-train with K ranks (K = 0: no mpirun); sets rc, out, err.
run() {
  local k=$1
  shift
  if [ "$k" = 0 ]; then
    "$train" --threads 1 --no-plot "$@" >out.txt 2>err.txt
  else
    "$mpirun" -q --oversubscribe -np "$k" "$train" --threads 1 --no-plot "$@" >out.txt 2>err.txt
  fi
  rc=$?
  out=$(cat out.txt)
  err=$(cat err.txt)
}
digest() { grep "^integer state digest" out.txt; }
# same_digest K WANT ARGS...
same_digest() {
  local k=$1 want=$2
  shift 2
  run "$k" "$@"
  [ "$rc" = 0 ] || fail "$k ranks: exit $rc: $err"
  [ "$(digest)" = "$want" ] || fail "$k ranks: $(digest), one process: $want"
}
small=(--train-limit 384 --test-limit 200 --batch 24 --mode int8)

case "$case_name" in
  mpi_ranks_match_one_process)
    run 0 "${small[@]}" --epochs 2 --seed 5
    [ "$rc" = 0 ] || fail "one process: $err"
    one=$(digest)
    [ -n "$one" ] || fail "no digest: $out"
    acc=$(grep "^    2  int8" out.txt)
    same_digest 2 "$one" "${small[@]}" --epochs 2 --seed 5 --log run.json
    # the table (global batch: the same loss and accuracies), one start line naming the ranks
    [ "$(grep "^    2  int8" out.txt | awk '{print $5, $6, $7}')" = "$(echo "$acc" | awk '{print $5, $6, $7}')" ] ||
      fail "table: $(cat out.txt) vs $acc"
    [ "$(grep -c "^octet-train: small_resnet" err.txt)" = 1 ] && grep -q "2 ranks (data-parallel, 12-12 images" err.txt ||
      fail "start line: $err"
    /usr/bin/python3 -c 'import json,sys; c=json.load(open("run.json"))["config"]; sys.exit(c["ranks"] != 2)' ||
      fail "log: $(head -c 600 run.json)"
    # the reductions' cost per epoch: every parameter's gradient is summed as an int64 (and BN
    # moments and maxima besides), so at least 8 bytes per parameter and step; 16 steps an epoch
    params=$(sed -n 's/^octet-train: small_resnet (\([0-9]*\) parameters).*/\1/p' err.txt)
    [ -n "$params" ] || fail "no parameter count: $err"
    /usr/bin/python3 - "$params" <<'EOP' || fail "allreduce records: $(grep -A6 allreduce run.json | head -20)"
import json, sys
params = int(sys.argv[1])
e = json.load(open("run.json"))["epochs"]
a = [r["allreduce"] for r in e]
ok = len(a) == 2 and all(x["bytes_per_step"] > 8 * params and x["bytes"] == 16 * x["bytes_per_step"] and
                         x["calls"] == 16 * x["calls_per_step"] and x["seconds"] >= 0 for x in a)
sys.exit(0 if ok and a[0]["calls"] == a[1]["calls"] and a[0]["bytes"] == a[1]["bytes"] else 1)
EOP
    [ "$(grep -c "^epoch [12]/2 allreduce (rank 0): .* calls and .* MB per step" err.txt)" = 2 ] ||
      fail "allreduce lines: $err"
    # 5 ranks: uneven shards of 4 and 5 images
    same_digest 5 "$one" "${small[@]}" --epochs 2 --seed 5
    grep -q "4-5 images per rank" err.txt || fail "uneven shards: $err"
    run 2 "${small[@]}" --epochs 2 --seed 6
    [ "$rc" = 0 ] && [ "$(digest)" != "$one" ] || fail "another seed, the same digest"
    ;;
  mpi_resume_with_other_rank_count)
    run 0 "${small[@]}" --epochs 3 --log one.json
    [ "$rc" = 0 ] || fail "one process: $err"
    # the one process's digests after epochs 2 and 3
    mapfile -t after < <(/usr/bin/python3 -c 'import json; [print("integer state digest " + e["state_digest"]) for e in json.load(open("one.json"))["epochs"]]')
    [ "${after[2]}" = "$(digest)" ] || fail "log digests ${after[*]}, final $(digest)"
    run 2 "${small[@]}" --epochs 1 --checkpoint ck.bin
    [ "$rc" = 0 ] && [ -s ck.bin ] || fail "2 ranks, epoch 1: $err"
    same_digest 3 "${after[1]}" "${small[@]}" --epochs 2 --resume ck.bin --checkpoint ck.bin
    grep -q "resumed ck.bin at epoch 1" err.txt || fail "resume line: $err"
    same_digest 0 "${after[2]}" "${small[@]}" --epochs 3 --resume ck.bin  # and back to one process
    ;;
  mpi_resnet18_small_input)
    "$make_folder" inet 6 || exit 1
    net=(--imagenet inet --image-size 32 --batch 6 --mode int8 --train-limit 12)
    run 0 "${net[@]}"
    [ "$rc" = 0 ] || fail "one process: $err"
    same_digest 2 "$(digest)" "${net[@]}"
    grep -q "^octet-train: resnet18 (11687720 parameters)" err.txt || fail "start line: $err"
    ;;
  mpi_errors)
    run 2 "${small[@]/int8/both}"
    [ "$rc" = 2 ] && [ "$err" = "octet-train: error: --mode: field 'mode': a data-parallel run (2 ranks) trains the integer network only; use --mode int8 (the FP32 twin runs in one process)" ] ||
      fail "--mode both: exit $rc: $err"
    run 3 --batch 2 --train-limit 64
    [ "$rc" = 2 ] && [ "$err" = "octet-train: error: --batch: field 'batch': 2 is smaller than the 3 ranks of this data-parallel run" ] ||
      fail "--batch 2: exit $rc: $err"
    # a corrupt image found by one rank during training stops all of them
    "$make_folder" inet 6 || exit 1
    printf 'not a jpeg' >inet/train/Moth/img_02.JPEG
    run 2 --imagenet inet --network tiny --image-size 16 --batch 4 --mode int8
    [ "$rc" = 2 ] || fail "a network file that does not exist: exit $rc: $err"
    [ "$(wc -l <err.txt)" = 1 ] || fail "one line expected: $err"
    cat >tiny.net <<'EON'
network tiny_rgb
input   x    3x16x16
conv    c1   x out=8 k=3 s=2 p=1
bnrelu  b1   c1
avgpool gap  b1 global
linear  fc   gap out=3
EON
    timeout 120 "$mpirun" -q --oversubscribe -np 2 "$train" --threads 1 --no-plot --imagenet inet --network tiny.net \
      --image-size 16 --batch 4 --mode int8 >out.txt 2>err.txt
    rc=$?
    [ "$rc" = 2 ] || fail "a corrupt image: exit $rc: $(cat err.txt)"
    grep -q "^octet-train\( (rank 1)\)\?: error: inet/train/Moth/img_02.JPEG: field 'jpeg': not a JPEG file" err.txt ||
      fail "a corrupt image: $(cat err.txt)"
    ;;
  *)
    fail "unknown case"
    ;;
esac
echo "PASS ($case_name)"
