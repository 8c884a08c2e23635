#!/usr/bin/env python3
"""Prints the names of the golden cases in a folder (NAME for each NAME.upg), one per line."""
import os
import sys

for name in sorted(os.listdir(sys.argv[1])):
    if name.endswith(".upg"):
        print(name[:-4])
