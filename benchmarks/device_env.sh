# Make trmseq runnable on a lent GPU machine, which starts bare and offline: source it first.
#
#   source benchmarks/device_env.sh        (at the repository root, with .whl carried)
#
# The machine's Python has torch, numpy, pandas, lxml, typer, rich and pyyaml
# (.library/device/KINDS.md) but not pyteomics or platformdirs; those travel as wheels in .whl
# (git-ignored), made once on a machine with pip access:
#
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 -d .whl \
#       pyteomics==5.0.1 platformdirs==4.14.9
#
# trmseq itself runs from src/ (no build step): a `trmseq` command in /tmp/trmseq-bin calls
# `python3 -m trmseq`, so the scripts' `trmseq ...` and `torchrun -m trmseq` both work.
if ! ls .whl/*.whl > /dev/null 2>&1; then
    echo "device_env.sh: no wheels in .whl (see the header of this script)" >&2
    return 2 2> /dev/null || exit 2
fi
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/trmseq-site .whl/*.whl \
    || { echo "device_env.sh: installing the wheels in .whl failed" >&2; return 1 2> /dev/null || exit 1; }
export PYTHONPATH="$PWD/src:/tmp/trmseq-site${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p /tmp/trmseq-bin
printf '#!/bin/sh\nexec python3 -m trmseq "$@"\n' > /tmp/trmseq-bin/trmseq
chmod +x /tmp/trmseq-bin/trmseq
export PATH="/tmp/trmseq-bin:$PATH"
python3 -c "import trmseq, pyteomics, platformdirs; print('trmseq from', trmseq.__file__)"
