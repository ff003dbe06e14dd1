#!/usr/bin/env python3
"""Creates benchmark data sets of incompressible files.

  make_data.py small DIR   10,000 files of 4-64 KiB in 100 folders (about 340 MB)
  make_data.py large DIR   eight files of 256 MiB (2 GiB)
  make_data.py mixed DIR   2,000 files of 4-64 KiB (the large files are linked in by the caller)
"""
import os
import random
import sys


def small(root: str) -> None:
    generator = random.Random(42)
    for index in range(10_000):
        folder = os.path.join(root, f"folder-{index % 100:03}")
        os.makedirs(folder, exist_ok=True)
        size = generator.randint(4 * 1024, 64 * 1024)
        with open(os.path.join(folder, f"file-{index:05}.bin"), "wb") as output:
            output.write(os.urandom(size))


def mixed(root: str) -> None:
    generator = random.Random(7)
    for index in range(2_000):
        folder = os.path.join(root, "small", f"folder-{index % 40:02}")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"file-{index:04}.bin"), "wb") as output:
            output.write(os.urandom(generator.randint(4 * 1024, 64 * 1024)))


def large(root: str) -> None:
    os.makedirs(root, exist_ok=True)
    chunk = 4 * 1024 * 1024
    for index in range(8):
        with open(os.path.join(root, f"disk-{index}.vhd"), "wb") as output:
            for _ in range(256 * 1024 * 1024 // chunk):
                output.write(os.urandom(chunk))


if __name__ == "__main__":
    kind, root = sys.argv[1], sys.argv[2]
    {"small": small, "large": large, "mixed": mixed}[kind](root)
