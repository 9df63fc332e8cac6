#!/usr/bin/env bash
# Create (or refresh) the project virtualenv with a pinned MMSegmentation
# stack and the project itself.
#
# Usage: bash tools/setup_env.sh                         (from any directory)
#        MMHIER_STACK=upstream bash tools/setup_env.sh
#
# Stacks (README "Supported stack"):
#   onedl     (default) the maintained forks onedl-mmsegmentation 1.4.2 +
#             onedl-mmengine 0.10.12 + mmcv-lite 2.2.0, numpy 2. No compiler
#             step: every package is a wheel or a pure-Python sdist.
#   upstream  mmsegmentation 1.2.2 + mmengine 0.10.7 + full mmcv 2.1.0
#             compiled from source (about 8.5 min on 2 cores the first time;
#             pip caches the wheel), numpy 1.26.
#
# Environment:
#   MMHIER_STACK       onedl (default) or upstream
#   MMHIER_VENV        venv path (default: <repo>/.venv for onedl,
#                      <repo>/.venv-upstream for upstream)
#   MMHIER_PYTHON      interpreter used to create the venv
#                      (default: python3.11, else python3)
#   MMHIER_FORCE=1     reinstall even if the stamp says the venv is current
#   MMHIER_TORCH_INDEX_URL  optional index for the torch step only, e.g.
#                      https://download.pytorch.org/whl/cpu on machines
#                      without a local CPU torch wheel
#
# Install order (see requirements/mmseg.txt and upstream.txt for the reasons):
#   1. torch==2.13.0, alone and explicitly
#   2. requirements/{runtime,<stack>,tests}.txt in one resolver run
#      (<stack>: mmseg.txt for onedl, upstream.txt for upstream)
#   3. the mm* packages with --no-deps: requirements/mmcv_nodeps.txt (onedl);
#      requirements/upstream_nodeps.txt, then mmcv==2.1.0 compiled (upstream)
#   4. the project: pip install --no-deps -e .
# A stamp file in the venv holds a hash of the inputs; re-running with
# unchanged inputs exits in well under a second.
set -euo pipefail

t_start=$(date +%s)

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "${script_dir}/.." && pwd)"
cd "${repo_root}"

stack="${MMHIER_STACK:-onedl}"
case "${stack}" in
    onedl)    default_venv="${repo_root}/.venv"
              stack_reqs=requirements/mmseg.txt
              setuptools_req="setuptools>=77,<90" ;;
    upstream) default_venv="${repo_root}/.venv-upstream"
              stack_reqs=requirements/upstream.txt
              setuptools_req="setuptools>=64,<70" ;;
    *) echo "[setup_env] ERROR: MMHIER_STACK=${stack}: unknown stack; use onedl (default) or upstream" >&2
       exit 2 ;;
esac
venv="${MMHIER_VENV:-${default_venv}}"
stamp="${venv}/.mmhier-setup.stamp"
torch_req="torch==2.13.0"

log() { printf '[setup_env] %s\n' "$*"; }

# --- pick the bootstrap interpreter ---------------------------------------
py="${MMHIER_PYTHON:-}"
if [[ -z "${py}" ]]; then
    for cand in python3.11 python3; do
        if command -v "${cand}" >/dev/null 2>&1; then
            py="${cand}"
            break
        fi
    done
fi
if [[ -z "${py}" ]]; then
    echo "[setup_env] ERROR: neither python3.11 nor python3 found" >&2
    exit 1
fi
py_ver="$("${py}" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
case "${py_ver}" in
    3.11) ;;
    3.10|3.12) log "WARNING: ${py} is Python ${py_ver}; the stack is pinned and tested on 3.11" ;;
    *) echo "[setup_env] ERROR: ${py} is Python ${py_ver}; need 3.11 (3.10-3.12 may work)" >&2
       exit 1 ;;
esac

