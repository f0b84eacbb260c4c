#!/bin/sh
# Install one context and the kernel from a folder of built wheels, and nothing
# else from this repository: the image of a context holds no other context.
# Usage: install-context.sh <context> <wheel-folder>
set -eu
context="$1"
wheels="$2"

kernel=$(ls "$wheels"/shared_kernel-*.whl)
package=$(ls "$wheels"/context_"$context"-*.whl)
python -m pip install --no-cache-dir --disable-pip-version-check "$kernel" "$package"
