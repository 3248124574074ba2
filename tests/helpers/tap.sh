# tap.sh — the TAP lines the shell tests print, sourced by each of them.
#   ok STATUS DESCRIPTION   "ok N - …" when STATUS is 0, else "not ok N - …"
#   finish                  print the plan and exit 0 only if all passed
n=0
failed=0

ok() {
    local what=${2//$'\n'/ } # one line: a description may quote a command's output
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $n - $what"
    else
        echo "not ok $n - $what"
        failed=$((failed + 1))
    fi
}

finish() {
    echo "1..$n"
    [ "$failed" -eq 0 ]
    exit $?
}
