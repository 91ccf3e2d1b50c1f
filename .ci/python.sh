#!/usr/bin/env bash
# Print the path of a Python that smarketing supports (3.11, 3.12 or 3.13).
#   .ci/python.sh              python3 when it is supported, else the newest supported one found
#   .ci/python.sh --prefer X.Y X.Y when found, else as above
#   .ci/python.sh X.Y          exactly X.Y, or nothing (exit 1)
# Candidates: python3, then python3.13, python3.12 and python3.11 on the PATH, then pyenv's installed versions.
# When none is found it prints one line naming the versions to install and exits 1.
set -uo pipefail

SUPPORTED="3.13 3.12 3.11"

version_of() {  # X.Y of an interpreter, or nothing when it does not run (e.g. a pyenv shim of another version)
  "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null
}

pyenv_pythons() {  # pyenv's installed interpreters of version $1, newest patch release first
  local root
  root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
  [ -d "$root/versions" ] || return 0
  ls -d "$root/versions/$1".* 2>/dev/null | sort -t. -k3 -n -r | while read -r dir; do
    [ -x "$dir/bin/python$1" ] && echo "$dir/bin/python$1"
  done
}

find_exact() {  # the first working interpreter of version $1
  local cand path
  for cand in python3 "python$1"; do
    path=$(command -v "$cand" 2>/dev/null) || continue
    [ "$(version_of "$path")" = "$1" ] && { echo "$path"; return 0; }
  done
  for path in $(pyenv_pythons "$1"); do
    [ "$(version_of "$path")" = "$1" ] && { echo "$path"; return 0; }
  done
  return 1
}

find_any() {
  local path v
  path=$(command -v python3 2>/dev/null) && v=$(version_of "$path") && case " $SUPPORTED " in
    *" $v "*) echo "$path"; return 0 ;;
  esac
  for v in $SUPPORTED; do
    find_exact "$v" && return 0
  done
  return 1
}

case "${1:-}" in
  "") find_any ;;
  --prefer) find_exact "$2" || find_any ;;
  *) case " $SUPPORTED " in *" $1 "*) find_exact "$1"; exit $? ;; *) exit 1 ;; esac ;;
esac || { echo "smarketing needs Python 3.11, 3.12 or 3.13: install one of them (e.g. apt-get install python3.12, or pyenv install 3.13)" >&2; exit 1; }
