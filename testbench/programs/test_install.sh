#!/bin/sh
# cmake --install into a temporary prefix, move the installed tree elsewhere, and run installed
# programs on their default data: they must find it beside themselves (golden/data_path.h), not
# in the source or build tree. Then remove an installed data file: the program must now fail
# naming the installed path, which shows that the installed copy is the one it reads.
# Usage: test_install.sh <cmake> <build dir>
set -eu
cmake=$1
build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$cmake" --install "$build" --prefix "$tmp/first" >/dev/null
mv "$tmp/first" "$tmp/moved"
prefix=$tmp/moved
cd "$tmp"

# octet-train's default network: share/octet/networks/small_resnet.net.
"$prefix/bin/octet-train" --mode int8 --epochs 1 --train-limit 32 --test-limit 32 --batch 16 --threads 1 \
  --progress-every 1000 >train.txt 2>&1 || { cat train.txt; echo "installed octet-train failed"; exit 1; }
rm "$prefix/share/octet/networks/small_resnet.net"
if "$prefix/bin/octet-train" --mode int8 --epochs 1 --train-limit 32 --test-limit 32 --batch 16 --threads 1 >missing.txt 2>&1; then
  echo "octet-train ran without its installed default network"; exit 1
fi
grep -F "$prefix/share/octet/networks/small_resnet.net" missing.txt >/dev/null ||
  { cat missing.txt; echo "octet-train's error does not name the installed network"; exit 1; }

# octet-sim's plot script: share/octet/tools/plot_sim_report.py (octet-sim needs the SystemC model).
if [ -x "$prefix/bin/octet-sim" ]; then
  "$prefix/bin/octet-sim" --quiet --plot "$tmp/step.png" >sim.txt 2>&1 || { cat sim.txt; echo "installed octet-sim --plot failed"; exit 1; }
  [ -s "$tmp/step.png" ] || { echo "octet-sim --plot wrote no PNG"; exit 1; }
  rm "$prefix/share/octet/tools/plot_sim_report.py"
  if "$prefix/bin/octet-sim" --quiet --plot "$tmp/again.png" >missing.txt 2>&1; then
    echo "octet-sim --plot ran without its installed plot script"; exit 1
  fi
  grep -F "$prefix/share/octet/tools/plot_sim_report.py" missing.txt >/dev/null ||
    { cat missing.txt; echo "octet-sim's error does not name the installed plot script"; exit 1; }
fi
# The rest of the data is installed too.
for f in networks/resnet50.net topologies/resnet18.csv topologies/octet16x16.cfg model/energy/horowitz45.json; do
  [ -f "$prefix/share/octet/$f" ] || { echo "not installed: share/octet/$f"; exit 1; }
done
echo "installed programs find their data in $prefix/share/octet"
