#!/bin/sh
# Install one context and the kernel from a folder of built wheels, and nothing
# else from this repository: the image of a context holds no other context.
# The images run this script, and so does the test that installs the wheels
# into a fresh virtual environment, so both install the same way.
#
# Usage: install-context.sh <context> <wheel-folder>
#   <context>  email, data or report; or "kernel" for the kernel alone (the
#              producer's image)
# The wheels' own dependencies come from the package index pip is set up for.
set -eu

if [ "$#" -ne 2 ]; then
    echo "usage: install-context.sh <context> <wheel-folder>" >&2
    exit 2
fi
context="$1"
wheels="$2"

# Print the one wheel of a distribution in the folder, or stop with the reason.
one_wheel() {
    name="$1"
    set -- "$wheels/$name"-*.whl
    if [ "$#" -eq 1 ] && [ -f "$1" ]; then
        echo "$1"
        return
    fi
    [ -f "$1" ] || set --
    echo "install-context.sh: expected one $name wheel in $wheels, found $#;" \
         "build the wheels first, into an empty folder" >&2
    exit 1
}

kernel=$(one_wheel shared_kernel)
if [ "$context" = kernel ]; then
    set -- "$kernel"
else
    package=$(one_wheel "context_$context")
    set -- "$kernel" "$package"
fi
python -m pip install --no-cache-dir --disable-pip-version-check "$@"
