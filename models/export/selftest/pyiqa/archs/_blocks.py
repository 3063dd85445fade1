"""Building blocks shared with bench/learned/standins.py (the full-size
random-weight networks), and the path to pyiqa_torch.py."""
import os
import sys

_root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', '..')
sys.path.insert(0, os.path.join(_root, 'bench', 'learned'))
sys.path.insert(0, os.path.join(_root, 'metrics', 'testdata', 'nr'))

from standins import EncoderBlock, MusiqBottleneck, StdConv, Swin, TABlock, same_pad  # noqa: E402,F401
import pyiqa_torch  # noqa: E402,F401
