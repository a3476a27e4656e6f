# workload.sh — deterministic busybox work: fork, exec, pipes and files.
# Prints "workload <sha256>"; the test runs it in the guest and natively on
# the host with the same static busybox, and the two must agree.
set -e
d=${TMPDIR:-/tmp}/workload.$$
mkdir -p "$d"
cd "$d"
seq 1 3000 | awk '{ print ($1 * 7919) % 10007, $1 }' > nums
sort -n nums | uniq | tr ' ' ',' > sorted
i=0
while [ $i -lt 40 ]; do
    echo "line $i $(expr $i \* $i + 1)"
    i=$((i + 1))
done > loop
cat sorted loop | gzip -c > all.gz
gzip -dc all.gz | md5sum | cut -d ' ' -f 1 > md5
{
    wc -l < sorted
    cat md5
    grep -c ',1' sorted
    head -c 5000 /dev/zero | tr '\0' 'x' | wc -c
    sed -n '100,110p' sorted | sort -t , -k 2 -n | tail -n 3
} > summary
sha=$(cat sorted loop summary | sha256sum | cut -d ' ' -f 1)
cd /
rm -rf "$d"
echo "workload $sha"
