# The persistent launcher of the built-in worker (io.workerpools.local.internal.Launcher), run as
# bash --norc --noprofile -c "<this file>" workerpools-launcher <port>.
#
# Reads launch requests on stdin as NUL-terminated fields and never evaluates them:
#   token, working directory, leftover-kill flag (0/1),
#   argc, argv..., count, names to unset..., count, NAME=value to export...
# For each, it forks a waiter that connects three loopback sockets to the JVM (control, stdout,
# stderr; each announced by the request's token), starts the script as a job of its own (a new
# process group: set -m), waits for it, kills its group if asked and reports its exit status.
# The script reports its own pid (P) before it execs, so that it is known even if its waiter dies.
# Own variables start with __wp_ (refused as script variables) and are never exported.
__wp_p=$1 __wp_o=${OLDPWD-} __wp_os=${OLDPWD+1}
IFS= read -r -d '' __wp_t || exit 0
exec 4<>"/dev/tcp/127.0.0.1/$__wp_p" || exit 3
printf '%s9\n' "$__wp_t" >&4
exec 4>&-
printf 'R\n'
while IFS= read -r -d '' __wp_t; do
  IFS= read -r -d '' __wp_d
  IFS= read -r -d '' __wp_k
  IFS= read -r -d '' __wp_n
  __wp_a=()
  while ((__wp_n-- > 0)); do IFS= read -r -d '' __wp_x; __wp_a+=("$__wp_x"); done
  IFS= read -r -d '' __wp_n
  __wp_u=()
  while ((__wp_n-- > 0)); do IFS= read -r -d '' __wp_x; __wp_u+=("$__wp_x"); done
  IFS= read -r -d '' __wp_n
  __wp_e=()
  while ((__wp_n-- > 0)); do IFS= read -r -d '' __wp_x; __wp_e+=("$__wp_x"); done
  (
    exec 0</dev/null 2>/dev/null
    exec 3<>"/dev/tcp/127.0.0.1/$__wp_p" 4<>"/dev/tcp/127.0.0.1/$__wp_p" 5<>"/dev/tcp/127.0.0.1/$__wp_p" || { printf 'F %s\n' "$__wp_t"; exit 1; }
    exec 1>&-
    printf '%s0\n' "$__wp_t" >&3
    printf '%s1\n' "$__wp_t" >&4
    printf '%s2\n' "$__wp_t" >&5
    cd -- "$__wp_d" || { printf 'F cd\n' >&3; exit 1; }
    set -m
    { printf 'P %s\n' "$BASHPID" >&3
      if [[ $__wp_os ]]; then OLDPWD=$__wp_o; else unset OLDPWD; fi
      ((${#__wp_u[@]})) && unset -v -- "${__wp_u[@]}"
      ((${#__wp_e[@]})) && export -- "${__wp_e[@]}"
      exec -- "${__wp_a[@]}" </dev/null >&4 2>&5 3>&- 4>&- 5>&-
    } &
    __wp_c=$!
    exec 4>&- 5>&-
    wait "$__wp_c"; __wp_r=$?
    ((__wp_k)) && kill -KILL -- "-$__wp_c"
    printf 'X %s\n' "$__wp_r" >&3
  ) &
done
