"""Which mapped file a program counter is in: a crash's PC (the Go runtime
prints "PC=0x…" for a signal in cgo code) against a copy of the process's
/proc/PID/maps taken while it ran.
  python3 scripts/gpu/pc_library.py 0x7f48372eb456 MAPS
"""
import sys


def main():
    pc = int(sys.argv[1], 16)
    for line in open(sys.argv[2]):
        f = line.split()
        lo, hi = (int(x, 16) for x in f[0].split('-'))
        if lo <= pc < hi:
            name = f[5] if len(f) > 5 else '[anonymous]'
            print(f'   PC {sys.argv[1]} in {name} at file offset {pc - lo + int(f[2], 16):#x} ({f[1]})')
            return
    print(f'   PC {sys.argv[1]} is in no mapping of {sys.argv[2]}')


if __name__ == '__main__':
    main()
