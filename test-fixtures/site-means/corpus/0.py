import os
import sys


def main(argv):
    paths = [p for p in argv if os.path.exists(p)]
    for path in paths:
        with open(path) as fh:
            text = fh.read()
        print("%s: %d" % (path, len(text)))
    return 0