# --- inputs hash (idempotence) --------------------------------------------
hash_inputs=(tools/setup_env.sh requirements/*.txt)
for f in setup.py setup.cfg pyproject.toml; do
    [[ -f "${f}" ]] && hash_inputs+=("${f}")
done
inputs_hash="$(
    "${py}" - "${py_ver}" "${venv}" "${MMHIER_TORCH_INDEX_URL:-}" "${stack}" "${hash_inputs[@]}" <<'PYEOF'
import hashlib, sys
h = hashlib.sha256()
for a in sys.argv[1:5]:
    h.update(a.encode() + b"\0")
for path in sys.argv[5:]:
    h.update(path.encode() + b"\0")
    with open(path, "rb") as fh:
        h.update(fh.read())
print(h.hexdigest())
PYEOF
)"

if [[ "${MMHIER_FORCE:-0}" != "1" && -x "${venv}/bin/python" && -f "${stamp}" ]] \
        && [[ "$(cat "${stamp}")" == "${inputs_hash}" ]]; then
    log "venv ${venv} (${stack} stack) is up to date (stamp matches); nothing to do"
    log "setup took $(( $(date +%s) - t_start )) s"
    exit 0
fi

# --- venv -----------------------------------------------------------------
if [[ ! -x "${venv}/bin/python" ]]; then
    log "creating venv ${venv} with ${py} (Python ${py_ver})"
    "${py}" -m venv "${venv}"
else
    log "reusing venv ${venv}"
fi
rm -f "${stamp}"   # an interrupted run must not look complete

vpy="${venv}/bin/python"
pip_cmd=("${vpy}" -m pip --disable-pip-version-check --no-input -q)
# pip with the (harmless, machine-specific) "Location 'file:///...' is
# ignored" warnings of local find-links/extra-index mirrors filtered out.
run_pip() {
    local rc=0
    "${pip_cmd[@]}" "$@" \
        2> >(grep -v "is ignored: it is neither a file nor a directory" >&2) \
        || rc=$?
    return "${rc}"
}

log "upgrading pip / setuptools / wheel"
# onedl: setuptools>=77, as onedl-mmsegmentation's pyproject uses a PEP 639
# license string; it is built from its sdist with --no-build-isolation below.
# upstream: setuptools<70, as mmcv 2.1.0's setup.py imports pkg_resources.
run_pip install --upgrade "pip>=24,<27" "${setuptools_req}" "wheel>=0.42"

log "step 1/4: ${torch_req} (alone, first)"
torch_args=()
if [[ -n "${MMHIER_TORCH_INDEX_URL:-}" ]]; then
    torch_args=(--index-url "${MMHIER_TORCH_INDEX_URL}")
fi
run_pip install ${torch_args[@]+"${torch_args[@]}"} "${torch_req}"

log "step 2/4: requirements/runtime.txt + ${stack_reqs#requirements/} + tests.txt"
run_pip install \
    -r requirements/runtime.txt \
    -r "${stack_reqs}" \
    -r requirements/tests.txt

if [[ "${stack}" == onedl ]]; then
    log "step 3/4: requirements/mmcv_nodeps.txt (--no-deps: mmcv-lite, onedl-mmsegmentation)"
    run_pip install --no-deps --no-build-isolation -r requirements/mmcv_nodeps.txt
else
    log "step 3/4: requirements/upstream_nodeps.txt (--no-deps: mmengine, mmsegmentation)"
    run_pip install --no-deps -r requirements/upstream_nodeps.txt
    t_mmcv=$(date +%s)
    log "step 3/4: mmcv==2.1.0 with compiled ops (first time about 8.5 min on 2 cores; pip caches the wheel)"
    MMCV_WITH_OPS=1 \
        run_pip install --no-deps --no-build-isolation "mmcv==2.1.0"
    log "mmcv took $(( $(date +%s) - t_mmcv )) s"
    # built: torch requires setuptools>=77.0.3, and mmengine 0.10.7 imports
    # pkg_resources at run time (gone from setuptools 81)
    run_pip install "setuptools>=77.0.3,<81"
fi

if [[ -f setup.py || -f pyproject.toml ]]; then
    log "step 4/4: project (pip install --no-deps -e .)"
    run_pip install --no-deps --no-build-isolation -e .
else
    log "step 4/4: setup.py not found, skipping project install"
fi

# --- sanity check: the stack imports and torch was not swapped -------------
"${vpy}" - "${stack}" <<'PYEOF'
import importlib.metadata as md
import sys
import torch, mmengine, mmcv, mmseg
import mmengine.config.utils as cfg_utils
assert torch.__version__.split("+")[0] == "2.13.0", torch.__version__
if sys.argv[1] == "upstream":
    import mmcv.ops  # compiled ops: mmseg 1.2.2 imports them at import time
    for dist, version in (("mmengine", "0.10.7"), ("mmcv", "2.1.0"),
                          ("mmsegmentation", "1.2.2")):
        assert md.version(dist) == version, (dist, md.version(dist))
    print("[setup_env] torch %s | mmengine %s | mmcv %s (ops) | mmseg %s"
          % (torch.__version__, mmengine.__version__, mmcv.__version__, mmseg.__version__))
    raise SystemExit(0)
# mmhier's start-up hook (mmhier_config_alias.pth) lets `mmseg::` config bases
# resolve on the onedl fork.
assert cfg_utils.MODULE2PACKAGE["mmseg"] != "mmsegmentation", \
    "[setup_env] ERROR: mmhier_config_alias.pth is not active"
for upstream in ("mmengine", "mmcv", "mmsegmentation", "opencv-python"):
    try:
        md.distribution(upstream)
    except md.PackageNotFoundError:
        continue
    raise SystemExit("[setup_env] ERROR: unexpected dist %r installed "
                     "(would shadow the pinned stack)" % upstream)
print("[setup_env] torch %s | mmengine %s | mmcv %s | mmseg %s"
      % (torch.__version__, mmengine.__version__, mmcv.__version__, mmseg.__version__))
PYEOF

echo "${inputs_hash}" > "${stamp}"
log "venv ready: ${venv}"
log "setup took $(( $(date +%s) - t_start )) s"
