# Agent OS's remote job (docs/scale-out.md): run the agent on a task's checkout, leave a parcel.
# Runs in the checkout of the task's ref (refs/agentos/tasks/<id>: a commit holding prompt.md,
# task_id and canary, whose parent is the commit to start from). Holds no credential: the
# checkout was made by a step the agent never runs in. Everything it leaves is judged at home.
# In: AGENTOS_COMMAND (the agent's command line), AGENTOS_START (the start commit), AGENTOS_OUT
# (a directory for the parcel), AGENTOS_TIMEOUT (seconds), AGENTOS_PRINT_PARCEL=1 (a pod: print
# the parcel, base64 tar.gz, between marks on stdout, the only way out without exec).
set +e -uo pipefail  # Actions runs a step with bash -e: the agent's failure must not end it
out="${AGENTOS_OUT:?}"
mkdir -p "$out"
rm -f "$out/change.patch" "$out/result.md" "$out/agent.log" "$out/exit_code"
work="$(mktemp -d)"
if ! git show HEAD:prompt.md >"$work/prompt.md"; then
  echo "agentos: the checkout holds no task (prompt.md missing)" >&2
  exit 3
fi
canary="$(git show HEAD:canary 2>/dev/null || true)"
AGENTOS_TASK_ID="$(git show HEAD:task_id 2>/dev/null || true)"
export AGENTOS_TASK_ID
start="$(git rev-parse HEAD^)"
if [ "$start" != "${AGENTOS_START:?}" ]; then
  echo "agentos: the task's ref starts from $start, not $AGENTOS_START" >&2
  exit 3
fi
git checkout -q --detach "$start"
export AGENTOS_PROMPT_FILE="$work/prompt.md"
# a decoy where an agent would look for a GitHub token: seen in what comes back, it leaked
export GH_TOKEN="$canary" GITHUB_TOKEN="$canary"
timeout -k 10 "${AGENTOS_TIMEOUT:-3600}" bash -c "$AGENTOS_COMMAND" </dev/null >"$out/agent.log" 2>&1
echo "$?" >"$out/exit_code"
unset GH_TOKEN GITHUB_TOKEN
if [ -f .agent_result.md ] && [ ! -L .agent_result.md ]; then
  head -c 262144 .agent_result.md >"$out/result.md"
fi
rm -f .agent_result.md
git add -A . >/dev/null 2>&1
git -c core.hooksPath=/dev/null diff --cached --binary --no-ext-diff --no-textconv "$start" >"$out/change.patch"
if [ "${AGENTOS_PRINT_PARCEL:-}" = 1 ]; then
  echo "=====agentos-parcel-begin====="
  tar czf - -C "$out" . | base64 -w 76
  echo "=====agentos-parcel-end====="
fi
exit 0
