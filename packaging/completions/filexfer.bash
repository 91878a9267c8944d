# bash completion for filexfer and filexfer-server. Each program answers for itself through System.CommandLine's
# [suggest] directive: commands and options; anything else falls back to file names.
# Installed by install.sh into PREFIX/share/bash-completion/completions/ (loaded on demand by bash-completion),
# or: source packaging/completions/filexfer.bash
_filexfer_complete() {
    local IFS=$'\n'
    local current="${COMP_WORDS[COMP_CWORD]}"
    local suggestions
    suggestions=$("${COMP_WORDS[0]}" "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null) || return 0
    # shellcheck disable=SC2207 # one suggestion per line, split on newlines only (IFS above)
    COMPREPLY=($(compgen -W "$suggestions" -- "$current"))
}
complete -o default -F _filexfer_complete filexfer filexfer-server
