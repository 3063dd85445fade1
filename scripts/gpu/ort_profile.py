"""Sums an ONNX Runtime profile (ADDSR_BENCH_ORT_PROFILE=PREFIX writes
PREFIX_<date>.json when a session closes) by operator and provider: where a
graph's time goes, node by node, on whichever execution provider ran it.
  python3 scripts/gpu/ort_profile.py PROFILE.json [--top 12] [--skip 3]
--skip leaves out the first runs (warm-up, kernel selection). Standard
library only, so it runs on the device as it is.
"""
import argparse
import collections
import json
import statistics


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('profile')
    ap.add_argument('--top', type=int, default=12)
    ap.add_argument('--skip', type=int, default=0, help='leave out the first N runs')
    a = ap.parse_args()
    events = json.load(open(a.profile))
    runs = sorted((e for e in events if e.get('cat') == 'Session' and e.get('name') == 'model_run'), key=lambda e: e['ts'])
    if not runs:
        print(f'{a.profile}: no runs recorded')
        return
    if a.skip >= len(runs):
        print(f'{a.profile}: {len(runs)} runs, none left after --skip {a.skip}')
        return
    start = runs[a.skip]['ts']
    kept = runs[a.skip:]
    by_op, by_node, count = collections.Counter(), collections.Counter(), collections.Counter()
    for e in events:
        if e.get('cat') != 'Node' or not e.get('name', '').endswith('_kernel_time') or e['ts'] < start:
            continue
        args = e.get('args', {})
        op = (args.get('provider', '?').replace('ExecutionProvider', ''), args.get('op_name', '?'))
        by_op[op] += e['dur']
        count[op] += 1
        by_node[(op, e['name'][:-len('_kernel_time')])] += e['dur']
    n = max(len(kept), 1)
    total = sum(by_op.values())
    walls = [r['dur'] for r in kept]
    print(f'{a.profile}: {len(runs)} runs, {len(kept)} counted; run wall median {statistics.median(walls) / 1000:.2f} ms, '
          f'node kernels {total / n / 1000:.2f} ms per run')
    print('  (on a GPU a node\'s time is mostly its launch on the host, not the GPU\'s work, unless it synchronises)')
    print(f'  {"provider":<8} {"operator":<28} {"ms/run":>8} {"share":>6} {"nodes/run":>9}')
    for (prov, op), us in by_op.most_common(a.top):
        print(f'  {prov:<8} {op:<28} {us / n / 1000:8.3f} {100 * us / max(total, 1):5.1f}% {count[(prov, op)] / n:9.1f}')
    print(f'  slowest nodes:')
    for ((prov, op), name), us in by_node.most_common(min(a.top, 8)):
        print(f'  {prov:<8} {op:<18} {us / n / 1000:8.3f} ms/run  {name[:70]}')


if __name__ == '__main__':
    main()
