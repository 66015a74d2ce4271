#!/usr/bin/env bash
# octet-train's behaviour on bad input and its outputs, on a tiny generated data set (128 train
# and 64 test images of Fashion-MNIST's shape, plain IDX). Usage: octet_train_cli_test.sh
# OCTET_TRAIN CASE. Prints what differs and exits 1 on a failure.
set -u
train=$1
case_name=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/octet_train_cli.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
mkdir data
/usr/bin/python3 - <<'EOF' || exit 1
import random, struct
rng = random.Random(5)
for prefix, n in (("train", 128), ("t10k", 64)):
    with open(f"data/{prefix}-images-idx3-ubyte", "wb") as f:
        f.write(bytes([0, 0, 8, 3]) + struct.pack(">III", n, 28, 28))
        f.write(bytes(rng.randrange(256) for _ in range(n * 28 * 28)))
    with open(f"data/{prefix}-labels-idx1-ubyte", "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + struct.pack(">I", n) + bytes(rng.randrange(10) for _ in range(n)))
EOF

fail() { echo "FAIL ($case_name): $*"; exit 1; }
# run ARGS...: runs octet-train quickly on the tiny data; sets rc, out (stdout), err (stderr).
run() {
  "$train" --data data --mode "${MODE:-int8}" --threads 1 --test-limit 32 "$@" >out.txt 2>err.txt
  rc=$?
  out=$(cat out.txt)
  err=$(cat err.txt)
}
# expect_error STATUS MESSAGE: stderr is exactly the one line MESSAGE, the status STATUS.
expect_error() {
  [ "$rc" = "$1" ] || fail "exit status $rc, expected $1; stderr: $err"
  [ "$err" = "$2" ] || fail "stderr is
$err
expected
$2"
}

case "$case_name" in
  batch_larger_than_training_set)
    # Was a SIGFPE (steps per epoch 0) when resuming; now refused before anything is loaded.
    run --batch 64 --checkpoint ck.bin
    [ "$rc" = 0 ] || fail "training for the checkpoint failed: $err"
    run --batch 128 --train-limit 100 --resume ck.bin
    expect_error 2 "octet-train: error: --batch: field 'batch': 128 is larger than the 100 training images (--train-limit)"
    run --batch 256
    expect_error 2 "octet-train: error: --batch: field 'batch': 256 is larger than the 128 training images"
    ;;
  resume_refuses_other_options)
    run --batch 32 --epochs 1 --checkpoint ck.bin
    [ "$rc" = 0 ] || fail "training for the checkpoint failed: $err"
    # option|value|field|saved value
    for change in "--seed|2|seed|1" "--bn-decay-shift|4|bn_decay_shift|3" "--weight-decay-log2|-1|weight_decay_log2|13" \
                  "--schedule|0:26:7:0.1|schedule|0:511:7:0.1,5:128:7:0.02,8:32:7:0.004" "--batch|16|batch|32" \
                  "--train-limit|96|train_images|128"; do
      IFS='|' read -r option value field saved <<<"$change"
      batch=(--batch 32)
      [ "$option" = --batch ] && batch=()
      run "${batch[@]}" --epochs 2 --resume ck.bin "$option" "$value"
      expect_error 2 "octet-train: error: ck.bin: field '$field': checkpoint has $saved, command line has $value"
    done
    # Other data of the same size: the data digest differs.
    /usr/bin/python3 -c "
