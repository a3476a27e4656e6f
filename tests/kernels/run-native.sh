#!/bin/sh
# run-native.sh PROGRAM — run a 32-bit Linux test program; exit 77 (skipped)
# when the host kernel cannot execute i386 programs at all (no IA32
# emulation: execve fails with ENOEXEC and the shell reports 126).
"$1"
status=$?
if [ $status -eq 126 ]; then
    echo "skipped: this host cannot execute i386 programs (no IA32 emulation)"
    exit 77
fi
exit $status
