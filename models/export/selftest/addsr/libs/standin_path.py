"""Puts runners/addsr/testdata (standin.py) on the path for the fakes."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', '..', 'runners', 'addsr', 'testdata'))
import standin  # noqa: E402,F401


def modules():
    """The stand-in modules, built with standin.py's seed."""
    return standin.build()