b = bytearray(open('data/train-images-idx3-ubyte', 'rb').read()); b[100] ^= 1
open('data/train-images-idx3-ubyte', 'wb').write(b)"
    run --batch 32 --epochs 2 --resume ck.bin
    [ "$rc" = 2 ] && [[ "$err" == "octet-train: error: ck.bin: field 'train_data': checkpoint has "* ]] ||
      fail "other training data accepted (rc $rc): $err"
    ;;
  resume_is_bit_identical)
    run --batch 32 --epochs 2
    straight=$(grep "integer state digest" out.txt)
    run --batch 32 --epochs 1 --checkpoint ck.bin
    run --batch 32 --epochs 2 --resume ck.bin
    [ "$rc" = 0 ] || fail "resume failed: $err"
    [ -n "$straight" ] && [ "$(grep "integer state digest" out.txt)" = "$straight" ] ||
      fail "resumed digest $(grep digest out.txt), straight $straight"
    ;;
  corrupt_checkpoint)
    run --batch 32 --checkpoint ck.bin
    printf '\x01' | dd of=ck.bin bs=1 seek=200 conv=notrunc status=none
    run --batch 32 --epochs 2 --resume ck.bin
    [ "$rc" = 2 ] && [[ "$err" == "octet-train: error: ck.bin: field 'checksum': stored "* ]] ||
      fail "corrupt checkpoint (rc $rc): $err"
    ;;
  outputs_checked_before_work)
    # No data directory: the output paths must be refused first.
    "$train" --data missing --log /proc/octet-train-log.json >out.txt 2>err.txt; rc=$?; err=$(cat err.txt)
    expect_error 2 "octet-train: error: /proc/octet-train-log.json: field '--log': cannot create files in '/proc': No such file or directory"
    mkdir adir
    "$train" --data missing --checkpoint adir >out.txt 2>err.txt; rc=$?; err=$(cat err.txt)
    expect_error 2 "octet-train: error: adir: field '--checkpoint': is a directory, expected a file name"
    "$train" --data missing --log nodir/run.json >out.txt 2>err.txt; rc=$?; err=$(cat err.txt)
    expect_error 2 "octet-train: error: nodir/run.json: field '--log': directory 'nodir' does not exist"
    ;;
  seed_must_be_a_natural_number)
    for seed in -1 1x 0x10 18446744073709551616 ""; do
      run --batch 64 --seed "$seed"
      expect_error 2 "octet-train: error: --seed: field 'seed': '$seed' is not an integer in 0..18446744073709551615"
    done
    run --batch 64 --seed 18446744073709551615
    [ "$rc" = 0 ] || fail "the largest seed was refused: $err"
    ;;
  memory_limit)
    run --batch 64 --max-memory 0.01
    [ "$rc" = 2 ] && [[ "$err" == *"small_resnet.net: field 'batch': training small_resnet at batch 64 needs about "*" MiB (data and int8 training state), more than --max-memory 0.01 GiB" ]] ||
      fail "(rc $rc): $err"
    [ "$(echo "$err" | wc -l)" = 1 ] || fail "not one line: $err"
    ;;
  version_and_streams)
    "$train" --version >out.txt 2>err.txt; rc=$?
    [ "$rc" = 0 ] && [[ "$(cat out.txt)" =~ ^octet-train\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "--version: $(cat out.txt)"
    run --batch 64 --epochs 2 --progress-every 1
    [ "$rc" = 0 ] || fail "training failed: $err"
    # stdout: the table and the digest only; stderr: the progress.
    [ "$(head -1 out.txt | tr -s ' ')" = "epoch mode lr_q gscale train loss train acc test acc img/s" ] || fail "stdout: $out"
    [ "$(wc -l <out.txt)" = 4 ] && [[ "$(tail -1 out.txt)" =~ ^integer\ state\ digest\ [0-9a-f]{16}$ ]] || fail "stdout: $out"
    grep -q "epoch 2/2 int8  done" err.txt && grep -q "images" err.txt || fail "stderr has no progress: $err"
    ;;
  log_and_plot)
    MODE=both run --batch 32 --epochs 2 --train-limit 64 --log run.json
    [ "$rc" = 0 ] || fail "training failed: $err"
    /usr/bin/python3 - <<'EOF' || fail "log: $(cat run.json)"
import json
log = json.load(open("run.json"))
assert list(log) == ["format", "version", "config", "epochs"], list(log)
assert log["format"] == "octet-train-log" and log["version"] == 2
c = log["config"]
for key in ("program", "network_file", "network", "network_digest", "data_dir", "train_data_digest", "mode", "epochs",
            "batch", "seed", "threads", "schedule", "train_limit", "test_limit", "bn_decay_shift", "weight_decay_log2",
            "max_memory_gib", "checkpoint", "resume", "plot"):
    assert key in c, key
assert c["program"].startswith("octet-train ") and c["data_dir"] == "data" and c["threads"] == 1 and c["batch"] == 32
assert c["train_images"] == 64 and c["seed"] == 1
assert [(r["mode"], r["epoch"]) for r in log["epochs"]] == [("int8", 1), ("fp32", 1), ("int8", 2), ("fp32", 2)]
EOF
    if /usr/bin/python3 -c "import matplotlib" 2>/dev/null; then
      [ "$(head -c 8 run.png | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] || fail "no PNG beside the log"
    fi
    # Without matplotlib: a warning, the training still succeeds, no PNG.
    rm -f run.png
    OCTET_PYTHON=/bin/false run --batch 32 --log run.json
    [ "$rc" = 0 ] || fail "training failed without matplotlib: $err"
    grep -q "^octet-train: warning: no python3 with matplotlib" err.txt || fail "no warning: $err"
    [ ! -e run.png ] || fail "a PNG without matplotlib"
    ;;
  *)
    fail "unknown case"
    ;;
esac
echo "PASS ($case_name)"
